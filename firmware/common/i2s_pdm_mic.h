/*
 * The STM32F4 Discovery's MP45DT02 PDM microphone through I2S2 (RM0090 section 28.4) and DMA1 stream 3
 * (RM0090 section 10), with the PDM-to-PCM filter in firmware, for the audio apps.
 *
 * Clocks: the core at 168 MHz (HSE 8 MHz -> PLL), PLLI2S makes I2SxCLK = 1 MHz * 256 / 5 = 51.2 MHz and
 * I2SDIV 25 the bit clock CK = 1.024 MHz (PB10, AF5), which clocks the microphone; its data on PC3 (I2S2_SD,
 * AF5). I2S2 in master receive, 16-bit data in 16-bit channels: every word in DR is the next 16 PDM bits,
 * first bit most significant. DMA1 stream 3 channel 0 (SPI2_RX) fills a circular buffer of two halves
 * with half-transfer and transfer-complete flags (interrupt DMA1_Stream3, RM0090 Table 61).
 *
 * The filter (i2s_pdm_to_pcm): a Sinc4 CIC decimating by 64 (1.024 MHz -> 16 kHz): four integrators per
 * bit (+1 / -1), four combs per output, 32-bit wrapping arithmetic; pcm = cic >> 8 (a full-scale recording
 * is half the PDM range, 0.5 * 64^4 = 2^23), saturated.
 *
 * Two ways to use it: audio_events waits for the DMA flags itself and filters a half per window; an app
 * that defines I2S_PDM_DMA_WORDS (16-bit words per DMA half, a multiple of 4) before including this header
 * gets the way dfsdm_mic.h works: the DMA interrupt filters each DMA half into the app's ring of two halves
 * of PCM (i2s_pdm_mic_start / _wait / _release / _stop; i2s_pdm_samples, i2s_pdm_overruns: an app half
 * refilled before the app released it). Header-only: each app is one translation unit.
 */
#ifndef SIMCORE_I2S_PDM_MIC_H
#define SIMCORE_I2S_PDM_MIC_H

#include <stdint.h>

#include "board.h"

#define I2S_PDM_REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define I2S_PDM_NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define I2S_PDM_DMA_IRQn 14u /* DMA1_Stream3, RM0090 Table 61 */
#define I2S_PDM_HTIF3 (1u << 26)
#define I2S_PDM_TCIF3 (1u << 27)
#define I2S_PDM_DECIMATION 64u

static uint32_t i2s_pdm_integ[4], i2s_pdm_comb[4];

/* Sinc4 CIC over nwords 16-bit words (first bit most significant), one output per 64 bits. */
__attribute__((noinline)) static void i2s_pdm_to_pcm(const uint16_t *w, uint32_t nwords, int16_t *out)
{
    uint32_t i0 = i2s_pdm_integ[0], i1 = i2s_pdm_integ[1], i2 = i2s_pdm_integ[2], i3 = i2s_pdm_integ[3];
    for (uint32_t k = 0; k < nwords; k++) {
        uint32_t bits = w[k];
        for (int b = 15; b >= 0; b--) {
            i0 += ((bits >> b) & 1u) ? 1u : 0xFFFFFFFFu; /* +1 / -1 */
            i1 += i0;
            i2 += i1;
            i3 += i2;
        }
        if ((k & 3u) == 3u) { /* 64 bits: one output through the four combs */
            uint32_t y = i3;
            for (int c = 0; c < 4; c++) {
                uint32_t t = y - i2s_pdm_comb[c];
                i2s_pdm_comb[c] = y;
                y = t;
            }
            int32_t v = (int32_t)y >> 8;
            *out++ = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        }
    }
    i2s_pdm_integ[0] = i0;
    i2s_pdm_integ[1] = i1;
    i2s_pdm_integ[2] = i2;
    i2s_pdm_integ[3] = i3;
}

