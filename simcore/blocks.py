"""Block analysis: instruction count, static cycles, stack effect and what a block holds.

The hot path (see :mod:`simcore.hotpath`) analyses a block the first time Unicorn enters it:
in C (simcore/native/thumb.c, a table-driven Thumb-2 decoder) or, for the Python fallback,
here with capstone. Both give identical results (tests/unit/test_native_analysis.py checks
every committed ELF). Decoding starts at the block's own start address, which is always a
real instruction boundary, so data in code never desynchronises the count. Cycle costs come
from :mod:`simcore.cycles` (the Cortex-M4 model).

Instructions count as the architecture executes them: an instruction in an IT block whose
condition fails is executed as a NOP (ARMv7-M A7.3.2) and counted, as QEMU counts it, so
a block's count is static.

Besides costs, a block's flags say what the hot path must watch at its entry instead of a
per-address hook: a mask change (CPSIE/MSR: a pending exception may be taken after it), SEV,
an idle loop (a branch to itself), and the instructions the optional traps need (divides,
LDM/STM/LDRD/STRD, halfword/word accesses; see simcore.cortexm.codescan). A divide whose
operands survive to the block's end is priced there (``div_slots``, :func:`divide_slots`); the
others keep a per-address operand hook (``DIV_HOOK``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simcore.cortexm.codescan import classify
from simcore.cycles import (
    INDIRECT,
    BlockEnd,
    CortexM4,
    CycleModel,
    DivSite,
    FlashConfig,
    is_return_like,
    literal_address,
    writes_pc,
)
from simcore.lazycs import A, Lazy, thumb
from simcore.timing_error import BlockUncertainty, block_uncertainty

if TYPE_CHECKING:
    import capstone

SP_READ = 1  # the block moves SP down: read SP at entry and apply sp_min_delta
SP_DYNAMIC = 2  # the block writes SP by an amount not known statically: read SP at the next block
COND_END = 4  # ends with a conditional branch priced as not taken: +taken_extra if the next block is the target
CALL_END = 8  # ends with BL/BLX: the profiler pushes a frame at the next block
HANDLER = 16  # starts at an exception handler's address (vector table): the profiler's interrupt frames
IN_FLASH = 32  # executes from flash: wait states and the accelerator apply
RET_END = 64  # ends with an indirect PC write (BX, POP/LDM/LDR PC, MOV PC): the profiler looks for a return
MASK = 128  # holds CPSIE or MSR: a pending exception may become takeable after it (QEMU ends the block there)
SEV = 256  # holds SEV: sets the event register (B1.5.18)
SELF_LOOP = 512  # ends with a branch to itself (b . / b.w .): an idle loop; target is its address
DIV = 1024  # holds SDIV/UDIV (the DIV_0_TRP watch)
MULTI = 2048  # holds LDM/STM (base not SP) or LDRD/STRD (base not SP/PC) (the alignment watch)
ACCESS = 4096  # holds a halfword/word load/store with a base other than SP/PC (the UNALIGN_TRP watch)
DATA = 16384  # holds a load through a base other than SP/PC (the error bar's flash-data probe)
CONTROL = 8192  # holds MSR CONTROL: thread mode may change stack (SPSEL) or privilege (the MPU map)
DIV_HOOK = 32768  # holds a divide priced by a per-address operand hook (one the block does not defer: div_slots)
WATCH_FLAGS = {"div": DIV, "multi": MULTI, "access": ACCESS}
B_SELF_16 = 0xE7FE  # b.n .
B_SELF_32 = 0xBFFEF7FF  # b.w . (two halfwords, little-endian word)

DIV_SLOT = 0x80000000  # hp_block.div: a used slot (thumb.h HP_DIV_SLOT)
DIV_SIGNED = 0x40000000  # ... an SDIV
_REG_NUM = {**{f"r{i}": i for i in range(13)}, "sb": 9, "sl": 10, "fp": 11, "ip": 12, "sp": 13, "lr": 14, "pc": 15}


def _id_sets() -> dict[str, Any]:
    """The instruction-id sets below, in capstone's numbering (built at first use: simcore.lazycs)."""
    PUSH_LIKE = {A.ARM_INS_PUSH, A.ARM_INS_VPUSH}
    POP_LIKE = {A.ARM_INS_POP, A.ARM_INS_VPOP}
    # system, hint, exception-generating and preload instructions (thumb.h IF_SYS)
    SYSTEM = {getattr(A, f"ARM_INS_{n}") for n in ("SVC", "BKPT", "UDF", "CPS", "MSR", "MRS", "NOP", "YIELD", "WFE",
                                                 "WFI", "SEV", "DBG", "CLREX", "DSB", "DMB", "ISB", "PLD", "PLI",
                                                 "PLDW", "HINT")}
    # what may follow a divide priced at the block's end, besides data processing (div_defer_ok in thumb.c)
    DEFER_OK = {A.ARM_INS_B, A.ARM_INS_BL, A.ARM_INS_CBZ, A.ARM_INS_CBNZ, A.ARM_INS_IT, A.ARM_INS_SDIV,
                A.ARM_INS_UDIV}
    MULTI = {A.ARM_INS_LDM, A.ARM_INS_LDMDB, A.ARM_INS_STM, A.ARM_INS_STMDB, A.ARM_INS_PUSH, A.ARM_INS_POP}
    return {
        "PUSH_LIKE": PUSH_LIKE, "POP_LIKE": POP_LIKE, "SYSTEM": SYSTEM, "DEFER_OK": DEFER_OK, "MULTI": MULTI,
    }


