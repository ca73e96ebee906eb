"""The Nano 33 BLE Sense Rev2's BMI270 batch in C: the watermark's wake (hp_wfi_hook) and the FIFO drain as an nRF52
TWIM read (hp_twim_start / hp_twim_wake).

The imu_steps_bus and imu_gestures firmware on the Rev2 wait in wfi for the BMI270's INT1 (watermark, P0.11, GPIOTE
IN[0]), read FIFO_LENGTH, drain that many frames from FIFO_DATA with one TWIM read, then read INT_STATUS_1 (INT1
falls). The chip's watermark wake-up may wake that wfi in C (Bmi270._c_wake, Nrf52Gpio.rise_plan: EVENTS_IN[0] and
P0.IN's bit set, GPIOTE's line pending), settled at Python's next entry (the FIFO_LENGTH read); and the BMI270 offers
the drain after the FIFO_LENGTH read (Bmi270.read_offer; a read then plans nothing while the watermark stays latched,
Bmi270.reads_plan_nothing), so C takes the drain's TASKS_STARTTX and wakes the wfi at STOPPED, and Python runs the
model's write and events as of their cycles at its next entry (the INT_STATUS_1 read). The guest must see exactly
what it sees with either off, with no wfi hooks and with the Python hot path (``native=False``); snapshots taken
after a wake settled and inside a taken drain, restored twice, must end the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.devices.bmi270 import Bmi270
from simcore.machine import Machine
from simcore.peripherals.nrf52.serial import Nrf52Twim
from simcore.poll import PollWatch
from simcore.snapshot import Snapshot
from tests.conftest import ROOT, elf
from tests.integration.test_wfi_wake_in_c import _seen, pause_after_settled

REV2 = "arduino-nano-33-ble-sense-rev2"
WALK = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
GESTURES = str(ROOT / "models" / "trained" / "gestures_demo.csv")
FIFO_DATA, FIFO_LENGTH, INT_STATUS_1 = 0x26, 0x24, 0x1D


def _machine(app: str, frames: int, **kw: Any) -> Machine:
    sensors = {"imu": (WALK, {"end": "hold", "resample": True})} if app == "imu_steps_bus" else {
        "imu": (GESTURES, {"end": "hold"})}
    return prepare(elf(REV2, app), REV2, sensors=sensors, cmdline=f"{app}.elf frames={frames}", **kw)


def _run(app: str, frames: int, **kw: Any) -> tuple[tuple[object, ...], Machine, int]:
    """What the guest saw, the machine, and its emulation starts (run-loop stops)."""
    m = _machine(app, frames, **kw)
    starts = {"n": 0}
    emu_start = m.uc.emu_start

    def counted(*args: Any, **kwargs: Any) -> Any:
        starts["n"] += 1
        return emu_start(*args, **kwargs)

    m.uc.emu_start = counted  # type: ignore[method-assign]
    r = run_machine(m)
    return _seen(m, r), m, starts["n"]


@pytest.mark.parametrize(("app", "frames", "batch"), [("imu_steps_bus", 300, 25), ("imu_gestures", 64, 8)])
def test_rev2_batches_done_in_c_give_what_python_gives(monkeypatch: pytest.MonkeyPatch, app: str, frames: int,
                                                       batch: int) -> None:
    monkeypatch.setattr(Bmi270, "STATUS_AHEAD", False)  # (INT_STATUS_1 in C: test_bmi270_status_in_c.py)
    _run(app, frames)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    fast, m, starts = _run(app, frames)
    assert fast[5] == 0 and ("steps in" in fast[0] if app == "imu_steps_bus" else fast[0])
    s = m.hot.state
    batches = frames // batch  # one watermark, FIFO_LENGTH, drain and INT_STATUS_1 a batch
    # every drain may be taken (its frames are read 3-4 ms after the watermark, the next frame comes 10 ms after it)
    assert batches - 1 <= s.tw_taken <= batches + 1 and m.twim_reads_in_c == s.tw_taken
    assert 0 < s.tw_woken <= s.tw_taken and s.tw_slept > 0 and not s.tw_flight
    # the watermark's wake in C wherever Python's last arming saw it first (not behind a console transfer's end)
    assert batches // 3 <= m.wakes_in_c <= batches + 1 and s.wk_wakes == m.wakes_in_c and s.wk_slept > 0
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)  # every transfer through the model's Python
    off, m2, off_starts = _run(app, frames)
    assert m2.hot.state.tw_taken == 0 and m2.wakes_in_c == m.wakes_in_c and off == fast
    assert off_starts - starts >= s.tw_woken  # a run-loop stop saved per wake at least (and the STARTTX entries)
    monkeypatch.setattr(Bmi270, "_c_wake", lambda self: None)  # and every watermark's wake through on_halt
    both_off, m5, both_starts = _run(app, frames)
    assert m5.wakes_in_c == 0 and both_off == fast and both_starts - off_starts >= m.wakes_in_c
    monkeypatch.undo()
    monkeypatch.setattr(Machine, "_wfi_sites", lambda self: [])  # no hooks: no offer either
    slow, m3, _ = _run(app, frames)
    assert m3.hot.state.tw_taken == 0 and m3.wakes_in_c == 0 and not m3._tw_models and slow == fast
    monkeypatch.undo()
    twin, m4, _ = _run(app, frames, native=False)  # the Python hot path has no wfi hook and no register file in C
    assert not m4._tw_models and twin == fast


def test_only_the_drain_after_fifo_length_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """C takes a STARTTX only when TXD.PTR's byte is the offered register (FIFO_DATA, right after a FIFO_LENGTH read):
    every FIFO_LENGTH and INT_STATUS_1 read (which lowers INT1) stays Python's, as with the offer off, the drains
    Python did not run itself are those C took, and each offer is whole frames of the FIFO (Nrf52Twim's settle checks
    the chip's real read equals the bytes C wrote, and raises otherwise)."""
    start = Nrf52Twim.task_STARTTX
    settle = Nrf52Twim.settle_in_c
    monkeypatch.setattr(Nrf52Twim, "NET_START", False)  # (the settle's write through task_STARTTX, counted below)
    monkeypatch.setattr(Bmi270, "CHAINED", False)  # (INT_STATUS_1 chained in C: test_bmi270_chained_in_c.py)

    def counting(regs: list[tuple[bool, int]], settling: list[bool]) -> None:
        def task(self: Nrf52Twim) -> None:
            regs.append((bool(settling), self.host.mem_read(self.storage("TXD_PTR"), 1)[0]))  # type: ignore[attr-defined]
            start(self)

        def settled(self: Nrf52Twim, offer: Any, at: int, taken: tuple[int, int, int], stopped: int | None) -> None:
            assert offer.reg == FIFO_DATA and offer.unit == 6 and len(offer.miso) % 6 == 0
            assert 0 < taken[2] <= len(offer.miso)
            settling.append(True)
            try:
                settle(self, offer, at, taken, stopped)
            finally:
                settling.pop()

        monkeypatch.setattr(Nrf52Twim, "task_STARTTX", task)
        monkeypatch.setattr(Nrf52Twim, "settle_in_c", settled)

    on: list[tuple[bool, int]] = []
    counting(on, [])
    _fast, m, _ = _run("imu_steps_bus", 150)
    taken = m.hot.state.tw_taken
    off: list[tuple[bool, int]] = []
    counting(off, [])
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)
    _run("imu_steps_bus", 150)
    for reg in (FIFO_LENGTH, INT_STATUS_1):
        assert sum(1 for r in on if not r[0] and r[1] == reg) == sum(1 for r in off if r[1] == reg) >= 5
    assert taken >= 5 and sum(1 for r in on if r[0]) == taken
    assert sum(1 for r in on if not r[0] and r[1] == FIFO_DATA) + taken == sum(1 for r in off if r[1] == FIFO_DATA)


