/*
 * spin_tick: main idles in `b .` while SysTick interrupts count; the 5th tick exits.
 *
 * An idle loop that an interrupt can end: simcore must fast-forward the loop to each
 * SysTick (not stop it as "spinning"), run the handler, and exit with status 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static volatile unsigned ticks;

void SysTick_Handler(void) {
    ticks++;
    printf("tick %u\n", ticks);
    if (ticks == 5) {
        printf("done after %u ticks\n", ticks);
        exit(0);
    }
}

int main(void) {
    printf("spin_tick: SysTick every 10000 cycles\n");
    fflush(stdout);
    SYST_RVR = 10000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = core clock */
    for (;;) {
        /* idle until the handler exits */
    }
}
