"""Floating-point extension registers (ARMv7-M B3.2.21-B3.2.23; Cortex-M4 TRM 7.3): FPCCR, FPCAR, FPDSCR, MVFR0-2.

FPCCR.ASPEN/LSPEN reset to 1. simcore saves the FP context eagerly at exception entry
(see simcore/cortexm/exceptions.py), so LSPACT always reads 0; FPCAR holds the address
of the S0 slot of the last extended frame, as the hardware sets it.
"""

from __future__ import annotations

from simcore.cortexm.exceptions import ExceptionModel
from simcore.cortexm.nvic import SCS_BASE
from simcore.registers import Register, RegisterBlock, ReportHost

ASPEN, LSPEN = 1 << 31, 1 << 30


class Fpu(RegisterBlock):
    NAME = "FPU"
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    BASE = SCS_BASE
    REGISTERS = (
        Register("FPCCR", 0xF34, reset=ASPEN | LSPEN, implemented=ASPEN | LSPEN | 0x17A),
        Register("FPCAR", 0xF38, implemented=0xFFFFFFF8),
        Register("FPDSCR", 0xF3C, implemented=0x07C00000, doc="default AHP/DN/FZ/RMode for new FP contexts (stored)"),
        Register("MVFR0", 0xF40, access="r", reset=0x10110021),
        Register("MVFR1", 0xF44, access="r", reset=0x11000011),
        Register("MVFR2", 0xF48, access="r", reset=0x00000000),
    )

    def __init__(self, host: ReportHost, exc: ExceptionModel) -> None:
        self.exc = exc
        super().__init__(host)

    def read_FPCCR(self) -> int:
        return self.get("FPCCR") & (ASPEN | LSPEN | 0x17A)

    def write_FPCCR(self, value: int, mask: int) -> None:
        new = self.merge("FPCCR", 0, value, mask)
        self.exc.cfg.lspen = bool(new & LSPEN)
        if not new & ASPEN:
            self.unimplemented("FPU.FPCCR", "ASPEN cleared: the emulated core still sets CONTROL.FPCA "
                                        "on FP instructions")

    def read_FPCAR(self) -> int:
        return self.exc.cfg.fpcar

    def write_FPCAR(self, value: int, mask: int) -> None:
        self.exc.cfg.fpcar = (self.exc.cfg.fpcar & ~mask | value & mask) & 0xFFFFFFF8
