"""nRF52840 TIMER (PS v1.7 6.30) through its registers on a fake clock."""

from __future__ import annotations

import pytest

from tests.unit.nrf52_fakes import Part

START, STOP, COUNT, CLEAR, CAPTURE = 0x000, 0x004, 0x008, 0x00C, 0x040
COMPARE = 0x140
SHORTS, INTENSET = 0x200, 0x304
MODE, BITMODE, PRESCALER, CC = 0x504, 0x508, 0x510, 0x540


def _capture(part: Part, n: int = 3, timer: str = "timer0") -> int:
    part.write(timer, CAPTURE + 4 * n, 1)
    return part.read(timer, CC + 4 * n)


def test_a_1_khz_interrupt_from_compare_and_clear() -> None:
    """PRESCALER 4 (1 MHz), CC[0] = 1000, COMPARE0_CLEAR: an interrupt every 1 ms exactly."""
    part = Part()
    part.write("timer1", BITMODE, 3)
    part.write("timer1", PRESCALER, 4)
    part.write("timer1", CC, 1000)
    part.write("timer1", SHORTS, 1)
    part.write("timer1", INTENSET, 1 << 16)
    part.write("timer1", START, 1)
    rises = []
    for _ in range(1000):
        part.host.advance_to(part.host.next_event_cycle())
        assert part.read("timer1", COMPARE) == 1
        rises.append(part.host.cycles)
        part.write("timer1", COMPARE, 0)  # the handler
    assert rises == [64_000 * (k + 1) for k in range(1000)]  # 1 ms at 64 MHz, 1000 in 1.000 s
    assert part.host.irq_rises(9) == rises


@pytest.mark.parametrize("prescaler", [0, 3, 4, 9])
def test_the_counter_counts_16_mhz_over_2_to_the_prescaler(prescaler: int) -> None:
    part = Part()
    part.write("timer0", BITMODE, 3)
    part.write("timer0", PRESCALER, prescaler)
    part.write("timer0", START, 1)
    part.advance_us(12_345)
    assert _capture(part) == 12_345 * 16 // (1 << prescaler)
    part.write("timer0", STOP, 1)
    part.advance_us(1000)
    assert _capture(part) == 12_345 * 16 // (1 << prescaler)  # stopped: it holds
    part.write("timer0", CLEAR, 1)
    assert _capture(part) == 0


@pytest.mark.parametrize(("bitmode", "top"), [(0, 0xFFFF), (1, 0xFF), (2, 0xFFFFFF)])
def test_bitmode_wraps_the_counter(bitmode: int, top: int) -> None:
    part = Part()
    part.write("timer0", BITMODE, bitmode)
    part.write("timer0", PRESCALER, 0)  # 16 MHz: 4 core cycles a tick
    part.write("timer0", CC, 5)
    part.write("timer0", START, 1)
    part.host.advance_to(4 * 5)
    assert part.read("timer0", COMPARE) == 1  # the counter reached CC[0] = 5
    part.write("timer0", COMPARE, 0)
    part.host.advance_to(4 * (top + 1) - 1)
    assert part.read("timer0", COMPARE + 4) == 0  # CC[1] = 0: not before the wrap
    part.host.advance_to(4 * (top + 1))
    assert part.read("timer0", COMPARE + 4) == 1 and part.read("timer0", COMPARE) == 0  # wrapped to 0
    part.host.advance_to(4 * (top + 1 + 5) - 1)
    assert part.read("timer0", COMPARE) == 0
    part.host.advance_to(4 * (top + 1 + 7))
    assert part.read("timer0", COMPARE) == 1
    assert _capture(part) == 7  # wrapped after top + 1 ticks


def test_compare_stop_shortcut_and_capture() -> None:
    part = Part()
    part.write("timer2", BITMODE, 3)
    part.write("timer2", PRESCALER, 4)
    part.write("timer2", CC + 4, 250)
    part.write("timer2", SHORTS, 1 << 9)  # COMPARE1_STOP
    part.write("timer2", START, 1)
    part.advance_us(1000)
    assert part.read("timer2", COMPARE + 4) == 1
    assert _capture(part, 2, "timer2") == 250  # stopped at the compare


def test_counter_mode_counts_tasks() -> None:
    part = Part()
    part.write("timer0", MODE, 2)  # LowPowerCounter
    part.write("timer0", CC, 3)
    part.write("timer0", START, 1)
    for _ in range(3):
        part.write("timer0", COUNT, 1)
    part.advance_us(100)
    assert _capture(part, 1) == 3 and part.read("timer0", COMPARE) == 1


def test_cc_registers_per_instance_and_changes_while_running() -> None:
    part = Part()
    part.write("timer0", CC + 4 * 5, 7)  # TIMER0 has four CC registers
    assert "TIMER0.CC[5]" in part.host.unmodelled
    part.write("timer3", CC + 4 * 5, 7)  # TIMER3 has six
    assert part.read("timer3", CC + 4 * 5) == 7
    part.write("timer0", START, 1)
    part.write("timer0", PRESCALER, 0)
    assert "TIMER0.PRESCALER" in part.host.unmodelled  # only while stopped (PS): reported
