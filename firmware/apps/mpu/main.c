/*
 * mpu: the ARMv7-M MPU (ARM ARM B3.5) seen from privileged and unprivileged code.
 *
 * Regions (the highest number wins where they overlap), background map for privileged code:
 *   0: 0x00000000, 512 MiB (flash): read-only for everyone, executable
 *   1: 0x20000000, 512 MiB (SRAM): read/write for everyone, execute-never
 *   2: secret[1024]: privileged read/write, unprivileged no access
 *   3: 32 bytes in the middle of shared[1024]: privileged read-only, unprivileged no access
 *      (smaller than a 1 KiB page: the rest of that page must stay accessible)
 *   4: zone[2048]: no access at all, except sub-region 1 (bytes 256..511) disabled, so that
 *      part falls through to region 1
 * Privileged code, then an unprivileged thread (CONTROL.nPRIV, on PSP) touch each; the
 * MemManage handler records CFSR and MMFAR and skips the faulting instruction (or returns to
 * the caller for a refused instruction fetch). main prints one line per check and exits 0 if
 * all are as the architecture says: DACCVIOL with MMARVALID and MMFAR = the address for
 * refused data accesses, IACCVIOL without MMARVALID for execute-never, nothing otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cm4.h"

#define MPU_TYPE REG32(0xE000ED90u)
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)
#define MPU_RBAR_A1 REG32(0xE000EDA4u)
#define MPU_RASR_A1 REG32(0xE000EDA8u)
#define SHCSR_MEMFAULTENA (1u << 16)
#define CFSR_IACCVIOL (1u << 0)
#define CFSR_DACCVIOL (1u << 1)
#define CFSR_MMARVALID (1u << 7)

/* RASR: XN [28], AP [26:24], SRD [15:8], SIZE [5:1] (region of 2^(SIZE+1) bytes), ENABLE [0] */
#define RASR(xn, ap, srd, log2size) (((xn) << 28) | ((ap) << 24) | ((srd) << 8) | (((log2size) - 1u) << 1) | 1u)
#define RBAR_VALID (1u << 4)

static uint8_t secret[1024] __attribute__((aligned(1024)));
static uint8_t shared[1024] __attribute__((aligned(1024)));
static uint8_t zone[2048] __attribute__((aligned(2048)));
static uint32_t user_stack[256] __attribute__((aligned(8)));
static uint16_t ram_code[4] __attribute__((aligned(4)));

/* What the fault handler saw (written in handler mode). */
static volatile uint32_t fault_cfsr, fault_mmfar, faults;

__attribute__((used)) void memmanage_c(uint32_t *frame)
{
    faults++;
    fault_cfsr = SCB_CFSR;
    fault_mmfar = SCB_MMFAR;
    SCB_CFSR = fault_cfsr; /* write one to clear */
    if (fault_cfsr & CFSR_IACCVIOL) {
        frame[6] = frame[5] & ~1u; /* refused fetch: return to the caller (stacked LR) */
    } else {
        uint16_t first = *(uint16_t *)frame[6];
        frame[6] += (first & 0xF800u) >= 0xE800u ? 4u : 2u; /* skip the 16- or 32-bit instruction */
    }
}

__attribute__((naked)) void MemManage_Handler(void)
{
    __asm__ volatile("tst lr, #4\n"
                     "ite eq\n"
                     "mrseq r0, msp\n"
                     "mrsne r0, psp\n"
                     "push {r4, lr}\n"
                     "bl memmanage_c\n"
                     "pop {r4, pc}\n");
}

/* SVC #0 from the unprivileged thread: back to privileged thread mode (CONTROL.nPRIV = 0). */
void SVC_Handler(void)
{
    uint32_t control;
    __asm__ volatile("mrs %0, control" : "=r"(control));
    __asm__ volatile("msr control, %0\nisb" ::"r"(control & ~1u) : "memory");
}

struct probe {
    const char *what;
    volatile uint8_t *addr;
    int write;
    int expect_fault; /* 1: DACCVIOL at addr */
};

struct job {
    const struct probe *probes;
    int n;
};

static uint32_t seen_cfsr[16], seen_mmfar[16], seen_faults[16];
static int nseen;

static void record(void)
{
    seen_cfsr[nseen] = fault_cfsr;
    seen_mmfar[nseen] = fault_mmfar;
    seen_faults[nseen] = faults;
    fault_cfsr = fault_mmfar = faults = 0;
    nseen++;
}

__attribute__((noinline)) static void touch(volatile uint8_t *p, int write)
{
    if (write)
        *p = 0x5A;
    else
        (void)*p;
    record();
}

typedef void (*fn_t)(void);

static void run_probes(const struct job *job)
{
    for (int i = 0; i < job->n; i++)
        touch(job->probes[i].addr, job->probes[i].write);
}

/* Runs in unprivileged thread mode on the process stack. */
static void user_thread(const struct job *job)
{
    run_probes(job);
    ((fn_t)((uintptr_t)ram_code | 1u))(); /* execute-never SRAM */
    record();
    __asm__ volatile("svc #0" ::: "memory"); /* back to privileged */
}

