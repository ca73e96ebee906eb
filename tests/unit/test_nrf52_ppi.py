"""nRF52840 PPI (PS v1.7 6.16): events of one peripheral trigger tasks of another."""

from __future__ import annotations

from tests.unit.nrf52_fakes import Part

TIMER0, TIMER1, RTC0, GPIOTE, SAADC = 0x40008000, 0x40009000, 0x4000B000, 0x40006000, 0x40007000
CHEN, CHENSET, CHENCLR = 0x500, 0x504, 0x508


def _ch(n: int) -> tuple[int, int]:
    return 0x510 + 8 * n, 0x514 + 8 * n


def _timer_khz(part: Part, name: str = "timer1") -> None:
    part.write(name, 0x508, 3)
    part.write(name, 0x510, 4)
    part.write(name, 0x540, 1000)
    part.write(name, 0x200, 1)
    part.write(name, 0x000, 1)


def test_a_timer_compare_toggles_a_pin_through_gpiote() -> None:
    part = Part()
    part.write("gpiote", 0x510, 3 | (13 << 8) | (3 << 16))  # task mode, P0.13, toggle
    eep, tep = _ch(4)
    part.write("ppi", eep, TIMER1 + 0x140)
    part.write("ppi", tep, GPIOTE + 0x000)  # TASKS_OUT[0]
    part.write("ppi", CHENSET, 1 << 4)
    assert part.read("ppi", CHEN) == 1 << 4 == part.read("ppi", CHENCLR)
    _timer_khz(part)
    part.advance_us(5000)
    times = [round(c["time_s"] * 1e6) for c in part["p0"].trace(13)]
    assert times == [1000, 2000, 3000, 4000, 5000]
    part.write("ppi", CHENCLR, 1 << 4)
    part.advance_us(2000)
    assert len(part["p0"].trace(13)) == 5


def test_fork_and_groups() -> None:
    part = Part()
    eep, tep = _ch(0)
    part.write("ppi", eep, TIMER1 + 0x140)
    part.write("ppi", tep, TIMER0 + 0x040)  # TIMER0 CAPTURE[0]
    part.write("ppi", 0x910, TIMER0 + 0x044)  # FORK[0].TEP: TIMER0 CAPTURE[1]
    part.write("ppi", 0x800 + 4 * 2, 1)  # CHG[2] = channel 0
    part.write("ppi", 0x010, 1)  # TASKS_CHG[2].EN
    assert part.read("ppi", CHEN) == 1
    part.write("timer0", 0x510, 4)
    part.write("timer0", 0x508, 3)
    part.write("timer0", 0x000, 1)  # TIMER0 counts microseconds
    _timer_khz(part)
    part.advance_us(1500)
    assert part.read("timer0", 0x540) == 1000 == part.read("timer0", 0x544)  # both captured at 1 ms
    part.write("ppi", 0x014, 1)  # TASKS_CHG[2].DIS
    assert part.read("ppi", CHEN) == 0


def test_fixed_channels_30_and_31_start_and_clear_timer0_from_rtc0() -> None:
    part = Part()
    part.start_lfclk()
    part.write("timer0", 0x508, 3)
    part.write("timer0", 0x510, 4)
    part.write("ppi", CHENSET, 0b11 << 30)
    part.write("rtc0", 0x540, 32)  # CC[0]: 32 ticks
    part.write("rtc0", 0x340, 1 << 16)  # EVTEN COMPARE0: to the PPI
    part.write("rtc0", 0x000, 1)
    t0 = part.host.now_fs()
    part.host.advance_to(part.host.next_event_cycle())
    started = part.host.now_fs()
    assert started - t0 >= 32 * 10**15 // 32768
    part.advance_us(100)
    part.write("timer0", 0x040, 1)
    assert part.read("timer0", 0x540) == 100  # TIMER0 started by the RTC compare


def test_a_tep_simcore_does_not_model_is_reported() -> None:
    part = Part()
    eep, tep = _ch(7)
    part.write("ppi", eep, TIMER1 + 0x140)
    part.write("ppi", tep, 0x40001000)  # RADIO TASKS_TXEN
    part.write("ppi", CHENSET, 1 << 7)
    assert "PPI.CH[7].TEP" in part.host.unmodelled
