"""Broadcom APDS-9960 gesture, proximity and colour sensor (datasheet AV02-4191EN), on I2C at 39h.

ID (92h) ABh. ENABLE PON / AEN / PEN / WEN / AIEN / PIEN / GEN; ATIME (ALS integration
2.78 ms x (256 - ATIME), counts saturating at min(65535, 1025 x (256 - ATIME))); WTIME and
CONFIG1.WLONG (wait 2.78 ms x (256 - WTIME), x12 with WLONG); STATUS AVALID / PVALID / AINT /
PINT / GINT / CPSAT; CDATA, RDATA, GDATA, BDATA, PDATA; ALS and proximity thresholds
(AILT/AIHT on CDATA, PILT/PIHT on PDATA) raising AINT / PINT, cleared by writing CICLEAR /
PICLEAR / AICLEAR; the gesture engine (GEN with GCONF4.GMODE set by the firmware or entered
when PDATA > GPENTH) filling a 32-dataset FIFO (GFIFO_U/D/L/R, FC-FFh; a multiple-byte read
wraps from GFIFO_R back to GFIFO_U, removing one dataset per four bytes), GFLVL, GSTATUS
GVALID (level >= GCONF1.GFIFOTH: 1, 4, 8, 16 datasets) and GFOV, GINT with GCONF4.GIEN,
GFIFO_CLR; the engine exits (GMODE cleared) after GCONF1.GEXPERS (1, 2, 4, 7) consecutive
datasets whose unmasked channels are all below GEXTH. The INT output is active low. All other
registers auto-increment.

The recording is the scene in front of the sensor: channels ``c r g b`` (colour counts as the
part reports them at its settings), ``p`` (proximity, 0-255) and ``u d l r`` (gesture
photodiodes, 0-255; the ``*_channels`` options rename them). Colour and proximity take the
values in effect when each measurement completes; gesture datasets are the recording's rows at
its own rate. Timing is simcore's approximation of the state machine (the datasheet gives no
closed formula): one cycle = 1 ms of proximity (PEN) + the wait (WEN) + the ALS integration
(AEN), paused while the gesture engine runs.

Not modelled (non-zero writes reported): persistence filters, LED drive / boost / gains and
offsets (the recording is taken as measured), saturation interrupts, the sleep-after-interrupt.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from simcore.devices import register_device
from simcore.devices.base import FS_PER_SECOND, BusDevice, DeviceConfig, DeviceHost, RateClock, reg8
from simcore.devices.fifo import FifoMode, SampleFifo
from simcore.errors import BadInputError
from simcore.registers import Field

if TYPE_CHECKING:
    import numpy as np

DEVICE_ID = 0xAB
STEP_FS = 2_780_000_000_000  # 2.78 ms
PROX_FS = 10**12  # simcore's 1 ms for a proximity measurement
GFIFO_U, GFIFO_R = 0xFC, 0xFF
GFIFOTH = (1, 4, 8, 16)
GEXPERS = (1, 2, 4, 7)
DEFAULT_CHANNELS = {"colour": ("c", "r", "g", "b"), "proximity": ("p",), "gesture": ("u", "d", "l", "r")}


def _colour(i: int) -> Any:
    def read(self: Apds9960) -> int:
        return self.colour_byte(i)

    return read


def _gfifo(i: int) -> Any:
    def read(self: Apds9960) -> int:
        return self.gesture_byte(i)

    return read


@register_device
class Apds9960(BusDevice):
    """APDS-9960: colour (CRGB), proximity and gesture FIFO, INT (active low)."""

    TYPE = "apds9960"
    LINES: ClassVar[tuple[str, ...]] = ("INT",)
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x39,)
    ADDRESS_MASK: ClassVar[int] = 0xFF
    OPTIONS: ClassVar[dict[str, str]] = {
        "colour_channels": "recording channels of clear, red, green, blue counts (default ['c', 'r', 'g', 'b'])",
        "proximity_channels": "recording channel of the proximity count (default ['p'])",
        "gesture_channels": "recording channels of the up, down, left, right photodiodes (default ['u', 'd', 'l', "
                            "'r'])",
    }
    REGISTERS = (
        reg8("ENABLE", 0x80, fields=(Field("PON", 0, on_write="_restart"), Field("AEN", 1, on_write="_restart"),
                                     Field("PEN", 2, on_write="_restart"), Field("WEN", 3, on_write="_restart"),
                                     Field("AIEN", 4, on_write="_routing"), Field("PIEN", 5, on_write="_routing"),
                                     Field("GEN", 6, on_write="_gesture_config"))),
        reg8("ATIME", 0x81, reset=0xFF, fields=(Field("ATIME", 0, 8, on_write="_restart"),)),
        reg8("WTIME", 0x83, reset=0xFF, fields=(Field("WTIME", 0, 8, on_write="_restart"),)),
        reg8("AILTL", 0x84), reg8("AILTH", 0x85), reg8("AIHTL", 0x86), reg8("AIHTH", 0x87),
        reg8("PILT", 0x89), reg8("PIHT", 0x8B),
        reg8("PERS", 0x8C, implemented=0, doc="persistence filters: not modelled (every cycle counts)"),
        reg8("CONFIG1", 0x8D, reset=0x60, implemented=0x62, fields=(Field("WLONG", 1, on_write="_restart"),)),
        reg8("PPULSE", 0x8E, reset=0x40),
        reg8("CONTROL", 0x8F, fields=(Field("AGAIN", 0, 2), Field("PGAIN", 2, 2), Field("LDRIVE", 6, 2))),
        reg8("CONFIG2", 0x90, reset=0x01, implemented=0x31, doc="LED_BOOST stored; saturation interrupts not "
             "modelled"),
        reg8("ID", 0x92, access="r", reset=DEVICE_ID),
        reg8("STATUS", 0x93, access="r"),
        *(reg8(f"{c}DATA{h}", 0x94 + 2 * i + j, access="r") for i, c in enumerate("CRGB") for j, h in enumerate("LH")),
        reg8("PDATA", 0x9C, access="r"),
        reg8("POFFSET_UR", 0x9D, implemented=0), reg8("POFFSET_DL", 0x9E, implemented=0),
        reg8("CONFIG3", 0x9F, implemented=0),
        reg8("GPENTH", 0xA0), reg8("GEXTH", 0xA1),
        reg8("GCONF1", 0xA2, fields=(Field("GEXPERS", 0, 2), Field("GEXMSK", 2, 4),
                                     Field("GFIFOTH", 6, 2, on_write="_routing"))),
        reg8("GCONF2", 0xA3, fields=(Field("GWTIME", 0, 3), Field("GLDRIVE", 3, 2), Field("GGAIN", 5, 2))),
        reg8("GOFFSET_U", 0xA4, implemented=0), reg8("GOFFSET_D", 0xA5, implemented=0),
        reg8("GPULSE", 0xA6, reset=0x40),
        reg8("GOFFSET_L", 0xA7, implemented=0), reg8("GOFFSET_R", 0xA9, implemented=0),
        reg8("GCONF3", 0xAA, fields=(Field("GDIMS", 0, 2),)),
        reg8("GCONF4", 0xAB, fields=(Field("GMODE", 0, on_write="_gesture_config"),
                                     Field("GIEN", 1, on_write="_routing"),
                                     Field("GFIFO_CLR", 2, on_write="_gfifo_clear"))),
        reg8("GFLVL", 0xAE, access="r"), reg8("GSTATUS", 0xAF, access="r"),
        reg8("IFORCE", 0xE4, access="w", implemented=0),
        reg8("PICLEAR", 0xE5, access="w"), reg8("CICLEAR", 0xE6, access="w"), reg8("AICLEAR", 0xE7, access="w"),
        reg8("GFIFO_U", 0xFC, access="r"), reg8("GFIFO_D", 0xFD, access="r"),
        reg8("GFIFO_L", 0xFE, access="r"), reg8("GFIFO_R", 0xFF, access="r"),
    )

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.columns: dict[str, list[int] | None] = {k: None for k in DEFAULT_CHANNELS}
        self.gfifo = SampleFifo(32, stop_when_full=False)
        super().__init__(config, host)

    def check_recording(self) -> None:
        src = self.source
        assert src is not None
        lower = [c.lower() for c in src.channels]
        for kind, default in DEFAULT_CHANNELS.items():
            names = [str(n).lower() for n in self.option(f"{kind}_channels", default)]
            self.columns[kind] = [lower.index(n) for n in names] if all(n in lower for n in names) else None
        if all(v is None for v in self.columns.values()):
            raise BadInputError(f"{self.where()}: the recording {src.path} has none of the channels c r g b "
                                f"(colour), p (proximity) or u d l r (gesture) (it has {', '.join(src.channels)}); "
                                "name them with the *_channels options")
        if self.columns["gesture"] is not None and src.rate_hz is None:
            raise BadInputError(f"{self.where()}: the recording {src.path} has irregular timestamps; gesture "
                                "datasets are delivered at the recording's own rate, so it needs one")

    def reset(self) -> None:
        super().reset()
        self.stop_events()
        self._cycle_start = 0
        self._cycle_clock: RateClock | None = None
        self._seen = 0  # measurement cycles already looked at
        self._latest_cycle = -1
        self._valid = 0  # AVALID / PVALID bits
        self._int = 0  # AINT / PINT bits (latched until cleared)
        self._gfov = False
        self._gword = 0  # bytes of the oldest dataset already read
        self._below = 0  # consecutive datasets below GEXTH
        self.gfifo.reset(FifoMode.BYPASS, None, 0, None)

    # --- measurement cycles (colour, proximity) -------------------------------------------------
    def _gesture_active(self) -> bool:
        e = self.values["ENABLE"]
        return bool(e & 0x01 and e & 0x40 and self.values["GCONF4"] & 0x01)

    def _cycle_fs(self) -> int:
        e = self.values["ENABLE"]
        t = 0
        if e & 0x04:
            t += PROX_FS
        if e & 0x08:
            t += STEP_FS * (256 - self.values["WTIME"]) * (12 if self.values["CONFIG1"] & 0x02 else 1)
        if e & 0x02:
            t += STEP_FS * (256 - self.values["ATIME"])
        return t

    def _restart(self, old: int, new: int) -> None:
        """A setting of the measurement cycle changed: it starts again now (results so far stay)."""
        self.catch_up()
        e = self.values["ENABLE"]
        if not e & 0x02:
            self._valid &= ~0x01
        if not e & 0x04:
            self._valid &= ~0x02
        period = self._cycle_fs()
        if e & 0x01 and e & 0x06 and period and not self._gesture_active():
            if e & 0x02 and self.columns["colour"] is None or e & 0x04 and self.columns["proximity"] is None:
                self.require_source()
                self.stats_.count("measurements_without_recorded_channels")
            self._cycle_start = self.now()
            self._cycle_clock = RateClock(Fraction(FS_PER_SECOND, period))
            self._seen = 0
        else:
            self._cycle_clock = None
        self.update()

    def _cycle_time(self, n: int) -> int:
        assert self._cycle_clock is not None
        return self._cycle_start + self._cycle_clock.arrival(n)

    def _scene(self, times_fs: np.ndarray, kind: str) -> np.ndarray:
        import numpy as np

        cols = self.columns[kind]
        if cols is None or self.source is None:
            return np.zeros((len(times_fs), len(DEFAULT_CHANNELS[kind])))
        values = self.source.sample_at(times_fs / FS_PER_SECOND).astype(np.float64)
        return values[:, cols]

    def _colour_counts(self, times_fs: np.ndarray) -> np.ndarray:
        import numpy as np

        top = min(65535, 1025 * (256 - self.values["ATIME"]))
        return np.clip(np.rint(self._scene(times_fs, "colour")), 0, top).astype(np.int64)

    def _prox_counts(self, times_fs: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.clip(np.rint(self._scene(times_fs, "proximity")[:, 0]), 0, 255).astype(np.int64)

    def _measure(self, now: int) -> None:
        """Results of the measurement cycles completed since the last look: valid bits, thresholds, gesture entry."""
        if self._cycle_clock is None:
            return
        done = self._cycle_clock.count_by(now - self._cycle_start)
        if done <= self._seen:
            return
        import numpy as np

        first = max(self._seen, done - 4096)  # older cycles cannot change a latched flag any more
        times = np.array([self._cycle_time(n) for n in range(first, done)], dtype=np.int64)
        self._seen = done
        self._latest_cycle = done - 1
        self.stats_.count("measurement_cycles", done - first)
        e = self.values["ENABLE"]
        if e & 0x02:
            self._valid |= 0x01
            c = self._colour_counts(times)[:, 0]
            lo = self.values["AILTL"] | self.values["AILTH"] << 8
            hi = self.values["AIHTL"] | self.values["AIHTH"] << 8
            if np.any((c < lo) | (c > hi)):
                self._int |= 0x10
        if e & 0x04:
            self._valid |= 0x02
            p = self._prox_counts(times)
            if np.any((p < self.values["PILT"]) | (p > self.values["PIHT"])):
                self._int |= 0x20
            if e & 0x40 and np.any(p > self.values["GPENTH"]):  # gesture entry on proximity
                self.values["GCONF4"] |= 0x01
                self._start_gestures()

    def _latest_time(self) -> int | None:
        return self._cycle_time(self._latest_cycle) if self._latest_cycle >= 0 and self._cycle_clock else None

    def colour_byte(self, i: int) -> int:
        import numpy as np

        self.catch_up()
        t = self._latest_time()
        if t is None or not self.values["ENABLE"] & 0x02:
            return 0
        value = int(self._colour_counts(np.array([t]))[0, i // 2])
        return (value >> 8) & 0xFF if i % 2 else value & 0xFF

    read_CDATAL, read_CDATAH, read_RDATAL, read_RDATAH, read_GDATAL, read_GDATAH, read_BDATAL, read_BDATAH = (
        _colour(i) for i in range(8))

    def read_PDATA(self) -> int:
        import numpy as np

        self.catch_up()
        t = self._latest_time()
        if t is None or not self.values["ENABLE"] & 0x04:
            return 0
        return int(self._prox_counts(np.array([t]))[0])

    def read_STATUS(self) -> int:
        self.catch_up()
        value = self._valid | self._int
        if self._gvalid():
            value |= 0x04
        if self._valid & 1 and self.colour_byte(1) << 8 | self.colour_byte(0) >= min(
                65535, 1025 * (256 - self.values["ATIME"])):
            value |= 0x80  # CPSAT
        return value

    def write_PICLEAR(self, value: int) -> None:
        self._int &= ~0x20
        self.update()

    def write_CICLEAR(self, value: int) -> None:
        self._int &= ~0x10
        self.update()

    def write_AICLEAR(self, value: int) -> None:
        self._int &= ~0x30
        self.update()

    # --- gesture engine ---------------------------------------------------------------------
    def _gesture_config(self, old: int, new: int) -> None:
        self.catch_up()
        if self._gesture_active():
            self._start_gestures()
        else:
            self.gfifo.reset(FifoMode.BYPASS, None, 0, None)
        self._restart(0, 0)

    def _start_gestures(self) -> None:
        if self.gfifo.clock is not None:
            return
        src = self.require_source()
        if self.columns["gesture"] is None:
            self.stats_.count("gesture_without_recorded_channels")
            return
        assert src.rate_hz is not None
        clock = RateClock(src.rate_hz)
        self.gfifo.reset(FifoMode.FIFO, clock, clock.count_by(self.now()), len(src) if src.end_rule == "stop" else None)
        self._below = 0
        self._cycle_clock = None

    def _datasets(self, k0: int, k1: int) -> np.ndarray:
        import numpy as np

        src = self.source
        cols = self.columns["gesture"]
        assert src is not None and cols is not None
        values = src.take(k0, k1).astype(np.float64)[:, cols]
        return np.clip(np.rint(values), 0, 255).astype(np.int64)

    def _gesture_catch_up(self, now: int) -> None:
        if self.gfifo.clock is None:
            return
        before = self.gfifo.next_k
        loss = self.gfifo.catch_up(now)
        if loss is not None:
            self._gfov = True
            self.stats_.count("gesture_datasets_lost", loss.count)
            if loss.new_episode:
                self.stats_.record("overruns", loss.first_at, what="gesture FIFO full")
        after = self.gfifo.next_k
        gexth = self.values["GEXTH"]
        if after <= before or not gexth:
            return
        import numpy as np

        mask = (self.values["GCONF1"] >> 2) & 0xF  # GEXMSK bits: U D L R (1 = ignored)
        keep = [i for i in range(4) if not mask & (1 << (3 - i))]
        below = np.all(self._datasets(before, after)[:, keep] < gexth, axis=1) if keep else np.zeros(0, bool)
        need = GEXPERS[self.values["GCONF1"] & 3]
        for j, b in enumerate(below):
            self._below = self._below + 1 if b else 0
            if self._below >= need:  # exit: GMODE cleared; datasets after this one are not taken
                exit_k = before + j
                self._drop_after(exit_k)
                self.values["GCONF4"] &= ~0x01
                self.gfifo.clock = None
                self._restart(0, 0)
                return

    def _drop_after(self, k: int) -> None:
        while self.gfifo.runs and self.gfifo.runs[-1][0] + self.gfifo.runs[-1][1] - 1 > k:
            run = self.gfifo.runs[-1]
            cut = min(run[1], run[0] + run[1] - 1 - k)
            run[1] -= cut
            self.gfifo.level -= cut
            if run[1] == 0:
                self.gfifo.runs.pop()

    def _gvalid(self) -> bool:
        return self.gfifo.level >= GFIFOTH[self.values["GCONF1"] >> 6]

    def gesture_byte(self, i: int) -> int:
        self.catch_up()
        k = self.gfifo.peek()
        if k is None:
            self.stats_.count("gesture_empty_reads")
            return 0
        value = int(self._datasets(k, k + 1)[0, i])
        self._gword += 1
        if self._gword == 4:
            self._gword = 0
            self.gfifo.pop()
            self._gfov = False
        return value

    read_GFIFO_U, read_GFIFO_D, read_GFIFO_L, read_GFIFO_R = (_gfifo(i) for i in range(4))

    def read_GFLVL(self) -> int:
        self.catch_up()
        return self.gfifo.level

    def read_GSTATUS(self) -> int:
        self.catch_up()
        return int(self._gvalid()) | int(self._gfov) << 1

    def _gfifo_clear(self, old: int, new: int) -> None:
        if new:
            self.values["GCONF4"] &= ~0x04
            self.catch_up()
            while self.gfifo.pop() is not None:
                pass
            self._gword = 0
            self._gfov = False
            self.update()

    def next_address(self, addr: int, reading: bool) -> int:
        if reading and addr == GFIFO_R:
            return GFIFO_U
        return (addr + 1) & 0xFF

    # --- time and interrupt -----------------------------------------------------------------
    def catch_up(self) -> None:
        now = self.now()
        self._gesture_catch_up(now)
        self._measure(now)

    def line_levels(self) -> dict[str, bool]:
        e = self.values["ENABLE"]
        active = bool(e & 0x10 and self._int & 0x10 or e & 0x20 and self._int & 0x20
                      or self.values["GCONF4"] & 0x02 and self._gvalid())
        return {"INT": not active}  # active low

    def next_wakeup(self) -> int | None:
        times = []
        e = self.values["ENABLE"]
        if self._cycle_clock is not None and (e & 0x30 or e & 0x44 == 0x44):
            times.append(self._cycle_time(self._seen))
        if self.gfifo.clock is not None:
            t = self.gfifo.when_level(GFIFOTH[self.values["GCONF1"] >> 6]) if self.values["GCONF4"] & 0x02 else None
            if t is not None:
                times.append(t)
            if self.values["GEXTH"] and self.gfifo.next_k < (self.gfifo.limit or 1 << 62):
                times.append(self.gfifo.clock.arrival(self.gfifo.next_k))  # watch for the exit condition
        return min(times) if times else None

    def stats(self) -> dict[str, Any]:
        self.catch_up()
        out = super().stats()
        out.setdefault("overruns", 0)
        return out

