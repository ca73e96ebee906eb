/*
 * imu_steps_bus on the STM32F4 Discovery: the LIS3DSH (datasheet DocID022405) on SPI1 (PA5/PA6/PA7,
 * mode 3, chip select PE3 driven by the firmware) at 100 Hz, +-4 g (0.12 mg/digit), FIFO in stream mode
 * with a watermark of 25 samples routed to INT1 (P1_WTM, active high), which reaches EXTI0 through PE0
 * (SYSCFG_EXTICR1 = port E, rising edge; RM0090 12.2.5). At each watermark interrupt the firmware reads
 * FIFO_SRC and drains the FIFO with one multiple-byte read of OUT_X_L..OUT_Z_H per sample.
 * Threshold (1.4 / 0.00012)^2 = 136111111 counts^2, refractory period 30 frames (300 ms).
 */
#define CHIP "LIS3DSH"
#define CHIP_ID 0x3Fu
#define ODR_HZ 100u
#define STEP_M2 136111111ll /* floor((1.4 g / 0.12 mg)^2) */
#define REFRACTORY 30u
#define INT_IRQn 6u /* EXTI0, RM0090 Table 61 */
#define WAIT_EXTI 1 /* wait_data: the EXTI pending bit of INT_PIN (main.c) */
#define INT_PIN 0u
#define WAKE "FIFO watermark 25 samples, INT1 -> EXTI0"

/* LIS3DSH registers */
#define WHO_AM_I 0x0Fu
#define CTRL_REG4 0x20u
#define CTRL_REG3 0x23u
#define CTRL_REG5 0x24u
#define CTRL_REG6 0x25u
#define OUT_X_L 0x28u
#define FIFO_CTRL 0x2Eu
#define FIFO_SRC 0x2Fu

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
    if (who != CHIP_ID)
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
