"""The Nano 33 BLE Sense Rev2's INT_STATUS_1 read taken in C after the FIFO drain (Bmi270.read_chained,
Nrf52Twim.twim_flight's ``chain``; hotpath.c hp_twim_wake / hp_twim_start with ``tw2_*``, Machine._plan_chain_ahead,
Machine.settle_twim).

A Rev2 batch is FIFO_LENGTH's read, the FIFO_DATA drain, then INT_STATUS_1's read, which lowers INT1 (P0.11) and
makes the chip plan its next watermark. Python starts FIFO_LENGTH's read and arms the drain after it; with the chain,
the same arming also previews INT_STATUS_1 as the drain leaves the chip (its byte, INT1's fall, the next watermark's
wake-up), so C takes that read's TASKS_STARTTX once it woke the whole drain, wakes its wfi at STOPPED with P0.IN's bit
11 cleared and the next watermark planned, and a batch costs one Python entry where it cost two. The next entry
settles the drain and the read in order. The guest must see exactly what it sees with the chain off, with
INT_STATUS_1 Python's, with every transfer Python's and with the Python hot path; a wrong chained byte or a wake at a
cycle the model does not plan must stop the run; a snapshot with the chain armed, restored twice, must end the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import run_machine
from simcore.devices.bmi270 import INT_STATUS_1, Bmi270
from simcore.errors import InternalError
from simcore.machine import Machine
from simcore.peripherals.nrf52.serial import Nrf52Twim
from tests.integration.test_bmi270_in_c import _machine, _run
from tests.integration.test_wfi_wake_in_c import pause_after_settled, restored_twice_ends_as

INT1_PIN = 11  # P0.11 (the board file)


def _entries(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the Python entries of peripheral accesses (Machine.guard_access) from here on."""
    seen = {"n": 0}
    own = Machine.guard_access

    def counted(self: Machine, fn: Any) -> Any:
        seen["n"] += 1
        return own(self, fn)

    monkeypatch.setattr(Machine, "guard_access", counted)
    return seen


@pytest.mark.parametrize(("app", "frames", "batch"), [("imu_steps_bus", 300, 25), ("imu_gestures", 64, 8)])
def test_chained_status_gives_what_python_gives(monkeypatch: pytest.MonkeyPatch, app: str, frames: int,
                                                batch: int) -> None:
    _run(app, frames)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    entries = _entries(monkeypatch)
    fast, m, _ = _run(app, frames)
    chained_entries = entries["n"]
    assert fast[5] == 0 and ("steps in" in fast[0] if app == "imu_steps_bus" else fast[0])
    s = m.hot.state
    batches = frames // batch
    # most batches' INT_STATUS_1 read taken in C behind the drain (imu_gestures: its inference's entries between
    # batches leave fewer drains armed with it), each armed chain taken and settled once
    assert m.twim_chained_in_c >= (batches - 3 if app == "imu_steps_bus" else 2)
    assert m.twim_chained_in_c <= s.tw2_chained and not s.tw2_state and not s.tw2_on
    assert m.wakes_ahead_in_c >= m.twim_chained_in_c - 1
    monkeypatch.setattr(Bmi270, "CHAINED", False)  # INT_STATUS_1 a flight of Python's, as before
    entries["n"] = 0
    before, m1, _ = _run(app, frames)
    assert m1.twim_chained_in_c == 0 and m1.hot.state.tw2_chained == 0 and before == fast
    assert entries["n"] - chained_entries >= m.twim_chained_in_c  # one Python entry fewer per chained read
    monkeypatch.setattr(Bmi270, "STATUS_AHEAD", False)  # INT_STATUS_1 Python's
    ahead_off, m2, _ = _run(app, frames)
    assert m2.twim_chained_in_c == 0 and m2.wakes_ahead_in_c == 0 and ahead_off == fast
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)  # every transfer through the model's Python
    off, m3, _ = _run(app, frames)
    assert m3.hot.state.tw_taken == 0 and m3.twim_chained_in_c == 0 and off == fast
    monkeypatch.undo()
    twin, m4, _ = _run(app, frames, native=False)  # the Python hot path has no wfi hook and no register file in C
    assert not m4._tw_models and m4.twim_chained_in_c == 0 and twin == fast


