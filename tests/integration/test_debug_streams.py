"""Single steps inside a bus transfer the register file carries (an SPI script on the STM32F4 Discovery, an I2C read
stream on the B-L475E-IOT01A) leave the run's counts, console and chip figures exactly as without the debugger.

A step pauses inside a translated block and resumes its rest as a fake entry (simcore/debug.py). The rest's status
reads must see the block-entry clock of the plain run: the register file's timed status schedules (RXNE at a frame's
end) compare that clock, so a rest entered with the whole block already charged saw a frame's end up to a block
early and left a polled SR loop one iteration sooner (219,669 instead of 219,672 instructions, before the fix)."""

from __future__ import annotations

import pytest

from simcore.api import prepare, result_of, run
from simcore.debug import Debugger
from simcore.peripherals.stm32.i2c import Stm32L4I2c
from simcore.peripherals.stm32.spi import Stm32F4Spi
from tests.conftest import elf, pause_at_nth_stream
from tests.integration.test_debug import figures as run_figures
from tests.integration.test_sensors_imu import CSV

CASES = {
    "spi": ("stm32f4-discovery", {"accel": (CSV, {"end": "hold"})}, "imu_steps_bus.elf frames=300",
            Stm32F4Spi, "_try_stream", "spi1"),
    "i2c": ("b-l475e-iot01a", {"imu": (CSV, {"end": "hold", "resample": True})}, "imu_steps_bus.elf frames=200",
            Stm32L4I2c, "_try_read", "i2c2"),
}


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_single_steps_inside_a_stream_keep_the_counts(monkeypatch: pytest.MonkeyPatch, case: str,
                                                      native: bool) -> None:
    board, sensors, cmdline, model, start, periph = CASES[case]
    app = elf(board, "imu_steps_bus")
    plain = run(app, board, sensors=sensors, native=native, cmdline=cmdline)
    m = prepare(app, board, sensors=sensors, native=native, cmdline=cmdline)
    d = Debugger(m)
    pause_at_nth_stream(monkeypatch, m, model, start, 10, "inside a stream")
    assert d.cont().kind == "interrupt"
    dev = m.peripheral(periph)
    inside = 0
    for _ in range(300):  # through the polled status loops of the transfer and out of it
        inside += dev._stream is not None
        assert d.step().kind == "step"
    assert inside >= 20  # the steps did run while the register file carried the transfer
    d.cont()
    got = run_figures(m)
    assert got["instructions"] == plain.instructions and got["cycles"] == plain.cycles
    assert got["console"] == plain.console
    assert result_of(m, m.stop, 0.0).sensors == plain.sensors  # the chip's samples read, the controllers' figures
