"""What each Python entry pays, made lean without changing what C resumes with (issues 12 and 16, fourteenth round).

- The nRF52 models' event-clear slots (hp_ack's ``ev_armed``) are given to C once before it resumes
  (``SystemBlock.give_clears`` from ``Machine._arm`` and a kept arming), no longer read and written at every line update
  (``NordicPeripheral._update_irq``). Whenever C resumes, each slot must be armed exactly when its event alone holds
  the line high with its writes the model's, and the run must end as with the slots given at every line update.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.machine import Machine
from simcore.peripherals.nrf52.common import NordicPeripheral
from tests.conftest import ROOT, elf, figures

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths

WALK = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
NANOS = ["arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense-rev2"]
REV1 = NANOS[0]
OWN = ("native_hot_path", "polling", "cycles_error_bar")  # the Python hot path's own figures of how it got there


def _steps(board: str, **kw: Any) -> Machine:
    """The firmware's whole run (1,000 frames)."""
    return prepare(elf(board, "imu_steps_bus"), board, sensors={"imu": (WALK, {"end": "hold", "resample": True})},
                   **kw)


def _wanted(model: NordicPeripheral) -> dict[int, int]:
    """Slot -> 1 if C may serve its event's clear now (the event alone holds the line high, its writes the model's),
    from the model's state (what _update_irq gave C at every line update before this round)."""
    sole = model._ev_set & model.values["INTEN"] if model._irq_high else 0
    return {k: int(sole == bit and i in model._held_py_writes) for bit, (i, k) in model._clr_bits.items()}


def _check_given(m: Machine, seen: dict[str, int]) -> None:
    """C's ev_armed holds what every model wants, and no model is left to give."""
    assert not m.system.clear_models
    armed = m.hot.state.ev_armed
    for model in {id(x): x for x, _i in m.system._ev_slots}.values():
        if isinstance(model, NordicPeripheral):
            for k, want in _wanted(model).items():
                assert armed[k] == want, f"resume {seen['resumes']}: slot {k} of {model.name}"
                seen["armed"] += want
    seen["resumes"] += 1


@pytest.mark.parametrize("board", NANOS)
def test_the_clear_slots_are_given_before_every_resume(board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """After every arming and every hook (a kept arming included: C resumes after each), the slots are as the models
    want them; the run ends as with the slots given at every line update (the former behaviour)."""
    seen = {"resumes": 0, "armed": 0}
    arm, guard, kept = Machine._arm, Machine.guard, Machine._guard_kept

    def checked_arm(self: Machine) -> None:
        arm(self)
        if self._hot_live:
            _check_given(self, seen)

    def checked_guard(self: Machine, fn: Any) -> Any:
        value = guard(self, fn)
        _check_given(self, seen)
        return value

    def checked_kept(self: Machine, fn: Any, may_keep: bool) -> Any:
        value = kept(self, fn, may_keep)
        _check_given(self, seen)
        return value

    monkeypatch.setattr(Machine, "_arm", checked_arm)
    monkeypatch.setattr(Machine, "guard", checked_guard)
    monkeypatch.setattr(Machine, "_guard_kept", checked_kept)
    lazy = figures(run_machine(_steps(board)))
    assert seen["resumes"] > 200 and seen["armed"] >= 5  # (Nano: 309 resumes, a slot armed at 6; Rev2: 462, 72)
    monkeypatch.undo()

    update = NordicPeripheral._update_irq

    def eager(self: NordicPeripheral) -> None:
        update(self)
        if self._clr_queued:
            self.host.system.give_clears()  # type: ignore[attr-defined]

    monkeypatch.setattr(NordicPeripheral, "_update_irq", eager)
    assert figures(run_machine(_steps(board))) == lazy
    monkeypatch.undo()
    twin = figures(run_machine(_steps(board, native=False)), OWN)  # and as the Python hot path (no slots) ends it
    assert twin == {k: v for k, v in lazy.items() if k not in OWN}


def test_a_python_side_clear_reaches_c_when_it_resumes() -> None:
    """TWIM1's STOPPED with its interrupt on: fired, the slot is given armed at the arming; the model's own clear (a
    write through Python) leaves C's slot as it was until the next arming, which disarms it; a write of INTENCLR
    through the bus (Machine.guard_access) gives it too before the hook returns."""
    m = _steps(REV1)
    t = m.peripheral("twim1")
    s = m.hot.state
    t.write(0x304, 4, 1 << 1)  # INTENSET.STOPPED
    assert t.read(0x104, 4) == 0 and 1 in t._clr_slots
    k = t._clr_slots[1]
    m._arm()
    assert s.ev_armed[k] == 0
    t.fire(1)
    m._arm()  # (what precedes every resume of C)
    assert s.ev_armed[k] == 1 and not m.system.clear_models
    t.write(0x104, 4, 0)  # the model's clear, from Python: the line falls
    assert not t._irq_high and s.ev_armed[k] == 1 and t in m.system.clear_models  # C does not run before the arming
    m._arm()
    assert s.ev_armed[k] == 0
    t.fire(1)
    m._arm()
    assert s.ev_armed[k] == 1
    m.bus.rf.write(t.base + 0x308, 4, 1 << 1)  # INTENCLR.STOPPED through the bus (Machine.guard_access)
    assert not t._irq_high and s.ev_armed[k] == 0 and not m.system.clear_models
