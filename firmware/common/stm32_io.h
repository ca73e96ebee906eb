/*
 * STM32F405/407 (RM0090) and STM32L4R5 (RM0432) GPIO, EXTI, timer, DMA, USART and ADC registers
 * for simcore's I/O apps, and the clock set-up they share: offsets and bits from the reference
 * manuals' register maps and procedures, written for simcore (not CMSIS, not ST's drivers).
 * The family follows from the board's console (board.h); base addresses come from board.h.
 */
#ifndef SIMCORE_STM32_IO_H
#define SIMCORE_STM32_IO_H

#include <stdint.h>
#include <string.h>

#include "../apps/clock_max/stm32.h"
#include "../apps/systick/cm4.h"
#include "semihosting.h"

/* Bit-band aliases (Cortex-M4 TRM 3.7, PM0214 2.2.5): one word per bit of the first megabyte of the
 * SRAM (0x20000000) and of the peripheral region (0x40000000); reads give the bit, writes set it. */
#define BITBAND_SRAM(addr, bit) \
    (*(volatile uint32_t *)(0x22000000u + (((uint32_t)(addr) - 0x20000000u) << 5) + ((uint32_t)(bit) << 2)))
#define BITBAND_PERIPH(addr, bit) \
    (*(volatile uint32_t *)(0x42000000u + (((uint32_t)(addr) - 0x40000000u) << 5) + ((uint32_t)(bit) << 2)))

/* GPIO (RM0090 8.4, RM0432 8.5): same layout on both */
#define GPIO_MODER(p) REG32((p) + 0x00u)
#define GPIO_OTYPER(p) REG32((p) + 0x04u)
#define GPIO_PUPDR(p) REG32((p) + 0x0Cu)
#define GPIO_IDR(p) REG32((p) + 0x10u)
#define GPIO_ODR(p) REG32((p) + 0x14u)
#define GPIO_BSRR(p) REG32((p) + 0x18u)
#define GPIO_AFR(p, n) REG32((p) + 0x20u + 4u * ((n) / 8u))
#define GPIO_MODE_IN 0u
#define GPIO_MODE_OUT 1u
#define GPIO_MODE_AF 2u
#define GPIO_MODE_ANALOG 3u

static inline void gpio_mode(uint32_t port, unsigned pin, uint32_t mode)
{
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (mode << (2u * pin));
}

static inline void gpio_af(uint32_t port, unsigned pin, uint32_t af)
{
    unsigned shift = 4u * (pin % 8u);
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << shift)) | (af << shift);
    gpio_mode(port, pin, GPIO_MODE_AF);
}

/* Timers (RM0090 18.4, RM0432 31.4) */
#define TIM_CR1(t) REG32((t) + 0x00u)
#define TIM_CR2(t) REG32((t) + 0x04u)
#define TIM_DIER(t) REG32((t) + 0x0Cu)
#define TIM_SR(t) REG32((t) + 0x10u)
#define TIM_EGR(t) REG32((t) + 0x14u)
#define TIM_CNT(t) REG32((t) + 0x24u)
#define TIM_PSC(t) REG32((t) + 0x28u)
#define TIM_ARR(t) REG32((t) + 0x2Cu)
#define TIM_CR1_CEN (1u << 0)
#define TIM_CR1_OPM (1u << 3)
#define TIM_CR2_MMS_UPDATE (2u << 4)
#define TIM_DIER_UIE (1u << 0)
#define TIM_SR_UIF (1u << 0)
#define TIM_EGR_UG (1u << 0)

/* USART / LPUART: the flags sit at the same bits in the F4's SR and the L4's ISR */
#define UART_TXE (1u << 7)
#define UART_TC (1u << 6)
#define UART_RXNE (1u << 5)
#define UART_CR1_TXEIE (1u << 7)
#define UART_CR1_TCIE (1u << 6)
#define UART_CR1_RXNEIE (1u << 5)
#define UART_CR3_DMAT (1u << 7)
#define UART_CR3_DMAR (1u << 6)

