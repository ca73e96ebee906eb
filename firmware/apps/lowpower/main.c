/*
 * lowpower: the low-power modes of the STM32F407 (RM0090 5.3) and STM32L4R5 (RM0432 6.3), written
 * from the reference manuals' entry sequences. The reset flags tell each boot what happened before:
 *
 *   power-on  Sleep: 100 SysTick interrupts at 1 kHz, wfi between them (SLEEPDEEP clear); then Stop
 *             (F4: PWR_CR.LPDS, the low-power regulator; L4: PWR_CR1.LPMS = Stop 2) with the IWDG
 *             counting 50 ms on the LSI, which runs in Stop: the IWDG resets the part;
 *   IWDG      Standby (F4: PWR_CR.PDDS; L4: LPMS = Standby) with the IWDG at 50 ms again: the part
 *             wakes with a reset and PWR's SBF set;
 *   SBF       print the flags, clear SBF, exit.
 *
 * `lowpower resume ADDR MS [hsi]`: the clock away from the reset clock (F4: HSE; L4: MSI 16 MHz), then
 * Stop until an interrupt on IRQ 3 (RTC_WKUP on both parts) from a wake-up source at ADDR armed with
 * MS milliseconds (tests use a stand-in for the RTC wake-up timer); prints the clock after Stop
 * (F4: HSI; L4: MSI, or HSI16 with `hsi`: RCC_CFGR.STOPWUCK).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clock_max/stm32.h"
#include "../systick/cm4.h"
#include "cmdline.h"

#define SCR_SLEEPDEEP (1u << 2)
#define IWDG_BASE 0x40003000u
#define IWDG_KR REG32(IWDG_BASE + 0x00u)
#define IWDG_PR REG32(IWDG_BASE + 0x04u)
#define IWDG_RLR REG32(IWDG_BASE + 0x08u)
#define IWDG_SR REG32(IWDG_BASE + 0x0Cu)

#if defined(STM32F4)
#define RESET_HZ 16000000u /* HSI */
#define APB1ENR RCC_APB1ENR
#define PWREN RCC_APB1ENR_PWREN
#define PWR_CSR REG32(PWR_BASE + 0x04u)
#define PWR_CR_LPDS (1u << 0)
#define PWR_CR_PDDS (1u << 1)
#define PWR_CR_CWUF (1u << 2)
#define PWR_CR_CSBF (1u << 3)
#define PWR_CSR_WUF (1u << 0)
#define PWR_CSR_SBF (1u << 1)
static int standby_flag(void) { return (PWR_CSR & PWR_CSR_SBF) != 0; }
static int wakeup_flag(void) { return (PWR_CSR & PWR_CSR_WUF) != 0; }
static void clear_standby_flag(void) { PWR_CR |= PWR_CR_CSBF | PWR_CR_CWUF; }
static const char *stop_mode(void) { PWR_CR = (PWR_CR & ~PWR_CR_PDDS) | PWR_CR_LPDS; return "Stop (low-power regulator)"; }
static void standby_mode(void) { PWR_CR |= PWR_CR_PDDS; }
static const char *const sws_names[4] = {"HSI", "HSE", "PLL", "?"};
#else
#define RESET_HZ 4000000u /* MSI */
#define APB1ENR RCC_APB1ENR1
#define PWREN RCC_APB1ENR1_PWREN
#define PWR_SR1 REG32(PWR_BASE + 0x10u)
#define PWR_SCR REG32(PWR_BASE + 0x18u)
#define PWR_SR1_SBF (1u << 8)
#define PWR_SR1_WUFI (1u << 15)
#define PWR_SCR_CSBF (1u << 8)
#define LPMS(n) ((PWR_CR1 & ~7u) | (n))
#define RCC_CFGR_STOPWUCK (1u << 15)
static int standby_flag(void) { return (PWR_SR1 & PWR_SR1_SBF) != 0; }
static int wakeup_flag(void) { return (PWR_SR1 & PWR_SR1_WUFI) != 0; }
static void clear_standby_flag(void) { PWR_SCR = PWR_SCR_CSBF; }
static const char *stop_mode(void) { PWR_CR1 = LPMS(2u); return "Stop 2"; }
static void standby_mode(void) { PWR_CR1 = LPMS(3u); }
static const char *const sws_names[4] = {"MSI", "HSI16", "HSE", "PLL"};
#endif

