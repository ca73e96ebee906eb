/*
 * imu_steps_bus: imu_steps' pedometer on the board's own accelerometer, read over its bus.
 *
 * STM32F4 Discovery: the LIS3DSH (datasheet DocID022405) on SPI1 (PA5/PA6/PA7, mode 3, chip select
 * PE3 driven by the firmware) at 100 Hz, +-4 g (0.12 mg/digit), FIFO in stream mode with a
 * watermark of 25 samples routed to INT1 (P1_WTM, active high), which reaches EXTI0 through PE0
 * (SYSCFG_EXTICR1 = port E, rising edge; RM0090 12.2.5). At each watermark interrupt the firmware
 * reads FIFO_SRC and drains the FIFO with one multiple-byte read of OUT_X_L..OUT_Z_H per sample.
 * The step detector is imu_steps': m = ax^2 + ay^2 + az^2 above (1.4 g)^2 in counts^2
 * ((1.4 / 0.00012)^2 = 136111111), a step at the largest m of a run, 30-frame refractory period.
 *
 * B-L475E-IOT01A: the LSM6DSL (datasheet DocID028475) on I2C2 (PB10/PB11, address 6Ah, 400 kHz;
 * RM0351 39.4.8 master transfers: a register-address write, then a read of NBYTES with AUTOEND)
 * at 104 Hz, +-4 g (0.122 mg/LSB: (1.4 g)^2 = 131685030 counts^2), the accelerometer alone in the
 * FIFO (continuous mode, threshold 75 words = 25 samples) with INT1_FTH on INT1, which reaches
 * EXTI11 through PD11 (EXTI15_10 interrupt). One burst read of FIFO_DATA_OUT drains 25 samples.
 * The refractory period is 300 ms in both cases (30 frames at 100 Hz, 31 at 104 Hz).
 *
 * "frames=N" on the command line stops after N samples (default 1000: the example recording).
 * Waiting is wfi with PRIMASK set: the EXTI0 interrupt wakes the core, the firmware polls EXTI_PR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "semihosting.h"
#include "vclock.h"
#include "step_detector.h"

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#if defined(BOARD_SVD_STM32F407VG)
#define ODR_HZ 100u
#define STEP_M2 136111111ll /* floor((1.4 g / 0.12 mg)^2) */
#define REFRACTORY 30u
#define INT_IRQn 6u /* EXTI0, RM0090 Table 61 */
#define INT_PIN 0u
#define CHIP "LIS3DSH"
#else
#define ODR_HZ 104u
#define STEP_M2 131685030ll /* floor((1.4 g / 0.122 mg)^2) */
#define REFRACTORY 31u
#define INT_IRQn 40u /* EXTI15_10, RM0351 Table 57 */
#define INT_PIN 11u
#define CHIP "LSM6DSL"
#endif
#define WATERMARK 25u
#define FRAME_US (1000000u / ODR_HZ)

/* LIS3DSH registers */
#define WHO_AM_I 0x0Fu
#define CTRL_REG4 0x20u
#define CTRL_REG3 0x23u
#define CTRL_REG5 0x24u
#define CTRL_REG6 0x25u
#define OUT_X_L 0x28u
#define FIFO_CTRL 0x2Eu
#define FIFO_SRC 0x2Fu
/* LSM6DSL registers */
#define LSM_FIFO_CTRL1 0x06u
#define LSM_FIFO_CTRL3 0x08u
#define LSM_FIFO_CTRL5 0x0Au
#define LSM_INT1_CTRL 0x0Du
#define LSM_WHO_AM_I 0x0Fu
#define LSM_CTRL1_XL 0x10u
#define LSM_FIFO_STATUS1 0x3Au
#define LSM_FIFO_DATA_OUT_L 0x3Eu
#define LSM_ADDR 0x6Au

static uint32_t parse_arg(const char *name, uint32_t dflt)
{
    static char cmd[128];
    struct { char *buf; int len; } arg = {cmd, sizeof cmd - 1};
    if (sh_call(0x15 /* SYS_GET_CMDLINE */, &arg) != 0 || arg.len <= 0 || arg.len >= (int)sizeof cmd)
        return dflt;
    cmd[arg.len] = 0;
    const char *w = strstr(cmd, name);
    long n = w ? strtol(w + strlen(name), NULL, 10) : (long)dflt;
    return n < 1 ? dflt : (uint32_t)n;
}

