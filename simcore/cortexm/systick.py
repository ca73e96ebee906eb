"""SysTick (ARMv7-M B3.3): a 24-bit down-counter computed from the virtual clock, never ticked.

The counter is kept as an anchor (tick, value at that tick); VAL, COUNTFLAG and the time
of the next wrap follow from the current tick by arithmetic. When TICKINT is set the
SysTick exception is scheduled as a machine event at the exact cycle the counter reaches 0.

Counter semantics (B3.3.1): it decrements on each clock; on reaching 0 it sets COUNTFLAG
(and pends SysTick if TICKINT); the next clock reloads it from LOAD. So with LOAD = N-1 the
period is N clocks. Writing VAL clears it to 0 and clears COUNTFLAG. LOAD = 0 stops it.
Clock source: CLKSOURCE=1 is the core clock; CLKSOURCE=0 is the implementation's reference
clock, modelled as core clock / 8 (as on STM32 parts), which CALIB.TENMS describes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from simcore.cortexm.nvic import SCS_BASE
from simcore.registers import Register, RegisterBlock, ReportHost

REF_DIVIDER = 8
CTRL_ENABLE, CTRL_TICKINT, CTRL_CLKSOURCE, CTRL_COUNTFLAG = 1, 2, 4, 1 << 16


class ClockHost(ReportHost, Protocol):
    def now_cycles(self) -> int: ...
    def cycles_per_second(self) -> float: ...
    def schedule(self, at_cycle: int, callback: Any, tag: str) -> Any: ...
    def cancel(self, handle: Any) -> None: ...


class SysTick(RegisterBlock):
    NAME = "SysTick"
    BASE = SCS_BASE
    REGISTERS = (
        Register("CTRL", 0x010, implemented=0x00010007),
        Register("LOAD", 0x014, implemented=0x00FFFFFF),
        Register("VAL", 0x018),
        Register("CALIB", 0x01C, access="r"),
    )

    def __init__(self, host: ClockHost, pend: Callable[[], None]) -> None:
        self.clock = host
        self.pend = pend
        self.event: Any = None  # the scheduled wrap event (the machine lets hp_tick deliver it natively)
        self._event_tick = 0  # the tick the scheduled event fires at
        super().__init__(host)

    def reset(self) -> None:
        super().reset()
        self.ctrl = 0
        self.load = 0
        self.anchor_tick = 0  # tick at which the counter held anchor_val
        self.anchor_val = 0
        self.countflag = False
        self.flag_checked_tick = 0  # COUNTFLAG covers wraps after this tick
        if self.event is not None:
            self.clock.cancel(self.event)
            self.event = None

    # --- the counter as a function of time ----------------------------------------------------
    @property
    def divider(self) -> int:
        return 1 if self.ctrl & CTRL_CLKSOURCE else REF_DIVIDER

    def tick(self) -> int:
        return self.clock.now_cycles() // self.divider

    @property
    def running(self) -> bool:
        return bool(self.ctrl & CTRL_ENABLE) and self.load > 0

    def value_at(self, tick: int) -> int:
        if not self.running:
            return self.anchor_val
        d = tick - self.anchor_tick
        if d <= self.anchor_val:
            return self.anchor_val - d
        k = d - self.anchor_val - 1  # clocks since the first reload
        return self.load - k % (self.load + 1)

    def first_zero_after(self, tick: int) -> int | None:
        """The first tick > ``tick`` at which the counter reaches 0."""
        if not self.running:
            return None
        first = self.anchor_tick + (self.anchor_val if self.anchor_val > 0 else self.load + 1)
        if first > tick:
            return first
        period = self.load + 1
        return first + ((tick - first) // period + 1) * period

    def _reanchor(self, value: int | None = None) -> None:
        now = self.tick()
        self._update_flag(now)
        self.anchor_val = self.value_at(now) if value is None else value
        self.anchor_tick = now

    def _update_flag(self, now: int) -> None:
        nxt = self.first_zero_after(self.flag_checked_tick)
        if nxt is not None and nxt <= now:
            self.countflag = True
        self.flag_checked_tick = now

    def _schedule(self) -> None:
        if self.event is not None:
            self.clock.cancel(self.event)
            self.event = None
        if not (self.ctrl & CTRL_TICKINT) or not self.running:
            return
        nxt = self.first_zero_after(self.tick())
        if nxt is not None:
            self._event_tick = nxt
            self.event = self.clock.schedule(nxt * self.divider, self._fire, "SysTick")

    def _fire(self) -> None:
        self.event = None
        self.pend()
        ctrl = self.ctrl
        if not (ctrl & CTRL_TICKINT and ctrl & CTRL_ENABLE and self.load > 0):  # TICKINT and running
            return
        # O(1): the next zero is one period after the one that fired (the anchor is unchanged since
        # the event was scheduled, or a register write would have rescheduled), unless the clock
        # is already past it (then first_zero_after, as _schedule does).
        nxt = self._event_tick + self.load + 1
        divider = 1 if ctrl & CTRL_CLKSOURCE else REF_DIVIDER
        if nxt <= self.clock.now_cycles() // divider:
            self._schedule()
            return
        self._event_tick = nxt
        self.event = self.clock.schedule(nxt * divider, self._fire, "SysTick")

    def resync(self, at_cycle: int) -> None:
        """The native hot path delivered ticks itself (hp_tick): the next one is at ``at_cycle``."""
        if self.event is not None:
            self.clock.cancel(self.event)
        self._event_tick = at_cycle // self.divider
        self.event = self.clock.schedule(at_cycle, self._fire, "SysTick")

    def poll_hint(self, addr: int) -> tuple[bool, int | None]:
        """For the polling-loop watch (simcore/poll.py): COUNTFLAG (CTRL) changes at the next wrap, VAL at the
        next tick; nothing here changes at an event."""
        if not self.running:
            return False, None
        off = addr - self.BASE
        if off == 0x010:
            nxt = self.first_zero_after(self.tick())
            return False, None if nxt is None else nxt * self.divider
        if off == 0x018:
            return False, (self.tick() + 1) * self.divider
        return False, None

    # --- registers ---------------------------------------------------------------------------------
    def read_CTRL(self) -> int:
        self._update_flag(self.tick())
        value = self.ctrl | (CTRL_COUNTFLAG if self.countflag else 0)
        self.countflag = False  # COUNTFLAG clears on read (B3.3.3)
        return value

    def write_CTRL(self, value: int, mask: int) -> None:
        self._reanchor()  # freeze the count under the old settings
        self.ctrl = (self.ctrl & ~mask | value & mask) & 7
        self.anchor_tick = self.tick()  # same value, counted in the (maybe new) clock's ticks
        self.flag_checked_tick = self.anchor_tick
        self._schedule()

    def read_LOAD(self) -> int:
        return self.load

    def write_LOAD(self, value: int, mask: int) -> None:
        self._reanchor()  # the new value is used from the next reload
        self.load = (self.load & ~mask | value & mask) & 0x00FFFFFF
        self._schedule()

    def read_VAL(self) -> int:
        return self.value_at(self.tick()) & 0x00FFFFFF

    def write_VAL(self, value: int) -> None:
        self._reanchor(0)  # any write clears the counter and COUNTFLAG (B3.3.5)
        self.countflag = False
        self._schedule()

    def read_CALIB(self) -> int:
        tenms = int(self.clock.cycles_per_second() / REF_DIVIDER / 100) - 1
        skew = 0 if (tenms + 1) * REF_DIVIDER * 100 == int(self.clock.cycles_per_second()) else 1 << 30
        return skew | (tenms & 0x00FFFFFF)
