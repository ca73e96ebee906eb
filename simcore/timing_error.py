"""The error bar of a run's cycle count: what the Cortex-M4 model's documented simplifications can move.

Every term is a count of events in this run times a per-event bound from the manual or from
published silicon measurements (docs/cycle-model.md, "How far off can it be?"):

* ``refill``: the pipeline refill P is 2 where the TRM gives 1-3 (Table 3-1): -1/+1 per refill
  (every taken branch, call, return and PC write).
* ``unaligned_wide``: "groups of three or more unaligned wide instructions will take one extra
  cycle" (measured on an STM32 Cortex-M4): +1 per such group executed.
* ``literal_fetch``: "LDR Rx,[PC,#imm] might add a cycle because of contention with the fetch
  unit" (TRM 3.3.2): +1 per literal load.
* ``it_conditional``: IT-conditional loads, stores and divides are charged as executed whether or
  not their condition passes: up to -2 per load/store, -1 per divide.
* ``block_split``: load/store pipelining is not carried across a block that ends without a
  branch (a page or size split): -1/+1 per such block.
* ``flash_prefetch``: the ART's sequential prefetch is modelled as hiding a miss completely; a
  line of four single-cycle 32-bit instructions executes faster than the next line arrives:
  up to +(WS - 3) per miss the prefetch hid.
* ``flash_data``: with ``--flash-data literal`` (the default) loads through a register from flash
  (const tables, model weights) are not charged: at most WS per word such loads read (WS: the most
  wait states the run had where the firmware sets them, simcore.api.cycle_error_bar). Which loads
  read flash is judged at each block's first execution from its entry registers (a load whose
  address is computed inside the block counts as reading flash); ``--flash-data exact`` charges
  them and drops the term.

Sleep time (WFI/WFE until the next event) is virtual time, not modelled: no error term.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simcore.cycles import BRANCH_REFILL, FlashConfig, writes_pc
from simcore.lazycs import A, Lazy


def _id_sets() -> dict[str, Any]:
    """The instruction-id sets below, in capstone's numbering (built at first use: simcore.lazycs)."""
    LOADS_1 = {A.ARM_INS_LDR, A.ARM_INS_LDRB, A.ARM_INS_LDRH, A.ARM_INS_LDRSB, A.ARM_INS_LDRSH, A.ARM_INS_LDREX,
               A.ARM_INS_LDREXB, A.ARM_INS_LDREXH, A.ARM_INS_LDRT, A.ARM_INS_LDRBT, A.ARM_INS_LDRHT,
               A.ARM_INS_LDRSBT, A.ARM_INS_LDRSHT, A.ARM_INS_VLDR}
    STORES_1 = {A.ARM_INS_STR, A.ARM_INS_STRB, A.ARM_INS_STRH, A.ARM_INS_STREX, A.ARM_INS_STRT, A.ARM_INS_STRBT,
                A.ARM_INS_STRHT, A.ARM_INS_VSTR, A.ARM_INS_STRD, A.ARM_INS_STM, A.ARM_INS_STMDB, A.ARM_INS_PUSH,
                A.ARM_INS_VSTMIA, A.ARM_INS_VSTMDB, A.ARM_INS_VPUSH}
    LOADS_N = {A.ARM_INS_LDM, A.ARM_INS_LDMDB, A.ARM_INS_VLDMIA, A.ARM_INS_VLDMDB, A.ARM_INS_LDRD}
    DIV = {A.ARM_INS_SDIV, A.ARM_INS_UDIV}
    MULTI = {A.ARM_INS_LDM, A.ARM_INS_LDMDB, A.ARM_INS_VLDMIA, A.ARM_INS_VLDMDB}
    return {
        "LOADS_1": LOADS_1, "STORES_1": STORES_1, "LOADS_N": LOADS_N, "DIV": DIV, "MULTI": MULTI
    }


_IDS: Any = Lazy(_id_sets)


@dataclass(frozen=True)
class LoadProbe:
    """A data load's address as block-entry registers give it: R[base] + offset (+ R[index] << shift)."""

    base: str
    offset: int
    index: str | None
    shift: int
    words: int


@dataclass(frozen=True)
class BlockUncertainty:
    """Per block, the static counts the error bar multiplies by the block's executions."""

    refill: int = 0  # the block's static cycles include one pipeline refill
    wide_groups: int = 0  # runs of >= 3 consecutive 32-bit instructions at addresses = 2 (mod 4)
    literal_loads: int = 0  # PC-relative loads
    cond_over: int = 0  # cycles of IT-conditional loads/stores (2 each) and divides (1) that a failed condition saves
    split: int = 0  # the block ends without writing the PC
    data_words: int = 0  # words read by loads whose base is neither SP nor PC
    probes: tuple[LoadProbe, ...] = ()  # those loads whose address the block-entry registers give
    unknown_words: int = 0  # words of the others (the address is computed inside the block)


