"""nRF52840 TEMP (PS v1.7 6.28) through its registers on a fake clock."""

from __future__ import annotations

from tests.unit.nrf52_fakes import Part

START, STOP, DATARDY, INTENSET, TEMP, A0, T4 = 0x000, 0x004, 0x100, 0x304, 0x508, 0x520, 0x560


def test_a_measurement_takes_36_us_and_reads_quarter_degrees() -> None:
    part = Part({"temp": {"celsius": -12.6}})
    part.write("temp", INTENSET, 1)
    part.write("temp", START, 1)
    part.advance_us(35)
    assert part.read("temp", DATARDY) == 0
    part.advance_us(1)
    assert part.read("temp", DATARDY) == 1 and part.host.irq_rises(12) == [36 * 64]
    assert part.read("temp", TEMP) == (-50) & 0xFFFFFFFF  # -12.6 C in 0.25 C steps, two's complement


def test_stop_cancels_and_calibration_registers_are_storage() -> None:
    part = Part()
    part.write("temp", START, 1)
    part.write("temp", STOP, 1)
    part.advance_us(100)
    assert part.read("temp", DATARDY) == 0 and part["temp"].measurements == 0
    part.write("temp", A0, 0x326)  # what SystemInit copies from FICR.TEMP.A0
    part.write("temp", T4, 0x50)
    assert (part.read("temp", A0), part.read("temp", T4)) == (0x326, 0x50)
    part.write("temp", START, 1)
    part.advance_us(36)
    assert part.read("temp", TEMP) == 100  # 25 C by default
