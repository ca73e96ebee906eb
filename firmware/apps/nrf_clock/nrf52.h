/*
 * nRF52840 registers for simcore's nRF52 apps: base addresses, offsets and bits from the
 * nRF52840 Product Specification v1.7 register tables, written for simcore (not nrfx/MDK).
 * Shared by the apps as "../nrf_clock/nrf52.h". IRQ numbers are the peripheral IDs.
 */
#ifndef SIMCORE_NRF52_H
#define SIMCORE_NRF52_H

#include <stdint.h>

#include "../systick/cm4.h"

#define NRF_REG(base, off) REG32((base) + (off))

/* CLOCK and POWER (PS 5.4, 5.3), ID 0 */
#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART NRF_REG(CLOCK_BASE, 0x000u)
#define CLOCK_TASKS_LFCLKSTART NRF_REG(CLOCK_BASE, 0x008u)
#define CLOCK_EVENTS_HFCLKSTARTED NRF_REG(CLOCK_BASE, 0x100u)
#define CLOCK_EVENTS_LFCLKSTARTED NRF_REG(CLOCK_BASE, 0x104u)
#define CLOCK_HFCLKSTAT NRF_REG(CLOCK_BASE, 0x40Cu)
#define CLOCK_LFCLKSTAT NRF_REG(CLOCK_BASE, 0x418u)
#define CLOCK_LFCLKSRC NRF_REG(CLOCK_BASE, 0x518u)
#define CLOCK_LFCLKSRC_RC 0u
#define CLOCK_LFCLKSRC_XTAL 1u
#define POWER_RESETREAS NRF_REG(CLOCK_BASE, 0x400u)
#define POWER_RESETREAS_DOG (1u << 1)
#define POWER_RESETREAS_SREQ (1u << 2)
#define POWER_GPREGRET NRF_REG(CLOCK_BASE, 0x51Cu)

/* Tasks, events and interrupts of any peripheral (PS "Peripheral interface") */
#define TASK(base, off) NRF_REG(base, off)
#define EVENT(base, off) NRF_REG(base, off)
#define INTENSET(base) NRF_REG(base, 0x304u)
#define INTENCLR(base) NRF_REG(base, 0x308u)
#define SHORTS(base) NRF_REG(base, 0x200u)

/* TIMER0-4 (PS 6.30) */
#define TIMER0_BASE 0x40008000u
#define TIMER1_BASE 0x40009000u
#define TIMER0_IRQ 8u
#define TIMER1_IRQ 9u
#define TIMER_TASKS_START(t) NRF_REG(t, 0x000u)
#define TIMER_TASKS_STOP(t) NRF_REG(t, 0x004u)
#define TIMER_TASKS_CLEAR(t) NRF_REG(t, 0x00Cu)
#define TIMER_TASKS_CAPTURE(t, n) NRF_REG(t, 0x040u + 4u * (n))
#define TIMER_EVENTS_COMPARE(t, n) NRF_REG(t, 0x140u + 4u * (n))
#define TIMER_MODE(t) NRF_REG(t, 0x504u)
#define TIMER_BITMODE(t) NRF_REG(t, 0x508u)
#define TIMER_PRESCALER(t) NRF_REG(t, 0x510u)
#define TIMER_CC(t, n) NRF_REG(t, 0x540u + 4u * (n))
#define TIMER_BITMODE_32 3u
#define TIMER_SHORTS_COMPARE0_CLEAR (1u << 0)
#define TIMER_INT_COMPARE0 (1u << 16)

