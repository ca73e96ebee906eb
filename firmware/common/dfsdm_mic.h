/*
 * The B-L475E-IOT01A's MP34DT01 through DFSDM1 (RM0351 section 24) and DMA1 (RM0351 section 11), for the
 * audio apps: 16 kHz PCM16 into a ring of two halves, as the generic board's microphone DMA fills one.
 *
 * The way ST's BSP_AUDIO_IN records on the L4 discovery kits: CKOUT = 80 MHz / 40 = 2 MHz clocks the
 * microphone on DFSDM1_DATIN2; channel 2 samples it (SPI, rising edge, internal clock); filter 0 converts
 * it continuously in fast mode with Sinc4 and FOSR 125 (2 MHz / 125 = 16 kHz), DTRBS 8, and asks for a
 * DMA transfer at each result (RDMAEN; no end-of-conversion interrupt). DMA1 channel 4, request DFSDM1_FLT0
 * (DMA_CSELR C4S = 0, RM0351 Table 41), reads the 32-bit FLT0RDATAR into a circular buffer of two halves of
 * DFSDM_DMA_HALF words (peripheral and memory 32 bits, memory increment, circular) with half-transfer and
 * transfer-complete interrupts. The DMA interrupt (DMA1_CH4, RM0351 Table 58) scales the half the DMA
 * has just filled into the app's ring, as the BSP's half/complete callbacks do: a full-scale recording
 * reaches half the PDM range, 0.5 * 125^4 / 2^8 in RDATA, so pcm = rdata * 2^17 / (125^4 / 2^8)
 * ~= (rdata * 4503) >> 16 (saturated). An app half is a whole number of DMA halves (an app defines
 * DFSDM_DMA_HALF before including this header; default 160 samples, 10 ms). An app half is overrun when
 * the interrupt starts refilling it before the firmware released it. Header-only: each app is one
 * translation unit.
 */
#ifndef SIMCORE_DFSDM_MIC_H
#define SIMCORE_DFSDM_MIC_H

#include <stdint.h>

#include "board.h"

#ifndef DFSDM_DMA_HALF
#define DFSDM_DMA_HALF 160u /* samples per DMA half */
#endif

#define DFSDM_REG(off) (*(volatile uint32_t *)(DFSDM1_BASE + (off)))
#define DFSDM_DMA_REG(off) (*(volatile uint32_t *)(DMA1_BASE + (off)))
#define DFSDM_NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define DFSDM_IRQ_HANDLER_(n) IRQ##n##_Handler
#define DFSDM_IRQ_HANDLER(n) DFSDM_IRQ_HANDLER_(n)
#define DFSDM_DMA_IRQn 14               /* DMA1_CH4 (no suffix: it names the handler) */
#define DFSDM_DMA_HTIF4 (1u << 14)      /* DMA_ISR: channel 4 half transfer */
#define DFSDM_DMA_TCIF4 (1u << 13)      /* DMA_ISR: channel 4 transfer complete */
#define DFSDM_DMA_TEIF4 (1u << 15)      /* DMA_ISR: channel 4 transfer error */

static int32_t dfsdm_dma[2u * DFSDM_DMA_HALF]; /* FLT0RDATAR words, written by DMA1 channel 4 */
static int16_t *dfsdm_ring;
static uint32_t dfsdm_half;               /* samples per app half (a multiple of DFSDM_DMA_HALF) */
static uint32_t dfsdm_dma_next;           /* the DMA half the interrupt converts next (0, 1) */
static volatile uint32_t dfsdm_samples;   /* samples written since the start */
static volatile uint32_t dfsdm_released;  /* halves the firmware handed back */
static volatile uint32_t dfsdm_overruns;  /* halves refilled before they were handed back */
static volatile uint32_t dfsdm_dma_errors;

