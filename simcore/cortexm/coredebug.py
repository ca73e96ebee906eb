"""Core debug registers (ARMv7-M C1.6): DHCSR, DCRSR, DCRDR, DEMCR.

No debugger is ever attached: DHCSR reads C_DEBUGEN = 0 (firmware that checks for a
debugger before a breakpoint sees none). DEMCR.TRCENA gates DWT CYCCNT and the ITM; the
vector-catch and monitor bits are stored but have no effect.
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.cortexm.nvic import SCS_BASE
from simcore.registers import Register, RegisterBlock, ReportHost

TRCENA = 1 << 24


class CoreDebug(RegisterBlock):
    NAME = "CoreDebug"
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    BASE = SCS_BASE
    REGISTERS = (
        Register("DHCSR", 0xDF0, implemented=0, doc="halting debug: never enabled"),
        Register("DCRSR", 0xDF4, access="w", implemented=0),
        Register("DCRDR", 0xDF8),
        Register("DEMCR", 0xDFC, implemented=TRCENA | 0x000F07F1, doc="TRCENA modelled; catch/monitor bits stored"),
    )

    def __init__(self, host: ReportHost, on_trcena: Callable[[], None]) -> None:
        self.on_trcena = on_trcena
        super().__init__(host)

    @property
    def trcena(self) -> bool:
        return bool(self.get("DEMCR") & TRCENA)

    def read_DHCSR(self) -> int:
        return 0

    def write_DHCSR(self, value: int, mask: int) -> None:
        value &= mask
        if value >> 16 != 0xA05F:
            return  # writes without DBGKEY are ignored (C1.6.2)
        if value & 0xFFFF:
            self.unimplemented("CoreDebug.DHCSR", "halting debug is not modelled")

    def write_DEMCR(self, value: int, mask: int) -> None:
        before = self.trcena
        self.merge("DEMCR", 0, value, mask)
        if self.trcena != before:
            self.on_trcena()
