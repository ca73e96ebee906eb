"""ST LSM9DS1 (datasheet DocID025715): accelerometer + gyroscope and, at its own address, the magnetometer.

The Arduino Nano 33 BLE Sense (Rev1) carries it on I2C: accelerometer/gyroscope at 6Bh,
magnetometer at 1Eh. Two models, because the chip is two I2C targets:

``lsm9ds1`` (WHO_AM_I 68h): CTRL_REG1_G ODR_G (14.9, 59.5, 119, 238, 476, 952 Hz; the
accelerometer runs at this rate too while the gyroscope is on) and FS_G (245, 500, 2000 dps:
8.75, 17.5, 70 mdps/LSB); CTRL_REG6_XL ODR_XL (10, 50, 119, 238, 476, 952 Hz with the gyroscope
off) and FS_XL (+-2, 16, 4, 8 g: 0.061, 0.732, 0.122, 0.244 mg/LSB); CTRL_REG8 BDU, IF_ADD_INC
(set after reset), H_LACTIVE, SW_RESET; STATUS_REG (17h, and its copy at 27h) XLDA/GDA;
INT1_CTRL / INT2_CTRL data ready, FIFO threshold, overrun, FSS5. FIFO (section 3.5): 32
levels of gyroscope + accelerometer data (accelerometer only when the gyroscope is off),
CTRL_REG9 FIFO_EN / STOP_ON_FTH, FIFO_CTRL FMODE (bypass, FIFO, continuous; the
trigger-driven modes stay in their first mode) and FTH, FIFO_SRC FTH / OVRN / FSS[5:0]. With
the FIFO on, OUT_X_G..OUT_Z_XL show the oldest level and reading OUT_Z_H_XL removes it.

``lsm9ds1_mag`` (WHO_AM_I_M 3Dh): CTRL_REG1_M DO (0.625 .. 80 Hz), CTRL_REG2_M FS (4, 8, 12,
16 gauss: 0.14, 0.29, 0.43, 0.58 mgauss/LSB), CTRL_REG3_M MD (continuous, single conversion,
power-down), CTRL_REG5_M BDU, STATUS_REG_M; I2C sub-address bit 7 selects auto-increment.

Not modelled (non-zero writes reported): interrupt generators, filters, self-test, temperature,
the magnetometer's interrupt and offset registers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from simcore.devices import register_device
from simcore.devices.base import BusDevice, DeviceConfig, DeviceHost, FifoDevice, RateClock, clamp_int, reg8
from simcore.devices.fifo import FifoMode, SampleFifo
from simcore.devices.motion import OutputLatch, Stream
from simcore.registers import Field

if TYPE_CHECKING:
    import numpy as np

WHO_AM_I, WHO_AM_I_M = 0x68, 0x3D
ODR_G_HZ = (0.0, 14.9, 59.5, 119.0, 238.0, 476.0, 952.0)
ODR_XL_HZ = (0.0, 10.0, 50.0, 119.0, 238.0, 476.0, 952.0)
XL_SENSITIVITY_MG = (0.061, 0.732, 0.122, 0.244)
G_SENSITIVITY_MDPS = (8.75, 17.5, 0.0, 70.0)  # FS_G 10 is not available
FIFO_MODES = {0: FifoMode.BYPASS, 1: FifoMode.FIFO, 3: FifoMode.STREAM, 4: FifoMode.BYPASS, 6: FifoMode.STREAM}
M_ODR_HZ = (0.625, 1.25, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0)
M_SENSITIVITY_MGAUSS = (0.14, 0.29, 0.43, 0.58)
OUT_Z_H_XL = 0x2D
FIFO_SRC_ADDR = 0x2F  # FIFO_SRC's address (the register map): read_ahead previews a read of it


class FifoPreview(NamedTuple):
    """The accelerometer FIFO's next reads told ahead (Lsm9ds1.fifo_preview), for a K-tick stretch run in C.

    Sample ``first + j`` is in the FIFO from ``arrivals_fs[j]`` on (the chip's time is the cycle's, so from the
    timeline's first cycle reaching it); ``head`` is the oldest sample held now. With ``popped`` samples drained since,
    a read at a time where ``arrived`` samples (``first`` plus those of ``arrivals_fs`` reached) are in gives FIFO_SRC
    ``src[arrived - head - popped]`` while that level is at most ``depth`` (more: an overrun, which the preview does
    not tell), and a drain of ``n`` gives ``data[6 * popped: 6 * (popped + n)]``."""

    head: int  # the oldest sample the FIFO holds now (``first`` when it is empty)
    first: int  # the first sample not yet in the FIFO (SampleFifo.next_k, caught up to now)
    arrivals_fs: tuple[int, ...]  # the arrival times of samples first, first + 1, ...
    data: bytes  # 6 bytes (OUT_X_L_XL .. OUT_Z_H_XL) of each sample from head to the last of arrivals_fs
    src: bytes  # FIFO_SRC at each level 0 .. depth, no overrun (FSS, FTH)
    depth: int


def _out(latch: str, i: int) -> Any:
    def read(self: Lsm9ds1) -> int:
        return self.out_byte(latch, i)

    return read


@register_device
class Lsm9ds1(FifoDevice):
    """LSM9DS1 accelerometer and gyroscope: output registers, 32-level FIFO, INT1/INT2."""

    FIFO_SRC_REG: ClassVar[int] = FIFO_SRC_ADDR  # the register a driver reads before a drain (fifo_preview's answers)

    TYPE = "lsm9ds1"
    LINES: ClassVar[tuple[str, ...]] = ("INT1", "INT2")
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x6A, 0x6B)
    SPI_MODES: ClassVar[frozenset[int]] = frozenset({0, 3})
    READS_AHEAD: ClassVar[bool] = True  # FIFO_SRC told ahead (read_ahead)
    OPTIONS: ClassVar[dict[str, str]] = {
        "accel_channels": "recording channels of X/Y/Z acceleration (default ['ax', 'ay', 'az'])",
        "gyro_channels": "recording channels of X/Y/Z angular rate (default ['gx', 'gy', 'gz']; zeros if absent)",
    }
    REGISTERS = (
        *(reg8(n, o, implemented=0) for n, o in (
            ("ACT_THS", 0x04), ("ACT_DUR", 0x05), ("INT_GEN_CFG_XL", 0x06), ("INT_GEN_THS_X_XL", 0x07),
            ("INT_GEN_THS_Y_XL", 0x08), ("INT_GEN_THS_Z_XL", 0x09), ("INT_GEN_DUR_XL", 0x0A), ("REFERENCE_G", 0x0B))),
        reg8("INT1_CTRL", 0x0C, fields=(
            Field("INT1_DRDY_XL", 0, on_write="_routing"), Field("INT1_DRDY_G", 1, on_write="_routing"),
            Field("INT1_BOOT", 2, implemented=False), Field("INT1_FTH", 3, on_write="_routing"),
            Field("INT1_OVR", 4, on_write="_routing"), Field("INT1_FSS5", 5, on_write="_routing"),
            Field("INT1_IG_XL", 6, implemented=False), Field("INT1_IG_G", 7, implemented=False))),
        reg8("INT2_CTRL", 0x0D, fields=(
            Field("INT2_DRDY_XL", 0, on_write="_routing"), Field("INT2_DRDY_G", 1, on_write="_routing"),
            Field("INT2_DRDY_TEMP", 2, implemented=False), Field("INT2_FTH", 3, on_write="_routing"),
            Field("INT2_OVR", 4, on_write="_routing"), Field("INT2_FSS5", 5, on_write="_routing"),
            Field("INT2_INACT", 7, implemented=False))),
        reg8("WHO_AM_I", 0x0F, access="r", reset=WHO_AM_I),
        reg8("CTRL_REG1_G", 0x10, fields=(Field("BW_G", 0, 2), Field("FS_G", 3, 2, on_write="_fs_g"),
                                          Field("ODR_G", 5, 3, on_write="_odr_changed"))),
        reg8("CTRL_REG2_G", 0x11, implemented=0),
        reg8("CTRL_REG3_G", 0x12, implemented=0),
        reg8("ORIENT_CFG_G", 0x13, implemented=0),
        reg8("INT_GEN_SRC_G", 0x14, access="r"),
        reg8("OUT_TEMP_L", 0x15, access="r", modelled=False), reg8("OUT_TEMP_H", 0x16, access="r", modelled=False),
        reg8("STATUS_REG", 0x17, access="r"),
        *(reg8(f"OUT_{a}_{h}_G", 0x18 + 2 * i + j, access="r") for i, a in enumerate("XYZ") for j, h in
          enumerate("LH")),
        reg8("CTRL_REG4", 0x1E, reset=0x38, implemented=0x38, doc="gyroscope axis enables stored; 4D/LIR not "
             "modelled"),
        reg8("CTRL_REG5_XL", 0x1F, reset=0x38, implemented=0x38, doc="accelerometer axis enables stored; DEC not "
             "modelled"),
        reg8("CTRL_REG6_XL", 0x20, fields=(Field("BW_XL", 0, 2), Field("BW_SCAL_ODR", 2), Field("FS_XL", 3, 2),
                                           Field("ODR_XL", 5, 3, on_write="_odr_changed"))),
        reg8("CTRL_REG7_XL", 0x21, implemented=0, doc="accelerometer filters: not modelled"),
        reg8("CTRL_REG8", 0x22, reset=0x04, fields=(
            Field("SW_RESET", 0, on_write="_sw_reset"), Field("BLE", 1, implemented=False),
            Field("IF_ADD_INC", 2), Field("SIM", 3), Field("PP_OD", 4), Field("H_LACTIVE", 5, on_write="_routing"),
            Field("BDU", 6), Field("BOOT", 7, on_write="_boot"))),
        reg8("CTRL_REG9", 0x23, fields=(
            Field("STOP_ON_FTH", 0, on_write="_fifo_changed"), Field("FIFO_EN", 1, on_write="_fifo_changed"),
            Field("I2C_DISABLE", 2), Field("DRDY_MASK_BIT", 3, implemented=False),
            Field("FIFO_TEMP_EN", 4, implemented=False), Field("SLEEP_G", 6, implemented=False))),
        reg8("CTRL_REG10", 0x24, implemented=0, doc="self-test: not modelled"),
        reg8("INT_GEN_SRC_XL", 0x26, access="r"),
        reg8("STATUS_REG_27", 0x27, access="r", doc="STATUS_REG's copy at 27h"),
        *(reg8(f"OUT_{a}_{h}_XL", 0x28 + 2 * i + j, access="r") for i, a in enumerate("XYZ") for j, h in
          enumerate("LH")),
        reg8("FIFO_CTRL", 0x2E, fields=(Field("FTH", 0, 5, on_write="_fifo_changed"),
                                        Field("FMODE", 5, 3, on_write="_fifo_changed"))),
        reg8("FIFO_SRC", 0x2F, access="r"),
        *(reg8(n, 0x30 + i, implemented=0) for i, n in enumerate((
            "INT_GEN_CFG_G", "INT_GEN_THS_XH_G", "INT_GEN_THS_XL_G", "INT_GEN_THS_YH_G", "INT_GEN_THS_YL_G",
            "INT_GEN_THS_ZH_G", "INT_GEN_THS_ZL_G", "INT_GEN_DUR_G"))),
    )

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.config = config
        self.accel = Stream(self, "accel", required=True)
        self.gyro = Stream(self, "gyro")
        self.latches = {"XL": OutputLatch(self.accel, self._xl_counts, lambda: self.values["CTRL_REG6_XL"] & 0x18),
                        "G": OutputLatch(self.gyro, self._g_counts, lambda: self.values["CTRL_REG1_G"] & 0x18)}
        self.fifo = SampleFifo(32)
        self._xl_chunk: tuple[tuple[Any, int, int], int, bytes] | None = None  # (stream key, first sample, bytes)
        # FIFO_SRC read in the bus transaction under way / in the last one ended (read_offer: the drain comes next)
        self._src_read = self._after_src = False
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self.reset_sensors({"XL": 0.0, "G": 0.0})
        self._fifo_setup: tuple[Any, ...] | None = None

    # --- scaling and rates ---------------------------------------------------------------------
    def _xl_counts(self, mg: np.ndarray) -> np.ndarray:
        return clamp_int(mg / XL_SENSITIVITY_MG[(self.values["CTRL_REG6_XL"] >> 3) & 3], 16)

    def _g_counts(self, mdps: np.ndarray) -> np.ndarray:
        code = (self.values["CTRL_REG1_G"] >> 3) & 3
        return clamp_int(mdps / (G_SENSITIVITY_MDPS[code] or 70.0), 16)

    def _fs_g(self, old: int, new: int) -> None:
        if new == 2:
            self.guest_error(f"{self.name}.CTRL_REG1_G.FS_G", "FS_G = 10 is not available: 2000 dps used")

    def rates(self) -> dict[str, float]:
        """ODRs now: with the gyroscope on, both run at ODR_G (datasheet 3.1); else the accelerometer at ODR_XL."""
        g = ODR_G_HZ[min(self.values["CTRL_REG1_G"] >> 5, 6)]
        if self.values["CTRL_REG1_G"] >> 5 == 7:
            self.guest_error(f"{self.name}.CTRL_REG1_G.ODR_G", "ODR_G = 111 is not available: power-down")
        if g:
            return {"G": g, "XL": g}
        code = self.values["CTRL_REG6_XL"] >> 5
        return {"G": 0.0, "XL": ODR_XL_HZ[code] if code < len(ODR_XL_HZ) else 0.0}

    def _odr_changed(self, old: int, new: int) -> None:
        self.catch_up()
        for which, odr in self.rates().items():
            self.apply_odr(which, odr, self.accel if which == "XL" else self.gyro, self.latches[which].restart)
        self._fifo_setup = None
        self._fifo_changed(0, 0)

    def _boot(self, old: int, new: int) -> None:
        self.values["CTRL_REG8"] &= ~0x80

    # --- FIFO -------------------------------------------------------------------------------------
    def _fifo_changed(self, old: int, new: int) -> None:
        self.catch_up()
        c9, fc = self.values["CTRL_REG9"], self.values["FIFO_CTRL"]
        code = fc >> 5
        mode = FIFO_MODES.get(code, FifoMode.BYPASS) if c9 & 0x02 else FifoMode.BYPASS
        depth = (fc & 0x1F) + 1 if c9 & 0x01 else 32
        setup = (mode, depth, self._odr["XL"])
        if setup == self._fifo_setup:
            self.update()
            return
        self._fifo_setup = setup
        if c9 & 0x02 and code in (3, 4):
            self.unimplemented(f"{self.name}.FIFO_CTRL.FMODE", f"mode {code:03b} switches on an interrupt trigger, "
                               "which simcore does not model; the FIFO stays in its first mode")
        elif c9 & 0x02 and code not in FIFO_MODES:
            self.guest_error(f"{self.name}.FIFO_CTRL.FMODE", f"mode {code:03b} is reserved: bypass")
        self.fifo.depth = depth
        clock = self.accel.clock
        if mode is FifoMode.BYPASS or clock is None:
            self.fifo.reset(FifoMode.BYPASS, None, 0, None)
        else:
            self.fifo.reset(mode, clock, clock.count_by(self.now()), self.accel.limit())
        self.update()

    def _fifo_reading(self) -> bool:
        return self.fifo.mode is not FifoMode.BYPASS and self.fifo.clock is not None

    def read_FIFO_SRC(self) -> int:
        self._src_read = True
        return self._fifo_src()

    def _fifo_src(self) -> int:
        """FIFO_SRC as a read now gives it (FSS, OVRN, FTH), without noting the read (read_ahead previews it)."""
        self.catch_up()
        level = self.fifo.level if self._fifo_reading() else 0
        fth = self.values["FIFO_CTRL"] & 0x1F
        value = min(level, 63)
        if fth and level >= fth:
            value |= 0x80
        if self._fifo_reading() and self.fifo.overrun:
            value |= 0x40
        return value

    # --- outputs ----------------------------------------------------------------------------------
    def out_byte(self, which: str, i: int) -> int:
        self.catch_up()
        latch = self.latches[which]
        if not self._fifo_reading():
            return latch.byte(i, self.now(), bool(self.values["CTRL_REG8"] & 0x40))
        k = self.fifo.peek()
        if k is None:
            self.stats_.count("fifo_empty_reads")
            return 0
        value = int(latch.sample(k if latch.stream.running else -1)[i // 2])
        if which == "XL" and i == 5:
            self.fifo.pop()
            for other in self.latches.values():
                other.last_read = max(other.last_read, k)
        return (value >> 8) & 0xFF if i % 2 else value & 0xFF

    read_OUT_X_L_G, read_OUT_X_H_G, read_OUT_Y_L_G, read_OUT_Y_H_G, read_OUT_Z_L_G, read_OUT_Z_H_G = (
        _out("G", i) for i in range(6))
    read_OUT_X_L_XL, read_OUT_X_H_XL, read_OUT_Y_L_XL, read_OUT_Y_H_XL, read_OUT_Z_L_XL, read_OUT_Z_H_XL = (
        _out("XL", i) for i in range(6))

    def read_STATUS_REG(self) -> int:
        now = self.now()
        return int(self.latches["XL"].data_ready(now)) | int(self.latches["G"].data_ready(now)) << 1

    def read_STATUS_REG_27(self) -> int:
        return self.read_STATUS_REG()

    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte & 0x7F, bool(self.values["CTRL_REG8"] & 0x04)

    def spi_command(self, byte: int) -> tuple[bool, int, bool]:
        return bool(byte & 0x80), byte & 0x7F, bool(self.values["CTRL_REG8"] & 0x04)

    def next_address(self, addr: int, reading: bool) -> int:
        if reading and addr == OUT_Z_H_XL and self._inc and self._fifo_reading():
            return 0x18 if self.gyro.running else 0x28
        return super().next_address(addr, reading)

    def i2c_read_block(self, n: int) -> bytes:
        """A burst read at one time (BusDevice.i2c_read_block). The FIFO drain of the accelerometer alone (from
        OUT_X_L_XL, IF_ADD_INC, whole samples: the address rolls back from OUT_Z_H_XL, datasheet 3.5) is computed
        at once: the oldest levels popped, their bytes from ``_xl_bytes``. Bytes, FIFO, latches and counters end as
        ``n`` single reads leave them (the lines and wake-up settled once: nothing arrives at one instant).
        The FIFO_SRC read before it (one byte, the Nano 33 BLE Sense's every tick) is read_byte with its register's
        read function called directly (no slot look-up, no generator). Anything else goes byte by byte."""
        if n == 1 and self._ptr == FIFO_SRC_ADDR and self._phase == "read":  # (read_byte, its read_fn in line)
            value = self.read_FIFO_SRC() & 0xFF
            self._ptr = self.next_address(FIFO_SRC_ADDR, True)
            self.update()
            return bytes((value,))
        m, rest = divmod(n, 6)
        if (rest or not m or self._phase != "read" or self._ptr != 0x28 or not self._inc or self._replaying
                or not self._fifo_reading() or self.gyro.running or not self.accel.running):
            return super().i2c_read_block(n)
        self.catch_up()
        latch = self.latches["XL"]
        runs = self.fifo.pop_runs(m)
        got = sum(count for _k0, count in runs)
        out = b"".join(self._xl_bytes(k0, count) for k0, count in runs)
        if runs:
            first, last = runs[0][0], runs[-1][0] + runs[-1][1] - 1
            key = (first, latch.scale_key())
            fresh = got - 1  # samples a single read computes (and counts): all but a first one it has latched
            if latch._cache is None or latch._cache[0] != key:
                fresh += 1
            self.stats_.count("accel_samples_read", fresh)
            import numpy as np

            latch._cache = ((last, key[1]), np.frombuffer(out[-6:], dtype="<i2").astype(np.int64))
            for other in self.latches.values():
                other.last_read = max(other.last_read, last)
        empty = m - got
        if empty:
            self.stats_.count("fifo_empty_reads", 6 * empty)
            out += bytes(6 * empty)
        self.update()
        return out

    def reads_plan_nothing(self) -> bool:
        """BusDevice.reads_plan_nothing: with no interrupt source routed (INT1_CTRL and INT2_CTRL 0, the Nano 33 BLE
        Sense) a read's update() only catches up."""
        return not (self._replaying or self.values["INT1_CTRL"] | self.values["INT2_CTRL"])

    def i2c_stop(self) -> None:
        """BusDevice.i2c_stop; notes whether the transaction read FIFO_SRC (read_offer)."""
        self._after_src, self._src_read = self._src_read, False
        super().i2c_stop()

    def read_offer(self) -> tuple[int, bytes, int] | None:
        """BusDevice.read_offer: right after a transaction that read FIFO_SRC a driver drains the accelerometer's FIFO
        (alone, IF_ADD_INC) from OUT_X_L_XL, as ``i2c_read_block`` computes it: the oldest samples, 6 bytes each, as
        many as the FIFO holds now (a read of fewer takes the first ones)."""
        return self._drain_offer() if self._after_src else None

    def read_ahead(self, n: int) -> tuple[bytes, tuple[int, bytes, int] | None, int] | None:
        """BusDevice.read_ahead: the FIFO_SRC read a driver has started (register byte 2Fh written, one byte to read)
        answers what read_FIFO_SRC gives now, and the drain after it is read_offer's (the FIFO as it is now). Read
        before the next arrival, FIFO_SRC gives the level now, so the drain takes at most these samples: the oldest,
        which later arrivals leave as they are until one overwrites the oldest (stream mode, a full FIFO)."""
        if n != 1 or self._phase != "write" or self._ptr != FIFO_SRC_ADDR or self._replaying:
            return None
        answer = bytes([self._fifo_src()])
        return self._ahead_with_drain(answer)

    def fifo_preview(self, m: int, times: bool = True) -> FifoPreview | None:
        """The FIFO's answers to FIFO_SRC reads and accelerometer drains for the next ``m`` arrivals (fewer where the
        recording ends), as read_FIFO_SRC and i2c_read_block give them, when they depend on nothing but the reads'
        times and how many samples were drained: the accelerometer alone into the FIFO in continuous mode, read as a
        whole with IF_ADD_INC, no interrupt source routed (a read plans nothing: reads_plan_nothing), no overrun now and
        one run of consecutive samples held. None otherwise. What the chip's state is after such reads is not changed
        here: the caller settles them through the model. ``times`` False: no ``arrivals_fs`` (a caller that counts
        them from the FIFO's RateClock, as hotpath.c hp_ks does)."""
        self.catch_up()
        fifo = self.fifo
        st = self.accel
        if (m <= 0 or self._replaying or not self._fifo_reading() or fifo.mode is not FifoMode.STREAM or fifo.overrun
                or fifo.stopped or self.gyro.running or not st.running or not self.values["CTRL_REG8"] & 0x04
                or not self.reads_plan_nothing() or len(fifo.runs) > 1 or fifo.clock is None):
            return None
        first = fifo.next_k
        if fifo.limit is not None:
            m = min(m, fifo.limit - first)
        head = fifo.runs[0][0] if fifo.runs else first
        if m <= 0 or head + fifo.level != first:
            return None
        clock = fifo.clock
        if not times:
            arrivals: tuple[int, ...] = ()
        elif isinstance(clock, RateClock):  # (RateClock.arrival for each, its terms read once)
            den_fs, num = clock._den_fs, clock._num
            arrivals = tuple((k + 1) * den_fs // num for k in range(first, first + m))
        else:
            arrivals = tuple(clock.arrival(first + j) for j in range(m))
        fth = self.values["FIFO_CTRL"] & 0x1F
        src = bytes(min(n, 63) | (0x80 if fth and n >= fth else 0) for n in range(fifo.depth + 1))
        return FifoPreview(head, first, arrivals, self._xl_bytes(head, first + m - head), src, fifo.depth)

    def _drain_offer(self) -> tuple[int, bytes, int] | None:
        """read_offer's drain, from the FIFO as it is now."""
        self.catch_up()
        if (self._replaying or not self._fifo_reading() or self.gyro.running or not self.accel.running
                or not self.values["CTRL_REG8"] & 0x04 or not self.fifo.level):
            return None
        out = b""
        left = self.fifo.level
        for k0, count in self.fifo.runs:
            take = min(count, left)
            out += self._xl_bytes(k0, take)
            left -= take
            if not left:
                break
        return (0x28, out, 6) if not left else None

    XL_CHUNK = 256  # samples converted at a time for bursts

    def _xl_bytes(self, k: int, n: int) -> bytes:
        """Accelerometer samples ``k .. k+n-1`` as OUT_X_L_XL..OUT_Z_H_XL give them (``OutputLatch.sample``'s
        values), from chunks of the recording converted at once and kept while the stream, its start and FS_XL
        stay."""
        st = self.accel
        key = (st.clock, st.first, self.values["CTRL_REG6_XL"] & 0x18)
        c = self._xl_chunk
        if c is None or c[0][0] is not key[0] or c[0][1:] != key[1:] or not c[1] <= k or k + n > c[1] + len(c[2]) // 6:
            size = max(n, self.XL_CHUNK)
            c = self._xl_chunk = (key, k, self._xl_counts(st.values(k, k + size)).astype("<i2").tobytes())
        at = 6 * (k - c[1])
        return c[2][at: at + 6 * n]

    # --- interrupts -------------------------------------------------------------------------------
    def _int_sources(self, ctrl: int) -> bool:
        if not ctrl:
            return False
        status = self.read_STATUS_REG()
        if ctrl & 0x01 and status & 1 or ctrl & 0x02 and status & 2:
            return True
        if ctrl & 0x38 and self._fifo_reading():
            src = self.read_FIFO_SRC()
            full = self.fifo.level >= self.fifo.depth
            if ctrl & 0x08 and src & 0x80 or ctrl & 0x10 and src & 0x40 or ctrl & 0x20 and full:
                return True
        return False

    def update(self) -> None:
        """BusDevice.update; with no interrupt source routed (INT1_CTRL and INT2_CTRL 0, as on the Nano 33 BLE Sense,
        whose board wires neither pin) both lines sit at their inactive level and nothing is planned (what
        ``line_levels`` and ``next_wakeup`` give then), so only the catch-up is computed."""
        if self._replaying or self.values["INT1_CTRL"] | self.values["INT2_CTRL"]:
            super().update()
            return
        self.catch_up()
        inactive = bool(self.values["CTRL_REG8"] & 0x20)  # H_LACTIVE: active low, so idle high
        self.lines["INT1"].set(inactive)
        self.lines["INT2"].set(inactive)
        if self._wake is not None:
            self.host.cancel(self._wake)
            self._wake = None

    def line_levels(self) -> dict[str, bool]:
        low = bool(self.values["CTRL_REG8"] & 0x20)
        return {"INT1": self._int_sources(self.values["INT1_CTRL"]) != low,
                "INT2": self._int_sources(self.values["INT2_CTRL"]) != low}

    def next_wakeup(self) -> int | None:
        now = self.now()
        routed = self.values["INT1_CTRL"] | self.values["INT2_CTRL"]
        times = self.data_ready_times(now, [w for bit, w in ((0x01, "XL"), (0x02, "G")) if routed & bit])
        fth = self.values["FIFO_CTRL"] & 0x1F
        for bit, t in ((0x08, self.fifo.when_level(fth) if fth else None), (0x10, self.fifo.when_overrun()),
                       (0x20, self.fifo.when_level(self.fifo.depth))):
            if routed & bit and t is not None:
                times.append(t)
        return min(times) if times else None



def _mout(i: int) -> Any:
    def read(self: Lsm9ds1Mag) -> int:
        return self.latch.byte(i, self.now(), bool(self.values["CTRL_REG5_M"] & 0x40))

    return read


@register_device
class Lsm9ds1Mag(BusDevice):
    """LSM9DS1 magnetometer: its own I2C target (1Ch/1Eh), output registers and data ready."""

    TYPE = "lsm9ds1_mag"
    LINES: ClassVar[tuple[str, ...]] = ("DRDY_M",)
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x1C, 0x1E)
    SPI_MODES: ClassVar[frozenset[int]] = frozenset({0, 3})
    OPTIONS: ClassVar[dict[str, str]] = {
        "mag_channels": "recording channels of X/Y/Z magnetic field (default ['mx', 'my', 'mz'])"}
    REGISTERS = (
        *(reg8(f"OFFSET_{a}_REG_{h}_M", 0x05 + 2 * i + j, implemented=0) for i, a in enumerate("XYZ") for j, h in
          enumerate("LH")),
        reg8("WHO_AM_I_M", 0x0F, access="r", reset=WHO_AM_I_M),
        reg8("CTRL_REG1_M", 0x20, reset=0x10, fields=(
            Field("ST", 0, implemented=False), Field("FAST_ODR", 1, implemented=False),
            Field("DO", 2, 3, on_write="_changed"), Field("OM", 5, 2), Field("TEMP_COMP", 7))),
        reg8("CTRL_REG2_M", 0x21, fields=(Field("SOFT_RST", 2, on_write="_soft_reset"),
                                          Field("REBOOT", 3, on_write="_reboot"), Field("FS", 5, 2))),
        reg8("CTRL_REG3_M", 0x22, reset=0x03, fields=(
            Field("MD", 0, 2, on_write="_changed"), Field("SIM", 2), Field("LP", 5), Field("I2C_DISABLE", 7))),
        reg8("CTRL_REG4_M", 0x23, fields=(Field("BLE", 1, implemented=False), Field("OMZ", 2, 2))),
        reg8("CTRL_REG5_M", 0x24, fields=(Field("BDU", 6), Field("FAST_READ", 7, implemented=False))),
        reg8("STATUS_REG_M", 0x27, access="r"),
        *(reg8(f"OUT_{a}_{h}_M", 0x28 + 2 * i + j, access="r") for i, a in enumerate("XYZ") for j, h in
          enumerate("LH")),
        reg8("INT_CFG_M", 0x30, reset=0x08, implemented=0x08, doc="interrupt generator: not modelled"),
        reg8("INT_SRC_M", 0x31, access="r"),
        reg8("INT_THS_L_M", 0x32, implemented=0), reg8("INT_THS_H_M", 0x33, implemented=0),
    )

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.config = config
        self.mag = Stream(self, "mag", required=True)
        self.latch = OutputLatch(self.mag, self._counts, lambda: self.values["CTRL_REG2_M"] & 0x60)
        super().__init__(config, host)

    def check_recording(self) -> None:
        assert self.source is not None
        self.mag.bind(self.source)

    def reset(self) -> None:
        super().reset()
        self.stop_events()
        self.mag.stop()
        self._odr = 0.0
        self._single_end: int | None = None

    def _counts(self, mgauss: np.ndarray) -> np.ndarray:
        return clamp_int(mgauss / M_SENSITIVITY_MGAUSS[(self.values["CTRL_REG2_M"] >> 5) & 3], 16)

    def _changed(self, old: int, new: int) -> None:
        md = self.values["CTRL_REG3_M"] & 3
        odr = M_ODR_HZ[(self.values["CTRL_REG1_M"] >> 2) & 7] if md in (0, 1) else 0.0
        if odr != self._odr or md == 1:
            self._odr = odr
            if odr:
                self.require_source()
                self.mag.start(odr, self.now())
                self.latch.restart()
            elif self._single_end is None:
                self.mag.stop()
        if md == 1:  # single conversion: one sample, then power-down (MD reads 11 again)
            assert self.mag.clock is not None
            self.mag.cap = self.mag.first
            self._single_end = self.mag.clock.arrival(self.mag.first)
        self.update()

    def catch_up(self) -> None:
        if self._single_end is not None and self.now() >= self._single_end:
            self._single_end = None
            self.values["CTRL_REG3_M"] |= 0x03
            self._odr = 0.0

    def _reboot(self, old: int, new: int) -> None:
        self.values["CTRL_REG2_M"] &= ~0x08

    def read_STATUS_REG_M(self) -> int:
        now = self.now()
        value = 0x0F if self.latch.data_ready(now) else 0
        return value | (0xF0 if self.latch.overrun(now) else 0)

    read_OUT_X_L_M, read_OUT_X_H_M, read_OUT_Y_L_M, read_OUT_Y_H_M, read_OUT_Z_L_M, read_OUT_Z_H_M = (
        _mout(i) for i in range(6))

    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte & 0x7F, bool(byte & 0x80)

    def spi_command(self, byte: int) -> tuple[bool, int, bool]:
        return bool(byte & 0x80), byte & 0x3F, bool(byte & 0x40)

    def line_levels(self) -> dict[str, bool]:
        return {"DRDY_M": self.latch.data_ready(self.now())}

    def next_wakeup(self) -> int | None:
        now = self.now()
        if self._single_end is not None:
            return self._single_end
        if self.latch.data_ready(now):
            return None
        return self.latch.next_sample_at(now)
