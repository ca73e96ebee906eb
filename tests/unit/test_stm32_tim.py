"""STM32 timers counting on virtual time, driven through their registers on a fake clock (RM0090 17-20)."""

from __future__ import annotations

from typing import Any

from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost, peripheral

CR1, CR2, DIER, SR, EGR, CCMR1, CNT, PSC, ARR, RCR, CCR1, CCR2 = (
    0x00, 0x04, 0x0C, 0x10, 0x14, 0x18, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38)
TIM2, TIM6, TIM1 = 0x40000000, 0x40001000, 0x40010000


def _f4_host(hclk: float = 168e6) -> FakeHost:
    host = FakeHost(mhz=hclk / 1e6)
    host.set_clocks(HCLK=hclk, PCLK1=hclk / 4, PCLK2=hclk / 2, TIMCLK1=hclk / 2, TIMCLK2=hclk)
    return host


def _tim(host: FakeHost, kind: str, name: str, base: int) -> Any:
    model = model_for(kind)(peripheral(name, kind, base, None), host)
    host.peripherals[name] = model
    return model


def _start_1khz(tim: Any, psc: int = 83, arr: int = 999) -> None:
    tim.write(PSC, 4, psc)
    tim.write(ARR, 4, arr)
    tim.write(EGR, 4, 1)  # UG: load PSC
    tim.write(SR, 4, 0)
    tim.write(DIER, 4, 1)  # UIE
    tim.write(CR1, 4, 1)


def test_update_interrupts_at_1khz_from_timclk1_doubled() -> None:
    host = _f4_host()
    tim2 = _tim(host, "stm32_timer", "tim2", TIM2)
    _start_1khz(tim2)  # TIMCLK1 = 2 x PCLK1 = 84 MHz; 84 MHz / 84 / 1000 = 1 kHz
    seen = []
    for _ in range(1000):
        nxt = host.next_event_cycle()
        assert nxt is not None
        host.advance_to(nxt)
        assert host.irq_levels[28]  # TIM2 on NVIC line 28 (RM0090 Table 61)
        seen.append(host.cycles)
        tim2.write(SR, 4, ~1 & 0xFFFF)  # the handler clears UIF
        assert not host.irq_levels[28]
    assert seen[0] == 168_000 and seen[-1] == 168_000_000  # 1000 updates in 1.000 s of virtual time
    assert all(b - a == 168_000 for a, b in zip(seen, seen[1:]))


