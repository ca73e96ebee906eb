"""The Cortex-M4 system block running real firmware: SysTick, DWT, NVIC nesting, SVC/PendSV, FP context."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.api import prepare, run, run_machine

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ["cortex-m4", "stm32f407vg"]
MHZ = {"cortex-m4": 100, "stm32f407vg": 168}


def elf(board: str, app: str) -> Path:
    return ROOT / "firmware" / "bin" / board / f"{app}.elf"


@pytest.mark.parametrize("board", BOARDS)
def test_systick_counts_at_the_programmed_rate_and_wfi_wfe_sleep(board: str) -> None:
    m = prepare(elf(board, "systick"), board)
    seen: list[tuple[int, int, int]] = []
    m.system.itm.on_write(lambda port, value, cycle: seen.append((port, value, cycle)))
    res = run_machine(m)
    assert res.exit_status == 0, res.stop.message
    assert res.unmodelled == {}
    assert res.text == ("busy: ticks 100, cycles " + res.text.split("cycles ")[1].split(",")[0]
                        + ", periods 100\nwfi: ticks 200, periods 200\n"
                        "countflag: seen, cleared yes, ticks unchanged yes\n"
                        "wfe: ticks 250\nsleeponexit: ticks 300, main ran 1\n")
    period = MHZ[board] * 1000
    busy_cycles = int(res.text.split("cycles ")[1].split(",")[0])
    assert 100 * period <= busy_cycles < 100 * period + 200  # tick 100 plus the handler and loop exit
    # wfi: most of the second 100 ms is spent asleep, and virtual time covers all 200 ticks
    assert res.sleep_cycles > 90 * period
    assert res.cycles >= 300 * period
    # DWT CYCCNT read by the firmware == simcore's cycle count (ITM writes in the same blocks)
    (_, _, c_start), (_, value, c_end) = [s for s in seen if s[0] in (1, 2)]
    assert value == c_end - c_start


def test_cyccnt_agrees_with_systick_at_another_clock() -> None:
    res = run(elf("cortex-m4", "systick"), "cortex-m4", mhz=25)
    assert res.exit_status == 0
    assert "busy: ticks 100" in res.text and "periods 100" in res.text
    # the firmware programs 100,000 cycles per tick (1 ms at its default 100 MHz): 4 ms per tick at 25 MHz
    # 300 ticks, plus at most one period polling COUNTFLAG with the interrupt off
    assert 300 * 0.004 <= res.seconds < 302 * 0.004


@pytest.mark.parametrize("board", BOARDS)
def test_nested_preemption_tail_chaining_and_masks(board: str) -> None:
    res = run(elf(board, "nested"), board, strict=True)  # every system register it touches is modelled
    assert res.exit_status == 0, res.stop.message
    assert res.text == (
        "preempt: <1 <3 >3 .1 <2 >2 .1 >1 <4 >4 T0 \n"
        "ipsr in IRQ1 17, IABR0 0x2\n"
        "tailchain: T0 <3 >3 <2 >2 <1 >1 T0 \n"
        "basepri: <3 >3 T0 <2 >2 <1 >1 T0 \n"
        "faultmask: <9 >9 T0 <3 >3 T0 \n"
    )


@pytest.mark.parametrize("native", [True, False])
def test_tail_chaining_does_not_unstack_between_handlers(native: bool) -> None:
    m = prepare(elf("cortex-m4", "nested"), "cortex-m4", native=native)
    pops: list[int] = []
    original = m.system.exc.pop_stack
    m.system.exc.pop_stack = lambda *a: (pops.append(a[0]), original(*a))[1]  # type: ignore[method-assign]
    res = run_machine(m)
    assert res.exit_status == 0
    # handler exits: 1+3+2+4 (preempt: 4 tail-chains), 3+2+1 (one chain), 3 then 2+1 (one chain)
    # = 10 handlers; returns that unstack: IRQ3, IRQ2 (nested in IRQ1), IRQ4 (end of chain), IRQ1 (end of
    # chain), IRQ3, IRQ1 (end of chain) = 6
    # and the NMI and the IRQ3 after FAULTMASK, one return each; the native hot path does the plain
    # returns (one active exception, nothing pending) in C without calling pop_stack
    assert len(pops) + m.hot.state.fast_returns == 8
    assert (m.hot.state.fast_returns > 0) == native
    assert m.system.exc.tail_chains == 4

def _scheduler_float(start: float) -> int:
    acc = np.float32(start)
    for _ in range(6):
        acc = np.float32(acc * np.float32(1.5) + np.float32(0.25))
    return int(np.float32(acc * np.float32(1000.0)))


@pytest.mark.parametrize("board", BOARDS)
def test_two_task_scheduler_on_psp_with_svc_and_pendsv(board: str) -> None:
    res = run(elf(board, "scheduler"), board, strict=True)
    assert res.exit_status == 0, res.stop.message
    rounds = "".join(f"task {t} round {r} psp-control 2\n" for r in range(3) for t in "AB")
    assert res.text == (rounds + f"task A float {_scheduler_float(1.0)}\ntask B float {_scheduler_float(2.0)}\n"
                        "switches 7, svc 7, ticks yes\n")


@pytest.mark.parametrize("board", BOARDS)
def test_fp_registers_survive_interrupts_with_lazy_stacking(board: str) -> None:
    res = run(elf(board, "fpu_irq"), board, strict=True)
    assert res.exit_status == 0, res.text
    lines = res.text.splitlines()
    assert lines[0] == "interrupts many"
    assert lines[1].startswith("float result identical")
    assert lines[2:] == ["exc_return ffffffe9", "fpccr c0000000", "fpcar in frame yes"]


def test_fp_interrupt_test_fails_without_the_extended_frame() -> None:
    m = prepare(elf("cortex-m4", "fpu_irq"), "cortex-m4")
    m.system.exc.cfg.fpu = False  # pretend there is no FP context to save
    res = run_machine(m)
    assert "float result CORRUPTED" in res.text
    assert res.exit_status == 1


@pytest.mark.parametrize(("app", "cmdline"), [("nested", ""), ("scheduler", ""), ("fpu_irq", ""),
                                              ("faults", "faults.elf div0")])
def test_python_fallback_hot_path_gives_identical_runs(app: str, cmdline: str) -> None:
    a = run(elf("cortex-m4", app), "cortex-m4", native=False, cmdline=cmdline)
    b = run(elf("cortex-m4", app), "cortex-m4", native=True, cmdline=cmdline)
    assert (a.text, a.exit_status, a.instructions, a.cycles) == (b.text, b.exit_status, b.instructions, b.cycles)


def test_exception_entry_return_and_tail_chain_cycles_are_charged() -> None:
    from simcore.cycles import EXCEPTION_ENTRY, EXCEPTION_RETURN, TAIL_CHAIN

    # the Python twin charges everything through hot.charge; the native hot path does the plain
    # exception returns in C (hp_fast_return), charging EXCEPTION_RETURN there
    plain = prepare(elf("cortex-m4", "nested"), "cortex-m4", native=False)
    plain.hot.charge = lambda cycles: None  # type: ignore[method-assign]
    base = run_machine(plain)
    m = prepare(elf("cortex-m4", "nested"), "cortex-m4")
    pops: list[int] = []
    original = m.system.exc.pop_stack
    m.system.exc.pop_stack = lambda *a: (pops.append(a[0]), original(*a))[1]  # type: ignore[method-assign]
    res = run_machine(m)
    assert res.text == base.text and res.instructions == base.instructions
    exc = m.system.exc
    returns = len(pops) + m.hot.state.fast_returns
    expected = EXCEPTION_ENTRY * exc.entries + EXCEPTION_RETURN * returns + TAIL_CHAIN * exc.tail_chains
    assert exc.entries == 8 and exc.tail_chains == 4 and returns == 8
    assert res.cycles - base.cycles == expected


@pytest.mark.slow
@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("app", ["systick", "nested", "scheduler", "fpu_irq", "spin_tick"])
def test_native_exception_paths_match_the_python_twin(board: str, app: str) -> None:
    """hp_tick / hp_enter / hp_fast_return are optimisations: same counts, output and exception state."""
    results = []
    for native in (True, False):
        m = prepare(elf(board, app), board, native=native)
        r = run_machine(m)
        e = m.system.exc
        results.append((r.stop.kind, r.exit_status, r.text, r.instructions, r.cycles, r.stack_low, e.entries,
                        e.tail_chains, sorted(e.active), sorted(e.pending), e.last_left, e.last_return,
                        m.system.sleep_cycles))
        if native and app in ("systick", "spin_tick"):
            assert m.hot.state.fast_returns > 0
    assert results[0] == results[1]


@pytest.mark.parametrize("cycle_model", ["cortex-m4", "instructions"])
def test_native_systick_delivery_stops_on_budget_like_the_python_twin(cycle_model: str) -> None:
    """A budget stop in the middle of native SysTick delivery: the same place, counts and state."""
    results = []
    for native in (True, False):
        m = prepare(elf("cortex-m4", "compute_systick"), "cortex-m4", native=native, cycle_model=cycle_model,
                    max_instructions=2_345_678)
        r = run_machine(m)
        e = m.system.exc
        results.append((r.stop.kind, r.stop.pc, r.instructions, r.cycles, e.entries, sorted(e.active),
                        sorted(e.pending), m.registers()))
        if native:
            assert m.hot.state.tick_entries > 0
    assert results[0] == results[1]
    assert results[0][0] == "budget" and results[0][4] > 5
