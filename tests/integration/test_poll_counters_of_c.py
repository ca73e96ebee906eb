"""The polling watch's counters (MMIO writes it did not see, exception entries) are read from C's running totals when
it compares (PollWatch._counts), not from Python's last sync: the same at any moment whether Python
synced or not. So a register-file poll that starts a new streak is recorded without the guard (PollWatch.first_poll:
the Nanos' EVENTS_ERROR and P0.IN polls, which settled a TWIM transfer C had taken), and a run whose every poll is
preceded by a forced Python entry (a sync and a re-arming) gives the same report, polling figures included."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from simcore.api import prepare, result_of
from simcore.bus import PeripheralBus
from simcore.machine import Machine
from simcore.poll import PollWatch
from tests.conftest import elf
from tests.integration.test_sensors_imu import CSV

REV1, REV2 = "arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense-rev2"


def _run(board: str, before_poll: Callable[[Machine], None] | None = None) -> tuple[dict[str, Any], Machine]:
    """imu_steps_bus on ``board`` (its default 1,000 frames); ``before_poll`` runs at each register-file poll the
    watch is handed (bus._poll), before anything else."""
    m = prepare(elf(board, "imu_steps_bus"), board, sensors={"imu": (CSV, {"end": "hold", "resample": True})})
    t0 = time.perf_counter()
    stop = m.run()
    d = result_of(m, stop, t0).to_dict()
    assert d["stop"]["kind"] == "exit", d["stop"]
    return {k: v for k, v in d.items() if k != "wall_seconds"}, m


def _counters(m: Machine) -> tuple[int, int]:
    return m.polls._counts()  # noqa: SLF001


@pytest.mark.parametrize("board", [REV1, REV2])
def test_forced_syncs_before_each_poll_change_neither_the_counters_nor_the_report(
        board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, _ = _run(board)
    poll = PeripheralBus._poll  # noqa: SLF001
    polls = 0
    synced: list[tuple[int, int, int]] = []  # (poll, the counters before the sync, after)

    def forced(self: PeripheralBus, index: int, pc: int, value: int, count: int) -> None:
        nonlocal polls
        polls += 1
        m = self.m
        if m.hot.state.fr_done:  # something of C's for Python to bring up to date: a Python entry that does nothing
            before = _counters(m)
            m.guard(lambda: None)  # (the sync, then the re-arming)
            synced.append((polls, before, _counters(m)))
        poll(self, index, pc, value, count)

    monkeypatch.setattr(PeripheralBus, "_poll", forced)
    got, _ = _run(board)
    assert polls >= 14 and len(synced) >= 4, synced  # the TWIM transfers C took before EVENTS_ERROR polls, at least
    assert [s for s in synced if s[1] != s[2]] == []
    assert got == plain


@pytest.mark.parametrize("board", [REV1, REV2])
def test_first_polls_without_the_guard_give_the_report_of_guarded_ones(
        board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    entries: list[str] = []
    guard = Machine.guard_access

    def counted(self: Machine, fn: Callable[[], Any]) -> Any:
        entries.append("guard")
        return guard(self, fn)

    monkeypatch.setattr(Machine, "guard_access", counted)
    fast, _ = _run(board)
    fast_entries = len(entries)
    entries.clear()
    monkeypatch.setattr(PollWatch, "FIRST_POLLS_UNGUARDED", False)
    guarded, _ = _run(board)
    assert guarded == fast
    # the TWIM1.EVENTS_ERROR polls of the transfer wait (eight a run), P0.IN's on the Rev2, are first reads
    assert len(entries) - fast_entries >= 8, (len(entries), fast_entries)