def test_cnt_is_computed_on_read_and_follows_a_clock_change() -> None:
    host = _f4_host()
    tim2 = _tim(host, "stm32_timer", "tim2", TIM2)
    _start_1khz(tim2)
    host.advance_to(84_000)  # 0.5 ms
    assert tim2.read(CNT, 4) == 500
    host.set_clocks(HCLK=84e6, PCLK1=21e6, TIMCLK1=42e6)  # the timer clock halves
    host.advance_fs(10**15 // 2000)  # 0.5 ms more: 250 counter ticks at 500 kHz
    assert tim2.read(CNT, 4) == 750
    tim2.write(CR1, 4, 0)  # stopped: CNT holds
    host.advance_seconds(0.01)
    assert tim2.read(CNT, 4) == 750
    tim2.write(CNT, 4, 998)
    tim2.write(CR1, 4, 1)
    host.advance_fs(2 * 10**15 // 500_000)  # two ticks: 998 -> 999 -> 0 with an update
    assert tim2.read(CNT, 4) == 0 and tim2.read(SR, 4) & 1


def test_a_polled_uif_has_an_event_and_an_unwatched_timer_has_none() -> None:
    host = _f4_host()
    tim6 = _tim(host, "stm32_basic_timer", "tim6", TIM6)
    tim6.write(PSC, 4, 8399)
    tim6.write(ARR, 4, 9)  # 10 kHz / 10 = 1 kHz
    tim6.write(EGR, 4, 1)
    tim6.write(SR, 4, 0)
    tim6.write(CR1, 4, 1)
    assert host.next_event_cycle() == 168_000  # UIF clear: its setting is an event a poll can wait for
    host.advance_to(168_000)
    assert tim6.read(SR, 4) == 1
    assert host.next_event_cycle() is None  # UIF set, no interrupt, nobody watching: no more events
    host.advance_to(168_000 * 500 + 84_000)
    assert tim6.read(CNT, 4) == 5  # still counting
    assert tim6.updates >= 500


def test_preload_arpe_and_psc_take_effect_at_the_update() -> None:
    host = _f4_host()
    tim2 = _tim(host, "stm32_timer", "tim2", TIM2)
    tim2.write(CR1, 4, 1 << 7)  # ARPE
    _start_1khz(tim2)
    tim2.write(CR1, 4, 1 << 7 | 1)
    host.advance_to(84_000)
    tim2.write(ARR, 4, 1999)  # preloaded: this period still ends at 999
    tim2.write(PSC, 4, 41)  # twice as fast from the next update
    assert tim2.read(ARR, 4) == 1999
    host.advance_to(168_000)
    assert host.irq_rises(28) == [168_000]
    tim2.write(SR, 4, 0)
    host.advance_to(168_000 + 168_000)  # 2000 ticks at 2 MHz = 1 ms
    assert host.irq_rises(28) == [168_000, 336_000]


def test_down_counting_one_pulse_and_update_request_source() -> None:
    host = _f4_host()
    tim3 = _tim(host, "stm32_timer", "tim3", 0x40000400)
    tim3.write(PSC, 4, 83)
    tim3.write(ARR, 4, 99)
    tim3.write(CR1, 4, 1 << 4 | 1 << 3 | 1 << 2)  # DIR down, OPM, URS: UG does not set UIF
    tim3.write(EGR, 4, 1)
    assert tim3.read(SR, 4) == 0 and tim3.read(CNT, 4) == 99  # UG reloads ARR when counting down
    tim3.write(CR1, 4, 1 << 4 | 1 << 3 | 1 << 2 | 1)
    host.advance_to(25 * 168)  # 25 ticks at 1 MHz
    assert tim3.read(CNT, 4) == 74
    assert not tim3.read(SR, 4) & 1
    host.advance_to(100 * 168)  # 99 -> 0 in 99 ticks, the underflow at the 100th
    assert tim3.read(SR, 4) & 1
    assert tim3.read(CR1, 4) & 1 == 0  # one pulse: CEN cleared at the update
    cnt = tim3.read(CNT, 4)
    host.advance_seconds(0.01)
    assert tim3.read(CNT, 4) == cnt


def test_compare_flags_interrupts_and_trigger_output() -> None:
    host = _f4_host()
    tim2 = _tim(host, "stm32_timer", "tim2", TIM2)
    trgo: list[int] = []
    cc2: list[int] = []
    tim2.subscribe_trigger("TRGO", lambda: trgo.append(host.cycles))
    tim2.subscribe_trigger("CC2", lambda: cc2.append(host.cycles))
    tim2.write(CR2, 4, 2 << 4)  # MMS = update
    tim2.write(CCR2, 4, 250)
    tim2.write(DIER, 4, 1 << 2)  # CC2IE
    tim2.write(PSC, 4, 83)
    tim2.write(ARR, 4, 999)
    tim2.write(EGR, 4, 1)
    trgo.clear()  # UG with MMS = update gave one
    tim2.write(SR, 4, 0)
    tim2.write(CR1, 4, 1)
    host.advance_to(168_000 * 3)
    assert cc2 == [250 * 168, 1250 * 168, 2250 * 168]
    assert trgo == [168_000, 336_000, 504_000]
    assert tim2.read(SR, 4) & 0b101 == 0b101
    assert host.irq_rises(28) == [250 * 168]  # CC2IF stays set: one rise
    tim2.write(EGR, 4, 1 << 1)  # CC1G: software compare event
    assert tim2.read(SR, 4) & 0b10


def test_repetition_counter_of_tim1() -> None:
    host = _f4_host()
    tim1 = _tim(host, "stm32_advanced_timer", "tim1", TIM1)  # APB2: TIMCLK2 = 168 MHz
    tim1.write(PSC, 4, 167)
    tim1.write(ARR, 4, 999)
    tim1.write(RCR, 4, 2)  # an update every third overflow
    tim1.write(EGR, 4, 1)
    tim1.write(SR, 4, 0)
    tim1.write(DIER, 4, 1)
    tim1.write(CR1, 4, 1)
    for ms in (3, 6, 9):
        host.advance_to(ms * 168_000)
        tim1.write(SR, 4, 0)
    assert host.irq_rises(25) == [504_000, 1_008_000, 1_512_000]  # TIM1_UP_TIM10, every 3 ms


def test_center_aligned_counts_up_and_down() -> None:
    host = _f4_host()
    tim4 = _tim(host, "stm32_timer", "tim4", 0x40000800)
    tim4.write(PSC, 4, 83)
    tim4.write(ARR, 4, 100)
    tim4.write(EGR, 4, 1)
    tim4.write(SR, 4, 0)
    tim4.write(DIER, 4, 1)
    tim4.write(CR1, 4, 1 << 5 | 1)  # CMS = 01
    host.advance_to(60 * 168)
    assert tim4.read(CNT, 4) == 60 and not tim4.read(CR1, 4) & 1 << 4
    host.advance_to(130 * 168)
    assert tim4.read(CNT, 4) == 70 and tim4.read(CR1, 4) & 1 << 4  # counting down
    assert host.irq_rises(30) == [100 * 168]  # overflow at ARR
    tim4.write(SR, 4, 0)
    host.advance_to(200 * 168)
    assert host.irq_rises(30) == [100 * 168, 200 * 168]  # underflow at 0
