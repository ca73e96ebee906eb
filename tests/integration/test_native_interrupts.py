"""Peripheral interrupts delivered by the native hot path (hp_source) count exactly as the Python twin.

bench_irq (mps2-an386): SysTick at 1 kHz pending PendSV, two threads switched by PendSV, the
CMSDK timer at 10 kHz. The native run takes the timer's interrupts in C (its zero event is
the next event) and serves its handler's INTCLEAR write in C (hp_ack, which plans the next
zero), and SysTick's ICSR PENDSVSET write in C (hp_pendsv), taking PendSV by tail-chaining at
the SysTick handler's return; SysTick, due one cycle after a timer zero, is made pending in C
under the timer handler (hp_tick_pend) and tail-chained into at its return: instructions,
cycles, console and stop must equal the Python twin's.
"""

from __future__ import annotations

import pytest

from simcore.api import prepare, run_machine
from tests.conftest import elf


@pytest.mark.parametrize("cmdline", ["bench_irq.elf", "bench_irq.elf plain"])
def test_native_peripheral_interrupts_equal_the_python_twin(cmdline: str) -> None:
    results = []
    for native in (True, False):
        m = prepare(elf("mps2-an386", "bench_irq"), "mps2-an386", native=native, cmdline=cmdline,
                    max_instructions=4_000_000)
        r = run_machine(m)
        results.append((r.instructions, r.cycles, r.text, r.stop.kind, m.system.exc.entries,
                        m.system.exc.tail_chains))
        if native:
            delivered = m.hot.state.src_entries[0]
            acked = m.hot.state.src_acks[0]
            chained = m.hot.state.chains
            fired = m.hot.state.tick_fires
    assert results[0] == results[1]
    if "plain" in cmdline:
        assert delivered == acked == chained == fired == 0
    else:
        assert delivered > 100  # the timer's interrupts were taken in C, not through Python events
        assert results[0][4] >= delivered
        assert acked > delivered // 2  # most acknowledges did not go through Python
        assert chained > 50 and results[0][5] >= chained  # PendSV by tail-chaining in C, counted as Python does
        assert fired > 50  # SysTick pended in C under the timer's handler


def test_timer_interrupts_and_the_threads_finish_the_work() -> None:
    m = prepare(elf("mps2-an386", "bench_irq"), "mps2-an386", cmdline="bench_irq.elf")
    r = run_machine(m)
    plain = run_machine(prepare(elf("mps2-an386", "bench_irq"), "mps2-an386", cmdline="bench_irq.elf plain"))
    assert r.exit_status == plain.exit_status == 0
    assert r.text.splitlines()[0] == plain.text.splitlines()[0]  # the same checksums
    counts = r.text.splitlines()[1].split()
    ticks, timer = int(counts[2].rstrip(",")), int(counts[5].rstrip(","))
    assert 9 * ticks <= timer <= 11 * ticks and ticks > 1000


@pytest.mark.parametrize("board", ["cortex-m4", "nrf52840"])
def test_fpcar_read_after_a_native_entry_is_served_in_c(board: str) -> None:
    """fpu_irq's SysTick handler reads FPCAR at every tick: after C stacked the extended frame, C
    answers with the address Python's sync would set (frame + 0x20), without the sync."""
    runs = []
    for native in (True, False):
        m = prepare(elf(board, "fpu_irq"), board, native=native)
        r = run_machine(m)
        runs.append((r.text, r.instructions, r.cycles, r.stop.kind))
        if native:
            served, ticks = m.hot.state.fpcar_reads, m.hot.state.tick_entries
    assert runs[0] == runs[1]
    assert "fpcar in frame yes" in runs[0][0]
    assert served > 200 and served <= ticks  # at most one per native entry here (one read per handler run)


@pytest.mark.parametrize("board", ["cortex-m4", "nrf52840", "stm32f407vg", "stm32l4r5zi"])
def test_nested_returns_and_tail_chains_in_c_equal_the_python_twin(board: str) -> None:
    """nested: handlers preempting handlers (STIR, ISPR), tail-chains of held interrupts at cpsie and at
    BASEPRI 0, a return with BASEPRI-masked interrupts pending, and an NMI under FAULTMASK. C returns from
    every handler, the NMI's included (hp_list_return with several exceptions active or some pending, or after an
    entry of its own; hp_fast_return otherwise): the same instructions, cycles, console, entries and tail-chains as
    the Python twin."""
    runs = []
    for native in (True, False):
        m = prepare(elf(board, "nested"), board, native=native)
        r = run_machine(m)
        e = m.system.exc
        runs.append((r.text, r.instructions, r.cycles, r.stop.kind, r.exit_status, e.entries, e.tail_chains,
                     e.active, e.pending))
        if native:
            s = m.hot.state
            in_c = (s.fast_returns, s.chains, s.nest_returns)
    assert runs[0] == runs[1]
    assert "preempt: <1 <3 >3 .1 <2 >2 .1 >1 <4 >4 T0" in runs[0][0]
    entries, chains = runs[1][5], runs[1][6]
    assert chains >= 3  # the twin tail-chained (IRQ1 -> IRQ4, the held IRQ3 -> IRQ2 -> IRQ1)
    fast, c_chains, listed = in_c
    assert c_chains == chains  # every tail-chain done in C
    assert fast + c_chains == entries + chains  # every handler returned in C, the NMI's too (FAULTMASK kept)
    assert listed >= 4  # the two nested returns to IRQ1, the one with BASEPRI-masked interrupts pending, the NMI's