/* DMA1 channel 4: a half of dfsdm_dma is complete (HTIF4: the first, TCIF4: the second). */
void DFSDM_IRQ_HANDLER(DFSDM_DMA_IRQn)(void)
{
    const uint32_t isr = DFSDM_DMA_REG(0x00u);
    if (isr & DFSDM_DMA_TEIF4) {
        DFSDM_DMA_REG(0x04u) = DFSDM_DMA_TEIF4;
        dfsdm_dma_errors++;
    }
    uint32_t flag = dfsdm_dma_next ? DFSDM_DMA_TCIF4 : DFSDM_DMA_HTIF4;
    if (!(isr & flag)) {
        flag ^= DFSDM_DMA_TCIF4 | DFSDM_DMA_HTIF4; /* the other half: follow the DMA */
        if (!(isr & flag))
            return;
        dfsdm_dma_next ^= 1u;
    }
    DFSDM_DMA_REG(0x04u) = flag; /* DMA_IFCR */
    const int32_t *src = &dfsdm_dma[dfsdm_dma_next * DFSDM_DMA_HALF];
    dfsdm_dma_next ^= 1u;
    const uint32_t n = dfsdm_samples;
    if (n % dfsdm_half == 0 && n / dfsdm_half >= dfsdm_released + 2u)
        dfsdm_overruns++;
    int16_t *dst = &dfsdm_ring[n % (2u * dfsdm_half)];
    for (uint32_t i = 0; i < DFSDM_DMA_HALF; i++) {
        int32_t v = src[i] >> 8; /* RDATA, sign extended */
        int32_t pcm = (int32_t)(((int64_t)v * 4503) >> 16);
        dst[i] = (int16_t)(pcm > 32767 ? 32767 : pcm < -32768 ? -32768 : pcm);
    }
    dfsdm_samples = n + DFSDM_DMA_HALF;
}

static void dfsdm_mic_start(int16_t *ring, uint32_t half)
{
    dfsdm_ring = ring;
    dfsdm_half = half;
    dfsdm_dma_next = 0;
    DFSDM_DMA_REG(0xA8u) &= ~(0xFu << 12);                 /* CSELR: C4S = 0, DFSDM1_FLT0 */
    DFSDM_DMA_REG(0x4Cu) = DFSDM1_BASE + 0x11Cu;           /* CPAR4: FLT0RDATAR */
    DFSDM_DMA_REG(0x50u) = (uint32_t)(uintptr_t)dfsdm_dma; /* CMAR4 */
    DFSDM_DMA_REG(0x48u) = 2u * DFSDM_DMA_HALF;            /* CNDTR4 */
    /* CCR4: priority high, 32-bit memory and peripheral, MINC, CIRC, TEIE, HTIE, TCIE, EN */
    DFSDM_DMA_REG(0x44u) = 2u << 12 | 2u << 10 | 2u << 8 | 1u << 7 | 1u << 5 | 1u << 3 | 1u << 2 | 1u << 1 | 1u;
    DFSDM_NVIC_ISER[DFSDM_DMA_IRQn / 32] = 1u << (DFSDM_DMA_IRQn % 32);
    DFSDM_REG(0x44u) = 8u << 3;                            /* CH2CFGR2: DTRBS 8, no offset */
    DFSDM_REG(0x40u) = 1u << 7 | 1u << 2;                  /* CH2CFGR1: CHEN, SPICKSEL CKOUT, SITP rising */
    DFSDM_REG(0x114u) = 4u << 29 | 124u << 16 | 0u;        /* FLT0FCR: Sinc4, FOSR 125, IOSR 1 */
    DFSDM_REG(0x104u) = 0;                                 /* FLT0CR2: no interrupts (the DMA reads) */
    /* FLT0CR1: RCH 2, FAST, RDMAEN, RCONT, DFEN */
    DFSDM_REG(0x100u) = 2u << 24 | 1u << 29 | 1u << 21 | 1u << 18 | 1u;
    DFSDM_REG(0x00u) = 1u << 31 | 39u << 16;               /* CH0CFGR1: DFSDMEN, CKOUT = 80 MHz / 40 */
    DFSDM_REG(0x100u) |= 1u << 17;                          /* RSWSTART */
}

/* Sleep until half h of the stream is complete (the DMA interrupt fills it). The test and the wfi run with
 * PRIMASK set, so an interrupt between them cannot be missed: it stays pending and wakes the wfi, then runs
 * when PRIMASK is cleared (ARMv7-M B1.5.19). */
static void dfsdm_mic_wait(uint32_t h)
{
    __asm volatile("cpsid i" ::: "memory");
    while (dfsdm_samples < (h + 1u) * dfsdm_half) {
        __asm volatile("wfi");
        __asm volatile("cpsie i\n isb\n cpsid i" ::: "memory");
    }
    __asm volatile("cpsie i" ::: "memory");
}

static void dfsdm_mic_release(uint32_t h) { dfsdm_released = h + 1u; }

static void dfsdm_mic_stop(void)
{
    DFSDM_REG(0x100u) = 0;
    DFSDM_REG(0x00u) = 0;
    DFSDM_DMA_REG(0x44u) = 0;
}

#endif
