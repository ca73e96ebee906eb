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
* SDIV/UDIV take 2-12 cycles by early termination on the operands' sizes (TRM Table 3-1:
  "Division operations use early termination to minimize the number of cycles required
  based on the number of leading ones and zeroes in the input operands"). The block charges
  :data:`DIV_MIN`; a native per-address hook on each divide (installed before the block is
  translated, see :func:`divide_sites`) adds ``divide_cycles(Rn, Rm) - DIV_MIN`` from the
  operand values, by the rule measured on silicon (:func:`divide_cycles`).
* Single loads and stores follow the TRM's load/store notes (section 3.3.2, "Load/store
  timings"): an immediate-offset STR issues in one cycle and its data phase overlaps the next
  instruction, unless that is a load or store: "STR can only be pipelined when it follows an
  LDR, but nothing can be pipelined after the store"; that instruction waits one cycle
  (:data:`STORE_DATA_PHASE`). Loads pipeline after loads, not after a load that wrote back
  their base register (measured on an STM32F407, docs/cycle-model.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from simcore.lazycs import A, Lazy

# Exception timing (Cortex-M4 TRM 3.3.1 / "Exception handling"): zero-wait-state memory, no FP
# context. Not applied by the hot path: the system block's exception model charges them
# through HotPath.charge() when it stacks, unstacks or tail-chains.
EXCEPTION_ENTRY = 12
EXCEPTION_RETURN = 10
TAIL_CHAIN = 6

BRANCH_REFILL = 2  # P after a branch or a data-processing write of the PC (TRM: 1-3)
LOAD_PC_REFILL = 3  # P after a load to the PC (TRM load/store notes: "three cycles for the pipeline reload")
DIV_MIN = 2  # SDIV/UDIV: TRM 2-12 by early termination; the block charges 2, a hook the rest
DIV_MAX = 12
STORE_DATA_PHASE = 1  # a load/store right after a single store waits for its data phase (TRM 3.3.2)

# The table a reader checks against DDI 0439 Table 3-1 / 7-1 (zero wait states).
# class -> (cycles, the manual's note, how this model applies it)
TIMINGS: dict[str, tuple[str, str]] = {
    "alu": ("1", "ADD, SUB, MOV/MOVW/MOVT, logic, shifts, CLZ, bit-field, extend, SSAT/USAT, compare; "
                 "1+P when it writes the PC"),
    "mul": ("1", "MUL, MLA, MLS (single-cycle 32x32 multiplier)"),
    "long_mul": ("1", "SMULL, UMULL, SMLAL, UMLAL, UMAAL"),
    "dsp": ("1", "SMLAD/X, SMLALD, SMLAxy, SMUAD, SMMLA, SXTB16, QADD8..., SEL, USADA8 (the DSP extension)"),
    "div": (f"{DIV_MIN}-{DIV_MAX}", "SDIV, UDIV: early termination on the operands (divide_cycles): 2 if either is "
                                 "0, 3 if the dividend has fewer significant bits than the divisor, else "
                                 "5 + (bits(dividend) - bits(divisor)) // 4"),
    "ldr": ("2", "LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX, STREX ('treated more like an LDR'); 1 when it directly "
                 "follows a single load it pipelines with (its address uses neither that load's result nor "
                 "its written-back base)"),
    "str": ("1 / 2", "STR/STRB/STRH with an immediate offset (pre/post-indexed too) 1: its data phase overlaps "
                     "the next instruction; with a register offset 2; one less directly after a single load it "
                     "pipelines with (LDR; STR is 'normally three cycles total')"),
    "after_store": (f"+{STORE_DATA_PHASE}", "a load or store (LDR, STR, LDRD/STRD, LDM/POP, VLDR/VSTR, VLDM, TBB, "
                                           "LDR PC) directly after a single immediate-offset store: 'nothing can "
                                           "be pipelined after the store'; STM/PUSH do not wait (measured)"),
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

def _id_sets() -> dict[str, Any]:
    """The instruction-id sets below, in capstone's numbering (built at first use: simcore.lazycs)."""
    LOADS = {A.ARM_INS_LDR, A.ARM_INS_LDRB, A.ARM_INS_LDRH, A.ARM_INS_LDRSB, A.ARM_INS_LDRSH, A.ARM_INS_LDREX,
             A.ARM_INS_LDREXB, A.ARM_INS_LDREXH, A.ARM_INS_LDRT, A.ARM_INS_LDRBT, A.ARM_INS_LDRHT,
             A.ARM_INS_LDRSBT, A.ARM_INS_LDRSHT}
    STORES = {A.ARM_INS_STR, A.ARM_INS_STRB, A.ARM_INS_STRH, A.ARM_INS_STREX, A.ARM_INS_STREXB,
              A.ARM_INS_STREXH, A.ARM_INS_STRT, A.ARM_INS_STRBT, A.ARM_INS_STRHT}
    STORE_EXCL = {A.ARM_INS_STREX, A.ARM_INS_STREXB, A.ARM_INS_STREXH}
    DOUBLE = {A.ARM_INS_LDRD, A.ARM_INS_STRD, A.ARM_INS_LDREXD, A.ARM_INS_STREXD}
    MULTI = {A.ARM_INS_LDM, A.ARM_INS_LDMDB, A.ARM_INS_STM, A.ARM_INS_STMDB, A.ARM_INS_PUSH, A.ARM_INS_POP}
    MULTI_LOADS = {A.ARM_INS_LDM, A.ARM_INS_LDMDB, A.ARM_INS_POP}
    FP_MULTI = {A.ARM_INS_VLDMIA, A.ARM_INS_VLDMDB, A.ARM_INS_VSTMIA, A.ARM_INS_VSTMDB, A.ARM_INS_VPUSH,
                A.ARM_INS_VPOP}
    FP_MEM = {A.ARM_INS_VLDR, A.ARM_INS_VSTR}
    FP_MLA = {A.ARM_INS_VMLA, A.ARM_INS_VMLS, A.ARM_INS_VNMLA, A.ARM_INS_VNMLS, A.ARM_INS_VFMA, A.ARM_INS_VFMS,
              A.ARM_INS_VFNMA, A.ARM_INS_VFNMS}
    FP_DIV = {A.ARM_INS_VDIV, A.ARM_INS_VSQRT}
    DIV = {A.ARM_INS_SDIV, A.ARM_INS_UDIV}
    TABLE_BRANCH = {A.ARM_INS_TBB, A.ARM_INS_TBH}
    CALLS = {A.ARM_INS_BL, A.ARM_INS_BLX}
    BRANCHES = {A.ARM_INS_B, A.ARM_INS_BL, A.ARM_INS_BLX, A.ARM_INS_BX}
    CBZ = {A.ARM_INS_CBZ, A.ARM_INS_CBNZ}
    # What waits for a single store's data phase (TRM 3.3.2 "nothing can be pipelined after the store";
    # an STM/PUSH after a store does not wait: measured on an STM32F407, see docs/cycle-model.md).
    WAITS_FOR_STORE = (LOADS | STORES | DOUBLE | MULTI_LOADS | {A.ARM_INS_LDMDB} | TABLE_BRANCH | FP_MEM
                       | {A.ARM_INS_VLDMIA, A.ARM_INS_VLDMDB, A.ARM_INS_VPOP})
    return {
        "LOADS": LOADS, "STORES": STORES, "STORE_EXCL": STORE_EXCL, "DOUBLE": DOUBLE, "MULTI": MULTI,
        "MULTI_LOADS": MULTI_LOADS, "FP_MULTI": FP_MULTI, "FP_MEM": FP_MEM, "FP_MLA": FP_MLA, "FP_DIV": FP_DIV,
        "DIV": DIV, "TABLE_BRANCH": TABLE_BRANCH, "CALLS": CALLS, "BRANCHES": BRANCHES, "CBZ": CBZ,
        "WAITS_FOR_STORE": WAITS_FOR_STORE,
    }


_IDS: Any = Lazy(_id_sets)

INDIRECT = 0xFFFFFFFF  # branch target not known statically


def _waits_for_store(iid: int) -> bool:
    return iid in _IDS.WAITS_FOR_STORE


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
    """One cycle per instruction: latency then means instructions / MHz (nothing else costs cycles)."""

    name = "instructions"
    exception_entry = exception_return = tail_chain = 0  # CPI exactly 1: exception entry is not an instruction

    def block_costs(self, insns: Sequence[Any]) -> list[int]:
        return [1] * len(insns)

    def block_end(self, insns: Sequence[Any], it_conditional: Sequence[bool]) -> BlockEnd:
        """Blocks end the same way under every model (the profiler needs calls)."""
        return block_end(insns, it_conditional, 0)

    def divide_sites(self, insns: Sequence[Any]) -> tuple[DivSite, ...]:
        """CPI 1: no operand-dependent divides."""
        return ()

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
    if iid in _IDS.BRANCHES or iid in _IDS.CBZ or iid in _IDS.TABLE_BRANCH:
        return True
    if iid in _IDS.MULTI_LOADS or iid in _IDS.LOADS:
        return "pc" in _reg_list(insn)
    if not iid:
        return False
    _r, w = _regs(insn)
    return "pc" in w


def is_return_like(insn: Any) -> bool:
    """An indirect write of the PC that is not a call: BX, POP/LDM/LDR with PC, MOV/ADD PC, TBB/TBH."""
    iid = insn.id
    if not iid or iid in _IDS.CALLS or iid in _IDS.CBZ or iid == A.ARM_INS_B:
        return False
    return writes_pc(insn)


def literal_address(insn: Any) -> int | None:
    """The address a PC-relative literal load reads (Align(PC, 4) + imm), else None."""
    if insn.id not in _IDS.LOADS and insn.id not in _IDS.FP_MEM and insn.id not in _IDS.DOUBLE:
        return None
    if insn.id in _IDS.STORES:
        return None
    for op in insn.operands:
        if op.type == A.ARM_OP_MEM and op.mem.base == A.ARM_REG_PC:
            return ((insn.address + 4) & ~3) + op.mem.disp
    return None


def divide_cycles(dividend: int, divisor: int, signed: bool) -> int:
    """Cycles of SDIV/UDIV for these operand values (2-12), the early-termination rule measured on silicon.

    The TRM gives only "2-12, early termination ... based on the number of leading ones and
    zeroes in the input operands"; the rule is the one fitted to DWT CYCCNT measurements of
    many divisions on an STM32 Cortex-M4 (the "Cortex-M4 compendium", division timing page):
    2 if either operand is 0; 3 if the dividend needs fewer bits than the divisor; otherwise
    5 + (bits(dividend) - bits(divisor)) // 4, bits() counting the magnitude (|-16| = 16).
    The C twin is tm_div_cycles (simcore/native/timing.c).
    """
    n, m = dividend & 0xFFFFFFFF, divisor & 0xFFFFFFFF
    if signed:
        n = (-n & 0xFFFFFFFF) if n & 0x80000000 else n
        m = (-m & 0xFFFFFFFF) if m & 0x80000000 else m
    if n == 0 or m == 0:
        return DIV_MIN
    bn, bm = n.bit_length(), m.bit_length()
    if bn < bm:
        return 3
    return 5 + (bn - bm) // 4


@dataclass(frozen=True)
class DivSite:
    """An SDIV/UDIV whose operands a hook reads: its address and Unicorn register ids of Rn, Rm."""

    addr: int
    size: int
    rn: int
    rm: int
    signed: bool


def divide_sites(insns: Sequence[Any]) -> tuple[DivSite, ...]:
    """The divides of a decoded block, for the hot path's operand hooks (before translation)."""
    from unicorn import arm_const as R  # the hot path's register ids

    out: list[DivSite] = []
    for insn in insns:
        if insn.id in _IDS.DIV:
            regs = _reg_list(insn)
            if len(regs) == 3:
                rn = getattr(R, f"UC_ARM_REG_{_ALIASES.get(regs[1], regs[1]).upper()}")
                rm = getattr(R, f"UC_ARM_REG_{_ALIASES.get(regs[2], regs[2]).upper()}")
                out.append(DivSite(insn.address, insn.size, rn, rm, insn.id == A.ARM_INS_SDIV))
    return tuple(out)


_ALIASES = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12"}


def divide_sites_in(code: bytes, addr: int) -> tuple[DivSite, ...]:
    """The divides of the Thumb block ``code`` at ``addr``, found from their encodings without a
    disassembler (the native hot path's blocks; :func:`divide_sites` is the capstone twin).

    Instruction lengths follow ARMv7-M A5.1 (a first halfword with bits [15:11] 0b11101, 0b11110 or
    0b11111 starts a 32-bit instruction); SDIV is ``FB9n Fdfm`` and UDIV ``FBBn Fdfm`` (A7.7.127,
    A7.7.195: Rn in the first halfword's low nibble, Rm in the second's).
    """
    from unicorn import arm_const as R  # the hot path's register ids

    def uc_reg(n: int) -> int:
        return {13: R.UC_ARM_REG_SP, 14: R.UC_ARM_REG_LR, 15: R.UC_ARM_REG_PC}.get(n) or getattr(R, f"UC_ARM_REG_R{n}")

    out: list[DivSite] = []
    pos = 0
    while pos + 2 <= len(code):
        hw1 = code[pos] | code[pos + 1] << 8
        if hw1 >> 11 not in (0b11101, 0b11110, 0b11111):
            pos += 2
            continue
        if pos + 4 > len(code):
            break
        hw2 = code[pos + 2] | code[pos + 3] << 8
        if hw1 & 0xFFD0 == 0xFB90 and hw2 & 0xF0F0 == 0xF0F0:  # 0xFB90 SDIV, 0xFBB0 UDIV
            out.append(DivSite(addr + pos, 4, uc_reg(hw1 & 0xF), uc_reg(hw2 & 0xF), hw1 & 0x20 == 0))
        pos += 4
    return tuple(out)


def block_end(insns: Sequence[Any], it_conditional: Sequence[bool], refill_scale: int = 1) -> BlockEnd:
    """Describe how the block ends (see :class:`BlockEnd`); ``refill_scale`` 0 prices no refill."""
    if not insns:
        return BlockEnd()
    last = insns[-1]
    iid = last.id
    if not iid:
        return BlockEnd()
    call = iid in _IDS.CALLS
    cond_it = bool(it_conditional[-1]) if it_conditional else False
    if iid in _IDS.CBZ or (iid == A.ARM_INS_B and is_conditional(last) and not cond_it):
        target = next((op.imm for op in last.operands if op.type == A.ARM_OP_IMM), INDIRECT) & 0xFFFFFFFF
        return BlockEnd(cond=True, taken_extra=BRANCH_REFILL * refill_scale, target=target & ~1, call=False)
    if cond_it and writes_pc(last):
        extra = (LOAD_PC_REFILL if iid in _IDS.MULTI_LOADS or iid in _IDS.LOADS else BRANCH_REFILL) * refill_scale
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
    # "operands": SDIV/UDIV priced from their operands by per-address hooks (default);
    # "bound": the TRM's 12 charged statically, no hooks (benchmarks/divide_cost.py compares them)
    divides: str = "operands"
    exception_entry: ClassVar[int] = EXCEPTION_ENTRY
    exception_return: ClassVar[int] = EXCEPTION_RETURN
    tail_chain: ClassVar[int] = TAIL_CHAIN

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

    def divide_sites(self, insns: Sequence[Any]) -> tuple[DivSite, ...]:
        return divide_sites(insns) if self.divides == "operands" else ()

    def block_costs(self, insns: Sequence[Any]) -> list[int]:
        """Static cycles of each instruction, in order (see :data:`TIMINGS`).

        A block-ending conditional branch is priced as not taken. IT-conditional
        instructions are charged their full cost whether or not their condition passes.
        """
        out: list[int] = []
        prev: Any = None
        prev_pipe_ok = False  # previous was a single load that a following LDR/STR can pipeline with
        prev_store_imm = False  # previous was a single store whose data phase overlaps this instruction
        prev_load_dest: set[str] = set()
        prev_alu_dest: set[str] = set()
        prev_fp_dest: set[str] = set()
        for idx, insn in enumerate(insns):
            iid = insn.id
            cost = 1
            pipe_ok = False
            store_imm = False
            load_dest: set[str] = set()
            alu_dest: set[str] = set()
            fp_dest: set[str] = set()
            if not iid:  # undecoded: one simple instruction
                out.append(1)
                prev, prev_pipe_ok, prev_store_imm = insn, False, False
                prev_load_dest, prev_alu_dest, prev_fp_dest = set(), set(), set()
                continue
            reads, writes = _regs(insn)
            last = idx == len(insns) - 1
            # TRM 3.3.2: "nothing can be pipelined after the store": a load or store (but not STM/PUSH,
            # measured on an STM32F407) right after a single store waits for the store's data phase.
            after_store = STORE_DATA_PHASE if prev_store_imm and _waits_for_store(iid) else 0
            if iid in _IDS.LOADS or iid in _IDS.STORES:
                load_like = iid in _IDS.LOADS or iid in _IDS.STORE_EXCL  # STREX "is treated more like an LDR"
                regs = _reg_list(insn)
                if iid in _IDS.LOADS and regs and regs[0] == "pc":
                    cost = 2 + LOAD_PC_REFILL
                else:
                    addr_regs = _mem_regs(insn)
                    reg_offset = _has_reg_offset(insn)
                    # a store with an immediate offset issues in 1 cycle, its data phase overlapping the
                    # next instruction; loads, STREX and register-offset stores take 2
                    cost = 2 if load_like or reg_offset else 1
                    if prev_pipe_ok and not (addr_regs & prev_load_dest):
                        cost -= 1  # pipelined with the previous load: "one cycle is removed"
                    if addr_regs & prev_alu_dest:
                        cost += 1
                    pipe_ok = load_like
                    store_imm = not load_like and not reg_offset
                    if load_like:
                        load_dest = writes - {"pc"}  # the loaded register and a written-back base
            elif iid in _IDS.DOUBLE:
                cost = 3 + (1 if _mem_regs(insn) & prev_alu_dest else 0)
            elif iid in _IDS.MULTI:
                regs = _reg_list(insn)
                if iid not in (A.ARM_INS_PUSH, A.ARM_INS_POP) and regs:
                    regs = regs[1:]  # the base register is the first operand
                cost = 1 + len(regs)
                if iid in _IDS.MULTI_LOADS and "pc" in regs:
                    cost += LOAD_PC_REFILL
                base = _mem_regs(insn) | ({_reg_list(insn)[0]} if iid not in (A.ARM_INS_PUSH, A.ARM_INS_POP)
                                          and _reg_list(insn) else {"sp"})
                if base & prev_alu_dest:
                    cost += 1
            elif iid in _IDS.TABLE_BRANCH:
                cost = 3 + LOAD_PC_REFILL
            elif iid in _IDS.CBZ:
                cost = 1  # taken: +P at the next block (always block-ending)
            elif iid == A.ARM_INS_B and is_conditional(insn):
                cost = 1 if last else 1 + BRANCH_REFILL  # a mid-block conditional B cannot happen; be safe
            elif iid in _IDS.BRANCHES:
                cost = 1 + BRANCH_REFILL
            elif iid == A.ARM_INS_IT:
                folded = prev is not None and getattr(prev, "size", 4) == 2 and not writes_pc(prev)
                cost = 0 if folded else 1
            elif iid in _IDS.DIV:
                # "operands": the rest by operand values at run time (divide_sites, divide_cycles)
                cost = DIV_MIN if self.divides == "operands" else DIV_MAX
                alu_dest = writes
            elif iid in _IDS.FP_MLA:
                cost = 3
                fp_dest = _fp_regs(writes)
            elif iid in _IDS.FP_DIV:
                cost = 14
                fp_dest = _fp_regs(writes)
            elif iid in _IDS.FP_MEM:
                regs = _reg_list(insn)
                cost = 3 if regs and regs[0].startswith("d") else 2
                if _mem_regs(insn) & prev_alu_dest:
                    cost += 1
            elif iid in _IDS.FP_MULTI:
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
            if prev_fp_dest and _fp_regs(reads) & prev_fp_dest and iid not in _IDS.FP_MULTI:
                cost += 1  # FP result used by the very next instruction
            out.append(cost + after_store)
            prev = insn
            prev_pipe_ok = pipe_ok
            prev_store_imm = store_imm
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