#if defined(STM32F4)
/* RM0090 Table 1 / 7.3.10-7.3.14: buses and clock enables */
#define RCC_AHB1ENR REG32(RCC_BASE + 0x30u)
#define RCC_APB2ENR REG32(RCC_BASE + 0x44u)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_AHB1ENR_GPIODEN (1u << 3)
#define RCC_AHB1ENR_DMA1EN (1u << 21)
#define RCC_AHB1ENR_DMA2EN (1u << 22)
#define RCC_APB1ENR_TIM2EN (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB2ENR_ADC1EN (1u << 8)
#define RCC_APB2ENR_SYSCFGEN (1u << 14)
/* the console: USART2 on PA2 (AF7) */
#define UART_BASE USART2_BASE
#define UART_SR REG32(UART_BASE + 0x00u)
#define UART_TDR REG32(UART_BASE + 0x04u)
#define UART_BRR REG32(UART_BASE + 0x08u)
#define UART_CR1 REG32(UART_BASE + 0x0Cu)
#define UART_CR3 REG32(UART_BASE + 0x14u)
#define UART_CR1_UE (1u << 13)
#define UART_IRQn 38
#define UART_STATUS UART_SR
#define UART_CLEAR_TC() (UART_SR = ~UART_TC & 0x3FFu)
/* EXTI and SYSCFG (RM0090 12.3, 9.2) */
#define EXTI_IMR REG32(EXTI_BASE + 0x00u)
#define EXTI_RTSR REG32(EXTI_BASE + 0x08u)
#define EXTI_FTSR REG32(EXTI_BASE + 0x0Cu)
#define EXTI_PR REG32(EXTI_BASE + 0x14u)
#define SYSCFG_EXTICR(n) REG32(SYSCFG_BASE + 0x08u + 4u * (n))
/* DMA streams (RM0090 10.5) */
#define DMA_LISR(d) REG32((d) + 0x00u)
#define DMA_HISR(d) REG32((d) + 0x04u)
#define DMA_LIFCR(d) REG32((d) + 0x08u)
#define DMA_HIFCR(d) REG32((d) + 0x0Cu)
#define DMA_SCR(d, s) REG32((d) + 0x10u + 0x18u * (s))
#define DMA_SNDTR(d, s) REG32((d) + 0x14u + 0x18u * (s))
#define DMA_SPAR(d, s) REG32((d) + 0x18u + 0x18u * (s))
#define DMA_SM0AR(d, s) REG32((d) + 0x1Cu + 0x18u * (s))
#define DMA_SFCR(d, s) REG32((d) + 0x24u + 0x18u * (s))
#define DMA_SCR_EN (1u << 0)
#define DMA_SCR_TCIE (1u << 4)
#define DMA_SCR_HTIE (1u << 3)
#define DMA_SCR_DIR_M2P (1u << 6)
#define DMA_SCR_CIRC (1u << 8)
#define DMA_SCR_MINC (1u << 10)
#define DMA_SCR_PSIZE_16 (1u << 11)
#define DMA_SCR_MSIZE_16 (1u << 13)
#define DMA_SCR_CHSEL(n) ((uint32_t)(n) << 25)
/* ADC (RM0090 13.13) */
#define ADC_SR REG32(ADC1_BASE + 0x00u)
#define ADC_CR2 REG32(ADC1_BASE + 0x08u)
#define ADC_SMPR2 REG32(ADC1_BASE + 0x10u)
#define ADC_SQR1 REG32(ADC1_BASE + 0x2Cu)
#define ADC_SQR3 REG32(ADC1_BASE + 0x34u)
#define ADC_DR REG32(ADC1_BASE + 0x4Cu)
#define ADC_CCR REG32(ADC_COMMON_BASE + 0x04u)
#define CORE_HZ(fast) ((fast) ? 168000000u : 16000000u)
#define PCLK1_HZ(fast) ((fast) ? 42000000u : 16000000u)
#define TIMCLK1_HZ(fast) ((fast) ? 84000000u : 16000000u) /* APB1 /4: timers at 2 x PCLK1 */
#elif defined(STM32L4)
/* RM0432 Table 2 / 6.4.16-6.4.20 */
#define RCC_AHB1ENR REG32(RCC_BASE + 0x48u)
#define RCC_AHB2ENR REG32(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR2 REG32(RCC_BASE + 0x5Cu)
#define RCC_APB2ENR REG32(RCC_BASE + 0x60u)
#define RCC_CCIPR REG32(RCC_BASE + 0x88u)
#define PWR_CR2 REG32(PWR_BASE + 0x04u)
#define PWR_CR2_IOSV (1u << 9)
#define RCC_AHB1ENR_DMA1EN (1u << 0)
#define RCC_AHB1ENR_DMA2EN (1u << 1)
#define RCC_AHB1ENR_DMAMUX1EN (1u << 2)
#define RCC_AHB2ENR_GPIOAEN (1u << 0)
#define RCC_AHB2ENR_GPIOBEN (1u << 1)
#define RCC_AHB2ENR_GPIOCEN (1u << 2)
#define RCC_AHB2ENR_GPIOGEN (1u << 6)
#define RCC_AHB2ENR_ADCEN (1u << 13)
#define RCC_APB1ENR1_TIM2EN (1u << 0)
#define RCC_APB1ENR2_LPUART1EN (1u << 0)
#define RCC_APB2ENR_SYSCFGEN (1u << 0)
/* the console: LPUART1 on PG7 (AF8), the Nucleo's ST-LINK virtual COM port */
#define UART_BASE LPUART1_BASE
#define UART_CR1 REG32(UART_BASE + 0x00u)
#define UART_CR3 REG32(UART_BASE + 0x08u)
#define UART_BRR REG32(UART_BASE + 0x0Cu)
#define UART_ISR REG32(UART_BASE + 0x1Cu)
#define UART_ICR REG32(UART_BASE + 0x20u)
#define UART_TDR REG32(UART_BASE + 0x28u)
#define UART_CR1_UE (1u << 0)
#define UART_IRQn 70
#define UART_STATUS UART_ISR
#define UART_CLEAR_TC() (UART_ICR = UART_TC)
/* EXTI and SYSCFG (RM0432 14.5, 9.2) */
#define EXTI_IMR REG32(EXTI_BASE + 0x00u)
#define EXTI_RTSR REG32(EXTI_BASE + 0x08u)
#define EXTI_FTSR REG32(EXTI_BASE + 0x0Cu)
#define EXTI_PR REG32(EXTI_BASE + 0x14u)
#define SYSCFG_EXTICR(n) REG32(SYSCFG_BASE + 0x08u + 4u * (n))
/* DMA channels (RM0432 11.6) and DMAMUX1 (12.6) */
#define DMA_ISR(d) REG32((d) + 0x00u)
#define DMA_IFCR(d) REG32((d) + 0x04u)
#define DMA_CCR(d, c) REG32((d) + 0x08u + 20u * ((c) - 1u))
#define DMA_CNDTR(d, c) REG32((d) + 0x0Cu + 20u * ((c) - 1u))
#define DMA_CPAR(d, c) REG32((d) + 0x10u + 20u * ((c) - 1u))
#define DMA_CMAR(d, c) REG32((d) + 0x14u + 20u * ((c) - 1u))
#define DMA_CCR_EN (1u << 0)
#define DMA_CCR_TCIE (1u << 1)
#define DMA_CCR_HTIE (1u << 2)
#define DMA_CCR_DIR_M2P (1u << 4)
#define DMA_CCR_CIRC (1u << 5)
#define DMA_CCR_MINC (1u << 7)
#define DMA_CCR_PSIZE_16 (1u << 8)
#define DMA_CCR_MSIZE_16 (1u << 10)
#define DMAMUX_CCR(x) REG32(DMAMUX1_BASE + 4u * (x))
#define DMAMUX_REQ_ADC1 5u /* RM0432 Table 54 */
#define DMAMUX_REQ_LPUART1_TX 35u
/* ADC (RM0432 21.7) */
#define ADC_ISR REG32(ADC1_BASE + 0x00u)
#define ADC_IER REG32(ADC1_BASE + 0x04u)
#define ADC_CR REG32(ADC1_BASE + 0x08u)
#define ADC_CFGR REG32(ADC1_BASE + 0x0Cu)
#define ADC_SMPR1 REG32(ADC1_BASE + 0x14u)
#define ADC_SQR1 REG32(ADC1_BASE + 0x30u)
#define ADC_DR REG32(ADC1_BASE + 0x40u)
#define ADC_CCR REG32(ADC_COMMON_BASE + 0x08u)
#define CORE_HZ(fast) ((fast) ? 120000000u : 4000000u)
#define PCLK1_HZ(fast) CORE_HZ(fast)
#define TIMCLK1_HZ(fast) CORE_HZ(fast) /* APB1 /1 */
#endif

