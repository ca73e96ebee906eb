"""Which instruction made a memory-mapped access: Unicorn's PC inside an MMIO callback is the block's start.

Unicorn updates the PC register at translated-block boundaries only (its FAQ: only code hooks
keep it exact, and memory hooks would cost a PC sync per load and store). Reports want the
instruction, so the first time a place is reported simcore decodes the block from that PC
and takes the first load or store whose effective address, computed from the registers as
they are now, covers the accessed address (earlier instructions of the block have run, the
accessing one has not written back yet). No match (a base register changed in between):
the block's start, which still names the right function.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from unicorn import arm_const as R

from simcore.lazycs import A, Lazy, thumb

MAX_BLOCK_BYTES = 256



def _uc_regs() -> dict[str, Any]:
    """capstone register id -> Unicorn register id (made at first use, as capstone is: simcore.lazycs)."""
    regs = {getattr(A, f"ARM_REG_R{i}"): getattr(R, f"UC_ARM_REG_R{i}") for i in range(13)}
    regs.update({A.ARM_REG_SP: R.UC_ARM_REG_SP, A.ARM_REG_LR: R.UC_ARM_REG_LR})
    names = {**{f"r{i}": getattr(R, f"UC_ARM_REG_R{i}") for i in range(13)}, "sb": R.UC_ARM_REG_R9,
             "sl": R.UC_ARM_REG_R10, "fp": R.UC_ARM_REG_R11, "ip": R.UC_ARM_REG_R12, "sp": R.UC_ARM_REG_SP,
             "lr": R.UC_ARM_REG_LR}
    return {"REGS": regs, "BY_NAME": names}


_UC: Any = Lazy(_uc_regs)

_md: Any = None
_lite: Any = None

STORES = ("str", "stm", "push", "vstr", "vstm", "vpush")
LOADS = ("ldr", "ldm", "pop", "vldr", "vldm", "vpop", "tbb", "tbh")
_STACK_OPS = ("push", "pop", "vpush", "vpop")  # stack accesses: never MMIO (a detailed decode each cost ~50 us)
# where a block ends (ARMv7-M A7.7: branches, calls, exception-generating and hint instructions that end it)
ENDS = frozenset({"b", "bl", "blx", "bx", "cbz", "cbnz", "tbb", "tbh", "svc", "bkpt", "wfi", "wfe"})
CONDS = frozenset({"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
                   "al"})


def disassembler() -> Any:
    """One capstone Thumb disassembler with operand details, shared."""
    global _md
    if _md is None:
        _md = thumb(detail=True)
    return _md


def _lite_disassembler() -> Any:
    """One without details: ``disasm_lite`` gives (address, size, mnemonic, operands) tuples, no objects."""
    global _lite
    if _lite is None:
        _lite = thumb()
    return _lite


# _decode's work by (code, address): [instructions decoded so far, offset reached, finished]; a report's block is
# decoded again by the next machine of the same firmware (a benchmark's repeat, a test run's twin)
_DECODED: dict[tuple[bytes, int], list[Any]] = {}


def _decode(code: bytes, base: int) -> Any:
    """(address, size, mnemonic, operands) of the instructions of ``code``, eight at a time: capstone decodes
    all it is given before yielding the first (a 256-byte window cost ~0.4 ms; the access is near the start).
    What was decoded is kept for the same bytes at the same address (``_DECODED``)."""
    memo = _DECODED.get((code, base))
    if memo is None:
        if len(_DECODED) >= 1024:
            _DECODED.clear()
        memo = _DECODED[(code, base)] = [[], 0, False]
    done, i = memo[0], 0
    while True:
        if i < len(done):
            yield done[i]
            i += 1
            continue
        off = memo[1]
        if memo[2] or off >= len(code):
            return
        step = 0
        for t in _lite_disassembler().disasm_lite(code[off:], base + off, 8):
            step += t[1]
            done.append(t)
        memo[1] = off + step
        if step == 0:
            memo[2] = True


# "rT, [rB]" or "rT, [rB, #imm]" (capstone's text, no writeback, no index): most peripheral accesses
_SIMPLE = re.compile(r"^[a-z0-9]+, \[([a-z0-9]+)(?:, #(-?(?:0x[0-9a-f]+|[0-9]+)))?\]$")


def _simple_span(address: int, mnemonic: str, operands: str, reg: Callable[[str], int]) -> tuple[int, int] | None:
    """The span of an integer load/store of the simple form, from its text (None: decode it in detail)."""
    m = mnemonic.split(".")[0]
    if m[0] == "v" or m.endswith("d"):
        return None
    hit = _SIMPLE.match(operands)
    if hit is None:
        return None
    name, disp = hit.groups()
    if name == "pc":
        base = (address + 4) & ~3
    elif name in _UC.BY_NAME:
        base = reg(name)
    else:
        return None
    ea = (base + (int(disp, 0) if disp else 0)) & 0xFFFFFFFF
    return ea, ea + _size(m)


def _size(m: str) -> int:
    return 1 if m.endswith("b") else 2 if m.endswith("h") else 8 if m.endswith("d") else 4


def _ends_block(mnemonic: str, operands: str) -> bool:
    m = mnemonic.split(".")[0]
    if m[-2:] in CONDS and m[:-2] in ENDS | {"b"}:  # conditional (IT block or B<c>): bxeq, bne
        return True
    return m in ENDS or (m in ("ldr", "mov") and operands.startswith("pc")) or (m in ("pop", "ldm") and "pc}" in
                                                                                   operands)


def instruction_of_access(uc: Any, block_pc: int, addr: int, write: bool, stack: bool = False) -> int:
    """The address of the instruction in the block at ``block_pc`` that reads (writes) ``addr``.

    ``stack``: PUSH/POP count too (MPU faults; MMIO is never on the stack). Also used for an access
    the MPU refused: Unicorn leaves it with the PC at the block's start too. The block is decoded
    without operand details (capstone's lite mode: no instruction objects); only the loads or stores
    of the wanted direction are decoded again with them, and the block a few instructions at a time (a
    detailed decode of the 256-byte window was ~0.7 ms a call: svd_probe's ten reports took a third of its run).
    """
    code = b""
    for n in (MAX_BLOCK_BYTES, 64, 16, 4):
        try:
            code = bytes(uc.mem_read(block_pc, n))
            break
        except Exception:  # noqa: BLE001 - the block's end is not mapped: decode what there is
            continue
    regs: dict[int, int] = {}

    def reg(r: int) -> int | None:
        if r not in _UC.REGS:
            return None
        if r not in regs:
            regs[r] = uc.reg_read(_UC.REGS[r])
        return regs[r]

    named: dict[str, int] = {}

    def by_name(name: str) -> int:
        if name not in named:
            named[name] = uc.reg_read(_UC.BY_NAME[name])
        return named[name]

    wanted = STORES if write else LOADS
    for address, size, mnemonic, operands in _decode(code, block_pc):
        if mnemonic.startswith(wanted) and (stack or not mnemonic.startswith(_STACK_OPS)):  # (_access: no span)
            span = _simple_span(address, mnemonic, operands, by_name)
            if span is None:  # any other form: capstone's operand details
                off = address - block_pc
                for insn in disassembler().disasm(code[off:off + size], address):  # details valid in the loop only
                    span = _access(insn, reg, write, stack)
            if span is not None and span[0] <= addr < span[1]:
                return int(address)
        if _ends_block(mnemonic, operands):
            break
    return block_pc


def _access(insn: Any, reg: Any, write: bool, stack: bool) -> tuple[int, int] | None:
    """[first, end) bytes the load/store touches, if it is one of the wanted direction."""
    m = insn.mnemonic.split(".")[0]
    is_store = m.startswith(STORES)
    is_load = m.startswith(LOADS)
    if not (is_store if write else is_load):
        return None
    ops = insn.operands
    if m.startswith(_STACK_OPS):
        if not stack:
            return None
        sp = reg(A.ARM_REG_SP)
        double = m.startswith("v") and bool(ops) and A.ARM_REG_D0 <= ops[0].reg <= A.ARM_REG_D31
        n = 4 * len(ops) * (2 if double else 1)
        return (sp - n, sp) if "push" in m else (sp, sp + n)
    if m.startswith(("ldm", "stm", "vldm", "vstm")):
        base = reg(ops[0].reg)
        if base is None:
            return None
        n = 4 * (len(ops) - 1)
        return (base - n, base) if m.endswith("db") else (base, base + n)
    op = next((o for o in ops if o.type == A.ARM_OP_MEM), None)
    if op is None:
        return None
    base = (insn.address + 4) & ~3 if op.mem.base == A.ARM_REG_PC else reg(op.mem.base)
    if base is None:
        return None
    ea = base + op.mem.disp
    if op.mem.index:
        idx = reg(op.mem.index)
        if idx is None:
            return None
        idx <<= op.shift.value if op.shift.type else 0
        ea += -idx if getattr(op, "subtracted", False) else idx
    ea &= 0xFFFFFFFF
    return ea, ea + _size(m)
