"""The STM32L4 I2C's ISR held by the register file (simcore/peripherals/held.py, ``Stm32L4I2c.HOLD_ISR``): the
flag waits of the transfers the model drives (the LSM6DSL's set-up writes on the B-L475E-IOT01A's I2C2) poll in C
instead of one Python read a poll, and the run is the model's own: with the hold and without it (every ISR read the
model's), in C and in the Python twin of the register file, the same JSON (every field but wall time, the polling
figures and the cycle error bar's flash-data term) and the same model and chip state after every transfer (at each
STOPF clear the model serves)."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import run
from simcore.peripherals.stm32.i2c import Stm32L4I2c
from tests.conftest import elf
from tests.conftest import figures as _figures
from tests.integration.test_sensors_imu import CSV

BOARD = "b-l475e-iot01a"
APP = elf(BOARD, "imu_steps_bus")
SENSORS = {"imu": (CSV, {"end": "hold", "resample": True})}
CMDLINE = "imu_steps_bus.elf frames=50"
ISR, ICR = 0x18, 0x1C
OWN_READ, OWN_WRITE = Stm32L4I2c.read, Stm32L4I2c.write


def figures(r: Any) -> dict[str, Any]:
    return _figures(r, ("native_hot_path", "polling", "cycles_error_bar", "source"))


def transfers(monkeypatch: pytest.MonkeyPatch, native: bool, hold: bool) -> tuple[Any, list[Any], int]:
    """A run with the hold on or off: its result, the state at each ICR write the model serves (the cycle, ISR, CR2
    and the chip's registers and address pointer) and how many ISR reads the model served."""
    states: list[Any] = []
    isr_reads = [0]

    def read(self: Stm32L4I2c, offset: int, size: int) -> int:
        isr_reads[0] += offset == ISR
        return OWN_READ(self, offset, size)

    def write(self: Stm32L4I2c, offset: int, size: int, value: int) -> None:
        OWN_WRITE(self, offset, size, value)
        if offset == ICR:
            chip = next(iter(self.bus.targets.values()))
            states.append((self.host.hot.state.cycle_count, self.isr, self.values["CR2"], dict(chip.values),
                           chip._ptr))

    monkeypatch.setattr(Stm32L4I2c, "read", read)
    monkeypatch.setattr(Stm32L4I2c, "write", write)
    monkeypatch.setattr(Stm32L4I2c, "HOLD_ISR", hold)
    result = run(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    return result, states, isr_reads[0]


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_held_isr_gives_the_models_run(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    held, held_states, held_reads = transfers(monkeypatch, native, True)
    own, own_states, own_reads = transfers(monkeypatch, native, False)
    assert held.exit_status == 0 and "done: " in held.text and "data: fnv1a" in held.text
    assert figures(held) == figures(own)
    assert held.instructions == own.instructions and held.cycles == own.cycles
    # the set-up's 6 model-driven transfers (WHO_AM_I's read, 5 register writes) and chip_stop's, then the
    # 2 read streams' STOPF clears the register file takes (XICR): none of them the model's
    assert len(own_states) == 7 and held_states == own_states
    assert own_reads > 6 * 7  # each transfer's flag waits polled through the model before their fast-forward
    assert held_reads == 1  # the first read hands ISR to the register file


def test_the_held_value_is_the_models_isr_at_every_access(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whenever Python serves an I2C2 access with no transfer in the register file, what the register file answers
    for ISR is the model's ISR, before and after the access."""
    seen = [0]

    def check(self: Stm32L4I2c) -> None:
        held = self._isr_held
        if held.entry is None or self._stream is not None:
            return
        assert not held.py and self.host.bus.rf.value(held.store) == self.isr
        seen[0] += 1

    def read(self: Stm32L4I2c, offset: int, size: int) -> int:
        check(self)
        value = OWN_READ(self, offset, size)
        check(self)
        return value

    def write(self: Stm32L4I2c, offset: int, size: int, value: int) -> None:
        check(self)
        OWN_WRITE(self, offset, size, value)
        check(self)

    monkeypatch.setattr(Stm32L4I2c, "read", read)
    monkeypatch.setattr(Stm32L4I2c, "write", write)
    result = run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    assert result.exit_status == 0 and seen[0] > 30