#if defined(BOARD_SVD_STM32F407VG)
/* --- SPI1 and the chip select (RM0090 28.3.3: full-duplex master, 8-bit frames) --- */
static void cs(int high) { REG(GPIOE_BASE, 0x18) = high ? 1u << 3 : 1u << (3 + 16); /* BSRR */ }

static uint8_t spi_xfer(uint8_t out)
{
    while (!(REG(SPI1_BASE, 0x08) & 2u)) { /* TXE */
    }
    REG(SPI1_BASE, 0x0C) = out;
    while (!(REG(SPI1_BASE, 0x08) & 1u)) { /* RXNE */
    }
    return (uint8_t)REG(SPI1_BASE, 0x0C);
}

static void write_reg(uint8_t reg, uint8_t value)
{
    cs(0);
    spi_xfer(reg);
    spi_xfer(value);
    cs(1);
}

static void read_regs(uint8_t reg, uint8_t *buf, uint32_t n)
{
    cs(0);
    spi_xfer(0x80u | reg); /* bit 7: read; ADD_INC (CTRL_REG6) steps the address */
    for (uint32_t i = 0; i < n; i++)
        buf[i] = spi_xfer(0);
    cs(1);
}

static uint8_t read_reg(uint8_t reg)
{
    uint8_t v;
    read_regs(reg, &v, 1);
    return v;
}

static void setup(void)
{
    REG(RCC_BASE, 0x30) |= 1u << 0 | 1u << 4;   /* AHB1ENR: GPIOA, GPIOE */
    REG(RCC_BASE, 0x44) |= 1u << 12 | 1u << 14; /* APB2ENR: SPI1, SYSCFG */
    /* PA5/6/7 alternate function 5 (SPI1), PE3 output (CS, high), PE0 input (INT1) */
    REG(GPIOA_BASE, 0x00) = (REG(GPIOA_BASE, 0x00) & ~(0x3Fu << 10)) | 0x2Au << 10;
    REG(GPIOA_BASE, 0x20) = (REG(GPIOA_BASE, 0x20) & ~(0xFFFu << 20)) | 0x555u << 20;
    cs(1);
    REG(GPIOE_BASE, 0x00) = (REG(GPIOE_BASE, 0x00) & ~(3u << 6 | 3u)) | 1u << 6;
    /* SPI1: master, PCLK2 / 16, mode 3 (CPOL 1, CPHA 1), software NSS held high, enabled */
    REG(SPI1_BASE, 0x00) = 1u << 2 | 3u << 3 | 3u | 1u << 9 | 1u << 8;
    REG(SPI1_BASE, 0x00) |= 1u << 6;
    /* EXTI0 <- PE0, rising edge, unmasked (RM0090 9.2.3, 12.3) */
    REG(SYSCFG_BASE, 0x08) = (REG(SYSCFG_BASE, 0x08) & ~0xFu) | 4u;
    REG(EXTI_BASE, 0x08) |= 1u; /* RTSR */
    REG(EXTI_BASE, 0x00) |= 1u; /* IMR */
}


/* Program the chip; returns its WHO_AM_I. */
static uint8_t chip_start(void)
{
    uint8_t who = read_reg(WHO_AM_I);
    if (who != 0x3F)
        return who;
    write_reg(CTRL_REG5, 1u << 3);                               /* FSCALE +-4 g */
    write_reg(FIFO_CTRL, 2u << 5 | WATERMARK);                   /* stream mode, watermark 25 */
    write_reg(CTRL_REG6, 1u << 6 | 1u << 5 | 1u << 4 | 1u << 2); /* FIFO_EN, WTM_EN, ADD_INC, P1_WTM */
    write_reg(CTRL_REG3, 1u << 3 | 1u << 6);                     /* INT1_EN, IEA: active high */
    write_reg(CTRL_REG4, 6u << 4 | 7u);                          /* ODR 100 Hz, X Y Z on: sampling starts */
    return who;
}

