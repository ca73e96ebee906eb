"""The Nano 33 BLE Sense Rev2's FIFO_LENGTH read woken in C at STOPPED, the drain after it taken in C
(Bmi270.read_ahead, Nrf52Twim.twim_flight; hotpath.c hp_twim_wake with ``tw_py``, hp_twim_start).

The Rev2's imu_steps_bus and imu_gestures firmware read the BMI270's FIFO_LENGTH after INT1 (the watermark), drain
that many bytes of FIFO_DATA, then read INT_STATUS_1. Python serves FIFO_LENGTH's TASKS_STARTTX and, the chip telling
its two bytes ahead (valid until the next frame arrives) and the drain after them (the oldest frames, valid until one
would be overwritten), lets C wake the wfi after it at STOPPED and take the drain; the next entry (INT_STATUS_1's
STARTTX) runs both transfers' events in order, the chip's real reads checked equal to C's bytes. The guest must see
exactly what it sees with read_ahead off (the drain alone in C, as before), with every transfer Python's and with the
Python hot path; a wrong answer must stop the run; a snapshot taken with a flight armed, restored twice, must end the
same.
"""

from __future__ import annotations

import pytest

from simcore.api import run_machine
from simcore.devices.bmi270 import Bmi270
from simcore.errors import InternalError
from simcore.machine import Machine
from simcore.peripherals.nrf52.serial import Nrf52Twim
from tests.integration.test_bmi270_in_c import _machine, _run
from tests.integration.test_wfi_wake_in_c import pause_after_settled, restored_twice_ends_as


@pytest.mark.parametrize(("app", "frames", "batch"), [("imu_steps_bus", 300, 25), ("imu_gestures", 64, 8)])
def test_fifo_length_woken_in_c_gives_what_python_transfers_give(monkeypatch: pytest.MonkeyPatch, app: str,
                                                                 frames: int, batch: int) -> None:
    monkeypatch.setattr(Bmi270, "STATUS_AHEAD", False)  # (INT_STATUS_1's flight: test_bmi270_status_in_c.py)
    _run(app, frames)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    fast, m, starts = _run(app, frames)
    assert fast[5] == 0 and fast[0]
    s = m.hot.state
    batches = frames // batch
    # a FIFO_LENGTH read a batch, woken in C (its LASTTX comes ~3 ms before the next frame), the drain after it in C
    # (a drain a Python entry came before the wfi of stays C's to wake as a flight too: Machine._keep_flight)
    lengths = s.tw_py_woken - m.twim_flights_kept
    assert batches - 1 <= lengths <= batches + 1 and m.twim_wakes_in_c == s.tw_py_woken
    assert s.tw_py_slept > 0 and not s.tw_flight and not s.tw_py and m._tw_py is None
    assert s.tw_taken >= lengths
    monkeypatch.setattr(Bmi270, "READS_AHEAD", False)  # the drain alone in C, as before
    drains, m1, drain_starts = _run(app, frames)
    assert m1.hot.state.tw_py_woken == 0 and m1.hot.state.tw_taken >= batches - 1 and drains == fast
    assert drain_starts - starts >= s.tw_py_woken  # a run-loop stop saved per batch (the FIFO_LENGTH wfi's)
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)  # every transfer through the model's Python
    off, m2, _ = _run(app, frames)
    assert m2.hot.state.tw_taken == 0 and m2.hot.state.tw_py_woken == 0 and off == fast
    monkeypatch.undo()
    twin, m4, _ = _run(app, frames, native=False)  # the Python hot path has no wfi hook and no register file in C
    assert not m4._tw_models and twin == fast


def _pause_in_a_flight(m: Machine, n: int) -> Machine:
    """Run ``m`` until Python armed its ``n``-th FIFO_LENGTH read for C to wake (Machine._arm_flight), and pause at the
    next block boundary (before the wfi C wakes)."""
    return pause_after_settled(m, "_arm_flight", n, "FIFO_LENGTH read armed")


def test_a_wrong_fifo_length_is_caught_at_the_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the record Python settles from made wrong (FIFO_LENGTH_0's byte with its lowest bit flipped; C still
    writes the right one) the run must end with an internal error at the next entry."""
    monkeypatch.setattr(Bmi270, "STATUS_AHEAD", False)  # (every flight armed a FIFO_LENGTH read's)
    m = _pause_in_a_flight(_machine("imu_steps_bus", 150), 2)
    fl = m._tw_py
    assert fl is not None and len(fl[0].miso) == 2 and fl[0].then is not None
    m._tw_py = (fl[0]._replace(miso=bytes([fl[0].miso[0] ^ 1, fl[0].miso[1]])), *fl[1:])
    with pytest.raises(InternalError, match="differs from the preview"):
        run_machine(m)


def test_a_snapshot_with_a_fifo_length_flight_armed_restored_twice_ends_as_the_plain_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Bmi270, "STATUS_AHEAD", False)  # (every flight armed a FIFO_LENGTH read's)
    plain, _, _ = _run("imu_steps_bus", 300)
    m = _pause_in_a_flight(_machine("imu_steps_bus", 300), 3)
    s = m.hot.state
    assert m._tw_py is not None and s.tw_flight and s.tw_py
    restored_twice_ends_as(m, plain, lambda: s.tw_py_woken, lambda: bool(s.tw_flight) and m._tw_py is not None)
