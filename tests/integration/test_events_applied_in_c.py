"""Machine events applied in C at their cycle (hotpath.c hp_apply; Machine._plan_apply, settle_apply).

The nRF52840's RNG makes a byte ready every 120 us (EVENTS_VALRDY) and the UARTE ends a console line's transfer
(EVENTS_TXDRDY, EVENTS_ENDTX): with their interrupts off and no shortcut or PPI route on them, all the firmware sees
of them is event registers the register file holds becoming 1 (and TASKS_STOPTX handed to the register file at the
transfer's end). C makes those changes at the block boundary where the run loop would have stopped to run the event,
and goes on; the model's bookkeeping (the RNG's next byte and its next event, TXD.AMOUNT) is done at Python's next
sync as of that cycle. The guest must see exactly what it sees when every event is the run loop's (planning off) and
with the Python hot path (``native=False``): the whole run JSON but wall times; and a pause and snapshot taken right
after an applied event settled, restored and run on, must end the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.machine import Machine
from simcore.peripherals.nrf52.uarte import Nrf52Uarte
from simcore.snapshot import Snapshot
from tests.conftest import elf, figures
from tests.integration.test_wfi_wake_in_c import pause_after_settled

BOARD = "nrf52840"


def _figures(m: Machine, r: Any) -> dict[str, Any]:
    """The run JSON without its wall times (``simcore run --json``: what counts must not change)."""
    return figures(r, drop=())


def _run(app: str, **kw: Any) -> tuple[dict[str, Any], Machine]:
    m = prepare(elf(BOARD, app), BOARD, **kw)
    r = run_machine(m)
    return _figures(m, r), m


@pytest.mark.parametrize(("app", "at_least"), [("nrf_nvmc", 11), ("svd_probe", 2), ("nested", 4)])
def test_events_applied_in_c_keep_every_figure(app: str, at_least: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m = _run(app)
    assert fast["stop"]["kind"] == "exit" and fast["exit_status"] == 0
    # nrf_nvmc: its 8 RNG bytes and 3 console lines; svd_probe: 2 lines; nested: its lines outside handlers (the ends
    # of transfers C started itself, test_uarte_start_in_c.py, are counted apart: ux_ends)
    assert m.applied_in_c + m.hot.state.ux_ends >= at_least and m.hot.state.ap_done == m.applied_in_c
    monkeypatch.setattr(Machine, "_plan_apply", lambda self, top: None)  # every event the run loop's
    monkeypatch.setattr(Nrf52Uarte, "TX_START_IN_C", False)  # (the end of a transfer C starts is applied in C)
    slow, m2 = _run(app)
    assert m2.applied_in_c == 0 and m2.hot.state.ap_done == 0
    assert slow == fast
    monkeypatch.undo()
    twin, m3 = _run(app, native=False)  # the Python hot path applies nothing in C
    assert m3.applied_in_c == 0
    # its own figures of how it got there (fast-forwards in Python, block executions) are not the native path's
    own = ("native_hot_path", "polling", "cycles_error_bar")
    assert {k: v for k, v in twin.items() if k not in own} == {k: v for k, v in fast.items() if k not in own}


def test_rng_bytes_and_their_cycles_as_the_run_loop_made_them() -> None:
    """The RNG's record after the run: the same bytes in the console, 8 of them made, its next event cancelled by
    TASKS_STOP as of the cycle the firmware stopped it (no event of it left in the queue)."""
    fast, m = _run("nrf_nvmc")
    rng = m.peripheral("rng")
    assert rng.bytes == 8 and rng._event is None
    assert "nrf_nvmc: RNG bytes d8 62 c2 e3 6b 0a 42 f7 in 61462 cycles" in fast["console"]
    assert not [ev for ev in m.events.heap if not ev.cancelled and "RNG" in ev.tag]


def _pause_after_applied(m: Machine, n: int) -> Machine:
    """Run ``m`` until Python settled its ``n``-th event applied in C, and pause there (the next block boundary)."""
    return pause_after_settled(m, "settle_apply", n, "event applied")


@pytest.mark.parametrize(("chains", "settles", "applied"), [(False, 3, 3), (True, 1, 8)])
def test_a_pause_and_snapshot_after_an_applied_event_end_as_the_plain_run(
        chains: bool, settles: int, applied: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without chains each RNG byte is settled at its own Python entry (the 3rd settle: 3 applied); with them the
    8 bytes C made ready are settled together at TASKS_STOP (the 1st settle: 8 applied; VALUE is the register file's
    from the build of the RNG's entries on, test_apply_chain_in_c.py)."""
    monkeypatch.setattr(Machine, "APPLY_CHAINS", chains)
    plain, _ = _run("nrf_nvmc")
    m = _pause_after_applied(prepare(elf(BOARD, "nrf_nvmc"), BOARD), settles)
    snap = Snapshot.take(m)
    at_pause = m.applied_in_c
    assert at_pause == applied
    assert _figures(m, run_machine(m)) == plain and m.applied_in_c > at_pause
    snap.restore(m)
    assert m.applied_in_c == at_pause
    again = _figures(m, run_machine(m))
    assert m.applied_in_c > at_pause
    assert again == plain  # polling too: the NVMC's READY schedule is made afresh after the restore (rf_timed_new)


