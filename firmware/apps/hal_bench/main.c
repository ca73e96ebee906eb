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
 * One kind of peripheral register access, 8 x N times (benchmarks/hal_speed.py --access: the cost of one
 * access to a model register served in Python; the line printed gives the count):
 *
 *   plainr N  reads of GPIOx OSPEEDR (a model register with no behaviour: stored, no callback)
 *   plainw N  writes of GPIOx OSPEEDR
 *   usart N   HAL's status poll of USART3 TXE (F4 SR, L4 ISR), set: each wait reads the flag once
 *   i2c N     HAL's wait for I2C1 not busy (F4 SR2.BUSY, L4 ISR.BUSY), clear: one read each
 *   odr N     writes of the LED pin's level to GPIOx ODR, toggling it (PD12 on the F4, PB14 on the L4)
 *
 * Runs on the reset clock (HSI 16 MHz on the F407, MSI 4 MHz on the L4R5); DWT times each mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#if !defined(RCC_BASE) && defined(BOARD_CONSOLE_KIND_STM32L4_USART)
#define RCC_BASE 0x40021000u /* RM0351/RM0432 2.2.2; the STM32L475's RCC is no model (plain SVD registers) */
#endif
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

/* The access modes' registers (RM0090 7.3.10/7.3.13, 8.4, 27.6, 30.6; RM0432/RM0351 6.4.17/6.4.19,
 * 8.5, 37.7/39.7, 50.8/40.8): GPIO has one layout on both families. */
#define GPIO_MODER(p) REG32((p) + 0x00u)
#define GPIO_OSPEEDR(p) REG32((p) + 0x08u)
#define GPIO_ODR(p) REG32((p) + 0x14u)
#define USART3EN (1u << 18) /* APB1ENR(1) */
#define I2C1EN (1u << 21)   /* APB1ENR(1) */
#define UART_TE (1u << 3)
#define UART_TXE (1u << 7)  /* SR / ISR */
#if defined(STM32F4)
#define LED_PORT GPIOD_BASE
#define LED_PIN 12u
#define GPIO_EN() (REG32(RCC_BASE + 0x30u) |= 1u << 3) /* AHB1ENR GPIODEN */
#define UART_STATUS REG32(USART3_BASE + 0x00u) /* SR */
#define UART_ENABLE() (REG32(USART3_BASE + 0x0Cu) = (1u << 13) | UART_TE) /* CR1 UE, TE */
#define I2C_STATUS REG32(I2C1_BASE + 0x18u) /* SR2 */
#define I2C_BUSY (1u << 1)
#else
#define LED_PORT GPIOB_BASE
#define LED_PIN 14u
#define GPIO_EN() (REG32(RCC_BASE + 0x4Cu) |= 1u << 1) /* AHB2ENR GPIOBEN */
#define UART_STATUS REG32(USART3_BASE + 0x1Cu) /* ISR */
#define UART_ENABLE() (REG32(USART3_BASE + 0x00u) = 1u | UART_TE) /* CR1 UE, TE */
#define I2C_STATUS REG32(I2C1_BASE + 0x18u) /* ISR */
#define I2C_BUSY (1u << 15)
#endif
#define I2C_ENABLE() (REG32(I2C1_BASE + 0x00u) = 1u) /* CR1 PE */

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

/* Eight copies of one access per iteration, so that the loop's own instructions are few. */
#define EIGHT(x) do { x; x; x; x; x; x; x; x; } while (0)

/* HAL's flag wait (I2C_WaitOnFlagUntilTimeout, UART_WaitOnFlagUntilTimeout without the timeout): the
 * flag is already in the state waited for, so each wait is one read. */
#define WAIT_SET(reg, bit) do { while (!((reg) & (bit))) { } } while (0)
#define WAIT_CLEAR(reg, bit) do { while ((reg) & (bit)) { } } while (0)

static int access_mode(const char *mode, uint32_t n)
{
    uint32_t sum = 0;
    GPIO_EN();
    TIM2EN_REG |= USART3EN | I2C1EN;
    if (strncmp(mode, "plainr", 6) == 0) {
        for (uint32_t i = 0; i < n; i++)
            EIGHT(sum += GPIO_OSPEEDR(LED_PORT));
    } else if (strncmp(mode, "plainw", 6) == 0) {
        for (uint32_t i = 0; i < n; i++)
            EIGHT(GPIO_OSPEEDR(LED_PORT) = i);
    } else if (strncmp(mode, "usart", 5) == 0) {
        UART_ENABLE();
        for (uint32_t i = 0; i < n; i++)
            EIGHT(WAIT_SET(UART_STATUS, UART_TXE));
    } else if (strncmp(mode, "i2c", 3) == 0) {
        I2C_ENABLE();
        for (uint32_t i = 0; i < n; i++)
            EIGHT(WAIT_CLEAR(I2C_STATUS, I2C_BUSY));
    } else if (strncmp(mode, "odr", 3) == 0) {
        GPIO_MODER(LED_PORT) = (GPIO_MODER(LED_PORT) & ~(3u << (2u * LED_PIN))) | (1u << (2u * LED_PIN));
        for (uint32_t i = 0; i < n; i++) {
            GPIO_ODR(LED_PORT) = 1u << LED_PIN;
            GPIO_ODR(LED_PORT) = 0;
            GPIO_ODR(LED_PORT) = 1u << LED_PIN;
            GPIO_ODR(LED_PORT) = 0;
            GPIO_ODR(LED_PORT) = 1u << LED_PIN;
            GPIO_ODR(LED_PORT) = 0;
            GPIO_ODR(LED_PORT) = 1u << LED_PIN;
            GPIO_ODR(LED_PORT) = 0;
        }
    } else {
        return 0;
    }
    printf("hal_bench %s: %lu accesses (%lu)\n", mode, (unsigned long)(8u * n), (unsigned long)sum);
    return 1;
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
    } else if (access_mode(mode, n)) {
        report("access", t0);
    } else {
        printf("hal_bench: unknown mode '%s'\n", mode);
        return 2;
    }
    return 0;
}
