/*
 * clock_max: bring the part up to its maximum clock as the reference manuals describe it, then
 * count 1000 SysTick interrupts at 1 kHz and print what the clock did.
 *
 * STM32F407 (RM0090 7.2 and 3.5.1): HSE 8 MHz crystal -> PLL (M 8, N 336, P 2, Q 7) = 168 MHz,
 * voltage scale 1, 5 flash wait states with prefetch and caches, APB1 /4, APB2 /2.
 * STM32L4R5 (RM0432 6.2 and 5.1.8): MSI 4 MHz -> PLL (M 1, N 60, R 2) = 120 MHz, range 1 boost
 * mode (PWR_CR5.R1MODE = 0), 5 wait states, AHB /2 across the switch for at least 1 us.
 *
 * `-- lowlatency` leaves the flash latency at 0 wait states (a firmware bug simcore reports).
 */
#include <stdio.h>
#include <string.h>

#include "../clock_max/stm32.h"
#include "../systick/cm4.h"
#include "cmdline.h"

static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

static const char *mode(void) { return sh_args(); }

static uint32_t mhz(uint32_t hz) { return hz / 1000000u; }

#if defined(STM32F4)
#define CLOCK_HZ 168000000u
static const char *RESET_CLOCK = "HSI 16 MHz";

static void clock_up(int low_latency)
{
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    PWR_CR |= PWR_CR_VOS; /* scale 1: up to 168 MHz */

    uint32_t t = DWT_CYCCNT;
    RCC_CR |= RCC_CR_HSEON;
    while (!(RCC_CR & RCC_CR_HSERDY)) {
    }
    printf("HSE ready after %lu cycles at 16 MHz\n", (unsigned long)(DWT_CYCCNT - t));

    /* flash first: 5 wait states at 150-168 MHz, 2.7-3.6 V (RM0090 Table 10) */
    uint32_t latency = low_latency ? 0u : 5u;
    FLASH_ACR = FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN | latency;
    while ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != latency) {
    }
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2; /* AHB /1 */
    RCC_PLLCFGR = 8u | (336u << 6) | (0u << 16) | RCC_PLLCFGR_SRC_HSE | (7u << 24);
    t = DWT_CYCCNT;
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    printf("PLL locked after %lu cycles at 16 MHz\n", (unsigned long)(DWT_CYCCNT - t));
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & (3u << 2)) != RCC_CFGR_SWS_PLL) {
    }
}
#else
#define CLOCK_HZ 120000000u
static const char *RESET_CLOCK = "MSI 4 MHz";

static void clock_up(int low_latency)
{
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    PWR_CR5 &= ~PWR_CR5_R1MODE; /* range 1 boost: up to 120 MHz */
    uint32_t polls = 0;
    while (PWR_SR2 & PWR_SR2_VOSF)
        polls++;
    printf("voltage range 1 boost after %lu polls of VOSF\n", (unsigned long)polls);

    uint32_t latency = low_latency ? 0u : 5u; /* 5 WS at 100-120 MHz, range 1 */
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | FLASH_ACR_PRFTEN | latency;
    while ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != latency) {
    }
    RCC_PLLCFGR = RCC_PLLCFGR_SRC_MSI | (0u << 4) | (60u << 8) | (0u << 25) | RCC_PLLCFGR_REN;
    uint32_t t = DWT_CYCCNT;
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    printf("PLL locked after %lu cycles at 4 MHz\n", (unsigned long)(DWT_CYCCNT - t));
    /* above 80 MHz: through AHB /2 for at least 1 us (RM0432 6.2.9) */
    RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_HPRE_MASK | RCC_CFGR_SW_MASK)) | RCC_CFGR_HPRE_DIV2 | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & (3u << 2)) != RCC_CFGR_SWS_PLL) {
    }
    t = DWT_CYCCNT;
    while (DWT_CYCCNT - t < 60u) { /* 1 us at 60 MHz */
    }
    RCC_CFGR &= ~RCC_CFGR_HPRE_MASK;
}
#endif

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    const char *m = mode();
    printf("clock_max on %s: reset clock %s\n", BOARD_NAME, RESET_CLOCK);
    clock_up(strcmp(m, "lowlatency") == 0);
    printf("SYSCLK from the PLL: SystemCoreClock %lu Hz\n", (unsigned long)CLOCK_HZ);

    SYST_RVR = CLOCK_HZ / 1000u - 1u; /* 1 kHz from the core clock */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    uint32_t t = DWT_CYCCNT;
    ticks = 0;
    while (ticks < 1000u)
        wfi();
    uint32_t cycles = DWT_CYCCNT - t;
    SYST_CSR = 0;
    printf("1000 SysTick interrupts in %lu cycles = %lu.%03lu ms at %lu MHz\n", (unsigned long)cycles,
           (unsigned long)(cycles / (CLOCK_HZ / 1000u)), (unsigned long)(cycles % (CLOCK_HZ / 1000u) / (CLOCK_HZ / 1000000u)),
           (unsigned long)mhz(CLOCK_HZ));
    return 0;
}
