"""Compare the C block analysis (simcore/native/thumb.c) with the Python twin (simcore.blocks, capstone).

Blocks come from two sources: every block Unicorn translated in a run of the ELF, and a linear
sweep of the ELF's Thumb code (ARM mapping symbols skip literal pools) cut after every
instruction that ends a translation block, so code a run does not reach is compared too.
"""

from __future__ import annotations

import bisect
import ctypes
from dataclasses import dataclass
from pathlib import Path

import capstone

from simcore.api import prepare
from simcore.cortexm.codescan import base_mnemonic
from simcore.errors import BadInputError
from simcore.hotpath import HotBlock, HotUncert

_REG = {**{f"r{i}": i for i in range(13)}, "sb": 9, "sl": 10, "fp": 11, "ip": 12, "sp": 13, "lr": 14, "pc": 15}

FIELDS = ("n_insn", "cycles", "sp_min_delta", "flags", "target", "taken_extra", "line0", "n_lines", "lit_count",
          "lit_line")
_MD = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)


@dataclass
class Mismatch:
    addr: int
    size: int
    field: str
    c: int
    py: int
    text: str


def thumb_ranges(fw) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """[start, end) of the Thumb code of executable sections, cut at $d mapping symbols."""
    keys = [a for a, _ in fw.mapping]
    out: list[tuple[int, int]] = []
    for sec in fw.sections:
        if not sec.executable or sec.kind != "progbits" or not sec.size:
            continue
        start, end = sec.vma, sec.vma + sec.size
        i = bisect.bisect_right(keys, start) - 1
        state = fw.mapping[i][1] if i >= 0 else "t"
        cur, j = start, bisect.bisect_right(keys, start)
        while cur < end:
            nxt = keys[j] if j < len(keys) and keys[j] < end else end
            if state == "t" and nxt > cur:
                out.append((cur, nxt))
            if nxt >= end:
                break
            state = fw.mapping[j][1]
            cur = nxt
            j += 1
    return out


# Instructions after which Unicorn (QEMU) ends a translation block, besides PC writes.
_ENDS = {"svc", "bkpt", "udf", "wfi", "wfe", "yield", "cpsie", "cpsid", "msr", "sev"}
_MD.detail = True


def sweep_blocks(m, limit: int = 64) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Blocks of at most ``limit`` instructions covering the Thumb code, cut after PC writes and system instructions."""
    out: list[tuple[int, int]] = []
    for lo, hi in thumb_ranges(m.fw):
        try:
            code = bytes(m.uc.mem_read(lo, hi - lo))
        except Exception:  # noqa: BLE001 - not loaded where it runs
            continue
        pos = lo
        while pos < hi - 1:
            start, n, ended = pos, 0, False
            for insn in _MD.disasm(code[pos - lo:], pos):
                pos = insn.address + insn.size
                n += 1
                try:
                    writes = {insn.reg_name(r) for r in insn.regs_access()[1]}
                except capstone.CsError:
                    writes = set()
                if "pc" in writes or base_mnemonic(insn) in _ENDS or n >= limit:
                    ended = True
                    break
            if pos > start:
                out.append((start, pos - start))
            if not ended:
                pos += 2  # capstone stopped at an undecodable halfword: go on after it
    return out


def run_blocks(m, budget: int) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Every block the native hot path met in a run (its table), bounded by an instruction budget."""
    m.opts.max_instructions = budget
    try:
        m.run()
    except BadInputError:  # a sensor app without a recording: stopped when it enabled the sensor
        pass
    s = m.hot.state
    table = ctypes.cast(s.table, ctypes.POINTER(HotBlock))
    return [(table[i].addr, table[i].size) for i in range(s.mask + 1) if table[i].addr != 0xFFFFFFFF]


def compare(m, blocks: list[tuple[int, int]]) -> list[Mismatch]:  # type: ignore[no-untyped-def]
    """Field-by-field differences between the two analyses (and per-instruction cycles) of ``blocks``."""
    hot = m.hot
    out: list[Mismatch] = []
    hot.analyzer._it_after = dict(hot.state.carry.items())  # IT state carried from the run's blocks
    u = HotUncert()
    for addr, size in sorted(set(blocks)):
        c, addrs, costs = hot.native_block(addr, size, u)
        py = hot.analyzer.analyze(addr, size)
        text = "; ".join(f"{i.mnemonic} {i.op_str}" for i in py.insns)
        if tuple(c.div) != py.div_slots:  # divides priced at the block's end (hp_block.div)
            out.append(Mismatch(addr, size, "div", [hex(v) for v in c.div], [hex(v) for v in py.div_slots], text))
        for f in FIELDS:
            cv, pv = getattr(c, f), getattr(py, f)
            if f == "target":
                pv &= 0xFFFFFFFF
            if cv != pv:
                out.append(Mismatch(addr, size, f, cv, pv, text))
        pu = py.uncertainty
        for f in ("refill", "wide_groups", "literal_loads", "cond_over", "split", "data_words", "unknown_words"):
            if getattr(u, f) != getattr(pu, f):
                out.append(Mismatch(addr, size, f"uncertainty.{f}", getattr(u, f), getattr(pu, f), text))
        cprobes = [(p.base, p.offset, None if p.index == 0xFF else p.index, p.shift, p.words)
                   for p in u.probes[:u.n_probes]]
        pprobes = [(_REG[p.base], p.offset, _REG[p.index] if p.index else None, p.shift, p.words) for p in pu.probes]
        if cprobes != pprobes:
            out.append(Mismatch(addr, size, "uncertainty.probes", 0, 0, f"C {cprobes} Py {pprobes} | {text}"))
        pcosts = [i.cycles for i in py.insns]
        if addrs != [i.address for i in py.insns] or costs != pcosts:
            out.append(Mismatch(addr, size, "insn_cycles", 0, 0, f"C {list(zip(map(hex, addrs), costs))} "
                                f"Py {[(hex(i.address), i.cycles, i.mnemonic + ' ' + i.op_str) for i in py.insns]}"))
    carried_c, carried_py = hot.state.carry.items(), hot.analyzer._it_after
    for addr in sorted(set(carried_c) ^ set(carried_py) | {a for a in carried_c if carried_c[a] != carried_py.get(a)}):
        out.append(Mismatch(addr, 0, "it_carried", carried_c.get(addr, -1), carried_py.get(addr, -1), ""))
    return out


def check_elf(path: Path, board: str, cycle_model: str = "cortex-m4", budget: int = 3_000_000,
              sweep: bool = True, **kw) -> list[Mismatch]:  # type: ignore[no-untyped-def]
    m = prepare(path, board, native=True, cycle_model=cycle_model, **kw)
    assert m.hot.native_analysis
    blocks = run_blocks(m, budget)
    if sweep:
        blocks += sweep_blocks(m)
    return compare(m, blocks)


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:
        board = Path(arg).parent.name
        mm = check_elf(Path(arg), board)
        print(arg, len(mm), "mismatches")
        seen = set()
        for x in mm:
            key = (x.field, x.text.split(";")[-1][:30])
            if key in seen:
                continue
            seen.add(key)
            print(f"  {x.addr:#x}+{x.size} {x.field}: C {x.c} Py {x.py} | {x.text[-300:]}")
