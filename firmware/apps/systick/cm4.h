/*
 * Cortex-M4 system registers for simcore's system-block test apps (ARMv7-M ARM B3.2-B3.4,
 * C1.6-C1.8; written for simcore, not CMSIS). Shared by the apps as "../systick/cm4.h".
 */
#ifndef SIMCORE_CM4_H
#define SIMCORE_CM4_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))
#define REG8(addr) (*(volatile uint8_t *)(addr))

/* SCB */
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_SCR REG32(0xE000ED10u)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_SHPR(n) REG8(0xE000ED18u + (n) - 4u) /* system handler n = 4..15 */
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define ICSR_PENDSVSET (1u << 28)
#define ICSR_PENDSTSET (1u << 26)
#define CCR_DIV_0_TRP (1u << 4)
#define SHCSR_USGFAULTENA (1u << 18)
#define SHCSR_BUSFAULTENA (1u << 17)

/* NVIC */
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (n))
#define NVIC_ISPR(n) REG32(0xE000E200u + 4u * (n))
#define NVIC_IABR(n) REG32(0xE000E300u + 4u * (n))
#define NVIC_IPR(irq) REG8(0xE000E400u + (irq))
#define NVIC_STIR REG32(0xE000EF00u)

static inline void nvic_enable(unsigned irq) { NVIC_ISER(irq / 32) = 1u << (irq % 32); }
static inline void nvic_set_pending(unsigned irq) { NVIC_ISPR(irq / 32) = 1u << (irq % 32); }

/* SysTick */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SYST_CSR_ENABLE 1u
#define SYST_CSR_TICKINT 2u
#define SYST_CSR_CLKSOURCE 4u
#define SYST_CSR_COUNTFLAG (1u << 16)

/* Debug, DWT, ITM, FPU */
#define DEMCR REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define ITM_STIM(n) REG32(0xE0000000u + 4u * (n))
#define FPU_FPCCR REG32(0xE000EF34u)
#define FPU_FPCAR REG32(0xE000EF38u)

static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb" ::: "memory"); }
static inline void cpsie(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void cpsid(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void set_basepri(uint32_t v) { __asm__ volatile("msr basepri, %0" ::"r"(v) : "memory"); }
static inline uint32_t get_ipsr(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}
static inline uint32_t get_control(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, control" : "=r"(v));
    return v;
}

#endif
