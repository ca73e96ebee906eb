"""The Nano 33 BLE Sense Rev2's INT_STATUS_1 read woken in C at STOPPED with INT1's fall, and the next watermark's
wake planned ahead of its event (Bmi270.read_ahead / read_falls, Nrf52Gpio.fall_rise_plan, Nrf52Twim.twim_flight's
``falls``; hotpath.c hp_twim_wake's ``tw_x`` store, Machine._plan_wake_ahead).

The Rev2's imu_steps_bus and imu_gestures firmware end each batch with a read of INT_STATUS_1, which clears the
watermark flag: INT1 (P0.11) falls, and the chip plans its wake-up at the next watermark. Python serves that read's
TASKS_STARTTX; the chip tells the byte ahead (valid until the next frame) and what the read lowers, so C wakes the
wfi at STOPPED with P0.IN's bit 11 cleared, and wakes the firmware's wait for INT1 at the next watermark (GPIOTE
IN[0], P0.IN's bit set) before any Python entry has run the read. The next entry runs the read, then the wake-up it
planned, each as of its cycle. The guest must see exactly what it sees with the feature off, with every transfer
Python's and with the Python hot path; a wrong byte or a wake at a cycle the model does not plan must stop the run; a
snapshot taken inside such a flight, restored twice, must end the same.
"""

from __future__ import annotations

import pytest

from simcore.api import run_machine
from simcore.devices.bmi270 import INT_STATUS_1, Bmi270
from simcore.errors import InternalError
from simcore.machine import Machine
from simcore.peripherals.nrf52.serial import Nrf52Twim
from tests.integration.test_bmi270_in_c import _machine, _run
from tests.integration.test_wfi_wake_in_c import pause_after_settled, restored_twice_ends_as

INT1_PIN = 11  # P0.11 (the board file)


@pytest.fixture(autouse=True)
def _no_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """INT_STATUS_1 as a flight of Python's: not chained behind the drain (that is test_bmi270_chained_in_c.py's)."""
    monkeypatch.setattr(Bmi270, "CHAINED", False)


@pytest.mark.parametrize(("app", "frames", "batch"), [("imu_steps_bus", 300, 25), ("imu_gestures", 64, 8)])
def test_int_status_woken_in_c_gives_what_python_gives(monkeypatch: pytest.MonkeyPatch, app: str, frames: int,
                                                       batch: int) -> None:
    _run(app, frames)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    fast, m, starts = _run(app, frames)
    assert fast[5] == 0 and ("steps in" in fast[0] if app == "imu_steps_bus" else fast[0])
    s = m.hot.state
    batches = frames // batch
    # every batch's INT_STATUS_1 read woken at STOPPED (as its FIFO_LENGTH read is), the watermark after it woken in C
    # ahead of its event in all but the first batches (and the last: the run ends)
    assert s.tw_py_woken >= 2 * (batches - 1) and m.twim_wakes_in_c == s.tw_py_woken
    assert batches - 3 <= m.wakes_ahead_in_c <= batches and m.wakes_in_c >= m.wakes_ahead_in_c
    assert not s.tw_x_on and s.wk_wakes == m.wakes_in_c
    monkeypatch.setattr(Bmi270, "STATUS_AHEAD", False)  # INT_STATUS_1 Python's, as before
    before, m1, before_starts = _run(app, frames)
    assert m1.wakes_ahead_in_c == 0 and m1.hot.state.tw_py_woken <= batches + 1 and before == fast
    # a run-loop stop saved per batch at least (INT_STATUS_1's wfi; and the watermark's after a console line)
    assert before_starts - starts >= m.wakes_ahead_in_c
    assert m.uarte_starts_in_c >= m1.uarte_starts_in_c  # (a console line between the two is C's now)
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)  # every transfer through the model's Python
    off, m2, _ = _run(app, frames)
    assert m2.hot.state.tw_py_woken == 0 and m2.wakes_ahead_in_c == 0 and off == fast
    monkeypatch.undo()
    monkeypatch.setattr(Bmi270, "CHAINED", False)
    twin, m4, _ = _run(app, frames, native=False)  # the Python hot path has no wfi hook and no register file in C
    assert not m4._tw_models and m4.wakes_ahead_in_c == 0 and twin == fast


