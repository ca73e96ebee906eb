"""What the time plumbing keeps between calls is state a snapshot brings back: the timeline's current segment (its
terms, which fs_at and cycle_at read: Timeline._keep_current) and the LSM9DS1 FIFO's next arrival (SampleFifo.due,
before which a catch-up lets nothing in). A Nano 33 BLE Sense imu_steps_bus run paused after a catch-up of the chip
that kept the next arrival, snapshot, run to the end and restored twice, ends as the plain run each time, with the C
hot path and with its Python twin (``native=False``), and each restore brings the kept values back.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import run_machine
from simcore.debug import Pause
from simcore.devices.lsm9ds1 import Lsm9ds1
from simcore.machine import Machine
from tests.integration.test_wfi_wake_in_c import _machine, _seen, restored_twice_ends_as

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths

FRAMES = 48


def _chip(m: Machine) -> Lsm9ds1:
    return next(t for t in m.peripheral("twim1").bus.targets.values() if isinstance(t, Lsm9ds1))  # type: ignore[union-attr]


def _pause_between_samples(m: Machine, n: int) -> Machine:
    """Run ``m`` until the chip's ``n``-th catch-up that left its FIFO's next arrival in the future, and pause there
    (the next block boundary)."""
    chip = _chip(m)
    seen = {"n": 0}

    def counted() -> None:
        type(chip).catch_up(chip)
        if chip.fifo.due > chip.now():
            seen["n"] += 1
            if seen["n"] == n:
                m.request_pause(Pause("interrupt", f"between two samples ({n})", pc=None))

    chip.catch_up = counted  # type: ignore[method-assign]
    assert m.run().kind == "interrupt"
    del chip.catch_up
    return m


@pytest.mark.parametrize("native", [True, False])
def test_a_snapshot_between_two_samples_restored_twice_ends_as_the_plain_run(native: bool) -> None:
    m0 = _machine(FRAMES, native=native)
    plain = _seen(m0, run_machine(m0))
    m = _pause_between_samples(_machine(FRAMES, native=native), 12)
    chip, timeline = _chip(m), m.clocks.timeline

    def kept() -> tuple[Any, ...]:
        return chip.fifo.due, chip.fifo.next_k, timeline._c0, timeline._f0, timeline._num, timeline._dfs

    at_snapshot = kept()
    assert at_snapshot[0] > 0 and at_snapshot[4] > 0  # an arrival kept, the core running
    restored_twice_ends_as(m, plain, lambda: m.hot.state.cycle_count, lambda: kept() == at_snapshot)
