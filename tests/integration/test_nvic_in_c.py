"""NVIC ISER/ICER/ICPR writes served by the native hot path (hp_nvic_write) equal the Python twin's.

C serves a word write to ISER, ICER or ICPR (ARMv7-M B3.4.3-B3.4.6) when it cannot change which exception
runs next, records the bits, and Python's next sync applies them to the exception model. These tests drive
the SCS page with stores (``uc.mem_write`` reaches the same MMIO callbacks a guest store does) on a machine
with the native hot path and on its Python twin, and compare the exception model after each step; then they
run the apps whose wfi loop clears its interrupt's pending bit (cortex-m4 adc_monitor, imu_steps) on both.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from simcore.api import prepare, run_machine
from simcore.cortexm.exceptions import IRQ0
from tests.conftest import ROOT, elf, started, store

ISER, ICER, ISPR, ICPR = 0xE000E100, 0xE000E180, 0xE000E200, 0xE000E280
SCR = 0xE000ED10


def synced(m: object) -> tuple[list[int], set[int], set[int], int, bool, bool]:
    """The exception model after Python's sync (the run loop's, or a hook's guard), the polling watch's count of
    MMIO writes, whether a preemption check is scheduled (SystemBlock.kick) and the WFE event register."""
    if m.hot.native and m.hot.state.fr_done:
        m.system.sync_native()
    e = m.system.exc
    return (list(e.enabled[IRQ0:IRQ0 + e.num_irq]), set(e.pending), set(e.active), m.polls.writes_now(),
            m.system._kick_event is not None, m.system.event_register)


def test_a_clear_of_a_pending_interrupt_is_served_in_c_and_applied_at_the_sync() -> None:
    m = started("nrf52840", "nested", True)
    s = m.hot.state
    m.guard(lambda: m.system.pend_irq(5))  # a peripheral pended IRQ5 (its line is low again)
    assert IRQ0 + 5 in m.system.exc.pending
    store(m, ICPR, 1 << 5)
    assert s.nv_writes == 1 and s.fr_done == 2
    assert IRQ0 + 5 in m.system.exc.pending  # Python has not looked yet
    assert m.polls.writes_now() == 1  # ... but the polling watch counts it (an MMIO write) from C's total already
    m.system.sync_native()
    assert IRQ0 + 5 not in m.system.exc.pending and s.fr_done == 0
    assert m.polls.writes_now() == 1  # (once: the sync adds nothing to it)


def test_a_clear_of_a_line_held_high_changes_nothing_and_an_enable_of_a_pending_one_is_pythons() -> None:
    m = started("nrf52840", "nested", True)
    s = m.hot.state
    m.guard(lambda: m.system.set_irq(7, True))  # level-sensitive line held high: pends IRQ7
    store(m, ICPR, 1 << 7)
    assert s.nv_writes == 1
    assert IRQ0 + 7 in synced(m)[1]  # it pends again at once (ExceptionModel.unpend)
    store(m, ISER, 1 << 7)  # enabling a pending interrupt may let it in now: Python serves it
    assert s.nv_writes == 1 and m.system.exc.enabled[IRQ0 + 7]


def test_a_disable_or_clear_of_an_interrupt_in_cs_tail_chain_list_is_pythons() -> None:
    m = started("nrf52840", "nested", True)
    s = m.hot.state
    e = m.system.exc
    store(m, ISER, 0b110)  # IRQ1, IRQ2 enabled (served in C: neither pending)
    assert s.nv_writes == 1
    synced(m)
    e.active.add(IRQ0 + 1)  # IRQ1's handler runs, IRQ2 pending: C may tail-chain into IRQ2 at its return
    e.pend(IRQ0 + 2)
    m.system.arm_native()
    assert s.nest_on and list(s.lp_exc[:s.lp_n]) == [IRQ0 + 2]
    store(m, ICER, 1 << 2)
    assert s.nv_writes == 1 and not e.enabled[IRQ0 + 2]  # Python's (whose re-arming then empties C's list)
    e.enabled[IRQ0 + 2] = 1
    m.system.arm_native()
    assert s.nest_on and list(s.lp_exc[:s.lp_n]) == [IRQ0 + 2]
    store(m, ICPR, 1 << 2)
    assert s.nv_writes == 1 and IRQ0 + 2 not in e.pending  # Python's too


def test_an_enable_with_sevonpend_set_is_pythons() -> None:
    m = started("nrf52840", "nested", True)
    store(m, SCR, 0x10)  # SEVONPEND: an enable may raise a WFE wake-up event (SystemBlock.kick)
    m.system.arm_native()
    store(m, ISER, 1 << 3)
    assert m.hot.state.nv_writes == 0 and m.system.exc.enabled[IRQ0 + 3]
    store(m, ICER, 1 << 3)
    assert m.hot.state.nv_writes == 1  # a disable raises no event


@pytest.mark.parametrize("seed", range(4))
def test_random_nvic_writes_and_lines_equal_the_python_twin(seed: int) -> None:
    """Random ISER/ICER/ISPR/ICPR words and line levels, the same on both: the exception model and the polling
    watch's write count equal the twin's after every step, and C served a good part of the writes."""
    rng = random.Random(seed)
    native, twin = started("nrf52840", "nested", True), started("nrf52840", "nested", False)
    nirq = native.system.exc.num_irq
    for _ in range(500):
        if rng.random() < 0.2:
            irq, level = rng.randrange(nirq), rng.random() < 0.5
            for m in (native, twin):
                m.guard(lambda m=m, irq=irq, level=level: m.system.set_irq(irq, level))
        elif rng.random() < 0.1:  # a handler starts or ends (as an entry or return leaves the model)
            x = IRQ0 + rng.randrange(nirq)
            for m in (native, twin):
                act = m.system.exc.active
                m.guard(lambda act=act, x=x: act.discard(x) if x in act or len(act) > 1 else act.add(x))
        else:
            addr = rng.choice((ISER, ICER, ISPR, ICPR)) + 4 * rng.randrange((nirq + 31) // 32)
            value = rng.getrandbits(32) & rng.getrandbits(32) & rng.getrandbits(32)  # a few bits
            for m in (native, twin):
                store(m, addr, value)
        assert synced(native) == synced(twin)
    assert native.hot.state.nv_writes > 50


@pytest.mark.parametrize("app", ["adc_monitor", "imu_steps"])
def test_wfi_loops_clearing_their_interrupt_equal_the_python_twin(app: str) -> None:
    """The apps sleep with PRIMASK set and clear their interrupt's pending bit (ICPR) after each wake-up: every
    ISER/ICPR write the twin's system block sees is served in C, and instructions, cycles, console, stop and
    exception entries equal the twin's."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import inputs_of  # the recordings the tests and benchmarks use

    path = elf("cortex-m4", app)
    sensors = {k: api for k, (_cli, api) in inputs_of(Path(path)).sensors.items()}
    runs = []
    nvic_writes: list[int] = []
    for native in (True, False):
        m = prepare(path, "cortex-m4", native=native, sensors=sensors)
        if not native:
            write = m.system.write

            def counted(addr: int, size: int, value: int, write=write) -> None:
                if ISER <= addr < ICPR + 0x40 and not ISPR <= addr < ICPR:
                    nvic_writes.append(addr)
                write(addr, size, value)
            m.system.write = counted
        r = run_machine(m)
        runs.append((r.instructions, r.cycles, r.text, r.stop.kind, m.system.exc.entries))
        if native:
            served = m.hot.state.nv_writes
    assert runs[0] == runs[1]
    assert runs[0][3].value == "exit"
    assert sum(ICPR <= a < ICPR + 0x40 for a in nvic_writes) > 50  # one per wake-up
    assert served == len(nvic_writes)
