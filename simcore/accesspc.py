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

from typing import Any

from unicorn import arm_const as R

from simcore.lazycs import A, Lazy, thumb

MAX_BLOCK_BYTES = 256



def _uc_regs() -> dict[str, Any]:
    """capstone register id -> Unicorn register id (made at first use, as capstone is: simcore.lazycs)."""
    regs = {getattr(A, f"ARM_REG_R{i}"): getattr(R, f"UC_ARM_REG_R{i}") for i in range(13)}
    regs.update({A.ARM_REG_SP: R.UC_ARM_REG_SP, A.ARM_REG_LR: R.UC_ARM_REG_LR})
    return {"REGS": regs}


_UC: Any = Lazy(_uc_regs)

_md: Any = None


def disassembler() -> Any:
    """One capstone Thumb disassembler with operand details, shared."""
    global _md
    if _md is None:
        _md = thumb(detail=True)
    return _md


def instruction_of_access(uc: Any, block_pc: int, addr: int, write: bool, stack: bool = False) -> int:
    """The address of the instruction in the block at ``block_pc`` that reads (writes) ``addr``.

    ``stack``: PUSH/POP count too (MPU faults; MMIO is never on the stack). Also used for an access
    the MPU refused: Unicorn leaves it with the PC at the block's start too.
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

    for insn in disassembler().disasm(code, block_pc):
        span = _access(insn, reg, write, stack)
        if span is not None and span[0] <= addr < span[1]:
            return int(insn.address)
        if insn.group(A.ARM_GRP_JUMP) or insn.mnemonic in ("bx", "blx", "bl", "svc", "bkpt", "wfi", "wfe"):
            break
    return block_pc


def _access(insn: Any, reg: Any, write: bool, stack: bool) -> tuple[int, int] | None:
    """[first, end) bytes the load/store touches, if it is one of the wanted direction."""
    m = insn.mnemonic.split(".")[0]
    is_store = m.startswith(("str", "stm", "push", "vstr", "vstm", "vpush"))
    is_load = m.startswith(("ldr", "ldm", "pop", "vldr", "vldm", "vpop", "tbb", "tbh"))
    if not (is_store if write else is_load):
        return None
    ops = insn.operands
    if m.startswith(("push", "pop", "vpush", "vpop")):
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
    size = 1 if m.endswith("b") else 2 if m.endswith("h") else 8 if m.endswith("d") else 4
    ea &= 0xFFFFFFFF
    return ea, ea + size