def test_the_hook_applies_only_at_its_stop_with_nothing_else_due() -> None:
    """hp_apply through the block hook's due path, on a machine paused outside emulation: with the plan armed and the
    clock at the event it sets the planned value and moves the next stop on; with another stop asked for first
    (stop_cycle not the event's), Python's bookkeeping due (fr_done) or the clock before the event, nothing."""
    import ctypes

    from simcore.abi import AP_STORE

    m = _pause_after_applied(prepare(elf(BOARD, "nrf_nvmc"), BOARD), 1)
    rng = m.peripheral("rng")
    store = rng._held[0]  # EVENTS_VALRDY
    s = m.hot.state
    lib = m.hot.lib
    lib.hp_block_hook.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]
    pc = m.pc()

    def arm(delta: int, stop_first: bool = False, fr_done: int = 0) -> int:
        s.stop_requested = s.py_stop = s.other_cycle = 0
        s.fr_done = fr_done
        m.bus.rf.set_value(store, 0)
        at = s.cycle_count + delta
        s.ap_cycle, s.stop_cycle = at, (at - 1 if stop_first else at)
        s.ap_after, s.ap_period, s.ap_n = at + 500, 100, 1
        s.ap_kind[0], s.ap_index[0], s.ap_value[0] = AP_STORE, store, 1
        s.stop_insn = s.insn_count + 10**9
        s.ev_bus = m.bus.rf.bus
        return at

    for delta, first, done in ((0, True, 0), (0, False, 1), (5, False, 0)):
        arm(delta, first, done)
        applied = s.ap_done
        if delta:  # the clock before the event: the stop is not due, the hook counts the block
            s.stop_cycle = s.cycle_count
            s.ap_cycle = s.cycle_count + delta
        lib.hp_block_hook(m.uc._uch, pc, 2, ctypes.addressof(s))
        assert s.ap_done == applied and m.bus.rf.value(store) == 0
    at = arm(0)
    applied = s.ap_done
    lib.hp_block_hook(m.uc._uch, pc, 2, ctypes.addressof(s))
    assert s.ap_done == applied + 1 and s.ap_at == at and m.bus.rf.value(store) == 1
    assert s.stop_cycle == at + 100 and s.ap_cycle == 0xFFFFFFFFFFFFFFFF and s.fr_done & 16
    m._applied = None  # the hand-made plan has no model event to settle


def test_mem_read_serves_memories_from_their_host_buffers() -> None:
    """Machine.mem_read (a model's DMA read: the UARTE's TXD.PTR) gives what Unicorn gives, from the buffer of the
    window (RAM, flash), and goes to Unicorn beyond a window's end."""
    m = prepare(elf(BOARD, "nrf_nvmc"), BOARD)
    m.run()
    for addr, size in ((0x20000000, 64), (0x2003FFF0, 16), (0x100, 32), (0xFF000, 8), (0x20000068, 0)):
        assert m.mem_read(addr, size) == bytes(m.uc.mem_read(addr, size))
    with pytest.raises(Exception):  # noqa: B017 - past RAM's end: Unicorn's own error, as before
        m.mem_read(0x2003FFF0, 32)