static volatile uint32_t ticks, wakes;

void SysTick_Handler(void) { ticks++; }

void IRQ3_Handler(void) /* RTC_WKUP (EXTI line 22 on the F4, 20 on the L4) */
{
    wakes++;
    NVIC_ICER(0) = 1u << 3; /* the stand-in wake-up source holds its line: mask it */
}

static void iwdg_50ms(void)
{
    IWDG_KR = 0xCCCCu; /* start: the LSI is forced on */
    IWDG_KR = 0x5555u;
    IWDG_PR = 0u;     /* /4: 8 kHz on the 32 kHz LSI */
    IWDG_RLR = 399u;  /* 400 / 8 kHz = 50 ms */
    while (IWDG_SR) {
    }
    IWDG_KR = 0xAAAAu;
}

static void deep_sleep(void)
{
    SCB_SCR |= SCR_SLEEPDEEP;
    __asm__ volatile("dsb\n\twfi\n\tisb" ::: "memory");
    SCB_SCR &= ~SCR_SLEEPDEEP;
}

static uint32_t sws(void) { return (RCC_CFGR >> 2) & 3u; }

static int resume(const char *args)
{
    char *end;
    uint32_t addr = (uint32_t)strtoul(args, &end, 0);
    uint32_t ms = (uint32_t)strtoul(end, &end, 0);
    int hsi = strstr(end, "hsi") != 0;
#if defined(STM32F4)
    (void)hsi;
    RCC_CR |= RCC_CR_HSEON;
    while (!(RCC_CR & RCC_CR_HSERDY)) {
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_HSE;
    while (sws() != RCC_CFGR_SW_HSE) {
    }
#else
    RCC_CR = (RCC_CR & ~(15u << 4)) | (8u << 4) | (1u << 3); /* MSIRANGE 8 (16 MHz), MSIRGSEL */
    if (hsi)
        RCC_CFGR |= RCC_CFGR_STOPWUCK;
#endif
    printf("lowpower: before Stop on %s\n", sws_names[sws()]);
    stop_mode();
    NVIC_ISER(0) = 1u << 3;
    REG32(addr) = ms; /* arm the wake-up source */
    deep_sleep();
    printf("lowpower: woken by %lu interrupt(s), running on %s\n", (unsigned long)wakes, sws_names[sws()]);
    return 0;
}

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CTRL |= 1u;
    APB1ENR |= PWREN;
    const char *args = sh_args();
    if (strncmp(args, "resume", 6) == 0)
        return resume(args + 6);

    uint32_t csr = RCC_CSR;
    RCC_CSR |= RCC_CSR_RMVF;
    if (standby_flag()) {
        printf("lowpower: woke from Standby (SBF set, wake-up flag %d, RCC_CSR %08lx)\n", wakeup_flag(),
               (unsigned long)csr);
        clear_standby_flag();
        printf("lowpower: SBF cleared: %d\n", standby_flag());
        return 0;
    }
    if (csr & RCC_CSR_IWDGRSTF) {
        printf("lowpower: reset by the IWDG, which ran in Stop; now Standby with the IWDG at 50 ms\n");
        standby_mode();
        iwdg_50ms();
        deep_sleep();
        printf("lowpower: still running after Standby?\n");
        return 1;
    }
    printf("lowpower: power-on; Sleep for 100 SysTick periods of 1 ms\n");
    DWT_CYCCNT = 0;
    SYST_RVR = RESET_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    while (ticks < 100u)
        __asm__ volatile("wfi");
    SYST_CSR = 0;
    uint32_t c = DWT_CYCCNT;
    printf("lowpower: %lu ticks in %lu cycles\n", (unsigned long)ticks, (unsigned long)c);
    const char *what = stop_mode();
    printf("lowpower: %s with the IWDG at 50 ms\n", what);
    iwdg_50ms();
    deep_sleep();
    printf("lowpower: still running after Stop?\n");
    return 1;
}
