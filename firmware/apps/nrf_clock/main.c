/*
 * nrf_clock: nRF52840 clock bring-up and a 1 kHz timer interrupt (PS v1.7 sections 5.4, 6.30, 6.22).
 *
 *   - start the 64 MHz crystal oscillator (TASKS_HFCLKSTART, wait for EVENTS_HFCLKSTARTED) and
 *     the 32.768 kHz LFCLK from its crystal (LFCLKSRC = Xtal, TASKS_LFCLKSTART), timing both
 *     with the DWT cycle counter (the CPU runs at 64 MHz from either HFCLK source);
 *   - TIMER0 at 1 MHz (PRESCALER 4) with CC[0] = 1000 and the COMPARE0_CLEAR shortcut: an
 *     interrupt every millisecond; the CPU sleeps (WFI) between them. After 1000 interrupts the
 *     app prints the cycles and the RTC0 ticks (32.768 kHz) they took: 64,000,000 and 32768.
 */
#include <stdio.h>

#include "nrf52.h"

static volatile uint32_t ticks;
static volatile uint32_t end_cycles, end_rtc;

void IRQ8_Handler(void) /* TIMER0 */
{
    TIMER_EVENTS_COMPARE(TIMER0_BASE, 0) = 0;
    (void)TIMER_EVENTS_COMPARE(TIMER0_BASE, 0); /* the write reaches the peripheral before return */
    if (++ticks == 1000u) {
        end_cycles = DWT_CYCCNT;
        end_rtc = RTC_COUNTER(RTC0_BASE);
        TIMER_TASKS_STOP(TIMER0_BASE) = 1;
    }
}

int main(void)
{
    cycles_start();
    printf("nrf_clock: HFCLKSTAT %08lx LFCLKSTAT %08lx at reset\n", (unsigned long)CLOCK_HFCLKSTAT,
           (unsigned long)CLOCK_LFCLKSTAT);
    uint32_t t = DWT_CYCCNT;
    hfxo_start();
    uint32_t hf = DWT_CYCCNT - t;
    printf("HFXO running after %lu cycles (HFCLKSTAT %08lx)\n", (unsigned long)hf, (unsigned long)CLOCK_HFCLKSTAT);
    t = DWT_CYCCNT;
    lfclk_start(CLOCK_LFCLKSRC_XTAL);
    uint32_t lf = DWT_CYCCNT - t;
    printf("LFXO running after %lu cycles (LFCLKSTAT %08lx)\n", (unsigned long)lf, (unsigned long)CLOCK_LFCLKSTAT);

    RTC_PRESCALER(RTC0_BASE) = 0; /* 32768 Hz */
    RTC_TASKS_START(RTC0_BASE) = 1;

    TIMER_MODE(TIMER0_BASE) = 0; /* timer */
    TIMER_BITMODE(TIMER0_BASE) = TIMER_BITMODE_32;
    TIMER_PRESCALER(TIMER0_BASE) = 4; /* 16 MHz / 2^4 = 1 MHz */
    TIMER_CC(TIMER0_BASE, 0) = 1000u;
    SHORTS(TIMER0_BASE) = TIMER_SHORTS_COMPARE0_CLEAR;
    INTENSET(TIMER0_BASE) = TIMER_INT_COMPARE0;
    nvic_enable(TIMER0_IRQ);
    TIMER_TASKS_CLEAR(TIMER0_BASE) = 1;
    uint32_t rtc0 = RTC_COUNTER(RTC0_BASE);
    uint32_t c0 = DWT_CYCCNT;
    TIMER_TASKS_START(TIMER0_BASE) = 1;
    while (ticks < 1000u)
        __asm__ volatile("wfi");
    printf("TIMER0: %lu interrupts in %lu cycles, %lu RTC ticks\n", (unsigned long)ticks,
           (unsigned long)(end_cycles - c0), (unsigned long)((end_rtc - rtc0) & 0xFFFFFFu));
    return 0;
}
