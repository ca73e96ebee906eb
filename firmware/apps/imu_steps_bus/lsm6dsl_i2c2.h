/*
 * imu_steps_bus on the B-L475E-IOT01A: the LSM6DSL (datasheet DocID028475) on I2C2 (PB10/PB11, address
 * 6Ah, 400 kHz; RM0351 39.4.8 master transfers: a register-address write, then a read of NBYTES with
 * AUTOEND) at 104 Hz, +-4 g (0.122 mg/LSB: (1.4 g)^2 = 131685030 counts^2), the accelerometer alone in the
 * FIFO (continuous mode, threshold 75 words = 25 samples) with INT1_FTH on INT1, which reaches EXTI11
 * through PD11 (EXTI15_10 interrupt). One burst read of FIFO_DATA_OUT drains 25 samples. Refractory
 * period 31 frames (300 ms at 104 Hz).
 */
#define CHIP "LSM6DSL"
#define CHIP_ID 0x6Au
#define ODR_HZ 104u
#define STEP_M2 131685030ll /* floor((1.4 g / 0.122 mg)^2) */
#define REFRACTORY 31u
#define INT_IRQn 40u /* EXTI15_10, RM0351 Table 57 */
#define WAIT_EXTI 1 /* wait_data: the EXTI pending bit of INT_PIN (main.c) */
#define INT_PIN 11u
#define WAKE "FIFO threshold 25 samples, INT1 -> EXTI11"

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
    if (who != CHIP_ID)
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
