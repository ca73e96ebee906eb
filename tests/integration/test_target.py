"""simcore.target: the test API (run until, typed globals, function calls, console, snapshots)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.target import ExpectTimeout, RunEnded, Target, TargetError
from tests.conftest import elf

BOARD = "stm32f407vg"


@pytest.fixture
def t() -> Target:
    return Target(elf(BOARD, "dut_demo"), board=BOARD)


def test_run_until_a_symbol_stops_before_its_first_instruction(t):
    stop = t.run_until("main")
    assert stop.kind == "breakpoint" and t.pc == t.address_of("main") and t.where == "main"
    assert 0 < t.instructions < 1000 and t.console == ""
    t.run_until("SysTick_Handler")
    assert t.get("ticks") == 0  # the first tick's handler has not counted yet


def test_globals_are_typed_from_dwarf(t):
    t.run_until("main")  # .data copied and .bss cleared by the start-up code
    assert t.get("counter") == -5
    assert t.get("bytes8") == [1, 2, 3, 4]
    assert t.get("matrix") == [[1, 2, 3], [4, 5, 6]] and t.get("matrix[1][2]") == 6
    assert t.get("fscale") == 1.5 and t.get("dvalue") == 2.25 and t.get("big") == 0x123456789
    assert t.get("cfg") == {"id": 7, "enabled": True, "gain": 0.5, "origin": {"x": -3, "y": 4},
                             "name": b"demo\0\0\0\0"}
    assert t.var("cfg.name").string == "demo" and t.var("greeting").string == "hello"
    assert t.get("path[2]") == {"x": 20, "y": 5} and t.get("path[-1].x") == 20
    assert t.get("mode") == 0 and t.var("mode").type.enumerators["MODE_ECHO"] == 2
    var = t.var("cfg.origin.y")
    assert var.address == t.var("cfg").address + 10 and var.type.name == "int16_t"


def test_writes_go_to_firmware_memory_and_change_what_it_computes(t):
    t.run_until("main")
    t.set("counter", 100)
    t.set("cfg.origin", {"x": 1})
    t.set("cfg.name", "sim")
    t.set("bytes8", [9, 8])  # partial: the first two elements
    t.set("fscale", 0.25)
    t.set("mode", "MODE_REPORT")
    assert t.get("bytes8") == [9, 8, 3, 4] and t.get("cfg.origin") == {"x": 1, "y": 4}
    with pytest.raises(ValueError):
        t.set("bytes8[0]", 256)
    t.run_to_end()
    assert "fill 100 103" in t.console and "score 1714 hello sim" in t.console
    assert t.stop.kind == "exit" and t.stop.exit_code == 0


def test_unknown_names_say_what_exists(t):
    with pytest.raises(TargetError, match="similar: counter"):
        t.get("count")
    with pytest.raises(TargetError, match="no function"):
        t.call("no_such_function")


def test_call_functions_with_arguments_and_return_values(t):
    # before boot: call() boots to main first, so the globals the functions use are initialised
    assert t.call("add", 2, 3) == 5 and t.where == "main"
    assert t.last_call.instructions == 2 and t.last_call.cycles > 0
    assert t.call("add", -7, 2) == -5
    assert t.call("scale", 2.0, 3.0) == 9.0  # floats in s0/s1, fscale = 1.5 from .data
    assert t.call("mix", 2.25, 2.0, 1) == 5.5  # double in d0, float in s2, int in r0
    assert t.call("mul64", 0x123456789, -2) == -2 * 0x123456789  # int64 in r0:r1, int32 in r2
    assert t.call("sum6", 1, 2, 3, 4, 5, 6) == 1 + 4 + 9 + 16 + 25 + 36  # e, f on the stack
    assert t.call("checksum", bytes([1, 2, 3, 4]), 4) == 2
    buf = [0] * 4
    t.call("fill", buf, 4, -5)
    assert buf == [-5, -4, -3, -2]  # int16_t elements written back
    arr = np.zeros(3, dtype=np.int16)
    t.call("fill", arr, 3, 7)
    assert arr.tolist() == [7, 8, 9]
    assert t.call("config_score", t.var("cfg").address) == 7 * 100 - 30 + 4 + 1000
    with pytest.raises(TargetError, match="takes 2 arguments"):
        t.call("add", 1)


def test_a_call_while_paused_leaves_the_run_where_it_was(t):
    t.run_until("SysTick_Handler")
    pc, sp = t.pc, t.reg("sp")
    assert t.call("add", 1, 1) == 2
    assert (t.pc, t.reg("sp")) == (pc, sp)
    t.run_to_end()
    assert t.stop.exit_code == 0 and "ticks 5" in t.console


def test_expect_console_input_and_timeouts(t):
    t.run_until("main")
    t.set("mode", 2)
    t.write("hi there\n")
    assert t.expect("ready", timeout_cycles=50_000_000).group(0) == "ready"
    assert t.expect(r"echo: (.*)\n").group(1) == "hi there"
    with pytest.raises(ExpectTimeout, match="never printed"):
        t2 = Target(elf(BOARD, "dut_demo"), board=BOARD)
        t2.run_until("main")
        t2.set("mode", 1)  # spins forever after "ready"
        t2.expect("ready")
        t2.expect("never printed", timeout_cycles=100_000)
    t.run_to_end()
    with pytest.raises(RunEnded, match="run ended"):
        t.expect("more")


def test_run_for_cycles_and_registers(t):
    t.run_for(500_000)  # the program ends after 5 SysTick periods (840,000 cycles at 168 MHz)
    # main sleeps in wfi between ticks: the pause comes when the core wakes (tick 3 at 504,000)
    assert 504_000 <= t.cycles < 504_000 + 1000
    assert t.reg("msp") == t.reg("sp") and t.reg("pc") == t.pc
    t.set_reg("r0", 0x1234)
    assert t.reg("r0") == 0x1234


def test_snapshot_restore_gives_identical_counts(t):
    t.run_until("main")
    snap = t.snapshot()
    t.set("mode", 0)
    t.run_to_end()
    first = (t.instructions, t.cycles, t.console)
    for _ in range(2):
        t.restore(snap)
        assert t.where == "main" and t.console == ""
        t.run_to_end()
        assert (t.instructions, t.cycles, t.console) == first
    fresh = Target(elf(BOARD, "dut_demo"), board=BOARD)
    fresh.run_to_end()
    assert (fresh.instructions, fresh.cycles, fresh.console) == first


def test_result_matches_api_run(t):
    from simcore import api

    t.run_to_end()
    ref = api.run(elf(BOARD, "dut_demo"), BOARD)
    res = t.result()
    assert (res.instructions, res.cycles, res.exit_status, res.stack_used) == \
        (ref.instructions, ref.cycles, ref.exit_status, ref.stack_used)
