"""A TWIM read Python started, woken in C at STOPPED, and the read after it taken in C (hotpath.c hp_twim_wake with
``tw_py``, hp_twim_start): the Nano 33 BLE Sense's FIFO_SRC read and FIFO drain in one Python entry a tick.

The imu_steps_bus firmware on the Rev1 reads the LSM9DS1's FIFO_SRC at each RTC1 tick, then drains that many samples.
Python serves FIFO_SRC's TASKS_STARTTX (it settles what C did since the last tick) and, the chip telling its answer
ahead (Lsm9ds1.read_ahead, Nrf52Twim.twim_flight), lets C wake the wfi after it at STOPPED with that byte in RXD.PTR,
take the drain after it (offered at once) and wake the tick's next compare; the next entry runs both transfers'
events in order (Machine.settle_twim), the chip's real reads checked equal to C's bytes. The guest must see exactly
what it sees with the flight off (the drain alone in C, as before), with every transfer Python's and with the Python
hot path; a snapshot taken with a flight armed, restored twice, must end the same.
"""

from __future__ import annotations

import pytest

from simcore.api import run_machine
from simcore.errors import InternalError
from simcore.machine import Machine
from simcore.peripherals.nrf52.serial import Nrf52Twim
from simcore.poll import PollWatch
from tests.integration.test_twim_read_in_c import _run
from tests.integration.test_wfi_wake_in_c import TICK_S, _machine, pause_after_settled, restored_twice_ends_as

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths


def test_fifo_src_woken_in_c_gives_what_python_transfers_give(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m, starts = _run(240)
    assert "steps in" in fast[0] and fast[5] == 0
    s = m.hot.state
    ticks = int(m.now_seconds() / TICK_S)
    assert ticks >= 15
    # a FIFO_SRC read a tick, woken in C unless its LASTTX comes after the next sample (the answer would be stale)
    assert ticks // 2 <= s.tw_py_woken - m.twim_flights_kept <= ticks and m.twim_wakes_in_c == s.tw_py_woken
    assert s.tw_py_slept > 0 and not s.tw_flight and not s.tw_py and m._tw_py is None
    assert s.tw_taken >= s.tw_py_woken - m.twim_flights_kept - 2  # the drain after it offered at once, taken in C
    monkeypatch.setattr(Nrf52Twim, "twim_flight", lambda self: None)  # the drain alone in C, as before
    drains, m1, drain_starts = _run(240)
    assert m1.hot.state.tw_py_woken == m1.twim_flights_kept and m1.hot.state.tw_taken > 0 and drains == fast
    assert drain_starts - starts >= s.tw_py_woken // 2  # a run-loop stop saved per tick (the FIFO_SRC wfi's)
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)  # every transfer through the model's Python
    off, m2, _ = _run(240)
    assert m2.hot.state.tw_taken == 0 and m2.hot.state.tw_py_woken == 0 and off == fast
    monkeypatch.undo()
    twin, m4, _ = _run(240, native=False)  # the Python hot path has no wfi hook and no register file in C
    assert not m4._tw_models and twin == fast


def test_a_wrong_answer_is_caught_at_the_settle() -> None:
    """The settle checks the chip's real read against the answer C wrote: with the record Python settles from made
    wrong (FIFO_SRC's byte with its lowest bit flipped; C still writes the right one) the run must end with an
    internal error at the next entry, not go on (raised inside the register file's callback it was lost before)."""
    m = _pause_in_a_flight(_machine(60), 3)
    fl = m._tw_py
    assert fl is not None
    m._tw_py = (fl[0]._replace(miso=bytes([fl[0].miso[0] ^ 1])), *fl[1:])
    with pytest.raises(InternalError, match="differs from the preview"):
        run_machine(m)


def _pause_in_a_flight(m: Machine, n: int) -> Machine:
    """Run ``m`` until Python armed its ``n``-th FIFO_SRC read for C to wake (Machine._arm_flight), and pause at the
    next block boundary (before the wfi C wakes)."""
    return pause_after_settled(m, "_arm_flight", n, "FIFO_SRC read armed")


