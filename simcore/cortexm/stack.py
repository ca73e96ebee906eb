"""Stack overflow detection: a guard page below ``__StackLimit`` and the hot path's SP low-water mark.

Convention (simcore/layout.py STACK_LIMIT_SYMBOLS, firmware/common/cortex-m4.ld): the main
stack occupies ``[__StackLimit, __StackTop)``; going below ``__StackLimit`` is an overflow.

* Guard page: when the 4 KiB page below ``__StackLimit`` lies in the heap area (above
  ``__HeapBase``) it is made read-only. A push into it fails in Unicorn with a write
  protection error at the pushing instruction, and the run stops there as "stack overflow in
  <function>". A non-stack write into the page (the heap grew there) releases the guard and
  the run goes on.
* Low-water mark: the native hot path keeps the lowest SP it saw; it is checked at every
  stop, while no thread has run on PSP (the mark cannot tell the stacks apart).
* Exception entry: a frame stacked below the limit (simcore writes frames itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import unicorn
from unicorn import arm_const as R

from simcore.diagnose import fault_stop
from simcore.lazycs import thumb

if TYPE_CHECKING:
    from simcore.cortexm.host import MachineView

PAGE = 0x1000


class StackWatch:
    """Finds the first moment the main stack goes below ``__StackLimit`` and stops the run there."""

    def __init__(self, machine: MachineView) -> None:
        self.m = machine
        self.limit = machine.layout.stack_limit
        self.psp_seen = False
        self.reported = False
        self._md: Any = None  # a capstone disassembler, made at the first overflow (simcore.lazycs)
        self.guard = self._install_guard()

    def _install_guard(self) -> tuple[int, int] | None:
        if self.limit is None:
            return None
        end = self.limit & ~(PAGE - 1)
        start = end - PAGE
        mem = self.m.memmap.memory_for(start, PAGE)
        heap_base = self.m.heapinfo()[0]
        if mem is None or mem.kind != "ram" or start < heap_base:
            return None
        self.m.uc.mem_protect(start, PAGE, unicorn.UC_PROT_READ | (unicorn.UC_PROT_EXEC if mem.executable else 0))
        return start, end

    def _release_guard(self) -> None:
        if self.guard is not None:
            mem = self.m.memmap.memory_for(self.guard[0], PAGE)
            perms = unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE
            if mem is not None and mem.executable:
                perms |= unicorn.UC_PROT_EXEC
            self.m.uc.mem_protect(self.guard[0], PAGE, perms)
            self.guard = None

    def in_guard(self, addr: int) -> bool:
        return self.guard is not None and self.guard[0] <= addr < self.guard[1]

    def guard_hit(self, pc: int, addr: int) -> None:
        """A write into the guard page: a stack overflow, or the heap reaching the page (then release it)."""
        sp = self.m.uc.reg_read(R.UC_ARM_REG_SP)
        if self._sp_based(pc) or addr >= sp:
            self.overflow(pc, min(sp, addr), f"write of the stack at {addr:#010x}")
        else:
            self._release_guard()

    def _sp_based(self, pc: int) -> bool:
        if self._md is None:
            self._md = thumb()
        insn = next(self._md.disasm(self.m.mem_read(pc, 4), pc), None)
        if insn is None:
            return False
        return insn.mnemonic in ("push", "vpush") or "sp" in insn.op_str.replace(" ", "").split("[")[-1][:3]

    def frame_stacked(self, frame: int, return_address: int, what: str) -> None:
        """simcore stacked an exception frame on MSP at ``frame``: below the limit is an overflow."""
        if self.limit is not None and frame < self.limit and not self.psp_seen and self.m.memmap.window(frame, 1):
            self.overflow(return_address, frame, what)

    def check(self) -> bool:
        """At a stop: did SP go below ``__StackLimit`` since the last check? Stops the run if so."""
        low = self.m.hot.state.sp_low
        if self.limit is None or self.psp_seen or self.reported or low >= self.limit:
            return False
        if self.m.memmap.window(low, 1) is None:
            return False
        self.overflow(self.m.pc(), low, "found at a stop (the SP low-water mark)")
        return True

    def overflow(self, pc: int, sp: int, how: str) -> None:
        self.reported = True
        limit = self.limit or 0
        func = self.m.fw.function_at(pc)
        name = func.name if func is not None else f"{pc:#010x}"
        what = (f"stack overflow in {name}: SP reached {sp:#010x}, {limit - sp} bytes below __StackLimit "
                f"({limit:#010x}); {how}")
        stop = fault_stop(self.m, what, pc, extra={"stack_overflow": True, "stack_limit": limit, "sp": sp,
                                                   "function": name})
        self.m.request_stop(stop)
