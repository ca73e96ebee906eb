/*
 * The Arduino Nano 33 BLE Sense's IMU from firmware: TWIM1 transfers (the internal bus, SDA P0.14, SCL
 * P0.15, 400 kHz; nRF52840 PS v1.7 6.31: EasyDMA, a register-address write then a repeated-start read
 * through the LASTTX_STARTRX and LASTRX_STOP shortcuts; the core sleeps in wfi until STOPPED or ERROR),
 * a TIMER1 delay, and on Rev2 the BMI270's start-up and its INT1 through GPIOTE.
 *
 * BMI270 (datasheet BST-BMI270-DS000) start-up as section 5.2 "Quick start": PWR_CONF.adv_power_save = 0,
 * INIT_CTRL = 0, the 8192-byte configuration file burst-written to INIT_DATA, INIT_CTRL = 1,
 * INTERNAL_STATUS.message = init_ok 20 ms later. The configuration file is Bosch's (BMI270_SensorAPI); it
 * is vendor code this repository does not carry, so the firmware uploads 8192 zero bytes: simcore checks
 * the handshake and the size, not the feature engine (no feature of it is used). On a real board this
 * upload must be Bosch's file. INT1 is on P0.11 (the board file): the firmware takes its rising edge
 * with GPIOTE IN[0] (PS 6.10) and waits for it in wfi.
 *
 * An app includes board.h first; it gets nano_imu_setup / nano_imu_write / nano_imu_read / nano_delay_us,
 * with an LSM9DS1 lsm9ds1_start_accel / _level / _read_samples / _stop and nano_tick_wait (RTC1), with a
 * BMI270 bmi270_start / bmi270_int1_gpiote / bmi270_wait_int1. Header-only: each app is one
 * translation unit.
 */
#ifndef SIMCORE_NANO_IMU_H
#define SIMCORE_NANO_IMU_H

#include <stdint.h>

#include "board.h"

#define NANO_REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#define NANO_NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NANO_NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define NANO_IRQ_ENABLE(n) (NANO_NVIC_ISER[(n) / 32] = 1u << ((n) % 32))
#define NANO_IRQ_CLEAR(n) (NANO_NVIC_ICPR[(n) / 32] = 1u << ((n) % 32))
#define TWIM_TASKS_STARTTX 0x008u
#define TWIM_TASKS_STOP 0x014u
#define TWIM_EVENTS_STOPPED 0x104u
#define TWIM_EVENTS_ERROR 0x124u
#define TWIM_SHORTS 0x200u
#define TWIM_INTENSET 0x304u
#define TWIM_ERRORSRC 0x4C4u
#define TWIM_ENABLE 0x500u
#define TWIM_PSEL_SCL 0x508u
#define TWIM_PSEL_SDA 0x50Cu
#define TWIM_FREQUENCY 0x524u
#define TWIM_RXD_PTR 0x534u
#define TWIM_RXD_MAXCNT 0x538u
#define TWIM_TXD_PTR 0x544u
#define TWIM_TXD_MAXCNT 0x548u
#define TWIM_ADDRESS 0x588u
#define SHORTS_LASTTX_STARTRX (1u << 7)
#define SHORTS_LASTTX_STOP (1u << 9)
#define SHORTS_LASTRX_STOP (1u << 12)
/* P0 registers relative to the board file's P0 base (the SVD's, 0x50000500) */
#define P0_IN 0x010u
#define P0_PIN_CNF(n) (0x200u + 4u * (n))

#define TWIM_INTENSET 0x304u
/* P0 registers relative to the board file's P0 base (the SVD's, 0x50000500) */
#define P0_IN 0x010u
#define P0_PIN_CNF(n) (0x200u + 4u * (n))

static uint32_t twim_errors;