/* NVIC lines (RM0090 Table 61, RM0432 Table 58): the same numbers on both parts for these */
#define TIM2_IRQ 28
#define EXTI0_IRQ 6
#define EXTI15_10_IRQ 40
#define ADC_IRQ 18

/* The clock the I/O apps run on: the reset clock (HSI 16 MHz / MSI 4 MHz), or with `fast`
 * the part's maximum from the procedures of RM0090 7.2 (HSE 8 MHz -> PLL 168 MHz, APB1 /4,
 * APB2 /2, 5 wait states) and RM0432 6.2 (MSI 4 MHz -> PLL 120 MHz, range 1 boost, 5 wait
 * states, AHB /2 for 1 us across the switch). */
static inline void stm32_clock(int fast)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CTRL |= 1u;
    if (!fast)
        return;
#if defined(STM32F4)
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    PWR_CR |= PWR_CR_VOS;
    RCC_CR |= RCC_CR_HSEON;
    while (!(RCC_CR & RCC_CR_HSERDY)) {
    }
    FLASH_ACR = FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN | 5u;
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
    RCC_PLLCFGR = 8u | (336u << 6) | (0u << 16) | RCC_PLLCFGR_SRC_HSE | (7u << 24);
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & (3u << 2)) != RCC_CFGR_SWS_PLL) {
    }
