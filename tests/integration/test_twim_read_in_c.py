"""An nRF52 TWIM register read done in C (hotpath.c hp_twim_start / hp_twim_wake): the Nano 33 BLE Sense's FIFO drain.

The imu_steps_bus firmware on the Rev1 reads the LSM9DS1's FIFO_SRC, then drains that many samples from OUT_X_L_XL
with one TWIM read (TXD the register byte, LASTTX_STARTRX | LASTRX_STOP, a wfi until STOPPED). The LSM9DS1 offers
that drain (Lsm9ds1.read_offer, Nrf52Twim.twim_offer): C takes the firmware's TASKS_STARTTX write, wakes the wfi at
STOPPED with the bytes in RXD.PTR, and Python runs the model's write and events as of their cycles at its next entry
(Machine.settle_twim). The guest must see exactly what it sees with the offer off (every transfer Python's), with no
wfi hooks and with the Python hot path (``native=False``); a snapshot taken with a taken transfer's events still
to come, restored twice, must end the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import run_machine
from simcore.machine import Machine
from simcore.peripherals.nrf52.serial import Nrf52Twim
from simcore.poll import PollWatch
from simcore.snapshot import Snapshot
from tests.integration.test_wfi_wake_in_c import TICK_S, _machine, _seen, pause_after_settled

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths


def _run(frames: int, **kw: Any) -> tuple[tuple[object, ...], Machine, int]:
    """What the guest saw, the machine, and its emulation starts (run-loop stops)."""
    m = _machine(frames, **kw)
    starts = {"n": 0}
    emu_start = m.uc.emu_start

    def counted(*args: Any, **kwargs: Any) -> Any:
        starts["n"] += 1
        return emu_start(*args, **kwargs)

    m.uc.emu_start = counted  # type: ignore[method-assign]
    r = run_machine(m)
    return _seen(m, r), m, starts["n"]


def test_fifo_drains_done_in_c_give_what_python_transfers_give(monkeypatch: pytest.MonkeyPatch) -> None:
    _run(240)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    fast, m, starts = _run(240)
    assert "steps in" in fast[0] and fast[5] == 0
    s = m.hot.state
    ticks = int(m.now_seconds() / TICK_S)  # one drain a tick (FIFO_SRC, then the drain C may take)
    assert ticks >= 15
    # every drain but one whose sample arrives before its LASTTX (the preview would be stale) may be taken: most were
    assert ticks // 2 <= s.tw_taken <= ticks and m.twim_reads_in_c == s.tw_taken and 0 < s.tw_woken <= s.tw_taken
    assert s.tw_slept > 0 and not s.tw_flight
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)  # every transfer through the model's Python
    off, m2, off_starts = _run(240)
    assert m2.hot.state.tw_taken == 0 and off == fast
    assert off_starts - starts >= s.tw_woken  # a run-loop stop saved per wake at least (and the STARTTX entries)
    monkeypatch.undo()
    monkeypatch.setattr(Machine, "_wfi_sites", lambda self: [])  # no hooks: no offer either
    slow, m3, _ = _run(240)
    assert m3.hot.state.tw_taken == 0 and not m3._tw_models and slow == fast
    monkeypatch.undo()
    twin, m4, _ = _run(240, native=False)  # the Python hot path has no wfi hook and no register file in C
    assert not m4._tw_models and twin == fast


def test_only_the_offered_register_is_taken_and_the_preview_is_the_chips_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """C takes a STARTTX only when TXD.PTR's byte is the offered register (the drain from OUT_X_L_XL, 0x28): every
    FIFO_SRC read (0x2F) stays Python's, as with the offer off, and the drains Python did not run itself are those
    C took; the chip's real read at the settle is the previewed bytes C wrote (Nrf52Twim's check raises otherwise)."""
    start = Nrf52Twim.task_STARTTX
    settle = Nrf52Twim.settle_in_c
    monkeypatch.setattr(Nrf52Twim, "NET_START", False)  # (the settle's write through task_STARTTX, counted below)

    def counting(regs: list[tuple[bool, int]], settling: list[bool]) -> None:
        def task(self: Nrf52Twim) -> None:
            regs.append((bool(settling), self.host.mem_read(self.storage("TXD_PTR"), 1)[0]))  # type: ignore[attr-defined]
            start(self)

        def settled(self: Nrf52Twim, offer: Any, at: int, taken: tuple[int, int, int], stopped: int | None) -> None:
            assert len(offer.miso) % 6 == 0 and taken[2] <= len(offer.miso) and offer.reg == 0x28
            settling.append(True)
            try:
                settle(self, offer, at, taken, stopped)
            finally:
                settling.pop()

        monkeypatch.setattr(Nrf52Twim, "task_STARTTX", task)
        monkeypatch.setattr(Nrf52Twim, "settle_in_c", settled)

    on: list[tuple[bool, int]] = []
    counting(on, [])
    _fast, m, _ = _run(120)
    taken = m.hot.state.tw_taken
    off: list[tuple[bool, int]] = []
    counting(off, [])
    monkeypatch.setattr(Nrf52Twim, "READS_IN_C", False)
    _run(120)
    python_src = [r for r in on if not r[0] and r[1] == 0x2F]
    assert taken and len(python_src) == sum(1 for r in off if r[1] == 0x2F) > 0
    assert sum(1 for r in on if r[0]) == taken  # (the settle's own write, with TXD.PTR's byte as C found it)
    assert sum(1 for r in on if not r[0] and r[1] == 0x28) + taken == sum(1 for r in off if r[1] == 0x28)


def _pause_in_a_transfer(m: Machine) -> Machine:
    """Run ``m`` until Python settled a transfer C took whose events are still to come (the wfi after it was not
    woken in C), and pause there."""
    return pause_after_settled(m, "settle_twim", 1, "a TWIM transfer taken",
                               when=lambda: m.peripheral("twim1")._pending is not None)


def test_a_snapshot_inside_a_transfer_taken_in_c_restored_twice_ends_as_the_plain_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the Python entry that settles a transfer C took before its events: the polling watch's guarded call at
    # EVENTS_ERROR in the wait (since PollWatch.first_poll, a first read is recorded without it)
    monkeypatch.setattr(PollWatch, "FIRST_POLLS_UNGUARDED", False)
    plain, _, _ = _run(240)
    m = _pause_in_a_transfer(_machine(240))
    twim = m.peripheral("twim1")
    assert twim._pending is not None and m.hot.state.tw_taken >= 1
    snap = Snapshot.take(m)
    taken = m.hot.state.tw_taken
    for _ in range(2):
        r = run_machine(m)
        assert _seen(m, r) == plain and m.hot.state.tw_taken > taken
        snap.restore(m)
        assert m.hot.state.tw_taken == taken and twim._pending is not None
    r = run_machine(m)
    assert _seen(m, r) == plain
