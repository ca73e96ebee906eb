"""The Nano 33 BLE Sense (Rev1) tick's settle made lean (issue 12, fourteenth round): the drain C took and woke settled
as one net effect from its TASKS_STARTTX write (Nrf52Twim._net_start: no LASTTX event scheduled and popped), the compare
move C served settled without the register write's dispatch and recount (Nrf52Rtc._moved_write: the event at the count
the move plan counted), and the FIFO_SRC read with its register's read function called directly
(Lsm9ds1.i2c_read_block).

Each must leave the guest and the models exactly as the full paths do: the whole run against the three switched off
(``NET_START``, ``MOVE_SETTLE_LEAN``, FIFO_SRC through BusDevice.i2c_read_block) and against the Python hot path; the
TWIM's and RTC's model state equal; and a snapshot taken right after a lean move settle, restored twice, ends as the
plain run.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.devices.base import BusDevice
from simcore.devices.lsm9ds1 import FIFO_SRC_ADDR, Lsm9ds1
from simcore.machine import Machine
from simcore.peripherals.nrf52.rtc import Nrf52Rtc
from simcore.peripherals.nrf52.serial import Nrf52Twim
from tests.integration.test_twim_read_in_c import _run
from tests.integration.test_wfi_wake_in_c import _machine, pause_after_settled, restored_twice_ends_as

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths


def _twim(t: Nrf52Twim) -> tuple[object, ...]:
    """The TWIM's state a settle leaves (beyond what the guest sees)."""
    return (t.describe(), t._ev_set, t._line_free_fs, t._irq_high, t._pending is None, t.offer_changes,
            t.dma.read_bytes, t.dma.written_bytes, t.bus.stats())


def _rtc(r: Nrf52Rtc) -> tuple[object, ...]:
    """The RTC's state a settle leaves, with its counter event's cycle."""
    ev = r._event[3] if r._event is not None else None
    return (r.describe(), r._ev_set, r._event_tick, tuple(r._cc_step), tuple(r._cc_last), r._irq_high,
            ev.at_cycle if ev is not None else None)


def _traced(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> tuple[tuple[object, ...], Machine, int, list[object]]:
    """_run with the TWIM's and the RTC's state recorded after every drain settle (Nrf52Twim.settle_in_c) and every
    compare move settle (Nrf52Rtc._moved_write)."""
    trace: list[object] = []
    settle_in_c, moved_write = Nrf52Twim.settle_in_c, Nrf52Rtc._moved_write

    def traced_settle(self: Nrf52Twim, *args: Any) -> None:
        settle_in_c(self, *args)
        trace.append(("twim", self.host.hot.state.cycle_count, _twim(self)))  # type: ignore[attr-defined]

    def traced_move(self: Nrf52Rtc, *args: Any) -> None:
        moved_write(self, *args)
        trace.append(("rtc", _rtc(self)))

    monkeypatch.setattr(Nrf52Twim, "settle_in_c", traced_settle)
    monkeypatch.setattr(Nrf52Rtc, "_moved_write", traced_move)
    seen, m, starts = _run(240, **kw)
    return seen, m, starts, trace


def test_the_lean_settles_give_what_the_full_paths_give(monkeypatch: pytest.MonkeyPatch) -> None:
    _run(240)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    used = {"start": 0, "move": 0, "full": 0, "src": 0}
    net_start, moved_write, rtc_write = Nrf52Twim._net_start, Nrf52Rtc._moved_write, Nrf52Rtc.write
    read_block = Lsm9ds1.i2c_read_block

    def counted_start(self: Nrf52Twim, *args: Any) -> bool:
        done = net_start(self, *args)
        used["start"] += done
        return done

    def counted_move(self: Nrf52Rtc, *args: Any) -> None:
        full = used["full"]
        moved_write(self, *args)
        used["move"] += used["full"] == full  # (lean: no write() inside)

    def counted_write(self: Nrf52Rtc, *args: Any) -> None:
        used["full"] += 1
        rtc_write(self, *args)

    def counted_read(self: Lsm9ds1, n: int) -> bytes:
        used["src"] += n == 1 and self._ptr == FIFO_SRC_ADDR and self._phase == "read"
        return read_block(self, n)

    monkeypatch.setattr(Nrf52Twim, "_net_start", counted_start)
    monkeypatch.setattr(Nrf52Rtc, "_moved_write", counted_move)
    monkeypatch.setattr(Nrf52Rtc, "write", counted_write)
    monkeypatch.setattr(Lsm9ds1, "i2c_read_block", counted_read)
    fast, m, starts, trace = _traced(monkeypatch)
    s = m.hot.state
    assert "steps in" in fast[0] and fast[5] == 0
    # every drain C took and woke (not kept after a poll entry) settled from its write; every compare move lean
    assert used["start"] >= 10 and used["start"] == s.tw_woken
    assert used["move"] >= 10 and used["move"] == m.moves_in_c
    assert used["src"] >= 10  # (the FIFO_SRC read of every tick)
    assert len(trace) >= used["start"] + used["move"]
    monkeypatch.undo()
    monkeypatch.setattr(Nrf52Twim, "NET_START", False)
    monkeypatch.setattr(Nrf52Rtc, "MOVE_SETTLE_LEAN", False)

    def generic(self: Lsm9ds1, n: int) -> bytes:
        if n == 1 and self._ptr == FIFO_SRC_ADDR:
            return BusDevice.i2c_read_block(self, n)
        return read_block(self, n)

    monkeypatch.setattr(Lsm9ds1, "i2c_read_block", generic)
    full, m1, full_starts, full_trace = _traced(monkeypatch)
    assert full == fast and full_starts == starts
    assert full_trace == trace  # the models after each settle, not only at the end
    assert m1.moves_in_c == m.moves_in_c and m1.hot.state.tw_woken == s.tw_woken
    monkeypatch.undo()
    twin, m2, _ = _run(240, native=False)  # the Python hot path: every transfer and write through the models
    assert not m2._tw_models and twin == fast


def test_a_snapshot_after_a_lean_move_settle_restored_twice_ends_as_the_plain_run() -> None:
    plain, _, _ = _run(240)
    m = pause_after_settled(_machine(240), "settle_move", 3, "move settled")
    r = m.peripheral("rtc1")
    assert isinstance(r, Nrf52Rtc) and r._event is not None and m.moves_in_c == 3
    restored_twice_ends_as(m, plain, lambda: m.hot.state.mv_done, lambda: r._event is not None)