/* One EasyDMA transfer: tx bytes, then (if rx_len) a repeated start and rx_len bytes; waits for STOPPED. */
static void twim_xfer(const uint8_t *tx, uint32_t tx_len, uint8_t *rx, uint32_t rx_len)
{
    NANO_REG(TWIM1_BASE, TWIM_ADDRESS) = DEVICE_IMU_ADDRESS;
    NANO_REG(TWIM1_BASE, TWIM_TXD_PTR) = (uint32_t)(uintptr_t)tx;
    NANO_REG(TWIM1_BASE, TWIM_TXD_MAXCNT) = tx_len;
    NANO_REG(TWIM1_BASE, TWIM_RXD_PTR) = (uint32_t)(uintptr_t)rx;
    NANO_REG(TWIM1_BASE, TWIM_RXD_MAXCNT) = rx_len;
    NANO_REG(TWIM1_BASE, TWIM_SHORTS) = rx_len ? SHORTS_LASTTX_STARTRX | SHORTS_LASTRX_STOP : SHORTS_LASTTX_STOP;
    NANO_REG(TWIM1_BASE, TWIM_TASKS_STARTTX) = 1;
    while (NANO_REG(TWIM1_BASE, TWIM_EVENTS_STOPPED) == 0) {
        if (NANO_REG(TWIM1_BASE, TWIM_EVENTS_ERROR)) { /* NACK: stop the bus, count it */
            NANO_REG(TWIM1_BASE, TWIM_EVENTS_ERROR) = 0;
            NANO_REG(TWIM1_BASE, TWIM_TASKS_STOP) = 1;
            NANO_REG(TWIM1_BASE, TWIM_ERRORSRC) = NANO_REG(TWIM1_BASE, TWIM_ERRORSRC);
            twim_errors++;
        }
        __asm volatile("wfi"); /* STOPPED or ERROR wakes the core (INTEN, PRIMASK set) */
        NANO_IRQ_CLEAR(TWIM1_IRQn);
    }
    NANO_REG(TWIM1_BASE, TWIM_EVENTS_STOPPED) = 0;
    NANO_IRQ_CLEAR(TWIM1_IRQn); /* the event is clear: so is its interrupt */
}

/* Sleep for ``us`` microseconds on TIMER1 (1 MHz, COMPARE0; PS 6.30). */
static inline void nano_delay_us(uint32_t us)
{
    NANO_REG(TIMER1_BASE, 0x504) = 0;         /* MODE timer */
    NANO_REG(TIMER1_BASE, 0x508) = 3;         /* BITMODE 32 */
    NANO_REG(TIMER1_BASE, 0x510) = 4;         /* PRESCALER: 16 MHz / 2^4 */
    NANO_REG(TIMER1_BASE, 0x540) = us;        /* CC[0] */
    NANO_REG(TIMER1_BASE, 0x140) = 0;         /* EVENTS_COMPARE[0] */
    NANO_REG(TIMER1_BASE, 0x304) = 1u << 16;  /* INTENSET COMPARE0 */
    NANO_IRQ_ENABLE(TIMER1_IRQn);
    NANO_REG(TIMER1_BASE, 0x00C) = 1;         /* TASKS_CLEAR */
    NANO_REG(TIMER1_BASE, 0x000) = 1;         /* TASKS_START */
    while (NANO_REG(TIMER1_BASE, 0x140) == 0) {
        __asm volatile("wfi");
        NANO_IRQ_CLEAR(TIMER1_IRQn);
    }
    NANO_REG(TIMER1_BASE, 0x004) = 1;         /* TASKS_STOP */
    NANO_REG(TIMER1_BASE, 0x140) = 0;
    NANO_IRQ_CLEAR(TIMER1_IRQn);
}

static void nano_imu_write(uint8_t reg, uint8_t value)
{
    static uint8_t tx[2];
    tx[0] = reg;
    tx[1] = value;
    twim_xfer(tx, 2, 0, 0);
}

static void nano_imu_read(uint8_t reg, uint8_t *buf, uint32_t n)
{
    static uint8_t tx[1];
    tx[0] = reg;
    twim_xfer(tx, 1, buf, n);
}

/* TWIM1 on the internal bus at 400 kHz; STOPPED and ERROR wake wfi (PRIMASK set by the app). */
static void nano_imu_setup(void)
{
    NANO_REG(TWIM1_BASE, TWIM_PSEL_SCL) = 15u;
    NANO_REG(TWIM1_BASE, TWIM_PSEL_SDA) = 14u;
    NANO_REG(TWIM1_BASE, TWIM_FREQUENCY) = 0x06400000u; /* K400 */
    NANO_REG(TWIM1_BASE, TWIM_INTENSET) = 1u << 1 | 1u << 9;
    NANO_IRQ_ENABLE(TWIM1_IRQn);
    NANO_REG(TWIM1_BASE, TWIM_ENABLE) = 6u;
}

