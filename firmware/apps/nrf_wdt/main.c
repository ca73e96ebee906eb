/*
 * nrf_wdt: a firmware that stops reloading the nRF52840 watchdog is reset (PS v1.7 sections 6.36
 * and 5.3.7.1). POWER.RESETREAS tells each boot what happened before; GPREGRET is retained:
 *
 *   power-on  start the WDT with CRV = 3276 (timeout (CRV + 1) / 32768 s = 100.006 ms), reload
 *             RR[0] five times every 50 ms (TIMER1 periods, waited for by polling EVENTS_COMPARE[0]),
 *             then stop reloading and spin: the WDT resets the part;
 *   DOG       print RESETREAS and GPREGRET, clear RESETREAS (write 1s) and exit.
 */
#include <stdio.h>

#include "../nrf_clock/nrf52.h"

/* TIMER1 at 1 MHz with a period of 50 ms; a wait polls its compare event (as drivers' delays do). */
static void period_start(void)
{
    TIMER_BITMODE(TIMER1_BASE) = TIMER_BITMODE_32;
    TIMER_PRESCALER(TIMER1_BASE) = 4;
    TIMER_CC(TIMER1_BASE, 0) = 50000u;
    SHORTS(TIMER1_BASE) = TIMER_SHORTS_COMPARE0_CLEAR;
    TIMER_TASKS_START(TIMER1_BASE) = 1;
}

static void period_wait(void)
{
    while (TIMER_EVENTS_COMPARE(TIMER1_BASE, 0) == 0) {
    }
    TIMER_EVENTS_COMPARE(TIMER1_BASE, 0) = 0;
}

int main(void)
{
    cycles_start();
    uint32_t reas = POWER_RESETREAS;
    if (reas & POWER_RESETREAS_DOG) {
        printf("nrf_wdt: reset by the watchdog (RESETREAS %08lx, GPREGRET %02lx, WDT RUNSTATUS %lu)\n",
               (unsigned long)reas, (unsigned long)POWER_GPREGRET, (unsigned long)WDT_RUNSTATUS);
        POWER_RESETREAS = reas; /* write 1 to clear */
        printf("RESETREAS after clearing %08lx: done\n", (unsigned long)POWER_RESETREAS);
        return 0;
    }
    printf("nrf_wdt: power-on (RESETREAS %08lx); WDT timeout 100 ms\n", (unsigned long)reas);
    POWER_GPREGRET = 0x5Au; /* retained through the reset */
    WDT_CONFIG = 1u;        /* SLEEP: keep running while the CPU sleeps */
    WDT_CRV = 3276u;
    WDT_RREN = 1u; /* RR[0] only */
    WDT_TASKS_START = 1;
    period_start();
    for (int i = 0; i < 5; i++) {
        period_wait();
        WDT_RR(0) = WDT_RR_RELOAD;
    }
    printf("nrf_wdt: reloaded 5 times; now the firmware hangs\n");
    for (;;) {
    }
}
