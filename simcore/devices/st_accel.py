"""What ST's three-axis accelerometers share (LIS3DH, LIS3DSH): output registers, STATUS, a 32-level FIFO.

Both chips put X, Y, Z at OUT_X_L (28h) .. OUT_Z_H (2Dh) as 16-bit two's complement, little
endian, report new data and overwritten data per axis in STATUS (27h) and keep a 32-level
FIFO (FIFO control at 2Eh, FIFO source at 2Fh). The subclass says where its configuration
lives (output data rate, full scale, FIFO mode, interrupt routing) and how a sample becomes
counts; this class does the sampling on virtual time, the FIFO, block data update and the
INT1 line.

Reading the output registers: without the FIFO (or in bypass) they show the newest sample
(with BDU, an axis keeps the sample latched by reading its low byte until its high byte is
read); with the FIFO on they show the oldest sample in it, and reading OUT_Z_H removes it. In
FIFO mode a multiple-byte read wraps from OUT_Z_H back to OUT_X_L, so a burst of 6 x N bytes
reads N samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from simcore.devices.base import DeviceConfig, DeviceHost, FifoDevice, le16
from simcore.devices.fifo import FifoMode, SampleFifo
from simcore.devices.motion import Stream

OUT_X_L, OUT_Z_H = 0x28, 0x2D
FIFO_DEPTH = 32


def _out(i: int) -> Any:
    def read(self: StAccel) -> int:
        return self.out_byte(i)

    read.__name__ = f"read_out{i}"
    return read


if TYPE_CHECKING:
    import numpy as np
    _Base = FifoDevice
else:
    _Base = object  # a mixin: the register table is compiled for each chip's class, not for this one


class StAccel(_Base):
    """Sampling, FIFO, output registers and interrupt logic of an ST accelerometer.

    A mixin before :class:`~simcore.devices.base.FifoDevice`: ``class Lis3dh(StAccel, FifoDevice)`` with the
    chip's registers.
    """

    LINES: ClassVar[tuple[str, ...]] = ("INT1", "INT2")
    SPI_MODES: ClassVar[frozenset[int]] = frozenset({0, 3})  # data latched on SPC rising edges
    OPTIONS: ClassVar[dict[str, str]] = {"accel_channels": "recording channels of X/Y/Z acceleration "
                                         "(default ['ax', 'ay', 'az'])"}

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.config = config
        self.accel = Stream(self, "accel", required=True)
        self.fifo = SampleFifo(FIFO_DEPTH)
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self._odr = 0.0
        self._fifo_on = False
        self._last_read = [-1, -1, -1]  # per axis: the newest sample whose high byte was read
        self._latched: list[int | None] = [None, None, None]  # BDU
        self._cache: tuple[tuple[int, int], np.ndarray] | None = None
        self._cache_ahead: tuple[int, int] | None = None  # the cache's sample came from a preview, not counted yet
        self.fifo.reset(FifoMode.BYPASS, None, 0, None)
        self.accel.stop()
        self.stop_events()

    def check_recording(self) -> None:
        assert self.source is not None
        self.accel.bind(self.source)

    def sensor_streams(self) -> list[Any]:
        """The accelerometer (FifoDevice.quiet_until: a preview holds until its next sample)."""
        return [self.accel]

    # --- what the subclass provides ------------------------------------------------------
    def odr_hz(self) -> float:
        """The output data rate the registers select (0: power-down)."""
        raise NotImplementedError

    def counts(self, mg: np.ndarray) -> np.ndarray:
        """Register values (16-bit, as read) for accelerations in mg at the configured scale."""
        raise NotImplementedError

    def fifo_config(self) -> tuple[bool, FifoMode, int]:
        """(FIFO enabled, its mode, watermark level)."""
        raise NotImplementedError

    def bdu(self) -> bool:
        return False

    def scale_key(self) -> int:
        """The register bits that decide how a sample becomes counts (a change invalidates cached counts)."""
        return 0

    def int1_routes(self) -> tuple[bool, bool, bool]:
        """INT1 routing: (data ready, FIFO watermark, FIFO overrun)."""
        raise NotImplementedError

    def int_active_low(self) -> bool:
        return False

    # --- configuration changes -----------------------------------------------------------
    def reconfigure(self) -> None:
        """ODR or FIFO settings changed: restart sampling and/or the FIFO as the chip does."""
        self.catch_up()
        odr = self.odr_hz()
        if odr != self._odr:
            self._odr = odr
            self._cache = None
            if odr:
                self.require_source()
                self.accel.start(odr, self.now())
                self._last_read = [self.accel.first - 1] * 3
            else:
                self.accel.stop()
            self._restart_fifo()
        fifo_on, mode, _ = self.fifo_config()
        active = fifo_on and mode is not FifoMode.BYPASS
        if active != self._fifo_on or (active and mode is not self.fifo.mode):
            self._fifo_on = active
            self._restart_fifo()
        self.update()

    def _restart_fifo(self) -> None:
        fifo_on, mode, _ = self.fifo_config()
        stream = self.accel
        if not (fifo_on and self._odr and stream.clock is not None):
            self.fifo.reset(FifoMode.BYPASS, None, 0, None)
            return
        first = stream.clock.count_by(self.now())
        self.fifo.reset(mode, stream.clock, first, stream.limit())

    # --- sampling ------------------------------------------------------------------------
    def latest(self) -> int:
        return self.accel.latest(self.now()) if self.accel.running else -1

    def sample_counts(self, k: int) -> np.ndarray:
        """The three 16-bit register values of sample ``k`` (cached: a burst reads one sample six times)."""
        import numpy as np

        key = (k, self.scale_key())
        if self._cache is not None and self._cache[0] == key:
            if self._cache_ahead == key:  # computed by a preview: counted at its first read, as without one
                self._cache_ahead = None
                self.stats_.count("samples_read")
            return self._cache[1]
        values = self.counts(self.accel.values(k, k + 1)[0]) if k >= 0 else np.zeros(3, dtype=np.int64)
        self._cache = (key, values)
        self._cache_ahead = None
        self.stats_.count("samples_read")
        return values

    # --- output registers ------------------------------------------------------------------
    def _fifo_reading(self) -> bool:
        return self._fifo_on and self.fifo.mode is not FifoMode.BYPASS

    def out_byte(self, i: int) -> int:
        """Byte ``i`` (0 = OUT_X_L .. 5 = OUT_Z_H) of the sample the output registers show now."""
        axis, high = divmod(i, 2)[0], bool(i % 2)
        self.catch_up()
        if self._fifo_reading():
            k = self.fifo.peek()
            if k is None:
                self.stats_.count("fifo_empty_reads")
                return 0
            value = int(self.sample_counts(k)[axis])
            if i == 5:
                self.fifo.pop()
                self._last_read = [max(self._last_read[a], k) for a in range(3)]
            return le16(value, high)
        k = self.latest()
        if self.bdu():
            if self._latched[axis] is None:
                self._latched[axis] = k
            k = self._latched[axis]  # type: ignore[assignment]
            if high:
                self._latched[axis] = None
        if high:
            self._last_read[axis] = max(self._last_read[axis], k)
        return le16(int(self.sample_counts(k)[axis]), high)

    read_OUT_X_L, read_OUT_X_H, read_OUT_Y_L, read_OUT_Y_H, read_OUT_Z_L, read_OUT_Z_H = (_out(i) for i in range(6))

    def next_address(self, addr: int, reading: bool) -> int:
        if reading and addr == OUT_Z_H and self._inc and self._fifo_reading():
            return OUT_X_L
        return super().next_address(addr, reading)

    PREVIEW_PURE: ClassVar[tuple[str, ...]] = ("WHO_AM_I", "STATUS", "FIFO_SRC")  # reads without side effects

    def preview_reads(self, addr: int, inc: bool, limit: int) -> list[int]:
        """A read's next bytes (BusDevice.preview_reads): the registers in ``PREVIEW_PURE`` until an output register
        was read, and in FIFO mode the output registers (the FIFO's samples in order, a sample leaving at OUT_Z_H,
        the address rolling back to OUT_X_L; zeros once it is empty), as ``out_byte`` will return them. The samples'
        counts are computed here apart from ``sample_counts`` (whose cache and count the reads themselves keep)."""
        self.catch_up()
        out: list[int] = []
        fifo = self._fifo_reading()
        samples = [k0 + i for k0, n in self.fifo.runs for i in range(n)] if fifo else []
        pos = 0
        popped = False
        counts: Any = None
        saved_inc = self._inc
        self._inc = inc
        try:
            while len(out) < limit:
                slot = self._table.decode.get(addr)
                if slot is None:
                    break
                if OUT_X_L <= addr <= OUT_Z_H:
                    if not fifo:
                        break
                    i = addr - OUT_X_L
                    popped = True
                    if pos >= len(samples):
                        out.append(0)
                    else:
                        if counts is None or counts[0] != samples[pos]:
                            counts = (samples[pos], self._preview_counts(samples[pos]))
                        out.append(le16(int(counts[1][i // 2]), bool(i % 2)))
                        if i == 5:
                            pos += 1
                elif slot.key in self.PREVIEW_PURE and not popped:
                    out.append(self.read(addr, 1) & 0xFF)
                else:
                    break
                addr = self.next_address(addr, True)
        finally:
            self._inc = saved_inc
        return out

    def lines_fall_only(self) -> bool:
        """Reading the FIFO can only lower INT1 (active high; routed: data ready, watermark, overrun)."""
        return not self.int_active_low()

    def spi_preview_repeat(self, mosi: int, mode: int, m: int, limit: int) -> list[int]:
        """Transfers that each read whole samples from the FIFO (OUT_X_L with auto-increment, ``m`` - 1 a multiple of
        six): their bytes are the FIFO's samples in order (BusDevice.spi_preview_repeat), as many transfers as the
        FIFO holds samples for; the counts are kept for ``spi_commit_repeat``."""
        if (self._phase != "cmd" or mode not in self.SPI_MODES or self.SPI_DUMMY_BYTE or m < 7 or (m - 1) % 6
                or not self.lines_fall_only()):
            return []
        read, addr, inc = self.spi_command(mosi)
        if not (read and addr == OUT_X_L and inc and self._fifo_reading()):
            return []
        import numpy as np

        self.catch_up()
        per = (m - 1) // 6
        reps = min(self.fifo.level // per, limit)
        if reps < 2:
            return []
        need = reps * per
        parts, first = [], self.fifo.peek()
        for k0, n in self.fifo.runs:
            take = min(n, need)
            parts.append(self.counts(self.accel.values(k0, k0 + take)))
            need -= take
            if not need:
                break
        counts = np.concatenate(parts)
        self._script = (first, counts)
        data = counts.astype("<i2").tobytes()
        out: list[int] = []
        for j in range(reps):
            out.append(0x00)
            out.extend(data[6 * per * j:6 * per * (j + 1)])
        return out

    def spi_commit_repeat(self, mosi: int, mode: int, m: int, count: int) -> None:
        """``count`` of the transfers ``spi_preview_repeat`` told: their samples leave the FIFO, counted once each in
        ``samples_read`` (not the one the cache had counted already), the cache and the bus framing as the reads
        leave them, the lines and the wake-up once."""
        if count <= 0:
            return
        self.catch_up()
        per = (m - 1) // 6
        n = count * per
        _first, counts = self._script
        scale = self.scale_key()
        cache = self._cache
        k0 = self.fifo.peek()
        counted = cache is not None and cache[0] == (k0, scale) and self._cache_ahead != cache[0]
        last = k0
        fifo = self.fifo
        for _ in range(n):
            last = fifo.pop()
        assert last is not None
        self.stats_.count("samples_read", n - (1 if counted else 0))
        self._last_read = [max(v, last) for v in self._last_read]
        self._cache = ((last, scale), counts[n - 1])
        self._cache_ahead = None
        self._phase = "idle"
        self._ptr = OUT_X_L
        self._inc = True
        self.update()

    def _preview_counts(self, k: int) -> Any:
        """Sample ``k``'s counts for a preview: into the cache, counted in ``samples_read`` only when a read uses it."""
        key = (k, self.scale_key())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        values = self.counts(self.accel.values(k, k + 1)[0])
        self._cache = (key, values)
        self._cache_ahead = key
        return values

    # --- flags -----------------------------------------------------------------------------
    def status(self) -> int:
        """STATUS (27h): ZYXOR ZOR YOR XOR ZYXDA ZDA YDA XDA."""
        k = self.latest()
        if k < 0 or self._odr == 0:
            return 0
        da = [k > last for last in self._last_read]
        over = [k - last >= 2 for last in self._last_read]
        value = sum(1 << a for a in range(3) if da[a]) | sum(1 << (4 + a) for a in range(3) if over[a])
        if any(da):
            value |= 0x08
        if any(over):
            value |= 0x80
        return value

    def fifo_src(self) -> int:
        """FIFO_SRC (2Fh): WTM, OVRN_FIFO, EMPTY, FSS[4:0] (the 5-bit count saturates at 31)."""
        self.catch_up()
        level = self.fifo.level if self._fifo_reading() else 0
        _, _, wtm = self.fifo_config()
        value = min(level, 31)
        if wtm and level >= wtm:
            value |= 0x80
        if self._fifo_reading() and self.fifo.overrun:
            value |= 0x40
        if level == 0:
            value |= 0x20
        return value

    def int1_active(self) -> bool:
        drdy, wtm, ovr = self.int1_routes()
        if drdy and self.status() & 0x08:
            return True
        src = self.fifo_src() if (wtm or ovr) else 0
        return bool((wtm and src & 0x80) or (ovr and src & 0x40))

    def line_levels(self) -> dict[str, bool]:
        low = self.int_active_low()
        return {"INT1": self.int1_active() != low, "INT2": low}

    def next_wakeup(self) -> int | None:
        if not self._odr or self.accel.clock is None:
            return None
        drdy, wtm, ovr = self.int1_routes()
        times = []
        if drdy and not self.status() & 0x08:
            k = self.latest() + 1
            limit = self.accel.limit()
            if limit is None or k < limit:
                times.append(self.accel.clock.arrival(k))
        if self._fifo_reading():
            _, _, level = self.fifo_config()
            if wtm and level:
                t = self.fifo.when_level(level)
                if t is not None:
                    times.append(t)
            if ovr:
                t = self.fifo.when_overrun()
                if t is not None:
                    times.append(t)
        return min(times) if times else None

