"""GPIO outputs on a fake host: every pin change is recorded with its cycle and time."""

from __future__ import annotations

from pathlib import Path

from simcore.peripherals.sensors.gpio import SimcoreGpio
from simcore.peripherals.sensors.testing import FakeHost, peripheral


def test_pin_changes_are_time_stamped(tmp_path: Path) -> None:
    host = FakeHost(mhz=2)
    gpio = SimcoreGpio(peripheral("led", "simcore_gpio", irq=None, pins=["red", "green"]), host)
    host.advance_to(1000)
    gpio.write(0x04, 4, 0b01)  # SET red
    host.advance_to(3000)
    gpio.write(0x04, 4, 0b01)  # no change: not recorded
    gpio.write(0x0C, 4, 0b11)  # TOGGLE: red off, green on
    host.advance_to(5000)
    gpio.write(0x08, 4, 0b10)  # CLR green
    gpio.write(0x00, 4, 0x80000000)  # ODR: pin 31 high
    assert gpio.read(0x10, 4) == 0x80000000
    trace = gpio.trace()
    assert [(t["cycle"], t["name"], t["level"]) for t in trace] == [
        (1000, "red", 1),
        (3000, "red", 0),
        (3000, "green", 1),
        (5000, "green", 0),
        (5000, "pin31", 1),
    ]
    assert trace[0]["time_s"] == 1000 / 2e6
    assert [t["cycle"] for t in gpio.trace("green")] == [3000, 5000]
    st = gpio.stats()
    assert st["red_rises"] == 1 and st["red_falls"] == 1
    gpio.write_vcd(tmp_path / "led.vcd")
    vcd = (tmp_path / "led.vcd").read_text()
    assert "$var wire 1 ! red $end" in vcd and "#500000\n1!" in vcd  # 1000 cycles at 2 MHz = 500 us
    assert '#1500000\n0!\n1"' in vcd
