"""simcore's IMU: 3-axis accelerometer + 3-axis gyroscope with data-ready, a frame FIFO and a watermark.

Samples arrive at the output data rate (ODR register) on the virtual clock; the recording's
rate must equal the ODR unless resampling is asked for. Values are scaled from g and degrees
per second to int16 counts by the configured full-scale range: ``counts = round(value / range
* 32768)``, saturated. The FIFO holds whole frames (AX AY AZ GX GY GZ) and is filled lazily;
events are scheduled only for the watermark, an overflow, or data-ready when its interrupt
is enabled (one event per sample then, which at IMU rates is cheap).

FIFO_DATA in C: after each FIFO_DATA or FIFO_LEVEL read it serves, the model hands the words that the
following reads will return (the rest of the frame being read and every frame in the FIFO) to
the register file's queue (QUEUE, docs/peripheral-bus.md), valid until the next sample arrives;
it is told at the read that takes the level below the watermark (the WM flag and the interrupt
line fall there) and at the last word, and takes the count of words served at its next access
or event. Counts, timing, overruns and interrupts are those of the model's own reads.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from simcore.board import Peripheral
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.sensors.common import SampleClock, SensorModel, StreamFifo, WatermarkService
from simcore.regfile import NO_DEADLINE
from simcore.registers import Field, Register

if TYPE_CHECKING:
    import numpy as np

ACCEL_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (125, 250, 500, 1000, 2000)
_TO_G = {"g": 1.0, "m/s2": 1 / 9.80665, "m/s^2": 1 / 9.80665, "mg": 1e-3}
_TO_DPS = {"dps": 1.0, "deg/s": 1.0, "rad/s": 180.0 / math.pi, "": 1.0}
AXES = ("AX", "AY", "AZ", "GX", "GY", "GZ")
_WORDS_BLOCK = 256  # frames of FIFO words computed at a time for the register file's queue


def _s32(v: int) -> int:
    return v & 0xFFFFFFFF


@register_model
class SimcoreImu(SensorModel):
    """Accelerometer/gyroscope with output registers, data-ready, FIFO with watermark and overrun."""

    TYPE = "simcore_imu"
    SIZE = 0x100
    ID_VALUE = 0x494D5531  # "IMU1"
    REGISTERS = (
        Register("CTRL", 0x00, implemented=0x3, doc="EN starts sampling at ODR; FIFO_EN fills the FIFO", fields=(
            Field("EN", 0),
            Field("FIFO_EN", 1),
        )),
        Register("STATUS", 0x04, implemented=0xF, doc="DRDY, WM computed; OVR, END write 1 to clear", fields=(
            Field("DRDY", 0, doc="a sample newer than the last OUT_* read"),
            Field("WM", 1, doc="FIFO_LEVEL >= FIFO_WM"),
            Field("OVR", 2, doc="FIFO overflowed (frames lost)"),
            Field("END", 3, doc="the recording ended (end rule stop)"),
        )),
        Register("INTEN", 0x08, implemented=0xF, doc="interrupt enables, same bits as STATUS", fields=(
            Field("DRDY", 0),
            Field("WM", 1),
            Field("OVR", 2),
            Field("END", 3),
        )),
        Register("ODR", 0x0C, reset=100, doc="output data rate in Hz (latched at enable)"),
        Register("ACCEL_RANGE", 0x10, implemented=0x3, doc="0: +-2 g, 1: +-4 g, 2: +-8 g, 3: +-16 g", fields=(
            Field("FS", 0, 2, doc="0: 2 g, 1: 4 g, 2: 8 g, 3: 16 g"),
        )),
        Register("GYRO_RANGE", 0x14, implemented=0x7, doc="0: 125, 1: 250, 2: 500, 3: 1000, 4: 2000 dps", fields=(
            Field("FS", 0, 3, doc="0: 125, 1: 250, 2: 500, 3: 1000, 4: 2000 dps"),
        )),
        Register("OUT_AX", 0x18, access="r", doc="latest sample, int16 counts sign-extended"),
        Register("OUT_AY", 0x1C, access="r"),
        Register("OUT_AZ", 0x20, access="r"),
        Register("OUT_GX", 0x24, access="r"),
        Register("OUT_GY", 0x28, access="r"),
        Register("OUT_GZ", 0x2C, access="r"),
        Register("FIFO_DATA", 0x30, access="r", doc="pops the next word: AX AY AZ GX GY GZ of each frame"),
        Register("FIFO_LEVEL", 0x34, access="r", doc="whole frames in the FIFO"),
        Register("FIFO_WM", 0x38, reset=16, doc="watermark in frames"),
        Register("OVERRUN_COUNT", 0x3C, access="r"),
        Register("FIFO_DEPTH", 0x40, access="r", doc="FIFO capacity in frames"),
        Register("SAMPLE_COUNT", 0x44, access="r", doc="samples taken since enable"),
        Register("ID", 0x4C, access="r", reset=ID_VALUE, doc="reads 'IMU1'"),
    )
    OPTIONS = {
        "fifo_depth": "FIFO capacity in frames (default 32)",
        "accel_channels": "recording channels for X/Y/Z acceleration (default ['ax', 'ay', 'az'])",
        "gyro_channels": "recording channels for X/Y/Z angular rate (default ['gx', 'gy', 'gz']; zeros if absent)",
    }
    EN, FIFO_EN = 1, 2
    DRDY, WM, OVR, END = 1, 2, 4, 8

    def __init__(self, config: Peripheral, host: Host) -> None:
        self.fifo = StreamFifo(int(config.options.get("fifo_depth", 32)))
        self.wm_service = WatermarkService()
        self.clock: SampleClock | None = None
        self._qi: int | None = None  # the register file's queue for FIFO_DATA (None: not asked for yet)
        self._q_tried = False
        self._q: list[int] | None = None  # the words handed to it at the last hand-over
        self._q_partial = 0  # how many of them were the rest of a frame already popped
        self._w_cache: dict[int, list[int]] = {}  # block of frames -> its FIFO_DATA words (_frame_words)
        self._w_key: tuple[int, int] | None = None
        self._level_offset = next(r.offset for r in self.REGISTERS if r.name == "FIFO_LEVEL")
        super().__init__(config, host)

    def reset(self) -> None:
        self._q_sync()
        super().reset()
        self.values["FIFO_DEPTH"] = self.fifo.depth
        self.cancel_all_events()
        self._flags = 0
        self._running = False
        self._first = 0
        self._last_read = -1
        self._partial: list[int] = []
        self._overruns = 0
        self._map: tuple[list[int], list[int | None], float, float] | None = None
        self.fifo.restart(0, None)

    # --- recording -> counts -------------------------------------------------------------
    def _mapping(self) -> tuple[list[int], list[int | None], float, float]:
        binding = self.require_source()
        src = binding.source
        lower = [c.lower() for c in src.channels]
        acc_names = [str(c).lower() for c in self.option("accel_channels", ["ax", "ay", "az"])]
        gyr_names = [str(c).lower() for c in self.option("gyro_channels", ["gx", "gy", "gz"])]
        missing = [c for c in acc_names if c not in lower]
        if missing:
            raise BadInputError(
                f"peripheral {self.name} ({self.TYPE}): the recording {src.path} has no acceleration channel(s) "
                f"{', '.join(missing)} (it has {', '.join(src.channels)}); name them with option accel_channels"
            )
        acc = [lower.index(c) for c in acc_names]
        gyr: list[int | None] = [lower.index(c) if c in lower else None for c in gyr_names]
        if any(g is None for g in gyr):
            self.stats_.count("gyro_channels_missing")
        au, gu = src.units[acc[0]], next((src.units[g] for g in gyr if g is not None), "dps")
        if au not in _TO_G or gu not in _TO_DPS:
            raise BadInputError(
                f"peripheral {self.name}: recording units {au!r}/{gu!r} are not acceleration (g, m/s2) and "
                "angular rate (dps, rad/s)"
            )
        return acc, gyr, _TO_G[au], _TO_DPS[gu]

    def counts(self, k0: int, k1: int) -> np.ndarray:
        """int16 counts (n, 6) for samples k0..k1-1 at the current ranges."""
        import numpy as np

        binding = self.require_source()
        if self._map is None:
            self._map = self._mapping()
        acc, gyr, to_g, to_dps = self._map
        values = binding.fetch(k0, k1).astype(np.float64)
        out = np.zeros((len(values), 6), dtype=np.float64)
        out[:, :3] = values[:, acc] * to_g / ACCEL_RANGES_G[min(self.values["ACCEL_RANGE"], 3)]
        for j, g in enumerate(gyr):
            if g is not None:
                out[:, 3 + j] = values[:, g] * to_dps / GYRO_RANGES_DPS[min(self.values["GYRO_RANGE"], 4)]
        return np.clip(np.rint(out * 32768.0), -32768, 32767).astype(np.int16)

    # --- control -------------------------------------------------------------------------
    def write_CTRL(self, value: int) -> None:
        was = self.values["CTRL"]
        self.values["CTRL"] = value
        if value & self.EN and not was & self.EN:
            self._start()
        elif was & self.EN and not value & self.EN:
            self._catch_up()
            self._running = False
            self.cancel_all_events()
            self.update_irq()

    def _start(self) -> None:
        binding = self.require_source()
        odr = self.values["ODR"]
        if odr == 0:
            raise BadInputError(f"peripheral {self.name}: enabled with ODR = 0 Hz")
        binding.prepare(float(odr), "output data rate")
        self._map = self._mapping()
        self.clock = SampleClock(float(odr), self.host.cycles_per_second())
        self._w_key = None  # the recording may be resampled to the new rate
        self._first = self.clock.count_by(self.now())
        binding.start(self._first)
        self._last_read = self._first - 1
        self._running = True
        self.fifo.restart(self._first, binding.limit())
        self._partial = []
        self._plan()
        self.update_irq()

    def _latest(self) -> int:
        """Index of the newest complete sample, or first-1 if none yet."""
        if self.clock is None or not self._running:
            return self._last_read
        k = self.clock.count_by(self.now()) - 1
        limit = self.binding.limit() if self.binding else None
        if limit is not None and k >= limit - 1:
            k = limit - 1
            self._mark_end()
        return k

    def _mark_end(self) -> None:
        if not self._flags & self.END:
            self._flags |= self.END
            self.stats_.record("end_of_data", self.now())

    def _catch_up(self) -> None:
        if self.clock is None or not self._running or not self.values["CTRL"] & self.FIFO_EN:
            return
        dropped, first, episode = self.fifo.catch_up(self.clock, self.now())
        self.stats_.count("frames_lost", dropped)
        if episode:
            self._overruns += 1
            self._flags |= self.OVR
            self.stats_.record("overruns", first, what="fifo full")

    def _plan(self) -> None:
        """Schedule the next moment the IRQ line may rise: data-ready, watermark, overflow or end."""
        if self.clock is None or not self._running:
            return
        inten = self.values["INTEN"]
        times: list[int] = []
        limit = self.binding.limit() if self.binding else None
        if inten & self.DRDY:
            nxt = self.clock.count_by(self.now())
            if limit is None or nxt < limit:
                times.append(self.clock.arrival(nxt))
        if self.values["CTRL"] & self.FIFO_EN:
            wm = self.fifo.cycle_when_level(self.clock, max(1, self.values["FIFO_WM"])) if inten & self.WM else None
            for t in (wm, self.fifo.cycle_of_overflow(self.clock)):
                if t is not None:
                    times.append(t)
        if limit is not None and not self._flags & self.END:
            times.append(self.clock.arrival(max(limit - 1, 0)))
        if times:
            self.at(min(times), "sample", self._on_event)
        else:
            self.cancel_event("sample")

    def _on_event(self) -> None:
        self._q_settle()
        self._catch_up()
        self._wm_check()
        self._latest()
        self._plan()
        self.update_irq()

    def _wm_check(self) -> None:
        if self.values["CTRL"] & self.FIFO_EN:
            self.wm_service.check(self.stats_, self.fifo, self.clock, max(1, self.values["FIFO_WM"]), self.now())

    # --- data registers ------------------------------------------------------------------
    def _read_out(self, axis: int) -> int:
        k = self._latest()
        if k < self._first:
            return 0
        self._last_read = k
        value = int(self.counts(k, k + 1)[0, axis])
        self.update_irq()
        return _s32(value)

    def read_OUT_AX(self) -> int:
        return self._read_out(0)

    def read_OUT_AY(self) -> int:
        return self._read_out(1)

    def read_OUT_AZ(self) -> int:
        return self._read_out(2)

    def read_OUT_GX(self) -> int:
        return self._read_out(3)

    def read_OUT_GY(self) -> int:
        return self._read_out(4)

    def read_OUT_GZ(self) -> int:
        return self._read_out(5)

    def read_FIFO_DATA(self) -> int:
        self._catch_up()
        if not self._partial:
            ks = self.fifo.pop(1)
            if not ks:
                self.stats_.count("fifo_underflow_reads")
                return 0
            self._partial = [int(v) for v in self.counts(ks[0], ks[0] + 1)[0]]
            self._wm_check()
            self._plan()
        value = self._partial.pop(0)
        self.update_irq()
        self._hand_over()
        return _s32(value)

    # --- FIFO_DATA answered by the register file (see the module docstring) ----------------
    def read(self, offset: int, size: int) -> int:
        self._q_settle()
        value = super().read(offset, size)
        if self._q is None and offset == self._level_offset:  # a drain's first FIFO_DATA read needs no Python
            self._hand_over()
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        self._q_settle()
        super().write(offset, size, value)

    def _hand_over(self) -> None:
        """Let the register file answer the next FIFO_DATA reads: the rest of the frame being read, then the
        frames in the FIFO, until the next sample arrives (arrivals are the model's to compute)."""
        if self.clock is None or not self._running or not self.values["CTRL"] & self.FIFO_EN:
            return
        if self._qi is None:
            bus = getattr(self.host, "bus", None)
            if self._q_tried or bus is None:
                return
            self._q_tried = True
            self._qi = bus.queue_in_c(self.base + self.register("FIFO_DATA").offset, self._queue_served)
            if self._qi is None:
                return
        words = [_s32(v) for v in self._partial]
        for k0, n in self.fifo.runs:
            words.extend(self._frame_words(k0, n))
        if not words:
            return
        p, level, wm = len(self._partial), self.fifo.level, max(1, self.values["FIFO_WM"])
        # the read that pops frame level - wm + 1 takes the level below the watermark; else the last word
        notify = p + 6 * (level - wm) + 1 if level >= wm else len(words)
        nxt, limit = self.fifo.next_k, self.fifo.limit
        deadline = NO_DEADLINE if limit is not None and nxt >= limit else self.clock.arrival(nxt)
        self.host.bus.rf.queue_fill(self._qi, words, notify, deadline)
        self._q, self._q_partial = words, p

    def _frame_words(self, k0: int, n: int) -> list[int]:
        """FIFO_DATA words of frames ``k0 .. k0+n-1`` at the ranges set now, from blocks of the recording's
        counts computed once (``counts`` is elementwise: a block's rows are the rows one at a time)."""
        key = (self.values["ACCEL_RANGE"], self.values["GYRO_RANGE"])
        if key != self._w_key:
            self._w_cache, self._w_key = {}, key
        out: list[int] = []
        k, end, size = k0, k0 + n, _WORDS_BLOCK
        while k < end:
            b = k // size
            block = self._w_cache.get(b)
            if block is None:
                hi = (b + 1) * size if self.fifo.limit is None else max(b * size, min((b + 1) * size, self.fifo.limit))
                import numpy as np  # (loaded with the recording already)

                # int16 counts as the 32-bit words FIFO_DATA reads (sign-extended), in one numpy pass
                block = self.counts(b * size, hi).reshape(-1).astype(np.int32).view(np.uint32).tolist()
                self._w_cache = {i: x for i, x in self._w_cache.items() if i >= b - 1}
                self._w_cache[b] = block
            m = min(end, (b + 1) * size) - k
            j = 6 * (k - b * size)
            out.extend(block[j:j + 6 * m])
            k += m
        return out

    def _q_sync(self) -> bool:
        """Take the FIFO_DATA reads the register file answered since the hand-over: the frames they popped
        leave the FIFO (True if any did), the rest of the last one is the frame being read."""
        words = self._q
        if words is None or self._qi is None:
            return False
        self._q = None
        used = self.host.bus.rf.queue_take(self._qi)
        p = self._q_partial
        if used <= p:
            self._partial = self._partial[used:]
            return False
        frames = -(-(used - p) // 6)
        self.fifo.pop(frames)
        self._partial = [v - (1 << 32) if v & 0x80000000 else v for v in words[used:p + 6 * frames]]
        return True

    def _q_settle(self) -> None:
        """Before any other access or event: as the model's own reads would have left it (plan after a pop)."""
        if self._q_sync():
            self._plan()

    def _queue_served(self) -> None:
        """The register file answered the read that takes the level below the watermark, or the last word."""
        self._q_sync()
        self._wm_check()
        self._plan()
        self.update_irq()
        self._hand_over()

    def read_FIFO_LEVEL(self) -> int:
        self._catch_up()
        return self.fifo.level

    def read_OVERRUN_COUNT(self) -> int:
        self._catch_up()
        return self._overruns

    def read_SAMPLE_COUNT(self) -> int:
        return max(0, self._latest() - self._first + 1)

    # --- status --------------------------------------------------------------------------
    def _status(self) -> int:
        self._catch_up()
        s = self._flags
        if self._running and self._latest() > self._last_read:
            s |= self.DRDY
        if self._running and self.values["CTRL"] & self.FIFO_EN and self.fifo.level >= max(1, self.values["FIFO_WM"]):
            s |= self.WM
        return s

    def read_STATUS(self) -> int:
        return self._status()

    def write_STATUS(self, value: int) -> None:
        self._flags &= ~(value & (self.OVR | self.END))
        self.update_irq()

    def write_INTEN(self, value: int) -> None:
        self.values["INTEN"] = value
        self._plan()
        self.update_irq()

    def write_FIFO_WM(self, value: int) -> None:
        self.values["FIFO_WM"] = value
        self._plan()
        self.update_irq()

    def write_ODR(self, value: int) -> None:
        if self.values["CTRL"] & self.EN:
            self.guest_error(f"{self.name}.ODR", "written while enabled: takes effect at the next enable")
        self.values["ODR"] = value

    def irq_pending(self) -> bool:
        return bool(self._status() & self.values["INTEN"])

    def stats(self) -> dict[str, Any]:
        self._q_settle()
        out = super().stats()
        out["samples"] = self.read_SAMPLE_COUNT() if self._running else 0
        return out