/* fn(arg) in unprivileged thread mode on PSP = stack_top; back on MSP, privileged, after it. */
__attribute__((naked)) static void run_unprivileged(void (*fn)(const struct job *), const struct job *arg,
                                                    uint32_t *stack_top)
{
    __asm__ volatile("push {r4, lr}\n"
                     "msr psp, r2\n"
                     "mrs r3, control\n"
                     "orr r3, r3, #3\n" /* SPSEL (thread uses PSP) | nPRIV */
                     "msr control, r3\n"
                     "isb\n"
                     "mov r3, r0\n"
                     "mov r0, r1\n"
                     "blx r3\n" /* fn ends with svc #0: privileged again */
                     "mrs r3, control\n"
                     "bic r3, r3, #2\n" /* back to MSP */
                     "msr control, r3\n"
                     "isb\n"
                     "pop {r4, pc}\n");
}

static int check(const char *who, const struct probe *p, int i)
{
    uint32_t want = p->expect_fault ? (CFSR_DACCVIOL | CFSR_MMARVALID) : 0;
    int at = seen_mmfar[i] == (uint32_t)(uintptr_t)p->addr;
    int ok = seen_cfsr[i] == want && seen_faults[i] == (uint32_t)p->expect_fault && (!p->expect_fault || at);
    printf("%s %s %s: %s CFSR=%08lx MMFAR=%s%s\n", who, p->write ? "write" : "read", p->what,
           seen_faults[i] ? "fault" : "no fault", (unsigned long)seen_cfsr[i],
           seen_faults[i] ? (at ? "address" : "WRONG") : "-", ok ? "" : "  FAILED");
    return ok;
}

static const struct probe priv[] = {
    {"secret", &secret[0], 1, 0},        {"secret", &secret[100], 0, 0}, {"guard", &shared[520], 0, 0},
    {"guard", &shared[516], 1, 1},       {"next to guard", &shared[600], 1, 0},
};
static const struct probe user[] = {
    {"secret", &secret[4], 0, 1},
    {"secret", &secret[8], 1, 1},
    {"guard", &shared[520], 0, 1},
    {"next to guard", &shared[100], 1, 0},
    {"zone sub-region 0", &zone[100], 0, 1},
    {"zone sub-region 1", &zone[300], 1, 0},
    {"flash", (volatile uint8_t *)0x100, 1, 1},
};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
    printf("mpu: MPU_TYPE=%08lx (%lu regions)\n", (unsigned long)MPU_TYPE, (unsigned long)(MPU_TYPE >> 8) & 0xFFu);
    ram_code[0] = 0x4770; /* bx lr */
    MPU_RNR = 0;
    MPU_RBAR = 0x00000000u;
    MPU_RASR = RASR(0u, 6u, 0u, 29u); /* flash: RO/RO */
    MPU_RBAR = 0x20000000u | RBAR_VALID | 1u;
    MPU_RASR = RASR(1u, 3u, 0u, 29u); /* SRAM: RW/RW, XN */
    MPU_RBAR_A1 = (uint32_t)(uintptr_t)secret | RBAR_VALID | 2u;
    MPU_RASR_A1 = RASR(1u, 1u, 0u, 10u); /* RW/none */
    MPU_RBAR = ((uint32_t)(uintptr_t)shared + 512u) | RBAR_VALID | 3u;
    MPU_RASR = RASR(1u, 5u, 0u, 5u); /* 32 bytes RO/none */
    MPU_RBAR = (uint32_t)(uintptr_t)zone | RBAR_VALID | 4u;
    MPU_RASR = RASR(1u, 0u, 0x02u, 11u); /* 2 KiB no access, sub-region 1 disabled */
    MPU_RNR = 2;
    printf("region 2: RBAR=%08lx RASR=%08lx\n", (unsigned long)MPU_RBAR, (unsigned long)MPU_RASR);
    SCB_SHCSR |= SHCSR_MEMFAULTENA;
    MPU_CTRL = 5u; /* ENABLE | PRIVDEFENA */
    __asm__ volatile("dsb\nisb" ::: "memory");

    int ok = 1;
    struct job pj = {priv, COUNT(priv)};
    nseen = 0;
    run_probes(&pj);
    for (int i = 0; i < COUNT(priv); i++)
        ok &= check("privileged", &priv[i], i);

    struct job uj = {user, COUNT(user)};
    nseen = 0;
    run_unprivileged(user_thread, &uj, &user_stack[256]);
    uint32_t control;
    __asm__ volatile("mrs %0, control" : "=r"(control));
    for (int i = 0; i < COUNT(user); i++)
        ok &= check("unprivileged", &user[i], i);
    int n = COUNT(user);
    int xn = seen_cfsr[n] == CFSR_IACCVIOL && seen_faults[n] == 1;
    printf("unprivileged execute SRAM (XN): %s CFSR=%08lx%s\n", seen_faults[n] ? "fault" : "no fault",
           (unsigned long)seen_cfsr[n], xn ? "" : "  FAILED");
    ok &= xn;
    printf("back in privileged thread mode: CONTROL=%lu\n", (unsigned long)control);
    ok &= control == 0;
    MPU_CTRL = 0;
    printf("mpu: %s\n", ok ? "all as expected" : "MISMATCH");
    return ok ? 0 : 1;
}
