"""DWT (ARMv7-M C1.8): CYCCNT computed from the machine's cycle counter, the clock SysTick uses.

CYCCNT counts while DWT_CTRL.CYCCNTENA and DEMCR.TRCENA are set (C1.8.2, C1.6.5); it is
kept as an offset from the virtual clock, so a read returns the cycle count at the end of
the current translated block (the hot path adds a block's cost when the block starts).
Comparators, the profiling counters (CPICNT, EXCCNT, SLEEPCNT, LSUCNT, FOLDCNT) and PC
sampling are not modelled: accesses to them are reported.

With the native hot path, word reads of CYCCNT are served in C (hotpath.c, hp_dwt_mmio_read: firmware that
times a delay with CYCCNT reads it thousands of times): this model publishes its state to the hot state
(``publish``) at every change, and C computes the same value from the same clock. Writes stay here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simcore.cortexm.systick import ClockHost
from simcore.registers import Register, RegisterBlock

DWT_BASE = 0xE0001000
CYCCNTENA = 1
# NUMCOMP = 0 (no comparators modelled), NOTRCPKT/NOEXTTRIG/NOPRFCNT set: only CYCCNT exists
CTRL_RO = (0 << 28) | (1 << 27) | (1 << 26) | (1 << 24)


class Dwt(RegisterBlock):
    NAME = "DWT"
    BASE = DWT_BASE
    REGISTERS = (
        Register("CTRL", 0x000, implemented=CYCCNTENA | CTRL_RO, doc="only CYCCNTENA is modelled; ID bits read-only"),
        Register("CYCCNT", 0x004),
        Register("LAR", 0xFB0, access="w", doc="CoreSight lock access: writes accepted"),
        Register("LSR", 0xFB4, access="r", doc="0: the lock mechanism is not implemented (Cortex-M4)"),
    )

    def __init__(self, host: ClockHost, trace_enabled: Callable[[], bool]) -> None:
        self.clock = host
        self.trace_enabled = trace_enabled
        self._native: Any = None  # the hot state whose dwt_* fields C serves CYCCNT reads from (serve_in_c)
        super().__init__(host)

    def reset(self) -> None:
        super().reset()
        self.ctrl = 0
        self.frozen = 0  # CYCCNT while stopped
        self.origin: int | None = None  # machine cycle at which CYCCNT was 0 while counting
        self.publish()

    def serve_in_c(self, state: Any) -> None:
        """Have the native hot path serve CYCCNT reads (hp_dwt_mmio_read) from ``state``, kept current here."""
        self._native = state
        state.dwt_on |= 1
        self.publish()

    def publish(self) -> None:
        """CYCCNT's state for C (hp_dwt_mmio_read): whether it counts, its origin, the value it stopped at."""
        st = self._native
        if st is None:
            return
        st.dwt_counting = int(self.origin is not None)
        st.dwt_origin = (self.origin or 0) & 0xFFFFFFFFFFFFFFFF
        st.dwt_frozen = self.frozen & 0xFFFFFFFF

    @property
    def counting(self) -> bool:
        return self.origin is not None

    def cyccnt(self) -> int:
        if self.origin is None:
            return self.frozen
        return (self.clock.now_cycles() - self.origin) & 0xFFFFFFFF

    def _set_counting(self, on: bool) -> None:
        if on and self.origin is None:
            self.origin = self.clock.now_cycles() - self.frozen
        elif not on and self.origin is not None:
            self.frozen = self.cyccnt()
            self.origin = None
        self.publish()

    def trace_changed(self) -> None:
        """DEMCR.TRCENA changed: CYCCNT runs only with both enables."""
        self._set_counting(bool(self.ctrl & CYCCNTENA) and self.trace_enabled())

    def poll_hint(self, addr: int) -> tuple[bool, int | None]:
        """For the polling-loop watch (simcore/poll.py): CYCCNT changes every cycle while counting."""
        if addr - self.BASE == 0x004 and self.origin is not None:
            return False, self.clock.now_cycles() + 1
        return False, None

    def read_CTRL(self) -> int:
        return CTRL_RO | self.ctrl

    def write_CTRL(self, value: int, mask: int) -> None:
        self.ctrl = (self.ctrl & ~mask | value & mask) & CYCCNTENA
        self.trace_changed()

    def read_CYCCNT(self) -> int:
        return self.cyccnt()

    def write_CYCCNT(self, value: int, mask: int) -> None:
        new = (self.cyccnt() & ~mask) | (value & mask)
        if self.origin is None:
            self.frozen = new
        else:
            self.origin = self.clock.now_cycles() - new
        self.publish()
