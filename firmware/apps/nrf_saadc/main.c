/*
 * nrf_saadc: ADC conversions on a timer through the PPI into a DMA buffer (PS v1.7 sections
 * 6.23 SAADC, 6.16 PPI, 6.30 TIMER).
 *
 * SAADC channel 0 on AIN0, single-ended, gain 1/6, internal 0.6 V reference, 10 us acquisition,
 * 12 bits; RESULT.PTR a RAM buffer of SAMPLES results. TIMER1 at 1 MHz with CC[0] = 1000 and
 * COMPARE0_CLEAR generates EVENTS_COMPARE[0] every millisecond; PPI channel 0 routes it to
 * TASKS_SAMPLE. The END interrupt (buffer full) ends the wait (WFI); the app prints the results
 * and the cycles from the timer's start to END. The input comes from a recording:
 * `simcore run nrf_saadc.elf --board nrf52840 --sensor saadc=ain0.csv` (columns time, AIN0).
 */
#include <stdio.h>

#include "../nrf_clock/nrf52.h"

#define SAMPLES 16u

static int16_t results[SAMPLES] __attribute__((aligned(4))); /* EasyDMA writes Data RAM */
static volatile uint32_t end_cycles;

void IRQ7_Handler(void) /* SAADC */
{
    if (SAADC_EVENTS_END) {
        SAADC_EVENTS_END = 0;
        (void)SAADC_EVENTS_END;
        end_cycles = DWT_CYCCNT;
        TIMER_TASKS_STOP(TIMER1_BASE) = 1;
    }
}

int main(void)
{
    cycles_start();
    SAADC_RESOLUTION = SAADC_RESOLUTION_12BIT;
    SAADC_OVERSAMPLE = 0;
    SAADC_SAMPLERATE = 0; /* sample on TASKS_SAMPLE */
    SAADC_CH_PSELP(0) = SAADC_PSEL_AIN(0);
    SAADC_CH_PSELN(0) = 0;
    SAADC_CH_CONFIG(0) = SAADC_CONFIG_GAIN1_6 | SAADC_CONFIG_REFSEL_INTERNAL | SAADC_CONFIG_TACQ_10US;
    SAADC_RESULT_PTR = (uint32_t)(uintptr_t)results;
    SAADC_RESULT_MAXCNT = SAMPLES;
    SAADC_ENABLE = 1;
    SAADC_EVENTS_STARTED = 0;
    SAADC_TASKS_START = 1;
    while (SAADC_EVENTS_STARTED == 0) {
    }
    SAADC_EVENTS_END = 0;
    INTENSET(SAADC_BASE) = SAADC_INT_END;
    nvic_enable(SAADC_IRQ);

    TIMER_BITMODE(TIMER1_BASE) = TIMER_BITMODE_32;
    TIMER_PRESCALER(TIMER1_BASE) = 4; /* 1 MHz */
    TIMER_CC(TIMER1_BASE, 0) = 1000u;
    SHORTS(TIMER1_BASE) = TIMER_SHORTS_COMPARE0_CLEAR;
    PPI_CH_EEP(0) = (uint32_t)(uintptr_t)&TIMER_EVENTS_COMPARE(TIMER1_BASE, 0);
    PPI_CH_TEP(0) = SAADC_BASE + SAADC_TASKS_SAMPLE_OFF;
    PPI_CHENSET = 1u << 0;

    uint32_t c0 = DWT_CYCCNT;
    TIMER_TASKS_START(TIMER1_BASE) = 1;
    while (end_cycles == 0)
        __asm__ volatile("wfi");
    PPI_CHENCLR = 1u << 0;
    printf("nrf_saadc: %lu results in %lu cycles:", (unsigned long)SAADC_RESULT_AMOUNT,
           (unsigned long)(end_cycles - c0));
    for (unsigned i = 0; i < SAMPLES; i++)
        printf(" %d", results[i]);
    printf("\n");
    return 0;
}
