"""NVIC registers (ARMv7-M B3.4): ISER/ICER, ISPR/ICPR, IABR, IPR, STIR, and ICTR (B3.2.2).

The state lives in :class:`~simcore.cortexm.exceptions.ExceptionModel` (one source of
truth for NVIC, SCB and the exception logic); these registers are views onto it.
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.cortexm.exceptions import IRQ0, ExceptionModel
from simcore.registers import Register, RegisterBlock, ReportHost

SCS_BASE = 0xE000E000


class Nvic(RegisterBlock):
    NAME = "NVIC"
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    BASE = SCS_BASE
    REGISTERS = (
        Register("ICTR", 0x004, access="r", doc="Interrupt Controller Type: INTLINESNUM"),
        Register("ISER", 0x100, access="w1s", count=16, doc="set-enable"),
        Register("ICER", 0x180, access="w1c", count=16, doc="clear-enable (reads the enables)"),
        Register("ISPR", 0x200, access="w1s", count=16, doc="set-pending"),
        Register("ICPR", 0x280, access="w1c", count=16, doc="clear-pending (reads the pending bits)"),
        Register("IABR", 0x300, access="r", count=16, doc="active bits"),
        Register("IPR", 0x400, width=8, count=496, doc="priority of each interrupt (upper bits implemented)"),
        Register("STIR", 0xF00, access="w", implemented=0x1FF, doc="software trigger: write the interrupt number"),
    )

    def __init__(self, host: ReportHost, exc: ExceptionModel, changed: Callable[[], None]) -> None:
        self.exc = exc
        self.changed = changed  # called when something may now preempt
        super().__init__(host)

    def _irqs(self, index: int) -> range:
        first = 32 * index
        return range(first, min(first + 32, self.exc.num_irq))

    def _bits(self, index: int, pred: Callable[[int], bool]) -> int:
        return sum(1 << (irq % 32) for irq in self._irqs(index) if pred(IRQ0 + irq))

    def _each(self, index: int, value: int, fn: Callable[[int], None]) -> None:
        """``fn(exception)`` for each bit set in ``value`` (of register ``index``), lowest first, up to the part's
        last interrupt."""
        value &= 0xFFFFFFFF
        first, n = 32 * index, self.exc.num_irq
        while value:
            low = value & -value
            irq = first + low.bit_length() - 1
            if irq >= n:
                return
            fn(IRQ0 + irq)
            value ^= low

    def read_ICTR(self) -> int:
        return max(0, (self.exc.num_irq + 31) // 32 - 1)

    def read_ISER(self, i: int) -> int:
        return self._bits(i, lambda e: bool(self.exc.enabled[e]))

    read_ICER = read_ISER

    def write_ISER(self, i: int, value: int) -> None:
        self._each(i, value, lambda e: self.exc.enabled.__setitem__(e, 1))
        self.changed()

    def write_ICER(self, i: int, value: int) -> None:
        self._each(i, value, lambda e: self.exc.enabled.__setitem__(e, 0))

    def read_ISPR(self, i: int) -> int:
        return self._bits(i, lambda e: e in self.exc.pending)

    read_ICPR = read_ISPR

    def write_ISPR(self, i: int, value: int) -> None:
        self._each(i, value, self.exc.pend)
        self.changed()

    def write_ICPR(self, i: int, value: int) -> None:
        self._each(i, value, self.exc.unpend)

    def read_IABR(self, i: int) -> int:
        return self._bits(i, lambda e: e in self.exc.active)

    def read_IPR(self, irq: int) -> int:
        return self.exc.prio[IRQ0 + irq] if irq < self.exc.num_irq else 0

    def write_IPR(self, irq: int, value: int) -> None:
        if irq < self.exc.num_irq:
            self.exc.set_priority(IRQ0 + irq, value)
            self.changed()

    def write_STIR(self, value: int) -> None:
        irq = value & 0x1FF
        if irq >= self.exc.num_irq:
            self.guest_error("NVIC.STIR", f"software trigger of IRQ{irq}, beyond the part's "
                             f"{self.exc.num_irq} interrupts")
            return
        self.exc.pend(IRQ0 + irq)
        self.changed()
