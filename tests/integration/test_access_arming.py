"""A peripheral model's register access re-arms the hot path only when it can change the arming
(Machine.guard_access): runs of apps whose drivers poll, print, take interrupts and DMA give exactly the
figures of runs that re-arm after every access (Machine.guard), on the STM32 and nRF52 models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import simcore.api as sc
from simcore import machine
from tests.conftest import elf

# (part, app, command line): polled console, timer interrupts, UART by polling/interrupt/DMA, EXTI,
# ADC on a timer trigger with DMA, the nRF52 clock, UARTE and GPIOTE, the polling fast-forward
CASES = [
    ("stm32f407vg", "hal_bench", "hal_bench.elf hal 40"),
    ("stm32f407vg", "tim_irq", "tim_irq.elf"),
    ("paced", "uart_print", "uart_print.elf"),  # the console UART paced: TXE/TC, interrupts and DMA on frames
    ("stm32f407vg", "adc_dma", "adc_dma.elf"),
    ("stm32f407vg", "poll_wait", "poll_wait.elf hal"),
    ("nrf52840", "nrf_uarte", "nrf_uarte.elf"),
    ("nrf52840", "nrf_clock", "nrf_clock.elf"),
    ("nrf52840", "poll_wait", "poll_wait.elf timer 3"),
]


PACED = 'extends = "stm32f407vg"\nname = "stm32f407vg"\n\n[[peripheral]]\nname = "usart2"\npaced = true\n'


def _figures(part: str, app: str, cmdline: str, tmp: Path) -> dict[str, object]:
    board = part
    if part == "paced":
        board = str(tmp / "paced.toml")
        (tmp / "paced.toml").write_text(PACED)
        part = "stm32f407vg"
    r = sc.run(elf(part, app), board, cmdline=cmdline, max_instructions=30_000_000)
    assert r.exit_status == 0, r.stop.message
    d = r.to_dict()
    d.pop("wall_seconds", None)
    d.pop("timing", None)
    return json.loads(json.dumps(d, default=str))


@pytest.mark.parametrize(("part", "app", "cmdline"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_kept_arming_gives_the_figures_of_re_arming_every_access(part: str, app: str, cmdline: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    kept = 0
    real = machine.Machine.guard_access

    def counting(self: machine.Machine, fn: object) -> object:
        nonlocal kept
        before = self.arm_changes
        armed = self._armed
        out = real(self, fn)  # type: ignore[arg-type]
        kept += self._armed == armed and self.arm_changes == before
        return out

    monkeypatch.setattr(machine.Machine, "guard_access", counting)
    fast = _figures(part, app, cmdline, tmp_path)
    monkeypatch.setattr(machine.Machine, "guard_access", lambda self, fn: self.guard(fn))
    full = _figures(part, app, cmdline, tmp_path)
    assert fast["stop"] == full["stop"]
    assert fast == full
    assert kept > 0  # the arming was kept for some accesses (the path under test ran)


def test_accesses_that_only_move_events_re_arm_the_next_stop_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """An access whose model only scheduled or cancelled events (an I2C read's START: its address event cancelled, the
    stream's limit scheduled) re-arms the next stop but not what C may do on its own (SystemBlock.arm_native): the
    B-L475E-IOT01A's imu_steps_bus, its LSM6DSL on I2C2, gives the figures of re-arming everything after every
    access, with most of those re-armings left out."""
    from simcore.cortexm.system import SystemBlock

    board = "b-l475e-iot01a"
    sensors = {"imu": (str(Path(__file__).resolve().parents[2] / "examples" / "data" / "imu_walk_100hz.csv"),
                       {"end": "hold", "resample": True})}
    arms = {"native": 0, "events_only": 0}
    real_arm_native, real_access = SystemBlock.arm_native, machine.Machine.guard_access

    def counted_arm_native(self: SystemBlock) -> None:
        arms["native"] += 1
        real_arm_native(self)

    def counted_access(self: machine.Machine, fn: object) -> object:
        changes, queue, native = self.arm_changes, self.queue_changes, arms["native"]
        out = real_access(self, fn)  # type: ignore[arg-type]
        moved = self.arm_changes - changes
        arms["events_only"] += bool(moved) and moved == self.queue_changes - queue and arms["native"] == native
        return out

    def figures() -> dict[str, object]:
        r = sc.run(elf(board, "imu_steps_bus"), board, sensors=sensors, cmdline="imu_steps_bus.elf frames=200")
        assert r.exit_status == 0 and "done: " in r.text
        d = r.to_dict()
        d.pop("wall_seconds", None)
        return json.loads(json.dumps(d, default=str))

    monkeypatch.setattr(SystemBlock, "arm_native", counted_arm_native)
    monkeypatch.setattr(machine.Machine, "guard_access", counted_access)
    fast = figures()
    fast_arms = arms["native"]
    assert arms["events_only"] >= 2 * (200 // 25)  # at least the two read STARTs of each FIFO drain
    monkeypatch.setattr(machine.Machine, "guard_access", lambda self, fn: self.guard(fn))
    arms["native"] = 0
    assert figures() == fast
    assert fast_arms + arms["events_only"] <= arms["native"]  # the full path re-armed C at least that much more