static uint32_t chip_level(int *overrun)
{
    uint8_t src = read_reg(FIFO_SRC);
    *overrun = (src >> 6) & 1u; /* OVRN_FIFO */
    uint32_t n = src & 0x1Fu;
    return (*overrun && n == 0) ? 32u : n;
}

static void chip_read(uint8_t *b, uint32_t samples)
{
    for (uint32_t i = 0; i < samples; i++)
        read_regs(OUT_X_L, b + 6u * i, 6); /* OUT_X_L..OUT_Z_H: one sample leaves the FIFO */
}

static void chip_stop(void) { write_reg(CTRL_REG4, 0); }
#else
/* --- I2C2 master (RM0351 39.4.8) --- */
#ifndef RCC_BASE
#define RCC_BASE 0x40021000u /* RM0351 2.2.2 (the board has no RCC model: the enables are kept as written) */
#endif
#define I2C_CR1 0x00u
#define I2C_CR2 0x04u
#define I2C_TIMINGR 0x10u
#define I2C_ISR 0x18u
#define I2C_ICR 0x1Cu
#define I2C_RXDR 0x24u
#define I2C_TXDR 0x28u
#define ISR_TXIS (1u << 1)
#define ISR_RXNE (1u << 2)
#define ISR_STOPF (1u << 5)
#define ISR_TC (1u << 6)

static void i2c_wait(uint32_t flag)
{
    while (!(REG(I2C2_BASE, I2C_ISR) & flag)) {
    }
}

static void write_reg(uint8_t reg, uint8_t value)
{
    REG(I2C2_BASE, I2C_CR2) = LSM_ADDR << 1 | 2u << 16 | 1u << 25 | 1u << 13; /* NBYTES 2, AUTOEND, START */
    i2c_wait(ISR_TXIS);
    REG(I2C2_BASE, I2C_TXDR) = reg;
    i2c_wait(ISR_TXIS);
    REG(I2C2_BASE, I2C_TXDR) = value;
    i2c_wait(ISR_STOPF);
    REG(I2C2_BASE, I2C_ICR) = ISR_STOPF;
}

static void read_regs(uint8_t reg, uint8_t *buf, uint32_t n)
{
    REG(I2C2_BASE, I2C_CR2) = LSM_ADDR << 1 | 1u << 16 | 1u << 13; /* write the register address, no AUTOEND */
    i2c_wait(ISR_TXIS);
    REG(I2C2_BASE, I2C_TXDR) = reg;
    i2c_wait(ISR_TC);
    REG(I2C2_BASE, I2C_CR2) = LSM_ADDR << 1 | 1u << 10 | n << 16 | 1u << 25 | 1u << 13; /* read n, AUTOEND, START */
    for (uint32_t i = 0; i < n; i++) {
        i2c_wait(ISR_RXNE);
        buf[i] = (uint8_t)REG(I2C2_BASE, I2C_RXDR);
    }
    i2c_wait(ISR_STOPF);
    REG(I2C2_BASE, I2C_ICR) = ISR_STOPF;
}

static uint8_t read_reg(uint8_t reg)
{
    uint8_t v;
    read_regs(reg, &v, 1);
    return v;
}

static void setup(void)
{
    REG(RCC_BASE, 0x4C) |= 1u << 1 | 1u << 3; /* AHB2ENR: GPIOB, GPIOD */
    REG(RCC_BASE, 0x58) |= 1u << 22;          /* APB1ENR1: I2C2 */
    REG(RCC_BASE, 0x60) |= 1u;                /* APB2ENR: SYSCFG */
    /* PB10 (SCL) / PB11 (SDA): alternate function 4, open drain; PD11 input (INT1) */
    REG(GPIOB_BASE, 0x00) = (REG(GPIOB_BASE, 0x00) & ~(0xFu << 20)) | 0xAu << 20;
    REG(GPIOB_BASE, 0x04) |= 3u << 10;
    REG(GPIOB_BASE, 0x24) = (REG(GPIOB_BASE, 0x24) & ~0xFF00u) | 0x4400u;
    REG(GPIOD_BASE, 0x00) &= ~(3u << 22);
    /* I2C2: 400 kHz from the 80 MHz kernel clock: PRESC 1, SCLL = SCLH = 49 (2 x 50 x 25 ns) */
    REG(I2C2_BASE, I2C_TIMINGR) = 1u << 28 | 3u << 20 | 2u << 16 | 49u << 8 | 49u;
    REG(I2C2_BASE, I2C_CR1) = 1u; /* PE */
    /* EXTI11 <- PD11, rising edge, unmasked (RM0351 12.3, 14.3) */
    REG(SYSCFG_BASE, 0x10) = (REG(SYSCFG_BASE, 0x10) & ~(0xFu << 12)) | 3u << 12;
    REG(EXTI_BASE, 0x08) |= 1u << 11; /* RTSR1 */
    REG(EXTI_BASE, 0x00) |= 1u << 11; /* IMR1 */
}

