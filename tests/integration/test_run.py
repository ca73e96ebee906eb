"""`simcore run` end to end on the committed firmware: output, exit codes, figures, determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import capstone
import pytest
import unicorn

from simcore.api import prepare, run, run_machine
from tests.conftest import BOARDS, elf, run_cli

APPS_FOR_COUNTS = ["hello", "exitcode", "semihost", "semihost_exit", "fpu", "dsp", "stackhog"]


@pytest.mark.parametrize("board", BOARDS)
def test_hello_on_each_board(board: str) -> None:
    res = run_cli("run", elf(board, "hello"), "--board", board)
    assert res.status == 0, res.err
    assert f"Hello from simcore on {board}!" in res.out
    assert "pi is about 3.142" in res.out
    assert "firmware exited with code 0" in res.err


def test_exit_code_is_passed_through() -> None:
    res = run_cli("run", elf("stm32f407vg", "exitcode"), "--board", "stm32f407vg", "--mhz", "168")
    assert res.status == 3


def test_semihosting_console_and_exit_extended() -> None:
    r = run(elf("cortex-m4", "semihost"), "cortex-m4")
    assert r.exit_status == 7
    assert "semihost: checks passed" in r.text
    assert "SYS_WRITE stderr" in r.text


def test_sys_exit_plain() -> None:
    assert run(elf("cortex-m4", "semihost_exit"), "cortex-m4").exit_status == 0


def test_summary_figures_are_consistent() -> None:
    r = run(elf("stm32f407vg", "hello"), "stm32f407vg", mhz=84)
    assert r.mhz == 84
    assert r.instructions > 1000
    assert r.seconds == pytest.approx(r.cycles / 84e6)
    flash = r.layout.region("flash")
    assert flash.used == sum(p.section.size for p in r.layout.placements if p.load_memory == "flash")
    assert 0 < flash.used < flash.memory.size


def _count_with_code_hook(app: str, native: bool) -> tuple[int, int]:
    """simcore's count and an independent count of the same run: a per-instruction UC_HOOK_CODE.

    Unicorn calls a code hook only for instructions it executes, not for IT-block instructions
    whose condition fails, which the architecture executes as NOPs (A7.3.2) and simcore counts.
    The hook sees each IT instruction and the addresses that follow it, so it counts the IT
    slots that were skipped: a slot is skipped when the next executed address is past it.
    """
    m = prepare(elf("cortex-m4", app), "cortex-m4", native=native)
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    counted = [0, 0]  # executed, skipped IT slots
    slots: list[int] = []

    def code(uc: unicorn.Uc, addr: int, size: int, _u: object) -> None:
        counted[0] += 1
        while slots and slots[0] != addr:
            slots.pop(0)
            counted[1] += 1
        if slots:
            slots.pop(0)
        first = int.from_bytes(uc.mem_read(addr, 2), "little")
        if size == 2 and first & 0xFF00 == 0xBF00 and first & 0xF:  # IT: 4 - ctz(mask) instructions follow
            n = 4 - ((first & 0xF) & -(first & 0xF)).bit_length() + 1
            body = list(md.disasm(bytes(uc.mem_read(addr + 2, 16)), addr + 2, n))
            slots[:] = [i.address for i in body]

    m.uc.hook_add(unicorn.UC_HOOK_CODE, code)
    r = run_machine(m)
    assert r.stop.kind == "exit", r.stop.message
    return r.instructions, counted[0] + counted[1]


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
@pytest.mark.parametrize("app", APPS_FOR_COUNTS)
def test_instruction_count_equals_code_hook(app: str, native: bool) -> None:
    ours, independent = _count_with_code_hook(app, native)
    assert ours == independent


@pytest.mark.parametrize("app", ["dsp", "fpu", "hello"])
def test_native_and_python_paths_agree_and_repeat(app: str) -> None:
    runs = [run(elf("stm32f407vg", app), "stm32f407vg", native=n) for n in (True, False, True)]
    assert len({(r.instructions, r.cycles, r.stack_low) for r in runs}) == 1
    assert runs[0].native and not runs[1].native


def test_stack_high_water_matches_firmware_measurement() -> None:
    r = run(elf("cortex-m4", "stackhog"), "cortex-m4")
    line = next(x for x in r.text.splitlines() if "painted high-water" in x)
    painted = int(line.split("high-water")[1].split()[0])
    assert r.stack_used == painted
    assert not r.stack_overflow


def test_stack_overflow_is_flagged() -> None:
    r = run(elf("cortex-m4", "stackoverflow"), "cortex-m4")
    assert r.stack_overflow
    assert r.stack_low < r.stack_limit


def test_budget_stops_runaway_firmware_with_location() -> None:
    res = run_cli("run", elf("cortex-m4", "compute"), "--max-instructions", "200000", "-q")
    assert res.status == 124
    assert "instruction budget of 200,000 exhausted" in res.err
    assert "matmul" in res.err or "main" in res.err


def test_json_report_has_every_figure(tmp_path) -> None:
    out = tmp_path / "r.json"
    res = run_cli("run", elf("nrf52840", "hello"), "--board", "nrf52840", "--json", out, "-q")
    assert res.status == 0
    data = json.loads(out.read_text())
    assert data["exit_status"] == 0 and data["board"] == "nrf52840"
    assert data["instructions"] > 0 and data["cycles"] >= data["instructions"] // 2
    assert "Hello from simcore on nrf52840!" in data["console"]
    assert {r["name"] for r in data["memory"]["regions"]} == {"flash", "ram"}
    assert data["stack"]["used"] > 0


def test_size_command(tmp_path) -> None:
    res = run_cli("size", elf("stm32f407vg", "compute"), "--board", "stm32f407vg")
    assert res.status == 0, res.err
    assert ".text" in res.out and ".bss" in res.out and "sram" in res.out


def test_boards_command_lists_parts() -> None:
    res = run_cli("boards")
    assert res.status == 0
    for name in BOARDS:
        assert name in res.out
    assert "1.00 MiB" in res.out and "640.0 KiB" in res.out


def test_console_script_end_to_end() -> None:
    """The installed entry point, as a user types it (import time included)."""
    proc = subprocess.run(
        [sys.executable, "-m", "simcore", "run", str(elf("stm32f407vg", "hello")), "--board", "stm32f407vg",
         "--mhz", "168"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Hello from simcore on stm32f407vg!" in proc.stdout
    assert "instructions" in proc.stderr and "latency" in proc.stderr
