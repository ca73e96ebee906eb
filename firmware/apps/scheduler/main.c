/*
 * scheduler: a two-task round-robin scheduler on PSP, switched by PendSV.
 *
 * main() builds an initial exception frame for each task on its own stack (arrays inside
 * main's frame, so they lie within the reserved stack), then `svc 0`: the SVC handler
 * starts task A by returning to thread mode on PSP (EXC_RETURN 0xFFFFFFFD). Tasks yield
 * with `svc 1`, whose handler sets PENDSVSET (SysTick runs too, preempting the tasks on PSP). The
 * PendSV handler (lowest priority) saves r4-r11 on the running task's PSP stack and
 * restores the other's. Each task prints its name and a counter; task B ends the run
 * after both tasks reached 3 rounds. Both tasks also do float work across switches
 * (extended frames on PSP, EXC_RETURN 0xFFFFFFED) and check it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "board.h"
#include "cm4.h"

#define STACK_WORDS 256

struct task {
    uint32_t *sp;
};
__attribute__((used)) struct task tasks[2];
__attribute__((used)) volatile int current;
__attribute__((used)) volatile uint32_t switches;
static volatile uint32_t svc_count, control_in_task, ticks;

static void yield(void) { __asm__ volatile("svc 1" ::: "memory"); }

static void task_body(int id)
{
    float acc = (float)(id + 1);
    for (int round = 0; round < 3; round++) {
        control_in_task = get_control();
        printf("task %c round %d psp-control %lu\n", 'A' + id, round, (unsigned long)(control_in_task & 2u));
        acc = acc * 1.5f + 0.25f;
        yield();
        acc = acc * 1.5f + 0.25f;
    }
    printf("task %c float %ld\n", 'A' + id, (long)(acc * 1000.0f));
}

static void task_a(void)
{
    task_body(0);
    for (;;)
        yield();
}

static void task_b(void)
{
    task_body(1);
    printf("switches %lu, svc %lu, ticks %s\n", (unsigned long)switches, (unsigned long)svc_count,
           ticks > 0 ? "yes" : "no");
    exit(0);
}

/* SVC 0: start the first task; SVC 1: yield (pend PendSV). */
__attribute__((used)) void svc_dispatch(uint32_t *frame, uint32_t excret)
{
    (void)excret;
    uint8_t imm = ((uint8_t *)frame[6])[-2];
    svc_count++;
    if (imm == 1)
        SCB_ICSR = ICSR_PENDSVSET;
}

__attribute__((naked)) void SVC_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "ldr r1, [r0, #24]\n"
        "ldrb r1, [r1, #-2]\n"
        "cbz r1, 1f\n"
        "mov r1, lr\n"
        "b svc_dispatch\n"
        "1:\n" /* svc 0: switch to task 0's PSP and return to thread mode on PSP */
        "ldr r0, =tasks\n"
        "ldr r0, [r0]\n"
        "ldmia r0!, {r4-r11}\n"
        "msr psp, r0\n"
        "ldr lr, =0xFFFFFFFD\n"
        "bx lr\n");
}

__attribute__((naked)) void PendSV_Handler(void)
{
    __asm__ volatile(
        "mrs r0, psp\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vstmdbeq r0!, {s16-s31}\n"
        "stmdb r0!, {r4-r11, lr}\n"
        "ldr r1, =current\n"
        "ldr r2, [r1]\n"
        "ldr r3, =tasks\n"
        "str r0, [r3, r2, lsl #2]\n"
        "eor r2, r2, #1\n"
        "str r2, [r1]\n"
        "ldr r0, [r3, r2, lsl #2]\n"
        "ldr r1, =switches\n"
        "ldr r2, [r1]\n"
        "add r2, r2, #1\n"
        "str r2, [r1]\n"
        "ldmia r0!, {r4-r11, lr}\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vldmiaeq r0!, {s16-s31}\n"
        "msr psp, r0\n"
        "bx lr\n");
}

void SysTick_Handler(void) { ticks++; } /* preempts the tasks on PSP */

static uint32_t *initial_frame(uint32_t *top, void (*entry)(void), int first)
{
    uint32_t *sp = top;
    *--sp = 1u << 24;             /* xPSR: Thumb */
    *--sp = (uint32_t)entry;      /* PC */
    *--sp = 0xFFFFFFFFu;          /* LR: tasks never return */
    for (int i = 0; i < 5; i++)   /* r12, r3-r0 */
        *--sp = 0;
    if (!first)
        *--sp = 0xFFFFFFFDu;      /* EXC_RETURN for PendSV's restore (basic frame, PSP) */
    for (int i = 0; i < 8; i++)   /* r4-r11 */
        *--sp = 0;
    return sp;
}

int main(void)
{
    uint32_t stack_a[STACK_WORDS] __attribute__((aligned(8)));
    uint32_t stack_b[STACK_WORDS] __attribute__((aligned(8)));

    SCB_SHPR(14) = 0xFF; /* PendSV lowest */
    SCB_SHPR(15) = 0x80; /* SysTick */
    SCB_SHPR(11) = 0x40; /* SVCall above both */
    tasks[0].sp = initial_frame(stack_a + STACK_WORDS, task_a, 1);
    tasks[1].sp = initial_frame(stack_b + STACK_WORDS, task_b, 0);
    current = 0;
    SYST_RVR = 2000u - 1u; /* often enough to preempt the tasks */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    __asm__ volatile("svc 0" ::: "memory");
    for (;;) {
    }
}
