/*
 * watchdog: a firmware that stops feeding its watchdogs is reset (RM0090 sections 21-22,
 * RM0432 sections 46-47). The reset flags in RCC_CSR tell each boot what happened before:
 *
 *   power-on  start the IWDG (about 10 ms: prescaler /4, reload 80 on the 32 kHz LSI), feed it
 *             five times every 5 ms, then stop feeding it and spin: the IWDG resets the part;
 *   IWDG      enable the WWDG and reload it while its counter is still above the window:
 *             the WWDG resets the part at once;
 *   WWDG      print what happened and exit.
 */
#include <stdio.h>

#include "../clock_max/stm32.h"
#include "../systick/cm4.h"

#define IWDG_BASE 0x40003000u
#define IWDG_KR REG32(IWDG_BASE + 0x00u)
#define IWDG_PR REG32(IWDG_BASE + 0x04u)
#define IWDG_RLR REG32(IWDG_BASE + 0x08u)
#define IWDG_SR REG32(IWDG_BASE + 0x0Cu)
#define WWDG_BASE 0x40002C00u
#define WWDG_CR REG32(WWDG_BASE + 0x00u)
#define WWDG_CFR REG32(WWDG_BASE + 0x04u)

#if defined(STM32F4)
#define APB1ENR RCC_APB1ENR
#define WWDGEN RCC_APB1ENR_WWDGEN
#define CLOCK_HZ 16000000u /* HSI */
#else
#define APB1ENR RCC_APB1ENR1
#define WWDGEN RCC_APB1ENR1_WWDGEN
#define CLOCK_HZ 4000000u /* MSI */
#endif

static void wait_ms(uint32_t ms)
{
    uint32_t t = DWT_CYCCNT;
    while (DWT_CYCCNT - t < ms * (CLOCK_HZ / 1000u)) {
    }
}

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    uint32_t csr = RCC_CSR;
    RCC_CSR |= RCC_CSR_RMVF; /* clear the reset flags for the next boot */

    if (csr & RCC_CSR_WWDGRSTF) {
        printf("watchdog: reset by the WWDG (RCC_CSR %08lx): done\n", (unsigned long)csr);
        return 0;
    }
    if (csr & RCC_CSR_IWDGRSTF) {
        printf("watchdog: reset by the IWDG (RCC_CSR %08lx)\n", (unsigned long)csr);
        APB1ENR |= WWDGEN;
        WWDG_CFR = 0x50u;        /* window 0x50, prescaler /1 */
        WWDG_CR = 0x80u | 0x7Fu; /* enable with the counter at 0x7F */
        printf("watchdog: reloading the WWDG above its window\n");
        WWDG_CR = 0x7Fu; /* too early: the counter is above 0x50 */
        for (;;) {
        }
    }
    printf("watchdog: power-on (RCC_CSR %08lx); IWDG at about 10 ms\n", (unsigned long)csr);
    IWDG_KR = 0xCCCCu; /* start */
    IWDG_KR = 0x5555u; /* unlock PR and RLR */
    IWDG_PR = 0u;      /* /4: 8 kHz */
    IWDG_RLR = 80u;    /* (80 + 1) / 8 kHz = 10.125 ms */
    while (IWDG_SR) {
    }
    IWDG_KR = 0xAAAAu;
    for (int i = 0; i < 5; i++) {
        wait_ms(5);
        IWDG_KR = 0xAAAAu; /* feed */
    }
    printf("watchdog: fed 5 times; now the firmware hangs\n");
    for (;;) {
    }
}