/* RTC0-2 (PS 6.22) */
#define RTC0_BASE 0x4000B000u
#define RTC1_BASE 0x40011000u
#define RTC0_IRQ 11u
#define RTC1_IRQ 17u
#define RTC_TASKS_START(r) NRF_REG(r, 0x000u)
#define RTC_TASKS_STOP(r) NRF_REG(r, 0x004u)
#define RTC_TASKS_CLEAR(r) NRF_REG(r, 0x008u)
#define RTC_EVENTS_COMPARE(r, n) NRF_REG(r, 0x140u + 4u * (n))
#define RTC_EVTENSET(r) NRF_REG(r, 0x344u)
#define RTC_COUNTER(r) NRF_REG(r, 0x504u)
#define RTC_PRESCALER(r) NRF_REG(r, 0x508u)
#define RTC_CC(r, n) NRF_REG(r, 0x540u + 4u * (n))
#define RTC_INT_COMPARE0 (1u << 16)

/* GPIO P0 (PS 6.9) */
#define P0_BASE 0x50000000u
#define P0_OUT NRF_REG(P0_BASE, 0x504u)
#define P0_OUTSET NRF_REG(P0_BASE, 0x508u)
#define P0_OUTCLR NRF_REG(P0_BASE, 0x50Cu)
#define P0_IN NRF_REG(P0_BASE, 0x510u)
#define P0_DIRSET NRF_REG(P0_BASE, 0x518u)
#define P0_PIN_CNF(n) NRF_REG(P0_BASE, 0x700u + 4u * (n))
#define PIN_CNF_OUTPUT 1u                 /* DIR output, input buffer connected */
#define PIN_CNF_INPUT_PULLUP (3u << 2)   /* DIR input, buffer connected, PULL up */

/* GPIOTE (PS 6.10), ID 6 */
#define GPIOTE_BASE 0x40006000u
#define GPIOTE_IRQ 6u
#define GPIOTE_TASKS_OUT(n) NRF_REG(GPIOTE_BASE, 0x000u + 4u * (n))
#define GPIOTE_EVENTS_IN(n) NRF_REG(GPIOTE_BASE, 0x100u + 4u * (n))
#define GPIOTE_CONFIG(n) NRF_REG(GPIOTE_BASE, 0x510u + 4u * (n))
#define GPIOTE_MODE_EVENT 1u
#define GPIOTE_MODE_TASK 3u
#define GPIOTE_PSEL(pin) ((uint32_t)(pin) << 8)
#define GPIOTE_POLARITY_LOTOHI (1u << 16)
#define GPIOTE_POLARITY_HITOLO (2u << 16)
#define GPIOTE_POLARITY_TOGGLE (3u << 16)

/* PPI (PS 6.16) */
#define PPI_BASE 0x4001F000u
#define PPI_CHENSET NRF_REG(PPI_BASE, 0x504u)
#define PPI_CHENCLR NRF_REG(PPI_BASE, 0x508u)
#define PPI_CH_EEP(n) NRF_REG(PPI_BASE, 0x510u + 8u * (n))
#define PPI_CH_TEP(n) NRF_REG(PPI_BASE, 0x514u + 8u * (n))