def test_a_snapshot_with_a_flight_armed_restored_twice_ends_as_the_plain_run() -> None:
    plain, _, _ = _run(240)
    m = _pause_in_a_flight(_machine(240), 3)
    s = m.hot.state
    assert m._tw_py is not None and s.tw_flight and s.tw_py
    restored_twice_ends_as(m, plain, lambda: s.tw_py_woken, lambda: bool(s.tw_flight) and m._tw_py is not None)


def test_a_drain_c_took_stays_c_to_wake_after_a_python_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A drain C took whose wait loop enters Python before its wfi (the polling watch's call at every 16th read of
    EVENTS_ERROR, every 8th tick, with PollWatch.FIRST_POLLS_UNGUARDED off) stays C's to wake at STOPPED
    (Machine._keep_flight): the guest sees what it sees with it dropped (the events then the run loop's, as before),
    and each kept one saves that wfi's run-loop stop."""
    # the Python entry before the drain's wfi: the polling watch's guarded call at EVENTS_ERROR in the wait (since
    # PollWatch.first_poll, a first read is recorded without it)
    monkeypatch.setattr(PollWatch, "FIRST_POLLS_UNGUARDED", False)
    _run(240)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    fast, m, starts = _run(240)
    kept = m.twim_flights_kept
    assert kept >= 2 and m.twim_wakes_in_c == m.hot.state.tw_py_woken
    monkeypatch.setattr(Machine, "_keep_flight", lambda self, offer, taken: None)
    dropped, m1, dropped_starts = _run(240)
    assert m1.twim_flights_kept == 0 and dropped == fast
    assert m.hot.state.tw_py_woken - m1.hot.state.tw_py_woken == kept and dropped_starts - starts >= kept


def test_a_snapshot_with_a_kept_drain_restored_twice_ends_as_the_plain_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # the Python entry before the drain's wfi: the polling watch's guarded call at EVENTS_ERROR in the wait (since
    # PollWatch.first_poll, a first read is recorded without it)
    monkeypatch.setattr(PollWatch, "FIRST_POLLS_UNGUARDED", False)
    plain, _, _ = _run(240)
    m = _machine(240)
    m = pause_after_settled(m, "_keep_flight", 1, "drain kept", when=lambda: m._tw_py is not None)
    s = m.hot.state
    assert m._tw_py is not None and m._tw_py[0].then is None and s.tw_flight and s.tw_py
    restored_twice_ends_as(m, plain, lambda: s.tw_py_woken, lambda: bool(s.tw_flight) and m._tw_py is not None)


def test_the_net_settle_gives_what_the_replayed_events_give(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every transfer C woke is settled by its net effect (Nrf52Twim._net_to_stopped) instead of its events scheduled
    and popped: the guest and the TWIM model end as with the events replayed."""
    used = {"n": 0}
    own, own_start = Nrf52Twim._net_to_stopped, Nrf52Twim._net_start

    def counted(self: Nrf52Twim, *args: object) -> bool:
        done = own(self, *args)  # type: ignore[arg-type]
        used["n"] += done
        return done

    def counted_start(self: Nrf52Twim, *args: object) -> bool:  # (a drain C took: its write and events as one)
        done = own_start(self, *args)  # type: ignore[arg-type]
        used["n"] += done
        return done

    monkeypatch.setattr(Nrf52Twim, "_net_to_stopped", counted)
    monkeypatch.setattr(Nrf52Twim, "_net_start", counted_start)
    fast, m, _ = _run(240)
    s = m.hot.state
    assert used["n"] == s.tw_woken + s.tw_py_woken and used["n"] >= 30
    monkeypatch.setattr(Nrf52Twim, "_net_to_stopped", lambda self, *args: False)
    monkeypatch.setattr(Nrf52Twim, "NET_START", False)
    replayed, m1, _ = _run(240)
    assert replayed == fast

    def twim(m: Machine) -> tuple[object, ...]:
        t = m.peripheral("twim1")
        assert isinstance(t, Nrf52Twim)
        return t.describe(), t._ev_set, t._line_free_fs, t._irq_high, t.dma.written_bytes, t.bus.stats()

    assert twim(m1) == twim(m)
