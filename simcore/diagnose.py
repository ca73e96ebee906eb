"""Fault diagnosis: what faulted, where (symbol+offset, file:line), how we got there, registers.

Source lines come from the ELF's DWARF line table and the backtrace from DWARF call-frame
information (.debug_frame, read with pyelftools) when the ELF has them; without CFI the
backtrace falls back to a stack scan (words on the stack that point just after a call into
a known function) and says so. Exception frames are unwound too: a return address that is
an EXC_RETURN value means "the caller is the code the exception interrupted", whose PC and
LR are read from the stacked frame (ARMv7-M B1.5.6).
"""

from __future__ import annotations

import bisect
import posixpath
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.runtypes import AccessKind, Stop, StopKind

if TYPE_CHECKING:
    from simcore.cortexm.host import MachineView as Machine
    from simcore.elf import Firmware

EXC_RETURN_MIN = 0xFFFFFFE0


@dataclass
class DebugInfo:
    """Line table and CFI rows of one ELF, loaded once."""

    lines: list[tuple[int, str, int]] = field(default_factory=list)  # sorted (address, file, line)
    line_ends: list[int] = field(default_factory=list)  # end-of-sequence addresses
    fdes: list[tuple[int, int, list[tuple[int, Any]]]] = field(default_factory=list)  # (start, end, rows)

    def line_for(self, addr: int) -> str | None:
        keys = [a for a, _, _ in self.lines]
        i = bisect.bisect_right(keys, addr) - 1
        if i < 0:
            return None
        a, path, line = self.lines[i]
        j = bisect.bisect_right(self.line_ends, a)
        if j < len(self.line_ends) and self.line_ends[j] <= addr:
            return None
        return f"{path}:{line}"

    def fde_for(self, addr: int) -> list[tuple[int, Any]] | None:
        for start, end, rows in self.fdes:
            if start <= addr < end:
                return rows
        return None


_CACHE: dict[Path, DebugInfo] = {}


def debug_info(fw: Firmware) -> DebugInfo:
    """Parse the line table and .debug_frame CFI (empty when the ELF has no DWARF)."""
    cached = _CACHE.get(fw.path)
    if cached is not None:
        return cached
    info = DebugInfo()
    try:
        from elftools.elf.elffile import ELFFile

        with open(fw.path, "rb") as f:
            elf = ELFFile(f)
            if elf.has_dwarf_info():
                dwarf = elf.get_dwarf_info()
                _load_lines(dwarf, info)
                if dwarf.has_CFI():
                    _load_cfi(dwarf.CFI_entries(), info)
    except Exception:  # noqa: BLE001 - a diagnosis must never fail because of odd DWARF
        pass
    _CACHE[fw.path] = info
    return info


def _load_lines(dwarf: Any, info: DebugInfo) -> None:
    for cu in dwarf.iter_CUs():
        prog = dwarf.line_program_for_CU(cu)
        if prog is None:
            continue
        top = cu.get_top_DIE()
        comp_dir = top.attributes.get("DW_AT_comp_dir")
        base = comp_dir.value.decode("utf-8", "replace") if comp_dir else ""
        files = prog["file_entry"]
        dirs = prog["include_directory"]
        version = prog.header.get("version", 4)
        for entry in prog.get_entries():
            st = entry.state
            if st is None:
                continue
            if st.end_sequence:
                info.line_ends.append(st.address)
                continue
            idx = st.file if version >= 5 else st.file - 1
            if not 0 <= idx < len(files):
                continue
            fe = files[idx]
            name = fe.name.decode("utf-8", "replace")
            d = fe.dir_index if version >= 5 else fe.dir_index - 1
            if 0 <= d < len(dirs) and not name.startswith("/"):
                name = f"{dirs[d].decode('utf-8', 'replace')}/{name}"
            if base and not name.startswith("/") and not name.startswith(base + "/"):
                name = f"{base}/{name}"
            info.lines.append((st.address, posixpath.normpath(name), st.line))
    info.lines.sort()
    info.line_ends.sort()


def _load_cfi(entries: Any, info: DebugInfo) -> None:
    from elftools.dwarf.callframe import FDE

    for entry in entries:
        if not isinstance(entry, FDE):
            continue
        start = entry.header["initial_location"]
        end = start + entry.header["address_range"]
        table = entry.get_decoded().table
        info.fdes.append((start, end, [(row["pc"], row) for row in table]))
    info.fdes.sort(key=lambda t: t[0])


def _read32(m: Machine, addr: int) -> int | None:
    if m.memmap.window(addr, 4) is None:
        return None
    return struct.unpack("<I", m.mem_read(addr, 4))[0]


