"""nRF52840 RTC0-2 (Product Specification v1.7, section 6.22): a 24-bit counter on the 32.768 kHz LFCLK.

``COUNTER`` counts LFCLK ticks divided by ``PRESCALER`` + 1 (f_RTC = 32768 / (PRESCALER + 1)),
from ``TASKS_START`` until ``TASKS_STOP``, while the LFCLK runs (CLOCK ``TASKS_LFCLKSTART``);
it is computed from the clock when read. ``EVENTS_COMPARE[n]`` when ``COUNTER`` reaches
``CC[n]``, ``EVENTS_TICK`` at every increment and ``EVENTS_OVRFLW`` when it wraps from 0xFFFFFF
to 0. ``EVTEN`` routes events to the PPI and ``INTEN`` to the interrupt; TICK and OVRFLW are
generated only while enabled in one of them (PS 6.22.6, "Event control"), so a disabled TICK
costs nothing. ``TASKS_TRIGOVRFLW`` sets the counter to 0xFFFFF0. RTC0 has three CC registers,
RTC1 and RTC2 four. ``PRESCALER`` is read-only while the RTC runs (a write then is reported).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from simcore.clock import DomainClock
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.registers import Register

MASK = 0xFFFFFF
EV_TICK, EV_OVRFLW, EV_COMPARE = 0, 1, 16


@register_model
class Nrf52Rtc(NordicPeripheral):
    """RTC0-2 of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_rtc"
    SVD = "RTC"
    EVTEN = True
    EVENT_READS_IN_C = True  # a wait on COMPARE[n] with its interrupt on reads it in C
    EVENT_CLEARS_IN_C = True  # the firmware's clear of such an event, in C (NordicPeripheral)
    # CC[n] read in C (a tick that moves CC[0] on reads it first); its writes move the compare event here
    HELD_STORAGE = {"CC0": 0x540, "CC1": 0x544, "CC2": 0x548, "CC3": 0x54C}
    HELD_READS = frozenset(HELD_STORAGE)
    REGISTERS = NordicPeripheral.REGISTERS + (
        Register("EVTEN", 0x340), Register("EVTENSET", 0x344), Register("EVTENCLR", 0x348),
        Register("COUNTER", 0x504, access="r"),
        Register("CC", 0x540, count=4),
    )
    OPTIONS = {"cc": "number of CC registers (default: 3 for RTC0, 4 for RTC1-2)"}

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.running = False
        self._v0 = 0
        self._t0 = 0
        self._clk: DomainClock | None = None
        self._event: Any = None
        self._event_tick = 0  # the count its event is at
        # (event handle, _compare_alone(), the distance _next_distance counts from its match past that CC: _counts())
        self._plan_cache: tuple[Any, tuple[int, int] | None, int | None] | None = None
        self._move_cache: tuple[Any, Any] | None = None  # (event handle, _move_plan()): computed once per event
        super().__init__(config, host, registers)
        self.n_cc = int(config.options.get("cc", 3 if self.svd_name == "RTC0" else 4))
        self._cc_keys = tuple(f"CC{n}" for n in range(self.n_cc))  # (the CC values' keys, not formatted per look)
        self._cc_step = [0] * self.n_cc  # how far the last write of each CC moved it (mod 2**24): C's next guess
        self._cc_last = [0] * self.n_cc  # the value of each CC's last write (the register file's may be C's since)

    def reset(self) -> None:
        super().reset()
        self.running = False
        self._v0 = 0
        if hasattr(self, "_cc_last"):  # (set up after the first reset, in __init__)
            self._cc_step = [0] * len(self._cc_step)
            self._cc_last = [0] * len(self._cc_last)

    def _clock(self) -> DomainClock:
        if self._clk is None:
            name = "LFCLK"
            try:
                self.host.clock_hz(name)
            except KeyError:
                name = "LSE"  # a board without the nRF52 CLOCK model: a 32.768 kHz crystal that always runs
            self._clk = DomainClock(self.host, name)
        return self._clk

    def counter(self) -> int:
        if self.running and self._clk is not None:
            return (self._v0 + self._clk.ticks() - self._t0) & MASK
        return self._v0

    def read_COUNTER(self) -> int:
        return self.counter()

    def _anchor(self, value: int) -> None:
        self._v0 = value & MASK
        if self._clk is not None:
            self._t0 = self._clk.ticks()

    # --- event scheduling ----------------------------------------------------------------------
    def _wanted(self, i: int) -> bool:
        bit = 1 << i
        return bool((self.values["INTEN"] | self.values["EVTEN"]) & bit)

    def _reschedule(self) -> None:
        clk = self._clk
        if self._event is not None and clk is not None:
            clk.cancel(self._event)
            self._event = None
        if not self.running or clk is None:
            return
        now = clk.ticks()  # (once: counter() would read the clock again at the same time)
        best = self._next_distance((self._v0 + now - self._t0) & MASK)  # from counter() now
        if best is not None:
            self._event_tick = now + best
            self._event = clk.schedule_tick(self._event_tick, self._on_tick, f"{self.svd_name} counter",
                                            self._tick_raises, self._wake_plan, self._move_plan)

    def _tick_raises(self) -> frozenset[int] | None:
        """What the counter's event could raise: the RTC's line if an INTEN bit of TICK, OVRFLW or a COMPARE is
        set; None (anything) when the PPI routes one of them."""
        return self.raises_of((EV_TICK, EV_OVRFLW, *range(EV_COMPARE, EV_COMPARE + self.n_cc)))

    def _next_distance(self, v: int) -> int | None:
        """Ticks from counter value ``v`` to the next tick _on_tick is wanted at (as _reschedule counts them)."""
        if self._wanted(EV_TICK):
            return 1
        best = MASK + 1 - v if self._wanted(EV_OVRFLW) else None
        values = self.values
        for key in self._cc_keys:
            d = (values[key] - v) % (MASK + 1) or MASK + 1
            best = d if best is None else min(best, d)
        return best

    def _wake_plan(self) -> tuple[int, int, int, int, int] | None:
        """The counter's next event as C may do it at a wfi (Event.wake): one COMPARE[n] and nothing else (no TICK,
        no OVRFLW, no other CC at that count), its interrupt on; quiet until the count after it that _reschedule
        would schedule (PS v1.7 6.22.7: COMPARE when COUNTER reaches CC[n])."""
        ev = self._event[3] if self._event is not None else None  # the machine event (a clock change makes another)
        cached = self._plan_cache
        if cached is None or cached[0] is not ev:  # what only a new event changes (CC, INTEN, EVTEN reschedule it)
            cached = self._plan_cache = (ev, *self._counts())
        got = cached[1]
        return self.wake_plan(got[0], got[1]) if got is not None else None

    def _move_plan(self) -> tuple[int, int, int, int, Callable[[], None]] | None:
        """After C woke a wfi at the counter's event (its one COMPARE[n], :meth:`_wake_plan`), the firmware's write of
        CC[n] moved on by the step of its last write, as C may serve it (hotpath.c hp_cc_move, Event.move): (CC[n]'s
        address, the value, its register-file value index, the virtual time of the compare the write moves the event
        to, the model's write). The write must come before that time: the counter has then passed none of the
        targets _reschedule looks for (that compare is the first), so its event is the one counted here from the
        match, whenever the write comes. None when CC[n] is not held by the register file or no step is known."""
        ev = self._event[3] if self._event is not None else None  # (what changes the plan makes another event)
        moved = self._move_cache
        if moved is None or moved[0] is not ev:
            moved = self._move_cache = (ev, self._new_move_plan(ev))
        return moved[1]

    def _new_move_plan(self, ev: Any) -> tuple[int, int, int, int, Callable[[], None]] | None:
        """What :meth:`_move_plan` returns for the counter's machine event ``ev`` (computed once per event)."""
        clk = self._clk
        cached = self._plan_cache
        got, others = cached[1:] if cached is not None and cached[0] is ev else self._counts()
        if got is None or clk is None:
            return None
        n = got[0] - EV_COMPARE
        key = self._cc_keys[n]
        store = self._c_plain.get(key)
        step = self._cc_step[n]
        if store is None or not step:
            return None
        values = self.values
        v = values[key]  # the counter at the event (its compare)
        value = (v + step) & MASK
        if others is not None:  # _next_distance's from the match with CC[n] = value: step, or a nearer other target
            d: int | None = step if step < others else others
        else:  # (PLAN_CACHED off: recounted)
            values[key] = value
            try:
                d = self._next_distance(v)  # _reschedule's, from the match's count
            finally:
                values[key] = v
        at = clk.fs_of_tick(self._event_tick + d) if d is not None else None
        if at is None:
            return None
        offset = self.HELD_STORAGE[key]
        settle = functools.partial(self._moved_write, n, value, self._event_tick + d, ev)
        return self.base + offset, value, store, at, settle

    def compare_chain(self, k: int) -> tuple[int, tuple[int, ...], tuple[int, ...]] | None:
        """The counter's next ``k`` compares as a K-tick stretch in C would run them: after the event due now (its one
        COMPARE[n] alone, :meth:`_wake_plan`), the firmware writes CC[n] on by its step each time (:meth:`_move_plan`,
        repeated): (n, the value of CC[n] matched at each next compare, the virtual time of each). Each is what the
        model's own _reschedule gives after that write when no other target (another CC, OVRFLW wanted) comes within
        the ``k`` steps, the count then moving by the step alone (PS v1.7 6.22.7). None when the plan does not hold
        (no step known, TICK wanted, a target too near, the clock off)."""
        clk = self._clk
        if k <= 0 or clk is None or self._event is None:
            return None
        got, others = self._counts()
        if got is None or others is None:
            return None
        n = got[0] - EV_COMPARE
        step = self._cc_step[n]
        if not step or others <= k * step:  # (the j-th match is (j - 1) steps on: its others' distance shrinks)
            return None
        v = self.values[self._cc_keys[n]]
        fs: list[int] = []
        for j in range(1, k + 1):
            at = clk.fs_of_tick(self._event_tick + j * step)
            if at is None:
                return None
            fs.append(at)
        return n, tuple((v + j * step) & MASK for j in range(1, k + 1)), tuple(fs)

    MOVE_SETTLE_LEAN = True  # _moved_write without the register write's dispatch and the recount (False: tests)

    def _moved_write(self, n: int, value: int, tick: int, ev: Any) -> None:
        """The model's write of CC[n] = ``value`` that C served as planned for the counter's machine event ``ev``
        (Machine.settle_move): what write() does then -- the register file's value kept (C stored it), the step noted,
        and _reschedule's event at count ``tick``, the one the plan counted from the match (no target lies between
        the match and the write: hp_cc_move served it before that compare) -- without the write's dispatch, the
        counter read and _next_distance. Only right after ``ev`` ran (its _on_tick left the reschedule to this write,
        nothing scheduled since); otherwise write() itself."""
        clk = self._clk
        if (not self.MOVE_SETTLE_LEAN or self._event is not None or not self.running or clk is None
                or self._move_cache is None or self._move_cache[0] is not ev or ev is None or not ev.cancelled):
            self.write(self.HELD_STORAGE[self._cc_keys[n]], 4, value)
            return
        self._cc_step[n] = (value - self._cc_last[n]) & MASK
        self._cc_last[n] = value
        key = self._cc_keys[n]
        self.values[key] = value
        self._rf.set_value(self._c_plain[key], value)  # (write(): the register file given the model's value after)
        self._event_tick = tick
        self._event = clk.schedule_tick(tick, self._on_tick, f"{self.svd_name} counter", self._tick_raises,
                                        self._wake_plan, self._move_plan)

    PLAN_CACHED = True  # _counts counts the targets once for the wake and the move plan (False: recounted, tests)

    def _counts(self) -> tuple[tuple[int, int] | None, int | None]:
        """(:meth:`_compare_alone`, the ticks from its match to the nearest target other than its CC (an OVRFLW
        wanted, another CC; 2**24 if none), which _new_move_plan's _next_distance is with that CC moved on by a
        step: min(step, this)); counted in one pass over the CC registers and INTEN | EVTEN read once, instead of
        _compare_alone's scan, two _next_distance and up to six _wanted. The distance is None when _compare_alone is
        None or PLAN_CACHED is off (then both recount as before)."""
        clk = self._clk
        if not self.PLAN_CACHED:
            return self._compare_recount(), None
        if clk is None or not self.running:
            return None, None
        values = self.values
        wanted = values["INTEN"] | values["EVTEN"]
        if wanted & (1 << EV_TICK):
            return None, None
        v = (self._v0 + self._event_tick - self._t0) & MASK  # counter() now + the ticks until the event
        if wanted & (1 << EV_OVRFLW):
            if v == 0:
                return None, None
            others = MASK + 1 - v
        else:
            others = MASK + 1
        hit = -1
        for n, key in enumerate(self._cc_keys):
            c = values[key]
            if c == v:  # (its own distance, 2**24, is never below others)
                if hit >= 0:
                    return None, None
                hit = n
            else:
                d = (c - v) % (MASK + 1) or MASK + 1
                if d < others:
                    others = d
        if hit < 0:
            return None, None
        quiet = clk.fs_of_tick(self._event_tick + others)  # _next_distance(v): min(2**24, others) = others
        return ((EV_COMPARE + hit, quiet), others) if quiet is not None else (None, None)

    def _compare_alone(self) -> tuple[int, int] | None:
        """The event index of the one COMPARE the counter's event generates alone, and the virtual time of the
        event after it; None when it does more (TICK, OVRFLW, several CC) or the clock is off (see _counts)."""
        return self._counts()[0]

    def _compare_recount(self) -> tuple[int, int] | None:
        """The event index of the one COMPARE the counter's event generates alone, and the virtual time of the
        event after it; None when it does more (TICK, OVRFLW, several CC) or the clock is off."""
        clk = self._clk
        if clk is None or not self.running or self._wanted(EV_TICK):
            return None
        v = (self._v0 + self._event_tick - self._t0) & MASK  # counter() now + the ticks until the event
        if v == 0 and self._wanted(EV_OVRFLW):
            return None
        hits = [n for n, key in enumerate(self._cc_keys) if self.values[key] == v]
        if len(hits) != 1:
            return None
        nxt = self._next_distance(v)
        quiet = clk.fs_of_tick(self._event_tick + nxt) if nxt is not None else None
        return (EV_COMPARE + hits[0], quiet) if quiet is not None else None

    def _on_tick(self) -> None:
        moves = self._move_cache  # (only a model that planned a move (_move_plan) looks whether C made the write)
        planned = moves is not None and moves[1] is not None
        self._event = None
        v = self.counter()
        values = self.values
        wanted = values["INTEN"] | values["EVTEN"]  # (firing TICK changes neither)
        if wanted & (1 << EV_TICK):
            self.fire(EV_TICK)
        if v == 0 and wanted & (1 << EV_OVRFLW):
            self.fire(EV_OVRFLW)
        moved = False
        for n, key in enumerate(self._cc_keys):
            if values[key] == v:
                self.fire(EV_COMPARE + n)
                if planned:
                    store = self._c_plain.get(key)
                    moved = moved or (store is not None and self.host.bus.rf.value(store) != v)  # type: ignore[attr-defined]
        if moved:  # C moved the compare on after its wake (hp_cc_move): the settle of that write, next in this sync
            return  # (Machine.settle_move), reschedules; the event this one would make is never seen
        self._reschedule()

    # --- tasks ---------------------------------------------------------------------------------
    def task_START(self) -> None:
        if self.running:
            return
        self.running = True
        clk = self._clock()
        clk.set_divider((self.values["PRESCALER"] & 0xFFF) + 1)
        self._t0 = clk.ticks()
        self._reschedule()

    def task_STOP(self) -> None:
        if self.running:
            self._v0 = self.counter()
            self.running = False
            self._reschedule()

    def task_CLEAR(self) -> None:
        self._anchor(0)
        self._reschedule()

    def task_TRIGOVRFLW(self) -> None:
        self._anchor(0xFFFFF0)
        self._reschedule()

    # --- registers -----------------------------------------------------------------------------
    def write_CC(self, n: int, value: int) -> None:
        if n >= self.n_cc:
            self.guest_error(self.reg_name(self.register("CC"), n), f"{self.svd_name} has {self.n_cc} CC registers "
                             "(write ignored)")
            return
        self._cc_step[n] = (value - self._cc_last[n]) & MASK
        self._cc_last[n] = value & MASK
        self.values[self._cc_keys[n]] = value & MASK
        self._reschedule()

    def write_PRESCALER(self, value: int) -> None:
        if self.running:
            self.guest_error(self.where("PRESCALER"), "PRESCALER is read-only while the RTC runs (write ignored)")
            return
        self.values["PRESCALER"] = value & 0xFFF

    def write_INTEN(self, value: int) -> None:
        super().write_INTEN(value)
        self._reschedule()

    def read_EVTENSET(self) -> int:
        return self.values["EVTEN"]

    read_EVTENCLR = read_EVTENSET

    def write_EVTEN(self, value: int) -> None:
        self.values["EVTEN"] = value
        self._reschedule()

    def write_EVTENSET(self, value: int) -> None:
        self.write_EVTEN(self.values["EVTEN"] | value)

    def write_EVTENCLR(self, value: int) -> None:
        self.write_EVTEN(self.values["EVTEN"] & ~value)
