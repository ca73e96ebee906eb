"""The BMI270 model's per-call caches (Bmi270.CACHED): a second catch-up at the same virtual time (``_caught_at``),
the frame size by FIFO_CONFIG_1, the INT1/INT2 levels by their four registers, and a FIFO drain's samples when the
sensors run at the FIFO's rate (``_run_samples``). Each must give what the computation it replaces gives: the Rev2's
imu_steps_bus and imu_gestures runs end the same with them off, with the Python hot path, and from a snapshot taken
with a catch-up's time kept, restored twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import run_machine
from simcore.devices.bmi270 import Bmi270
from simcore.machine import Machine
from simcore.snapshot import Snapshot
from tests.integration.test_bmi270_in_c import _machine
from tests.integration.test_wfi_wake_in_c import _seen, pause_after_settled

_LEVELS, _FRAMES_BYTES = Bmi270._levels, Bmi270._frames_bytes  # (the model's own, wrapped afresh by each run)


def _counted_run(monkeypatch: pytest.MonkeyPatch, app: str, frames: int, **kw: Any) -> tuple[tuple[object, ...],
                                                                                              dict[str, int]]:
    """What the guest saw, and how often the model computed INT1/INT2's levels and a drain's arrival times."""
    calls = {"levels": 0, "latest_at": 0}
    levels, frames_bytes = _LEVELS, _FRAMES_BYTES

    def counted_levels(self: Bmi270) -> dict[str, bool]:
        calls["levels"] += 1
        return levels(self)

    def counted_frames(self: Bmi270, es: list[int], run: bool = False) -> bytes:
        calls["latest_at"] += sum(1 for w in self._frame_sets() if self._run_samples(
            self.latches[w].stream, self.fifo.clock, es) is None or not run or not self.CACHED)
        return frames_bytes(self, es, run)

    monkeypatch.setattr(Bmi270, "_levels", counted_levels)
    monkeypatch.setattr(Bmi270, "_frames_bytes", counted_frames)
    m = _machine(app, frames, **kw)
    r = run_machine(m)
    return _seen(m, r), calls


@pytest.mark.parametrize(("app", "frames"), [("imu_steps_bus", 300), ("imu_gestures", 64)])
def test_the_bmi270_caches_give_what_the_computation_gives(monkeypatch: pytest.MonkeyPatch, app: str,
                                                           frames: int) -> None:
    cached, on = _counted_run(monkeypatch, app, frames)
    assert cached[5] == 0 and cached[0]
    monkeypatch.setattr(Bmi270, "CACHED", False)
    plain, off = _counted_run(monkeypatch, app, frames)
    assert plain == cached
    assert off["levels"] >= 2 * on["levels"] > 0  # the levels' cache answers most updates
    assert off["latest_at"] > 0 and on["latest_at"] == 0  # every drain's samples are the FIFO's own
    monkeypatch.setattr(Bmi270, "CACHED", True)
    twin, _ = _counted_run(monkeypatch, app, frames, native=False)
    assert twin == cached


def test_a_snapshot_with_a_catch_up_kept_restored_twice_ends_as_the_plain_run() -> None:
    """Paused right after Python settled C's 3rd watermark wake (the FIFO_LENGTH read's entry: the chip caught up at
    that time, the drain's read next at the same time)."""
    m0 = _machine("imu_steps_bus", 300)
    plain = _seen(m0, run_machine(m0))
    m: Machine = pause_after_settled(_machine("imu_steps_bus", 300), "settle_wake", 3, "watermark wake")
    chip = m.peripheral("twim1").bus.targets[0x68]  # type: ignore[union-attr]
    assert isinstance(chip, Bmi270) and chip._caught_at is not None and chip._size_key != -1
    kept = (chip._caught_at, chip._size, dict(chip._levels_of))
    snap = Snapshot.take(m)
    for _ in range(2):
        r = run_machine(m)
        assert _seen(m, r) == plain and chip._caught_at != kept[0]
        snap.restore(m)
        assert (chip._caught_at, chip._size, chip._levels_of) == kept
    assert _seen(m, run_machine(m)) == plain