/* 168 MHz from HSE through the PLL, and PLLI2S at 51.2 MHz (RM0090 6.3.2, 6.3.23; flash 5 wait states). */
static void i2s_pdm_clocks_168mhz(void)
{
    I2S_PDM_REG(RCC_BASE, 0x40) |= 1u << 28;             /* APB1ENR.PWREN */
    I2S_PDM_REG(PWR_BASE, 0x00) |= 1u << 14;             /* PWR_CR.VOS: scale 1 */
    I2S_PDM_REG(RCC_BASE, 0x00) |= 1u << 16;             /* HSEON */
    while (!(I2S_PDM_REG(RCC_BASE, 0x00) & (1u << 17))) { /* HSERDY */
    }
    I2S_PDM_REG(FLASH_BASE, 0x00) = 1u << 8 | 1u << 9 | 1u << 10 | 5u; /* prefetch, caches, 5 wait states */
    I2S_PDM_REG(RCC_BASE, 0x08) = (I2S_PDM_REG(RCC_BASE, 0x08) & ~0xFCF0u) | 5u << 10 | 4u << 13; /* APB1 /4, APB2 /2 */
    I2S_PDM_REG(RCC_BASE, 0x04) = 8u | 336u << 6 | 0u << 16 | 1u << 22 | 7u << 24; /* M 8, N 336, P 2, HSE, Q 7 */
    I2S_PDM_REG(RCC_BASE, 0x84) = 256u << 6 | 5u << 28;  /* PLLI2SCFGR: N 256, R 5 -> 51.2 MHz */
    I2S_PDM_REG(RCC_BASE, 0x00) |= 1u << 24 | 1u << 26;  /* PLLON, PLLI2SON */
    while ((I2S_PDM_REG(RCC_BASE, 0x00) & (1u << 25 | 1u << 27)) != (1u << 25 | 1u << 27)) {
    }
    I2S_PDM_REG(RCC_BASE, 0x08) = (I2S_PDM_REG(RCC_BASE, 0x08) & ~3u) | 2u; /* SW = PLL */
    while ((I2S_PDM_REG(RCC_BASE, 0x08) & (3u << 2)) != (2u << 2)) {
    }
}

/* Pins, DMA1 stream 3 into buf (total 16-bit words, two halves, circular, HT and TC interrupts enabled in
 * the NVIC) and I2S2: CK starts and the microphone streams. */
static void i2s_pdm_dma_start(uint16_t *buf, uint32_t total_words)
{
    I2S_PDM_REG(RCC_BASE, 0x30) |= 1u << 1 | 1u << 2 | 1u << 21; /* AHB1ENR: GPIOB, GPIOC, DMA1 */
    I2S_PDM_REG(RCC_BASE, 0x40) |= 1u << 14;                    /* APB1ENR: SPI2 */
    I2S_PDM_REG(GPIOB_BASE, 0x00) = (I2S_PDM_REG(GPIOB_BASE, 0x00) & ~(3u << 20)) | 2u << 20;   /* PB10 AF */
    I2S_PDM_REG(GPIOB_BASE, 0x24) = (I2S_PDM_REG(GPIOB_BASE, 0x24) & ~(15u << 8)) | 5u << 8;    /* AF5: CK */
    I2S_PDM_REG(GPIOC_BASE, 0x00) = (I2S_PDM_REG(GPIOC_BASE, 0x00) & ~(3u << 6)) | 2u << 6;     /* PC3 AF */
    I2S_PDM_REG(GPIOC_BASE, 0x20) = (I2S_PDM_REG(GPIOC_BASE, 0x20) & ~(15u << 12)) | 5u << 12; /* AF5: SD */
    I2S_PDM_REG(DMA1_BASE, 0x5C) = total_words;                 /* S3NDTR */
    I2S_PDM_REG(DMA1_BASE, 0x60) = SPI2_BASE + 0x0Cu;           /* S3PAR: SPI2_DR */
    I2S_PDM_REG(DMA1_BASE, 0x64) = (uint32_t)(uintptr_t)buf;    /* S3M0AR */
    /* S3CR: channel 0 (SPI2_RX), half-words, MINC, CIRC, peripheral to memory, HTIE, TCIE, EN */
    I2S_PDM_REG(DMA1_BASE, 0x58) = 0u << 25 | 1u << 13 | 1u << 11 | 1u << 10 | 1u << 8 | 1u << 4 | 1u << 3 | 1u;
    I2S_PDM_NVIC_ISER[I2S_PDM_DMA_IRQn / 32] = 1u << (I2S_PDM_DMA_IRQn % 32);
    I2S_PDM_REG(SPI2_BASE, 0x04) = 1u;                          /* CR2.RXDMAEN */
    I2S_PDM_REG(SPI2_BASE, 0x20) = 25u;                         /* I2SPR: I2SDIV 25, ODD 0, no MCK */
    I2S_PDM_REG(SPI2_BASE, 0x1C) = 1u << 11 | 3u << 8;          /* I2SMOD, master receive, Philips, 16/16 */
    I2S_PDM_REG(SPI2_BASE, 0x1C) |= 1u << 10;                   /* I2SE */
}

