"""simcore.debug: breakpoints, single steps and watchpoints leave the run's counts exactly as without them.

The reference is the same run without a debugger; compared: instructions, cycles, flash wait
and taken-branch cycles, the SP low-water mark, sleep cycles, the stop and the console.
"""

from __future__ import annotations

import pytest

from simcore.api import prepare
from simcore.debug import Debugger
from tests.conftest import elf


def figures(m) -> dict:
    s = m.hot.state
    return {"instructions": s.insn_count, "cycles": s.cycle_count, "flash_wait": s.flash_wait_cycles,
            "branch": s.branch_taken_cycles, "sp_low": s.sp_low, "sleep": m.system.sleep_cycles,
            "stop": (m.stop.kind, m.stop.exit_code), "console": bytes(m.console),
            "executions": m.hot.block_executions()}  # per-block entry counts: the cycle error bar's input


def plain(board: str, app: str, **kw) -> dict:
    m = prepare(elf(board, app), board, **kw)
    m.run()
    return figures(m)


@pytest.mark.parametrize("native", [None, False], ids=["native", "python"])
@pytest.mark.parametrize("board,app", [("stm32f407vg", "hello"),
                                       pytest.param("nrf52840", "nested", marks=pytest.mark.slow),  # 40-60 s
                                       ("stm32l4r5zi", "scheduler"), ("cortex-m4", "faults")])
def test_single_stepping_the_whole_program_gives_the_counts_of_a_plain_run(board, app, native):
    """Every instruction a step: pauses land inside blocks, in handlers, on IT blocks and faults.

    A polling loop the plain run fast-forwards (simcore/poll.py: whole iterations added to the
    counts) really executes under single steps: instructions, cycles and time stay equal, the
    per-block execution counts differ, only in the functions where the plain run fast-forwarded."""
    plain_m = prepare(elf(board, app), board, native=native)
    plain_m.run()
    ref = figures(plain_m)
    m = prepare(elf(board, app), board, native=native)
    d = Debugger(m)
    steps = 0
    while m.stop is None:
        d.step()
        steps += 1
    got = figures(m)
    if plain_m.polls.stats.loops:
        places = {p.rsplit(" in ", 1)[-1] for p in plain_m.polls.stats.places}
        a, b = ref.pop("executions"), got.pop("executions")
        differ = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
        assert differ and all(m.fw.function_at(k[0]).name in places for k in differ)
    assert got == ref
    assert steps > ref["instructions"] * 0.95  # one step per instruction (IT blocks are stepped whole)


@pytest.mark.parametrize("board,app,funcs", [
    ("stm32f407vg", "systick", ["SysTick_Handler", "main"]),
    ("stm32l4r5zi", "scheduler", ["PendSV_Handler", "SVC_Handler", "main"]),
    ("cortex-m4", "fpu_irq", ["SysTick_Handler", "work"]),
])
def test_breakpoints_everywhere_in_functions_keep_the_counts(board, app, funcs):
    """A breakpoint on every instruction of handlers and functions, continued 60 times, then removed."""
    ref = plain(board, app)
    m = prepare(elf(board, app), board)
    d = Debugger(m)
    for name in funcs:
        sym = m.fw.symbol(name)
        for addr in range(sym.addr, sym.addr + sym.size, 2):
            d.add_breakpoint(addr)
    hits = 0
    while m.stop is None:
        stop = d.cont()
        if m.stop is None:
            assert stop.kind == "breakpoint" and stop.pc == m.pc()
            hits += 1
            if hits == 60:
                d.clear()
    assert hits == 60
    assert figures(m) == ref


def test_pause_reads_counts_as_of_the_stopped_instruction():
    """At a breakpoint the counters hold what ran before it: a plain run's count at that instruction."""
    import unicorn

    board, app = "cortex-m4", "hello"
    ref = prepare(elf(board, app), board)
    target = ref.fw.symbol("main").addr + 6  # inside main's first block
    seen = []

    def observe(uc, address, size, _user):
        s = ref.hot.state
        n, c = ref.hot.info(s.last_addr, s.last_size).tail(address)
        seen.append((s.insn_count - n, s.cycle_count - c))

    ref.uc.hook_add(unicorn.UC_HOOK_CODE, observe, begin=target, end=target)
    ref.run()
    m = prepare(elf(board, app), board)
    d = Debugger(m)
    d.add_breakpoint(target)
    stop = d.cont()
    assert stop.kind == "breakpoint" and m.pc() == target
    assert (m.instructions, m.cycles) == seen[0]
    d.step()
    assert m.instructions == seen[0][0] + 1


def test_watchpoint_stops_after_the_writing_instruction():
    board, app = "stm32f407vg", "systick"
    ref = plain(board, app)
    m = prepare(elf(board, app), board)
    d = Debugger(m)
    ticks = m.fw.symbol("ticks").addr
    d.add_watchpoint(ticks, 4, "write")
    stop = d.cont()  # the start-up code clearing .bss
    assert stop.kind == "watchpoint" and stop.details["value"] == 0
    assert m.fw.function_at(stop.details["pc"] if "pc" in stop.details else stop.pc).name != "SysTick_Handler"
    stop = d.cont()  # the first tick
    assert stop.kind == "watchpoint"
    assert stop.details["address"] == ticks and stop.details["value"] == 1
    assert int.from_bytes(m.mem_read(ticks, 4), "little") == 1
    handler = m.fw.symbol("SysTick_Handler")
    assert handler.addr <= stop.pc < handler.addr + handler.size  # right after the store, still in the handler
    d.add_watchpoint(ticks, 4, "read")
    stop = d.cont()
    assert stop.kind == "watchpoint" and stop.details["kind"] == "read"
    d.clear()
    d.cont()
    assert figures(m) == ref


def test_breakpoint_inside_an_it_block_moves_to_the_it_instruction():
    m = prepare(elf("stm32l4r5zi", "scheduler"), "stm32l4r5zi")
    d = Debugger(m)
    pendsv = m.fw.symbol("PendSV_Handler").addr
    # PendSV_Handler: mrs (4 bytes), tst.w (4), it eq (2), vstmdbeq (4): the conditional store is at +10
    assert d.add_breakpoint(pendsv + 10) == pendsv + 8


def test_interrupt_request_pauses_at_a_block_boundary_and_resumes_exactly():
    board, app = "stm32f407vg", "systick"
    ref = plain(board, app)
    m = prepare(elf(board, app), board)
    d = Debugger(m)
    m.start()
    m.schedule(1_000_000, lambda: d.interrupt("test"), "interrupt")
    stop = d.cont()
    assert stop.kind == "interrupt" and m.cycles >= 1_000_000
    assert d.paused_in is None  # a block boundary: nothing to take off the counters
    d.cont()
    assert figures(m) == ref
