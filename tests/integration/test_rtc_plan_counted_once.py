"""The Nano 33 BLE Sense (Rev1) RTC1 tick's planning counted once (issue 12, fourteenth round): Nrf52Rtc._counts finds
the one COMPARE of the counter's event and the distance to its nearest other target in one pass, and the compare
move plan takes its distance from it (min(step, that)) instead of a second _next_distance and fs recount.

It must plan exactly what the recount plans: every wake and move plan handed to C, and the RTC's state after every
tick, equal with ``PLAN_CACHED`` off; the guest's view equal, native and on the Python hot path; and a snapshot taken
right after a move settle, restored twice, ends as the recounting run.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.machine import Machine
from simcore.peripherals.nrf52.rtc import Nrf52Rtc
from tests.integration.test_tick_settle_lean import _rtc
from tests.integration.test_twim_read_in_c import _run
from tests.integration.test_wfi_wake_in_c import _machine, pause_after_settled, restored_twice_ends_as

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths


def _traced(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> tuple[tuple[object, ...], Machine, int, list[object]]:
    """_run with every wake and move plan the RTC gives (the move's settle by its arguments) and its state after every
    tick recorded."""
    trace: list[object] = []
    wake_plan, move_plan, on_tick = Nrf52Rtc._wake_plan, Nrf52Rtc._move_plan, Nrf52Rtc._on_tick

    def traced_wake(self: Nrf52Rtc) -> Any:
        got = wake_plan(self)
        trace.append(("wake", got))
        return got

    def traced_move(self: Nrf52Rtc) -> Any:
        got = move_plan(self)
        trace.append(("move", got[:4] + (got[4].args[:3],) if got is not None else None))
        return got

    def traced_tick(self: Nrf52Rtc) -> None:
        on_tick(self)
        trace.append(("tick", _rtc(self)))

    monkeypatch.setattr(Nrf52Rtc, "_wake_plan", traced_wake)
    monkeypatch.setattr(Nrf52Rtc, "_move_plan", traced_move)
    monkeypatch.setattr(Nrf52Rtc, "_on_tick", traced_tick)
    seen, m, starts = _run(240, **kw)
    monkeypatch.undo()
    return seen, m, starts, trace


def test_the_plans_counted_once_are_the_recounted_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    _run(240)  # (the block cache filled first)
    counted, m, starts, trace = _traced(monkeypatch)
    assert "steps in" in counted[0] and counted[5] == 0
    moves = [got for kind, got in trace if kind == "move" and got is not None]
    assert len(moves) >= 10 and m.moves_in_c >= 10
    assert sum(kind == "wake" and got is not None for kind, got in trace) >= 10
    monkeypatch.setattr(Nrf52Rtc, "PLAN_CACHED", False)
    recounted, m1, starts1, trace1 = _traced(monkeypatch)
    assert recounted == counted and starts1 == starts and trace1 == trace and m1.moves_in_c == m.moves_in_c
    monkeypatch.setattr(Nrf52Rtc, "PLAN_CACHED", False)
    twin_off, _, _ = _run(240, native=False)
    monkeypatch.undo()
    twin, m2, _ = _run(240, native=False)  # the Python hot path: every write through the models
    assert not m2._tw_models and twin == counted == twin_off


def test_a_snapshot_after_a_move_settle_restored_twice_ends_as_the_recounting_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Nrf52Rtc, "PLAN_CACHED", False)
    plain, _, _ = _run(240)
    monkeypatch.undo()
    m = pause_after_settled(_machine(240), "settle_move", 3, "move settled")
    r = m.peripheral("rtc1")
    assert isinstance(r, Nrf52Rtc) and r._event is not None and m.moves_in_c == 3
    restored_twice_ends_as(m, plain, lambda: m.hot.state.mv_done, lambda: r._event is not None)
