"""ST LSM6DSL accelerometer + gyroscope (datasheet DocID028475 Rev 7), the B-L475E-IOT01A's, on I2C or SPI.

WHO_AM_I 6Ah. CTRL1_XL ODR_XL[3:0] (12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664 Hz;
1.6 Hz in low-power) and FS_XL (+-2, 16, 4, 8 g for codes 0-3: 0.061, 0.488, 0.122, 0.244
mg/LSB); CTRL2_G ODR_G and FS_G / FS_125 (125, 250, 500, 1000, 2000 dps: 4.375, 8.75, 17.5,
35, 70 mdps/LSB); CTRL3_C BDU, IF_INC (set after reset), H_LACTIVE, SW_RESET; STATUS_REG
XLDA/GDA; INT1_CTRL / INT2_CTRL data ready, FIFO threshold, overrun and full flags;
CTRL4_C INT2_on_INT1.

FIFO (section 5.5, 4 KB = 2048 16-bit words): FIFO_CTRL5 FIFO_MODE (bypass, FIFO,
continuous; continuous-to-FIFO and bypass-to-continuous switch on event triggers simcore does
not model and stay in their first mode) and ODR_FIFO; FIFO_CTRL3 decimation per sensor (0 =
not in the FIFO); FIFO_CTRL1/2 threshold FTH[10:0] in words; FIFO_CTRL4 STOP_ON_FTH.
At each FIFO sample the gyroscope's data set (X, Y, Z) comes first, then the accelerometer's,
each the sensor's newest sample at that moment. FIFO_STATUS1/2 give the unread words
(DIFF_FIFO) and the threshold, overrun, smart-full and empty flags, FIFO_STATUS3/4 the
position in the pattern; FIFO_DATA_OUT_L/H (3Eh/3Fh) read one word, and a multiple-byte read
wraps from 3Fh back to 3Eh.

Not modelled (non-zero writes reported): the embedded functions (pedometer, tilt, tap,
free-fall, wake-up, 6D, significant motion), the sensor hub, filters, user offsets, self-test,
temperature, data sets at two different decimations, pulsed data ready.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from simcore.devices import register_device
from simcore.devices.base import DeviceConfig, DeviceHost, FifoDevice, RateClock, clamp_int, reg8
from simcore.devices.fifo import FifoMode, SampleFifo
from simcore.devices.motion import OutputLatch, Stream
from simcore.registers import Field, Register

if TYPE_CHECKING:
    import numpy as np

WHO_AM_I = 0x6A
ODR_HZ = (0.0, 12.5, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0, 3332.0, 6664.0)
XL_SENSITIVITY_MG = (0.061, 0.488, 0.122, 0.244)  # FS_XL 00: 2 g, 01: 16 g, 10: 4 g, 11: 8 g
G_SENSITIVITY_MDPS = (8.75, 17.5, 35.0, 70.0)  # FS_G 250, 500, 1000, 2000 dps; FS_125: 4.375
DECIMATION = (0, 1, 2, 3, 4, 8, 16, 32)
FIFO_MODES = {0: FifoMode.BYPASS, 1: FifoMode.FIFO, 3: FifoMode.STREAM, 4: FifoMode.BYPASS, 6: FifoMode.STREAM}
FIFO_WORDS = 2048
DATA_OUT_L, DATA_OUT_H = 0x3E, 0x3F


def _out(latch: str, i: int) -> Any:
    def read(self: Lsm6dsl) -> int:
        return self.out_byte(latch, i)

    return read


def _unmodelled(*names_offsets: tuple[str, int]) -> tuple[Register, ...]:
    return tuple(reg8(n, o, implemented=0) for n, o in names_offsets)


@register_device
class Lsm6dsl(FifoDevice):
    """LSM6DSL: accelerometer and gyroscope, 4 KB FIFO, INT1/INT2."""

    TYPE = "lsm6dsl"
    LOST_COUNTER: ClassVar[str] = "fifo_samples_lost"
    LINES: ClassVar[tuple[str, ...]] = ("INT1", "INT2")
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x6A, 0x6B)
    SPI_MODES: ClassVar[frozenset[int]] = frozenset({0, 3})
    OPTIONS: ClassVar[dict[str, str]] = {
        "accel_channels": "recording channels of X/Y/Z acceleration (default ['ax', 'ay', 'az'])",
        "gyro_channels": "recording channels of X/Y/Z angular rate (default ['gx', 'gy', 'gz']; zeros if absent)",
    }
    REGISTERS = (
        reg8("FUNC_CFG_ACCESS", 0x01, implemented=0, doc="embedded functions bank: not modelled"),
        *_unmodelled(("SENSOR_SYNC_TIME_FRAME", 0x04), ("SENSOR_SYNC_RES_RATIO", 0x05)),
        reg8("FIFO_CTRL1", 0x06, fields=(Field("FTH", 0, 8, on_write="_fifo_changed"),)),
        reg8("FIFO_CTRL2", 0x07, fields=(
            Field("FTH_HI", 0, 3, on_write="_fifo_changed"), Field("FIFO_TEMP_EN", 3, implemented=False),
            Field("TIMER_PEDO_FIFO_DRDY", 6, implemented=False), Field("TIMER_PEDO_FIFO_EN", 7, implemented=False))),
        reg8("FIFO_CTRL3", 0x08, fields=(Field("DEC_FIFO_XL", 0, 3, on_write="_fifo_changed"),
                                         Field("DEC_FIFO_GYRO", 3, 3, on_write="_fifo_changed"))),
        reg8("FIFO_CTRL4", 0x09, fields=(
            Field("DEC_DS3_FIFO", 0, 3, implemented=False), Field("DEC_DS4_FIFO", 3, 3, implemented=False),
            Field("ONLY_HIGH_DATA", 6, implemented=False), Field("STOP_ON_FTH", 7, on_write="_fifo_changed"))),
        reg8("FIFO_CTRL5", 0x0A, fields=(Field("FIFO_MODE", 0, 3, on_write="_fifo_changed"),
                                         Field("ODR_FIFO", 3, 4, on_write="_fifo_changed"))),
        reg8("DRDY_PULSE_CFG_G", 0x0B, fields=(Field("INT2_WRIST_TILT", 0, implemented=False),
                                               Field("DRDY_PULSED", 7, implemented=False))),
        reg8("INT1_CTRL", 0x0D, fields=(
            Field("INT1_DRDY_XL", 0, on_write="_routing"), Field("INT1_DRDY_G", 1, on_write="_routing"),
            Field("INT1_BOOT", 2, implemented=False), Field("INT1_FTH", 3, on_write="_routing"),
            Field("INT1_FIFO_OVR", 4, on_write="_routing"), Field("INT1_FULL_FLAG", 5, on_write="_routing"),
            Field("INT1_SIGN_MOT", 6, implemented=False), Field("INT1_STEP_DETECTOR", 7, implemented=False))),
        reg8("INT2_CTRL", 0x0E, fields=(
            Field("INT2_DRDY_XL", 0, on_write="_routing"), Field("INT2_DRDY_G", 1, on_write="_routing"),
            Field("INT2_DRDY_TEMP", 2, implemented=False), Field("INT2_FTH", 3, on_write="_routing"),
            Field("INT2_FIFO_OVR", 4, on_write="_routing"), Field("INT2_FULL_FLAG", 5, on_write="_routing"),
            Field("INT2_STEP_COUNT_OV", 6, implemented=False), Field("INT2_STEP_DELTA", 7, implemented=False))),
        reg8("WHO_AM_I", 0x0F, access="r", reset=WHO_AM_I),
        reg8("CTRL1_XL", 0x10, fields=(Field("BW0_XL", 0), Field("LPF1_BW_SEL", 1),
                                       Field("FS_XL", 2, 2), Field("ODR_XL", 4, 4, on_write="_odr_changed"))),
        reg8("CTRL2_G", 0x11, fields=(Field("FS_125", 1), Field("FS_G", 2, 2),
                                      Field("ODR_G", 4, 4, on_write="_odr_changed"))),
        reg8("CTRL3_C", 0x12, reset=0x04, fields=(
            Field("SW_RESET", 0, on_write="_sw_reset"), Field("BLE", 1, implemented=False), Field("IF_INC", 2),
            Field("SIM", 3), Field("PP_OD", 4), Field("H_LACTIVE", 5, on_write="_routing"), Field("BDU", 6),
            Field("BOOT", 7, on_write="_boot"))),
        reg8("CTRL4_C", 0x13, fields=(
            Field("LPF1_SEL_G", 1, implemented=False), Field("I2C_DISABLE", 2), Field("DRDY_MASK", 3,
                                                                                      implemented=False),
            Field("DEN_DRDY_INT1", 4, implemented=False), Field("INT2_ON_INT1", 5, on_write="_routing"),
            Field("SLEEP", 6, implemented=False), Field("DEN_XL_EN", 7, implemented=False))),
        reg8("CTRL5_C", 0x14, implemented=0, doc="self-test, DEN polarity, rounding: not modelled"),
        reg8("CTRL6_C", 0x15, fields=(Field("FTYPE", 0, 2, implemented=False), Field("USR_OFF_W", 3,
                                                                                    implemented=False),
                                      Field("XL_HM_MODE", 4, on_write="_odr_changed"),
                                      Field("DEN_MODE", 5, 3, implemented=False))),
        reg8("CTRL7_G", 0x16, fields=(Field("ROUNDING_STATUS", 2, implemented=False),
                                      Field("HPM_G", 4, 2, implemented=False), Field("HP_EN_G", 6, implemented=False),
                                      Field("G_HM_MODE", 7))),
        reg8("CTRL8_XL", 0x17, implemented=0, doc="accelerometer filters: not modelled"),
        reg8("CTRL9_XL", 0x18, reset=0xE0, implemented=0xE0, doc="DEN_X/Y/Z stored; SOFT_EN not modelled"),
        reg8("CTRL10_C", 0x19, implemented=0, doc="embedded functions: not modelled"),
        reg8("MASTER_CONFIG", 0x1A, implemented=0, doc="sensor hub: not modelled"),
        reg8("WAKE_UP_SRC", 0x1B, access="r"), reg8("TAP_SRC", 0x1C, access="r"), reg8("D6D_SRC", 0x1D, access="r"),
        reg8("STATUS_REG", 0x1E, access="r"),
        reg8("OUT_TEMP_L", 0x20, access="r", modelled=False), reg8("OUT_TEMP_H", 0x21, access="r", modelled=False),
        *(reg8(f"OUT{a}_{h}_G", 0x22 + 2 * i + j, access="r") for i, a in enumerate("XYZ") for j, h in
          enumerate("LH")),
        *(reg8(f"OUT{a}_{h}_XL", 0x28 + 2 * i + j, access="r") for i, a in enumerate("XYZ") for j, h in
          enumerate("LH")),
        *(reg8(f"SENSORHUB{i + 1}_REG", 0x2E + i, access="r", implemented=0) for i in range(12)),
        reg8("FIFO_STATUS1", 0x3A, access="r"), reg8("FIFO_STATUS2", 0x3B, access="r"),
        reg8("FIFO_STATUS3", 0x3C, access="r"), reg8("FIFO_STATUS4", 0x3D, access="r"),
        reg8("FIFO_DATA_OUT_L", DATA_OUT_L, access="r"), reg8("FIFO_DATA_OUT_H", DATA_OUT_H, access="r"),
        *(reg8(f"TIMESTAMP{i}_REG", 0x40 + i, access="r", modelled=False) for i in range(3)),
        *(reg8(n, o, access="r", modelled=False) for n, o in (
            ("STEP_TIMESTAMP_L", 0x49), ("STEP_TIMESTAMP_H", 0x4A), ("STEP_COUNTER_L", 0x4B),
            ("STEP_COUNTER_H", 0x4C))),
        *(reg8(f"SENSORHUB{13 + i}_REG", 0x4D + i, access="r", implemented=0) for i in range(6)),
        reg8("FUNC_SRC1", 0x53, access="r"), reg8("FUNC_SRC2", 0x54, access="r"),
        reg8("WRIST_TILT_IA", 0x55, access="r"),
        *_unmodelled(("TAP_CFG", 0x58), ("TAP_THS_6D", 0x59), ("INT_DUR2", 0x5A), ("WAKE_UP_THS", 0x5B),
                     ("WAKE_UP_DUR", 0x5C), ("FREE_FALL", 0x5D), ("MD1_CFG", 0x5E), ("MD2_CFG", 0x5F),
                     ("MASTER_CMD_CODE", 0x60), ("SENS_SYNC_SPI_ERROR_CODE", 0x61)),
        *(reg8(f"OUT_MAG_RAW_{a}_{h}", 0x66 + 2 * i + j, access="r", implemented=0) for i, a in enumerate("XYZ")
          for j, h in enumerate("LH")),
        *_unmodelled(("X_OFS_USR", 0x73), ("Y_OFS_USR", 0x74), ("Z_OFS_USR", 0x75)),
    )

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.config = config
        self.accel = Stream(self, "accel", required=True)
        self.gyro = Stream(self, "gyro")
        self.latches = {"XL": OutputLatch(self.accel, self._xl_counts, lambda: self.values["CTRL1_XL"] & 0x0C),
                        "G": OutputLatch(self.gyro, self._g_counts, lambda: self.values["CTRL2_G"] & 0x0E)}
        self.fifo = SampleFifo(FIFO_WORDS // 6)
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self.reset_sensors({"XL": 0.0, "G": 0.0})
        self._fifo_setup: tuple[Any, ...] | None = None
        self._word = 0  # words of the oldest FIFO sample already read
        self._fifo_has: tuple[bool, bool] = (False, False)  # (gyro, accel) data sets in each FIFO sample
        self._drain_plan: tuple[tuple[Any, ...], tuple[list[int], int, int, int, int], list[Any]] | None = None

    # --- scaling ---------------------------------------------------------------------------
    def _xl_counts(self, mg: np.ndarray) -> np.ndarray:
        return clamp_int(mg / XL_SENSITIVITY_MG[(self.values["CTRL1_XL"] >> 2) & 3], 16)

    def _g_counts(self, mdps: np.ndarray) -> np.ndarray:
        c2 = self.values["CTRL2_G"]
        sens = 4.375 if c2 & 0x02 else G_SENSITIVITY_MDPS[(c2 >> 2) & 3]
        return clamp_int(mdps / sens, 16)

    # --- sampling --------------------------------------------------------------------------
    def _odr_of(self, which: str) -> float:
        reg, field = ("CTRL1_XL", "ODR_XL") if which == "XL" else ("CTRL2_G", "ODR_G")
        code = self.values[reg] >> 4
        if which == "XL" and code == 11:
            if not self.values["CTRL6_C"] & 0x10:
                self.guest_error(f"{self.name}.CTRL1_XL.ODR_XL", "1.6 Hz needs the low-power mode (XL_HM_MODE = 1): "
                                 "12.5 Hz used")
                return 12.5
            return 1.6
        if code >= len(ODR_HZ):
            self.guest_error(f"{self.name}.{reg}.{field}", f"ODR code {code:#x} is not in the datasheet's table: "
                             "power-down")
            return 0.0
        return ODR_HZ[code]

    def _odr_changed(self, old: int, new: int) -> None:
        self.catch_up()
        for which, stream in (("XL", self.accel), ("G", self.gyro)):
            self.apply_odr(which, self._odr_of(which), stream, self.latches[which].restart)
        self._fifo_changed(0, 0)

    def _boot(self, old: int, new: int) -> None:
        self.values["CTRL3_C"] &= ~0x80

    # --- FIFO ------------------------------------------------------------------------------
    def _fifo_mode(self) -> FifoMode:
        code = self.values["FIFO_CTRL5"] & 7
        return FIFO_MODES.get(code, FifoMode.BYPASS)

    def _threshold(self) -> int:
        return self.values["FIFO_CTRL1"] | (self.values["FIFO_CTRL2"] & 7) << 8

    def _words_per_sample(self) -> int:
        return 3 * sum(self._fifo_has)

    def _fifo_changed(self, old: int, new: int) -> None:
        """FIFO settings written: restart it when what it collects changes (the chip discards its content)."""
        self.catch_up()
        c3, c5 = self.values["FIFO_CTRL3"], self.values["FIFO_CTRL5"]
        dec_xl, dec_g = DECIMATION[c3 & 7], DECIMATION[(c3 >> 3) & 7]
        odr_code = (c5 >> 3) & 0xF
        setup = (self._fifo_mode(), dec_xl, dec_g, odr_code, bool(self.values["FIFO_CTRL4"] & 0x80),
                 self._threshold() if self.values["FIFO_CTRL4"] & 0x80 else 0)
        if setup == self._fifo_setup:
            self.update()
            return
        self._fifo_setup = setup
        mode = setup[0]
        code = c5 & 7
        if code in (3, 4):
            self.unimplemented(f"{self.name}.FIFO_CTRL5.FIFO_MODE", f"mode {code:03b} switches on an event trigger, "
                               "which simcore does not model; the FIFO stays in its first mode")
        elif code not in FIFO_MODES:
            self.guest_error(f"{self.name}.FIFO_CTRL5.FIFO_MODE", f"mode {code:03b} is reserved: bypass")
        if dec_xl and dec_g and dec_xl != dec_g:
            self.unimplemented(f"{self.name}.FIFO_CTRL3", "accelerometer and gyroscope at different decimations "
                               "are not modelled: both are stored at the gyroscope's")
        dec = dec_g or dec_xl
        self._fifo_has = (bool(dec_g), bool(dec_xl))
        self._word = 0
        fifo_odr = ODR_HZ[odr_code] if odr_code < len(ODR_HZ) else 0.0
        if mode is FifoMode.BYPASS or not dec or not fifo_odr:
            self.fifo.reset(FifoMode.BYPASS, None, 0, None)
            self.update()
            return
        for which, on in (("G", dec_g), ("XL", dec_xl)):
            if on and self._odr[which] and fifo_odr > self._odr[which]:
                self.guest_error(f"{self.name}.FIFO_CTRL5.ODR_FIFO", f"FIFO ODR {fifo_odr:g} Hz above the {which} "
                                 f"ODR {self._odr[which]:g} Hz (the datasheet requires it lower or equal)")
        depth = FIFO_WORDS // self._words_per_sample()
        if setup[4] and setup[5]:
            depth = max(1, min(depth, setup[5] // self._words_per_sample()))
        self.fifo.depth = depth
        clock = RateClock(fifo_odr / dec)
        self.fifo.reset(mode, clock, clock.count_by(self.now()), None)
        self.update()

    def _unread_words(self) -> int:
        return self.fifo.level * self._words_per_sample() - self._word

    def _fifo_word(self) -> int:
        """The FIFO word the next FIFO_DATA_OUT read returns, as a signed 16-bit value."""
        e = self.fifo.peek()
        if e is None or self.fifo.clock is None:
            return 0
        sets = [s for s, on in zip(("G", "XL"), self._fifo_has, strict=True) if on]
        which = sets[self._word // 3]
        latch = self.latches[which]
        k = latch.stream.latest(self.fifo.clock.arrival(e)) if latch.stream.running else -1
        return int(latch.sample(k)[self._word % 3])

    def read_FIFO_DATA_OUT_L(self) -> int:
        self.catch_up()
        return self._fifo_word() & 0xFF

    def read_FIFO_DATA_OUT_H(self) -> int:
        self.catch_up()
        if self.fifo.peek() is None:
            self.stats_.count("fifo_empty_reads")
            return 0
        value = (self._fifo_word() >> 8) & 0xFF
        self._word += 1
        if self._word == self._words_per_sample():
            self._word = 0
            self.fifo.pop()
        return value

    PREVIEW_PURE = ("WHO_AM_I", "FIFO_STATUS1", "FIFO_STATUS2", "FIFO_STATUS3", "FIFO_STATUS4", "STATUS_REG")

    def preview_reads(self, addr: int, inc: bool, limit: int) -> list[int]:
        """A read's next bytes (BusDevice.preview_reads): FIFO_DATA_OUT_L/H (the FIFO's words in order, a sample
        leaving at its last word's high byte, the address rolling back from H to L; zeros once it is empty) and the
        registers in ``PREVIEW_PURE`` until a FIFO word was read, as the reads will return them."""
        self.catch_up()
        out: list[int] = []
        saved_inc = self._inc
        self._inc = inc
        try:
            while len(out) < limit:
                slot = self._table.decode.get(addr)
                if slot is None:
                    break
                if slot.key in ("FIFO_DATA_OUT_L", "FIFO_DATA_OUT_H"):  # the rest of the read is the FIFO window
                    samples = [k0 + i for k0, n in self.fifo.runs for i in range(n)]
                    calls: list[tuple[OutputLatch, int, int]] = []
                    seen, run = self._recording_preview(calls)
                    got = self._fifo_bytes(addr, inc, limit - len(out), samples, seen, run)
                    if not out:  # a drain from the FIFO window: i2c_replay of all of it reuses this
                        self._drain_plan = (self._drain_key(addr, inc, limit), got, calls)
                    out += got[0]
                    break
                if slot.key not in self.PREVIEW_PURE:
                    break
                out.append(self.read(addr, 1) & 0xFF)
                addr = self.next_address(addr, True)
        finally:
            self._inc = saved_inc
        return out

    @staticmethod
    def _recording_preview(calls: list[tuple[OutputLatch, int, int]]) -> tuple[
            Callable[[OutputLatch, int], np.ndarray], Callable[[OutputLatch, int, int], None]]:
        """``OutputLatch.preview_sample``, noting each call in ``calls`` (the replay's ``sample`` calls, as runs
        (latch, first k, count) of consecutive samples), and the note of a run of ``n`` such calls."""
        def run(latch: OutputLatch, k: int, n: int) -> None:
            if calls and calls[-1][0] is latch and calls[-1][1] + calls[-1][2] == k:
                calls[-1] = (latch, calls[-1][1], calls[-1][2] + n)
            else:
                calls.append((latch, k, n))

        def seen(latch: OutputLatch, k: int) -> np.ndarray:
            run(latch, k, 1)
            return latch.preview_sample(k)
        return seen, run

    @staticmethod
    def _sample_run(latch: OutputLatch, k: int, n: int) -> None:
        latch.sample_run(k, n)

    def _drain_key(self, addr: int, inc: bool, n: int) -> tuple[Any, ...]:
        """What a FIFO drain's bytes and end state depend on (``_fifo_bytes``): the preview's plan holds for a
        replay with an equal key."""
        return (addr, inc, n, self._word, tuple(tuple(r) for r in self.fifo.runs), self._fifo_has,
                self._words_per_sample(), self.fifo.clock,
                tuple((latch.scale_key(), latch.stream.clock, latch.stream.cap, latch.stream.limit())
                      for latch in self.latches.values()))

    def _fifo_bytes(self, addr: int, inc: bool, n: int, samples: list[int],
                    sample_of: Callable[[OutputLatch, int], np.ndarray],
                    run_of: Callable[[OutputLatch, int, int], None]) -> tuple[list[int], int, int, int, int]:
        """``n`` reads of FIFO_DATA_OUT_L/H from ``addr`` (incrementing: H rolls back to L) while the FIFO holds
        ``samples`` (its oldest first, ``_word`` of it read), as ``read_FIFO_DATA_OUT_L/H`` answer them: the bytes,
        the address, word and samples left behind, and the H reads that found it empty. The sensors' values come
        from one ``sample_of`` call per sample and sensor (the repeated calls for its other words and bytes would
        hit the latch's cache: they count nothing) and are prefetched in one numpy step (OutputLatch.prefetch);
        ``run_of(latch, k, n)`` stands for the ``n`` calls ``sample_of(latch, k .. k+n-1)`` in a row."""
        wps = self._words_per_sample()
        clock = self.fifo.clock
        sets = [self.latches[s] for s, on in zip(("G", "XL"), self._fifo_has, strict=True) if on]
        word, pos, empty = self._word, 0, 0
        out: list[int] = []
        if clock is not None and wps:
            arrivals = [clock.arrival(e) for e in samples[: (word + (n // 2 + 1 if inc else n)) // wps + 1]]
            ks = []  # per sensor, the stream's sample each FIFO sample holds (as _fifo_word finds it)
            for latch in sets:
                ks.append(latch.stream.latest_at(arrivals))
                latch.prefetch(ks[-1])
            if inc:
                return self._fifo_burst(addr, n, len(samples), sample_of, run_of, wps, sets, ks)
        key: tuple[int, int] | None = None
        vals: list[int] = []
        for _ in range(n):
            if pos >= len(samples):
                v = None
            elif clock is None or not wps:
                v = 0
            else:
                e, i = samples[pos], word // 3
                if key != (e, i):
                    latch = sets[i]
                    k = latch.stream.latest(clock.arrival(e)) if latch.stream.running else -1
                    key, vals = (e, i), sample_of(latch, k).tolist()
                v = vals[word % 3]
            if addr == DATA_OUT_L:
                out.append(v & 0xFF if v else 0)
                if inc:
                    addr = DATA_OUT_H
                continue
            if inc:
                addr = DATA_OUT_L
            if v is None:
                empty += 1
                out.append(0)
                continue
            out.append((v >> 8) & 0xFF)
            word += 1
            if word == wps:
                word, pos = 0, pos + 1
        return out, addr, word, pos, empty

    def _fifo_burst(self, addr: int, n: int, held: int, sample_of: Callable[[OutputLatch, int], np.ndarray],
                    run_of: Callable[[OutputLatch, int, int], None], wps: int, sets: list[OutputLatch],
                    ks: list[list[int]]) -> tuple[list[int], int, int, int, int]:
        """``_fifo_bytes`` of an incrementing burst (L, H, L, H...) in one step: the FIFO's words laid out as
        little-endian bytes, sample after sample, the burst a slice of them from the current word (H: its high byte),
        then the empty FIFO's zeros. The latches are asked for the samples (``ks``: per sensor, for each of the FIFO's
        ``held`` samples the burst may reach) and sensors whose words the burst touches, in order, as the byte loop
        asks them. One sensor in the FIFO whose samples there are consecutive (the common drain): its bytes are a
        slice of the latch's prefetched block and its calls one run."""
        import numpy as np

        bps = 2 * wps
        start = 2 * self._word + (addr == DATA_OUT_H)  # byte offset from the first sample's first word
        got = max(0, min(n, held * bps - start))
        end = start + got
        out: list[int] = []
        if got and len(sets) == 1:
            p0, p1 = start // bps, (end - 1) // bps  # the samples the burst touches
            k0 = ks[0][p0]
            if k0 >= 0 and ks[0][p1] - k0 == p1 - p0 and ks[0][p0:p1 + 1] == list(range(k0, k0 + p1 - p0 + 1)):
                raw = sets[0].block_bytes(k0, p1 - p0 + 1)
                if raw is not None:
                    run_of(sets[0], k0, p1 - p0 + 1)
                    out = list(raw[start - p0 * bps:end - p0 * bps])
        if got and not out:
            first, last = start // 2, (end - 1) // 2  # the words the burst touches
            rows = []
            for pos in range((end - 1) // bps + 1):
                row: list[int] = []
                for i, latch in enumerate(sets):
                    lo = pos * wps + 3 * i
                    if lo + 2 < first or lo > last:
                        row += (0, 0, 0)
                        continue
                    row += sample_of(latch, ks[i][pos]).tolist()
                rows.append(row)
            out = list((np.array(rows, dtype=np.int64) & 0xFFFF).astype("<u2").tobytes()[start:end])
        extra = n - got
        at_h = end % 2  # the address after the FIFO's bytes: H when a word was half read
        empty = (extra + at_h) // 2  # the H reads of the empty FIFO
        out += [0] * extra
        words = end // 2
        return out, DATA_OUT_H if (end + extra) % 2 else DATA_OUT_L, words % wps, words // wps, empty

    def i2c_replay(self, n: int) -> list[int]:
        """A FIFO drain a controller streamed (FIFO_DATA_OUT_L/H) without the register dispatch: the state
        ``read_FIFO_DATA_OUT_L/H`` leave byte by byte (nothing arrives meanwhile: the base's rule), the lines settled
        once after; a read of any other register as the base replays it. When ``preview_reads`` told exactly this
        drain (same address, increment, length, word position, FIFO contents, sample sets, scales and clock: nothing
        in the chip moved since), its bytes and end state are reused and only its ``sample`` calls are made again,
        in the same order, for what they count (``*_samples_read``) and cache."""
        if self._phase != "read" or self._ptr not in (DATA_OUT_L, DATA_OUT_H):
            return super().i2c_replay(n)
        self.catch_up()
        fifo = self.fifo
        plan, self._drain_plan = self._drain_plan, None
        if plan is not None and plan[0] == self._drain_key(self._ptr, self._inc, n):
            got, calls = plan[1], plan[2]
            for latch, k, m in calls:  # the reads' sample calls, in order: what they count and cache
                latch.sample_run(k, m)
            out, self._ptr, self._word, popped, empty = list(got[0]), *got[1:]
        else:
            samples = [k0 + i for k0, m in fifo.runs for i in range(m)]
            out, self._ptr, self._word, popped, empty = self._fifo_bytes(self._ptr, self._inc, n, samples,
                                                                           OutputLatch.sample, self._sample_run)
        fifo.pop_runs(popped)  # the samples the drain read, as ``popped`` pops do
        if empty:
            self.stats_.count("fifo_empty_reads", empty)
        self.update()
        return out

    def read_FIFO_STATUS1(self) -> int:
        self.catch_up()
        return self._unread_words() & 0xFF

    def read_FIFO_STATUS2(self) -> int:
        self.catch_up()
        words = self._unread_words()
        value = (words >> 8) & 7
        fth = self._threshold()
        if fth and words >= fth:
            value |= 0x80
        if self.fifo.overrun:
            value |= 0x40
        if self.fifo.clock is not None and self.fifo.level + 1 >= self.fifo.depth:
            value |= 0x20
        if words == 0:
            value |= 0x10
        return value

    def read_FIFO_STATUS3(self) -> int:
        return self._word & 0xFF

    def read_FIFO_STATUS4(self) -> int:
        return self._word >> 8

    # --- outputs ---------------------------------------------------------------------------
    def out_byte(self, which: str, i: int) -> int:
        return self.latches[which].byte(i, self.now(), bool(self.values["CTRL3_C"] & 0x40))

    read_OUTX_L_G, read_OUTX_H_G, read_OUTY_L_G, read_OUTY_H_G, read_OUTZ_L_G, read_OUTZ_H_G = (
        _out("G", i) for i in range(6))
    read_OUTX_L_XL, read_OUTX_H_XL, read_OUTY_L_XL, read_OUTY_H_XL, read_OUTZ_L_XL, read_OUTZ_H_XL = (
        _out("XL", i) for i in range(6))

    def read_STATUS_REG(self) -> int:
        now = self.now()
        return int(self.latches["XL"].data_ready(now)) | int(self.latches["G"].data_ready(now)) << 1

    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte & 0x7F, bool(self.values["CTRL3_C"] & 0x04)

    def spi_command(self, byte: int) -> tuple[bool, int, bool]:
        return bool(byte & 0x80), byte & 0x7F, bool(self.values["CTRL3_C"] & 0x04)

    def next_address(self, addr: int, reading: bool) -> int:
        if reading and addr == DATA_OUT_H and self._inc:
            return DATA_OUT_L
        return super().next_address(addr, reading)

    # --- interrupts ------------------------------------------------------------------------
    def _int_sources(self, ctrl: int) -> bool:
        if ctrl & 0x03:  # data ready routed (STATUS_REG reads have no side effect: skipped otherwise)
            status = self.read_STATUS_REG()
            if ctrl & 0x01 and status & 1 or ctrl & 0x02 and status & 2:
                return True
        if ctrl & 0x38:
            fs2 = self.read_FIFO_STATUS2()
            if ctrl & 0x08 and fs2 & 0x80 or ctrl & 0x10 and fs2 & 0x40 or ctrl & 0x20 and fs2 & 0x20:
                return True
        return False

    def line_levels(self) -> dict[str, bool]:
        low = bool(self.values["CTRL3_C"] & 0x20)
        int2 = self._int_sources(self.values["INT2_CTRL"])
        int1 = self._int_sources(self.values["INT1_CTRL"]) or (int2 and bool(self.values["CTRL4_C"] & 0x20))
        return {"INT1": int1 != low, "INT2": int2 != low}

    def next_wakeup(self) -> int | None:
        now = self.now()
        routed = self.values["INT1_CTRL"] | self.values["INT2_CTRL"]
        times = self.data_ready_times(now, [w for bit, w in ((0x01, "XL"), (0x02, "G")) if routed & bit])
        wps = self._words_per_sample()
        if routed & 0x08 and wps and self._threshold():
            t = self.fifo.when_level(-(-(self._threshold() + self._word) // wps))
            if t is not None:
                times.append(t)
        if routed & 0x10:
            t = self.fifo.when_overrun()
            if t is not None:
                times.append(t)
        if routed & 0x20:
            t = self.fifo.when_level(self.fifo.depth - 1)
            if t is not None:
                times.append(t)
        return min(times) if times else None

