"""Find the few instructions the system block must watch, by a capstone pass over the ELF's code.

Unicorn does not trap what an ARMv7-M core traps: SDIV/UDIV by zero (CCR.DIV_0_TRP) and
unaligned LDM/STM/LDRD/STRD (always a UsageFault on ARMv7-M, A3.2.1) execute silently, and
``cpsie``/``msr`` change the interrupt masks without telling anyone. Hooking every
instruction would cost ~100x; instead the code is scanned once (guided by the $t/$d mapping
symbols, so literal pools are skipped) and per-address UC_HOOK_CODE hooks are put on just
these instructions. Code copied to RAM at run time is not scanned (documented limitation).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import capstone
from capstone import arm as A
from unicorn import arm_const as R

from simcore.elf import Firmware

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


def _code_ranges(fw: Firmware) -> list[tuple[int, int]]:
    """Thumb-code byte ranges of the executable sections, cut by $d mapping symbols."""
    marks = fw.mapping
    keys = [a for a, _ in marks]
    out: list[tuple[int, int]] = []
    for sec in fw.sections:
        if not sec.executable or sec.kind != "progbits" or not sec.size:
            continue
        start, end = sec.vma, sec.vma + sec.size
        i = bisect.bisect_right(keys, start) - 1
        state = marks[i][1] if i >= 0 else "t"
        cur = start
        j = bisect.bisect_right(keys, start)
        while cur < end:
            nxt = keys[j] if j < len(keys) and keys[j] < end else end
            if state == "t" and nxt > cur:
                out.append((cur, nxt))
            if nxt >= end:
                break
            state = marks[j][1]
            cur = nxt
            j += 1
    return out


def _classify(insn: capstone.CsInsn) -> Watched | None:
    m = insn.mnemonic.split(".")[0]
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


def scan(fw: Firmware) -> list[Watched]:
    """Every divide, multiple/doubleword access, halfword/word access (non-SP base) and mask change."""
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = True
    found: list[Watched] = []
    for start, end in _code_ranges(fw):
        data = fw.read_loaded(start, end - start)
        if data is None:
            sec = next((s for s in fw.sections if s.vma <= start < s.vma + s.size), None)
            data = fw.read_loaded(sec.lma + (start - sec.vma), end - start) if sec else None
        if data is None:
            continue
        off = 0
        while off < len(data) - 1:
            progressed = False
            for insn in md.disasm(data[off:], start + off):
                progressed = True
                off = insn.address + insn.size - start
                w = _classify(insn)
                if w is not None:
                    found.append(w)
            if not progressed or off < len(data) - 1:
                off += 2  # undecodable halfword (e.g. a udf or data without a mapping symbol)
    return found
