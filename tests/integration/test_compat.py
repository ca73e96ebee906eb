"""Firmware written for QEMU/Renode-style CI: idle loops, markers, bare rdimon programs, host files.

These run on simcore only (test_qemu.py compares with QEMU): they check the verdicts CI
relies on (exit status, the "spinning" diagnosis, markers) and the boot rule for images
without a vector table.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import pytest

import simcore.api as sc
from simcore.blocks import SELF_LOOP
from simcore.hotpath import HotBlock
from tests.conftest import BOARDS, elf

SPIN = 125


@pytest.mark.parametrize("board", [*BOARDS, "mps2-an386"])
def test_idle_loop_stops_at_once_with_the_spin_diagnosis(cli: Any, board: str) -> None:
    res = cli("run", elf(board, "spin"), "--board", board)
    assert res.status == SPIN
    assert res.out.endswith("TEST PASSED\n")
    assert "stopped: spinning at main+0x" in res.err
    r = sc.run(elf(board, "spin"), board=board)
    # stopped at once, not at the 2G budget: the nRF52's UARTE takes 5.6 ms of polling (fast-forwarded) for the text
    skipped = 4 * r.extra["polling"]["iterations_skipped"]  # at most 4 instructions per poll of a console driver
    assert r.stop.kind == "spinning" and r.instructions - skipped < 20_000 and r.seconds < 0.01


def test_masked_interrupts_cannot_end_the_loop(cli: Any) -> None:
    res = cli("run", elf("mps2-an386", "spin_masked"), "--board", "mps2-an386")
    assert res.status == SPIN
    assert "no enabled interrupt can preempt it" in res.err and "tick" not in res.out


def _branches_to_self(fw: Any, name: str) -> list[tuple[int, int]]:
    """(address, width) of ``b .`` (0xe7fe) and ``b.w .`` (0xf7ff 0xbffe) in a function's code."""
    sym = fw.symbol(name)
    code = fw.read_loaded(sym.addr, max(sym.size, 4))
    halves = [int.from_bytes(code[k:k + 2], "little") for k in range(0, len(code) - 1, 2)]
    out = [(sym.addr + 2 * k, 2) for k, h in enumerate(halves) if h == 0xE7FE]
    return out + [(sym.addr + 2 * k, 4) for k in range(len(halves) - 1) if halves[k:k + 2] == [0xF7FF, 0xBFFE]]


def test_idle_loops_are_flagged_by_the_block_analysis() -> None:
    """No scan of the image: the block that is ``b .`` carries SELF_LOOP (and its address) when translated."""
    m = sc.prepare(elf("cortex-m4", "spin"), "cortex-m4")
    loops = _branches_to_self(m.fw, "main") + _branches_to_self(m.fw, "Default_Handler")
    assert len(loops) >= 2
    for addr, width in loops:
        assert m.hot.costs(addr, width)[2] & SELF_LOOP
        assert m.hot.native_block(addr, width)[0].target == addr
    start = m.fw.symbol("main").addr
    assert not m.hot.costs(start, 2)[2] & SELF_LOOP
    run = sc.prepare(elf("cortex-m4", "hello"), "cortex-m4")
    run.run()
    table = ctypes.cast(run.hot.state.table, ctypes.POINTER(HotBlock))
    seen = [table[i] for i in range(run.hot.state.mask + 1) if table[i].addr != 0xFFFFFFFF]
    assert seen and not any(b.flags & SELF_LOOP for b in seen)  # hello exits: it never idles


@pytest.mark.parametrize(("flag", "status"), [("--pass-marker", 0), ("--fail-marker", 1)])
def test_markers_stop_the_spinning_firmware(cli: Any, flag: str, status: int) -> None:
    res = cli("run", elf("mps2-an386", "spin"), "--board", "mps2-an386", flag, "TEST PASSED")
    assert res.status == status
    assert res.out.endswith("TEST PASSED\n")
    assert "marker 'TEST PASSED' seen" in res.err


def test_marker_stops_before_the_firmware_goes_on() -> None:
    r = sc.run(elf("mps2-an386", "spin"), board="mps2-an386", pass_marker="running checks")
    assert r.exit_status == 0 and r.stop.kind == "pass_marker"
    assert r.text.endswith("running checks") and "TEST PASSED" not in r.text  # stopped mid-line


@pytest.mark.parametrize("native", [True, False])
def test_idle_loop_woken_by_systick_is_fast_forwarded(native: bool) -> None:
    r = sc.run(elf("mps2-an386", "spin_tick"), board="mps2-an386", native=native)
    assert r.exit_status == 0
    assert r.text.splitlines()[-1] == "done after 5 ticks"
    assert r.cycles >= 50_000  # five SysTick periods of 10,000 cycles passed in virtual time
    assert r.instructions < 60_000  # ... without executing the idle loop instruction by instruction


def test_native_and_python_hooks_count_the_idle_wait_the_same() -> None:
    a = sc.run(elf("cortex-m4", "spin_tick"), board="cortex-m4", native=True)
    b = sc.run(elf("cortex-m4", "spin_tick"), board="cortex-m4", native=False)
    assert (a.instructions, a.cycles) == (b.instructions, b.cycles)


def test_budget_applies_while_fast_forwarding() -> None:
    r = sc.run(elf("mps2-an386", "spin_tick"), board="mps2-an386", max_instructions=12_000)
    assert r.stop.kind == "budget" and r.exit_status == 124
    assert r.instructions <= 12_000


@pytest.mark.slow
def test_rdimon_program_boots_at_its_entry_point_with_heapinfo(cli: Any) -> None:
    res = cli("run", elf("mps2-an386", "rdimon_hello"), "--board", "mps2-an386", "--", "x", "y", "4")
    assert res.status == 4
    assert res.out == ("rdimon hello: argc=4\nargv[1]=x\nargv[2]=y\nargv[3]=4\n"
                       "written to :tt with fwrite\nmalloc(1024) ok\n")
    r = sc.run(elf("mps2-an386", "rdimon_hello"), board="mps2-an386")
    assert r.exit_status == 3
    assert "no vector table at 0x00000000: started at the ELF entry point" in r.boot_rule


def test_rdimon_host_file_is_refused_without_a_root(cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "input.txt").write_text("must not be read\n")
    monkeypatch.chdir(tmp_path)
    res = cli("run", elf("mps2-an386", "rdimon_files"), "--board", "mps2-an386")
    assert res.status == 2
    assert res.out == "cannot open input.txt\n"
    assert "refused: open 'input.txt' (no --semihosting-root given)" in res.err


def test_rdimon_host_file_is_read_inside_the_root(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "input.txt").write_text("abc\n")
    res = cli("run", elf("mps2-an386", "rdimon_files"), "--board", "mps2-an386",
              "--semihosting-root", tmp_path)
    assert res.status == 0
    assert "input.txt: 4 bytes, read 4: abc\n" in res.out and "out.txt: ABC\n" in res.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.txt"]


def test_reset_vector_outside_image_code_is_bad_input(cli: Any) -> None:
    # a cortex-m4 build (vector table at 0) runs on mps2-an386: its code lands in the code SSRAM
    ok = cli("run", elf("cortex-m4", "hello"), "--board", "mps2-an386", "-q")
    assert ok.status == 0
    # the STM32 build is linked at 0x08000000: outside every mps2-an386 memory
    bad = cli("run", elf("stm32f407vg", "hello"), "--board", "mps2-an386")
    assert bad.status == 2 and "outside every memory" in bad.err
