"""Console lines and NVIC takes in C after C's own exception entries and returns (issue 16: nrf52840 nested).

hp_uarte_start served an nRF52 UARTE's TASKS_STARTTX only while nothing but applied events, TWIM reads, event clears
and NVIC writes were owed to Python, and only from an arming with no exception pending; hp_nv_take took a pending
interrupt only while no UARTE transfer C started was owed. nested prints each line after C took, tail-chained and
returned from that phase's handlers (or right after C started the last line), so most of its lines and the takes
after them went through Python. Now C serves STARTTX after its own entries and returns, and from an arming with
exceptions pending (``on`` 3), when its view has nothing pending (hotpath.c hp_none_pending: what the run loop's
take_pending and Machine._plan_apply ask of Python's pending set, ARMv7-M B1.5.6), and takes interrupts with
transfers owed; a return keeps fr_done's bit 64 so the transfers logged before it are settled at the next sync.
The run must equal the one with STARTTX through the model and the Python hot path's.
"""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.cortexm.exceptions import IRQ0
from simcore.cortexm.system import SystemBlock
from simcore.hotpath import NEVER
from simcore.machine import Machine
from simcore.peripherals.nrf52.uarte import Nrf52Uarte
from tests.conftest import elf, figures, started, store

BOARD = "nrf52840"
ICSR = 0xE000ED04
OWN = ("native_hot_path", "polling", "cycles_error_bar")  # the Python hot path's own figures of how it got there


def _run(app: str, **kw: Any) -> tuple[dict[str, Any], Machine, list[int]]:
    """The run's JSON (no wall times), its machine, and the cycle of each TASKS_STARTTX write the model served."""
    m = prepare(elf(BOARD, app), BOARD, **kw)
    u = m.peripheral("uarte0")
    own = u.task_STARTTX
    by_model: list[int] = []

    def started() -> None:
        by_model.append(m.hot.state.cycle_count)
        own()

    u.task_STARTTX = started
    u._tasks = {i: u._bind_task(name) for i, name in u.task_names.items()}  # (bound at construction)
    return figures(run_machine(m), drop=()), m, by_model


def test_nested_prints_every_line_in_c_after_cs_own_takes_and_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """nested's five lines: each follows interrupts C took and returned (the last follows the NMI C took and returned
    with IRQ3 held pending by FAULTMASK, then IRQ3); every one is served in C and the run equals the model's path and
    the twin."""
    fast, m, by_model = _run("nested")
    assert fast["stop"]["kind"] == "exit" and m.console.count(b"\n") == 5
    assert m.uarte_starts_in_c == 5 and by_model == [] and m._ux is not None and m._ux.n == 0
    assert m.hot.state.nv_entries == 8  # every entry: the takes after a line C started are C's too, the NMI's too
    monkeypatch.setattr(Nrf52Uarte, "TX_START_IN_C", False)
    slow, m2, by_model2 = _run("nested")
    assert m2.uarte_starts_in_c == 0 and len(by_model2) == 5
    assert slow == fast and m2.console == m.console
    monkeypatch.undo()
    monkeypatch.setattr(SystemBlock, "TAKE_IN_C", False)  # the takes Python's: lines after Python's stops
    untaken, m3, _ = _run("nested")
    assert untaken == fast and m3.hot.state.nv_entries == 0
    monkeypatch.undo()
    twin, m4, _ = _run("nested", native=False)
    assert {k: v for k, v in twin.items() if k not in OWN} == {k: v for k, v in fast.items() if k not in OWN}
    assert m4.console == m.console


def _armed_hello() -> tuple[Machine, Any, Any, Any]:
    """A machine whose hello run is over, its UARTE's STARTTX armed by hand as _arm_uarte arms it; hp_ack, as the
    register file calls it."""
    m = prepare(elf(BOARD, "hello"), BOARD)
    run_machine(m)
    ux = m._ux
    assert ux is not None
    m._arm_uarte(ux)
    hp_ack = m.hot.lib.hp_ack
    hp_ack.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64]
    hp_ack.restype = ctypes.c_int
    return m, ux, m.peripheral("uarte0").tx_start_plan(), hp_ack


