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

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define FRAME_MS 10u
#define STEP_M2 136111111ll /* floor((1.4 g / 0.12 mg)^2) */
#define REFRACTORY 30u
#define WATERMARK 25u
#define EXTI0_IRQn 6u /* RM0090 Table 61 */

/* LIS3DSH registers */
#define WHO_AM_I 0x0Fu
#define CTRL_REG4 0x20u
#define CTRL_REG3 0x23u
#define CTRL_REG5 0x24u
#define CTRL_REG6 0x25u
#define OUT_X_L 0x28u
#define FIFO_CTRL 0x2Eu
#define FIFO_SRC 0x2Fu

struct detector {
    uint32_t k;
    int in_run;
    int64_t best_m;
    uint32_t best_k;
    int counting;
    uint32_t last_step;
    uint32_t steps;
};

static void end_run(struct detector *d)
{
    if (d->in_run && d->counting) {
        d->steps++;
        d->last_step = d->best_k;
        printf("step %lu at %lu ms (frame %lu), detected at %lu ms\n", (unsigned long)d->steps,
               (unsigned long)(d->best_k * FRAME_MS), (unsigned long)d->best_k, (unsigned long)vclock_ms());
    }
    d->in_run = 0;
}

static void frame(struct detector *d, int32_t ax, int32_t ay, int32_t az)
{
    int64_t m = (int64_t)ax * ax + (int64_t)ay * ay + (int64_t)az * az;
    if (m > STEP_M2) {
        if (!d->in_run) {
            d->in_run = 1;
            d->best_m = m;
            d->best_k = d->k;
            d->counting = d->steps == 0 || d->k - d->last_step >= REFRACTORY;
        } else if (m > d->best_m) {
            d->best_m = m;
            d->best_k = d->k;
        }
    } else {
        end_run(d);
    }
    d->k++;
}

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

int main(void)
{
    vclock_start();
    const uint32_t frames = parse_arg("frames=", 1000);
    setup();
    uint8_t who = read_reg(WHO_AM_I);
    printf("imu_steps_bus on %s: LIS3DSH (WHO_AM_I %02x) on SPI1, 100 Hz, +-4 g, FIFO watermark %u, INT1 -> EXTI0\n",
           BOARD_NAME, who, WATERMARK);
    if (who != 0x3F)
        return 2;
    write_reg(CTRL_REG5, 1u << 3);                          /* FSCALE +-4 g */
    write_reg(FIFO_CTRL, 2u << 5 | WATERMARK);               /* stream mode, watermark 25 */
    write_reg(CTRL_REG6, 1u << 6 | 1u << 5 | 1u << 4 | 1u << 2); /* FIFO_EN, WTM_EN, ADD_INC, P1_WTM */
    write_reg(CTRL_REG3, 1u << 3 | 1u << 6);                 /* INT1_EN, IEA: active high */
    __asm volatile("cpsid i" ::: "memory");
    NVIC_ISER[EXTI0_IRQn / 32] = 1u << (EXTI0_IRQn % 32);
    write_reg(CTRL_REG4, 6u << 4 | 7u);                      /* ODR 100 Hz, X Y Z on: sampling starts */

    struct detector d = {0};
    uint32_t overruns = 0;
    while (d.k < frames) {
        while (!(REG(EXTI_BASE, 0x14) & 1u)) { /* EXTI_PR.PR0 */
            __asm volatile("wfi");
            NVIC_ICPR[EXTI0_IRQn / 32] = 1u << (EXTI0_IRQn % 32);
        }
        REG(EXTI_BASE, 0x14) = 1u; /* write 1 to clear */
        uint8_t src = read_reg(FIFO_SRC);
        if (src & 0x40u)
            overruns++; /* OVRN_FIFO */
        uint32_t n = src & 0x1Fu;
        if (src & 0x40u && n == 0)
            n = 32;
        while (n-- && d.k < frames) {
            uint8_t b[6];
            read_regs(OUT_X_L, b, 6);
            frame(&d, (int16_t)(b[0] | b[1] << 8), (int16_t)(b[2] | b[3] << 8), (int16_t)(b[4] | b[5] << 8));
        }
    }
    end_run(&d);
    write_reg(CTRL_REG4, 0);
    printf("done: %lu steps in %lu frames, %lu overruns\n", (unsigned long)d.steps, (unsigned long)d.k,
           (unsigned long)overruns);
    return 0;
}
