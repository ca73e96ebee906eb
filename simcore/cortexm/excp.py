"""QEMU's exception numbers, as Unicorn's UC_HOOK_INTR reports them (``intno``).

Named once here; values from QEMU's target/arm/cpu.h (``#define EXCP_*``), the source
Unicorn 2 is built from. simcore/native/hotpath.c uses the same numbers for the ones it
handles itself (EXCP_EXCEPTION_EXIT).
"""

from __future__ import annotations

from enum import IntEnum


class Excp(IntEnum):
    UDEF = 1  # undefined instruction
    SWI = 2  # svc; the PC is after the instruction
    PREFETCH_ABORT = 3  # instruction fetch failed
    DATA_ABORT = 4
    IRQ = 5
    FIQ = 6
    BKPT = 7  # bkpt; the PC is at the instruction (semihosting: bkpt 0xab)
    EXCEPTION_EXIT = 8  # return from a v7M exception: the PC holds EXC_RETURN without bit 0
    KERNEL_TRAP = 9
    HVC = 11
    HYP_TRAP = 12
    SMC = 13
    VIRQ = 14
    VFIQ = 15
    SEMIHOST = 16
    NOCP = 17  # v7M NOCP UsageFault: coprocessor instruction with the coprocessor disabled
    INVSTATE = 18  # v7M INVSTATE UsageFault: execution in ARM state
    STKOF = 19  # v8M STKOF UsageFault
    LAZYFP = 20  # v7M fault during lazy FP stacking
    LSERR = 21  # v8M LSERR SecureFault
    UNALIGNED = 22  # v7M UNALIGNED UsageFault
    DIVBYZERO = 23  # v7M DIVBYZERO UsageFault