def unwind(m: Machine, regs: dict[str, int], depth: int = 24) -> list[tuple[int, bool]] | None:
    """Frames by DWARF CFI from the given registers: (pc, interrupted by an exception); None without CFI."""
    info = debug_info(m.fw)
    if not info.fdes:
        return None
    r = {i: regs.get(f"r{i}", 0) for i in range(13)}
    r[13], r[14], r[15] = regs["sp"], regs["lr"], regs["pc"]
    msp, psp = regs.get("msp", r[13]), regs.get("psp", r[13])
    frames = [(r[15], False)]
    pc = r[15]
    for _ in range(depth):
        if pc >= EXC_RETURN_MIN:  # the caller is the context the exception interrupted
            sp = psp if pc & 4 else msp
            words = [_read32(m, sp + 4 * k) for k in range(8)]
            if any(w is None for w in words):
                break
            w = [x or 0 for x in words]
            r.update({0: w[0], 1: w[1], 2: w[2], 3: w[3], 12: w[4], 14: w[5]})
            frame = 0x20 if pc & 0x10 else 0x68
            sp += frame + (4 if w[7] & (1 << 9) else 0)
            if pc & 4:
                psp = sp
            else:
                msp = sp
            r[13] = sp
            pc = w[6] & ~1
            frames.append((pc, True))
            continue
        rows = info.fde_for(pc)
        if rows is None:
            lr = r[14]
            if len(frames) == 1 and lr < EXC_RETURN_MIN and m.fw.function_at(lr & ~1) is not None:
                pc = lr & ~1  # a call through a bad pointer: the caller is in LR
                frames.append((pc, False))
                continue
            break
        row = None
        for row_pc, candidate in rows:
            if row_pc <= pc:
                row = candidate
            else:
                break
        if row is None:
            break
        cfa_rule = row["cfa"]
        cfa = (r.get(cfa_rule.reg, 0) + cfa_rule.offset) & 0xFFFFFFFF
        saved = dict(r)
        for reg, rule in row.items():
            if isinstance(reg, int) and getattr(rule, "type", None) == "OFFSET":
                value = _read32(m, cfa + rule.arg)
                if value is not None:
                    saved[reg] = value
        ret = saved.get(14, r[14])
        saved[13] = cfa
        if ret >= EXC_RETURN_MIN:
            r = saved
            pc = ret
            continue
        ret &= ~1
        if ret == 0 or m.fw.function_at(ret) is None or (ret == pc and cfa == r[13]):
            break
        r = saved
        pc = ret
        frames.append((ret, False))
    return frames


def stack_scan(m: Machine, sp: int, depth: int = 16, words: int = 512) -> list[int]:
    """Return addresses found on the stack that look like return addresses (odd, inside a function)."""
    frames: list[int] = []
    ram = m.memmap.window(sp, 4)
    if ram is None:
        return frames
    end = min(ram.end, sp + 4 * words)
    data = m.mem_read(sp, max(0, end - sp) & ~3)
    for (value,) in struct.iter_unpack("<I", data):
        if value & 1 and m.fw.function_at(value - 1) is not None:
            frames.append(value & ~1)
            if len(frames) >= depth:
                break
    return frames


def where(m: Machine, addr: int, call_site: bool = False) -> str:
    """``symbol+0x12 (firmware/apps/x/main.c:42)``; for return addresses, the line of the call."""
    text = m.fw.describe(addr)
    line = debug_info(m.fw).line_for((addr - 2) if call_site else addr)
    return f"{text} ({line})" if line else text


def backtrace(m: Machine, regs: dict[str, int]) -> tuple[list[str], str]:
    """Frame lines, innermost first, and how they were found; repeated recursive frames are folded."""
    frames = unwind(m, regs)
    method = "DWARF CFI (.debug_frame)"
    if frames is None or len(frames) <= 1:
        frames = [(regs["pc"], False), *((a, False) for a in stack_scan(m, regs["sp"]))]
        method = "stack scan (no usable call-frame information: frames may be stale)"
    out: list[str] = []
    i = 0
    while i < len(frames):
        addr, interrupted = frames[i]
        j = i
        while j + 1 < len(frames) and frames[j + 1] == frames[i]:
            j += 1
        call_site = i > 0 and not interrupted  # a return address: the call is just before it
        line = f"#{i} {addr:#010x} {where(m, addr, call_site=call_site)}"
        if interrupted:
            line += " [interrupted by the exception]"
        if j > i:
            line += f" (x{j - i + 1}, frames #{i}-#{j})"
        out.append(line)
        i = j + 1
    return out, method


def fault_stop(m: Machine, what: str, pc: int, access: tuple[AccessKind, int, int] | None = None,
               regs: dict[str, int] | None = None, extra: dict[str, Any] | None = None,
               kind: StopKind = StopKind.FAULT) -> Stop:
    """A Stop describing a fault: message with location and source line, details for --json."""
    regs = dict(regs) if regs is not None else m.registers()
    regs["pc"] = pc
    lr = regs["lr"]
    trace, method = backtrace(m, regs)
    lr_text = "EXC_RETURN" if lr >= EXC_RETURN_MIN else where(m, lr)
    msg = f"{what} at {where(m, pc)} (pc {pc:#010x}, lr {lr:#010x} {lr_text})"
    details: dict[str, Any] = {
        "fault": what,
        "pc": pc,
        "lr": lr,
        "symbol": m.fw.describe(pc),
        "source": debug_info(m.fw).line_for(pc),
        "address": access[1] if access else None,
        "backtrace": trace,
        "backtrace_method": method,
        "registers": regs,
    }
    if extra:
        details.update(extra)
    return Stop(kind, msg, pc=pc, details=details)
