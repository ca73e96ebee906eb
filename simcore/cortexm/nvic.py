"""NVIC registers (ARMv7-M B3.4): ISER/ICER, ISPR/ICPR, IABR, IPR, STIR, and ICTR (B3.2.2).

The state lives in :class:`~simcore.cortexm.exceptions.ExceptionModel` (one source of
truth for NVIC, SCB and the exception logic); these registers are views onto it.
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.cortexm.exceptions import IRQ0, ExceptionModel
from simcore.cortexm.regs import Reg, RegisterBlock, ReportHost

SCS_BASE = 0xE000E000


class Nvic(RegisterBlock):
    NAME = "NVIC"
    BASE = SCS_BASE
    REGS = (
        Reg("ICTR", 0x004, access="r", doc="Interrupt Controller Type: INTLINESNUM"),
        Reg("ISER", 0x100, count=16, doc="set-enable, write 1 to set"),
        Reg("ICER", 0x180, count=16, doc="clear-enable, write 1 to clear"),
        Reg("ISPR", 0x200, count=16, doc="set-pending, write 1 to set"),
        Reg("ICPR", 0x280, count=16, doc="clear-pending, write 1 to clear"),
        Reg("IABR", 0x300, access="r", count=16, doc="active bits"),
        Reg("IPR", 0x400, count=124, doc="priorities, one byte per interrupt (upper bits implemented)"),
        Reg("STIR", 0xF00, access="w", implemented=0x1FF, doc="software trigger: write the interrupt number"),
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
        for irq in self._irqs(index):
            if value >> (irq % 32) & 1:
                fn(IRQ0 + irq)

    def read_ICTR(self, _i: int) -> int:
        return max(0, (self.exc.num_irq + 31) // 32 - 1)

    def read_ISER(self, i: int) -> int:
        return self._bits(i, lambda e: bool(self.exc.enabled[e]))

    read_ICER = read_ISER

    def write_ISER(self, i: int, value: int, _mask: int) -> None:
        self._each(i, value, lambda e: self.exc.enabled.__setitem__(e, 1))
        self.changed()

    def write_ICER(self, i: int, value: int, _mask: int) -> None:
        self._each(i, value, lambda e: self.exc.enabled.__setitem__(e, 0))

    def read_ISPR(self, i: int) -> int:
        return self._bits(i, lambda e: e in self.exc.pending)

    read_ICPR = read_ISPR

    def write_ISPR(self, i: int, value: int, _mask: int) -> None:
        self._each(i, value, self.exc.pend)
        self.changed()

    def write_ICPR(self, i: int, value: int, _mask: int) -> None:
        self._each(i, value, self.exc.unpend)

    def read_IABR(self, i: int) -> int:
        return self._bits(i, lambda e: e in self.exc.active)

    def read_IPR(self, i: int) -> int:
        out = 0
        for b in range(4):
            irq = 4 * i + b
            if irq < self.exc.num_irq:
                out |= self.exc.prio[IRQ0 + irq] << (8 * b)
        return out

    def write_IPR(self, i: int, value: int, mask: int) -> None:
        for b in range(4):
            irq = 4 * i + b
            if mask >> (8 * b) & 0xFF and irq < self.exc.num_irq:
                self.exc.set_priority(IRQ0 + irq, value >> (8 * b))
        self.changed()

    def write_STIR(self, _i: int, value: int, _mask: int) -> None:
        irq = value & 0x1FF
        if irq >= self.exc.num_irq:
            self.host.report_unmodelled("NVIC.STIR", f"software trigger of IRQ{irq}, beyond the part's "
                                        f"{self.exc.num_irq} interrupts")
            return
        self.exc.pend(IRQ0 + irq)
        self.changed()
