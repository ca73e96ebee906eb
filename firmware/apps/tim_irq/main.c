/*
 * tim_irq: a TIM2 update interrupt at 1 kHz from the timer clock of whatever clock the app
 * configured (RM0090 18.3.1-18.3.2, RM0432 31.3.1-31.3.2), then a one-pulse delay and the
 * counter read back while it runs.
 *
 *   tim_irq [fast]   reset clock (HSI 16 MHz / MSI 4 MHz), or the maximum (168 / 120 MHz)
 *
 * TIMCLK1 is PCLK1, doubled when the APB1 prescaler divides (84 MHz on the F407 at 168 MHz).
 * PSC makes a 1 MHz counter clock, ARR = 999 a 1 ms period; the app counts 1000 interrupts and
 * measures them with DWT CYCCNT.
 */
#include <stdio.h>

#include "stm32_io.h"

static volatile uint32_t updates;

void IRQ28_Handler(void) /* TIM2 */
{
    if (TIM_SR(TIM2_BASE) & TIM_SR_UIF) {
        TIM_SR(TIM2_BASE) = ~TIM_SR_UIF; /* rc_w0: clear UIF only */
        updates++;
    }
}

static void print_ms(const char *what, uint32_t cycles, int fast)
{
    uint32_t us = cycles_to_us(cycles, fast);
    printf("%s in %lu cycles = %lu.%03lu ms at %lu MHz\n", what, (unsigned long)cycles, (unsigned long)(us / 1000u),
           (unsigned long)(us % 1000u), (unsigned long)(CORE_HZ(fast) / 1000000u));
}

int main(void)
{
    int fast = cmdline_has("fast");
    stm32_clock(fast);
    stm32_uart_init(fast, 115200u);
#if defined(STM32F4)
    RCC_APB1ENR |= RCC_APB1ENR_TIM2EN;
#else
    RCC_APB1ENR1 |= RCC_APB1ENR1_TIM2EN;
#endif
    printf("tim_irq on %s at %lu MHz: TIM2 clock %lu Hz\n", BOARD_NAME, (unsigned long)(CORE_HZ(fast) / 1000000u),
           (unsigned long)TIMCLK1_HZ(fast));

    TIM_PSC(TIM2_BASE) = TIMCLK1_HZ(fast) / 1000000u - 1u; /* 1 MHz counter clock */
    TIM_ARR(TIM2_BASE) = 999u;                             /* 1 kHz update */
    TIM_EGR(TIM2_BASE) = TIM_EGR_UG;                       /* load PSC now */
    TIM_SR(TIM2_BASE) = 0;
    TIM_DIER(TIM2_BASE) = TIM_DIER_UIE;
    nvic_enable(TIM2_IRQ);
    updates = 0;
    uint32_t t = DWT_CYCCNT;
    TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
    while (updates < 1000u)
        wfi();
    uint32_t cycles = DWT_CYCCNT - t;
    TIM_CR1(TIM2_BASE) = 0;
    TIM_DIER(TIM2_BASE) = 0;
    print_ms("1000 TIM2 update interrupts", cycles, fast);

    /* the counter read back while it runs: 250 us after a start from 0 */
    TIM_CNT(TIM2_BASE) = 0;
    TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
    t = DWT_CYCCNT;
    while (DWT_CYCCNT - t < CORE_HZ(fast) / 4000u) {
    }
    uint32_t cnt = TIM_CNT(TIM2_BASE);
    TIM_CR1(TIM2_BASE) = 0;
    printf("CNT after 250 us: %lu\n", (unsigned long)cnt);

    /* one-pulse mode: a 5 ms delay waited for by polling UIF */
    TIM_ARR(TIM2_BASE) = 4999u;
    TIM_EGR(TIM2_BASE) = TIM_EGR_UG;
    TIM_SR(TIM2_BASE) = 0;
    t = DWT_CYCCNT;
    TIM_CR1(TIM2_BASE) = TIM_CR1_OPM | TIM_CR1_CEN;
    while (!(TIM_SR(TIM2_BASE) & TIM_SR_UIF)) {
    }
    cycles = DWT_CYCCNT - t;
    printf("one pulse: CEN %lu after the update, ", (unsigned long)(TIM_CR1(TIM2_BASE) & TIM_CR1_CEN));
    print_ms("UIF", cycles, fast);
    return 0;
}
