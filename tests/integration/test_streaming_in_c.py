"""Streaming data registers answered by the register file (QUEUE, docs/peripheral-bus.md) give the run the
model's own reads give: the whole run JSON (instructions, cycles, console, interrupts, sensor summary with
its overruns and service latencies, polling figures; every field but wall time) is the same with the C
register file, with its Python twin, and with the queue switched off (every FIFO_DATA read a Python call,
as before the queue existed), and the C register file does answer most data reads."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run
from simcore.peripherals.sensors.imu import SimcoreImu
from tests.conftest import figures
from tests.integration.test_sensors_imu import APP, CSV


@pytest.mark.parametrize("sensor, cmdline", [
    ((CSV, {}), None),  # the main loop drains the FIFO after wfi
    ((CSV, {}), "imu_steps.elf irq"),  # the watermark interrupt's handler drains it
    ((CSV, {"fifo_depth": 20}), "imu_steps.elf irq"),  # shallower than the watermark: an overrun per batch
], ids=["main-loop", "handler", "overruns"])
def test_imu_fifo_in_c_equals_the_models_own_reads(monkeypatch: pytest.MonkeyPatch, sensor: Any,
                                                    cmdline: str | None) -> None:
    extra = {"cmdline": cmdline} if cmdline else {}
    python_reads = []
    own_read = SimcoreImu.read
    fifo_data = next(r.offset for r in SimcoreImu.REGISTERS if r.name == "FIFO_DATA")

    def counted(self: SimcoreImu, offset: int, size: int) -> int:
        python_reads.append(offset == fifo_data)
        return own_read(self, offset, size)

    monkeypatch.setattr(SimcoreImu, "read", counted)
    in_c = run(APP, "cortex-m4", sensors={"imu": sensor}, native=True, **extra)
    served_in_python = sum(python_reads)
    twin = run(APP, "cortex-m4", sensors={"imu": sensor}, native=False, **extra)
    monkeypatch.setattr(SimcoreImu, "_hand_over", lambda self: None)
    python_reads.clear()
    own = run(APP, "cortex-m4", sensors={"imu": sensor}, native=True, **extra)
    assert in_c.exit_status == 0 and "done: 16 steps" in in_c.text
    assert figures(in_c) == figures(own) == figures(twin)
    data_reads = sum(python_reads)  # with the queue off every FIFO_DATA read is the model's
    assert data_reads >= 5000 and served_in_python * 10 < data_reads
    if sensor[1]:
        imu = in_c.sensors["imu"]
        assert imu["overruns"] > 10 and imu["frames_lost"] >= imu["overruns"]


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_a_snapshot_in_the_middle_of_a_drain_restores_the_queue(native: bool) -> None:
    """A snapshot taken while the register file holds FIFO words (a pause inside a drain): the run after
    its restore gives the counts, console and sensor figures of a plain run."""
    from simcore.debug import Debugger
    from simcore.snapshot import Snapshot
    from tests.integration.test_debug import figures

    def sensors(m: Any) -> dict[str, Any]:
        return {k: v for k, v in m.peripheral("imu").stats().items() if k != "source"}

    plain = run(APP, "cortex-m4", sensors={"imu": CSV}, native=native)
    m = prepare(APP, "cortex-m4", sensors={"imu": CSV}, native=native)
    d = Debugger(m)
    d.add_breakpoint(m.fw.symbol("drain").addr + 0x3C)  # inside the drain loop, after a frame's reads
    for _ in range(40):  # the second batch's 15th frame
        assert d.cont().kind == "breakpoint"
    imu = m.peripheral("imu")
    assert imu._q is not None  # the queue holds the rest of the batch
    snap = Snapshot.take(m)
    d.clear()
    d.cont()
    ref = figures(m), sensors(m)
    assert ref[0]["instructions"] == plain.instructions and ref[0]["console"] == plain.console
    for _ in range(2):
        snap.restore(m)
        d.cont()
        assert (figures(m), sensors(m)) == ref
