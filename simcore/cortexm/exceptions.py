"""The ARMv7-M exception model: priorities, pending/active state, entry, return, tail-chaining.

Unicorn runs Thumb code but has no M-profile exception machinery, so this module does
what the core would do, following the ARMv7-M Architecture Reference Manual (DDI 0403E):

* B1.5.4  priorities: group priority from AIRCR.PRIGROUP, execution priority from the
  active exceptions and PRIMASK / FAULTMASK / BASEPRI (read from Unicorn's registers,
  which ``cpsie``/``cpsid``/``msr`` update);
* B1.5.6  ExceptionEntry: PushStack (8-word basic frame, 26-word extended frame when
  CONTROL.FPCA is set, 8-byte alignment recorded in bit 9 of the stacked xPSR when
  CCR.STKALIGN is set) and ExceptionTaken (LR = EXC_RETURN, IPSR, CONTROL.SPSEL/FPCA = 0,
  vector fetched from VTOR);
* B1.5.8  ExceptionReturn: EXC_RETURN checks (INVPC), deactivation, FAULTMASK cleared,
  tail-chaining to a pending exception that now preempts, PopStack.

Lazy FP state preservation (FPCCR.LSPEN, B1.5.7): the extended frame's space is reserved
and FPCAR set as the hardware does, but S0-S15/FPSCR are saved at entry rather than at the
handler's first FP instruction. Firmware sees the same values either way; only
FPCCR.LSPACT stays 0 (the state is never "pending").

Unicorn register banking note: writing CONTROL.SPSEL swaps SP banks only in thread mode,
so entry clears SPSEL *before* IPSR is set and return sets IPSR to 0 *before* restoring
SPSEL; MSP/PSP are always accessed through their own register ids.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import unicorn
from unicorn import arm_const as R

from simcore.cortexm.coreregs import CoreRegs, Memory

if TYPE_CHECKING:
    import unicorn

RESET, NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 1, 2, 3, 4, 5, 6
SVCALL, DEBUGMON, PENDSV, SYSTICK = 11, 12, 14, 15
IRQ0 = 16

NAMES = {RESET: "Reset", NMI: "NMI", HARDFAULT: "HardFault", MEMMANAGE: "MemManage", BUSFAULT: "BusFault",
         USAGEFAULT: "UsageFault", SVCALL: "SVCall", DEBUGMON: "DebugMonitor", PENDSV: "PendSV",
         SYSTICK: "SysTick"}
FAULTS = (HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT)

XPSR_KEEP_ON_ENTRY = 0xF80F0000  # N Z C V Q and GE[3:0]; IT/ICI cleared (B1.5.6)
XPSR_T = 1 << 24
XPSR_ALIGN = 1 << 9
CONTROL_NPRIV, CONTROL_SPSEL, CONTROL_FPCA = 1, 2, 4
FP_REGS = [getattr(R, f"UC_ARM_REG_S{i}") for i in range(16)]
BASIC_REGS = [R.UC_ARM_REG_R0, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, R.UC_ARM_REG_R3, R.UC_ARM_REG_R12,
              R.UC_ARM_REG_LR]


def exception_name(exc: int) -> str:
    return NAMES.get(exc, f"IRQ{exc - IRQ0}" if exc >= IRQ0 else f"exception {exc}")


class StackingError(Exception):
    """PushStack or PopStack touched memory that is not RAM (STKERR/UNSTKERR, B1.5.6/B1.5.8)."""

    def __init__(self, address: int, push: bool) -> None:
        super().__init__(f"{'stacking' if push else 'unstacking'} at {address:#010x}")
        self.address = address
        self.push = push


class VectorError(Exception):
    """The vector fetch of exception entry read memory that is not there (HFSR.VECTTBL, B1.5.14)."""

    def __init__(self, exc: int, address: int) -> None:
        super().__init__(f"the vector of {exception_name(exc)} at {address:#010x} is not in readable memory")
        self.exc = exc
        self.address = address


class BadExcReturn(Exception):
    """An EXC_RETURN that ExceptionReturn rejects (UsageFault INVPC, B1.5.8)."""


@dataclass
class Config:
    """SCB state the exception model reads (kept here so SCB registers and the model agree)."""

    vtor: int = 0
    prigroup: int = 0
    stkalign: bool = True  # CCR.STKALIGN, reset 1 on Cortex-M4 r0p1
    nonbasethrdena: bool = False  # CCR.NONBASETHRDENA
    fpu: bool = True
    lspen: bool = True  # FPCCR.LSPEN
    fpcar: int = 0


class ExceptionModel:
    """Pending/active state and priorities of every exception, plus entry and return."""

    def __init__(self, uc: unicorn.Uc, num_irq: int, prio_bits: int, ram_check: Callable[[int, int], bool],
                 memory: Memory | None = None) -> None:
        self.uc = uc
        self.regs = CoreRegs(uc)
        self._read_masks = self.regs.reader(_MASK_READ)  # BASEPRI, PRIMASK, FAULTMASK in one engine call
        self.mem = memory if memory is not None else Memory(uc, [])
        self.num_irq = num_irq
        self.n = IRQ0 + num_irq
        self.prio_mask = (0xFF << (8 - prio_bits)) & 0xFF
        self.ram_check = ram_check  # (addr, size) -> True if the range is writable RAM
        self.cfg = Config()
        # hp_enter (native hot path), set by the system block: enter_pending's work in one C call
        self.native_enter: Callable[..., tuple[int, int, int, int]] | None = None
        self.reset()

    def reset(self) -> None:
        self.prio = [0] * self.n
        self.prio[RESET], self.prio[NMI], self.prio[HARDFAULT] = -3, -2, -1
        self.enabled = bytearray(self.n)
        for exc in (NMI, HARDFAULT, SVCALL, DEBUGMON, PENDSV, SYSTICK):
            self.enabled[exc] = 1
        self.pending: set[int] = set()
        self.active: set[int] = set()
        self.lines_high: set[int] = set()
        self.entries = 0  # exception entries with stacking
        self.tail_chains = 0  # entries without stacking (B1.5.12 tail-chaining)
        self.last_entry: tuple[bool, int] = (False, 0)  # (stacked on PSP, frame address)
        self.last_return: tuple[bool, bool] = (False, False)  # (to thread mode, on PSP)
        self.last_left = 0  # the exception the last exception return left

    # --- priorities (B1.5.4) --------------------------------------------------------------
    def set_priority(self, exc: int, value: int) -> None:
        if exc > HARDFAULT:
            self.prio[exc] = value & self.prio_mask

    def group(self, prio: int) -> int:
        """Group priority: the priority with its subpriority bits [PRIGROUP:0] cleared."""
        if prio < 0:
            return prio
        return prio & ~((2 << self.cfg.prigroup) - 1) & 0xFF

    def execution_priority(self, faultmask_cleared: bool = False) -> int:
        """ExecutionPriority() of B1.5.4: the lowest of active group priorities and the masks' boosts."""
        highest = 256
        for exc in self.active:
            g = self.group(self.prio[exc])
            if g < highest:
                highest = g
        return self._execution_priority(*self.regs.read(_MASK_READ), faultmask_cleared=faultmask_cleared,
                                        highest=highest)

    def _execution_priority(self, basepri: int, primask: int, faultmask: int, faultmask_cleared: bool = False,
                            highest: int | None = None) -> int:
        if highest is None:
            highest = 256
            for exc in self.active:
                g = self.group(self.prio[exc])
                if g < highest:
                    highest = g
        boosted = 256
        if basepri & 0xFF:
            boosted = self.group(basepri & self.prio_mask)
        if primask & 1:
            boosted = 0
        if faultmask & 1 and not faultmask_cleared:
            boosted = -1
        return min(highest, boosted)

    def highest_pending(self) -> int | None:
        """The pending, enabled exception with the highest priority (lowest number breaks ties)."""
        best: int | None = None
        for exc in self.pending:
            if not self.enabled[exc]:
                continue
            if best is None or (self.prio[exc], exc) < (self.prio[best], best):
                best = exc
        return best

    def to_take(self) -> int | None:
        """The pending exception that preempts the current execution priority, if any."""
        exc = self.highest_pending()
        if exc is not None and self.can_preempt(exc):
            return exc
        return None

    def can_preempt(self, exc: int) -> bool:
        """Is ``exc``'s group priority higher than the execution priority (B1.5.4)? The masks are read only when the
        active exceptions' group priorities do not already hold it back (execution_priority's minimum, split: a
        kick's question costs one register read and no call of its own, ~300 a Nano 33 BLE Sense run)."""
        keep = ~((2 << self.cfg.prigroup) - 1) & 0xFF  # (group() in line: the subpriority bits [PRIGROUP:0] cleared)
        prio = self.prio
        g = prio[exc]
        if g >= 0:
            g &= keep
        for a in self.active:
            p = prio[a]
            if (p & keep if p >= 0 else p) <= g:
                return False
        basepri, primask, faultmask = self._read_masks()
        if faultmask & 1:
            return g < -1
        if primask & 1:
            return g < 0
        if basepri & 0xFF:
            return g < basepri & self.prio_mask & keep
        return g < 256

    def current(self) -> int:
        return self.uc.reg_read(R.UC_ARM_REG_IPSR) & 0x1FF

    # --- pending state --------------------------------------------------------------------
    def pend(self, exc: int) -> None:
        self.pending.add(exc)

    def unpend(self, exc: int) -> None:
        self.pending.discard(exc)
        if exc in self.lines_high and exc not in self.active:
            self.pending.add(exc)  # a level-sensitive line still asserted pends again

    def set_line(self, exc: int, level: bool) -> None:
        if level:
            self.lines_high.add(exc)
            if exc not in self.active:
                self.pending.add(exc)
        else:
            self.lines_high.discard(exc)

    # --- entry (B1.5.6) ---------------------------------------------------------------------
    def enter(self, exc: int, return_address: int | None = None, pc_in_batch: bool = False) -> int:
        """PushStack then ExceptionTaken, in one register read and one register write; returns the handler.

        ``return_address`` None means the current PC (an asynchronous exception at a block boundary).
        ``pc_in_batch``: emulation is stopped, so the PC may be written with the other registers
        (inside a hook it must go through uc.reg_write, see ``_taken``).
        """
        return self._enter(exc, return_address, pc_in_batch, self.regs.read(_ENTRY_READ))

    def enter_pending(self) -> int | None:
        """Emulation stopped at a block boundary: enter the pending exception that preempts, if any.

        One register read serves both the preemption test and the stacking.
        """
        exc = self.highest_pending()
        if exc is None:
            return None
        native = self.native_enter
        if native is not None:
            highest = 256
            for a in self.active:
                g = self.group(self.prio[a])
                if g < highest:
                    highest = g
            cfg = self.cfg
            status, frameptr, on_psp, fpca = native(exc, self.group(self.prio[exc]), highest, self.prio_mask,
                                                    cfg.prigroup, cfg.vtor + 4 * exc,
                                                    (1 if cfg.stkalign else 0) | (2 if cfg.fpu else 0))
            if status == 1:
                return None
            if status == 0:  # what _enter and _taken do besides the registers and the frame
                if fpca:
                    cfg.fpcar = frameptr + 0x20
                self.last_entry = (bool(on_psp), frameptr)
                self.entries += 1
                self.active.add(exc)
                self.pending.discard(exc)
                return exc
            # status 2: the cases C leaves to Python (frame not in RAM, ...): the same errors as before
        values = self.regs.read(_PENDING_READ)
        if self.group(self.prio[exc]) >= self._execution_priority(*values[:3]):
            return None
        self._enter(exc, None, True, values[3:])
        return exc

    def _enter(self, exc: int, return_address: int | None, pc_in_batch: bool, values: list[int]) -> int:
        ipsr, control, msp, psp, xpsr, pc, *basic = values
        if return_address is None:
            return_address = pc
        ipsr &= 0x1FF
        control &= 7
        if not ipsr and control & CONTROL_NPRIV:
            # Unprivileged thread: Unicorn reads MSP/PSP as 0 and ignores CONTROL writes (its MRS/MSR
            # rules). Entering handler mode first (IPSR; Unicorn moves SP to MSP) makes them accessible.
            self.regs.write((R.UC_ARM_REG_IPSR,), [exc])
            msp, psp = self.regs.read((R.UC_ARM_REG_MSP, R.UC_ARM_REG_PSP))
        fpca = bool(control & CONTROL_FPCA) and self.cfg.fpu
        use_psp = ipsr == 0 and bool(control & CONTROL_SPSEL)
        sp = psp if use_psp else msp
        framesize = 0x68 if fpca else 0x20
        align = 4 if self.cfg.stkalign else 0
        frameptralign = 1 if (sp & 4) and align else 0
        frameptr = (sp - framesize) & ~align & 0xFFFFFFFF
        if not self.ram_check(frameptr, framesize):
            raise StackingError(frameptr, push=True)
        data = struct.pack("<8I", *basic, return_address & 0xFFFFFFFE, (xpsr & ~XPSR_ALIGN) | (frameptralign << 9))
        if fpca:
            data += struct.pack("<18I", *self.regs.read(_FP_IDS), 0)
            self.cfg.fpcar = frameptr + 0x20
        self.mem.write(frameptr, data)
        excret = 0xFFFFFFF1 if ipsr else (0xFFFFFFFD if use_psp else 0xFFFFFFF9)
        if fpca:
            excret &= ~0x10
        self.last_entry = (use_psp, frameptr)
        self.entries += 1
        sp_id = R.UC_ARM_REG_PSP if use_psp else R.UC_ARM_REG_MSP
        return self._taken(exc, excret, control, xpsr, (sp_id, frameptr), pc_in_batch)

    def take(self, exc: int, excret: int) -> int:
        """ExceptionTaken without stacking (tail-chaining): the frame on the stack stays."""
        control, xpsr = self.regs.read(_TAKE_READ)
        self.tail_chains += 1
        return self._taken(exc, excret, control & 7, xpsr, None)

    def _taken(self, exc: int, excret: int, control: int, xpsr: int, sp: tuple[int, int] | None,
               pc_in_batch: bool = False) -> int:
        """ExceptionTaken: LR, CONTROL (SPSEL/FPCA cleared before IPSR is set), IPSR, PC from the vector."""
        at = self.cfg.vtor + 4 * exc
        try:
            vector = struct.unpack("<I", self.mem.read(at, 4))[0]
        except unicorn.UcError:  # VTOR points at unmapped memory
            raise VectorError(exc, at) from None
        ids: list[int] = []
        values: list[int] = []
        if sp is not None:
            ids.append(sp[0])
            values.append(sp[1])
        new_control = control & ~(CONTROL_SPSEL | CONTROL_FPCA)
        if new_control != control:
            ids.append(R.UC_ARM_REG_CONTROL)  # in thread mode this moves SP to MSP
            values.append(new_control)
        ids += [R.UC_ARM_REG_LR, R.UC_ARM_REG_XPSR]
        values += [excret, (xpsr & XPSR_KEEP_ON_ENTRY) | XPSR_T | exc]
        # Bit 0 of the PC selects Thumb: a vector without it gives INVSTATE, as on the core. Inside a
        # hook the PC must go through uc.reg_write: only that path makes Unicorn resume at the new PC.
        if pc_in_batch:
            ids.append(R.UC_ARM_REG_PC)
            values.append(vector)
        self.regs.write(tuple(ids), values)
        if not pc_in_batch:
            self.regs.write_pc(vector)
        self.active.add(exc)
        self.pending.discard(exc)
        return vector

    # --- return (B1.5.8) --------------------------------------------------------------------
    def check_return(self, excret: int, exc: int) -> None:
        """Validate EXC_RETURN against the active state of the exception being left."""
        low = excret & 0xF
        if excret & 0xFFFFFFE0 != 0xFFFFFFE0 or low not in (1, 9, 0xD):
            raise BadExcReturn(f"EXC_RETURN {excret:#010x} is not a valid value")
        if not excret & 0x10 and not self.cfg.fpu:
            raise BadExcReturn(f"EXC_RETURN {excret:#010x} asks for an FP frame on a core without an FPU")
        if exc not in self.active:
            raise BadExcReturn(f"EXC_RETURN {excret:#010x} from {exception_name(exc)}, which is not active")
        nested = len(self.active)
        if low == 1 and nested == 1:
            raise BadExcReturn(f"EXC_RETURN {excret:#010x} returns to handler mode with no other exception active")
        if low != 1 and nested != 1 and not self.cfg.nonbasethrdena:
            raise BadExcReturn(f"EXC_RETURN {excret:#010x} returns to thread mode with {nested} exceptions active "
                               "(CCR.NONBASETHRDENA is 0)")

    def exception_return(self, excret: int) -> int | None:
        """Deactivate, tail-chain or pop. Returns the tail-chained exception, or None after PopStack.

        The exception being left is kept in ``last_left`` (also when EXC_RETURN is refused).
        """
        ipsr, control, msp, psp = self.regs.read(_RETURN_READ)
        exc = ipsr & 0x1FF
        self.last_left = exc
        self.check_return(excret, exc)
        self.active.discard(exc)
        clear_faultmask = exc != NMI
        if exc in self.lines_high:
            self.pending.add(exc)
        nxt = self.highest_pending()
        if nxt is not None and self.group(self.prio[nxt]) < self.execution_priority(faultmask_cleared=clear_faultmask):
            if clear_faultmask:
                self.uc.reg_write(R.UC_ARM_REG_FAULTMASK, 0)
            self.take(nxt, excret)  # tail-chaining: the new handler gets the same EXC_RETURN
            return nxt
        self.pop_stack(excret, clear_faultmask, (control, msp, psp))
        return None

    def pop_stack(self, excret: int, clear_faultmask: bool = True,
                  state: tuple[int, int, int] | None = None) -> None:
        """PopStack; ``state`` is (CONTROL, MSP, PSP) when the caller has just read them."""
        to_thread = bool(excret & 8)
        use_psp = bool(excret & 4)
        fp = not excret & 0x10
        control, msp, psp = state if state is not None else self.regs.read(_POP_READ)
        control &= 7
        sp = psp if use_psp else msp
        framesize = 0x68 if fp else 0x20
        if not self.ram_check(sp, framesize):
            raise StackingError(sp, push=False)
        raw = self.mem.read(sp, framesize)
        words = struct.unpack("<8I", raw[:32])
        xpsr = words[7]
        sp += framesize
        if xpsr & XPSR_ALIGN and self.cfg.stkalign:
            sp |= 4
        ids: list[int] = []
        values: list[int] = []
        if clear_faultmask:
            ids.append(R.UC_ARM_REG_FAULTMASK)
            values.append(0)
        new_control = control & ~CONTROL_FPCA | (CONTROL_FPCA if fp else 0)
        unprivileged = to_thread and bool(new_control & CONTROL_NPRIV)
        if to_thread:  # leave handler mode first, so the SPSEL write switches the SP banks
            new_control = new_control & ~CONTROL_SPSEL | (CONTROL_SPSEL if use_psp else 0)
            if unprivileged:  # privileged until the end: Unicorn ignores MSP/PSP/CONTROL writes otherwise
                ids += [R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_IPSR, R.UC_ARM_REG_CONTROL]
                values += [control & ~CONTROL_NPRIV, 0, new_control & ~CONTROL_NPRIV]
            else:
                ids += [R.UC_ARM_REG_IPSR, R.UC_ARM_REG_CONTROL]
                values += [0, new_control]
        elif new_control != control:
            ids.append(R.UC_ARM_REG_CONTROL)
            values.append(new_control)
        ids += [*BASIC_REGS, R.UC_ARM_REG_PSP if use_psp else R.UC_ARM_REG_MSP, R.UC_ARM_REG_XPSR]
        values += [*words[:6], sp, xpsr & ~XPSR_ALIGN]
        if fp:
            self.regs.write(_FP_IDS, struct.unpack("<17I", raw[32:100]))
        if unprivileged:
            ids.append(R.UC_ARM_REG_CONTROL)  # drop privilege last
            values.append(new_control)
        self.regs.write(tuple(ids), values)
        # EPSR.T comes from the stacked xPSR; Unicorn takes it from bit 0 of the PC (written last, see _taken)
        self.regs.write_pc((words[6] & ~1) | (1 if xpsr & XPSR_T else 0))
        self.last_return = (to_thread, use_psp)


_ENTRY_READ = (R.UC_ARM_REG_IPSR, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_MSP, R.UC_ARM_REG_PSP, R.UC_ARM_REG_XPSR,
               R.UC_ARM_REG_PC, *BASIC_REGS)
_RETURN_READ = (R.UC_ARM_REG_IPSR, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_MSP, R.UC_ARM_REG_PSP)
_TAKE_READ = (R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_XPSR)
_POP_READ = (R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_MSP, R.UC_ARM_REG_PSP)
_MASK_READ = (R.UC_ARM_REG_BASEPRI, R.UC_ARM_REG_PRIMASK, R.UC_ARM_REG_FAULTMASK)
_PENDING_READ = (*_MASK_READ, *_ENTRY_READ)
_FP_IDS = (*FP_REGS, R.UC_ARM_REG_FPSCR)
