/*
 * nested: NVIC priorities, preemption, tail-chaining and BASEPRI/PRIMASK masking.
 *
 * IRQ1..IRQ4 get priorities 0xC0, 0x80, 0x40, 0xE0 (lower number = more urgent). Every
 * handler appends "<n" on entry and ">n" on exit to a log printed at the end, so the
 * console shows the exact nesting:
 *   1. thread pends IRQ1 through STIR; IRQ1 pends IRQ3 through ISPR (preempts at once),
 *      then IRQ2 through STIR (preempts), then IRQ4 (lower: runs after IRQ1, tail-chained);
 *   2. with PRIMASK set, thread pends IRQ1, IRQ2, IRQ3: nothing runs until cpsie, then all
 *      three run in priority order, tail-chained;
 *   3. BASEPRI = 0x80 masks IRQ1 (0xC0) and IRQ2 (0x80) but not IRQ3 (0x40); BASEPRI = 0
 *      lets the held IRQ2 then IRQ1 run;
 *   4. FAULTMASK (cpsid f) holds IRQ3 but not the NMI (pended through ICSR.NMIPENDSET, logged
 *      as 9); cpsie f lets IRQ3 run.
 * Also checks IPSR inside a handler and the IABR active bit. Exit status 0.
 */
#include <stdint.h>
#include <stdio.h>

#include "cm4.h"

static char log_buf[256];
static unsigned log_len;
static volatile uint32_t seen_ipsr, seen_iabr;

static void note(char what, int n)
{
    if (log_len + 3 < sizeof log_buf) {
        log_buf[log_len++] = what;
        log_buf[log_len++] = (char)('0' + n);
        log_buf[log_len++] = ' ';
    }
}

static void flush(const char *title)
{
    log_buf[log_len] = 0;
    printf("%s: %s\n", title, log_buf);
    log_len = 0;
}

static volatile int phase;

void IRQ1_Handler(void)
{
    note('<', 1);
    if (phase == 1) {
        seen_ipsr = get_ipsr();
        seen_iabr = NVIC_IABR(0);
        nvic_set_pending(3); /* more urgent: preempts right here */
        dsb();
        isb();
        note('.', 1);
        NVIC_STIR = 2; /* more urgent too */
        dsb();
        isb();
        note('.', 1);
        nvic_set_pending(4); /* less urgent: waits, then tail-chains */
        dsb();
        isb();
    }
    note('>', 1);
}

void NMI_Handler(void)
{
    note('<', 9);
    note('>', 9);
}

void IRQ2_Handler(void)
{
    note('<', 2);
    note('>', 2);
}

void IRQ3_Handler(void)
{
    note('<', 3);
    note('>', 3);
}

void IRQ4_Handler(void)
{
    note('<', 4);
    note('>', 4);
}

int main(void)
{
    NVIC_IPR(1) = 0xC0;
    NVIC_IPR(2) = 0x80;
    NVIC_IPR(3) = 0x40;
    NVIC_IPR(4) = 0xE0;
    for (unsigned irq = 1; irq <= 4; irq++)
        nvic_enable(irq);

    phase = 1;
    NVIC_STIR = 1;
    dsb();
    isb();
    note('T', 0);
    flush("preempt");
    printf("ipsr in IRQ1 %lu, IABR0 %#lx\n", (unsigned long)seen_ipsr, (unsigned long)seen_iabr);

    phase = 2;
    cpsid();
    NVIC_STIR = 1;
    nvic_set_pending(2);
    NVIC_STIR = 3;
    dsb();
    isb();
    note('T', 0);
    cpsie();
    note('T', 0);
    flush("tailchain");

    phase = 3;
    set_basepri(0x80);
    NVIC_STIR = 1;
    NVIC_STIR = 2;
    NVIC_STIR = 3;
    dsb();
    isb();
    note('T', 0);
    set_basepri(0);
    note('T', 0);
    flush("basepri");

    __asm__ volatile("cpsid f" ::: "memory");
    NVIC_STIR = 3;
    SCB_ICSR = 1u << 31; /* NMIPENDSET */
    dsb();
    isb();
    note('T', 0);
    __asm__ volatile("cpsie f" ::: "memory");
    note('T', 0);
    flush("faultmask");
    return 0;
}
