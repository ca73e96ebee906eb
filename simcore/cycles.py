"""Cycle models: how many core cycles a block of instructions costs.

Two models share one interface (:class:`CycleModel`):

* :class:`InstructionCount` charges one cycle per instruction (CPI 1), the figure peers
  such as Renode report.
* :class:`CortexM4` prices each instruction from the Cortex-M4 Technical Reference Manual
  (Arm DDI 0439, section 3.3 "Processor instruction timings", Table 3-1, and the FPU
  instruction table, Table 7-1). :data:`TIMINGS` is that table in the form the code uses,
  so a reader can check every number against the manual.

What is static and what is dynamic
----------------------------------
Everything that depends only on the instruction and its neighbour within the block is
priced here, once per block (load/store pipelining, address dependencies, FP result use,
IT folding, unconditional branch refills). Two things are settled at run time by the hot
path (simcore/native/hotpath.c and its Python twin):

* a block-ending conditional branch (``B<cc>``, ``CBZ``/``CBNZ`` or an IT-conditional
  write of the PC) is priced as not taken (1 cycle) here; the hot path adds the refill
  penalty ``P`` at the *next* block's entry when that block is not the fall-through;
* flash wait states and the flash accelerator (STM32 ART, nRF52 cache), from the block's
  128-bit line span and its PC-relative literal loads (see :class:`FlashConfig`).

Choices where the manual gives a range (documented in docs/cycle-model.md):

* ``P`` (pipeline refill) is 2 cycles after a branch (B, BL, BX, BLX, CBZ/CBNZ and
  conditional branches when taken, data-processing writes to the PC): Table 3-1 gives
  "P = 1 to 3 depending on the alignment and width of the target instruction, and whether
  the processor manages to speculate the address early"; 2 is the middle of that range.
  Loads to the PC (LDR PC, POP/LDM with PC, TBB/TBH) use the 3 cycles of "pipeline
  reload" the TRM's load/store notes state for ``LDR PC`` (>= 5) and ``TBB`` (>= 6).
* SDIV/UDIV take 2-12 cycles by early termination on the operands' sizes; the operand
  values are not seen by a static model, so a fixed :data:`DIV_CYCLES` (12, the bound:
  latency estimates err on the slow side) is charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from capstone import arm_const as A

# Exception timing (Cortex-M4 TRM 3.3.1 / "Exception handling"): zero-wait-state memory, no FP
# context. Not applied by the hot path: the system block's exception model charges them
# through HotPath.charge() when it stacks, unstacks or tail-chains.
EXCEPTION_ENTRY = 12
EXCEPTION_RETURN = 10
TAIL_CHAIN = 6

BRANCH_REFILL = 2  # P after a branch or a data-processing write of the PC (TRM: 1-3)
LOAD_PC_REFILL = 3  # P after a load to the PC (TRM load/store notes: "three cycles for the pipeline reload")
DIV_CYCLES = 12  # SDIV/UDIV: TRM 2-12 by early termination; the upper bound is charged

# The table a reader checks against DDI 0439 Table 3-1 / 7-1 (zero wait states).
# class -> (cycles, the manual's note, how this model applies it)
TIMINGS: dict[str, tuple[str, str]] = {
    "alu": ("1", "ADD, SUB, MOV/MOVW/MOVT, logic, shifts, CLZ, bit-field, extend, SSAT/USAT, compare; "
                 "1+P when it writes the PC"),
    "mul": ("1", "MUL, MLA, MLS (single-cycle 32x32 multiplier)"),
    "long_mul": ("1", "SMULL, UMULL, SMLAL, UMLAL, UMAAL"),
    "dsp": ("1", "SMLAD/X, SMLALD, SMLAxy, SMUAD, SMMLA, SXTB16, QADD8..., SEL, USADA8 (the DSP extension)"),
    "div": (f"{DIV_CYCLES}", "SDIV, UDIV: 2-12 by early termination; the bound 12 is charged"),
    "ldr": ("2", "LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX; 1 when it directly follows a single LDR/STR it can pipeline "
                 "with (its address does not use that load's result; nothing pipelines after an STR with a "
                 "register offset)"),
    "str": ("2", "STR/STRB/STRH/STREX; pipelines like LDR"),
    "ldrd": ("3", "LDRD/STRD (1+N, N=2), never pipelined with neighbours"),
    "ldm": ("1+N", "LDM/STM/PUSH/POP, N registers; +P(3) when the PC is loaded"),
    "ldr_pc": (f"2+{LOAD_PC_REFILL}", "LDR PC (>= 5 cycles)"),
    "tbb": (f"3+{LOAD_PC_REFILL}", "TBB/TBH: 2 for the load, 1 for the add, 3 for the refill (>= 6)"),
    "branch": (f"1+{BRANCH_REFILL}", "B, BL, BX, BLX taken"),
    "cond_branch": (f"1 / 1+{BRANCH_REFILL}", "B<cc>, CBZ, CBNZ: 1 not taken, 1+P taken (taken settled at the "
                                              "next block's entry)"),
    "it": ("1 / 0", "IT: 0 when folded onto a preceding 16-bit instruction in the same block, else 1"),
    "addr_dep": ("+1", "a load/store whose address register was written by the previous data-processing "
                       "instruction (no forwarding path)"),
    "barrier": ("1", "DMB, DSB, ISB (1+B, B = 0: no outstanding transfers modelled)"),
    "fp_alu": ("1", "VADD, VSUB, VMUL, VNMUL, VABS, VNEG, VCMP, VCVT, VMOV (register/immediate), VMRS/VMSR"),
    "fp_mla": ("3", "VMLA, VMLS, VNMLA, VNMLS, VFMA, VFMS, VFNMA, VFNMS"),
    "fp_div": ("14", "VDIV, VSQRT"),
    "fp_ldr": ("2 / 3", "VLDR/VSTR .32 / .64"),
    "fp_ldm": ("1+N", "VLDM/VSTM/VPUSH/VPOP, N single-precision registers (a double counts 2)"),
    "fp_mov2": ("2", "VMOV between two core registers and a double / two singles"),
    "fp_dep": ("+1", "an FP result used by the very next instruction"),
    "other": ("1", "NOP, hints, MSR/MRS, CPS, SVC, BKPT, WFI/WFE (sleep time is accounted separately)"),
}

_LOADS = {A.ARM_INS_LDR, A.ARM_INS_LDRB, A.ARM_INS_LDRH, A.ARM_INS_LDRSB, A.ARM_INS_LDRSH, A.ARM_INS_LDREX,
          A.ARM_INS_LDREXB, A.ARM_INS_LDREXH, A.ARM_INS_LDRT, A.ARM_INS_LDRBT, A.ARM_INS_LDRHT,
          A.ARM_INS_LDRSBT, A.ARM_INS_LDRSHT}
_STORES = {A.ARM_INS_STR, A.ARM_INS_STRB, A.ARM_INS_STRH, A.ARM_INS_STREX, A.ARM_INS_STREXB,
           A.ARM_INS_STREXH, A.ARM_INS_STRT, A.ARM_INS_STRBT, A.ARM_INS_STRHT}
_DOUBLE = {A.ARM_INS_LDRD, A.ARM_INS_STRD, A.ARM_INS_LDREXD, A.ARM_INS_STREXD}
_MULTI = {A.ARM_INS_LDM, A.ARM_INS_LDMDB, A.ARM_INS_STM, A.ARM_INS_STMDB, A.ARM_INS_PUSH, A.ARM_INS_POP}
_MULTI_LOADS = {A.ARM_INS_LDM, A.ARM_INS_LDMDB, A.ARM_INS_POP}
_FP_MULTI = {A.ARM_INS_VLDMIA, A.ARM_INS_VLDMDB, A.ARM_INS_VSTMIA, A.ARM_INS_VSTMDB, A.ARM_INS_VPUSH,
             A.ARM_INS_VPOP}
_FP_MEM = {A.ARM_INS_VLDR, A.ARM_INS_VSTR}
_FP_MLA = {A.ARM_INS_VMLA, A.ARM_INS_VMLS, A.ARM_INS_VNMLA, A.ARM_INS_VNMLS, A.ARM_INS_VFMA, A.ARM_INS_VFMS,
           A.ARM_INS_VFNMA, A.ARM_INS_VFNMS}
_FP_DIV = {A.ARM_INS_VDIV, A.ARM_INS_VSQRT}
_DIV = {A.ARM_INS_SDIV, A.ARM_INS_UDIV}
_TABLE_BRANCH = {A.ARM_INS_TBB, A.ARM_INS_TBH}
_CALLS = {A.ARM_INS_BL, A.ARM_INS_BLX}
_BRANCHES = {A.ARM_INS_B, A.ARM_INS_BL, A.ARM_INS_BLX, A.ARM_INS_BX}
_CBZ = {A.ARM_INS_CBZ, A.ARM_INS_CBNZ}

INDIRECT = 0xFFFFFFFF  # branch target not known statically


@dataclass(frozen=True)
class BlockEnd:
    """How a block ends, for the dynamic parts the hot path settles.

    ``cond``: the last instruction is a conditional branch or an IT-conditional PC write,
    priced as not taken; ``taken_extra`` cycles are added when the next block is the branch
    target (``target``, or any block but the fall-through when ``target`` is INDIRECT).
    ``call``: the last instruction is BL/BLX (the profiler pushes a frame at the next block).
    """

    cond: bool = False
    taken_extra: int = 0
    target: int = INDIRECT
    call: bool = False


class CycleModel(Protocol):
    """Prices a decoded block; the result has one entry per instruction."""

    name: str

    def block_costs(self, insns: Sequence[Any]) -> list[int]: ...


class InstructionCount:
    """One cycle per instruction: latency then means instructions / MHz."""

    name = "instructions"

    def block_costs(self, insns: Sequence[Any]) -> list[int]:
        return [1] * len(insns)

    def block_end(self, insns: Sequence[Any], it_conditional: Sequence[bool]) -> BlockEnd:
        """Blocks end the same way under every model (the profiler needs calls)."""
        return block_end(insns, it_conditional, 0)

    def flash_config(self) -> FlashConfig:
        return FlashConfig()


@dataclass(frozen=True)
class FlashConfig:
    """Flash wait states and accelerator as the hot path applies them.

    ``accelerator``: 0 none (every 128-bit line a block spans costs ``wait_states``, every
    PC-relative literal load too), 1 STM32 ART (``icache_lines`` direct-mapped 128-bit
    instruction lines with sequential prefetch, ``dcache_lines`` data lines for literal
    loads), 2 a plain instruction cache (no prefetch, literals uncached).
    """

    wait_states: int = 0
    accelerator: int = 0
    icache_lines: int = 64
    dcache_lines: int = 8
    prefetch: bool = True
    ranges: tuple[tuple[int, int], ...] = ()  # [start, end) of flash (and its aliases)
    # False (default): only PC-relative literal loads are charged as flash data reads (static,
    # free). True ("exact"): every data read from flash goes through a native memory hook
    # (const arrays and model weights too); measured ~3x slower emulation, because Unicorn then
    # takes its slow path for every load.
    data_hook: bool = False

    def is_flash(self, addr: int) -> bool:
        return any(lo <= addr < hi for lo, hi in self.ranges)


ACCELERATORS = {"none": 0, "stm32_art": 1, "nrf52_icache": 2}


def _regs(insn: Any) -> tuple[set[str], set[str]]:
    try:
        r, w = insn.regs_access()
    except Exception:  # noqa: BLE001 - capstone raises on some instructions: treat as no dependencies
        return set(), set()
    return {insn.reg_name(x) for x in r}, {insn.reg_name(x) for x in w}


def _fp_regs(names: set[str]) -> set[str]:
    """S registers named or overlapped (d<n> = s<2n>, s<2n+1>)."""
    out: set[str] = set()
    for n in names:
        if n and n[0] == "s" and n[1:].isdigit():
            out.add(n)
        elif n and n[0] == "d" and n[1:].isdigit():
            k = int(n[1:])
            out.update((f"s{2 * k}", f"s{2 * k + 1}"))
    return out


def _mem_regs(insn: Any) -> set[str]:
    """Registers that form the address of a memory operand (base and index)."""
    out: set[str] = set()
    for op in insn.operands:
        if op.type == A.ARM_OP_MEM:
            if op.mem.base:
                out.add(insn.reg_name(op.mem.base))
            if op.mem.index:
                out.add(insn.reg_name(op.mem.index))
    return out


def _has_reg_offset(insn: Any) -> bool:
    return any(op.type == A.ARM_OP_MEM and op.mem.index for op in insn.operands)


def _reg_list(insn: Any) -> list[str]:
    return [insn.reg_name(op.reg) for op in insn.operands if op.type == A.ARM_OP_REG]


def is_conditional(insn: Any) -> bool:
    cc = getattr(insn, "cc", A.ARM_CC_AL)
    return cc not in (A.ARM_CC_AL, A.ARM_CC_INVALID)


def writes_pc(insn: Any) -> bool:
    """Whether the instruction writes the PC (any branch, load to PC, data-processing to PC)."""
    iid = insn.id
    if iid in _BRANCHES or iid in _CBZ or iid in _TABLE_BRANCH:
        return True
    if iid in _MULTI_LOADS or iid in _LOADS:
        return "pc" in _reg_list(insn)
    if not iid:
        return False
    _r, w = _regs(insn)
    return "pc" in w


def is_return_like(insn: Any) -> bool:
    """An indirect write of the PC that is not a call: BX, POP/LDM/LDR with PC, MOV/ADD PC, TBB/TBH."""
    iid = insn.id
    if not iid or iid in _CALLS or iid in _CBZ or iid == A.ARM_INS_B:
        return False
    return writes_pc(insn)


def literal_address(insn: Any) -> int | None:
    """The address a PC-relative literal load reads (Align(PC, 4) + imm), else None."""
    if insn.id not in _LOADS and insn.id not in _FP_MEM and insn.id not in _DOUBLE:
        return None
    if insn.id in _STORES:
        return None
    for op in insn.operands:
        if op.type == A.ARM_OP_MEM and op.mem.base == A.ARM_REG_PC:
            return ((insn.address + 4) & ~3) + op.mem.disp
    return None


def block_end(insns: Sequence[Any], it_conditional: Sequence[bool], refill_scale: int = 1) -> BlockEnd:
    """Describe how the block ends (see :class:`BlockEnd`); ``refill_scale`` 0 prices no refill."""
    if not insns:
        return BlockEnd()
    last = insns[-1]
    iid = last.id
    if not iid:
        return BlockEnd()
    call = iid in _CALLS
    cond_it = bool(it_conditional[-1]) if it_conditional else False
    if iid in _CBZ or (iid == A.ARM_INS_B and is_conditional(last) and not cond_it):
        target = next((op.imm for op in last.operands if op.type == A.ARM_OP_IMM), INDIRECT) & 0xFFFFFFFF
        return BlockEnd(cond=True, taken_extra=BRANCH_REFILL * refill_scale, target=target & ~1, call=False)
    if cond_it and writes_pc(last):
        extra = (LOAD_PC_REFILL if iid in _MULTI_LOADS or iid in _LOADS else BRANCH_REFILL) * refill_scale
        target = INDIRECT
        if iid == A.ARM_INS_B or iid == A.ARM_INS_BL:
            target = next((op.imm for op in last.operands if op.type == A.ARM_OP_IMM), INDIRECT) & ~1
        return BlockEnd(cond=True, taken_extra=extra, target=target, call=call)
    return BlockEnd(call=call)


@dataclass
class CortexM4:
    """The Cortex-M4 cost model (TRM tables, zero wait states) plus the board's flash timing.

    ``flash`` is applied by the hot path at run time; build it with :meth:`for_board`.
    """

    flash: FlashConfig = field(default_factory=FlashConfig)
    name: str = "cortex-m4"

    @classmethod
    def for_board(cls, board: Any, mhz: float, flash_data: str = "literal") -> CortexM4:
        """Wait states at ``mhz`` from the board's ``flash_timing`` and its accelerator.

        ``flash_data``: 'literal' charges PC-relative literal loads only; 'exact' hooks every
        data read from flash (see :class:`FlashConfig`).
        """
        if flash_data not in ("literal", "exact"):
            raise ValueError(f"flash_data must be 'literal' or 'exact', not {flash_data!r}")
        ft = board.flash_timing
        ranges: list[tuple[int, int]] = []
        for mem in board.flash:
            for base in (mem.base, *mem.aliases):
                ranges.append((base, base + mem.size))
        accel = ACCELERATORS.get(ft.accelerator)
        if accel is None:
            raise ValueError(f"board {board.name}: unknown flash accelerator {ft.accelerator!r}")
        return cls(FlashConfig(wait_states=ft.wait_states_at(mhz), accelerator=accel, ranges=tuple(ranges),
                               data_hook=flash_data == "exact"))

    def flash_config(self) -> FlashConfig:
        return self.flash

    def block_end(self, insns: Sequence[Any], it_conditional: Sequence[bool]) -> BlockEnd:
        return block_end(insns, it_conditional, 1)

    def block_costs(self, insns: Sequence[Any]) -> list[int]:
        """Static cycles of each instruction, in order (see :data:`TIMINGS`).

        A block-ending conditional branch is priced as not taken. IT-conditional
        instructions are charged their full cost whether or not their condition passes.
        """
        out: list[int] = []
        prev: Any = None
        prev_pipe_ok = False  # previous was a single LDR/STR that a following LDR/STR can pipeline with
        prev_load_dest: set[str] = set()
        prev_alu_dest: set[str] = set()
        prev_fp_dest: set[str] = set()
        for idx, insn in enumerate(insns):
            iid = insn.id
            cost = 1
            pipe_ok = False
            load_dest: set[str] = set()
            alu_dest: set[str] = set()
            fp_dest: set[str] = set()
            if not iid:  # undecoded: one simple instruction
                out.append(1)
                prev, prev_pipe_ok, prev_load_dest, prev_alu_dest, prev_fp_dest = insn, False, set(), set(), set()
                continue
            reads, writes = _regs(insn)
            last = idx == len(insns) - 1
            if iid in _LOADS or iid in _STORES:
                is_load = iid in _LOADS
                regs = _reg_list(insn)
                if is_load and regs and regs[0] == "pc":
                    cost = 2 + LOAD_PC_REFILL
                else:
                    addr_regs = _mem_regs(insn)
                    cost = 2
                    if prev_pipe_ok and not (addr_regs & prev_load_dest):
                        cost = 1
                    if addr_regs & prev_alu_dest:
                        cost += 1
                    pipe_ok = is_load or not _has_reg_offset(insn)
                    if is_load:
                        load_dest = {regs[0]} if regs else set()
            elif iid in _DOUBLE:
                cost = 3 + (1 if _mem_regs(insn) & prev_alu_dest else 0)
            elif iid in _MULTI:
                regs = _reg_list(insn)
                if iid not in (A.ARM_INS_PUSH, A.ARM_INS_POP) and regs:
                    regs = regs[1:]  # the base register is the first operand
                cost = 1 + len(regs)
                if iid in _MULTI_LOADS and "pc" in regs:
                    cost += LOAD_PC_REFILL
                base = _mem_regs(insn) | ({_reg_list(insn)[0]} if iid not in (A.ARM_INS_PUSH, A.ARM_INS_POP)
                                          and _reg_list(insn) else {"sp"})
                if base & prev_alu_dest:
                    cost += 1
            elif iid in _TABLE_BRANCH:
                cost = 3 + LOAD_PC_REFILL
            elif iid in _CBZ:
                cost = 1  # taken: +P at the next block (always block-ending)
            elif iid == A.ARM_INS_B and is_conditional(insn):
                cost = 1 if last else 1 + BRANCH_REFILL  # a mid-block conditional B cannot happen; be safe
            elif iid in _BRANCHES:
                cost = 1 + BRANCH_REFILL
            elif iid == A.ARM_INS_IT:
                folded = prev is not None and getattr(prev, "size", 4) == 2 and not writes_pc(prev)
                cost = 0 if folded else 1
            elif iid in _DIV:
                cost = DIV_CYCLES
                alu_dest = writes
            elif iid in _FP_MLA:
                cost = 3
                fp_dest = _fp_regs(writes)
            elif iid in _FP_DIV:
                cost = 14
                fp_dest = _fp_regs(writes)
            elif iid in _FP_MEM:
                regs = _reg_list(insn)
                cost = 3 if regs and regs[0].startswith("d") else 2
                if _mem_regs(insn) & prev_alu_dest:
                    cost += 1
            elif iid in _FP_MULTI:
                regs = _reg_list(insn)
                if iid in (A.ARM_INS_VLDMIA, A.ARM_INS_VLDMDB, A.ARM_INS_VSTMIA, A.ARM_INS_VSTMDB) and regs:
                    regs = regs[1:]
                cost = 1 + sum(2 if r.startswith("d") else 1 for r in regs)
            elif iid == A.ARM_INS_VMOV:
                core = [r for r in _reg_list(insn) if r and r[0] == "r"]
                cost = 2 if len(core) >= 2 else 1
                fp_dest = _fp_regs(writes)
                alu_dest = {r for r in writes if r and r[0] == "r"}
            elif insn.mnemonic.startswith("v"):
                cost = 1
                fp_dest = _fp_regs(writes)
                alu_dest = {r for r in writes if r and r[0] == "r"}
            else:
                cost = 1
                if "pc" in writes:
                    cost += BRANCH_REFILL
                alu_dest = writes - {"pc", "itstate"}
            if prev_fp_dest and _fp_regs(reads) & prev_fp_dest and iid not in _FP_MULTI:
                cost += 1  # FP result used by the very next instruction
            out.append(cost)
            prev = insn
            prev_pipe_ok = pipe_ok
            prev_load_dest = load_dest
            prev_alu_dest = alu_dest
            prev_fp_dest = fp_dest
        return out


def make_model(name: str, board: Any, mhz: float, flash_data: str = "literal") -> CycleModel:
    """``--cycle-model`` by name: 'cortex-m4' (default) or 'instructions' (CPI 1)."""
    if name in ("cortex-m4", "m4", "trm"):
        return CortexM4.for_board(board, mhz, flash_data)
    if name in ("instructions", "cpi1"):
        return InstructionCount()
    raise ValueError(f"unknown cycle model {name!r}: use 'cortex-m4' or 'instructions'")