def test_c_serves_starttx_after_its_entries_only_with_nothing_pending() -> None:
    """With fr_done's bit 1 (C entered or left an exception since Python's sync) or ``on`` 3, STARTTX is C's only
    while no interrupt is pending in C's NVIC view and no system exception is pending (at the arming, or PendSV or
    SysTick made pending in C); with neither it is C's whatever is pending, as before."""
    m, ux, plan, hp_ack = _armed_hello()
    s, rf = m.hot.state, m.bus.rf
    assert plan is not None and ux.on == 1
    s.nv_nirq = 48  # (two NVIC words)

    def start(on: int, done: int, word: int = -1, sys_pend: int = 0, psv: int = 0, tick: int = 0) -> int:
        rf.set_value(plan.ptr_store, 0x20000100)
        rf.set_value(plan.max_store, 4)
        s.ap_cycle, s.wk_cycle, s.stop_cycle, s.ch_n, s.other_cycle = NEVER, NEVER, NEVER - 1, 0, 0
        s.stop_requested = s.py_stop = 0
        s.fr_done = done
        for k in range(2):
            s.nv_pending[k] = 1 << 3 if k == word else 0
        s.nv_sys_pend, s.psv_pending, s.tick_pend = sys_pend, psv, tick
        ux.on = on
        served = int(hp_ack(ctypes.addressof(s), plan.task_addr, 4, 1))
        ux.n = ux.len = ux.planned = 0
        s.nv_sys_pend = s.psv_pending = s.tick_pend = 0
        s.nv_pending[0] = s.nv_pending[1] = 0
        return served

    assert start(1, 0, word=1) == 1  # no entry since the arming: C's view is not asked (Python's arming had none)
    assert start(1, 1) == 1 and s.fr_done == 65  # after C's entries and returns, nothing pending
    assert start(3, 0) == 1 and start(3, 2) == 1  # pending at the arming, none left (taken, or cleared by ICPR)
    for on, done in ((1, 1), (3, 0), (3, 1)):
        assert start(on, done, word=0) == 0 and start(on, done, word=1) == 0  # an interrupt pending
        assert start(on, done, sys_pend=1) == 0 and start(on, done, psv=1) == 0 and start(on, done, tick=1) == 0
    assert start(3, 8) == 0 and start(1, 8) == 0  # other bookkeeping owed (a wake): Python's, as before
    assert start(0, 0) == 0 and start(2, 0) == 0


def test_an_arming_with_exceptions_pending_offers_starttx_once_none_is() -> None:
    """_arm_uarte arms ``on`` 3 while exceptions are pending (1 with none), and no offer from the end of a transfer
    under way (``on`` 2 would become 1 at the end in C whatever is pending)."""
    m, ux, plan, _ = _armed_hello()
    assert plan is not None and ux.on == 1
    m.system.exc.pending.add(16 + 3)
    try:
        m._arm_uarte(ux)
        assert ux.on == 3
        ux.on = 0
        m._arm_uarte(ux, after_end=True)
        assert ux.on == 0
    finally:
        m.system.exc.pending.discard(16 + 3)
    m._arm_uarte(ux, after_end=True)
    assert ux.on == 2


def test_a_pend_c_serves_in_a_handler_keeps_the_uarte_transfers_owed() -> None:
    """fr_done's bit 64 (UARTE transfers C logged, settled by Machine.settle_uarte only when it is set) survives what C
    does in a handler after it: here a PendSV pend (hp_pendsv), which like C's entries and returns marks the exception
    bookkeeping owed; it used to overwrite fr_done, and the next sync then left the transfers' bytes unsettled."""
    m = started(BOARD, "nested", native=True)
    e = m.system.exc
    m.guard(lambda: e.active.add(IRQ0 + 1))  # IRQ1's handler alone: C may return it, and serve PENDSVSET in it
    s = m.hot.state
    assert s.fr_exc == IRQ0 + 1 and s.psv_ok
    s.fr_done = 64  # a transfer logged (hp_uarte_start)
    store(m, ICSR, 1 << 28)  # PENDSVSET (B3.2.4)
    assert s.psv_sets == 1 and s.fr_done == 65
