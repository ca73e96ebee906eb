/*
 * The B-L475E-IOT01A's MP34DT01 through DFSDM1 (RM0351 section 24), for the audio apps: 16 kHz PCM16
 * into a ring of two halves, as the generic board's microphone DMA fills one.
 *
 * CKOUT = 80 MHz / 40 = 2 MHz clocks the microphone on DFSDM1_DATIN2; channel 2 samples it (SPI,
 * rising edge, internal clock); filter 0 converts it continuously in fast mode with Sinc4 and
 * FOSR 125 (2 MHz / 125 = 16 kHz), DTRBS 8. The filter's end-of-conversion interrupt moves each
 * 24-bit result into the ring scaled to 16 bits: a full-scale recording reaches half the PDM
 * range, 0.5 * 125^4 / 2^8 in RDATA, so pcm = rdata * 2^17 / (125^4 / 2^8) ~= (rdata * 4503) >> 16
 * (saturated). A half is overrun when the interrupt starts refilling it before the firmware
 * released it. Header-only: each app is one translation unit.
 */
#ifndef SIMCORE_DFSDM_MIC_H
#define SIMCORE_DFSDM_MIC_H

#include <stdint.h>

#include "board.h"

#define DFSDM_REG(off) (*(volatile uint32_t *)(DFSDM1_BASE + (off)))
#define DFSDM_NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define DFSDM_IRQ_HANDLER_(n) IRQ##n##_Handler
#define DFSDM_IRQ_HANDLER(n) DFSDM_IRQ_HANDLER_(n)

static int16_t *dfsdm_ring;
static uint32_t dfsdm_half;               /* samples per half */
static volatile uint32_t dfsdm_samples;   /* samples written since the start */
static volatile uint32_t dfsdm_released;  /* halves the firmware handed back */
static volatile uint32_t dfsdm_overruns;  /* halves refilled before they were handed back */

void DFSDM_IRQ_HANDLER(DFSDM1_IRQn)(void)
{
    int32_t v = (int32_t)DFSDM_REG(0x11Cu) >> 8; /* FLT0RDATAR.RDATA, sign extended; the read clears REOCF */
    int32_t pcm = (int32_t)(((int64_t)v * 4503) >> 16);
    pcm = pcm > 32767 ? 32767 : pcm < -32768 ? -32768 : pcm;
    uint32_t n = dfsdm_samples;
    if (n % dfsdm_half == 0 && n / dfsdm_half >= dfsdm_released + 2u)
        dfsdm_overruns++;
    dfsdm_ring[n % (2u * dfsdm_half)] = (int16_t)pcm;
    dfsdm_samples = n + 1u;
}

static void dfsdm_mic_start(int16_t *ring, uint32_t half)
{
    dfsdm_ring = ring;
    dfsdm_half = half;
    DFSDM_REG(0x44u) = 8u << 3;                            /* CH2CFGR2: DTRBS 8, no offset */
    DFSDM_REG(0x40u) = 1u << 7 | 1u << 2;                  /* CH2CFGR1: CHEN, SPICKSEL CKOUT, SITP rising */
    DFSDM_REG(0x114u) = 4u << 29 | 124u << 16 | 0u;        /* FLT0FCR: Sinc4, FOSR 125, IOSR 1 */
    DFSDM_REG(0x104u) = 1u << 1;                           /* FLT0CR2: REOCIE */
    DFSDM_REG(0x100u) = 2u << 24 | 1u << 29 | 1u << 18 | 1u; /* FLT0CR1: RCH 2, FAST, RCONT, DFEN */
    DFSDM_NVIC_ISER[DFSDM1_IRQn / 32] = 1u << (DFSDM1_IRQn % 32);
    DFSDM_REG(0x00u) = 1u << 31 | 39u << 16;               /* CH0CFGR1: DFSDMEN, CKOUT = 80 MHz / 40 */
    DFSDM_REG(0x100u) |= 1u << 17;                          /* RSWSTART */
}

/* Sleep until half h of the stream is complete (the interrupt fills it). */
static void dfsdm_mic_wait(uint32_t h)
{
    while (dfsdm_samples < (h + 1u) * dfsdm_half)
        __asm volatile("wfi");
}

static void dfsdm_mic_release(uint32_t h) { dfsdm_released = h + 1u; }

static void dfsdm_mic_stop(void)
{
    DFSDM_REG(0x100u) = 0;
    DFSDM_REG(0x00u) = 0;
}

#endif
