"""nRF52840 NVMC READY read from the register file while the NVMC is busy (a TIMED schedule ending at the busy
time's event): nrf_nvmc's erase and write waits are read and fast-forwarded in C, and the run equals the run whose
READY reads all go to the model (instructions, cycles, console, stop), on the C register file and on its twin."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.machine import Machine
from simcore.peripherals.nrf52.nvmc import Nrf52Nvmc
from tests.conftest import elf, figures


def _run(native: bool) -> tuple[tuple[object, ...], Any, dict[str, Any]]:
    m = prepare(elf("nrf52840", "nrf_nvmc"), "nrf52840", native=native)
    r = run_machine(m)
    return (r.instructions, r.cycles, r.text, r.stop.kind, r.exit_status), m, m.polls.stats.to_dict()


@pytest.mark.parametrize("native", [True, False])
def test_ready_waits_from_the_schedule_equal_the_models_answers(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    scheduled, m, stats = _run(native)
    nvmc = m.peripheral("nvmc")
    assert nvmc._ready_t is not None  # the register file held READY's schedule
    assert m.bus.rf.timed_get(nvmc._ready_t)[3] == 0  # not busy at the end: every read is the model's
    monkeypatch.setattr(Nrf52Nvmc, "_ready_in_c", lambda self, busy_until: None)
    model, _m, model_stats = _run(native)
    assert scheduled == model
    assert scheduled[4] == 0 and "erase" in scheduled[2].lower()
    if native:  # the three waits on READY were fast-forwarded in C, not from Python's reads
        assert stats["fast_forwards_in_c"] >= model_stats["fast_forwards_in_c"] + 3


def test_the_busy_ends_are_applied_in_c_without_a_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The end of each busy time (Nrf52Nvmc._ready_plan: nothing in the register file, READY's schedule ends there)
    applied in C at its cycle: nrf_nvmc's erase and two word writes no longer stop the run loop; the run equals the
    one with those stops, polling figures included."""
    stops = [0]
    own = Machine.run_due_events

    def counted(self: Machine) -> Any:
        stops[0] += 1
        return own(self)

    monkeypatch.setattr(Machine, "run_due_events", counted)
    m = prepare(elf("nrf52840", "nrf_nvmc"), "nrf52840")
    fast = figures(run_machine(m), drop=())
    fast_stops, applied = stops[0], m.applied_in_c
    monkeypatch.setattr(Nrf52Nvmc, "READY_END_IN_C", False)
    stops[0] = 0
    m2 = prepare(elf("nrf52840", "nrf_nvmc"), "nrf52840")
    slow = figures(run_machine(m2), drop=())
    assert slow == fast
    assert stops[0] - fast_stops == 3 and applied - m2.applied_in_c == 3
