"""Faults: classify what the emulator saw, set CFSR/HFSR/MMFAR/BFAR, escalate, or stop with a diagnosis.

ARMv7-M B1.5.14-B1.5.16 (fault types and escalation): a MemManage, BusFault or UsageFault
is taken as itself when it is enabled in SHCSR and its group priority preempts the current
execution priority; otherwise it escalates to HardFault with HFSR.FORCED. A fault that
HardFault cannot preempt (in HardFault or NMI, or with FAULTMASK set) is a lockup.

The firmware's own handler runs and can read the status registers. simcore stops the run
with a diagnosis instead when there is nothing useful left to emulate:

* the handler the fault vectors to is a branch-to-self (``Default_Handler``'s ``b .``);
* a fault handler stays active and spins in a branch-to-self (checked every
  ``WATCH_CYCLES`` by a machine event), sleeps with nothing to wake it, or runs longer
  than ``HANDLER_LIMIT_CYCLES`` without returning;
* lockup, or stacking into memory that is not RAM;
* a fault storm: the same fault at the same instruction ``STORM_REPEATS`` times in a row with
  only the handler run in between (a handler that returns to the faulting instruction without
  removing the cause would otherwise run for ever, at Python speed, under the budget).

The diagnosis is about the original fault (registers captured when it happened), not the
place the handler ended up spinning.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unicorn import arm_const as R

from simcore.cortexm.exceptions import (
    BUSFAULT,
    FAULTS,
    HARDFAULT,
    MEMMANAGE,
    exception_name,
)
from simcore.cortexm.scb import CFSR_BITS, HFSR_BITS, decode_bits
from simcore.diagnose import fault_stop
from simcore.runtypes import AccessKind, StopKind

if TYPE_CHECKING:
    from simcore.cortexm.system import SystemBlock

WATCH_CYCLES = 100_000
HANDLER_LIMIT_CYCLES = 200_000_000
STORM_REPEATS = 1000  # identical faults in a row at one instruction ...
STORM_GAP_INSNS = 100_000  # ... each at most this many instructions after the previous one
BRANCH_TO_SELF = (b"\xfe\xe7", b"\xff\xf7\xfe\xbf")  # b.n . / b.w .

_EXTRA_REGS = (R.UC_ARM_REG_BASEPRI, R.UC_ARM_REG_FAULTMASK, R.UC_ARM_REG_IPSR)


@dataclass
class FaultRecord:
    """One fault as it happened: for the diagnosis if the firmware cannot recover."""

    what: str
    exc: int
    pc: int
    registers: dict[str, int]
    address: int | None = None
    access: tuple[AccessKind, int, int] | None = None
    taken_as: int = 0
    cycle: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class FaultUnit:
    """Raises faults into the exception model and watches fault handlers."""

    def __init__(self, system: SystemBlock) -> None:
        self.sys = system
        self.m = system.m
        self.record: FaultRecord | None = None
        self._watch: Any = None
        self._storm: tuple[tuple[int, str, int], int, int] | None = None  # (fault, at insn, repeats)

    def reset(self) -> None:
        self.record = None
        self._storm = None
        if self._watch is not None:
            self.m.cancel(self._watch)
            self._watch = None

    # --- raising -----------------------------------------------------------------------------
    def raise_fault(self, exc: int, bit: str, return_address: int, what: str, address: int | None = None,
                    access: tuple[AccessKind, int, int] | None = None) -> None:
        """A synchronous fault at ``return_address`` (the faulting instruction)."""
        if self.sys.check_stack():  # the stack overflowed first: that is the story, not this fault
            return
        repeats = self._count_storm((exc, bit, return_address))
        e = self.sys.exc
        scb = self.sys.scb
        mmfar = address if exc == MEMMANAGE and address is not None and bit == "DACCVIOL" else None
        bfar = address if exc == BUSFAULT and address is not None and bit in ("PRECISERR", "STKERR") else None
        cfsr = CFSR_BITS.get(bit, 0)
        hfsr = HFSR_BITS.get(bit, 0)
        regs = self._registers(return_address)
        target = exc
        if exc != HARDFAULT and (not e.enabled[exc] or not e.can_preempt(exc)):
            target = HARDFAULT
            hfsr |= HFSR_BITS["FORCED"]
        scb.record_fault(cfsr, hfsr, mmfar, bfar)
        rec = FaultRecord(what, exc, return_address, regs, address, access, target, self.m.now_cycles())
        rec.extra = self.status()
        if target == HARDFAULT and e.execution_priority() <= -1:
            self.stop(rec, f"lockup: {what} while {exception_name(e.current())} was running "
                      "(HardFault cannot preempt it)")
            return
        handler = self._vector(target)
        if handler is None or self._spins(handler & ~1):
            self.stop(rec, what, note=f"no {exception_name(target)} handler (the vector points at a "
                      "branch-to-self)")
            return
        if repeats >= STORM_REPEATS:
            rec.extra["storm_repeats"] = repeats
            self.stop(rec, note=f"fault storm: the same fault {repeats:,} times in a row; the "
                      f"{exception_name(target)} handler ({self.m.fw.describe(handler)}) returns to the faulting "
                      "instruction without removing its cause")
            return
        self.record = rec
        self.sys.enter(target, return_address)
        self._arm_watch()

    def _count_storm(self, key: tuple[int, str, int]) -> int:
        """How many times in a row this fault happened at this instruction, the handler in between."""
        now = self.m.hot.state.insn_count
        last = self._storm
        repeats = last[2] + 1 if last is not None and last[0] == key and now - last[1] <= STORM_GAP_INSNS else 1
        self._storm = (key, now, repeats)
        return repeats

    def _registers(self, pc: int) -> dict[str, int]:
        """Core registers at the fault, with the masks and IPSR the machine's list leaves out."""
        regs = self.m.registers()
        regs["pc"] = pc
        regs.update(zip(("basepri", "faultmask", "ipsr"), self.sys.exc.regs.read(_EXTRA_REGS)))
        return regs

    def status(self) -> dict[str, Any]:
        scb = self.sys.scb
        cfsr, hfsr = scb.get("CFSR"), scb.get("HFSR")
        return {"cfsr": cfsr, "hfsr": hfsr, "cfsr_bits": decode_bits(cfsr, CFSR_BITS),
                "hfsr_bits": decode_bits(hfsr, HFSR_BITS), "mmfar": scb.get("MMFAR"), "bfar": scb.get("BFAR")}

    def _vector(self, exc: int) -> int | None:
        addr = self.sys.exc.cfg.vtor + 4 * exc
        if self.m.memmap.window(addr, 4) is None:
            return None
        return struct.unpack("<I", self.m.mem_read(addr, 4))[0]

    def _spins(self, addr: int) -> bool:
        if self.m.memmap.window(addr, 4) is None:
            return False
        head = self.m.mem_read(addr, 4)
        return head[:2] == BRANCH_TO_SELF[0] or head == BRANCH_TO_SELF[1]

    # --- stopping -------------------------------------------------------------------------------
    def describe(self, rec: FaultRecord) -> str:
        names = rec.extra.get("cfsr_bits", []) + rec.extra.get("hfsr_bits", [])
        taken = exception_name(rec.exc)
        if rec.taken_as != rec.exc:
            taken += " escalated to HardFault"
        return f"{taken} ({', '.join(names) or 'no status bits'}): {rec.what}"

    def stop(self, rec: FaultRecord, what: str | None = None, note: str = "", kind: StopKind | None = None) -> None:
        text = self.describe(rec) if what is None or what == rec.what else what
        if kind is None:  # the architecture's lockup state (B1.5.15) has its own stop kind
            kind = StopKind.LOCKUP if "lockup:" in text else StopKind.FAULT
        if note:
            text = f"{text}; {note}"
        extra = {**rec.extra, "exception": exception_name(rec.exc), "taken_as": exception_name(rec.taken_as),
                 "fault_address": rec.address, "fault_cycle": rec.cycle}
        stop = fault_stop(self.m, text, rec.pc, rec.access, regs=rec.registers, extra=extra, kind=kind)
        if rec.address is not None:
            stop.details["address"] = rec.address
        self.m.request_stop(stop)

    def stop_now(self, what: str, pc: int, exc: int = HARDFAULT, access: tuple[AccessKind, int, int] | None = None,
                 address: int | None = None, kind: StopKind | None = None) -> None:
        """Stop with a diagnosis without entering any handler (lockup-like conditions)."""
        regs = self._registers(pc)
        rec = FaultRecord(what, exc, pc, regs, address, access, exc, self.m.now_cycles(), self.status())
        self.stop(rec, what, kind=kind)

    # --- watching the handler -----------------------------------------------------------------------
    def _arm_watch(self) -> None:
        if self._watch is None:
            self._watch = self.m.schedule(self.m.now_cycles() + WATCH_CYCLES, self._check, "fault handler watch")

    def handler_returned(self, exc: int) -> None:
        """A fault handler returned: the firmware recovered, stop watching."""
        if exc in FAULTS and not any(x in FAULTS for x in self.sys.exc.active):
            self.record = None
            if self._watch is not None:
                self.m.cancel(self._watch)
                self._watch = None

    def in_handler(self) -> bool:
        return self.record is not None and any(x in FAULTS for x in self.sys.exc.active)

    def _check(self) -> None:
        self._watch = None
        rec = self.record
        if rec is None or not self.in_handler():
            return
        pc = self.m.pc()
        if self._spins(pc) and self.spinning_in_handler(pc):
            return
        if self.m.now_cycles() - rec.cycle > HANDLER_LIMIT_CYCLES:
            self.stop(rec, note=f"the fault handler ran {HANDLER_LIMIT_CYCLES:,} cycles without returning")
            return
        self._arm_watch()

    def spinning_in_handler(self, pc: int) -> bool:
        """A branch-to-self while a fault handler is active: report the fault."""
        rec = self.record
        if rec is None or not self.in_handler():
            return False
        self.stop(rec, note=f"the firmware's {exception_name(rec.taken_as)} handler never returned "
                  f"(spinning at {self.m.fw.describe(pc)})")
        return True

    def sleeping_in_handler(self, pc: int) -> bool:
        """wfi with nothing to wake the core while a fault handler is active: report the fault."""
        rec = self.record
        if rec is None or not self.in_handler():
            return False
        self.stop(rec, note=f"the fault handler sleeps forever at {self.m.fw.describe(pc)}")
        return True
