"""NVIC ISPR/STIR pends and IPR priority writes served by the native hot path (hp_nvic_pend, hp_nvic_prio) equal the
Python twin's and the model's path.

C serves a pend (ARMv7-M B3.4.5 ISPR, B3.4.9 STIR) when no exception is taken because of it (the execution priority
of B1.5.4 keeps out every pending interrupt, the new ones included), and an IPR byte write (B3.4.8) of an interrupt
C does not look at; Python's next sync applies them. These tests drive the SCS page with stores (``uc.mem_write``
reaches the same MMIO callbacks a guest store does) on a machine with the native hot path, on its Python twin and
with the C paths off, and compare the exception model after each step; then they run the ``nested`` apps (pends under
PRIMASK, BASEPRI and FAULTMASK, a lower-priority pend inside a handler tail-chained into at its return) on all three.
"""

from __future__ import annotations

import ctypes
import random

import pytest
from unicorn import arm_const as R

from simcore.api import prepare, run_machine
from simcore.blocks import MASK
from simcore.cortexm.exceptions import IRQ0
from simcore.cortexm.system import SystemBlock
from tests.conftest import elf, figures, store

ISER, ISPR, ICPR, IPR, STIR = 0xE000E100, 0xE000E200, 0xE000E280, 0xE000E400, 0xE000EF00


