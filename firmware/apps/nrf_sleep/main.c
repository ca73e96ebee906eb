/*
 * nrf_sleep: System ON sleep with RTC wake-ups (PS v1.7 sections 5.3.2 System ON, 6.22 RTC).
 *
 * The LFCLK runs from its crystal; RTC1 counts at 32768 Hz with CC[0] 100 ms (3277 ticks) ahead
 * and its COMPARE0 interrupt, which moves CC[0] on by another 100 ms. The CPU sleeps five
 * times in WFI and five times in WFE (the wait-for-event sequence the nRF5 SDK uses: SEV, WFE
 * to clear the event register, WFE to sleep); each wake-up is a COMPARE0 interrupt. The app
 * prints the wake-ups and the RTC ticks: nearly all of the second is spent asleep.
 */
#include <stdio.h>

#include "../nrf_clock/nrf52.h"

#define PERIOD 3277u /* RTC ticks: 100.0061 ms */

static volatile uint32_t wakeups;

void IRQ17_Handler(void) /* RTC1 */
{
    if (RTC_EVENTS_COMPARE(RTC1_BASE, 0)) {
        RTC_EVENTS_COMPARE(RTC1_BASE, 0) = 0;
        (void)RTC_EVENTS_COMPARE(RTC1_BASE, 0);
        RTC_CC(RTC1_BASE, 0) = (RTC_CC(RTC1_BASE, 0) + PERIOD) & 0xFFFFFFu;
        wakeups++;
    }
}

int main(void)
{
    lfclk_start(CLOCK_LFCLKSRC_XTAL);
    RTC_PRESCALER(RTC1_BASE) = 0;
    RTC_CC(RTC1_BASE, 0) = PERIOD;
    INTENSET(RTC1_BASE) = RTC_INT_COMPARE0;
    nvic_enable(RTC1_IRQ);
    RTC_TASKS_CLEAR(RTC1_BASE) = 1;
    RTC_TASKS_START(RTC1_BASE) = 1;
    printf("nrf_sleep: RTC1 wake-ups every %u ticks\n", PERIOD);
    fflush(stdout);

    uint32_t wfi = 0, wfe = 0;
    while (wakeups < 5u) {
        __asm__ volatile("wfi");
        wfi++;
    }
    while (wakeups < 10u) {
        __asm__ volatile("sev\n\twfe\n\twfe" ::: "memory");
        wfe++;
    }
    uint32_t counter = RTC_COUNTER(RTC1_BASE);
    printf("wake-ups %lu (WFI loops %lu, WFE loops %lu), RTC1 COUNTER %lu\n", (unsigned long)wakeups,
           (unsigned long)wfi, (unsigned long)wfe, (unsigned long)counter);
    return 0;
}
