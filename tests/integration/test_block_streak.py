"""The block hook's streaks (hotpath.c hp_block_streak): a block entered again and again keeps what each entry adds to
the per-entry counters (block_count, entries, the block's execs, branch_taken_cycles, the divide statistics) in
hp_state.st_* and writes them when the streak ends: another block, the due check, a stop, an exception entry, and any
exported function that reads or changes the table (hp_streak_flush). Every count must be what the Python twin
(``native=False``, which keeps no streak) counts, wherever a run stops: budgets that stop inside div_bench's and
compute's loops, a stop a Python hook makes inside the loop's block, a snapshot taken inside a loop and restored
twice."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest
import unicorn

from simcore.api import prepare
from simcore.hotpath import native_library
from simcore.machine import UNTIL
from simcore.snapshot import Snapshot
from tests.conftest import elf


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No block cache: a run with deferral off would save its divide hooks for every later run of the ELF."""
    monkeypatch.setenv("SIMCORE_NO_CACHE", "1")


DIV = ("cortex-m4", "div_bench")  # an 8-instruction loop block with one deferred UDIV, branching to itself
COMPUTE = ("stm32f407vg", "compute")  # loops in flash with the ART and wait states (the ART hit test per entry)


def _figures(m: Any) -> dict[str, object]:
    s, st = m.hot.state, m.hot.div_stats
    return {"instructions": s.insn_count, "cycles": s.cycle_count, "blocks": s.block_count, "entries": s.entries,
            "branch": s.branch_taken_cycles, "flash_wait": s.flash_wait_cycles, "settled": s.dv_settled,
            "divides": (st.executed, st.extra), "pc": m.pc(), "executions": m.hot.block_executions()}


def _to_budget(case: tuple[str, str], budget: int, **kw: Any) -> Any:
    m = prepare(elf(*case), case[0], echo=None, max_instructions=budget, **kw)
    assert m.run().kind == "budget"
    return m


def _stop_inside(m: Any, n: int) -> None:
    """Run ``m`` (stopped at the start of div_bench's loop block) until a Python hook on the block's second
    instruction stops emulation there at its ``n``-th run: a stop C's hook neither makes nor sees, inside the
    streak."""
    s, loop, seen = m.hot.state, m.pc(), [0]
    s.stop_insn, s.stop_requested = 10**12, 0

    def stop(uc: unicorn.Uc, _addr: int, _size: int, _data: object) -> None:
        seen[0] += 1
        if seen[0] == n:
            uc.emu_stop()

    handle = m.uc.hook_add(unicorn.UC_HOOK_CODE, stop, begin=loop + 4, end=loop + 4)
    m.uc.ctl_remove_cache(loop + 4, loop + 8)  # translations made before the hook would not call it
    m.uc.emu_start(loop | 1, UNTIL)
    m.uc.hook_del(handle)
    m.uc.ctl_remove_cache(loop + 4, loop + 8)
    assert seen[0] == n and m.pc() == loop + 4


def _run_on(m: Any, budget: int = 4_000_000) -> Any:
    """Run a machine stopped at its budget on to a later budget (still in the loop: the twin is slow)."""
    m.opts.max_instructions = budget
    m.stop = None
    assert m.run().kind == "budget"
    return m


@pytest.mark.parametrize("case,budgets", [(DIV, (3_000_000, 3_000_005)), (COMPUTE, (4_000_000, 4_000_003))],
                         ids=["div_bench", "compute"])
def test_budgets_inside_the_loops_count_what_the_twin_counts(case: tuple[str, str], budgets: tuple[int, ...]) -> None:
    for budget in budgets:
        fast = _figures(_to_budget(case, budget))
        assert fast == _figures(_to_budget(case, budget, native=False)), budget
        assert fast["blocks"] == fast["entries"] and max(fast["executions"].values()) > 100_000  # a loop's streak
        if case is DIV:
            assert fast["settled"] > 300_000 and fast["branch"] > 0


def _python_stop_run(native: bool) -> dict[str, object]:
    """div_bench to its budget in the loop, stopped by a Python hook inside the loop's block 5,000 runs later, then
    run on (the block's rest is entered as a block of its own: one entry more than a plain run)."""
    m = _to_budget(DIV, 3_000_000, native=native)
    s = m.hot.state
    _stop_inside(m, 5_000)
    if native:
        assert s.st_size and s.st_n == 4_998 and s.st_extra > 0  # the streak's counts, not yet written
        blocks = s.block_count
    m.hot.correct_partial_block(m.pc())
    if native:
        assert not s.st_size and s.st_n == 0 and s.block_count == blocks + 4_998
    return _figures(_run_on(m))


def test_a_python_stop_inside_a_streak_leaves_its_counts_to_the_flush() -> None:
    """A Python hook stops the loop with the streak on (its counts still in st_n, st_extra); HotPath.settle_divides
    (correct_partial_block) writes them: the run then ends as the twin's."""
    assert _python_stop_run(native=True) == _python_stop_run(native=False)


def test_a_snapshot_inside_a_loop_restored_twice_ends_as_the_plain_run() -> None:
    plain = _figures(_run_on(_to_budget(DIV, 3_000_001)))
    m = _to_budget(DIV, 3_000_001)
    here = _figures(m)
    snap = Snapshot.take(m)
    for _ in range(2):
        assert _figures(_run_on(m)) == plain
        snap.restore(m)
        assert _figures(m) == here and not m.hot.state.st_size
    assert _figures(_run_on(m)) == plain


def test_divides_priced_by_their_hooks_keep_the_streak_clock() -> None:
    """With deferral off, tm_div_hook prices div_bench's divide inside the streak and notes the block entry it ran
    in as entries plus the streak's st_n (DivStats.block_more), which the flush makes entries; a stop inside the
    streak then ends as the twin's with hooks."""
    def hooked(native: bool) -> dict[str, object]:
        m = prepare(elf(*DIV), DIV[0], echo=None, max_instructions=3_000_000, native=native)
        m.hot.disable_defer()
        assert m.run().kind == "budget"
        s, st = m.hot.state, m.hot.div_stats
        _stop_inside(m, 5_000)
        if native:
            assert s.st_size and s.st_n == 4_998 and s.st_div == 0 and s.st_extra == 0  # no deferred divide
            # the entry the last divide ran in (the one before the stop, at the divide's block's second instruction)
            assert st.last_block == s.entries + s.st_n - 1 > s.entries
        m.hot.correct_partial_block(m.pc())
        if native:
            assert st.last_block == s.entries - 1 and not s.st_size
        return _figures(_run_on(m))

    fast = hooked(native=True)
    assert fast == hooked(native=False) and fast["settled"] == 0


def test_the_portable_hook_counts_what_the_lzcnt_hook_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block hook for any x86-64 (hotpath.c hp_block_hook: a divide's leading zeros by BSR) and the one built for
    LZCNT, which Unicorn gets on a CPU with it (hp_block_hook_ptr), count div_bench to a budget inside its loop alike:
    both run here whatever the CPU (without LZCNT both are the portable one)."""
    fast = _figures(_to_budget(DIV, 3_000_000))
    lib = native_library()
    assert lib is not None
    lib.hp_block_hook_portable_ptr.restype = ctypes.c_void_p
    monkeypatch.setattr(lib, "hp_block_hook_ptr", lib.hp_block_hook_portable_ptr)
    portable = _figures(_to_budget(DIV, 3_000_000))
    assert portable == fast and fast["settled"] > 300_000