/* Program the chip; returns its WHO_AM_I. */
static uint8_t chip_start(void)
{
    uint8_t who = read_reg(LSM_WHO_AM_I);
    if (who != 0x6A)
        return who;
    write_reg(LSM_FIFO_CTRL1, 3u * WATERMARK);       /* threshold 75 words (FTH[7:0]) */
    write_reg(LSM_FIFO_CTRL3, 1u);                   /* accelerometer in the FIFO, no decimation */
    write_reg(LSM_INT1_CTRL, 1u << 3);               /* INT1_FTH */
    write_reg(LSM_FIFO_CTRL5, 4u << 3 | 6u);         /* FIFO ODR 104 Hz, continuous mode */
    write_reg(LSM_CTRL1_XL, 4u << 4 | 2u << 2);      /* ODR 104 Hz, +-4 g: sampling starts */
    return who;
}

/* Samples in the FIFO (3 words each) and whether it overran. */
static uint32_t chip_level(int *overrun)
{
    uint8_t st[2];
    read_regs(LSM_FIFO_STATUS1, st, 2);
    *overrun = (st[1] >> 6) & 1u;
    return ((uint32_t)(st[1] & 7u) << 8 | st[0]) / 3u;
}

static void chip_read(uint8_t *b, uint32_t samples) { read_regs(LSM_FIFO_DATA_OUT_L, b, 6u * samples); }

static void chip_stop(void) { write_reg(LSM_CTRL1_XL, 0); }
#endif

int main(void)
{
    vclock_start();
    const uint32_t frames = parse_arg("frames=", 1000);
    setup();
    __asm volatile("cpsid i" ::: "memory");
    NVIC_ISER[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
    uint8_t who = chip_start();
    printf("imu_steps_bus on %s: %s (WHO_AM_I %02x), %u Hz, +-4 g, FIFO watermark %u samples, INT1 -> EXTI%u\n",
           BOARD_NAME, CHIP, who, ODR_HZ, WATERMARK, INT_PIN);
    if (who != 0x3F && who != 0x6A)
        return 2;

    static uint8_t buf[6u * 32u];
    struct detector d = {.threshold_m2 = STEP_M2, .refractory = REFRACTORY, .frame_us = FRAME_US};
    uint32_t overruns = 0;
    while (d.k < frames) {
        while (!(REG(EXTI_BASE, 0x14) & (1u << INT_PIN))) { /* EXTI_PR(1) */
            __asm volatile("wfi");
            NVIC_ICPR[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
        }
        REG(EXTI_BASE, 0x14) = 1u << INT_PIN; /* write 1 to clear */
        int ovr = 0;
        uint32_t n = chip_level(&ovr);
        overruns += (uint32_t)ovr;
        if (n > 32u)
            n = 32u;
        if (n > frames - d.k)
            n = frames - d.k;
        chip_read(buf, n);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *b = buf + 6u * i;
            frame(&d, (int16_t)(b[0] | b[1] << 8), (int16_t)(b[2] | b[3] << 8), (int16_t)(b[4] | b[5] << 8));
        }
    }
    end_run(&d);
    chip_stop();
    printf("done: %lu steps in %lu frames, %lu overruns\n", (unsigned long)d.steps, (unsigned long)d.k,
           (unsigned long)overruns);
    return 0;
}