static void i2s_pdm_dma_stop(void)
{
    I2S_PDM_REG(SPI2_BASE, 0x1C) &= ~(1u << 10);
    I2S_PDM_REG(DMA1_BASE, 0x58) &= ~1u;
}

#if defined(I2S_PDM_DMA_WORDS)
#define I2S_PDM_DMA_SAMPLES (I2S_PDM_DMA_WORDS * 16u / I2S_PDM_DECIMATION)
#define I2S_PDM_IRQ_HANDLER_(n) IRQ##n##_Handler
#define I2S_PDM_IRQ_HANDLER(n) I2S_PDM_IRQ_HANDLER_(n)

static uint16_t i2s_pdm_dma[2u * I2S_PDM_DMA_WORDS]; /* PDM bits, written by DMA1 stream 3 */
static int16_t *i2s_pdm_ring;
static uint32_t i2s_pdm_half;              /* samples per app half (a multiple of I2S_PDM_DMA_SAMPLES) */
static uint32_t i2s_pdm_dma_next;          /* the DMA half the interrupt filters next (0, 1) */
static volatile uint32_t i2s_pdm_samples;  /* samples written since the start */
static volatile uint32_t i2s_pdm_released; /* halves the firmware handed back */
static volatile uint32_t i2s_pdm_overruns; /* halves refilled before they were handed back */

/* DMA1 stream 3: a half of i2s_pdm_dma is complete (HTIF3: the first, TCIF3: the second). */
void I2S_PDM_IRQ_HANDLER(14)(void)
{
    const uint32_t isr = I2S_PDM_REG(DMA1_BASE, 0x00); /* LISR */
    uint32_t flag = i2s_pdm_dma_next ? I2S_PDM_TCIF3 : I2S_PDM_HTIF3;
    if (!(isr & flag)) {
        flag ^= I2S_PDM_TCIF3 | I2S_PDM_HTIF3; /* the other half: follow the DMA */
        if (!(isr & flag))
            return;
        i2s_pdm_dma_next ^= 1u;
    }
    I2S_PDM_REG(DMA1_BASE, 0x08) = flag; /* LIFCR */
    const uint32_t n = i2s_pdm_samples;
    if (n % i2s_pdm_half == 0 && n / i2s_pdm_half >= i2s_pdm_released + 2u)
        i2s_pdm_overruns++;
    i2s_pdm_to_pcm(&i2s_pdm_dma[i2s_pdm_dma_next * I2S_PDM_DMA_WORDS], I2S_PDM_DMA_WORDS,
                   &i2s_pdm_ring[n % (2u * i2s_pdm_half)]);
    i2s_pdm_dma_next ^= 1u;
    i2s_pdm_samples = n + I2S_PDM_DMA_SAMPLES;
}

static void i2s_pdm_mic_start(int16_t *ring, uint32_t half)
{
    i2s_pdm_ring = ring;
    i2s_pdm_half = half;
    i2s_pdm_dma_next = 0;
    i2s_pdm_dma_start(i2s_pdm_dma, 2u * I2S_PDM_DMA_WORDS);
}

/* Sleep until half h of the stream is complete (the DMA interrupt fills it); PRIMASK around the test and
 * the wfi, as dfsdm_mic_wait (ARMv7-M B1.5.19). */
static void i2s_pdm_mic_wait(uint32_t h)
{
    __asm volatile("cpsid i" ::: "memory");
    while (i2s_pdm_samples < (h + 1u) * i2s_pdm_half) {
        __asm volatile("wfi");
        __asm volatile("cpsie i\n isb\n cpsid i" ::: "memory");
    }
    __asm volatile("cpsie i" ::: "memory");
}

static void i2s_pdm_mic_release(uint32_t h) { i2s_pdm_released = h + 1u; }

static void i2s_pdm_mic_stop(void) { i2s_pdm_dma_stop(); }
#endif

#endif