def flash_words(u: BlockUncertainty, reg: Any, is_flash: Any) -> int:
    """Words the block reads from flash, judged at one execution: ``reg(name)`` reads a register at the
    block's entry, ``is_flash(addr)``; loads whose address the entry registers do not give count as flash."""
    words = u.unknown_words
    for pr in u.probes:
        addr = reg(pr.base) + pr.offset + ((reg(pr.index) << pr.shift) if pr.index else 0)
        if is_flash(addr & 0xFFFFFFFF):
            words += pr.words
    return words




def _mem_base(insn: Any) -> str | None:
    if insn.id in _IDS.MULTI:  # ldm r3!, {r0, r1}: the base is the first register operand
        return insn.reg_name(insn.operands[0].reg) if insn.operands else None
    for op in insn.operands:
        if op.type == A.ARM_OP_MEM:
            return insn.reg_name(op.mem.base) if op.mem.base else None
    return None


def _words(insn: Any) -> int:
    """32-bit words an instruction loads (a byte or halfword load counts 1)."""
    if insn.id == A.ARM_INS_LDRD:
        return 2
    if insn.id in (A.ARM_INS_VLDR,):
        regs = [insn.reg_name(op.reg) for op in insn.operands if op.type == A.ARM_OP_REG]
        return 2 if regs and regs[0].startswith("d") else 1
    if insn.id in _IDS.LOADS_N:
        regs = [insn.reg_name(op.reg) for op in insn.operands if op.type == A.ARM_OP_REG][1:]
        return sum(2 if r.startswith("d") else 1 for r in regs)
    return 1


def block_uncertainty(insns: Sequence[Any], conditional: Sequence[bool], cond_end: bool) -> BlockUncertainty:
    """The counts of one decoded block (capstone instructions, IT-conditional flags, ends with a conditional branch)."""
    if not insns:
        return BlockUncertainty()
    wide_groups = run = 0
    literal = cond_over = data_words = unknown = 0
    probes: list[LoadProbe] = []
    state: dict[str, Affine] = {}  # registers written so far, as entry register + offset
    for insn, cond in zip(insns, conditional, strict=False):
        iid = insn.id
        if insn.size == 4 and insn.address % 4 == 2:  # the next one is unaligned too, unless 16-bit
            run += 1
            if run == 3:
                wide_groups += 1
        else:
            run = 0
        if not iid:
            continue
        base = _mem_base(insn) if iid in _IDS.LOADS_1 or iid in _IDS.LOADS_N or iid == A.ARM_INS_POP else None
        if iid in _IDS.LOADS_1 or iid in _IDS.LOADS_N:
            if base == "pc":
                literal += 1
            elif base is not None and base != "sp":
                words = _words(insn)
                data_words += words
                probe = _probe(insn, base, state)
                if probe is None:
                    unknown += words
                else:
                    probes.append(LoadProbe(probe[0], probe[1], probe[2], probe[3], words))
        _track(insn, state)
        if cond:
            if iid in _IDS.LOADS_1 or iid in _IDS.STORES_1 or iid in _IDS.LOADS_N:
                cond_over += 2
            elif iid in _IDS.DIV:
                cond_over += 1
    last = insns[-1]
    pc_write = bool(last.id) and writes_pc(last)
    return BlockUncertainty(refill=1 if pc_write and not cond_end else 0, wide_groups=wide_groups,
                            literal_loads=literal, cond_over=cond_over, split=0 if pc_write else 1,
                            data_words=data_words, probes=tuple(probes), unknown_words=unknown)


Affine = tuple[str, int] | None  # a register's value as (block-entry register, offset), or None


def _value(state: dict[str, Affine], reg: str) -> Affine:
    return state[reg] if reg in state else (reg, 0)


def _probe(insn: Any, base: str, state: dict[str, Affine]) -> tuple[str, int, str | None, int] | None:
    """(entry register, offset, index, shift) of a load's first address from block-entry registers, or None."""
    b = _value(state, base)
    if insn.id in _IDS.MULTI:
        if b is None:
            return None
        down = insn.id in (A.ARM_INS_LDMDB, A.ARM_INS_VLDMDB)
        return b[0], b[1] - (4 * _words(insn) if down else 0), None, 0
    mem = next(op for op in insn.operands if op.type == A.ARM_OP_MEM)
    index = insn.reg_name(mem.mem.index) if mem.mem.index else None
    ix = _value(state, index) if index else None
    if b is None or (index is not None and (ix is None or ix[1] != 0)):
        return None
    post = getattr(insn, "post_index", False)
    offset = b[1] + (0 if post else mem.mem.disp)
    shift = mem.shift.value if index and mem.shift.type == A.ARM_SFT_LSL else 0
    return b[0], offset, ix[0] if ix else None, shift


