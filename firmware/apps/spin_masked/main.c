/*
 * spin_masked: SysTick runs with its interrupt enabled, but PRIMASK is set before main
 * idles in `b .`: the interrupt stays pending and can never be taken, so the loop never
 * ends. simcore must say "spinning" (exit 125) although events are still scheduled.
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

void SysTick_Handler(void) {
    printf("tick (must not happen)\n");
}

int main(void) {
    printf("spin_masked: interrupts masked, idling\n");
    fflush(stdout);
    __asm volatile("cpsid i" ::: "memory");
    SYST_RVR = 10000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u;
    for (;;) {
    }
}
