"""The few instructions the system block must watch, classified from capstone's decode of a block.

Unicorn does not trap what an ARMv7-M core traps: SDIV/UDIV by zero (CCR.DIV_0_TRP) and
unaligned LDM/STM/LDRD/STRD (always a UsageFault on ARMv7-M, A3.2.1) execute silently, and
``cpsie``/``msr`` change the interrupt masks without telling anyone. Nothing scans the image:
the block analysis flags blocks that hold such instructions when they are first translated
(simcore.blocks: MASK, SEV, DIV, MULTI, ACCESS; the C decoder does the same). Mask changes and
SEV are then handled by the hot path at the block's entry; the traps, which are off unless the
firmware sets CCR.DIV_0_TRP/UNALIGN_TRP or the user asks for ``--check-alignment``, put
per-address UC_HOOK_CODE hooks on just the watched instructions of such blocks
(SystemBlock.watch_block, which uses :func:`watched_in`). Code copied to RAM is covered too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from unicorn import arm_const as R

from simcore.lazycs import A, thumb

if TYPE_CHECKING:
    import capstone

_ALIASES = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12"}


def uc_reg(name: str) -> int | None:
    name = _ALIASES.get(name, name)
    return getattr(R, f"UC_ARM_REG_{name.upper()}", None)


@dataclass(frozen=True)
class Watched:
    """One instruction to hook: what to check and how to find its operand."""

    addr: int
    size: int
    kind: str  # "div" | "multi" | "mask" | "access" | "sev"
    text: str
    reg: int = 0  # divisor register (div) or base register (multi, access), Unicorn id
    offset: int = 0  # first accessed address = reg + offset (+ index << shift)
    index: int = 0  # index register (access), 0 for none
    shift: int = 0
    width: int = 4  # bytes accessed (access: 2 or 4)


_CONDS = ("eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "cs", "cc")


def base_mnemonic(insn: capstone.CsInsn) -> str:
    """The mnemonic without width qualifier and, inside an IT block, without its condition ("strne.w" -> "str")."""
    m = insn.mnemonic.split(".")[0]
    if insn.cc not in (A.ARM_CC_AL, A.ARM_CC_INVALID) and m[-2:] in _CONDS and m not in ("teq", "bl", "bic"):
        m = m[:-2]
    return m


def classify(insn: capstone.CsInsn) -> Watched | None:
    """What a trap must watch in this instruction (conditional ones too: they may pass), or None."""
    m = base_mnemonic(insn)
    ops = insn.operands
    if m in ("sdiv", "udiv") and len(ops) == 3:
        reg = uc_reg(insn.reg_name(ops[2].reg))
        return Watched(insn.address, insn.size, "div", f"{insn.mnemonic} {insn.op_str}", reg or 0)
    if m == "cpsie" or m == "msr":
        return Watched(insn.address, insn.size, "mask", f"{insn.mnemonic} {insn.op_str}")
    if m == "sev":
        return Watched(insn.address, insn.size, "sev", insn.mnemonic)
    if m[:3] in ("ldm", "stm") and ops and ops[0].type == A.ARM_OP_REG:
        base = insn.reg_name(ops[0].reg)
        if base == "sp":
            return None
        n = len(ops) - 1
        offset = -4 * n if m.endswith("db") else 0
        reg = uc_reg(base)
        return Watched(insn.address, insn.size, "multi", f"{insn.mnemonic} {insn.op_str}", reg or 0, offset)
    if m in ("ldrd", "strd"):
        mem = next((o for o in ops if o.type == A.ARM_OP_MEM), None)
        if mem is None:
            return None
        base = insn.reg_name(mem.mem.base)
        if base in ("sp", "pc"):
            return None
        offset = 0 if getattr(insn, "post_index", False) else mem.mem.disp
        reg = uc_reg(base)
        return Watched(insn.address, insn.size, "multi", f"{insn.mnemonic} {insn.op_str}", reg or 0, offset)
    width = _ACCESS_WIDTH.get(m)
    if width is not None:
        mem = next((o for o in ops if o.type == A.ARM_OP_MEM), None)
        if mem is None:
            return None
        base = insn.reg_name(mem.mem.base)
        if base in ("sp", "pc"):
            return None
        post = getattr(insn, "post_index", False)
        index = uc_reg(insn.reg_name(mem.mem.index)) if mem.mem.index and not post else 0
        shift = mem.shift.value if index and mem.shift.type == A.ARM_SFT_LSL else 0
        offset = 0 if post else mem.mem.disp
        if index and mem.subtracted:
            return None  # Thumb-2 has no negative register offsets; be safe
        return Watched(insn.address, insn.size, "access", f"{insn.mnemonic} {insn.op_str}", uc_reg(base) or 0,
                       offset, index or 0, shift, width)
    return None


# Loads/stores that CCR.UNALIGN_TRP makes trap when unaligned (A3.2.1); byte accesses never do.
_ACCESS_WIDTH = {"ldr": 4, "str": 4, "ldrt": 4, "strt": 4, "ldrh": 2, "strh": 2, "ldrsh": 2, "ldrht": 2,
                 "strht": 2, "ldrsht": 2}


def watched_in(code: bytes, addr: int) -> list[Watched]:
    """The watched instructions of the block of Thumb code ``code`` at ``addr`` (decoding stops where capstone does)."""
    return [w for w in (classify(insn) for insn in thumb(detail=True).disasm(bytes(code), addr)) if w is not None]