#if defined(DEVICE_IMU_LSM9DS1)
/* Rev1: the LSM9DS1 (datasheet DocID025715) has no interrupt line to the nRF52840 (board file): its FIFO is
 * polled on an RTC1 COMPARE0 tick (RTC1 on the LFRC: running 600 us after LFCLKSTART, PS 5.4.2, 6.22). */
#define LSM_WHO_AM_I 0x0Fu
#define LSM_CTRL_REG6_XL 0x20u
#define LSM_CTRL_REG9 0x23u
#define LSM_OUT_X_L_XL 0x28u
#define LSM_FIFO_CTRL 0x2Eu
#define LSM_FIFO_SRC 0x2Fu
#define LSM9DS1_ID 0x68u
#define LSM9DS1_ODR_XL_50HZ 2u
#define LSM9DS1_ODR_XL_119HZ 3u
#define NANO_TICK_IRQn RTC1_IRQn
static uint32_t nano_tick;

/* WHO_AM_I, then the accelerometer alone (gyroscope off) at ODR_XL code ``odr``, FS_XL +-4 g (0.122 mg/LSB),
 * into the FIFO (CTRL_REG9 FIFO_EN) in continuous mode (FIFO_CTRL FMODE 110); RTC1 COMPARE0 every ``tick``
 * ticks of 32768 Hz. Returns WHO_AM_I. */
static uint8_t lsm9ds1_start_accel(uint32_t odr, uint32_t tick)
{
    uint8_t who;
    nano_imu_read(LSM_WHO_AM_I, &who, 1);
    if (who != LSM9DS1_ID)
        return who;
    nano_imu_write(LSM_CTRL_REG9, 1u << 1);
    nano_imu_write(LSM_FIFO_CTRL, 6u << 5);
    nano_imu_write(LSM_CTRL_REG6_XL, (uint8_t)(odr << 5 | 2u << 3)); /* sampling starts */
    NANO_REG(CLOCK_BASE, 0x518) = 0;        /* LFCLKSRC = RC */
    NANO_REG(CLOCK_BASE, 0x104) = 0;        /* EVENTS_LFCLKSTARTED */
    NANO_REG(CLOCK_BASE, 0x008) = 1;        /* TASKS_LFCLKSTART */
    while (NANO_REG(CLOCK_BASE, 0x104) == 0) {
    }
    nano_tick = tick;
    NANO_REG(RTC1_BASE, 0x508) = 0;         /* PRESCALER: 32768 Hz */
    NANO_REG(RTC1_BASE, 0x540) = tick;      /* CC[0] */
    NANO_REG(RTC1_BASE, 0x304) = 1u << 16;  /* INTENSET COMPARE0 */
    NANO_IRQ_ENABLE(NANO_TICK_IRQn);
    NANO_REG(RTC1_BASE, 0x008) = 1;         /* TASKS_CLEAR */
    NANO_REG(RTC1_BASE, 0x000) = 1;         /* TASKS_START */
    return who;
}

/* Samples in the FIFO and whether it overran (FIFO_SRC FSS[5:0], OVRN). */
static uint32_t lsm9ds1_level(int *overrun)
{
    uint8_t src;
    nano_imu_read(LSM_FIFO_SRC, &src, 1);
    *overrun = (src >> 6) & 1u;
    return src & 0x3Fu;
}

/* One burst from OUT_X_L_XL drains n samples (with IF_ADD_INC the address rolls back from OUT_Z_H_XL). */
static void lsm9ds1_read_samples(uint8_t *b, uint32_t n)
{
    if (n)
        nano_imu_read(LSM_OUT_X_L_XL, b, 6u * n);
}

static void lsm9ds1_stop(void)
{
    nano_imu_write(LSM_CTRL_REG6_XL, 0);
    NANO_REG(RTC1_BASE, 0x004) = 1; /* TASKS_STOP */
}

/* Sleep until the next RTC1 COMPARE0 and move CC[0] one tick on. */
static void nano_tick_wait(void)
{
    while (NANO_REG(RTC1_BASE, 0x140) == 0) { /* EVENTS_COMPARE[0] */
        __asm volatile("wfi");
        NANO_IRQ_CLEAR(NANO_TICK_IRQn);
    }
    NANO_REG(RTC1_BASE, 0x140) = 0;
    NANO_IRQ_CLEAR(NANO_TICK_IRQn);
    NANO_REG(RTC1_BASE, 0x540) = (NANO_REG(RTC1_BASE, 0x540) + nano_tick) & 0xFFFFFFu;
}
#endif

