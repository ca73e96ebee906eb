/*
 * faults: one deliberate fault per run, chosen by the semihosting command line
 * (`simcore run faults.elf -- <mode> [spin]`), and a HardFault handler that prints the
 * fault status registers and exits with status 3 (or, with "spin", spins after printing,
 * so simcore must notice that the handler never returns).
 *
 * modes: null_write (write to address 0: flash, read-only -> BusFault PRECISERR, BFAR 0),
 *        unmapped_read (read 0x30000000 -> BusFault PRECISERR), undef (udf -> UsageFault
 *        UNDEFINSTR), div0 (CCR.DIV_0_TRP + sdiv by 0 -> UsageFault DIVBYZERO),
 *        unaligned_ldm (ldm from an address = 2 mod 4 -> UsageFault UNALIGNED),
 *        svc_masked (svc with PRIMASK set -> HardFault FORCED), exec_xn (call into the peripheral
 *        region, execute-never -> MemManage IACCVIOL), exec_unmapped (call 0x30000000 -> BusFault
 *        IBUSERR), bad_excreturn (an SVC handler returns with EXC_RETURN 0xFFFFFFF5 -> UsageFault
 *        INVPC), unaligned_ldr (an unaligned word load works, then faults with CCR.UNALIGN_TRP ->
 *        UsageFault UNALIGNED), irq_fault (the null write inside IRQ5's handler: the backtrace
 *        goes through the exception frame back to main), reset (AIRCR.SYSRESETREQ: simcore stops, "reset requested"), recover (UsageFault enabled
 *        in SHCSR; its handler skips the faulting sdiv and returns; exit status 0).
 * With BusFault/UsageFault disabled (the reset state) they escalate to HardFault (FORCED).
 * faults_nohandler builds the same program without any handler (NO_HANDLERS).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm4.h"
#include "semihosting.h"

static int spin_after_report;

#ifndef NO_HANDLERS
void HardFault_Handler(void)
{
    printf("HardFault CFSR=%08lx HFSR=%08lx BFAR=%08lx MMFAR=%08lx\n", (unsigned long)SCB_CFSR,
           (unsigned long)SCB_HFSR, (unsigned long)SCB_BFAR, (unsigned long)SCB_MMFAR);
    if (spin_after_report)
        for (;;) {
        }
    exit(3);
}

/* Skip the faulting 32-bit instruction: stacked PC += 4 (ARMv7-M B1.5.6 frame layout). */
__attribute__((used)) void usage_fault_c(uint32_t *frame)
{
    printf("UsageFault CFSR=%08lx at +%lu\n", (unsigned long)SCB_CFSR, (unsigned long)(frame[6] & 1u));
    SCB_CFSR = SCB_CFSR; /* write one to clear */
    frame[6] += 4;
}

__attribute__((naked)) void UsageFault_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "push {r4, lr}\n"
        "bl usage_fault_c\n"
        "pop {r4, pc}\n");
}
#endif

/* SVC 2 returns with an invalid EXC_RETURN (reserved mode bits). */
__attribute__((naked)) void SVC_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =0xFFFFFFF5\n"
        "bx r0\n");
}

void IRQ5_Handler(void) { *(volatile uint32_t *)0 = 5u; }

static char cmdline[128];

static const char *arg(int n)
{
    static char copy[128];
    strcpy(copy, cmdline);
    char *tok = strtok(copy, " ");
    for (int i = 0; tok && i < n; i++)
        tok = strtok(NULL, " ");
    return tok ? tok : "";
}

__attribute__((noipa)) static uint32_t unaligned_ldm(const uint8_t *p)
{
    uint32_t a, b;
    __asm__ volatile("ldm %2, {%0, %1}" : "=r"(a), "=r"(b) : "r"(p) : "memory");
    return a + b;
}

__attribute__((noipa)) static int divide(int a, int b) { return a / b; }

__attribute__((noipa)) static uint32_t load_word(const void *p) { return *(const volatile uint32_t *)p; }

static uint32_t words[4] = {1, 2, 3, 4};

int main(void)
{
    struct {
        char *buf;
        int len;
    } block = {cmdline, sizeof cmdline};
    if (sh_call(0x15, &block) != 0)
        return 9;
    const char *mode = arg(1);
    spin_after_report = strcmp(arg(2), "spin") == 0;
    printf("mode %s\n", mode);
    volatile int zero = 0;
    if (!strcmp(mode, "null_write")) {
        *(volatile uint32_t *)0 = 0xDEADBEEFu;
    } else if (!strcmp(mode, "unmapped_read")) {
        printf("read %lu\n", (unsigned long)*(volatile uint32_t *)0x30000000u);
    } else if (!strcmp(mode, "undef")) {
        __asm__ volatile("udf #7");
    } else if (!strcmp(mode, "div0")) {
        SCB_CCR |= CCR_DIV_0_TRP;
        printf("quotient %d\n", divide(7, zero));
    } else if (!strcmp(mode, "unaligned_ldm")) {
        printf("sum %lu\n", (unsigned long)unaligned_ldm((const uint8_t *)words + 2));
    } else if (!strcmp(mode, "svc_masked")) {
        cpsid();
        __asm__ volatile("svc 5");
    } else if (!strcmp(mode, "exec_xn")) {
        ((void (*)(void))0x40010001u)();
    } else if (!strcmp(mode, "exec_unmapped")) {
        ((void (*)(void))0x30000001u)();
    } else if (!strcmp(mode, "bad_excreturn")) {
        __asm__ volatile("svc 2" ::: "r0", "memory");
    } else if (!strcmp(mode, "unaligned_ldr")) {
        printf("unaligned word %08lx\n", (unsigned long)load_word((const uint8_t *)words + 1));
        SCB_CCR |= 1u << 3; /* UNALIGN_TRP */
        printf("with UNALIGN_TRP %08lx\n", (unsigned long)load_word((const uint8_t *)words + 1));
    } else if (!strcmp(mode, "irq_fault")) {
        nvic_enable(5);
        NVIC_STIR = 5;
        dsb();
        isb();
    } else if (!strcmp(mode, "reset")) {
        SCB_AIRCR = 0x05FA0004u;
        dsb();
        for (;;) {
        }
    } else if (!strcmp(mode, "recover")) {
        SCB_SHCSR |= SHCSR_USGFAULTENA;
        SCB_CCR |= CCR_DIV_0_TRP;
        volatile int q = divide(7, zero); /* skipped by the handler: q is whatever r0 held */
        (void)q;
        printf("recovered, CFSR now %08lx\n", (unsigned long)SCB_CFSR);
        return 0;
    } else {
        printf("unknown mode\n");
        return 8;
    }
    printf("no fault?\n");
    return 1;
}
