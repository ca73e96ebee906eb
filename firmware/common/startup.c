/*
 * Cortex-M4F start-up for simcore firmware: vector table and reset handler.
 *
 * Written for simcore from the ARMv7-M Architecture Reference Manual (B1.5.2 vector table,
 * B3.2.20 CPACR) and the Cortex-M4 Generic User Guide; not derived from CMSIS.
 *
 * The table has 16 system entries followed by BOARD_NUM_IRQ external interrupt entries
 * (BOARD_NUM_IRQ and BOARD_IRQ_LIST come from the generated board.h). Every handler is a
 * weak alias of Default_Handler, so an application overrides one by defining a function of
 * the same name: HardFault_Handler, SysTick_Handler, IRQ38_Handler, ...
 */

#include <stdint.h>
#include <stdlib.h>

#include "board.h"
#include "console.h"

/* Symbols from common/cortex-m4.ld */
extern uint32_t __StackTop;
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;

extern int main(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void Default_Handler(void);

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))

void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

#define DECLARE_IRQ(n) void IRQ##n##_Handler(void) WEAK_DEFAULT;
BOARD_IRQ_LIST(DECLARE_IRQ)
#undef DECLARE_IRQ

typedef void (*vector_t)(void);

/* ARMv7-M B1.5.3: entry 0 is the initial main stack pointer, entry 1 the reset vector. */
__attribute__((section(".isr_vector"), used))
const vector_t __isr_vector[16 + BOARD_NUM_IRQ] = {
    (vector_t)(uintptr_t)&__StackTop,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,                 /* reserved */
    SVC_Handler,
    DebugMon_Handler,
    0,                          /* reserved */
    PendSV_Handler,
    SysTick_Handler,
#define IRQ_ENTRY(n) IRQ##n##_Handler,
    BOARD_IRQ_LIST(IRQ_ENTRY)
#undef IRQ_ENTRY
};

/* The board this ELF was built for, as a NUL-terminated string in the non-loaded section
 * .simcore.board (the linker script marks it INFO), so a loader can warn on a mismatch. */
__attribute__((section(".simcore.board"), used))
static const char simcore_board[] = BOARD_NAME;

/* newlib's __libc_init_array/__libc_fini_array call these (normally from crti.o, which
 * -nostartfiles leaves out). */
void _init(void) {}
void _fini(void) {}

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

/* Keep GCC from turning the copy loops into memcpy/memset calls: this runs before
 * anything else, and the firmware should not depend on the library to start. */
__attribute__((noreturn, used, optimize("no-tree-loop-distribute-patterns")))
void Reset_Handler(void)
{
    /* Enable full access to CP10/CP11 (the FPU) before any floating-point instruction. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");

    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;

    console_init();
    __libc_init_array();
    exit(main());
}

void Default_Handler(void)
{
    for (;;) {
    }
}