def _pause_in_a_drain(m: Machine) -> Machine:
    """Run ``m`` until Python settled a drain C took whose events are still to come (the run loop stopped before the
    wfi C would have woken: 2 of the 40 drains of a 1,000-frame run, the 11th and the 27th), and pause there."""
    return pause_after_settled(m, "settle_twim", 1, "a TWIM drain taken",
                               when=lambda: m.peripheral("twim1")._pending is not None)


def test_a_snapshot_inside_a_drain_taken_in_c_restored_twice_ends_as_the_plain_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the Python entry that settles a drain C took before its events: the polling watch's guarded call at P0.IN or
    # EVENTS_ERROR (since PollWatch.first_poll, a first read is recorded without it)
    monkeypatch.setattr(PollWatch, "FIRST_POLLS_UNGUARDED", False)
    plain, _, _ = _run("imu_steps_bus", 320)
    m = _pause_in_a_drain(_machine("imu_steps_bus", 320))
    twim = m.peripheral("twim1")
    taken = m.hot.state.tw_taken
    assert twim._pending is not None and taken >= 1
    snap = Snapshot.take(m)
    for _ in range(2):
        r = run_machine(m)
        assert _seen(m, r) == plain and m.hot.state.tw_taken > taken
        snap.restore(m)
        assert m.hot.state.tw_taken == taken and twim._pending is not None
    r = run_machine(m)
    assert _seen(m, r) == plain


def test_a_snapshot_after_a_watermark_wake_in_c_restored_twice_ends_as_the_plain_run() -> None:
    """Paused right after Python settled C's 3rd wake at the watermark (the FIFO_LENGTH read's entry: GPIOTE's event
    and P0.IN as C set them, the drain's offer next)."""
    plain, _, _ = _run("imu_steps_bus", 300)
    m = pause_after_settled(_machine("imu_steps_bus", 300), "settle_wake", 3, "watermark wake")
    assert m.wakes_in_c == 3
    snap = Snapshot.take(m)
    for _ in range(2):
        r = run_machine(m)
        assert _seen(m, r) == plain and m.wakes_in_c > 3
        snap.restore(m)
        assert m.hot.state.wk_wakes == 3
    r = run_machine(m)
    assert _seen(m, r) == plain