def _pause_in_a_status_flight(m: Machine, n: int) -> Machine:
    """Run ``m`` until Python armed its ``n``-th INT_STATUS_1 read for C to wake (Machine._arm_flight with ``falls``),
    and pause at the next block boundary (before the wfi C wakes)."""
    return pause_after_settled(m, "_arm_flight", n, "INT_STATUS_1 read armed",
                               lambda: m._tw_py is not None and m._tw_py[0].falls is not None)


def test_the_flight_stores_int1_fall_and_plans_the_next_watermark() -> None:
    """Inside an INT_STATUS_1 flight: the byte C writes is the latched fwm the firmware waited for, the store C makes
    at STOPPED is P0.IN without bit 11 (INT1 low), and the wake planned after it is GPIOTE IN[0] with P0.IN's bit set
    again at the cycle of the chip's next watermark (the FIFO was just drained: a whole watermark of frames on)."""
    m = _pause_in_a_status_flight(_machine("imu_steps_bus", 150), 2)
    fl = m._tw_py
    assert fl is not None
    flight = fl[0]
    chip = flight.falls[3]
    s = m.hot.state
    assert isinstance(chip, Bmi270) and chip._ptr == INT_STATUS_1 and len(flight.miso) == 1 and flight.miso[0] & 0x02
    p0 = m.peripheral("p0")
    level = p0._level & p0._connected  # type: ignore[union-attr]
    assert level >> INT1_PIN & 1 and chip.lines["INT1"].level
    assert s.tw_x_on and (s.tw_x_store, s.tw_x_value) == flight.falls[0] == (p0._in.store,  # type: ignore[union-attr]
                                                                              level & ~(1 << INT1_PIN))
    assert (s.wk_x_store, s.wk_x_value) == (p0._in.store, level)  # type: ignore[union-attr]
    at = m.clocks.timeline.cycle_at(flight.falls[2])
    assert s.wk_cycle == s.wk_x_cycle == at > s.tw_stopped and m._wake_ahead is chip and m._wake_event is None
    frame_fs = 10**13  # 100 Hz
    assert 24 * frame_fs <= flight.falls[2] - m.now_fs() <= 26 * frame_fs
    woken = s.tw_py_woken
    r = run_machine(m)
    assert r.stop.kind == "exit" and r.exit_status == 0 and s.tw_py_woken > woken and m.wakes_ahead_in_c > 0


def test_a_wrong_status_byte_is_caught_at_the_settle() -> None:
    """With the record Python settles from made wrong (INT_STATUS_1's byte with fwm cleared; C still writes the
    right one) the run must end with an internal error at the next entry."""
    m = _pause_in_a_status_flight(_machine("imu_steps_bus", 150), 2)
    fl = m._tw_py
    assert fl is not None and len(fl[0].miso) == 1 and fl[0].falls is not None
    m._tw_py = (fl[0]._replace(miso=bytes([fl[0].miso[0] ^ 0x02])), *fl[1:])
    with pytest.raises(InternalError, match="differs from the preview"):
        run_machine(m)


def test_a_wake_ahead_at_another_cycle_is_caught_at_the_settle() -> None:
    """With the wake-up planned ahead moved 1 ms later than the model's (C wakes there), the settle finds the chip's
    wake-up event at another cycle: an internal error at the next entry."""
    m = _pause_in_a_status_flight(_machine("imu_steps_bus", 150), 2)
    fl = m._tw_py
    assert fl is not None and fl[0].falls is not None
    store, plan, at_fs, chip = fl[0].falls
    m._tw_py = (fl[0]._replace(falls=(store, plan, at_fs + 10**12, chip)), *fl[1:])
    with pytest.raises(InternalError, match="C woke the wfi at cycle"):
        run_machine(m)


def test_a_snapshot_inside_a_status_flight_restored_twice_ends_as_the_plain_run() -> None:
    plain, _, _ = _run("imu_steps_bus", 300)
    m = _pause_in_a_status_flight(_machine("imu_steps_bus", 300), 3)
    s = m.hot.state
    assert m._tw_py is not None and s.tw_flight and s.tw_py and s.tw_x_on and m._wake_ahead is not None
    restored_twice_ends_as(m, plain, lambda: s.tw_py_woken,
                           lambda: bool(s.tw_flight and s.tw_x_on) and m._tw_py is not None
                           and m._wake_ahead is not None)