_IDS: Any = Lazy(_id_sets)


@dataclass(frozen=True)
class Insn:
    """One decoded instruction with its static cost."""

    address: int
    size: int
    mnemonic: str
    op_str: str
    cycles: int
    conditional: bool = False  # inside an IT block (executed as a NOP when its condition fails: still counted)


@dataclass(frozen=True)
class BlockInfo:
    """What the hot path needs per block, plus the instructions for mid-block corrections."""

    addr: int
    size: int
    n_insn: int
    cycles: int
    sp_min_delta: int
    flags: int
    insns: tuple[Insn, ...]
    end: BlockEnd = BlockEnd()
    line0: int = 0  # first 128-bit flash line (address >> 4) the block spans
    n_lines: int = 0  # 128-bit lines spanned (0 outside flash)
    lit_count: int = 0  # PC-relative literal loads from flash (flash data reads)
    lit_line: int = 0  # the line (address >> 4) of the first literal
    loop: int = INDIRECT  # SELF_LOOP: the branch-to-self's address
    divides: tuple[DivSite, ...] = ()  # SDIV/UDIV priced from their operands (by hooks, but those in div_slots)
    div_slots: tuple[int, int] = (0, 0)  # SDIV/UDIV priced at the block's end (hp_block.div words)
    uncertainty: BlockUncertainty = BlockUncertainty()  # what the cycle model's error bar counts (timing_error)

    @property
    def target(self) -> int:
        """The hot path's target field: a conditional end's target, an idle loop's address, else INDIRECT."""
        if self.flags & SELF_LOOP:
            return self.loop
        return self.end.target if self.end.cond else INDIRECT

    @property
    def taken_extra(self) -> int:
        return self.end.taken_extra if self.end.cond else 0

    def tail(self, pc: int) -> tuple[int, int]:
        """Instructions and cycles of this block from ``pc`` (inclusive) to its end."""
        rest = [i for i in self.insns if i.address >= pc]
        return len(rest), sum(i.cycles for i in rest)


def _written(insn: capstone.CsInsn) -> set[int]:
    """Core registers (0-15) the instruction writes."""
    try:
        _r, w = insn.regs_access()
    except Exception:  # noqa: BLE001 - capstone raises on some instructions: none known
        return set()
    return {n for n in (_REG_NUM.get(insn.reg_name(x) or "") for x in w) if n is not None}


