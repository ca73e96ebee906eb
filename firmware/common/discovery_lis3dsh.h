/*
 * The STM32F4 Discovery's LIS3DSH accelerometer (datasheet DocID022405) from firmware: SPI1 (PA5/PA6/PA7,
 * RM0090 28.3.3: full-duplex master, 8-bit frames, mode 3, PCLK2 / 16) with the chip select PE3 driven by
 * the firmware, INT1 on PE0 -> EXTI0 (SYSCFG_EXTICR1 = port E, rising edge; RM0090 9.2.3, 12.3).
 *
 * lis3dsh_start(odr, watermark): +-4 g (0.12 mg/digit), the FIFO in stream mode with the watermark routed
 * to INT1 (P1_WTM, active high), X Y Z on at CTRL_REG4 ODR code ``odr`` (5 = 50 Hz, 6 = 100 Hz); returns
 * WHO_AM_I (3Fh). lis3dsh_level reads FIFO_SRC; lis3dsh_read_samples drains with one multiple-byte read of
 * OUT_X_L..OUT_Z_H per sample (ADD_INC). lis3dsh_wait_int1 sleeps in wfi (PRIMASK set by the app) until
 * EXTI0 is pending. Header-only: each app is one translation unit.
 */
#ifndef SIMCORE_DISCOVERY_LIS3DSH_H
#define SIMCORE_DISCOVERY_LIS3DSH_H

#include <stdint.h>

#include "board.h"

#define LIS_REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define LIS_EXTI0_IRQn 6u /* RM0090 Table 61 */
#define LIS3DSH_ID 0x3Fu
#define LIS_WHO_AM_I 0x0Fu
#define LIS_CTRL_REG4 0x20u
#define LIS_CTRL_REG3 0x23u
#define LIS_CTRL_REG5 0x24u
#define LIS_CTRL_REG6 0x25u
#define LIS_OUT_X_L 0x28u
#define LIS_FIFO_CTRL 0x2Eu
#define LIS_FIFO_SRC 0x2Fu

static void lis_cs(int high) { LIS_REG(GPIOE_BASE, 0x18) = high ? 1u << 3 : 1u << (3 + 16); /* BSRR */ }

static uint8_t lis_spi_xfer(uint8_t out)
{
    while (!(LIS_REG(SPI1_BASE, 0x08) & 2u)) { /* TXE */
    }
    LIS_REG(SPI1_BASE, 0x0C) = out;
    while (!(LIS_REG(SPI1_BASE, 0x08) & 1u)) { /* RXNE */
    }
    return (uint8_t)LIS_REG(SPI1_BASE, 0x0C);
}

static void lis_write(uint8_t reg, uint8_t value)
{
    lis_cs(0);
    lis_spi_xfer(reg);
    lis_spi_xfer(value);
    lis_cs(1);
}

static void lis_read(uint8_t reg, uint8_t *buf, uint32_t n)
{
    lis_cs(0);
    lis_spi_xfer(0x80u | reg); /* bit 7: read; ADD_INC (CTRL_REG6) steps the address */
    for (uint32_t i = 0; i < n; i++)
        buf[i] = lis_spi_xfer(0);
    lis_cs(1);
}

static void lis_setup(void)
{
    LIS_REG(RCC_BASE, 0x30) |= 1u << 0 | 1u << 4;   /* AHB1ENR: GPIOA, GPIOE */
    LIS_REG(RCC_BASE, 0x44) |= 1u << 12 | 1u << 14; /* APB2ENR: SPI1, SYSCFG */
    /* PA5/6/7 alternate function 5 (SPI1), PE3 output (CS, high), PE0 input (INT1) */
    LIS_REG(GPIOA_BASE, 0x00) = (LIS_REG(GPIOA_BASE, 0x00) & ~(0x3Fu << 10)) | 0x2Au << 10;
    LIS_REG(GPIOA_BASE, 0x20) = (LIS_REG(GPIOA_BASE, 0x20) & ~(0xFFFu << 20)) | 0x555u << 20;
    lis_cs(1);
    LIS_REG(GPIOE_BASE, 0x00) = (LIS_REG(GPIOE_BASE, 0x00) & ~(3u << 6 | 3u)) | 1u << 6;
    /* SPI1: master, PCLK2 / 16, mode 3 (CPOL 1, CPHA 1), software NSS held high, enabled */
    LIS_REG(SPI1_BASE, 0x00) = 1u << 2 | 3u << 3 | 3u | 1u << 9 | 1u << 8;
    LIS_REG(SPI1_BASE, 0x00) |= 1u << 6;
    /* EXTI0 <- PE0, rising edge, unmasked */
    LIS_REG(SYSCFG_BASE, 0x08) = (LIS_REG(SYSCFG_BASE, 0x08) & ~0xFu) | 4u;
    LIS_REG(EXTI_BASE, 0x08) |= 1u; /* RTSR */
    LIS_REG(EXTI_BASE, 0x00) |= 1u; /* IMR */
    *(volatile uint32_t *)0xE000E100u = 1u << LIS_EXTI0_IRQn; /* NVIC_ISER0: EXTI0 wakes wfi */
}

static uint8_t lis3dsh_start(uint32_t odr, uint32_t watermark)
{
    uint8_t who;
    lis_read(LIS_WHO_AM_I, &who, 1);
    if (who != LIS3DSH_ID)
        return who;
    lis_write(LIS_CTRL_REG5, 1u << 3);                               /* FSCALE +-4 g */
    lis_write(LIS_FIFO_CTRL, (uint8_t)(2u << 5 | watermark));        /* stream mode, watermark */
    lis_write(LIS_CTRL_REG6, 1u << 6 | 1u << 5 | 1u << 4 | 1u << 2); /* FIFO_EN, WTM_EN, ADD_INC, P1_WTM */
    lis_write(LIS_CTRL_REG3, 1u << 3 | 1u << 6);                     /* INT1_EN, IEA: active high */
    lis_write(LIS_CTRL_REG4, (uint8_t)(odr << 4 | 7u));              /* ODR, X Y Z on: sampling starts */
    return who;
}

/* Samples in the FIFO (FIFO_SRC FSS, 32 when it overran empty-reading) and whether it overran. */
static uint32_t lis3dsh_level(int *overrun)
{
    uint8_t src;
    lis_read(LIS_FIFO_SRC, &src, 1);
    *overrun = (src >> 6) & 1u; /* OVRN_FIFO */
    uint32_t n = src & 0x1Fu;
    return (*overrun && n == 0) ? 32u : n;
}

static void lis3dsh_read_samples(uint8_t *b, uint32_t samples)
{
    for (uint32_t i = 0; i < samples; i++)
        lis_read(LIS_OUT_X_L, b + 6u * i, 6); /* OUT_X_L..OUT_Z_H: one sample leaves the FIFO */
}

static void lis3dsh_stop(void) { lis_write(LIS_CTRL_REG4, 0); }

/* Sleep until INT1 has set the EXTI0 pending bit, then clear it (and the NVIC's pending bit). */
static void lis3dsh_wait_int1(void)
{
    while (!(LIS_REG(EXTI_BASE, 0x14) & 1u)) { /* EXTI_PR */
        __asm volatile("wfi");
        *(volatile uint32_t *)0xE000E280u = 1u << LIS_EXTI0_IRQn; /* NVIC_ICPR0 */
    }
    LIS_REG(EXTI_BASE, 0x14) = 1u; /* write 1 to clear */
}

#endif
