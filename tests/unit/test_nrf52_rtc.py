"""nRF52840 RTC (PS v1.7 6.22) through its registers on a fake clock."""

from __future__ import annotations

import pytest

from tests.unit.nrf52_fakes import Part

START, STOP, CLEAR, TRIGOVRFLW = 0x000, 0x004, 0x008, 0x00C
TICK, OVRFLW, COMPARE = 0x100, 0x104, 0x140
INTENSET, EVTEN, EVTENSET, EVTENCLR = 0x304, 0x340, 0x344, 0x348
COUNTER, PRESCALER, CC = 0x504, 0x508, 0x540
FS = 10**15


def _cycle_at(seconds_fs: int) -> int:
    """The first 64 MHz cycle at or after a virtual time in femtoseconds."""
    return -(-seconds_fs * 64_000_000 // FS)


def test_the_counter_needs_the_lfclk() -> None:
    part = Part()
    part.write("rtc0", START, 1)
    part.advance_us(10_000)
    assert part.read("rtc0", COUNTER) == 0  # LFCLK not started: the RTC does not count


@pytest.mark.parametrize("prescaler", [0, 1, 327, 4095])
def test_counter_counts_32768_hz_over_prescaler_plus_1(prescaler: int) -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc1", PRESCALER, prescaler)
    part.write("rtc1", START, 1)
    t0 = part.host.now_fs()
    part.advance_us(1_234_567)
    elapsed = part.host.now_fs() - t0
    assert part.read("rtc1", COUNTER) == elapsed * 32768 // (FS * (prescaler + 1))


def test_compare_wakes_at_its_count() -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc0", CC + 8, 32768)  # CC[2]: 1 s
    part.write("rtc0", INTENSET, 1 << 18)
    part.write("rtc0", START, 1)
    t0 = part.host.now_fs()
    part.host.advance_to(part.host.next_event_cycle())
    assert part.read("rtc0", COMPARE + 8) == 1
    assert part.host.irq_rises(11) == [_cycle_at(t0 + FS)]  # exactly 1 s of LFCLK later
    part.write("rtc0", CC + 12, 5)  # RTC0 has three CC registers
    assert "RTC0.CC[3]" in part.host.unmodelled


def test_tick_and_overflow_only_when_enabled() -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc2", START, 1)
    part.advance_us(1000)
    assert part.read("rtc2", TICK) == 0  # not enabled in INTEN or EVTEN: not generated
    part.write("rtc2", EVTENSET, 1)  # TICK routed to the PPI: generated from now on
    assert part.read("rtc2", EVTEN) == 1 == part.read("rtc2", EVTENCLR)
    part.advance_us(100)
    assert part.read("rtc2", TICK) == 1
    part.write("rtc2", EVTENCLR, 1)
    part.write("rtc2", TICK, 0)
    part.advance_us(100)
    assert part.read("rtc2", TICK) == 0
    part.write("rtc2", TRIGOVRFLW, 1)
    assert part.read("rtc2", COUNTER) == 0xFFFFF0
    part.write("rtc2", INTENSET, 2)  # OVRFLW
    part.advance_us(16 * 1e6 / 32768 + 1)
    assert part.read("rtc2", OVRFLW) == 1 and part.read("rtc2", COUNTER) == 0


def test_stop_clear_and_prescaler_rules() -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc1", START, 1)
    part.advance_us(100_000)
    n = part.read("rtc1", COUNTER)
    part.write("rtc1", STOP, 1)
    part.advance_us(100_000)
    assert part.read("rtc1", COUNTER) == n
    part.write("rtc1", CLEAR, 1)
    assert part.read("rtc1", COUNTER) == 0
    part.write("rtc1", START, 1)
    part.write("rtc1", PRESCALER, 7)  # read-only while running
    assert part.read("rtc1", PRESCALER) == 0 and "RTC1.PRESCALER" in part.host.unmodelled


def test_a_compare_moved_on_at_each_match_fires_every_step() -> None:
    """CC[0] += step after each COMPARE[0] (the Nano firmware's 125 ms tick): the compares come at counts step, 2 step,
    3 step, each raising the line once, and before each the counter's event is COMPARE[0] alone, quiet until the
    count after it that the reschedule would take: with CC[0] not yet moved, the wrap to 0, where CC[1..3] (0) are."""
    part = Part()
    part.start_lfclk()
    step = 4096
    part.write("rtc1", CC, step)
    part.write("rtc1", INTENSET, 1 << 16)
    part.write("rtc1", START, 1)
    rtc = part["rtc1"]
    t0 = rtc._t0
    for k in (1, 2, 3):
        assert rtc._compare_alone() == (16, rtc._clk.fs_of_tick(t0 + (1 << 24)))
        part.host.advance_to(part.host.next_event_cycle())
        assert part.read("rtc1", COMPARE) == 1 and part.read("rtc1", COUNTER) == k * step
        assert len(part.host.irq_rises(17)) == k
        part.write("rtc1", COMPARE, 0)
        part.write("rtc1", CC, (part.read("rtc1", CC) + step) & 0xFFFFFF)
