"""The machine's time base: core-clock cycles, virtual time over a clock timeline, named clocks.

The hot path counts cycles of the core clock (HCLK: what the core, SysTick and DWT count), so
the event queue is keyed by that count and the hot path compares it with one number. Virtual
time is a piecewise-linear function of the cycle count, kept as a :class:`Timeline`: one
segment per core clock the firmware ran on, and gaps in which the core clock stopped (Stop
mode) while time went on. Everything that is time, not core cycles (an oscillator's start-up,
an RTC on the 32.768 kHz crystal, a timer on an APB clock), is scheduled at a virtual time in
femtoseconds (``Host.schedule_at_fs``): the machine converts it to a cycle when it is armed
and again whenever the core clock changes, so such events keep their time across switches.

:class:`Clocks` is the machine's clock service: the named clocks of the part (``HCLK``,
``PCLK1``, ``LSE``...) as the part's clock model (RCC) reports them, the timeline, the
``--mhz`` override and the listeners told of every change. Boards without a clock model
(the generic ``cortex-m4``, ``mps2-an386``, ``nrf52840`` until its CLOCK model exists) run
on a fixed clock. :class:`DomainClock` is the helper peripherals count with: ticks of one
named clock, continuous across its changes, and events at a tick that re-arm themselves.
docs/clocks.md describes the API.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

FS_PER_SECOND = 10**15  # virtual time unit: 1 fs (1/32768 s and 1/8 MHz are whole numbers of it)

# The clocks a board without a clock model offers: every bus clock is the core clock.
BUS_CLOCKS = ("HCLK", "SYSCLK", "FCLK", "PCLK", "PCLK1", "PCLK2", "TIMCLK1", "TIMCLK2")
LSE_HZ = 32768.0


def fs_of_seconds(seconds: float) -> int:
    return round(seconds * FS_PER_SECOND)


@dataclass
class Segment:
    """From ``cycle`` (at virtual time ``fs``) the core ran at ``hz`` (``kind`` "run"), or was stopped
    (``kind`` "stop": no cycles, time passes) until the next segment."""

    cycle: int
    fs: int
    seconds: float
    hz: float
    source: str
    kind: str = "run"
    sleep_at_start: int = 0  # the system block's sleep cycles when the segment began (energy per segment)
    rate: Fraction = field(init=False, repr=False)
    # the exact rate as integers (hz = rate_num / rate_den; a float is a binary fraction): the timeline's
    # conversions in integer arithmetic (a Fraction per conversion cost ~4 us, at every now_fs)
    rate_num: int = field(init=False, repr=False, compare=False)
    rate_den: int = field(init=False, repr=False, compare=False)
    den_fs: int = field(init=False, repr=False, compare=False)  # rate_den * 10**15 (both conversions multiply by it)

    def __post_init__(self) -> None:
        self.rate = Fraction(self.hz) if self.hz else Fraction(0)
        self.rate_num, self.rate_den = self.rate.numerator, self.rate.denominator
        self.den_fs = self.rate_den * FS_PER_SECOND

    def to_dict(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "seconds": self.seconds, "mhz": self.hz / 1e6, "source": self.source,
                "kind": self.kind}


class Timeline:
    """Virtual time as a function of the core-cycle count: segments appended at the present, never in the past."""

    def __init__(self, hz: float, source: str) -> None:
        self.segments: list[Segment] = [Segment(0, 0, 0.0, hz, source)]
        self._cycles: list[int] = [0]
        # the last ``fs_at``: its cycle (None: none since the segments last changed) and virtual time. Python's work
        # between two runs of the core asks for the same cycle again and again (every model's now_fs: 8 of 10 calls in
        # the IoT node's imu_steps_bus); Machine.now_fs reads them itself (no call when it is the same cycle)
        self._last_cycle: int | None = None
        self._last_fs = 0
        self._keep_current()

    def _keep_current(self) -> None:
        """Keep the current segment's terms as the timeline's own (``_c0`` its cycle, ``_f0`` its virtual time, ``_num``
        its rate's numerator, ``_dfs`` its denominator times 10**15; a stopped core's ``_c0`` and ``_f0`` infinite, so
        that no conversion takes them): nearly every conversion is of the present, and reading them here costs no
        segment look-up. Called wherever the last segment changes."""
        seg = self.segments[-1]
        if seg.hz:
            self._c0, self._f0, self._num, self._dfs = seg.cycle, seg.fs, seg.rate_num, seg.den_fs
        else:
            self._c0 = self._f0 = math.inf
            self._num, self._dfs = 0, seg.den_fs

    @property
    def current(self) -> Segment:
        return self.segments[-1]

    def _at_cycle(self, cycle: int) -> Segment:
        """The segment in force at ``cycle`` (the last of those starting at it: after a Stop gap, the run)."""
        if cycle >= self._cycles[-1]:  # the present (every now_fs): the current segment
            return self.segments[-1]
        return self.segments[bisect.bisect_right(self._cycles, cycle) - 1] if cycle >= 0 else self.segments[0]

    def fs_at(self, cycle: int) -> int:
        """Virtual time at ``cycle`` in whole femtoseconds: ``fs + (cycle - start) * 10**15 / rate`` truncated
        toward zero, in integers (the rate is the segment's exact binary fraction)."""
        if cycle == self._last_cycle:  # (the segments have not changed since: switch and _append forget it)
            return self._last_fs
        x = cycle - self._c0
        if x >= 0:  # the current segment, running (the present: its terms kept, _keep_current)
            fs = self._f0 + x * self._dfs // self._num
            self._last_cycle = cycle
            self._last_fs = fs
            return fs
        seg = self._at_cycle(cycle)
        if not seg.hz:
            return seg.fs
        x = (cycle - seg.cycle) * seg.den_fs
        num = seg.rate_num
        fs = seg.fs + (x // num if x >= 0 else -(-x // num))
        self._last_cycle = cycle
        self._last_fs = fs
        return fs

    def seconds_at(self, cycle: int) -> float:
        """Virtual seconds at ``cycle`` (on one segment exactly ``cycle / hz``, as a fixed clock gives it)."""
        seg = self._at_cycle(cycle)
        if not seg.hz:
            return seg.seconds
        return seg.seconds + (cycle - seg.cycle) / seg.hz

    def cycle_at(self, fs: int) -> int:
        """The first cycle at which virtual time has reached ``fs`` (the present or later for a past time)."""
        if fs > self._f0:  # the current segment, running (its terms kept: _keep_current)
            return self._c0 - (-(fs - self._f0) * self._num // self._dfs)
        # a past time, or a stopped core (its _f0 infinite): the segment in force at fs
        seg = self.segments[max(bisect.bisect_right([s.fs for s in self.segments], fs) - 1, 0)]
        if not seg.hz:
            return seg.cycle
        # the ceiling of (fs - seg.fs) * rate / 10**15, in integers
        return seg.cycle - (-(fs - seg.fs) * seg.rate_num // seg.den_fs)

    def cycles_at(self, times: Sequence[int]) -> list[int] | None:
        """cycle_at of each of ``times``, all later than the current segment's start (None otherwise, or with the core
        stopped), in one pass with the segment's terms (Machine._plan_stretch: hundreds of sample arrivals)."""
        f0, c0, num, dfs = self._f0, self._c0, self._num, self._dfs
        if not num or not times or min(times) <= f0:
            return None
        return [c0 - (-(fs - f0) * num // dfs) for fs in times]

    def switch(self, cycle: int, hz: float, source: str, sleep_cycles: int = 0) -> None:
        """From ``cycle`` on the core runs at ``hz`` (a segment that has not run yet is replaced)."""
        cur = self.current
        if cur.kind == "run" and cycle == cur.cycle:  # nothing ran on it yet: replace it
            self.segments[-1] = Segment(cur.cycle, cur.fs, cur.seconds, hz, source, "run", cur.sleep_at_start)
            self._last_cycle = None
            self._keep_current()
            return
        fs = self.fs_at(cycle)
        self._append(Segment(cycle, fs, self.seconds_at(cycle), hz, source, "run", sleep_cycles))

    def stop(self, cycle: int, until_fs: int, sleep_cycles: int = 0, kind: str = "stop") -> None:
        """The core clock stops at ``cycle`` and restarts at virtual time ``until_fs`` (same clock, same cycle)."""
        cur = self.current
        start_fs = self.fs_at(cycle)
        if until_fs <= start_fs:
            return
        self._append(Segment(cycle, start_fs, self.seconds_at(cycle), 0.0, cur.source, kind, sleep_cycles))
        self._append(Segment(cycle, until_fs, until_fs / FS_PER_SECOND, cur.hz, cur.source, "run", sleep_cycles))

    def _append(self, seg: Segment) -> None:
        self.segments.append(seg)
        self._cycles.append(seg.cycle)
        self._last_cycle = None
        self._keep_current()

    def spans(self, end_cycle: int, end_sleep: int) -> list[tuple[Segment, int, int, float]]:
        """(segment, cycles, sleep cycles, seconds) of each segment up to ``end_cycle``."""
        out = []
        segs = self.segments
        for i, seg in enumerate(segs):
            nxt_cycle = segs[i + 1].cycle if i + 1 < len(segs) else end_cycle
            nxt_sleep = segs[i + 1].sleep_at_start if i + 1 < len(segs) else end_sleep
            nxt_s = segs[i + 1].seconds if i + 1 < len(segs) else self.seconds_at(end_cycle)
            out.append((seg, max(nxt_cycle - seg.cycle, 0), max(nxt_sleep - seg.sleep_at_start, 0),
                        max(nxt_s - seg.seconds, 0.0)))
        return out

    def changes(self) -> list[Segment]:
        """Segments that changed something (a switch to the clock already running is not a change)."""
        out = [self.segments[0]]
        for seg in self.segments[1:]:
            last = out[-1]
            if seg.kind != last.kind or seg.hz != last.hz or seg.source != last.source:
                out.append(seg)
        return out


class ClockModel(Protocol):
    """A part's clock controller (RCC): its named clocks now, in Hz (0 for a clock that is off)."""

    def clock_tree(self) -> Mapping[str, float]: ...
    def core_source(self) -> str: ...  # what drives HCLK now, for the timeline ("HSI", "PLL"...)


class Clocks:
    """The named clocks of the part, the core clock's timeline and who is told of changes.

    ``override_hz`` (``--mhz`` given on a part with a clock model): the core stays at that clock;
    the other clocks scale with it (their ratio to HCLK as the firmware set them), and the first
    change of the firmware's HCLK away from it is returned by :meth:`update` for a warning.
    """

    def __init__(self, hz: float, override_hz: float | None = None) -> None:
        self.override_hz = override_hz
        self.model: ClockModel | None = None
        self.tree: dict[str, float] = {name: hz for name in BUS_CLOCKS}
        self.tree["LSE"] = LSE_HZ
        self.core_hz = float(override_hz or hz)
        self.timeline = Timeline(self.core_hz, "fixed" if override_hz is None else "--mhz")
        self.listeners: list[Callable[[], None]] = []
        self.firmware_hz: float | None = None  # HCLK as the firmware configured it (override mode)
        self.overridden: list[tuple[float, str]] = []  # firmware clocks --mhz replaced: (Hz, source)

    @property
    def follows_firmware(self) -> bool:
        return self.model is not None and self.override_hz is None

    def hz(self, name: str) -> float:
        """The named clock now, in Hz (0.0 when off); KeyError naming the part's clocks when it has none so named."""
        try:
            value = self.tree[name]
        except KeyError:
            raise KeyError(f"no clock named {name!r}; this part's clocks are {', '.join(sorted(self.tree))}") from None
        if self.override_hz is not None and self.model is not None and name not in ("LSE", "LSI", "HSE", "HSI",
                                                                                     "MSI", "HSI48", "LFCLK"):
            hclk = self.tree.get("HCLK") or 0.0
            return value * self.override_hz / hclk if hclk else value
        return value

    def update(self, tree: Mapping[str, float], source: str, initial: bool = False) -> tuple[bool, str | None]:
        """The clock model's new tree (``initial``: its reset state, not something the firmware set).
        Returns (core clock changed, warning text or None)."""
        self.tree = dict(tree)
        hclk = float(self.tree["HCLK"])
        warning = None
        if hclk <= 0:  # no clock at all: the model refuses such settings; keep counting at the last one
            return False, None
        if self.override_hz is not None:
            if initial:
                self.firmware_hz = hclk
            elif hclk != self.firmware_hz:
                self.firmware_hz = hclk
                if hclk != self.override_hz and not any(h == hclk for h, _ in self.overridden):
                    self.overridden.append((hclk, source))
                    warning = (f"the firmware set the core clock to {hclk / 1e6:g} MHz ({source}); --mhz "
                               f"{self.override_hz / 1e6:g} overrides it: times, wait states and energy use "
                               f"{self.override_hz / 1e6:g} MHz")
            return False, warning
        changed = hclk != self.core_hz or source != self.timeline.current.source
        self.core_hz = hclk
        return changed, warning

    def model_changed(self, model: ClockModel, now_cycle: int, sleep_cycles: int,
                      events: Any) -> tuple[bool, str | None]:
        """The clock model changed its clocks: update the tree and, if the core clock changed, start a timeline
        segment and re-key the events scheduled at a virtual time. Returns (core changed, warning or None)."""
        initial = self.model is None
        self.model = model
        changed, warning = self.update(model.clock_tree(), model.core_source(), initial)
        if changed:
            self.timeline.switch(now_cycle, self.core_hz, model.core_source(), sleep_cycles)
            events.retime(self.timeline.cycle_at)
        return changed, warning

    def notify(self) -> None:
        for cb in list(self.listeners):
            cb()


class TimeHost(Protocol):
    """What :class:`DomainClock` needs of the machine (peripherals/base.py ``Host`` has it)."""

    def now_fs(self) -> int: ...
    def clock_hz(self, name: str) -> float: ...
    def on_clock_change(self, callback: Callable[[], None]) -> None: ...
    def schedule_at_fs(self, at_fs: int, callback: Callable[[], None], tag: str = "") -> Any: ...
    def cancel(self, handle: Any) -> None: ...


class DomainClock:
    """Ticks of one named clock (``"PCLK1"``, ``"LSE"``...) since it was created, continuous across changes.

    A timer model keeps its counter as ticks of its kernel clock: ``ticks()`` now, and
    ``schedule_tick(n, cb)`` for a callback when the count reaches ``n``. When the clock's
    frequency changes (the firmware reprograms a prescaler or switches SYSCLK), the count so
    far is kept and pending tick events are moved to the new times. ``divider`` (e.g. a
    timer's PSC + 1) divides the clock: change it with :meth:`set_divider`, which re-anchors
    the same way. A clock that is off (0 Hz) does not count; its events wait.
    """

    def __init__(self, host: TimeHost, name: str, divider: int = 1) -> None:
        self.host = host
        self.name = name
        self.divider = max(int(divider), 1)
        self._hz = host.clock_hz(name)
        self._anchor_fs = host.now_fs()
        self._anchor_ticks = Fraction(0)
        self._terms: tuple[int, int, int, int, int] | None = None  # _rate_terms (None: changed since)
        self._pending: list[list[Any]] = []  # [tick, callback, tag, event handle, raises, wake]
        host.on_clock_change(self._changed)

    @property
    def hz(self) -> float:
        """Ticks per second now (the clock divided by ``divider``)."""
        return self._hz / self.divider

    def _exact_ticks(self, fs: int) -> Fraction:
        if not self._hz:
            return self._anchor_ticks
        return self._anchor_ticks + Fraction(fs - self._anchor_fs) * Fraction(self._hz) / (
            FS_PER_SECOND * self.divider)

    def _rate_terms(self) -> tuple[int, int, int, int, int]:
        """The exact count in integers, kept until the anchor, the clock or the divider changes: with the anchor
        an/ad ticks and the clock hn/hd Hz (a float is a binary fraction), ticks(fs) = (an * hd * F * div +
        (fs - anchor_fs) * hn * ad) / (ad * hd * F * div), F = 10**15. Returns (an * hd * F * div, hn * ad,
        ad * hd * F * div, an, ad). Forgotten where the anchor, the clock or the divider changes (_reanchor,
        _changed, set_divider), not compared with them at every use."""
        terms = self._terms
        if terms is None:
            hz = Fraction(self._hz)
            an, ad = self._anchor_ticks.numerator, self._anchor_ticks.denominator
            scale = hz.denominator * FS_PER_SECOND * self.divider
            terms = self._terms = (an * scale, hz.numerator * ad, ad * scale, an, ad)
        return terms

    def ticks(self) -> int:
        """Whole ticks counted up to now: ``int`` of the exact count (truncated toward zero), in integers (a
        timer's counter is read at every poll of it)."""
        fs = self.host.now_fs()
        if not self._hz:
            return int(self._anchor_ticks)
        anchor, rate, den, _, _ = self._terms or self._rate_terms()
        x = anchor + (fs - self._anchor_fs) * rate
        return x // den if x >= 0 else -(-x // den)

    def fs_of_tick(self, tick: int) -> int | None:
        """The virtual time at which the count reaches ``tick`` at the present rate (None while the clock is off)."""
        if not self._hz:
            return None
        # anchor_fs + (tick - an/ad) * F * div * hd / hn, rounded up, in integers (see _rate_terms)
        _, rate, den, an, ad = self._terms or self._rate_terms()
        # (tick - an/ad) * den / (hn * ad) with den = ad * hd * F * div and rate = hn * ad (anchor_fs is whole: added
        # after the ceiling)
        at = self._anchor_fs - (-(tick * ad - an) * den // (ad * rate))
        now = self.host.now_fs()
        return at if at > now else now

    def schedule_tick(self, tick: int, callback: Callable[[], None], tag: str = "",
                      raises: Callable[[], frozenset[int] | None] | None = None,
                      wake: Callable[[], Any] | None = None, move: Callable[[], Any] | None = None) -> list[Any]:
        """Call ``callback`` when the count reaches ``tick``; returns a handle for :meth:`cancel`. ``raises``: the
        interrupt lines the callback could raise; ``wake``: what C may do of it at a wfi; ``move``: the firmware's
        write after it C may do (the machine event's ``raises``, ``wake`` and ``move``, see simcore.runtypes.Event)."""
        entry: list[Any] = [tick, callback, tag, None, raises, wake, move]
        self._pending.append(entry)
        self._arm(entry)
        return entry

    def cancel(self, entry: list[Any]) -> None:
        if entry in self._pending:
            self._pending.remove(entry)
        if entry[3] is not None:
            self.host.cancel(entry[3])
            entry[3] = None

    def _arm(self, entry: list[Any]) -> None:
        if entry[3] is not None:
            self.host.cancel(entry[3])
            entry[3] = None
        at = self.fs_of_tick(entry[0])
        if at is not None:
            entry[3] = self.host.schedule_at_fs(at, lambda e=entry: self._fire(e), entry[2])
            if entry[4] is not None:
                entry[3].raises = entry[4]
            if entry[5] is not None:
                entry[3].wake = entry[5]
            if entry[6] is not None:
                entry[3].move = entry[6]

    def _fire(self, entry: list[Any]) -> None:
        entry[3] = None
        if entry in self._pending:
            self._pending.remove(entry)
            entry[1]()

    def _reanchor(self) -> None:
        now = self.host.now_fs()
        self._anchor_ticks = self._exact_ticks(now)
        self._anchor_fs = now
        self._terms = None

    def set_divider(self, divider: int) -> None:
        self._reanchor()
        self.divider = max(int(divider), 1)
        self._terms = None
        for entry in list(self._pending):
            self._arm(entry)

    def _changed(self) -> None:
        hz = self.host.clock_hz(self.name)
        if hz == self._hz:
            return
        self._reanchor()
        self._hz = hz
        self._terms = None
        for entry in list(self._pending):
            self._arm(entry)
