"""SPI transfers streamed by the register file (XFER, simcore/peripherals/stm32/spi.py) give the run the model's own
frame events give: imu_steps_bus on the STM32F4 Discovery (LIS3DSH on SPI1) with the stream in C, in the Python
twin and switched off has the same JSON (instructions, cycles, console, interrupts, the chip's and the GPIO's
figures; every field but wall time, the polling figures and the cycle error bar's flash-data term, which counts the
flash-data loads of the block executions the polling fast-forward skips), and the stream does carry the bytes: a
few Python DR reads instead of one per byte. A snapshot taken inside a stream restores to the plain run."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, result_of, run
from simcore.peripherals.stm32.spi import Stm32F4Spi
from tests.conftest import elf, pause_at_nth_stream
from tests.conftest import figures as _figures
from tests.integration.test_sensors_imu import CSV

BOARD = "stm32f4-discovery"
APP = elf(BOARD, "imu_steps_bus")
SENSORS = {"accel": (CSV, {"end": "hold"})}
CMDLINE = "imu_steps_bus.elf frames=300"


def figures(r: Any) -> dict[str, Any]:
    return _figures(r, ("native_hot_path", "polling", "cycles_error_bar"))


def test_spi_stream_equals_the_models_frame_events(monkeypatch: pytest.MonkeyPatch) -> None:
    dr_reads: list[int] = []
    own_read = Stm32F4Spi.read

    def counted(self: Stm32F4Spi, offset: int, size: int) -> int:
        dr_reads.append(offset == 0x0C)
        return own_read(self, offset, size)

    monkeypatch.setattr(Stm32F4Spi, "read", counted)
    in_c = run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    streamed_python = sum(dr_reads)
    twin = run(APP, BOARD, sensors=SENSORS, native=False, cmdline=CMDLINE)
    monkeypatch.setattr(Stm32F4Spi, "_try_stream", lambda self, mosi: None)
    dr_reads.clear()
    own = run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    assert in_c.exit_status == 0 and "done: " in in_c.text and "data: fnv1a" in in_c.text
    assert figures(in_c) == figures(own) == figures(twin)
    assert in_c.instructions == own.instructions and in_c.cycles == own.cycles
    python_dr = sum(dr_reads)  # without the stream every DR read is the model's
    assert python_dr > 7 * 300 and streamed_python * 20 < python_dr


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_a_snapshot_inside_an_spi_stream_restores_it(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    """A snapshot taken while the register file carries a transfer (a pause just after the 20th stream started):
    the run after its restore gives the counts, console and chip figures of a plain run."""
    from simcore.debug import Debugger, Pause
    from simcore.snapshot import Snapshot
    from tests.integration.test_debug import figures as run_figures

    def chip(m: Any) -> dict[str, Any]:
        return result_of(m, m.stop, 0.0).sensors  # the LIS3DSH's, the GPIO's and the EXTI's figures

    plain = run(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    m = prepare(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    d = Debugger(m)
    pause_at_nth_stream(monkeypatch, m, Stm32F4Spi, "_try_stream", 20, "inside an SPI stream")
    assert d.cont().kind == "interrupt"
    spi = m.peripheral("spi1")
    assert spi._stream is not None  # the register file carries the transfer
    assert spi._stream[5] is not None  # a script (a FIFO drain): run on until C toggled the chip select
    m.schedule(m.hot.state.cycle_count + 5000, lambda: m.request_pause(Pause("interrupt", "in the script", pc=None)),
               "test pause")
    assert d.cont().kind == "interrupt"
    assert spi._stream is not None and m.bus.rf.xfer_script_get(spi._stream[0])[0] >= 3
    snap = Snapshot.take(m)
    d.cont()
    ref = run_figures(m), chip(m)
    assert ref[0]["instructions"] == plain.instructions and ref[0]["console"] == plain.console
    for _ in range(2):
        snap.restore(m)
        d.cont()
        assert (run_figures(m), chip(m)) == ref


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_a_run_that_stops_inside_a_script_reports_what_it_carried(monkeypatch: pytest.MonkeyPatch,
                                                                  native: bool) -> None:
    """Instruction budgets that end the run inside a FIFO drain's script (the register file holds transfers and
    chip-select edges the chip and the GPIO port have not heard of yet): the run's figures (the chip's samples read,
    PE3's edges and trace, the counts) equal those of the same budget with the stream switched off."""
    budgets = range(38_000, 62_000, 4_000)
    inside = 0
    got = []
    for budget in budgets:
        m = prepare(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE, max_instructions=budget)
        stop = m.run()
        stream = m.peripheral("spi1")._stream
        inside += stream is not None and stream[5] is not None and m.bus.rf.xfer_script_get(stream[0])[0] > 0
        got.append(figures(result_of(m, stop, 0.0)))
    monkeypatch.setattr(Stm32F4Spi, "_try_stream", lambda self, mosi: None)
    for budget, fig in zip(budgets, got, strict=True):
        assert fig == figures(run(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE,
                                  max_instructions=budget)), budget
    assert inside >= 2


def test_no_script_while_an_exti_line_watches_falling_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A script applies the chip's line changes when it settles (INT1 falls below the watermark then, not at the
    transfer that read the 25th sample): with a falling-edge trigger on an EXTI line every transfer is handed over
    on its own (the single streams), and the run's figures are still those of the stream switched off."""
    own = Stm32F4Spi._try_stream
    scripts = [0, 0]

    def counted(self: Stm32F4Spi, mosi: int) -> None:
        own(self, mosi)
        if self._stream is not None:
            scripts[self._stream[5] is not None] += 1

    def with_ftsr() -> Any:
        m = prepare(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
        m.peripheral("exti").values["FTSR"] = 1 << 5  # the firmware keeps it (it sets RTSR and IMR bit 0)
        return result_of(m, m.run(), 0.0)

    monkeypatch.setattr(Stm32F4Spi, "_try_stream", counted)
    streamed = with_ftsr()
    assert scripts[0] > 300 and scripts[1] == 0
    monkeypatch.setattr(Stm32F4Spi, "_try_stream", lambda self, mosi: None)
    assert figures(streamed) == figures(with_ftsr())
    monkeypatch.setattr(Stm32F4Spi, "_try_stream", counted)
    run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    assert scripts[1] >= 10  # without the trigger: one script per FIFO drain