#if defined(DEVICE_IMU_BMI270)
#define BMI_CHIP_ID 0x00u
#define BMI_INT_STATUS_1 0x1Du
#define BMI_INTERNAL_STATUS 0x21u
#define BMI_FIFO_LENGTH_0 0x24u
#define BMI_FIFO_DATA 0x26u
#define BMI_ACC_CONF 0x40u
#define BMI_ACC_RANGE 0x41u
#define BMI_GYR_CONF 0x42u
#define BMI_GYR_RANGE 0x43u
#define BMI_FIFO_WTM_0 0x46u
#define BMI_FIFO_WTM_1 0x47u
#define BMI_FIFO_CONFIG_0 0x48u
#define BMI_FIFO_CONFIG_1 0x49u
#define BMI_INT1_IO_CTRL 0x53u
#define BMI_INT_LATCH 0x55u
#define BMI_INT_MAP_DATA 0x58u
#define BMI_INIT_CTRL 0x59u
#define BMI_INIT_DATA 0x5Eu
#define BMI_PWR_CONF 0x7Cu
#define BMI_PWR_CTRL 0x7Du
#define BMI270_ID 0x24u
#define BMI270_CONFIG_SIZE 8192u
#define BMI270_FIFO_BYTES 2048u
#define BMI270_INT1_PIN DEVICE_IMU_INT1_PIN

static uint8_t bmi270_config_tx[1 + BMI270_CONFIG_SIZE]; /* INIT_DATA's address, then the file (zeros) */

/* CHIP_ID, then the configuration upload; returns the CHIP_ID read, or 0 if INTERNAL_STATUS is not init_ok. */
static uint8_t bmi270_start(void)
{
    uint8_t who;
    nano_imu_read(BMI_CHIP_ID, &who, 1);
    if (who != BMI270_ID)
        return who;
    nano_imu_write(BMI_PWR_CONF, 0); /* adv_power_save off: then writes need no 450 us pause */
    nano_delay_us(1000);
    nano_imu_write(BMI_INIT_CTRL, 0);
    bmi270_config_tx[0] = BMI_INIT_DATA; /* INIT_ADDR_0/1 are 0 after reset: the burst starts at word 0 */
    twim_xfer(bmi270_config_tx, sizeof bmi270_config_tx, 0, 0);
    nano_imu_write(BMI_INIT_CTRL, 1);
    nano_delay_us(20000);
    uint8_t st;
    nano_imu_read(BMI_INTERNAL_STATUS, &st, 1);
    return (st & 0x0Fu) == 1u ? who : 0;
}

/* INT1 push-pull, active high (INT1_IO_CTRL output_en, lvl), not latched; P0.11 an input with its buffer
 * connected (PS 6.9.2) and GPIOTE IN[0] on its rising edge, which wakes wfi (GPIOTE interrupt enabled). */
static void bmi270_int1_gpiote(void)
{
    nano_imu_write(BMI_INT1_IO_CTRL, 1u << 3 | 1u << 1);
    nano_imu_write(BMI_INT_LATCH, 0);
    NANO_REG(P0_BASE, P0_PIN_CNF(BMI270_INT1_PIN)) = 0;
    NANO_REG(GPIOTE_BASE, 0x510) = 1u | BMI270_INT1_PIN << 8 | 1u << 16; /* CONFIG[0]: event, PSEL, LOTOHI */
    NANO_REG(GPIOTE_BASE, 0x100) = 0;                                   /* EVENTS_IN[0] */
    NANO_REG(GPIOTE_BASE, 0x304) = 1u;                                  /* INTENSET IN[0] */
    NANO_IRQ_ENABLE(GPIOTE_IRQn);
}

/* Sleep until INT1's rising edge set GPIOTE IN[0] (or INT1 is still high: more than a batch waits). */
static void bmi270_wait_int1(void)
{
    while (NANO_REG(GPIOTE_BASE, 0x100) == 0 && !(NANO_REG(P0_BASE, P0_IN) & (1u << BMI270_INT1_PIN))) {
        __asm volatile("wfi");
        NANO_IRQ_CLEAR(GPIOTE_IRQn);
    }
    NANO_REG(GPIOTE_BASE, 0x100) = 0;
    NANO_IRQ_CLEAR(GPIOTE_IRQn);
}
#endif

#endif