#else
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    PWR_CR5 &= ~PWR_CR5_R1MODE;
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | FLASH_ACR_PRFTEN | 5u;
    RCC_PLLCFGR = RCC_PLLCFGR_SRC_MSI | (60u << 8) | RCC_PLLCFGR_REN;
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_HPRE_MASK | RCC_CFGR_SW_MASK)) | RCC_CFGR_HPRE_DIV2 | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & (3u << 2)) != RCC_CFGR_SWS_PLL) {
    }
    uint32_t t = DWT_CYCCNT;
    while (DWT_CYCCNT - t < 60u) { /* 1 us at 60 MHz */
    }
    RCC_CFGR &= ~RCC_CFGR_HPRE_MASK;
#endif
}

/* The console UART, set up as the reference manuals describe it: bus clock, TX pin, baud rate. */
static inline void stm32_uart_init(int fast, uint32_t baud)
{
#if defined(STM32F4)
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    gpio_af(GPIOA_BASE, 2, 7); /* PA2 = USART2_TX */
    UART_CR1 = 0;
    UART_BRR = (PCLK1_HZ(fast) + baud / 2u) / baud; /* oversampling by 16: BRR = fck / baud */
#else
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    PWR_CR2 |= PWR_CR2_IOSV; /* PG2-PG15 are supplied by VDDIO2 (RM0432 5.1.3) */
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOGEN;
    RCC_APB1ENR2 |= RCC_APB1ENR2_LPUART1EN;
    gpio_af(GPIOG_BASE, 7, 8); /* PG7 = LPUART1_TX */
    UART_CR1 = 0;
    UART_BRR = (uint32_t)((256ull * PCLK1_HZ(fast) + baud / 2u) / baud); /* RM0432 51.4.7 */
#endif
    UART_CR1 = UART_CR1_UE | (1u << 3); /* UE, TE */
}

/* Is `word` one of the words of the firmware's command line (semihosting SYS_GET_CMDLINE)? */
static inline int cmdline_has(const char *word)
{
    static char line[160];
    struct {
        char *buf;
        uint32_t len;
    } b = {line, sizeof line};
    if (sh_call(0x15, &b) != 0)
        return 0;
    size_t n = strlen(word);
    for (const char *p = strchr(line, ' '); p != NULL; p = strchr(p + 1, ' ')) {
        if (strncmp(p + 1, word, n) == 0 && (p[1 + n] == ' ' || p[1 + n] == '\0'))
            return 1;
    }
    return 0;
}

/* Cycles of the core clock as microseconds (the app knows the clock it configured). */
static inline uint32_t cycles_to_us(uint32_t cycles, int fast)
{
    return (uint32_t)((uint64_t)cycles * 1000000u / CORE_HZ(fast));
}

#endif