def _track(insn: Any, state: dict[str, Affine]) -> None:
    """Follow registers that are an entry register plus a constant (MOV, ADD/SUB #imm, writeback)."""
    try:
        _r, written = insn.regs_access()
    except Exception:  # noqa: BLE001 - capstone raises on some instructions
        return
    names = {insn.reg_name(w) for w in written}
    ops = insn.operands
    regs = [insn.reg_name(o.reg) for o in ops if o.type == A.ARM_OP_REG]
    imm = next((o.imm for o in ops if o.type == A.ARM_OP_IMM), None)
    new: dict[str, Affine] = {}
    if insn.writeback:
        mem = next((op for op in ops if op.type == A.ARM_OP_MEM), None)
        if mem is not None and mem.mem.base and not mem.mem.index:
            base = insn.reg_name(mem.mem.base)
            post = next((op.imm for op in ops[2:] if op.type == A.ARM_OP_IMM), None)
            v = _value(state, base)
            new[base] = None if v is None else (v[0], v[1] + (post if post is not None else mem.mem.disp))
        elif regs:  # LDM/STM with writeback: 4 bytes a register
            n = 4 * sum(2 if r.startswith("d") else 1 for r in regs[1:])
            down = insn.id in (A.ARM_INS_LDMDB, A.ARM_INS_STMDB, A.ARM_INS_VLDMDB, A.ARM_INS_VSTMDB)
            v = _value(state, regs[0])
            new[regs[0]] = None if v is None else (v[0], v[1] + (-n if down else n))
    elif insn.id == A.ARM_INS_MOV and len(regs) == 2 and imm is None:
        new[regs[0]] = _value(state, regs[1])
    elif insn.id in (A.ARM_INS_ADD, A.ARM_INS_SUB, A.ARM_INS_ADDW, A.ARM_INS_SUBW) and imm is not None \
            and len(regs) in (1, 2):
        v = _value(state, regs[-1])
        step = imm if insn.id in (A.ARM_INS_ADD, A.ARM_INS_ADDW) else -imm
        new[regs[0]] = None if v is None else (v[0], v[1] + step)
    for name in names:
        state[name] = new.get(name)
    for name, v in new.items():
        state[name] = v


@dataclass
class ErrorBar:
    """Cycles the model may read high (``minus``) or low (``plus``), by term; ``cycles`` is the run's count."""

    cycles: int
    mhz: float
    terms: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def minus(self) -> int:
        return sum(m for m, _ in self.terms.values())

    @property
    def plus(self) -> int:
        return sum(p for _, p in self.terms.values())

    @property
    def low(self) -> int:
        return max(self.cycles - self.minus, 0)

    @property
    def high(self) -> int:
        return self.cycles + self.plus

    def percent(self) -> tuple[float, float]:
        c = self.cycles or 1
        return -100.0 * self.minus / c, 100.0 * self.plus / c

    def to_dict(self) -> dict[str, Any]:
        hz = self.mhz * 1e6
        lo, hi = self.percent()
        return {"cycles_low": self.low, "cycles_high": self.high, "minus": self.minus, "plus": self.plus,
                "percent": [round(lo, 2), round(hi, 2)], "seconds_low": self.low / hz, "seconds_high": self.high / hz,
                "terms": {k: {"minus": m, "plus": p} for k, (m, p) in self.terms.items()}}

    def describe(self) -> str:
        lo, hi = self.percent()
        hz = self.mhz * 1e6
        return (f"model error bar {lo:+.1f}%/{hi:+.1f}%: {self.low / hz * 1e3:.3f}-{self.high / hz * 1e3:.3f} ms "
                "(docs/cycle-model.md)")


def run_error_bar(blocks: Mapping[Any, tuple[BlockUncertainty, int, int]], cycles: int,
                  mhz: float, flash: FlashConfig, taken_branch_cycles: int, prefetch_hidden: int) -> ErrorBar:
    """The error bar from each executed block's counts: ``blocks`` maps a block to (counts, words it read from
    flash at its first execution (see flash_words), executions)."""
    refills = taken_branch_cycles // BRANCH_REFILL  # taken conditional branches (a load to the PC counts 3: fewer)
    wide = literal = cond_over = split = data_words = 0
    for u, fwords, n in blocks.values():
        refills += u.refill * n
        wide += u.wide_groups * n
        literal += u.literal_loads * n
        cond_over += u.cond_over * n
        split += u.split * n
        data_words += fwords * n
    ws = flash.wait_states
    bar = ErrorBar(cycles, mhz)
    bar.terms["refill"] = (refills, refills)
    bar.terms["unaligned_wide"] = (0, wide)
    bar.terms["literal_fetch"] = (0, literal)
    bar.terms["it_conditional"] = (cond_over, 0)
    bar.terms["block_split"] = (split, split)
    if ws and flash.accelerator == 1 and flash.prefetch:
        bar.terms["flash_prefetch"] = (0, prefetch_hidden * max(ws - 3, 0))
    if ws and not flash.data_hook:
        bar.terms["flash_data"] = (0, ws * data_words)
    return bar