def _pause_with_a_chain(m: Machine, n: int) -> Machine:
    """Run ``m`` until Python armed its ``n``-th chained INT_STATUS_1 read (Machine._plan_chain_ahead), and pause at
    the next block boundary (before C takes the drain and the read)."""
    return pause_after_settled(m, "_plan_chain_ahead", n, "INT_STATUS_1 chained",
                               lambda: bool(m.hot.state.tw2_on))


def test_the_chain_previews_int_status_int1_fall_and_the_next_watermark() -> None:
    """With the chain armed: the chained byte is INT_STATUS_1 with the latched fwm, the store C makes at its STOPPED
    is P0.IN without bit 11 (INT1 low), and the wake planned with it is GPIOTE IN[0] with P0.IN's bit set again at the
    chip's next watermark after the drain (a whole watermark of frames on); then the run ends with the chain taken."""
    m = _pause_with_a_chain(_machine("imu_steps_bus", 150), 2)
    fl = m._tw_py
    assert fl is not None and fl[0].chain is not None
    offer, (store, plan, at_fs, chip) = fl[0].chain
    s = m.hot.state
    assert isinstance(chip, Bmi270) and offer.reg == s.tw2_reg == INT_STATUS_1 and len(offer.miso) == s.tw2_len == 1
    assert offer.miso[0] & 0x02 and s.tw2_miso == offer.miso_addr and m._tw_chain is offer and s.tw2_on
    assert fl[0].then is m._tw_offer and offer.checks == fl[0].then.checks  # (the drain's set-up)
    p0 = m.peripheral("p0")
    level = p0._level & p0._connected  # type: ignore[union-attr]
    assert level >> INT1_PIN & 1 and chip.lines["INT1"].level
    assert (s.tw2_x_store, s.tw2_x_value) == store == (p0._in.store, level & ~(1 << INT1_PIN))  # type: ignore
    assert (s.wk_x_store, s.wk_x_value) == (p0._in.store, level)  # type: ignore[union-attr]
    at = m.clocks.timeline.cycle_at(at_fs)
    assert s.tw2_wk == s.wk_x_cycle == at > fl[1] and s.wk_cycle != at and m._wake_ahead is chip
    frame_fs = 10**13  # 100 Hz
    assert 24 * frame_fs <= at_fs - m.now_fs() <= 26 * frame_fs
    chained = m.twim_chained_in_c
    r = run_machine(m)
    assert r.stop.kind == "exit" and r.exit_status == 0 and m.twim_chained_in_c > chained


def test_a_wrong_chained_byte_is_caught_at_the_settle() -> None:
    """With the chained read's record Python settles from made wrong (fwm cleared; C still writes the right byte) the
    run must end with an internal error at the next entry."""
    m = _pause_with_a_chain(_machine("imu_steps_bus", 150), 2)
    fl = m._tw_py
    assert fl is not None and fl[0].chain is not None
    offer, falls = fl[0].chain
    m._tw_py = (fl[0]._replace(chain=(offer._replace(miso=bytes([offer.miso[0] ^ 0x02])), falls)), *fl[1:])
    with pytest.raises(InternalError, match="differs from the preview"):
        run_machine(m)


def test_a_chained_wake_at_another_cycle_is_caught_at_the_settle() -> None:
    """With the wake-up the chained read plans moved 1 ms later than the model's (C wakes there), the settle finds the
    chip's wake-up event at another cycle: an internal error at the next entry."""
    m = _pause_with_a_chain(_machine("imu_steps_bus", 150), 2)
    fl = m._tw_py
    assert fl is not None and fl[0].chain is not None
    offer, (store, plan, at_fs, chip) = fl[0].chain
    m._tw_py = (fl[0]._replace(chain=(offer, (store, plan, at_fs + 10**12, chip))), *fl[1:])
    with pytest.raises(InternalError, match="C woke the wfi at cycle"):
        run_machine(m)


def test_a_snapshot_with_a_chain_armed_restored_twice_ends_as_the_plain_run() -> None:
    plain, _, _ = _run("imu_steps_bus", 300)
    m = _pause_with_a_chain(_machine("imu_steps_bus", 300), 3)
    s = m.hot.state
    assert s.tw2_on and m._tw_chain is not None and m._wake_ahead is not None
    restored_twice_ends_as(m, plain, lambda: m.twim_chained_in_c,
                           lambda: bool(s.tw2_on and s.tw_py) and m._tw_chain is not None
                           and m._wake_ahead is not None)
