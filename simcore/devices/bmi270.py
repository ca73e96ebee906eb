"""Bosch BMI270 accelerometer + gyroscope (datasheet BST-BMI270-DS000), the Nano 33 BLE Sense Rev2's, on I2C or SPI.

CHIP_ID 24h. The initialization the datasheet requires (section "Quick start: initialization"):
PWR_CONF.adv_power_save = 0, INIT_CTRL = 0, the configuration file written to INIT_DATA in
bursts at word offsets given by INIT_ADDR_0 (bits 3:0) / INIT_ADDR_1 (bits 11:4), INIT_CTRL = 1;
20 ms later INTERNAL_STATUS.message reads init_ok (1), or init_err (2) if the file did not
arrive whole. simcore cannot run the file's feature engine, so it checks the handshake, that
all ``config_size`` bytes (8192 for the BMI270) were written with advanced power save off,
and, if the option ``config_sha256`` is given, the file's digest.

Data: PWR_CTRL acc_en / gyr_en; ACC_CONF acc_odr (code n: 100 / 2^(8-n) Hz, 0.78 Hz to
1.6 kHz), ACC_RANGE (+-2, 4, 8, 16 g), GYR_CONF gyr_odr (25 Hz to 3.2 kHz), GYR_RANGE
(+-2000, 1000, 500, 250, 125 dps); counts = value / range * 32768 (the API's conversion; the
datasheet's typical 16.4 LSB/dps is 32768/2000 rounded). DATA_8..DATA_19 (0Ch-17h): reading a
least significant byte locks its most significant byte (shadowing). STATUS drdy_acc/drdy_gyr,
INT_STATUS_1 (cleared by reading it), SENSORTIME (39.0625 us ticks).

FIFO (2 KB): FIFO_CONFIG_1 fifo_acc_en / fifo_gyr_en / fifo_header_en; header frames 8Ch
(gyroscope then accelerometer), 88h, 84h, or headerless data; FIFO_LENGTH in bytes;
FIFO_DATA (26h) read in bursts (the address does not advance), 80h past the end, preceded by a
sensor-time frame (44h) when fifo_time_en; fifo_stop_on_full or the oldest frames overwritten;
FIFO_WTM watermark; CMD fifo_flush (B0h) and softreset (B6h). Interrupts: INT_MAP_DATA routes
ffull / fwm / drdy to INT1 / INT2; INTx_IO_CTRL output_en and lvl (1 = active high); both
latched until INT_STATUS_1 is read.

Not modelled (non-zero writes reported): the features of the configuration file (step counter,
gestures, any-motion...), the auxiliary interface, offsets, self-test, FIFO down-sampling and
frames of sensors at different data rates.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, ClassVar

from simcore.devices import register_device
from simcore.devices.base import FS_PER_SECOND, DeviceConfig, DeviceHost, FifoDevice, RateClock, clamp_int, reg8
from simcore.devices.fifo import FifoMode, SampleFifo
from simcore.devices.motion import OutputLatch, Stream
from simcore.registers import Field

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

CHIP_ID = 0x24
CONFIG_SIZE = 8192
INIT_DELAY_FS = 20 * 10**12  # 20 ms
ACC_RANGE_G = (2, 4, 8, 16)
GYR_RANGE_DPS = (2000, 1000, 500, 250, 125)
FIFO_BYTES = 2048
FIFO_DATA, INIT_DATA = 0x26, 0x5E
FIFO_LENGTH_0 = 0x24  # FIFO_LENGTH's address (the register map): read_ahead previews a read of it
INT_STATUS_1 = 0x1D  # INT_STATUS_1's address: read_ahead previews it too, with read_falls (what its read lowers)
MSG_NOT_INIT, MSG_INIT_OK, MSG_INIT_ERR = 0, 1, 2
SENSORTIME_HZ = 25600
QUIET_FS = 1 << 62  # (a C wake's "nothing of the model follows before": the watermark's wake-up plans none after it)


def _data(latch: str, i: int) -> Any:
    def read(self: Bmi270) -> int:
        return self.data_byte(latch, i)

    return read


def _odr(code: int) -> float:
    return 100.0 * 2.0 ** (code - 8)


@register_device
class Bmi270(FifoDevice):
    """BMI270: configuration-file initialization, accelerometer and gyroscope data, FIFO, INT1/INT2."""

    TYPE = "bmi270"
    LOST_COUNTER: ClassVar[str] = "fifo_frames_lost"
    FIFO_ENTRY: ClassVar[str] = "frame"
    LINES: ClassVar[tuple[str, ...]] = ("INT1", "INT2")
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x68, 0x69)
    SPI_MODES: ClassVar[frozenset[int]] = frozenset({0, 3})
    SPI_DUMMY_BYTE: ClassVar[bool] = True
    ADDRESS_MASK: ClassVar[int] = 0x7F
    READS_AHEAD: ClassVar[bool] = True  # FIFO_LENGTH told ahead (read_ahead)
    STATUS_AHEAD: ClassVar[bool] = True  # INT_STATUS_1 told ahead too (read_ahead, read_falls; False: tests)
    CHAINED: ClassVar[bool] = True  # ... and with the FIFO_LENGTH read, after its drain (read_chained; False: tests)
    OPTIONS: ClassVar[dict[str, str]] = {
        "accel_channels": "recording channels of X/Y/Z acceleration (default ['ax', 'ay', 'az'])",
        "gyro_channels": "recording channels of X/Y/Z angular rate (default ['gx', 'gy', 'gz']; zeros if absent)",
        "config_size": "bytes of the configuration file the firmware must upload (default 8192)",
        "config_sha256": "SHA-256 (hex) the uploaded configuration file must have (default: not checked)",
    }
    REGISTERS = (
        reg8("CHIP_ID", 0x00, access="r", reset=CHIP_ID),
        reg8("ERR_REG", 0x02, access="r"),
        reg8("STATUS", 0x03, access="r"),
        *(reg8(f"DATA_{i}", 0x04 + i, access="r", implemented=0) for i in range(8)),
        *(reg8(f"DATA_{8 + i}", 0x0C + i, access="r") for i in range(12)),
        reg8("SENSORTIME_0", 0x18, access="r"), reg8("SENSORTIME_1", 0x19, access="r"),
        reg8("SENSORTIME_2", 0x1A, access="r"),
        reg8("EVENT", 0x1B, access="rc", reset=0x01),
        reg8("INT_STATUS_0", 0x1C, access="r"),
        reg8("INT_STATUS_1", 0x1D, access="r"),
        reg8("SC_OUT_0", 0x1E, access="r"), reg8("SC_OUT_1", 0x1F, access="r"),
        reg8("WR_GEST_ACT", 0x20, access="r"),
        reg8("INTERNAL_STATUS", 0x21, access="r"),
        reg8("TEMPERATURE_0", 0x22, access="r", modelled=False), reg8("TEMPERATURE_1", 0x23, access="r",
                                                                      modelled=False),
        reg8("FIFO_LENGTH_0", 0x24, access="r"), reg8("FIFO_LENGTH_1", 0x25, access="r"),
        reg8("FIFO_DATA", FIFO_DATA, access="r"),
        reg8("FEAT_PAGE", 0x2F),
        *(reg8(f"FEATURES_{i}", 0x30 + i, implemented=0) for i in range(16)),
        reg8("ACC_CONF", 0x40, reset=0xA8, fields=(Field("ACC_ODR", 0, 4, on_write="_sensors"),
                                                   Field("ACC_BWP", 4, 3), Field("ACC_FILTER_PERF", 7))),
        reg8("ACC_RANGE", 0x41, reset=0x02, fields=(Field("ACC_RANGE", 0, 2),)),
        reg8("GYR_CONF", 0x42, reset=0xA9, fields=(Field("GYR_ODR", 0, 4, on_write="_sensors"),
                                                   Field("GYR_BWP", 4, 2), Field("GYR_NOISE_PERF", 6),
                                                   Field("GYR_FILTER_PERF", 7))),
        reg8("GYR_RANGE", 0x43, fields=(Field("GYR_RANGE", 0, 3), Field("OIS_RANGE", 3, implemented=False))),
        reg8("AUX_CONF", 0x44, reset=0x46, implemented=0x46),
        reg8("FIFO_DOWNS", 0x45, reset=0x88, implemented=0x88),
        reg8("FIFO_WTM_0", 0x46, fields=(Field("FIFO_WTM_7_0", 0, 8, on_write="_routing"),)),
        reg8("FIFO_WTM_1", 0x47, reset=0x02, fields=(Field("FIFO_WTM_12_8", 0, 5, on_write="_routing"),)),
        reg8("FIFO_CONFIG_0", 0x48, reset=0x02, fields=(Field("FIFO_STOP_ON_FULL", 0, on_write="_fifo_changed"),
                                                        Field("FIFO_TIME_EN", 1))),
        reg8("FIFO_CONFIG_1", 0x49, reset=0x10, fields=(
            Field("FIFO_TAG_INT1_EN", 0, 2, implemented=False), Field("FIFO_TAG_INT2_EN", 2, 2, implemented=False),
            Field("FIFO_HEADER_EN", 4, on_write="_fifo_changed"), Field("FIFO_AUX_EN", 5, implemented=False),
            Field("FIFO_ACC_EN", 6, on_write="_fifo_changed"), Field("FIFO_GYR_EN", 7, on_write="_fifo_changed"))),
        reg8("SATURATION", 0x4A, access="r"),
        *(reg8(n, 0x4B + i, implemented=0) for i, n in enumerate(("AUX_DEV_ID", "AUX_IF_CONF", "AUX_RD_ADDR",
                                                                   "AUX_WR_ADDR", "AUX_WR_DATA"))),
        reg8("ERR_REG_MSK", 0x52),
        reg8("INT1_IO_CTRL", 0x53, fields=(Field("EDGE_CTRL", 0), Field("LVL", 1, on_write="_routing"),
                                           Field("OD", 2), Field("OUTPUT_EN", 3, on_write="_routing"),
                                           Field("INPUT_EN", 4))),
        reg8("INT2_IO_CTRL", 0x54, fields=(Field("EDGE_CTRL", 0), Field("LVL", 1, on_write="_routing"),
                                           Field("OD", 2), Field("OUTPUT_EN", 3, on_write="_routing"),
                                           Field("INPUT_EN", 4))),
        reg8("INT_LATCH", 0x55, fields=(Field("INT_LATCH", 0),)),
        reg8("INT1_MAP_FEAT", 0x56, implemented=0), reg8("INT2_MAP_FEAT", 0x57, implemented=0),
        reg8("INT_MAP_DATA", 0x58, fields=tuple(Field(n, i, on_write="_routing") for i, n in enumerate((
            "FFULL_INT1", "FWM_INT1", "DRDY_INT1", "ERR_INT1", "FFULL_INT2", "FWM_INT2", "DRDY_INT2", "ERR_INT2")))),
        reg8("INIT_CTRL", 0x59, fields=(Field("INIT_CTRL", 0, 8, on_write="_init_ctrl"),)),
        reg8("INIT_ADDR_0", 0x5B, fields=(Field("BASE_0_3", 0, 4, on_write="_init_addr"),)),
        reg8("INIT_ADDR_1", 0x5C, fields=(Field("BASE_11_4", 0, 8, on_write="_init_addr"),)),
        reg8("INIT_DATA", INIT_DATA),
        reg8("INTERNAL_ERROR", 0x5F, access="r"),
        reg8("AUX_IF_TRIM", 0x68, reset=0x01, implemented=0x01),
        reg8("GYR_CRT_CONF", 0x69, implemented=0),
        reg8("NVM_CONF", 0x6A, implemented=0),
        reg8("IF_CONF", 0x6B, implemented=0),
        reg8("DRV", 0x6C, reset=0xFF, implemented=0xFF),
        reg8("ACC_SELF_TEST", 0x6D, implemented=0),
        reg8("GYR_SELF_TEST_AXES", 0x6E, access="r"),
        reg8("NV_CONF", 0x70),
        *(reg8(f"OFFSET_{i}", 0x71 + i, implemented=0) for i in range(7)),
        reg8("PWR_CONF", 0x7C, reset=0x03, fields=(Field("ADV_POWER_SAVE", 0), Field("FIFO_SELF_WAKE_UP", 1),
                                                   Field("FUP_EN", 2))),
        reg8("PWR_CTRL", 0x7D, fields=(Field("AUX_EN", 0, implemented=False), Field("GYR_EN", 1, on_write="_sensors"),
                                       Field("ACC_EN", 2, on_write="_sensors"), Field("TEMP_EN", 3))),
        reg8("CMD", 0x7E, access="w"),
    )

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.config = config
        self.accel = Stream(self, "accel", required=True)
        self.gyro = Stream(self, "gyro")
        self.latches = {
            "acc": OutputLatch(self.accel, self._acc_counts, lambda: self.values["ACC_RANGE"] & 3),
            "gyr": OutputLatch(self.gyro, self._gyr_counts, lambda: self.values["GYR_RANGE"] & 7)}
        self.fifo = SampleFifo(FIFO_BYTES // 13, stop_when_full=False)  # stop on full: frames wait for room
        self.config_size = int(config.options.get("config_size", CONFIG_SIZE))
        super().__init__(config, host)

    def reset(self) -> None:
        self._forget()
        super().reset()
        self.reset_sensors({"acc": 0.0, "gyr": 0.0})
        self._config = bytearray(self.config_size)
        self._written = bytearray(self.config_size)
        self._init_ptr = 0
        self._init_at: int | None = None
        self._message = MSG_NOT_INIT
        self._int_status = 0  # INT_STATUS_1 bits, latched until read
        self._fifo_setup: tuple[Any, ...] | None = None
        self._frame: list[int] = []  # bytes of the frame being read
        self._frame_is_data = False
        self._flags_seen = {"acc": -1, "gyr": -1}  # newest sample already reported in INT_STATUS_1
        self._time_frame_sent = False
        self._last_write_fs = -(10**18)
        # FIFO_LENGTH read in the bus transaction under way / in the last one ended (read_offer: the drain comes next)
        self._len_read = self._after_len = False
        self._c_plan: tuple[Any, Any] | None = None  # _c_wake's chip part: (the wake-up event, INT1's line or None)
        self._told: tuple[int, tuple[Any, int] | None] = (-1, None)  # (time, _falls) of INT_STATUS_1's read_ahead
        self._forget()

    # Per-call costs of the model kept from one call to the next (each equals what it replaces: CACHED off
    # recomputes them all, tests/integration/test_bmi270_cached.py compares whole runs).
    CACHED: ClassVar[bool] = True

    def _forget(self) -> None:
        """Drop the model's caches (``_catch_up_at``'s time, ``_frame_size``'s, ``update``'s levels): after a reset, a
        sensor's rate change, a FIFO reset and the initialization's start, the changes they do not key on."""
        self._caught_at: int | None = None  # virtual time of the last catch-up that let in arrivals and flags
        self._size_key = -1  # FIFO_CONFIG_1 the frame size below is for (-1: none)
        self._size = 0
        # _levels' answers by (INT_MAP_DATA, INT1_IO_CTRL, INT2_IO_CTRL, INT_STATUS_1), the four it depends on
        self._levels_of: dict[tuple[int, int, int, int], tuple[tuple[str, bool], ...]] = {}

    def apply_odr(self, which: str, odr: float, stream: Any, on_start: Callable[[], None] | None = None) -> bool:
        """FifoDevice.apply_odr; the caches forgotten (the frame size and the flags' samples depend on the rates)."""
        changed = super().apply_odr(which, odr, stream, on_start)
        self._forget()
        return changed

    # --- configuration file upload ---------------------------------------------------------
    def _init_addr(self, old: int, new: int) -> None:
        word = (self.values["INIT_ADDR_1"] << 4) | (self.values["INIT_ADDR_0"] & 0x0F)
        self._init_ptr = 2 * word

    def write_INIT_DATA(self, value: int) -> None:
        if self.values["PWR_CONF"] & 0x01:
            self.guest_error(f"{self.name}.INIT_DATA", "configuration written with advanced power save on "
                             "(PWR_CONF.adv_power_save must be 0 first): byte ignored")
            return
        if self._init_ptr < self.config_size:
            self._config[self._init_ptr] = value
            self._written[self._init_ptr] = 1
        else:
            self.guest_error(f"{self.name}.INIT_DATA", f"byte {self._init_ptr} is past the {self.config_size}-byte "
                             "configuration file")
        self._init_ptr += 1

    def _init_ctrl(self, old: int, new: int) -> None:
        self._forget()
        if new == 0:
            self._message = MSG_NOT_INIT
            self._init_at = None
        elif new == 1 and old == 0:
            self._init_at = self.now() + INIT_DELAY_FS
            self.update()

    def _config_ok(self) -> bool:
        if not all(self._written):
            missing = self.config_size - sum(self._written)
            self.stats_.record("config_load_errors", self.now(), what=f"{missing} of {self.config_size} bytes of the "
                               "configuration file were not written")
            return False
        digest = self.option("config_sha256", None)
        if digest and hashlib.sha256(bytes(self._config)).hexdigest() != str(digest).lower():
            self.stats_.record("config_load_errors", self.now(), what="configuration file digest differs")
            return False
        return True

    def read_INTERNAL_STATUS(self) -> int:
        self.catch_up()
        return self._message

    # --- sensors -----------------------------------------------------------------------------
    def _acc_counts(self, mg: np.ndarray) -> np.ndarray:
        return clamp_int(mg / 1000.0 / ACC_RANGE_G[self.values["ACC_RANGE"] & 3] * 32768, 16)

    def _gyr_counts(self, mdps: np.ndarray) -> np.ndarray:
        return clamp_int(mdps / 1000.0 / GYR_RANGE_DPS[min(self.values["GYR_RANGE"] & 7, 4)] * 32768, 16)

    def _sensors(self, old: int, new: int) -> None:
        self.catch_up()
        pwr = self.values["PWR_CTRL"]
        want = {"acc": _odr(self.values["ACC_CONF"] & 0xF) if pwr & 0x04 else 0.0,
                "gyr": _odr(self.values["GYR_CONF"] & 0xF) if pwr & 0x02 else 0.0}
        for which, odr in want.items():
            if odr == self._odr[which]:
                continue
            code = self.values["ACC_CONF" if which == "acc" else "GYR_CONF"] & 0xF
            valid = range(1, 13) if which == "acc" else range(6, 14)
            if odr and code not in valid:
                self.guest_error(f"{self.name}.{'ACC' if which == 'acc' else 'GYR'}_CONF", f"ODR code {code:#x} is "
                                 "not in the datasheet's table")
            if odr and self._message != MSG_INIT_OK:
                self.guest_error(f"{self.name}.PWR_CTRL", f"{which} enabled before the configuration file was "
                                 "loaded (INTERNAL_STATUS.message is not init_ok)")
            latch = self.latches[which]

            def started(w: str = which, latch: OutputLatch = latch) -> None:
                latch.restart()
                self._flags_seen[w] = latch.stream.first - 1

            self.apply_odr(which, odr, latch.stream, started)
        self._fifo_setup = None
        self._fifo_changed(0, 0)

    def data_byte(self, which: str, i: int) -> int:
        return self.latches[which].byte(i, self.now(), True)

    read_DATA_8, read_DATA_9, read_DATA_10, read_DATA_11, read_DATA_12, read_DATA_13 = (
        _data("acc", i) for i in range(6))
    read_DATA_14, read_DATA_15, read_DATA_16, read_DATA_17, read_DATA_18, read_DATA_19 = (
        _data("gyr", i) for i in range(6))

    def read_STATUS(self) -> int:
        now = self.now()
        return (0x80 if self.latches["acc"].data_ready(now) else 0) | (
            0x40 if self.latches["gyr"].data_ready(now) else 0) | 0x10  # cmd_rdy

    def _sensortime(self) -> int:
        return (self.now() * SENSORTIME_HZ // FS_PER_SECOND) & 0xFFFFFF

    def read_SENSORTIME_0(self) -> int:
        return self._sensortime() & 0xFF

    def read_SENSORTIME_1(self) -> int:
        return (self._sensortime() >> 8) & 0xFF

    def read_SENSORTIME_2(self) -> int:
        return (self._sensortime() >> 16) & 0xFF

    def read_INT_STATUS_1(self) -> int:
        self.catch_up()
        value = self._int_status
        self._int_status = 0
        return value

    # --- FIFO ----------------------------------------------------------------------------------
    def _frame_sets(self) -> list[str]:
        c1 = self.values["FIFO_CONFIG_1"]
        return [w for w, bit in (("gyr", 0x80), ("acc", 0x40)) if c1 & bit and self._odr[w]]

    def _frame_size(self) -> int:
        """Bytes of a FIFO frame: 6 per enabled and running sensor (``_frame_sets``), the header byte in header mode.
        Kept for the FIFO_CONFIG_1 it was computed with (the rates' changes forget it: ``apply_odr``)."""
        c1 = self.values["FIFO_CONFIG_1"]
        if c1 == self._size_key and self.CACHED:
            return self._size
        odr = self._odr
        n = bool(c1 & 0x80 and odr["gyr"]) + bool(c1 & 0x40 and odr["acc"])
        self._size_key, self._size = c1, 6 * n + (c1 >> 4 & 1) if n else 0
        return self._size

    def _fifo_changed(self, old: int, new: int) -> None:
        self.catch_up()
        sets = self._frame_sets()
        c0, c1 = self.values["FIFO_CONFIG_0"], self.values["FIFO_CONFIG_1"]
        setup = (tuple(sets), c1 & 0x10, c0 & 0x01, tuple(self._odr[w] for w in sets))
        if setup == self._fifo_setup:
            self.update()
            return
        self._fifo_setup = setup
        self._frame = []
        self._forget()
        if not sets:
            self.fifo.reset(FifoMode.BYPASS, None, 0, None)
            self.update()
            return
        rates = {self._odr[w] for w in sets}
        if len(rates) > 1:
            self.unimplemented(f"{self.name}.FIFO_CONFIG_1", "FIFO frames of sensors at different data rates are "
                               "not modelled: every frame holds all enabled sensors at the fastest rate")
        self.fifo.depth = FIFO_BYTES // self._frame_size()
        clock = RateClock(max(rates))
        mode = FifoMode.FIFO if c0 & 0x01 else FifoMode.STREAM
        self.fifo.reset(mode, clock, clock.count_by(self.now()), None)
        self._forget()
        self.update()

    def _fifo_length(self) -> int:
        """Bytes in the FIFO: whole frames plus what is left of a frame being read."""
        self.catch_up()
        return self.fifo.level * self._frame_size() + (len(self._frame) if self._frame_is_data else 0)

    def read_FIFO_LENGTH_0(self) -> int:
        self._len_read = True
        return self._fifo_length() & 0xFF

    def read_FIFO_LENGTH_1(self) -> int:
        self._len_read = True
        return (self._fifo_length() >> 8) & 0x3F

    def i2c_stop(self) -> None:
        """BusDevice.i2c_stop; notes whether the transaction read FIFO_LENGTH (read_offer)."""
        self._after_len, self._len_read = self._len_read, False
        super().i2c_stop()

    def reads_plan_nothing(self) -> bool:
        """BusDevice.reads_plan_nothing: no data-ready source routed to INT1/INT2 (it would plan a wake-up at every
        sample), no configuration check due, and every routed FIFO source (watermark, full) already latched in
        INT_STATUS_1: a read then plans no wake-up and leaves both lines as they are (INT_STATUS_1, which clears them,
        is not the FIFO drain read_offer offers)."""
        if self._replaying or self._init_at is not None:
            return False
        routed = self.values["INT_MAP_DATA"]
        routed = (routed | routed >> 4) & 0x7
        return not (routed & 0x04 or routed & ~self._int_status & 0x03)

    def read_offer(self) -> tuple[int, bytes, int] | None:
        """BusDevice.read_offer: right after a transaction that read FIFO_LENGTH a driver drains the FIFO with a burst
        read of FIFO_DATA, as ``i2c_read_block`` computes it: the frames the FIFO holds now, oldest first (a read of
        fewer takes the first ones), in whole frames. Only the common case, told without a loop over the frames:
        headerless frames, none partly read, one run of consecutive frames at the rate of each sensor in them (frame
        ``e`` arrives in the femtosecond ``floor((e + 1) / rate)``, where the sensor's newest sample is ``e``: the
        frames hold samples ``e0 .. e0 + m - 1``, one slice of each latch's prefetched block); None otherwise."""
        return self._drain_offer() if self._after_len else None

    def _drain_offer(self) -> tuple[int, bytes, int] | None:
        """read_offer's drain, from the FIFO as it is now."""
        self.catch_up()
        fifo, size = self.fifo, self._frame_size()
        clock = fifo.clock
        if (self._replaying or self._frame or clock is None or not size or len(fifo.runs) != 1
                or self.values["FIFO_CONFIG_1"] & 0x10):
            return None
        e0, m = fifo.runs[0]
        ends = [clock.arrival(e0), clock.arrival(e0 + m - 1)]
        parts = []
        for which in self._frame_sets():
            latch = self.latches[which]
            stream = latch.stream
            other = stream.clock
            if (not stream.running or other is None or (other._num, other._den) != (clock._num, clock._den)
                    or stream.latest_at(ends) != [e0, e0 + m - 1] or e0 < 0):
                return None
            part = latch.block_bytes(e0, m)
            if part is None:
                latch.prefetch(list(range(e0, e0 + m)))  # (values only: what the real read counts is unchanged)
                part = latch.block_bytes(e0, m)
                if part is None:
                    return None
            parts.append(part)
        out = parts[0] if len(parts) == 1 else b"".join(part[6 * i: 6 * i + 6] for i in range(m) for part in parts)
        return FIFO_DATA, out, size

    def read_ahead(self, n: int) -> tuple[bytes, tuple[int, bytes, int] | None, int] | None:
        """BusDevice.read_ahead: the FIFO_LENGTH read a driver has started (register byte 24h written, its two bytes
        or the first to read) answers what FIFO_LENGTH_0/1 give now, and the drain after it is read_offer's (the FIFO
        as it is now). Read before the next arrival, FIFO_LENGTH gives the frames now, so the drain takes at most
        these: the oldest, which later arrivals leave as they are until one overwrites the oldest (stream mode, a full
        FIFO) or a wake-up planned comes."""
        if self._phase != "write" or self._replaying:
            return None
        if self._ptr == INT_STATUS_1 and n == 1:
            return self._status_ahead()
        if n not in (1, 2) or self._ptr != FIFO_LENGTH_0:
            return None
        length = self._fifo_length()
        answer = bytes((length & 0xFF, (length >> 8) & 0x3F)[:n])
        return self._ahead_with_drain(answer)

    def _status_ahead(self) -> tuple[bytes, None, int] | None:
        """read_ahead of INT_STATUS_1 (its register byte written, one byte to read): what it reads now, which holds
        until the next sample arrives (``quiet_until``: no flag is set before then), when its side effects are the
        ones read_falls tells; None otherwise (the read stays Python's)."""
        falls = self._falls() if self.STATUS_AHEAD else None
        self._told = (self.now(), falls)
        if falls is None:
            return None
        return bytes((self._int_status,)), None, 0

    def read_falls(self) -> tuple[Any, int] | None:
        """BusDevice.read_falls: the INT_STATUS_1 read read_ahead told (``_status_ahead``) lowers INT1 and plans the
        chip's wake-up at the next watermark, whose event raises INT1 alone (``_c_wake``'s). What read_ahead found,
        when asked at the same virtual time with the read still the one told (else computed again)."""
        if self._phase != "write" or self._ptr != INT_STATUS_1 or self._replaying or not self.STATUS_AHEAD:
            return None
        told = self._told
        return told[1] if told[0] == self.now() else self._falls()

    def read_chained(self, drain: tuple[int, bytes, int]) -> tuple[int, bytes, int, Any, int] | None:
        """BusDevice.read_chained: after a drain read_ahead offered with FIFO_LENGTH (``drain``, all its frames read),
        a driver reads INT_STATUS_1 (one byte): what it reads then is INT_STATUS_1 now (the drain sets no flag, and
        none is set before the next arrival, ``quiet_until``), and its side effects are _falls' with the FIFO as the
        drain leaves it (INT1 falls, the next watermark's wake-up planned as of that level). (INT_STATUS_1's address,
        its byte, the arrival it holds until, INT1, the wake-up's time), or None (the read stays Python's)."""
        if not self.STATUS_AHEAD or not self.CHAINED or self._replaying:
            return None
        size = self._frame_size()
        if not size or len(drain[1]) % size:
            return None
        falls = self._falls(len(drain[1]) // size)
        quiet = self.quiet_until()
        if falls is None or quiet is None:
            return None
        return INT_STATUS_1, bytes((self._int_status,)), quiet, falls[0], falls[1]

    def _falls(self, drained: int = 0) -> tuple[Any, int] | None:
        """INT_STATUS_1 read now, before the next arrival: (INT1's line, the virtual time of the wake-up its update
        plans) when the watermark routed to INT1 alone (INT_MAP_DATA fwm_int1, INT1 push-pull active high) is what
        holds INT1 high, the read clears it (the level left below the watermark: INT1 falls; INT2 has no source),
        and the update then plans only the next watermark's wake-up (``_next_wakeup_at`` with fwm clear), as
        ``_c_wake`` takes it; None otherwise."""
        line = self.lines["INT1"]
        if (self._init_at is not None or self.values["INT_MAP_DATA"] != 0x02 or not line.level
                or self.values["INT1_IO_CTRL"] & 0x0A != 0x0A or line.fall_rise_plan is None or line.listeners != 1):
            return None
        self.catch_up()
        fifo = self.fifo
        size = self._frame_size()
        wtm = self.values["FIFO_WTM_0"] | (self.values["FIFO_WTM_1"] & 0x1F) << 8
        level = fifo.level - drained  # (read_chained: the level the drain of ``drained`` frames leaves)
        if not self._int_status & 0x02 or not size or not wtm or fifo.clock is None or level * size >= wtm or level < 0:
            return None
        at = fifo.when_level(-(-wtm // size), level)
        return None if at is None else (line, at)

    def _build_frame(self, e: int) -> list[int]:
        assert self.fifo.clock is not None
        at = self.fifo.clock.arrival(e)
        sets = self._frame_sets()
        out = []
        if self.values["FIFO_CONFIG_1"] & 0x10:
            out.append(0x80 | (0x08 if "gyr" in sets else 0) | (0x04 if "acc" in sets else 0))
        for which in sets:
            latch = self.latches[which]
            values = latch.sample(latch.stream.latest(at))
            for v in values:
                out += [int(v) & 0xFF, (int(v) >> 8) & 0xFF]
        return out

    def read_FIFO_DATA(self) -> int:
        self.catch_up()
        if not self._frame:
            e = self.fifo.pop()
            if e is not None:
                self._frame, self._frame_is_data = self._build_frame(e), True
                self._time_frame_sent = False
            elif self.values["FIFO_CONFIG_0"] & 0x02 and not self._time_frame_sent and self.fifo.clock is not None:
                self._time_frame_sent = True  # read past the last frame: one sensor-time frame
                t = self._sensortime()
                self._frame, self._frame_is_data = [0x44, t & 0xFF, (t >> 8) & 0xFF, (t >> 16) & 0xFF], False
            else:
                self.stats_.count("fifo_over_reads")
                return 0x80
        return self._frame.pop(0)

    def i2c_read_block(self, n: int) -> bytes:
        """A burst read at one time (BusDevice.i2c_read_block). A read of FIFO_DATA (whose address does not advance)
        is computed at once: the partly read frame's rest, the frames it needs popped together (their values from
        the latches' prefetched blocks, ``_frames_bytes``), then a sensor-time frame or 80h past the end, as
        ``read_FIFO_DATA`` gives them byte by byte. FIFO, latches, flags and counters end as ``n`` single reads
        leave them: the reads happen at one instant, so nothing arrives between them and the flags they could set
        are set by the first catch-up; the lines and the wake-up are settled once after them. Anything else goes
        byte by byte."""
        if self._phase != "read" or self._ptr != FIFO_DATA or self._replaying or n <= 0:
            return super().i2c_read_block(n)
        self.catch_up()
        out = bytearray()
        while len(out) < n:
            need = n - len(out)
            if self._frame:
                out += bytes(self._frame[:need])
                del self._frame[:need]
                continue
            size = self._frame_size()
            runs = self.fifo.pop_runs(-(-need // size)) if size else []
            es = list(range(runs[0][0], runs[0][0] + runs[0][1])) if len(runs) == 1 and self.CACHED else [
                k for k0, count in runs for k in range(k0, k0 + count)]
            if es:
                self._frame, self._frame_is_data = list(self._frames_bytes(es, len(runs) == 1)), True
                self._time_frame_sent = False
            elif self.values["FIFO_CONFIG_0"] & 0x02 and not self._time_frame_sent and self.fifo.clock is not None:
                self._time_frame_sent = True
                t = self._sensortime()
                self._frame, self._frame_is_data = [0x44, t & 0xFF, (t >> 8) & 0xFF, (t >> 16) & 0xFF], False
            else:
                self.stats_.count("fifo_over_reads", need)
                out += b"\x80" * need
        self.update()
        return bytes(out)

    def _frames_bytes(self, es: list[int], run: bool = False) -> bytes:
        """FIFO frames ``es`` as ``_build_frame`` gives them one by one: each sensor's part from its latch's
        prefetched block (consecutive samples: a slice of the block's bytes, ``_run_bytes``; else one numpy step,
        ``_latch_rows``); each latch counts and caches as the ``sample`` calls of those frames would. ``run``: ``es``
        is ``e0, e0+1, ...`` (one run of the FIFO)."""
        clock = self.fifo.clock
        assert clock is not None
        at: list[int] | None = None
        m = len(es)
        sets = self._frame_sets()
        parts = []
        for which in sets:
            latch = self.latches[which]
            ks = self._run_samples(latch.stream, clock, es) if run and self.CACHED else None
            if ks is None:
                if at is None:
                    arrival = clock.arrival
                    at = [arrival(e) for e in es]
                ks = latch.stream.latest_at(at)
            part = self._run_bytes(latch, ks, ks is es)
            if part is None:
                rows = self._latch_rows(latch, ks)
                part = (rows & 0xFFFF).astype("<u2").tobytes()
            parts.append(part)
        head = bytes([0x80 | (0x08 if "gyr" in sets else 0) | (0x04 if "acc" in sets else 0)]) \
            if self.values["FIFO_CONFIG_1"] & 0x10 else b""
        if len(parts) == 1 and not head:
            return parts[0]
        return b"".join(head + b"".join(part[6 * i: 6 * i + 6] for part in parts) for i in range(m))

    @staticmethod
    def _run_samples(stream: Stream, clock: RateClock, es: list[int]) -> list[int] | None:
        """``stream.latest_at`` at the arrivals of FIFO frames ``es`` = e0, e0+1, ... (``clock``'s), without the
        arithmetic when the sensor runs at the FIFO's rate: frame ``e`` arrives in the femtosecond
        ``floor((e + 1) / rate)``, in which the newest sample is ``e`` (the rate is below 1 per femtosecond); it is
        ``es`` itself when no recording end or cap comes before ``es``'s last. None otherwise (compute them)."""
        own = stream.clock
        if own is None or es[0] < 0 or own._num != clock._num or own._den != clock._den:
            return None
        limit, cap = stream.limit(), stream.cap
        if limit is not None and limit <= es[-1] or cap is not None and cap < es[-1]:
            return None
        return es

    @staticmethod
    def _run_bytes(latch: OutputLatch, ks: list[int], run: bool = False) -> bytes | None:
        """``ks`` = k0, k0+1, ... (a FIFO at the sensor's rate; ``run``: known to be, k0 >= 0): their output bytes
        sliced from the latch's prefetched block (OutputLatch.block_bytes), with the counting and cache of their
        ``sample`` calls; None otherwise."""
        k0, m = ks[0], len(ks)
        if not run and (k0 < 0 or not latch.stream.running or ks[-1] != k0 + m - 1 or ks != list(range(k0, k0 + m))):
            return None
        blk = latch._block
        if not (run and blk is not None and blk[1] <= k0 and k0 + m <= blk[1] + len(blk[2])
                and blk[0] == latch.scale_key()):
            latch.prefetch(ks)  # (a block holding them all at this scale: prefetch would return at once)
        out = latch.block_bytes(k0, m)
        blk = latch._block
        if out is None or blk is None:
            return None
        scale = blk[0]
        hit = latch._cache is not None and latch._cache[0] == (k0, scale)
        if m - hit:
            latch.stream.device.stats_.count(f"{latch.stream.kind}_samples_read", m - hit)
        latch._cache = ((k0 + m - 1, scale), blk[2][k0 + m - 1 - blk[1]].copy())
        return out

    @staticmethod
    def _latch_rows(latch: OutputLatch, ks: list[int]) -> np.ndarray:
        """The values ``latch.sample(k)`` gives for each of ``ks`` in turn, shape (len(ks), 3), with what those calls
        count (a sample read each time the latch's cached sample changes to a live one) and the cache they leave."""
        import numpy as np

        scale = latch.scale_key()
        running = latch.stream.running
        cached = latch._cache[0] if latch._cache is not None else None
        fresh = 0
        for k in ks:
            if (k, scale) != cached:
                cached = (k, scale)
                fresh += running and k >= 0
        if fresh:
            latch.stream.device.stats_.count(f"{latch.stream.kind}_samples_read", fresh)
        live = [k for k in ks if k >= 0] if running else []
        rows = np.zeros((len(ks), 3), dtype=np.int64)
        if live:
            latch.prefetch(live)
            blk = latch._block
            if blk is not None and blk[0] == scale and blk[1] <= min(live) and max(live) < blk[1] + len(blk[2]):
                idx = np.asarray(ks) - blk[1]
                ok = np.asarray(ks) >= 0
                rows[ok] = blk[2][idx[ok]]
            else:
                for i, k in enumerate(ks):
                    if k >= 0:
                        rows[i] = latch.preview_sample(k)
        last = ks[-1]
        latch._cache = ((last, scale), rows[-1].copy())
        return rows

    def write_CMD(self, value: int) -> None:
        if value == 0xB6:
            self.reset()
            self.update()
        elif value == 0xB0:
            self.catch_up()
            self._frame = []
            if self.fifo.clock is not None:
                self.fifo.reset(self.fifo.mode, self.fifo.clock, self.fifo.clock.count_by(self.now()), None)
            self._forget()
            self.update()
        else:
            self.unimplemented(f"{self.name}.CMD", f"command {value:#04x} is not modelled")

    def i2c_write_block(self, data: bytes) -> int:
        """A burst write at one time (BusDevice.i2c_write_block). The configuration file's bytes to INIT_DATA (whose
        address does not advance) with advanced power save off are stored at once, with the lines and wake-up
        settled once after them (``write_INIT_DATA`` changes nothing they depend on, and the writes happen at one
        instant); bytes past the file's end and anything else go byte by byte."""
        k, n = 0, len(data)
        while k < n:
            room = self.config_size - self._init_ptr
            if (self._phase == "write" and self._ptr == INIT_DATA and room > 0 and not self._replaying
                    and not self.values["PWR_CONF"] & 0x01):
                end = min(n, k + room)
                at = self._init_ptr
                self._config[at: at + end - k] = data[k:end]
                self._written[at: at + end - k] = b"\x01" * (end - k)
                self._init_ptr += end - k
                k = end
                self.update()
                continue
            if not self.i2c_write(data[k]):
                return k
            k += 1
        return n

    def next_address(self, addr: int, reading: bool) -> int:
        if addr in (FIFO_DATA, INIT_DATA):
            return addr  # the burst address is trapped
        return (addr + 1) & self.ADDRESS_MASK

    def write_byte(self, value: int) -> None:
        if self.values["PWR_CONF"] & 0x01:
            now = self.now()
            if now - self._last_write_fs < 450 * 10**9:
                self.guest_error(f"{self.name}.PWR_CONF", "register written less than 450 us after the previous "
                                 "write while advanced power save is on (the datasheet requires the pause)")
            self._last_write_fs = now
        super().write_byte(value)

    # --- time, flags and interrupts -------------------------------------------------------------
    def catch_up(self) -> None:
        self._catch_up_at(self.now())

    def _catch_up_at(self, now: int) -> None:
        """The configuration check at its time, FIFO arrivals and losses, and the INT_STATUS_1 flags they set, at
        virtual time ``now``. Again at the same ``now`` (``_caught_at``; half the calls: an access's catch-up, then
        its update's) only the FIFO's level flags are set again (INT_STATUS_1's read may have cleared them): the
        check, the arrivals and the samples' flags were done by the first and have nothing new until time moves."""
        if now != self._caught_at or not self.CACHED:
            if self._init_at is not None and now >= self._init_at:
                self._init_at = None
                self._message = MSG_INIT_OK if self._config_ok() else MSG_INIT_ERR
            self.catch_up_fifo(now)
            seen = self._flags_seen
            for which, bit in (("acc", 0x80), ("gyr", 0x40)):
                stream = self.latches[which].stream
                if stream.clock is not None:
                    k = stream.latest(now)
                    if k > seen[which]:
                        seen[which] = k
                        self._int_status |= bit
            self._caught_at = None if self._replaying else now  # (a replay lets nothing into the FIFO)
        fifo = self.fifo
        if fifo.clock is not None:
            wtm = self.values["FIFO_WTM_0"] | (self.values["FIFO_WTM_1"] & 0x1F) << 8
            if wtm and fifo.level * self._frame_size() >= wtm:
                self._int_status |= 0x02
            if fifo.level >= fifo.depth:
                self._int_status |= 0x01

    def line_levels(self) -> dict[str, bool]:
        self.catch_up()
        return self._levels()

    def _levels(self) -> dict[str, bool]:
        """INT1/INT2 from INT_MAP_DATA, INT_STATUS_1 and INTx_IO_CTRL (output_en, lvl) as they are."""
        m = self.values["INT_MAP_DATA"]
        out = {}
        for pin, shift, reg in (("INT1", 0, "INT1_IO_CTRL"), ("INT2", 4, "INT2_IO_CTRL")):
            io = self.values[reg]
            sources = (m >> shift) & 0x7
            active = bool(sources & 0x01 and self._int_status & 0x01 or sources & 0x02 and self._int_status & 0x02
                          or sources & 0x04 and self._int_status & 0xC0)
            high_active = bool(io & 0x02)
            out[pin] = (active == high_active) if io & 0x08 else not high_active
        return out

    def next_wakeup(self) -> int | None:
        return self._next_wakeup_at(self.now())

    def _next_wakeup_at(self, now: int) -> int | None:
        times = [self._init_at] if self._init_at is not None else []
        routed = self.values["INT_MAP_DATA"]
        routed = (routed | routed >> 4) & 0x7
        if routed & 0x04:
            for which, bit in (("acc", 0x80), ("gyr", 0x40)):
                if not self._int_status & bit:
                    t = self.latches[which].next_sample_at(now)
                    if t is not None:
                        times.append(t)
        size = self._frame_size()
        if routed & 0x02 and size and not self._int_status & 0x02:
            wtm = self.values["FIFO_WTM_0"] | (self.values["FIFO_WTM_1"] & 0x1F) << 8
            t = self.fifo.when_level(-(-wtm // size)) if wtm else None
            if t is not None:
                times.append(t)
        if routed & 0x01 and not self._int_status & 0x01:
            t = self.fifo.when_level(self.fifo.depth)
            if t is not None:
                times.append(t)
        return min(times) if times else None

    def update(self) -> None:
        """BusDevice.update with virtual time read once (nothing in it moves the clock): catch up, drive INT1/INT2,
        plan the next wake-up."""
        if self._replaying:
            return
        now = self.now()
        self._catch_up_at(now)
        lines = self.lines
        values = self.values
        key = (values["INT_MAP_DATA"], values["INT1_IO_CTRL"], values["INT2_IO_CTRL"], self._int_status)
        levels = self._levels_of.get(key) if self.CACHED else None
        if levels is None:
            levels = self._levels_of[key] = tuple(self._levels().items())
        for pin, level in levels:
            lines[pin].set(level)
        self.plan_wake(self._next_wakeup_at(now), now)

    def plan_wake(self, at: int | None, now: int) -> None:
        """BusDevice.plan_wake; the wake-up event may be done in C at a wfi (Event.wake: ``_c_wake``)."""
        super().plan_wake(at, now)
        self._c_plan = None  # (every update comes here: what the chip's part of the plan depends on may have moved)
        wake = self._wake
        if wake is not None and hasattr(wake, "wake"):  # (a machine Event: a unit test's fake host has its own)
            wake.wake = self._c_wake

    def _c_wake(self) -> tuple[int, ...] | None:
        """Event.wake of the chip's wake-up (hotpath.c hp_wfi_hook): the FIFO reaching the watermark routed to INT1
        alone (INT_MAP_DATA fwm_int1; INT1 push-pull active high, low now), whose rise is what the input INT1 drives
        says (Line.rise_plan: the nRF52's GPIOTE IN event on P0.11, IN's bit). The update at the event then sets
        fwm (and flags no line sees), raises INT1, and plans no wake-up after it (fwm latched, nothing else routed):
        nothing of the chip follows until the firmware's next access. None otherwise. The chip's part is kept until
        its next update (asked at every arming while the wake-up is the next event)."""
        wake = self._wake
        got = self._c_plan
        if got is None or got[0] is not wake:
            got = self._c_plan = (wake, self._c_wake_line(wake))
        line = got[1]
        plan = line.rise_plan() if line is not None else None
        return None if plan is None else (*plan[:4], QUIET_FS, *plan[5:])

    def _c_wake_line(self, wake: Any) -> Any:
        """_c_wake's chip part: INT1's line when the wake-up ``wake`` is the watermark's and raises INT1 alone."""
        line = self.lines["INT1"]
        if (self._replaying or self._init_at is not None or self.values["INT_MAP_DATA"] != 0x02
                or self._int_status & 0x02 or self.values["INT1_IO_CTRL"] & 0x0A != 0x0A or line.level
                or line.rise_plan is None or line.listeners != 1 or wake is None):
            return None
        size = self._frame_size()
        wtm = self.values["FIFO_WTM_0"] | (self.values["FIFO_WTM_1"] & 0x1F) << 8
        if not size or not wtm or self.fifo.when_level(-(-wtm // size)) != getattr(wake, "at_fs", None):
            return None  # (not the watermark's wake-up)
        return line

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["config_loaded"] = self._message == MSG_INIT_OK
        return out
