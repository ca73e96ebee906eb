"""The persistent cache of block analyses: same results warm as cold, safe against bad files and writers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simcore import blockcache
from simcore.api import prepare, run_machine

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "firmware" / "bin"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SIMCORE_NO_CACHE", raising=False)
    return tmp_path / "blocks"


def _run(elf: Path, board: str, **kw: object) -> tuple[tuple[object, ...], int, int]:
    return _run_new(elf, board, **kw)[:3]


def _run_new(elf: Path, board: str, **kw: object) -> tuple[tuple[object, ...], int, int, int]:
    """Figures, analyses taken from the cache, analyses made, analyses of blocks the cache holds."""
    m = prepare(elf, board, **kw)
    r = run_machine(m)
    figures = (r.instructions, r.cycles, r.text, r.stop.kind, r.stack_low, r.extra.get("cycles_error_bar"))
    return figures, m.hot.cache_loaded, m.hot.state.analyses, m.hot.state.cache_new


@pytest.mark.parametrize(("board", "app", "kw"), [
    ("stm32f407vg", "hello", {"mhz": 168}),  # flash wait states: the data-load blocks are probed afresh
    ("cortex-m4", "it_blocks", {}),
    ("cortex-m4", "faults", {}),  # a divide (operand-priced by a per-address hook) and fault handlers
    ("mps2-an386", "bench_irq", {"max_instructions": 2_000_000}),
])
def test_warm_run_equals_cold_run(cache: Path, board: str, app: str, kw: dict[str, object]) -> None:
    elf = BIN / board / f"{app}.elf"
    cold, loaded_cold, analysed_cold, new_cold = _run_new(elf, board, **kw)
    assert loaded_cold == 0 and analysed_cold >= new_cold > 0
    (path,) = cache.glob("*.blocks")
    written = path.stat()
    warm, loaded_warm, analysed_warm, new_warm = _run_new(elf, board, **kw)
    assert warm == cold
    assert loaded_warm > 0 and analysed_warm < analysed_cold
    # the warm run analysed only blocks the cache never holds (handlers, divides, probed loads): not rewritten
    assert new_warm == 0 and (path.stat().st_ino, path.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


def test_a_bad_file_is_ignored_and_rewritten(cache: Path) -> None:
    elf = BIN / "cortex-m4" / "hello.elf"
    cold, _, _ = _run(elf, "cortex-m4")
    (path,) = cache.glob("*.blocks")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    again, loaded, _ = _run(elf, "cortex-m4")
    assert again == cold and loaded == 0  # the checksum failed: nothing taken
    path.write_bytes(b"SCBLOCK1 truncated")
    assert _run(elf, "cortex-m4")[1] == 0
    assert _run(elf, "cortex-m4")[1] > 0  # the previous run wrote a good file again


def test_changed_bytes_are_analysed_afresh(cache: Path) -> None:
    elf = BIN / "cortex-m4" / "hello.elf"
    _run(elf, "cortex-m4")
    m = prepare(elf, "cortex-m4")
    full = m.hot.cache_loaded
    assert full > 10
    m.hot.forget_code()
    main = m.fw.symbol("main")
    assert main is not None
    m.mem_write(main.addr, b"\x00\xbf\x00\xbf")  # two NOPs over main's first instructions
    assert blockcache.load(m.hot, m.fw) < full


def test_concurrent_writers_leave_a_valid_file(cache: Path) -> None:
    elf = BIN / "cortex-m4" / "dsp.elf"
    code = (f"import simcore.api as sc; m = sc.prepare({str(elf)!r}, 'cortex-m4'); r = sc.run_machine(m); "
            "print(r.instructions, r.cycles)")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(4)]
    outs = {p.communicate(timeout=300)[0] for p in procs}
    assert len(outs) == 1 and all(p.returncode == 0 for p in procs)
    assert not list(cache.glob(".*tmp"))  # no temporary file left behind
    m = prepare(elf, "cortex-m4")
    assert m.hot.cache_loaded > 10
    r = run_machine(m)
    assert f"{r.instructions} {r.cycles}\n" in outs


def test_divides_hooked_before_the_run_when_cached(cache: Path) -> None:
    """A warm run hooks the divides an earlier run hooked before it starts: no stop to add them."""
    elf = BIN / "cortex-m4" / "calib_div.elf"
    cold_m = prepare(elf, "cortex-m4")
    cold = run_machine(cold_m)
    assert len(cold_m.hot.div_blocks) > 5 and not cold_m.hot.div_preinstalled
    stops: list[int] = []
    m = prepare(elf, "cortex-m4")
    original = m.hot.install_pending
    m.hot.install_pending = lambda: (stops.append(len(m.hot.pending_watch)), original())[1]  # type: ignore[method-assign]
    warm = run_machine(m)
    assert (warm.instructions, warm.cycles, warm.text) == (cold.instructions, cold.cycles, cold.text)
    assert m.hot.div_stats.executed == cold_m.hot.div_stats.executed > 0  # every divide priced by its hook
    assert m.hot.div_preinstalled == set(cold_m.hot.div_blocks) == set(m.hot.div_blocks)
    assert not any(stops)  # no block queued for hooks


def test_changed_bytes_are_not_hooked_from_the_cache(cache: Path) -> None:
    elf = BIN / "cortex-m4" / "calib_div.elf"
    run_machine(prepare(elf, "cortex-m4"))
    m = prepare(elf, "cortex-m4")
    (addr, size), *_ = sorted(m.hot.div_preinstalled)
    m2 = prepare(elf, "cortex-m4", max_instructions=1)  # a fresh machine whose code at addr changed before load
    m2.hot.div_preinstalled.clear()
    m2.hot._watch_seen.clear()
    m2.mem_write(addr, b"\x00\xbf")
    blockcache.load(m2.hot, m2.fw)
    assert (addr, size) not in m2.hot.div_preinstalled


def test_divides_switched_to_the_bound_after_prepare_leave_no_hook(cache: Path) -> None:
    """configure_model after prepare (benchmarks/divide_cost.py's bound run): the divide hooks the cache
    installed before the run are removed, and the run counts as one prepared with the bound from the start."""
    from simcore.board import load_board
    from simcore.cycles import CortexM4

    elf = BIN / "cortex-m4" / "calib_div.elf"
    operands = run_machine(prepare(elf, "cortex-m4"))  # fills the cache (divide blocks included)
    m = prepare(elf, "cortex-m4")
    assert m.hot.div_preinstalled  # the cache hooked them before the run
    m.hot.analyzer.cycle_model.divides = "bound"
    m.hot.configure_model()
    switched = run_machine(m)
    board = load_board("cortex-m4")
    model = CortexM4.for_board(board, board.default_mhz)
    model.divides = "bound"
    fresh_m = prepare(elf, "cortex-m4", cycle_model=model)
    fresh = run_machine(fresh_m)
    assert m.hot.div_stats.executed == 0 == fresh_m.hot.div_stats.executed
    assert (switched.instructions, switched.cycles, switched.text) == (fresh.instructions, fresh.cycles, fresh.text)
    assert switched.cycles > operands.cycles  # 12 for every divide is above the operand pricing


def test_flash_data_probe_does_not_depend_on_earlier_runs(cache: Path) -> None:
    """clock_max sets FLASH.ACR itself: whether a block's first execution sees wait states (and is probed
    for flash data) depends on the run, so a cache written by a run with other inputs must not change the
    error bar (it did: flash_data +21,880 after a 'lowlatency' run against +16,760 from a fresh cache)."""
    elf, board = BIN / "stm32f407vg" / "clock_max.elf", "stm32f407vg"
    fresh, _, _, _ = _run_new(elf, board)
    _run_new(elf, board, cmdline="clock_max.elf lowlatency")  # writes the cache from other code paths
    after_other, loaded, _, _ = _run_new(elf, board)
    assert loaded > 0 and after_other == fresh
    (path,) = cache.glob("*.blocks")
    written = path.stat()
    again, _, _, new = _run_new(elf, board)
    assert again == fresh
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


def test_code_copied_to_ram_does_not_rewrite_the_file(cache: Path) -> None:
    """calib_flash copies a loop to RAM and runs it there: those blocks are exported but cannot be taken at the next
    load (RAM is empty before the run), so every run analysed them afresh and rewrote the file. A run whose export is
    what the file holds leaves it alone."""
    elf = BIN / "cortex-m4" / "calib_flash.elf"
    cold, _, _, _ = _run_new(elf, "cortex-m4")
    (path,) = cache.glob("*.blocks")
    written = path.stat()
    warm, loaded, _, new = _run_new(elf, "cortex-m4")
    assert warm == cold and loaded > 0
    assert new > 0  # the blocks in RAM, analysed afresh
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))  # a damaged file: not taken, and written again
    assert _run_new(elf, "cortex-m4")[:2] == (cold, 0)
    assert path.stat().st_ino != written.st_ino and _run_new(elf, "cortex-m4")[1] == loaded


def test_a_run_without_deferral_caches_only_the_hooks_deferral_needs(cache: Path) -> None:
    """A debugger's run (HotPath.disable_defer) hooks every divide; the cache keeps only those the block
    analysis cannot price at the next block entry, so later runs are not slowed by hooks they do not need."""
    elf = BIN / "cortex-m4" / "div_bench.elf"
    budget = {"max_instructions": 2_000_000}
    normal = prepare(elf, "cortex-m4", **budget)
    run_machine(normal)
    needed = set(normal.hot.div_blocks)
    for f in cache.glob("*.blocks"):
        f.unlink()
    m = prepare(elf, "cortex-m4", **budget)
    m.hot.disable_defer()
    undeferred = run_machine(m)
    assert set(m.hot.div_blocks) > needed  # deferral off: more blocks hooked
    warm = prepare(elf, "cortex-m4", **budget)
    assert warm.hot.div_preinstalled == needed
    again = run_machine(warm)
    assert set(warm.hot.div_blocks) == needed
    assert (again.instructions, again.cycles) == (undeferred.instructions, undeferred.cycles)
