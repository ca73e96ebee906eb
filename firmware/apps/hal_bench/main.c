/*
 * hal_bench: what a STM32Cube HAL application spends its time on, written for simcore (no vendor
 * code): HAL_Init's 1 kHz SysTick tick (uwTick++ in SysTick_Handler), printf through the polled
 * USART console, HAL_Delay as HAL writes it (HAL_GetTick() in a loop, one tick added to the wait).
 * The mode is the command line (`simcore run hal_bench.elf -- <mode>`):
 *
 *   hal N     N times: a line through the console, then HAL_Delay(1)
 *   flag100   a 100 ms busy-wait on a timer flag: SysTick's COUNTFLAG at HCLK/8, no interrupt
 *   tim100    a 100 ms busy-wait on TIM2's update flag (SR.UIF) in one-pulse mode, 1 kHz counter
 *   idle      nothing (the benchmark's baseline: start-up and exit)
 *
 * Runs on the reset clock (HSI 16 MHz on the F407, MSI 4 MHz on the L4R5); DWT times each mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clock_max/stm32.h"
#include "../systick/cm4.h"
#include "cmdline.h"

#if defined(STM32F4)
#define RESET_HZ 16000000u
#define TIM2EN_REG RCC_APB1ENR /* RM0090 7.3.13: TIM2EN is bit 0 */
#else
#define RESET_HZ 4000000u
#define TIM2EN_REG RCC_APB1ENR1 /* RM0432 6.4.19: TIM2EN is bit 0 */
#endif
/* TIM2 at 0x40000000 on both parts (RM0090 18.4, RM0432 31.4) */
#define TIM2_CR1 REG32(0x40000000u + 0x00u)
#define TIM2_SR REG32(0x40000000u + 0x10u)
#define TIM2_EGR REG32(0x40000000u + 0x14u)
#define TIM2_PSC REG32(0x40000000u + 0x28u)
#define TIM2_ARR REG32(0x40000000u + 0x2Cu)
#define TIM_CR1_CEN (1u << 0)
#define TIM_CR1_OPM (1u << 3)
#define TIM_SR_UIF (1u << 0)
#define TIM_EGR_UG (1u << 0)

static volatile uint32_t uwTick;

void SysTick_Handler(void) { uwTick++; }

__attribute__((noinline)) uint32_t HAL_GetTick(void) { return uwTick; }

__attribute__((noinline)) void HAL_Delay(uint32_t delay)
{
    uint32_t tickstart = HAL_GetTick();
    uint32_t wait = delay;
    if (wait < 0xFFFFFFFFu)
        wait += 1u; /* at least the requested time, as HAL does */
    while ((HAL_GetTick() - tickstart) < wait) {
    }
}

static void HAL_Init(void)
{
    SYST_RVR = RESET_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

static void report(const char *what, uint32_t t0)
{
    uint32_t c = DWT_CYCCNT - t0;
    uint32_t per_ms = RESET_HZ / 1000u;
    printf("hal_bench %s: %lu cycles = %lu.%03lu ms\n", what, (unsigned long)c, (unsigned long)(c / per_ms),
           (unsigned long)(c % per_ms * 1000u / per_ms));
}

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    char *mode = sh_args();
    char *arg = strchr(mode, ' ');
    uint32_t n = arg ? (uint32_t)strtoul(arg + 1, 0, 10) : 100u;
    uint32_t t0 = DWT_CYCCNT;

    if (strncmp(mode, "hal", 3) == 0) {
        HAL_Init();
        for (uint32_t i = 0; i < n; i++) {
            printf("hal_bench: line %lu of %lu, tick %lu\n", (unsigned long)i, (unsigned long)n,
                   (unsigned long)HAL_GetTick());
            HAL_Delay(1);
        }
        report("hal", t0);
    } else if (strncmp(mode, "flag100", 7) == 0) {
        SYST_CSR = 0;
        SYST_RVR = RESET_HZ / 8u / 10u - 1u; /* 100 ms of HCLK/8 */
        SYST_CVR = 0;
        SYST_CSR = SYST_CSR_ENABLE;
        while (!(SYST_CSR & SYST_CSR_COUNTFLAG)) {
        }
        report("flag100", t0);
    } else if (strncmp(mode, "tim100", 6) == 0) {
        TIM2EN_REG |= 1u;               /* TIM2's clock (APB1: the timer clock is HCLK at reset) */
        TIM2_PSC = RESET_HZ / 1000u - 1u; /* 1 kHz counter */
        TIM2_ARR = 100u - 1u;            /* 100 counts: 100 ms */
        TIM2_EGR = TIM_EGR_UG;           /* load PSC (sets UIF: cleared next) */
        TIM2_SR = 0;
        TIM2_CR1 = TIM_CR1_OPM | TIM_CR1_CEN;
        while (!(TIM2_SR & TIM_SR_UIF)) {
        }
        report("tim100", t0);
    } else if (strncmp(mode, "idle", 4) == 0) {
        report("idle", t0);
    } else {
        printf("hal_bench: unknown mode '%s'\n", mode);
        return 2;
    }
    return 0;
}
