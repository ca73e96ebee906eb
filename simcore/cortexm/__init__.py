"""The Cortex-M4 system block: what Unicorn lacks of an M-profile core (ARMv7-M ARM, chapter B1 and B3).

This first version models the System Control Space registers firmware touches at start-up
(CPACR for the FPU, CPUID, VTOR) and turns CPU errors into fault stops with a diagnosis.
Exception entry/return, NVIC, SysTick and DWT arrive with the full system block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import unicorn

from simcore.diagnose import fault_stop

if TYPE_CHECKING:
    from simcore.machine import Machine

CPUID_CORTEX_M4_R0P1 = 0x410FC241  # ARMv7-M B3.2.3; Cortex-M4 TRM 4.3.1 (r0p1)


class SystemBlock:
    """Minimal SCS: register storage for the SCB words firmware writes at boot."""

    REGS = {
        0xE000ED00: ("CPUID", CPUID_CORTEX_M4_R0P1),
        0xE000ED08: ("VTOR", 0),
        0xE000ED0C: ("AIRCR", 0xFA050000),
        0xE000ED10: ("SCR", 0),
        0xE000ED14: ("CCR", 0x200),
        0xE000ED88: ("CPACR", 0),
    }

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self.values: dict[int, int] = {}
        self.sleep_cycles = 0

    def reset(self) -> None:
        self.values = {addr: reset for addr, (_name, reset) in self.REGS.items()}
        self.values[0xE000ED08] = self.m.board.reset_vtor

    def read(self, addr: int, size: int) -> int:
        base = addr & ~3
        if base in self.values:
            return (self.values[base] >> ((addr - base) * 8)) & ((1 << (size * 8)) - 1)
        self.m.report_unmodelled(f"{addr:#010x}", f"read of {size} bytes in the system control space (not modelled)")
        return 0

    def write(self, addr: int, size: int, value: int) -> None:
        base = addr & ~3
        if base in self.values and base != 0xE000ED00:
            shift = (addr - base) * 8
            mask = ((1 << (size * 8)) - 1) << shift
            self.values[base] = (self.values[base] & ~mask) | ((value << shift) & mask)
            return
        self.m.report_unmodelled(f"{addr:#010x}", f"write of {value:#x} in the system control space (not modelled)")

    def set_irq(self, irq: int, level: bool) -> None:
        self.m.report_unmodelled(f"irq{irq}", "interrupt raised, but the NVIC is not modelled yet")

    def pend_irq(self, irq: int) -> None:
        self.set_irq(irq, True)

    def take_pending(self) -> None:
        """Deliver pending exceptions at this block boundary (none without an NVIC)."""

    def account_sleep(self, cycles: int) -> None:
        self.sleep_cycles += cycles

    def on_exception(self, intno: int, pc: int) -> None:
        names = {2: "SVC", 8: "exception return"}
        self.m.request_stop(fault_stop(self.m, f"{names.get(intno, f'exception {intno}')} with no exception model",
                                       pc))

    def on_cpu_error(self, err: unicorn.UcError, pc: int, access: tuple[str, int, int] | None) -> None:
        self.m.request_stop(fault_stop(self.m, _describe_error(err, access), pc, access))

    def on_halt(self, pc: int) -> None:
        nxt = self.m.next_event_cycle()
        if nxt is None:
            from simcore.machine import Stop

            self.m.request_stop(Stop("sleeping", f"the core sleeps (wfi/wfe) at {self.m.fw.describe(pc)} and "
                                     "nothing is scheduled that could wake it: sleeping forever", pc=pc))
            return
        self.m.advance_to(nxt)
        self.m.run_due_events()

    def describe(self) -> dict[str, Any]:
        return {"sleep_cycles": self.sleep_cycles}


def _describe_error(err: unicorn.UcError, access: tuple[str, int, int] | None) -> str:
    if access is not None:
        kind, addr, size = access
        return {
            "read": f"BusFault: read of {size} bytes from unmapped address {addr:#010x}",
            "write": f"BusFault: write of {size} bytes to unmapped address {addr:#010x}",
            "fetch": f"MemManage/BusFault: instruction fetch from unmapped address {addr:#010x}",
            "write-protected": f"BusFault: write of {size} bytes to read-only memory (flash) at {addr:#010x}",
            "execute-protected": f"MemManage fault: execute from non-executable memory at {addr:#010x}",
            "read-protected": f"BusFault: read from protected memory at {addr:#010x}",
        }.get(kind, f"{kind} at {addr:#010x}")
    if err.errno == unicorn.UC_ERR_INSN_INVALID:
        return "UsageFault: undefined instruction"
    return f"CPU error: {err}"
