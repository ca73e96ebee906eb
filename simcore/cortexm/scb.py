"""System Control Block (ARMv7-M B3.2.3-B3.2.20) and ACTLR (B3.2.2), with the fault status registers.

Values the exception model needs (VTOR, PRIGROUP, CCR bits, priorities, enables,
pending/active state) live in :class:`ExceptionModel`; the registers here read and write
them. SYSRESETREQ calls ``on_reset_request``; the DIV_0_TRP / UNALIGN_TRP bits call
``on_ccr`` so the system block can install its checks.
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.cortexm.exceptions import (
    BUSFAULT,
    DEBUGMON,
    MEMMANAGE,
    NMI,
    PENDSV,
    SVCALL,
    SYSTICK,
    USAGEFAULT,
    ExceptionModel,
)
from simcore.cortexm.nvic import SCS_BASE
from simcore.registers import Register, RegisterBlock, ReportHost

CPUID_CORTEX_M4_R0P1 = 0x410FC241  # B3.2.3; Cortex-M4 TRM 4.3.1 (r0p1)
VECTKEY = 0x05FA
CCR_DIV_0_TRP, CCR_UNALIGN_TRP, CCR_STKALIGN, CCR_NONBASETHRDENA = 1 << 4, 1 << 3, 1 << 9, 1

# CFSR bits (B3.2.15): MMFSR [7:0], BFSR [15:8], UFSR [31:16]
CFSR_BITS = {
    "IACCVIOL": 1 << 0, "DACCVIOL": 1 << 1, "MUNSTKERR": 1 << 3, "MSTKERR": 1 << 4, "MLSPERR": 1 << 5,
    "MMARVALID": 1 << 7,
    "IBUSERR": 1 << 8, "PRECISERR": 1 << 9, "IMPRECISERR": 1 << 10, "UNSTKERR": 1 << 11, "STKERR": 1 << 12,
    "LSPERR": 1 << 13, "BFARVALID": 1 << 15,
    "UNDEFINSTR": 1 << 16, "INVSTATE": 1 << 17, "INVPC": 1 << 18, "NOCP": 1 << 19, "UNALIGNED": 1 << 24,
    "DIVBYZERO": 1 << 25,
}
HFSR_BITS = {"VECTTBL": 1 << 1, "FORCED": 1 << 30, "DEBUGEVT": 1 << 31}

# SHCSR (B3.2.13): (exception, active bit, pending bit, enable bit)
_SHCSR = (
    (MEMMANAGE, 0, 13, 16), (BUSFAULT, 1, 14, 17), (USAGEFAULT, 3, 12, 18), (SVCALL, 7, 15, None),
    (DEBUGMON, 8, None, None), (PENDSV, 10, None, None), (SYSTICK, 11, None, None),
)

_SYSTEM_HANDLERS = (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, DEBUGMON, PENDSV, SYSTICK)  # with a priority in SHPR

# Cortex-M4 TRM table 4-1: processor feature registers (read-only)
_ID_REGS = (0x00000030, 0x00000200, 0x00100000, 0x00000000, 0x00100030, 0x00000000, 0x01000000, 0x00000000,
            0x01101110, 0x02111000, 0x21112231, 0x01111110, 0x01310132)


def decode_bits(value: int, table: dict[str, int]) -> list[str]:
    return [name for name, bit in table.items() if value & bit]


class Scb(RegisterBlock):
    NAME = "SCB"
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    BASE = SCS_BASE
    REGISTERS = (
        Register("ACTLR", 0x008, implemented=0x307, doc="auxiliary control (stored, no effect on emulation)"),
        Register("CPUID", 0xD00, access="r", reset=CPUID_CORTEX_M4_R0P1),
        Register("ICSR", 0xD04, implemented=0x9E000000),
        Register("VTOR", 0xD08, implemented=0xFFFFFF80),
        Register("AIRCR", 0xD0C, implemented=0xFFFF0704),
        Register("SCR", 0xD10, implemented=0x16,
                 doc="SLEEPONEXIT, SEVONPEND; SLEEPDEEP: Stop/Standby (simcore/lowpower.py)"),
        Register("CCR", 0xD14, reset=CCR_STKALIGN, implemented=0x219),
        Register("SHPR", 0xD18, width=8, count=12, doc="system handler priorities, SHPR1-3: exceptions 4..15"),
        Register("SHCSR", 0xD24, implemented=0x0007FD8B),
        # Write one to clear (B3.2.15-B3.2.17): ones written to bits that are clear or reserved change
        # nothing, so firmware that clears with all ones (Zephyr: HFSR = 0xFFFFFFFF) is not reported.
        Register("CFSR", 0xD28, access="w1c", doc="MMFSR, BFSR, UFSR"),
        Register("HFSR", 0xD2C, access="w1c"),
        Register("DFSR", 0xD30, access="w1c", doc="no debug events are raised"),
        Register("MMFAR", 0xD34),
        Register("BFAR", 0xD38),
        Register("AFSR", 0xD3C, implemented=0),
        Register("ID", 0xD40, access="r", count=13, doc="ID_PFR0..ID_ISAR4"),
        Register("CPACR", 0xD88, implemented=0x00F00000, doc="CP10/CP11 access (the FPU always executes)"),
    )

    def __init__(self, host: ReportHost, exc: ExceptionModel, changed: Callable[[], None],
                 on_reset_request: Callable[[], None], on_ccr: Callable[[int], None]) -> None:
        self.exc = exc
        self.changed = changed
        self.on_reset_request = on_reset_request
        self.on_ccr = on_ccr
        self.reset_vtor = 0
        super().__init__(host)

    def reset(self) -> None:
        super().reset()
        self.exc.cfg.vtor = self.reset_vtor
        self.exc.cfg.prigroup = 0
        self.exc.cfg.stkalign = True
        self.exc.cfg.nonbasethrdena = False

    # --- fault status, set by the fault logic -----------------------------------------------
    def record_fault(self, cfsr: int = 0, hfsr: int = 0, mmfar: int | None = None, bfar: int | None = None) -> None:
        if mmfar is not None:
            self.set("MMFAR", mmfar)
            cfsr |= CFSR_BITS["MMARVALID"]
        if bfar is not None:
            self.set("BFAR", bfar)
            cfsr |= CFSR_BITS["BFARVALID"]
        self.set("CFSR", self.get("CFSR") | cfsr)
        self.set("HFSR", self.get("HFSR") | hfsr)

    # --- ICSR (B3.2.4) ------------------------------------------------------------------------
    def read_ICSR(self) -> int:
        e = self.exc
        active = e.current()
        pending = e.highest_pending() or 0
        value = active | (pending << 12)
        if any(x >= 16 for x in e.pending):
            value |= 1 << 22
        if active and len(e.active) <= 1:
            value |= 1 << 11  # RETTOBASE: no other exception active
        if PENDSV in e.pending:
            value |= 1 << 28
        if SYSTICK in e.pending:
            value |= 1 << 26
        if NMI in e.pending:
            value |= 1 << 31
        return value

    def write_ICSR(self, value: int) -> None:
        e = self.exc
        if value & (1 << 27):
            e.unpend(PENDSV)
        if value & (1 << 25):
            e.unpend(SYSTICK)
        if value & (1 << 28):
            e.pend(PENDSV)
        if value & (1 << 26):
            e.pend(SYSTICK)
        if value & (1 << 31):
            e.pend(NMI)
        self.changed()

    # --- VTOR, AIRCR, SCR, CCR ---------------------------------------------------------------------
    def read_VTOR(self) -> int:
        return self.exc.cfg.vtor

    def write_VTOR(self, value: int, mask: int) -> None:
        self.exc.cfg.vtor = ((self.exc.cfg.vtor & ~mask) | (value & mask)) & 0xFFFFFF80

    def read_AIRCR(self) -> int:
        return 0xFA050000 | (self.exc.cfg.prigroup << 8)

    def write_AIRCR(self, value: int, mask: int) -> None:
        value &= mask
        if mask & 0xFFFF0000 != 0xFFFF0000 or value >> 16 != VECTKEY:
            self.guest_error("SCB.AIRCR", f"write of {value:#x} without VECTKEY 0x05FA (ignored)")
            return
        if mask & 0x700:
            self.exc.cfg.prigroup = (value >> 8) & 7
            self.changed()
        if value & 3:
            self.guest_error("SCB.AIRCR", "VECTRESET/VECTCLRACTIVE are debug-only (ignored)")
        if value & 4:
            self.on_reset_request()

    def read_SCR(self) -> int:
        return self.get("SCR")

    def write_SCR(self, value: int, mask: int) -> None:
        self.merge("SCR", 0, value, mask & 0x16)

    # (SCR's stored value read directly, as Mpu.enabled reads CTRL: asked at every arming of C and every kick)
    @property
    def sleep_on_exit(self) -> bool:
        """SCR.SLEEPONEXIT: a return to Thread mode sleeps (B1.5.12)."""
        return bool(self.values["SCR"] & 2)

    @property
    def sleep_deep(self) -> bool:
        """SCR.SLEEPDEEP: wfi/wfe enter the part's deep-sleep mode (simcore/lowpower.py)."""
        return bool(self.values["SCR"] & 4)

    @property
    def sev_on_pend(self) -> bool:
        """SCR.SEVONPEND: a new pending interrupt is a WFE wake-up event (B1.5.18)."""
        return bool(self.values["SCR"] & 0x10)

    def read_CCR(self) -> int:
        value = self.get("CCR") & ~(CCR_STKALIGN | CCR_NONBASETHRDENA)
        cfg = self.exc.cfg
        return value | (CCR_STKALIGN if cfg.stkalign else 0) | (CCR_NONBASETHRDENA if cfg.nonbasethrdena else 0)

    def write_CCR(self, value: int, mask: int) -> None:
        old = self.get("CCR")
        new = self.merge("CCR", 0, value, mask & 0x31B)
        self.exc.cfg.stkalign = bool(new & CCR_STKALIGN)
        self.exc.cfg.nonbasethrdena = bool(new & CCR_NONBASETHRDENA)
        if (old ^ new) & (CCR_DIV_0_TRP | CCR_UNALIGN_TRP):
            self.on_ccr(new)

    # --- SHPR, SHCSR ----------------------------------------------------------------------------------
    def read_SHPR(self, i: int) -> int:
        exc = 4 + i
        return self.exc.prio[exc] if exc in _SYSTEM_HANDLERS else 0

    def write_SHPR(self, i: int, value: int) -> None:
        exc = 4 + i
        if exc in _SYSTEM_HANDLERS:
            self.exc.set_priority(exc, value)
        self.changed()

    def read_SHCSR(self) -> int:
        e = self.exc
        value = 0
        for exc, act, pend, ena in _SHCSR:
            if exc in e.active:
                value |= 1 << act
            if pend is not None and exc in e.pending:
                value |= 1 << pend
            if ena is not None and e.enabled[exc]:
                value |= 1 << ena
        return value

    def write_SHCSR(self, value: int, mask: int) -> None:
        e = self.exc
        for exc, act, pend, ena in _SHCSR:
            if ena is not None and mask >> ena & 1:
                e.enabled[exc] = value >> ena & 1
            if pend is not None and mask >> pend & 1:
                if value >> pend & 1:
                    e.pend(exc)
                else:
                    e.pending.discard(exc)
            if mask >> act & 1 and bool(value >> act & 1) != (exc in e.active):
                self.unimplemented("SCB.SHCSR", "writing the active bits is not modelled (ignored)")
        self.changed()

    def read_ID(self, i: int) -> int:
        return _ID_REGS[i]
