/*
 * adc_dma: ADC1 conversions of one input triggered by TIM2's update (TRGO) at 1 kHz, moved by
 * DMA into a circular buffer whose half-transfer and transfer-complete interrupts hand each half
 * to the app (RM0090 13.3.8, 13.8.1 and 10.3.9; RM0432 21.4.18, 21.4.27, 11.4.5 and 12.3).
 *
 *   adc_dma [fast]   reset clock (HSI 16 MHz / MSI 4 MHz), or the maximum (168 / 120 MHz)
 *
 * STM32F407: ADC1 IN1 (PA1), DMA2 stream 0 channel 0. STM32L4R5: ADC1 IN1 (PC0), DMA1 channel 1
 * with DMAMUX1 request 5. The input comes from a recording
 * (--sensor adc1=examples/data/adc_trace_1k.csv); the app prints each half buffer's mean in mV.
 */
#include <stdio.h>

#include "stm32_io.h"

#define HALF 32u
#define HALVES 8u

static volatile uint16_t buf[2 * HALF];
static volatile uint32_t halves;
static volatile uint32_t mean_mv[HALVES];
static volatile uint32_t at_us[HALVES];
static uint32_t start;
static int fast;

static void take(unsigned half)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < HALF; i++)
        sum += buf[half * HALF + i];
    if (halves < HALVES) {
        mean_mv[halves] = (uint32_t)(((uint64_t)sum * 3300u + (HALF * 4095u) / 2u) / (HALF * 4095u));
        at_us[halves] = cycles_to_us(DWT_CYCCNT - start, fast);
    }
    halves++;
}

#if defined(STM32F4)
void IRQ56_Handler(void) /* DMA2 stream 0 */
{
    uint32_t isr = DMA_LISR(DMA2_BASE);
    DMA_LIFCR(DMA2_BASE) = 0x3Du; /* stream 0 flags */
    if (isr & (1u << 4))
        take(0); /* HTIF0 */
    if (isr & (1u << 5))
        take(1); /* TCIF0 */
}

static void adc_setup(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_DMA2EN;
    RCC_APB2ENR |= RCC_APB2ENR_ADC1EN;
    gpio_mode(GPIOA_BASE, 1, GPIO_MODE_ANALOG);
    ADC_CCR = (fast ? 1u : 0u) << 16; /* ADCPRE: PCLK2 / 4 at 84 MHz (21 MHz), / 2 at 16 MHz */
    ADC_SMPR2 = 4u << 3;              /* IN1: 84 cycles */
    ADC_SQR1 = 0;                     /* one conversion */
    ADC_SQR3 = 1u;                    /* SQ1 = IN1 */
    DMA_SCR(DMA2_BASE, 0) = 0;
    DMA_SPAR(DMA2_BASE, 0) = (uint32_t)&ADC_DR;
    DMA_SM0AR(DMA2_BASE, 0) = (uint32_t)buf;
    DMA_SNDTR(DMA2_BASE, 0) = 2u * HALF;
    DMA_SCR(DMA2_BASE, 0) = DMA_SCR_CHSEL(0) | DMA_SCR_MSIZE_16 | DMA_SCR_PSIZE_16 | DMA_SCR_MINC | DMA_SCR_CIRC
                            | DMA_SCR_HTIE | DMA_SCR_TCIE | DMA_SCR_EN;
    nvic_enable(56);
    /* ADON, DMA with continuous requests (DDS), trigger TIM2_TRGO (EXTSEL 0110) on the rising edge */
    ADC_CR2 = 1u | (1u << 8) | (1u << 9) | (6u << 24) | (1u << 28);
}
#else
void IRQ11_Handler(void) /* DMA1 channel 1 */
{
    uint32_t isr = DMA_ISR(DMA1_BASE);
    DMA_IFCR(DMA1_BASE) = 0xFu;
    if (isr & (1u << 2))
        take(0); /* HTIF1 */
    if (isr & (1u << 1))
        take(1); /* TCIF1 */
}

static void adc_setup(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_DMA1EN | RCC_AHB1ENR_DMAMUX1EN;
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOCEN | RCC_AHB2ENR_ADCEN;
    gpio_mode(GPIOC_BASE, 0, GPIO_MODE_ANALOG);
    ADC_CCR = 2u << 16;           /* CKMODE: HCLK / 2 */
    ADC_CR = 1u << 28;            /* out of deep power-down, regulator on */
    uint32_t t = DWT_CYCCNT;      /* tADCVREG_STUP: 20 us */
    while (DWT_CYCCNT - t < CORE_HZ(fast) / 50000u) {
    }
    ADC_CR |= 1u << 31;           /* ADCAL */
    while (ADC_CR & (1u << 31)) {
    }
    ADC_ISR = 1u;                 /* clear ADRDY, then enable */
    ADC_CR |= 1u;
    while (!(ADC_ISR & 1u)) {
    }
    ADC_SMPR1 = 4u << 3;          /* IN1: 47.5 cycles */
    ADC_SQR1 = 1u << 6;           /* L = 0, SQ1 = IN1 */
    DMA_CCR(DMA1_BASE, 1) = 0;
    DMAMUX_CCR(0) = DMAMUX_REQ_ADC1;
    DMA_CPAR(DMA1_BASE, 1) = (uint32_t)&ADC_DR;
    DMA_CMAR(DMA1_BASE, 1) = (uint32_t)buf;
    DMA_CNDTR(DMA1_BASE, 1) = 2u * HALF;
    DMA_CCR(DMA1_BASE, 1) = DMA_CCR_MSIZE_16 | DMA_CCR_PSIZE_16 | DMA_CCR_MINC | DMA_CCR_CIRC | DMA_CCR_HTIE
                            | DMA_CCR_TCIE | DMA_CCR_EN;
    nvic_enable(11);
    /* DMAEN, DMACFG circular, EXTSEL TIM2_TRGO (1011), rising edge; then ADSTART arms the trigger */
    ADC_CFGR = 1u | (1u << 1) | (11u << 6) | (1u << 10);
    ADC_CR |= 1u << 2;
}
#endif

int main(void)
{
    fast = cmdline_has("fast");
    stm32_clock(fast);
    stm32_uart_init(fast, 115200u);
#if defined(STM32F4)
    RCC_APB1ENR |= RCC_APB1ENR_TIM2EN;
#else
    RCC_APB1ENR1 |= RCC_APB1ENR1_TIM2EN;
#endif
    printf("adc_dma on %s at %lu MHz: ADC1 IN1 at 1 kHz from TIM2, DMA halves of %lu samples\n", BOARD_NAME,
           (unsigned long)(CORE_HZ(fast) / 1000000u), (unsigned long)HALF);
    adc_setup();
    TIM_PSC(TIM2_BASE) = TIMCLK1_HZ(fast) / 1000000u - 1u;
    TIM_ARR(TIM2_BASE) = 999u;
    TIM_CR2(TIM2_BASE) = TIM_CR2_MMS_UPDATE;
    start = DWT_CYCCNT;
    TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
    while (halves < HALVES)
        wfi();
    TIM_CR1(TIM2_BASE) = 0;
    for (unsigned i = 0; i < HALVES; i++)
        printf("half %u at %lu.%03lu ms: mean %lu mV\n", i, (unsigned long)(at_us[i] / 1000u),
               (unsigned long)(at_us[i] % 1000u), (unsigned long)mean_mv[i]);
    return 0;
}
