"""A sleeping STM32 core whose only scheduled events are a timer's that cannot raise an interrupt the NVIC enables
stops "sleeping forever" at once (SystemBlock.on_halt, Event.raises), as the nRF52 TIMER and RTC do: the classic
forgotten ``NVIC_EnableIRQ(TIM2_IRQn)`` after ``DIER.UIE``, which used to run a million updates (1,000 s of virtual
time at 1 kHz) before the backstop stopped it. Driven through the models on the machine before its first
instruction (TIM2 on the STM32F407 at the reset clock: HSI 16 MHz, PSC 15, ARR 999: 1 kHz, RM0090 18.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import simcore.api as sc

ROOT = Path(__file__).resolve().parents[2]
ELF = ROOT / "firmware/bin/stm32f407vg/tim_irq.elf"
CR1, DIER, SR, EGR, PSC, ARR = 0x00, 0x0C, 0x10, 0x14, 0x28, 0x2C
TIM2_IRQ, USART2_IRQ = 28, 38  # RM0090 Table 61
IRQ0 = 16


def _machine(dier: int) -> tuple[Any, Any]:
    m = sc.prepare(ELF, "stm32f407vg")
    tim = m.peripheral("tim2")
    m.peripheral("rcc").write(0x40, 4, 1)  # RCC_APB1ENR.TIM2EN
    for off, value in ((PSC, 15), (ARR, 999), (EGR, 1), (SR, 0), (DIER, dier), (CR1, 1)):
        tim.write(off, 4, value)
    m.system.exc.enabled[IRQ0 + USART2_IRQ] = True  # something else could wake the core: the backstop's case
    return m, tim


def _live(m: Any) -> list[Any]:
    return [e for e in m.events.heap if not e.cancelled]


def test_which_timer_events_can_wake_a_sleeping_core() -> None:
    m, tim = _machine(dier=1)  # UIE
    (ev,) = _live(m)
    assert ev.tag == "TIM2 UEV" and ev.raises() == frozenset({TIM2_IRQ})
    assert m.system._events_cannot_wake(False) == "TIM2 UEV"  # the NVIC does not enable TIM2
    m.system.exc.enabled[IRQ0 + TIM2_IRQ] = True
    assert m.system._events_cannot_wake(False) is None
    m.system.exc.enabled[IRQ0 + TIM2_IRQ] = False
    tim.write(DIER, 4, 0)  # no interrupt: the update still happens (UIF could be polled) and raises nothing
    assert [e.raises() for e in _live(m)] == [frozenset()]
    tim.write(DIER, 4, 1 << 8)  # UDE: a DMA request, whose transfer could raise anything
    assert [e.raises() for e in _live(m)] == [None] and m.system._events_cannot_wake(False) is None
    tim.write(DIER, 4, 1)
    tim.subscribe_trigger("TRGO", lambda: None)  # an ADC's external trigger, say
    assert [e.raises() for e in _live(m)] == [None]


def test_uie_without_the_nvic_line_sleeps_forever_at_once() -> None:
    m, tim = _machine(dier=1)
    updates = tim.updates
    m.system.on_halt(m.pc())
    assert m.stop is not None and m.stop.kind.value == "sleeping"
    assert "the events scheduled (TIM2 UEV) cannot raise an enabled interrupt" in m.stop.message
    assert tim.updates == updates and m.now_seconds() < 1e-3  # no update ran


def test_with_the_nvic_line_the_first_update_wakes_it() -> None:
    m, tim = _machine(dier=1)
    m.system.exc.enabled[IRQ0 + TIM2_IRQ] = True
    m.system.on_halt(m.pc())
    assert m.stop is None and tim.updates == 2  # UG's, then the first counted one
    assert abs(m.now_seconds() - 1e-3) < 1e-6  # woken by the update 1 ms on (1 MHz counter, ARR 999)
