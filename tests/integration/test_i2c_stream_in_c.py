"""I2C read transfers streamed by the register file (XFER, read-driven; simcore/peripherals/stm32/i2c.py) give the run
the model's own byte events give: imu_steps_bus on the B-L475E-IOT01A (LSM6DSL on I2C2, FIFO drains of 150 bytes)
with the stream in C, in the Python twin and switched off has the same JSON (instructions, cycles, console,
interrupts, the chip's figures; every field but wall time, the polling figures and the cycle error bar's flash-data
term, which counts the flash-data loads of the block executions a polling fast-forward skips), and the stream does
carry the bytes: a few Python RXDR reads instead of one per byte. A snapshot taken inside a stream restores to the
plain run."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, result_of, run
from simcore.peripherals.stm32.i2c import Stm32L4I2c
from tests.conftest import elf
from tests.integration.test_sensors_imu import CSV

BOARD = "b-l475e-iot01a"
APP = elf(BOARD, "imu_steps_bus")
SENSORS = {"imu": (CSV, {"end": "hold", "resample": True})}
CMDLINE = "imu_steps_bus.elf frames=200"


def figures(r: Any) -> dict[str, Any]:
    def strip(d: Any) -> Any:
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items()
                    if "wall" not in k and k not in ("native_hot_path", "polling", "cycles_error_bar")}
        return [strip(x) for x in d] if isinstance(d, list) else d
    return strip(r.to_dict())


def test_i2c_stream_equals_the_models_byte_events(monkeypatch: pytest.MonkeyPatch) -> None:
    dr_reads: list[int] = []
    own_read = Stm32L4I2c.read

    def counted(self: Stm32L4I2c, offset: int, size: int) -> int:
        dr_reads.append(offset == 0x24)  # RXDR
        return own_read(self, offset, size)

    monkeypatch.setattr(Stm32L4I2c, "read", counted)
    in_c = run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    streamed_python = sum(dr_reads)
    twin = run(APP, BOARD, sensors=SENSORS, native=False, cmdline=CMDLINE)
    monkeypatch.setattr(Stm32L4I2c, "_try_stream", lambda self: None)
    dr_reads.clear()
    own = run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    assert in_c.exit_status == 0 and "done: " in in_c.text and "data: fnv1a" in in_c.text
    assert figures(in_c) == figures(own) == figures(twin)
    assert in_c.instructions == own.instructions and in_c.cycles == own.cycles
    python_dr = sum(dr_reads)  # without the stream every RXDR read is the model's
    assert python_dr > 6 * 200 and streamed_python * 20 < python_dr


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_a_snapshot_inside_an_i2c_stream_restores_it(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    """A snapshot taken while the register file carries a transfer (a pause just after the 10th stream started):
    the run after its restore gives the counts, console and chip figures of a plain run."""
    from simcore.debug import Debugger, Pause
    from simcore.snapshot import Snapshot
    from tests.integration.test_debug import figures as run_figures

    def chip(m: Any) -> dict[str, Any]:
        return result_of(m, m.stop, 0.0).sensors  # the LSM6DSL's and the controllers' figures

    plain = run(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    m = prepare(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    d = Debugger(m)
    started = [0]
    own = Stm32L4I2c._try_stream

    def pause_at_10th(self: Stm32L4I2c) -> None:
        own(self)
        if self._stream is not None:
            started[0] += 1
            if started[0] == 10:
                m.request_pause(Pause("interrupt", "inside an I2C stream", pc=None))

    monkeypatch.setattr(Stm32L4I2c, "_try_stream", pause_at_10th)
    assert d.cont().kind == "interrupt"
    i2c = m.peripheral("i2c2")
    assert i2c._stream is not None  # the register file carries the transfer
    snap = Snapshot.take(m)
    d.cont()
    ref = run_figures(m), chip(m)
    assert ref[0]["instructions"] == plain.instructions and ref[0]["console"] == plain.console
    for _ in range(2):
        snap.restore(m)
        d.cont()
        assert (run_figures(m), chip(m)) == ref