/* SAADC (PS 6.23), ID 7 */
#define SAADC_BASE 0x40007000u
#define SAADC_IRQ 7u
#define SAADC_TASKS_START NRF_REG(SAADC_BASE, 0x000u)
#define SAADC_TASKS_SAMPLE_OFF 0x004u
#define SAADC_TASKS_STOP NRF_REG(SAADC_BASE, 0x008u)
#define SAADC_TASKS_CALIBRATEOFFSET NRF_REG(SAADC_BASE, 0x00Cu)
#define SAADC_EVENTS_STARTED NRF_REG(SAADC_BASE, 0x100u)
#define SAADC_EVENTS_END NRF_REG(SAADC_BASE, 0x104u)
#define SAADC_EVENTS_CALIBRATEDONE NRF_REG(SAADC_BASE, 0x110u)
#define SAADC_EVENTS_STOPPED NRF_REG(SAADC_BASE, 0x114u)
#define SAADC_INT_END (1u << 1)
#define SAADC_ENABLE NRF_REG(SAADC_BASE, 0x500u)
#define SAADC_CH_PSELP(n) NRF_REG(SAADC_BASE, 0x510u + 16u * (n))
#define SAADC_CH_PSELN(n) NRF_REG(SAADC_BASE, 0x514u + 16u * (n))
#define SAADC_CH_CONFIG(n) NRF_REG(SAADC_BASE, 0x518u + 16u * (n))
#define SAADC_RESOLUTION NRF_REG(SAADC_BASE, 0x5F0u)
#define SAADC_OVERSAMPLE NRF_REG(SAADC_BASE, 0x5F4u)
#define SAADC_SAMPLERATE NRF_REG(SAADC_BASE, 0x5F8u)
#define SAADC_RESULT_PTR NRF_REG(SAADC_BASE, 0x62Cu)
#define SAADC_RESULT_MAXCNT NRF_REG(SAADC_BASE, 0x630u)
#define SAADC_RESULT_AMOUNT NRF_REG(SAADC_BASE, 0x634u)
#define SAADC_PSEL_AIN(n) ((n) + 1u)
#define SAADC_CONFIG_GAIN1_6 (0u << 8)
#define SAADC_CONFIG_REFSEL_INTERNAL (0u << 12)
#define SAADC_CONFIG_TACQ_10US (2u << 16)
#define SAADC_RESOLUTION_12BIT 2u

/* UARTE0 (PS 6.34), ID 2: the console */
#define UARTE0_BASE 0x40002000u
#define UARTE0_IRQ 2u
#define UARTE_TASKS_STARTTX(u) NRF_REG(u, 0x008u)
#define UARTE_TASKS_STOPTX(u) NRF_REG(u, 0x00Cu)
#define UARTE_EVENTS_ENDTX(u) NRF_REG(u, 0x120u)
#define UARTE_EVENTS_TXSTOPPED(u) NRF_REG(u, 0x158u)
#define UARTE_INT_ENDTX (1u << 8)
#define UARTE_TXD_PTR(u) NRF_REG(u, 0x544u)
#define UARTE_TXD_MAXCNT(u) NRF_REG(u, 0x548u)
#define UARTE_TXD_AMOUNT(u) NRF_REG(u, 0x54Cu)

/* WDT (PS 6.36), ID 16 */
#define WDT_BASE 0x40010000u
#define WDT_TASKS_START NRF_REG(WDT_BASE, 0x000u)
#define WDT_RUNSTATUS NRF_REG(WDT_BASE, 0x400u)
#define WDT_CRV NRF_REG(WDT_BASE, 0x504u)
#define WDT_RREN NRF_REG(WDT_BASE, 0x508u)
#define WDT_CONFIG NRF_REG(WDT_BASE, 0x50Cu)
#define WDT_RR(n) NRF_REG(WDT_BASE, 0x600u + 4u * (n))
#define WDT_RR_RELOAD 0x6E524635u

/* DWT cycle counter: 64 MHz core clock (HFCLK whatever its source) */
#define CPU_HZ 64000000u

static inline void cycles_start(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
}

/* Start the 64 MHz crystal oscillator and the 32.768 kHz LFCLK from LFCLKSRC (PS 5.4.2-5.4.3). */
static inline void hfxo_start(void)
{
    CLOCK_EVENTS_HFCLKSTARTED = 0;
    CLOCK_TASKS_HFCLKSTART = 1;
    while (CLOCK_EVENTS_HFCLKSTARTED == 0) {
    }
    CLOCK_EVENTS_HFCLKSTARTED = 0;
}

static inline void lfclk_start(uint32_t src)
{
    CLOCK_LFCLKSRC = src;
    CLOCK_EVENTS_LFCLKSTARTED = 0;
    CLOCK_TASKS_LFCLKSTART = 1;
    while (CLOCK_EVENTS_LFCLKSTARTED == 0) {
    }
    CLOCK_EVENTS_LFCLKSTARTED = 0;
}

#endif
