"""Divides priced at the next block entry (hp_block.div) instead of by a per-address operand hook.

A divide whose Rn and Rm survive to the end of its block (nothing after it writes them, accesses
memory, raises an exception or leaves emulation; not IT-conditional; Rn, Rm among R0-R12 and Rd
neither) is priced from those registers at the next block entry; the others keep their hook
(docs/cycle-model.md, "Divides"). The C analysis (thumb.c) and its Python twin (blocks.py) must
agree, and every way of running (C hot path with deferral, with hooks only, with the Python
analysis, the Python twin) must count the same cycles.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from unicorn import arm_const

from simcore.api import prepare, run_machine
from simcore.blocks import DIV_HOOK

ROOT = Path(__file__).resolve().parents[2]
DIV_BENCH = ROOT / "firmware" / "bin" / "cortex-m4" / "div_bench.elf"
RAM = 0x20004000  # the analyses read guest memory; the code is never run there


def udiv(rd: int, rn: int, rm: int) -> list[int]:
    """UDIV Rd, Rn, Rm (ARMv7-M A7.7.195, T1): FBB0|Rn, F0F0|Rd<<8|Rm."""
    return [0xFBB0 | rn, 0xF0F0 | rd << 8 | rm]


def sdiv(rd: int, rn: int, rm: int) -> list[int]:
    """SDIV Rd, Rn, Rm (A7.7.127, T1): FB90|Rn, F0F0|Rd<<8|Rm."""
    return [0xFB90 | rn, 0xF0F0 | rd << 8 | rm]


ADDS_R3_1 = [0x3301]  # ADDS r3, #1 (A7.7.3 T2)
ADDS_R0_1 = [0x3001]  # ADDS r0, #1
ADDS_R5_1 = [0x3501]  # ADDS r5, #1
LDR_R3_R4 = [0x6823]  # LDR r3, [r4] (A7.7.43 T1)
SVC_0 = [0xDF00]
NOP = [0xBF00]
CMP_R0_R1 = [0x4288]  # CMP r0, r1 (A7.7.28 T1)
IT_EQ = [0xBF08]  # IT EQ
MOV_R5_R6 = [0x4635]  # MOV r5, r6 (A7.7.77 T1)
B_SELF = [0xE7FE]


def slot(offset: int, rn: int, rm: int, signed: bool = False) -> int:
    """hp_block.div word (thumb.h): used bit, SDIV bit, halfword offset from the block, Rm, Rn."""
    return 0x80000000 | (0x40000000 if signed else 0) | (offset // 2) << 8 | rm << 4 | rn


# (code halfwords, expected div words, a divide keeps its hook)
CASES = {
    "survives": (udiv(2, 0, 1) + ADDS_R3_1 + B_SELF, (slot(0, 0, 1), 0), False),
    "rn_overwritten": (udiv(2, 0, 1) + ADDS_R0_1, (0, 0), True),
    "rd_is_rn": (udiv(0, 0, 1) + ADDS_R3_1, (0, 0), True),
    "memory_after": (udiv(2, 0, 1) + LDR_R3_R4, (0, 0), True),
    "exception_after": (udiv(2, 0, 1) + SVC_0, (0, 0), True),
    "hint_after": (udiv(2, 0, 1) + NOP, (0, 0), True),
    "it_conditional": (CMP_R0_R1 + IT_EQ + udiv(2, 0, 1) + ADDS_R3_1, (0, 0), True),
    "lr_operand": (udiv(2, 0, 14) + ADDS_R3_1, (0, 0), True),
    "two_survive": (sdiv(2, 3, 4) + MOV_R5_R6 + udiv(6, 7, 8) + ADDS_R5_1,
                    (slot(0, 3, 4, signed=True), slot(6, 7, 8)), False),
    "third_is_hooked": (udiv(2, 0, 1) + udiv(5, 3, 4) + udiv(8, 6, 7), (slot(0, 0, 1), slot(4, 3, 4)), True),
    "first_closed_second_survives": (udiv(2, 0, 1) + ADDS_R0_1 + udiv(5, 3, 4), (slot(6, 3, 4), 0), True),
}


@pytest.fixture(scope="module")
def machine():  # type: ignore[no-untyped-def]
    return prepare(DIV_BENCH, "cortex-m4", echo=None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_c_and_python_analyses_defer_the_same_divides(machine, name: str) -> None:  # type: ignore[no-untyped-def]
    code, want_slots, want_hook = CASES[name]
    addr = RAM + 0x100 * sorted(CASES).index(name)
    data = struct.pack(f"<{len(code)}H", *code)
    machine.mem_write(addr, data)
    c, _addrs, _costs = machine.hot.native_block(addr, len(data))
    py = machine.hot.analyzer.analyze(addr, len(data))
    assert tuple(c.div) == want_slots, [hex(v) for v in c.div]
    assert py.div_slots == want_slots, [hex(v) for v in py.div_slots]
    assert bool(c.flags & DIV_HOOK) == want_hook == bool(py.flags & DIV_HOOK)


def _counts(**kw: object) -> tuple[int, int, int, int, int]:
    defer = kw.pop("defer", True)
    analysis = kw.pop("analysis", None)
    m = prepare(DIV_BENCH, "cortex-m4", echo=None, max_instructions=400_000, **kw)
    if analysis is not None:  # the native hot path with blocks analysed in Python (hp_insert)
        m.hot._analysis = analysis
        m.hot.configure_model()
        assert not m.hot.native_analysis
    if not defer:
        m.hot.disable_defer()
    r = run_machine(m)
    st = m.hot.div_stats
    return r.instructions, r.cycles, st.executed, st.extra, m.hot.state.dv_settled


def test_every_path_counts_the_same_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    """div_bench's loop divide survives its block: priced at the next entry in C and in the Python twin;
    with deferral off every divide is priced by its hook, with the same cycles. The budget stops the run
    at a block entry, after whose settle the counts are read."""
    monkeypatch.setenv("SIMCORE_NO_CACHE", "1")
    native = _counts(native=True)
    hooks = _counts(native=True, defer=False)
    python_analysis = _counts(native=True, analysis="python")
    twin = _counts(native=False)
    assert native[4] > 40_000  # nearly all of the ~50,000 divides deferred (one in printf keeps a hook)
    assert hooks[4] == 0
    assert native[:4] == hooks[:4] == python_analysis[:4] == twin[:4]
    assert python_analysis[4] == twin[4] == native[4]
    assert native[2] > 40_000 and native[3] > 0


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
def test_a_stop_inside_the_block_prices_only_the_divides_before_it(native: bool) -> None:
    """Where a run stops inside the block (a fault, a pause): divides at or after the PC did not run."""
    m = prepare(DIV_BENCH, "cortex-m4", echo=None, native=native)
    s, st = m.hot.state, m.hot.div_stats
    block = 0x20005000
    m.uc.reg_write(arm_const.UC_ARM_REG_R0, 1000)
    m.uc.reg_write(arm_const.UC_ARM_REG_R1, 3)
    # UDIV r2, r0, r1 at block + 4: 1000 has 10 significant bits, 3 has 2: 5 + (10 - 2) // 4 = 7 cycles
    # (docs/cycle-model.md, "Divides"), 5 above the 2 the block charges statically
    for pc, charged in ((block + 4, 0), (block + 2, 0), (block + 8, 5), (None, 5)):
        s.dv_pend[0], s.dv_pend[1], s.dv_addr = slot(4, 0, 1), 0, block
        s.last_addr, s.last_size = block, 12
        before, executed = s.cycle_count, st.executed
        m.hot.settle_divides(pc)
        assert (s.cycle_count - before, st.executed - executed) == (charged, 1 if charged else 0), pc
        assert s.dv_pend[0] == 0


def test_the_direct_register_view_reads_what_uc_reg_read_reads() -> None:
    """HotPath._cpu_regs finds R0-R12 in the engine's CPU state (checked with sentinels at start-up) on the
    Unicorn the project pins; what the hot path reads there is what uc_reg_read gives, also after a run."""
    import ctypes
    import random

    import unicorn

    m = prepare(DIV_BENCH, "cortex-m4", echo=None, native=True, max_instructions=10_000)
    env = m.hot.state.dv_env
    if unicorn.__version__.startswith("2.1."):
        assert env, "the known layout of Unicorn 2.1 was not found"
    if not env:
        return  # another Unicorn: the hot path reads through uc_reg_read (the other tests cover it)
    assert m.hot.div_stats.env == env
    view = (ctypes.c_uint32 * 13).from_address(env)
    regs = [arm_const.UC_ARM_REG_R0 + i for i in range(13)]
    rng = random.Random(16)
    for _ in range(3):
        values = [rng.getrandbits(32) for _ in regs]
        for r, v in zip(regs, values, strict=True):
            m.uc.reg_write(r, v)
        assert list(view) == values == [m.uc.reg_read(r) for r in regs]
    run_machine(m)
    assert list(view) == [m.uc.reg_read(r) for r in regs]


def test_profiles_attribute_deferred_divides_as_hooked_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the profiler on (every block through hp_block_general), deferred divides are priced as hooked
    ones, into the function that ran them: div_bench_loop, called once from main, to its return."""
    from simcore.profile import attach

    monkeypatch.setenv("SIMCORE_NO_CACHE", "1")
    profiles = []
    for defer in (True, False):
        m = prepare(DIV_BENCH, "cortex-m4", echo=None)  # to the end: the loop returns to main
        if not defer:
            m.hot.disable_defer()
        prof = attach(m)
        r = run_machine(m)
        profiles.append((prof.finish(), r.cycles, m.hot.state.dv_settled))
        iterations = int(r.text.split()[1])  # "div_bench N iterations, checksum C"
    (deferred, cycles_d, settled), (hooked, cycles_h, none) = profiles
    assert settled == iterations and none == 0  # one deferred divide per loop iteration
    assert cycles_d == cycles_h and deferred.nodes == hooked.nodes
    loop = [f for f in deferred.functions() if f.name == "div_bench_loop"]
    assert loop and loop[0].exclusive > 10 * settled  # the loop's own cycles, its divides' included