def _div_defer_ok(insn: capstone.CsInsn) -> bool:
    """May this instruction follow a divide priced at the block's end (no memory access, no exception, no
    exit from emulation)? The twin of div_defer_ok in thumb.c."""
    iid = insn.id
    if isinstance(insn, _Undecoded) or not iid:
        return False
    if iid in _IDS.DEFER_OK:
        return True
    if insn.mnemonic.startswith("v") or iid in _IDS.SYSTEM or iid in _IDS.MULTI:
        return False
    if any(op.type == A.ARM_OP_MEM for op in insn.operands):
        return False
    return not writes_pc(insn)


def divide_slots(raw: list[Any], conditional: list[bool], addr: int) -> tuple[tuple[int, int], bool]:
    """The block's divides priced at its end (hp_block.div words, at most two) and whether another divide
    needs an operand hook (DIV_HOOK). A divide is priced at the end when it is not IT-conditional, Rn
    and Rm are among R0-R12 and Rd is neither, and every instruction after it passes
    :func:`_div_defer_ok` without writing Rn or Rm (thumb.h, hp_block.div)."""
    words: list[int] = []
    regs: list[set[int]] = []
    open_: list[bool] = []
    hook = False
    for insn, itc in zip(raw, conditional, strict=True):
        if words:
            safe = _div_defer_ok(insn)
            written = _written(insn) if safe else set()
            for k in range(len(words)):
                if open_[k] and (not safe or written & regs[k]):
                    open_[k] = False
                    hook = True
        if isinstance(insn, _Undecoded) or insn.id not in (A.ARM_INS_SDIV, A.ARM_INS_UDIV):
            continue
        names = [insn.reg_name(op.reg) for op in insn.operands if op.type == A.ARM_OP_REG]
        rn, rm = (_REG_NUM.get(n or "", 99) for n in names[1:3]) if len(names) == 3 else (99, 99)
        if not itc and rn <= 12 and rm <= 12 and not _written(insn) & {rn, rm} and len(words) < 2:
            signed = DIV_SIGNED if insn.id == A.ARM_INS_SDIV else 0
            words.append(DIV_SLOT | signed | ((insn.address - addr) // 2) << 8 | rm << 4 | rn)
            regs.append({rn, rm})
            open_.append(True)
        else:
            hook = True
    kept = [w for w, o in zip(words, open_, strict=True) if o] + [0, 0]
    return (kept[0], kept[1]), hook


def deferred_addresses(addr: int, slots: tuple[int, int] | list[int]) -> set[int]:
    """Addresses of the divides a block's hp_block.div words price at its end."""
    return {addr + ((w >> 8) & 0x7FF) * 2 for w in slots if w}


def _reg_list_bytes(insn: capstone.CsInsn) -> int:
    total = 0
    for op in insn.operands:
        if op.type == A.ARM_OP_REG:
            name = insn.reg_name(op.reg) or ""
            total += 8 if name.startswith("d") else 4
    return total


def sp_effect(insn: capstone.CsInsn) -> tuple[int | None, bool]:
    """(static SP change, or None if SP is written by an unknown amount; whether SP is written)."""
    iid = insn.id
    if iid in _IDS.PUSH_LIKE:
        return -_reg_list_bytes(insn), True
    if iid in _IDS.POP_LIKE:
        return _reg_list_bytes(insn), True
    ops = insn.operands
    # sub/add sp, sp, #imm and the 16-bit sub sp, #imm
    if iid in (A.ARM_INS_SUB, A.ARM_INS_SUBW, A.ARM_INS_ADD, A.ARM_INS_ADDW) and ops:
        if ops[0].type == A.ARM_OP_REG and ops[0].reg == A.ARM_REG_SP:
            imm = next((o.imm for o in ops[1:] if o.type == A.ARM_OP_IMM), None)
            srcs = [o.reg for o in ops[1:] if o.type == A.ARM_OP_REG]
            if imm is not None and all(r == A.ARM_REG_SP for r in srcs):
                return (-imm if iid in (A.ARM_INS_SUB, A.ARM_INS_SUBW) else imm), True
            return None, True
    # stores and loads with SP writeback: stmdb sp!, str rX, [sp, #-4]!, ldr rX, [sp], #4, ldm sp!
    if insn.writeback:
        mem_base = next((o.mem.base for o in ops if o.type == A.ARM_OP_MEM), None)
        if iid in (A.ARM_INS_STMDB, A.ARM_INS_VSTMDB) and ops[0].reg == A.ARM_REG_SP:
            return -_reg_list_bytes(insn) + 4, True  # first operand is SP itself
        if iid in (A.ARM_INS_LDM, A.ARM_INS_VLDMIA) and ops[0].reg == A.ARM_REG_SP:
            return _reg_list_bytes(insn) - 4, True
        if mem_base == A.ARM_REG_SP:
            disp = next((o.mem.disp for o in ops if o.type == A.ARM_OP_MEM), 0)
            post = next((o.imm for o in ops[2:] if o.type == A.ARM_OP_IMM), None)
            if post is not None:
                return post, True
            return disp, True
    _read, written = insn.regs_access()
    if A.ARM_REG_SP in written:
        return None, True
    return 0, False


class BlockAnalyzer:
    """Decodes blocks on demand from guest memory and prices them with the cycle model."""

    def __init__(
        self,
        read_mem: Callable[[int, int], bytes],
        cycle_model: CycleModel,
        function_start: Callable[[int], int | None] | None = None,
    ) -> None:
        self._read_mem = read_mem
        self._md_detail: Any = None  # capstone disassemblers, made when the Python twin first needs them
        self._md_plain: Any = None
        self._function_start = function_start
        self.cycle_model = cycle_model
        self.cache: dict[tuple[int, int], BlockInfo] = {}
        flash = getattr(cycle_model, "flash_config", None)
        self.flash: FlashConfig = flash() if flash is not None else FlashConfig()
        self.handlers: frozenset[int] = frozenset()  # exception handler addresses (set by the profiler)
        # IT-conditional instructions still to come where an analysed block ends inside an IT block
        # (Unicorn splits blocks at 1 KiB pages): found from the code itself, not from symbols
        self._it_after: dict[int, int] = {}

    def it_state_at(self, addr: int) -> int:
        """How many IT-conditional instructions remain at ``addr`` (0 outside an IT block).

        Unicorn may start a block inside an IT block (e.g. after a page or size split); the
        IT instruction is then in an earlier block, so decode from the function's start.
        """
        carried = self._it_after.get(addr)
        if carried is not None:
            return carried
        lo = max(addr - 16, 0)
        before = self._read_mem(lo, addr - lo) if addr > lo else b""
        halfwords = [int.from_bytes(before[i : i + 2], "little") for i in range(0, len(before) - 1, 2)]
        if not any((h & 0xFF00) == 0xBF00 and h & 0xF for h in halfwords):
            return 0
        start = self._function_start(addr) if self._function_start else None
        if start is None or not 0 <= addr - start <= 1 << 16:
            return 0
        it_left = 0
        if self._md_plain is None:
            self._md_plain = thumb()
        for insn in self._md_plain.disasm(self._read_mem(start, addr - start + 4), start):
            if insn.address == addr:
                return it_left
            if insn.address > addr:
                return 0
            if it_left:
                it_left -= 1
            if insn.mnemonic.startswith("it") and insn.id == A.ARM_INS_IT:
                it_left = len(insn.mnemonic) - 1
        return 0

    def code(self, addr: int, size: int) -> bytes:
        """The bytes of guest memory at ``addr``."""
        return bytes(self._read_mem(addr, size))

    def decode(self, addr: int, size: int) -> list[capstone.CsInsn]:
        code = self.code(addr, size)
        if self._md_detail is None:
            self._md_detail = thumb(detail=True)
        out = list(self._md_detail.disasm(code, addr))
        done = sum(i.size for i in out)
        if done != size:
            # An undecodable instruction (e.g. UDF or a coprocessor op capstone lacks):
            # count it as one instruction per halfword pair so the total still advances.
            pos = addr + done
            while pos < addr + size:
                half = int.from_bytes(code[pos - addr : pos - addr + 2], "little")
                width = 4 if (half >> 11) in (0b11101, 0b11110, 0b11111) else 2
                out.append(_Undecoded(pos, width))  # type: ignore[arg-type]
                pos += width
        return out

    def analyze(self, addr: int, size: int) -> BlockInfo:
        key = (addr, size)
        info = self.cache.get(key)
        if info is not None:
            return info
        raw = self.decode(addr, size)
        costs = self.cycle_model.block_costs(raw)
        delta = 0
        low = 0
        flags = 0
        conditional: list[bool] = []
        it_left = self.it_state_at(addr)
        for insn in raw:
            conditional.append(it_left > 0)
            if it_left:
                it_left -= 1
            if insn.id == A.ARM_INS_IT:
                it_left = len(insn.mnemonic) - 1  # it, itt, ite, ittt, ... : 1-4 instructions follow
        if it_left and raw:
            self._it_after[addr + size] = it_left
        for insn in raw:
            if isinstance(insn, _Undecoded):
                continue
            change, writes = sp_effect(insn)
            if change is None:
                flags |= SP_DYNAMIC | SP_READ
            elif writes:
                delta += change
                if delta < low:
                    low = delta
                    flags |= SP_READ
        insns = tuple(
            Insn(i.address, i.size, i.mnemonic, i.op_str, c, cond)
            for i, c, cond in zip(raw, costs, conditional, strict=True)
        )
        for insn in raw:
            if isinstance(insn, _Undecoded):
                continue
            m = insn.mnemonic.split(".")[0]
            if m == "sev":
                flags |= SEV
            watched = classify(insn)
            if watched is not None:
                flags |= MASK if watched.kind == "mask" else WATCH_FLAGS.get(watched.kind, 0)
                if watched.kind == "mask" and m == "msr" and insn.op_str.startswith("control"):
                    flags |= CONTROL
        end_fn = getattr(self.cycle_model, "block_end", None)
        end = end_fn(raw, conditional) if end_fn is not None else BlockEnd()
        if end.cond:
            flags |= COND_END
        if end.call:
            flags |= CALL_END
        if addr in self.handlers:
            flags |= HANDLER
        if raw and is_return_like(raw[-1]):
            flags |= RET_END
        loop = INDIRECT
        if raw and not isinstance(raw[-1], _Undecoded) and raw[-1].id == A.ARM_INS_B:
            last = raw[-1]
            word = int.from_bytes(bytes(last.bytes[:4]).ljust(4, b"\0"), "little")
            if (last.size == 2 and word & 0xFFFF == B_SELF_16) or (last.size == 4 and word == B_SELF_32):
                flags |= SELF_LOOP
                loop = last.address
        line0 = n_lines = lit_count = lit_line = 0
        if self.flash.is_flash(addr):
            flags |= IN_FLASH
            line0 = addr >> 4
            n_lines = ((addr + size - 1) >> 4) - line0 + 1
            lits = [a for a in (literal_address(i) for i in raw if not isinstance(i, _Undecoded)) if a is not None]
            lits = [a for a in lits if self.flash.is_flash(a)] if not self.flash.data_hook else []
            lit_count = len(lits)
            lit_line = lits[0] >> 4 if lits else 0
        uncertainty = block_uncertainty(raw, conditional, end.cond)
        if uncertainty.data_words:
            flags |= DATA
        div_fn = getattr(self.cycle_model, "divide_sites", None)
        divides = div_fn([i for i in raw if not isinstance(i, _Undecoded)]) if div_fn is not None else ()
        slots = (0, 0)
        if divides and isinstance(self.cycle_model, CortexM4) and self.cycle_model.divides == "operands":
            slots, hook = divide_slots(raw, conditional, addr)
            if hook:
                flags |= DIV_HOOK
        info = BlockInfo(addr, size, len(insns), sum(costs), low, flags, insns, end, line0, n_lines,
                         lit_count, lit_line, loop, divides, div_slots=slots, uncertainty=uncertainty)
        self.cache[key] = info
        return info


class _Undecoded:
    """Stand-in for an instruction capstone cannot decode (priced as one simple instruction)."""

    id = 0
    mnemonic = "<undecoded>"
    op_str = ""
    writeback = False
    operands: tuple = ()

    def __init__(self, address: int, size: int) -> None:
        self.address = address
        self.size = size