def machine(native: bool) -> object:
    m = prepare(elf("nrf52840", "nested"), "nrf52840", native=native)
    m.start()
    if native:
        s = m.hot.state
        # the block a guest store would be in: one without MASK (a made-up entry, whatever the block cache holds)
        block = 0x100
        m.hot.lib.hp_insert(ctypes.byref(s), block, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        assert not m.hot.block_flags(block, 2) & MASK
        s.last_addr, s.last_size = block, 2
        m.system.arm_native()  # what the run loop does before emulation
    return m


def synced(m: object) -> tuple[list[int], list[int], set[int], set[int], int, bool]:
    """The exception model after Python's sync (the run loop's, or a hook's guard): enables, priorities, pending and
    active sets, the polling watch's count of MMIO writes, whether a preemption check is scheduled (kick)."""
    if m.hot.native and m.hot.state.fr_done:
        m.system.sync_native()
    e = m.system.exc
    return (list(e.enabled[IRQ0:IRQ0 + e.num_irq]), e.prio[IRQ0:IRQ0 + e.num_irq], set(e.pending), set(e.active),
            m.polls.writes_now(), m.system._kick_event is not None)


def test_a_pend_under_primask_is_served_in_c_and_applied_at_the_sync() -> None:
    m = machine(True)
    s = m.hot.state
    store(m, ISER, 0b110)
    m.uc.reg_write(R.UC_ARM_REG_PRIMASK, 1)
    store(m, STIR, 2)
    store(m, ISPR, 1 << 1)
    assert s.nv_pends == 2 and s.irq_pending and s.fr_done & 2
    assert IRQ0 + 2 not in m.system.exc.pending  # Python has not looked yet
    m.system.sync_native()
    assert m.system.exc.pending == {IRQ0 + 1, IRQ0 + 2} and m.polls.writes_now() == 3
    assert m.system._kick_event is None  # nothing to take under PRIMASK


def test_a_pend_that_preempts_now_arms_a_take_at_the_next_block_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thread mode, no mask: IRQ3 is taken at the next block boundary. C serves the pend and arms its take there
    (hp_nv_take) where SystemBlock.kick would schedule its event: at the write's cycle; without takes in C, Python's."""
    m = machine(True)
    s = m.hot.state
    store(m, ISER, 1 << 3)
    stop = s.stop_cycle
    store(m, STIR, 3)
    assert s.nv_pends == 1 and s.nv_take == 1 and s.stop_cycle == s.cycle_count and s.nv_take_stop == stop
    assert m.system._kick_event is None
    monkeypatch.setattr(SystemBlock, "TAKE_IN_C", False)
    m = machine(True)
    store(m, ISER, 1 << 3)
    store(m, STIR, 3)
    assert m.hot.state.nv_pends == 0 and not m.hot.state.nv_take
    assert IRQ0 + 3 in m.system.exc.pending and m.system._kick_event is not None


def test_a_lower_pend_in_a_handler_joins_the_tail_chain_list() -> None:
    """IRQ1's handler runs alone (C may return it: fr_exc); pending IRQ4 of lower priority arms the nested lists
    from it, as SystemBlock._arm_list_return would with IRQ4 pending."""
    m = machine(True)
    s = m.hot.state
    e = m.system.exc
    store(m, ISER, 0b10010)
    store(m, IPR + 1, 0x40)
    store(m, IPR + 4, 0xE0)
    assert s.nv_prios == 2
    m.guard(lambda: e.active.add(IRQ0 + 1))
    assert s.fr_exc == IRQ0 + 1 and not s.nest_on
    store(m, ISPR, 1 << 4)
    assert s.nv_pends == 1 and s.fr_exc == 0 and s.nest_on
    assert list(s.nest_exc[:s.nest_n]) == [IRQ0 + 1] and list(s.lp_exc[:s.lp_n]) == [IRQ0 + 4]
    assert s.lp_group[0] == 0xE0 and s.lp_vector[0] == (e.cfg.vtor + 4 * (IRQ0 + 4))
    m.system.sync_native()
    assert e.pending == {IRQ0 + 4} and m.system._pend_armed == (IRQ0 + 4,)
    twin = machine(False)
    store(twin, ISER, 0b10010)
    store(twin, IPR + 1, 0x40)
    store(twin, IPR + 4, 0xE0)
    twin.guard(lambda: twin.system.exc.active.add(IRQ0 + 1))
    store(twin, ISPR, 1 << 4)
    assert synced(m) == synced(twin)


def test_a_priority_of_a_pending_or_active_interrupt_is_pythons() -> None:
    m = machine(True)
    s = m.hot.state
    e = m.system.exc
    m.guard(lambda: m.system.pend_irq(5))
    store(m, IPR + 5, 0x80, size=1)
    assert s.nv_prios == 0 and e.prio[IRQ0 + 5] == 0x80  # Python's
    m.guard(lambda: e.active.add(IRQ0 + 6))
    store(m, IPR + 6, 0x40, size=1)
    assert s.nv_prios == 0 and e.prio[IRQ0 + 6] == 0x40
    store(m, IPR + 7, 0xFF, size=1)  # neither: C's, the implemented bits kept
    assert s.nv_prios == 1 and e.prio[IRQ0 + 7] == 0
    m.system.sync_native()
    assert e.prio[IRQ0 + 7] == e.prio_mask


@pytest.mark.parametrize("seed", range(4))
def test_random_pends_priorities_and_masks_equal_the_python_twin(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random ISPR/STIR/IPR/ICPR/ISER writes, PRIMASK/BASEPRI changes and handlers starting or ending, the same on
    both: the exception model and the polling watch's write count equal the twin's after every step, and C served
    a good part of the pends and priorities. (Takes need emulation: the whole runs below compare them.)"""
    monkeypatch.setattr(SystemBlock, "TAKE_IN_C", False)
    rng = random.Random(seed)
    native, twin = machine(True), machine(False)
    nirq = native.system.exc.num_irq
    for _ in range(400):
        r = rng.random()
        if r < 0.1:
            reg, value = rng.choice(((R.UC_ARM_REG_PRIMASK, rng.randrange(2)), (R.UC_ARM_REG_BASEPRI,
                                                                               rng.choice((0, 0x40, 0x80, 0xC0)))))
            for m in (native, twin):
                m.guard(lambda m=m, reg=reg, value=value: m.uc.reg_write(reg, value))  # as a mask change's stop
        elif r < 0.2:  # a handler starts or ends (as an entry or return leaves the model)
            x = IRQ0 + rng.randrange(nirq)
            for m in (native, twin):
                act = m.system.exc.active
                m.guard(lambda act=act, x=x: act.discard(x) if x in act or len(act) > 1 else act.add(x))
        elif r < 0.3:
            irq, prio = rng.randrange(nirq), rng.choice((0, 0x40, 0x80, 0xC0, 0xE0))
            for m in (native, twin):
                store(m, IPR + irq, prio, size=1)
        elif r < 0.55:
            irq = rng.randrange(nirq)
            for m in (native, twin):
                store(m, STIR, irq)
        else:
            addr = rng.choice((ISER, ISPR, ISPR, ICPR)) + 4 * rng.randrange((nirq + 31) // 32)
            value = rng.getrandbits(32) & rng.getrandbits(32) & rng.getrandbits(32)  # a few bits
            for m in (native, twin):
                store(m, addr, value)
        assert synced(native) == synced(twin)
    s = native.hot.state
    assert s.nv_pends > 10 and s.nv_prios > 0


@pytest.mark.parametrize("board", ["cortex-m4", "nrf52840", "stm32f407vg", "stm32l4r5zi"])
def test_nested_equals_the_python_twin_and_the_models_path(board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """nested's pends (under PRIMASK, BASEPRI and FAULTMASK, preempting in thread mode and in IRQ1, IRQ4's inside
    IRQ1) and priorities are served in C, and the interrupts they and the mask changes let in are taken in C; the
    report (instructions, cycles, console with the nesting log, stop, ...), exception entries and tail-chains equal
    the Python twin's and those of the runs with the takes off and with all three C paths off."""
    path = elf(board, "nested")
    runs = []
    served = []
    for native, pend, take in ((True, True, True), (False, True, True), (True, True, False), (True, False, False)):
        monkeypatch.setattr(SystemBlock, "PEND_IN_C", pend)
        monkeypatch.setattr(SystemBlock, "PRIO_IN_C", pend)
        monkeypatch.setattr(SystemBlock, "TAKE_IN_C", take)
        m = prepare(path, board, native=native)
        r = run_machine(m)
        e = m.system.exc
        # (the twin's polling statistics differ from the C path's on the nRF52840, as on main: who fast-forwarded)
        runs.append((figures(r, drop=("native_hot_path",) if native else ("native_hot_path", "polling")),
                     e.entries, e.tail_chains))
        if native:
            s = m.hot.state
            served.append((s.nv_pends, s.nv_prios, s.nv_entries))
    assert runs[0] == runs[2] == runs[3]
    del runs[0][0]["polling"]
    assert runs[0] == runs[1]
    report = runs[0][0]
    assert report["stop"]["kind"] == "exit" and "<1 <3 >3 .1 <2 >2 .1 >1 <4 >4 T0" in report["console"]
    assert served[0][0] >= 10 and served[0][1] == 4 and served[0][2] >= 5  # every pend but one or two, 4 IPRs
    assert served[1][0] == 7 and served[1][2] == 0  # takes off: the preempting pends are Python's
    assert served[2] == (0, 0, 0)


@pytest.mark.parametrize(("board", "app"), [("cortex-m4", "fpu_irq"), ("cortex-m4", "systick"),
                                            ("stm32f407vg", "faults"), ("mps2-an386", "mps2_periph"),
                                            ("mps2-an386", "bench_irq")])
def test_other_interrupt_apps_equal_the_models_path(board: str, app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps that mask and unmask interrupts or pend them from software: the same report with the C paths on and
    off, and on the Python twin."""
    path = elf(board, app)
    if not path.exists():
        pytest.skip(f"{board}/{app} is not built")
    runs = []
    for native, on in ((True, True), (True, False), (False, True)):
        for name in ("PEND_IN_C", "PRIO_IN_C", "TAKE_IN_C"):
            monkeypatch.setattr(SystemBlock, name, on)
        m = prepare(path, board, native=native)
        r = run_machine(m)
        runs.append((figures(r, drop=("native_hot_path",) if native else ("native_hot_path", "polling")),
                     m.system.exc.entries, m.system.exc.tail_chains))
    assert runs[0] == runs[1]
    runs[0][0].pop("polling", None)
    assert runs[0] == runs[2]
