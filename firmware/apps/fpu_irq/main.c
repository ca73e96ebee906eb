/*
 * fpu_irq: floating point in thread mode and in an interrupt handler, with lazy stacking on.
 *
 * main() runs a float recurrence whose state lives in S registers while SysTick (every
 * 2000 cycles) runs a handler that does float arithmetic of its own, clobbering S0-S15.
 * The result must be bit-identical to the same loop run with interrupts masked: the
 * extended exception frame (S0-S15, FPSCR) must be saved and restored. The handler also
 * records its EXC_RETURN (0xFFFFFFE9: thread, MSP, FP frame) and FPCAR (inside the frame,
 * just above the 8 basic words); FPCCR must read ASPEN|LSPEN. Exit status 0 (1 on mismatch).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cm4.h"

static volatile uint32_t ticks, handler_excret, handler_fpcar, handler_sp;
static volatile float handler_acc = 1.0f;

void SysTick_Handler(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    handler_excret = (uint32_t)__builtin_return_address(0);
    handler_fpcar = FPU_FPCAR;
    handler_sp = sp;
    float x = handler_acc;
    for (int i = 0; i < 8; i++)
        x = x * 1.25f - 0.5f + (float)i;
    handler_acc = x / 1024.0f;
    ticks++;
}

__attribute__((noipa)) static float work(int n)
{
    float a = 1.0f, b = 0.5f, c = 0.25f, d = 2.0f;
    for (int i = 0; i < n; i++) {
        a = a * 0.999f + b;
        b = b * 0.998f - c * 0.001f;
        c = c + d * 0.0001f;
        d = d * 0.9999f + a * 0.00001f;
    }
    return a + b * 3.0f + c * 5.0f + d * 7.0f;
}

int main(void)
{
    cpsid();
    float reference = work(20000);
    cpsie();

    SYST_RVR = 2000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    float result = work(20000);
    SYST_CSR = 0;

    uint32_t r, f;
    memcpy(&r, &reference, 4);
    memcpy(&f, &result, 4);
    printf("interrupts %s\n", ticks > 100 ? "many" : "few");
    printf("float result %s (%08lx)\n", r == f ? "identical" : "CORRUPTED", (unsigned long)f);
    printf("exc_return %08lx\n", (unsigned long)handler_excret);
    printf("fpccr %08lx\n", (unsigned long)(FPU_FPCCR & 0xC0000000u));
    printf("fpcar in frame %s\n", handler_fpcar > handler_sp && handler_fpcar - handler_sp < 0x100 ? "yes" : "no");
    return r == f ? 0 : 1;
}
