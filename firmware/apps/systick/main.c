/*
 * systick: SysTick at 1 kHz from the core clock, counted in its handler.
 *
 * 1. busy-waits until 100 ticks have been counted and prints the DWT cycle count that
 *    took (must be 100 periods, within one period);
 * 2. sleeps in wfi until 200 ticks (wfi waking on SysTick; simcore advances virtual time);
 * 3. reports DWT CYCCNT through ITM port 2 right after reading it, and marks the moment
 *    CYCCNT started with a write to ITM port 1, so a host-side listener can compare
 *    CYCCNT with simcore's own cycle count;
 * 4. COUNTFLAG is set after a wrap and clears on read;
 * 5. WFE sleeps until SysTick (the event register is set by exception entry/return), and
 *    `sev; wfe` does not sleep at all;
 * 6. SCR.SLEEPONEXIT: after one wfi, the core runs only the SysTick handler until the handler
 *    clears SLEEPONEXIT at tick 300; then main continues.
 * Exit status 0.
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "cm4.h"

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
    if (ticks == 300)
        SCB_SCR &= ~2u; /* SLEEPONEXIT off: return to main */
}

static volatile uint32_t main_loops;

int main(void)
{
    const uint32_t period = BOARD_DEFAULT_MHZ * 1000u; /* core cycles per ms */

    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    ITM_STIM(1) = 0; /* marks "CYCCNT = 0 now" for the host (same block as the enable) */

    SYST_RVR = period - 1u;
    SYST_CVR = 0;
    uint32_t c0 = DWT_CYCCNT;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;

    while (ticks < 100) {
    }
    uint32_t c1 = DWT_CYCCNT;
    ITM_STIM(2) = c1;
    uint32_t elapsed = c1 - c0;
    printf("busy: ticks %lu, cycles %lu, periods %lu\n", (unsigned long)ticks, (unsigned long)elapsed,
           (unsigned long)(elapsed / period));

    while (ticks < 200)
        wfi();
    uint32_t c2 = DWT_CYCCNT;
    printf("wfi: ticks %lu, periods %lu\n", (unsigned long)ticks, (unsigned long)((c2 - c0) / period));

    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE; /* no interrupt: poll COUNTFLAG */
    (void)SYST_CSR;
    uint32_t before = ticks, polls = 0;
    while (!(SYST_CSR & SYST_CSR_COUNTFLAG))
        polls++;
    uint32_t again = SYST_CSR & SYST_CSR_COUNTFLAG;
    printf("countflag: seen, cleared %s, ticks unchanged %s\n", again ? "no" : "yes",
           ticks == before ? "yes" : "no");

    __asm__ volatile("sev\n\twfe" ::: "memory"); /* event set: wfe returns at once */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (ticks < 250)
        __asm__ volatile("wfe" ::: "memory");
    printf("wfe: ticks %lu\n", (unsigned long)ticks);

    SCB_SCR |= 2u; /* SLEEPONEXIT */
    wfi();
    main_loops++;
    printf("sleeponexit: ticks %lu, main ran %lu\n", (unsigned long)ticks, (unsigned long)main_loops);
    return 0;
}
