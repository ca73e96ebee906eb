/*
 * bench_irq: the same integer work done under heavy interrupt load or without interrupts.
 *
 *   bench_irq.elf          SysTick at 1 kHz (25 MHz core), whose handler pends PendSV; PendSV
 *                          switches between two threads on PSP; CMSDK timer 0 at 10 kHz
 *   bench_irq.elf plain    the same work in main, no interrupt enabled
 *
 * The work (WORK_UNITS dot products of 64 int16 pairs with saturation) is split between the
 * threads; each prints its checksum, then the counts. benchmarks/interrupt_speed.py runs both
 * modes and compares guest MIPS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm4.h"
#include "semihosting.h"

#ifndef WORK_UNITS
#define WORK_UNITS 60000u
#endif
#define N 64
#define STACK_WORDS 512

#define T0_CTRL REG32(0x40000000u)
#define T0_VALUE REG32(0x40000004u)
#define T0_RELOAD REG32(0x40000008u)
#define T0_INT REG32(0x4000000Cu)
#define TIMER0_IRQ 8u

static int16_t va[N], vb[N];
static volatile uint32_t ticks, timer_irqs, switches;
static volatile uint32_t done_units[2];
static uint32_t sums[2];

struct thread {
    uint32_t *sp;
};
__attribute__((used)) struct thread threads[2];
__attribute__((used)) volatile uint32_t current;

/* One unit: a saturating multiply-accumulate over N pairs (IT blocks and SSAT in the loop). */
static uint32_t unit(uint32_t seed)
{
    int32_t acc = (int32_t)seed;
    for (int i = 0; i < N; i++) {
        int32_t p = va[i] * vb[(i + (int)seed) & (N - 1)];
        acc += p >> 4;
        acc = acc > 0x3FFFFFF ? 0x3FFFFFF : acc < -0x4000000 ? -0x4000000 : acc;
    }
    int32_t q;
    __asm__("ssat %0, #16, %1" : "=r"(q) : "r"(acc >> 8));
    return (uint32_t)q;
}

static void work(int id, uint32_t units)
{
    uint32_t sum = 0;
    for (uint32_t k = 0; k < units; k++) {
        sum = sum * 31u + unit(k * 2u + (uint32_t)id);
        done_units[id] = k + 1;
    }
    sums[id] = sum;
}

static void report(void)
{
    printf("bench_irq: checksums %08lx %08lx\n", (unsigned long)sums[0], (unsigned long)sums[1]);
    printf("bench_irq: ticks %lu, timer interrupts %lu, switches %lu\n", (unsigned long)ticks,
           (unsigned long)timer_irqs, (unsigned long)switches);
}

static void thread_a(void)
{
    work(0, WORK_UNITS / 2);
    while (done_units[1] < WORK_UNITS / 2) __asm__ volatile("wfi");
    T0_CTRL = 0;
    SYST_CSR = 0;
    report();
    exit(0);
}

static void thread_b(void)
{
    work(1, WORK_UNITS / 2);
    for (;;) __asm__ volatile("wfi");
}

void SysTick_Handler(void)
{
    ticks++;
    SCB_ICSR = ICSR_PENDSVSET;
}

void IRQ8_Handler(void)
{
    T0_INT = 1; /* INTCLEAR */
    timer_irqs++;
}

/* PendSV (lowest priority): save r4-r11 of the running thread on its PSP stack, restore the other's. */
__attribute__((naked)) void PendSV_Handler(void)
{
    __asm__ volatile(
        "mrs r0, psp\n"
        "stmdb r0!, {r4-r11}\n"
        "ldr r1, =current\n"
        "ldr r2, [r1]\n"
        "ldr r3, =threads\n"
        "str r0, [r3, r2, lsl #2]\n"
        "eor r2, r2, #1\n"
        "str r2, [r1]\n"
        "ldr r0, [r3, r2, lsl #2]\n"
        "ldr r1, =switches\n"
        "ldr r2, [r1]\n"
        "add r2, r2, #1\n"
        "str r2, [r1]\n"
        "ldmia r0!, {r4-r11}\n"
        "msr psp, r0\n"
        "bx lr\n");
}

/* SVC 0: start thread 0 on its PSP stack in thread mode. */
__attribute__((naked)) void SVC_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =threads\n"
        "ldr r0, [r0]\n"
        "ldmia r0!, {r4-r11}\n"
        "msr psp, r0\n"
        "ldr lr, =0xFFFFFFFD\n"
        "bx lr\n");
}

static uint32_t *initial_frame(uint32_t *top, void (*entry)(void))
{
    uint32_t *sp = top - 16;
    memset(sp, 0, 16 * sizeof(uint32_t));
    sp[8 + 5] = 0xFFFFFFFFu;          /* LR */
    sp[8 + 6] = (uint32_t)entry & ~1u; /* PC */
    sp[8 + 7] = 1u << 24;              /* xPSR: Thumb */
    return sp;                         /* r4-r11 below the hardware frame */
}


/* The command line through SYS_GET_CMDLINE: does it end with "plain"? */
static int plain_mode(void)
{
    static char cmdline[128];
    struct {
        char *buf;
        int len;
    } block = {cmdline, sizeof cmdline};
    if (sh_call(0x15, &block) != 0)
        return 0;
    size_t n = strlen(cmdline);
    return n >= 5 && strcmp(cmdline + n - 5, "plain") == 0;
}

int main(void)
{
    /* the threads' stacks in main's frame (main never returns), inside the reserved stack */
    uint32_t stacks[2][STACK_WORDS] __attribute__((aligned(8)));
    for (int i = 0; i < N; i++) {
        va[i] = (int16_t)(i * 37 - 1000);
        vb[i] = (int16_t)(2000 - i * 53);
    }
    if (plain_mode()) {
        work(0, WORK_UNITS / 2);
        work(1, WORK_UNITS / 2);
        report();
        return 0;
    }
    threads[0].sp = initial_frame(&stacks[0][STACK_WORDS], thread_a);
    threads[1].sp = initial_frame(&stacks[1][STACK_WORDS], thread_b);
    SCB_SHPR(14) = 0xFF; /* PendSV lowest */
    SCB_SHPR(15) = 0x40; /* SysTick */
    NVIC_IPR(TIMER0_IRQ) = 0x20;
    SYST_RVR = 25000u - 1u; /* 1 kHz at 25 MHz */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    T0_RELOAD = 2500u - 1u; /* 10 kHz */
    T0_VALUE = 2500u - 1u;
    T0_CTRL = 1u | 8u;
    nvic_enable(TIMER0_IRQ);
    __asm__ volatile("svc 0");
    for (;;) {
    }
}
