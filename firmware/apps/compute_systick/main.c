/*
 * compute_systick: the compute app (int8 matmul, ~300 M instructions) with SysTick
 * interrupting it at 1 kHz of the board's default clock. For the speed benchmark with
 * interrupts (benchmarks/emulation_speed.py --elf .../compute_systick.elf): the
 * exception entry/return cost per tick must not drag the ratio below target.
 * Prints compute's checksum line and the tick count. Exit status 0.
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "cm4.h"

#define main compute_main
#include "../compute/main.c"
#undef main

static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

int main(void)
{
    SYST_RVR = BOARD_DEFAULT_MHZ * 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    int status = compute_main();
    SYST_CSR = 0;
    printf("ticks %s\n", ticks > 100 ? "many" : "few");
    return status;
}
