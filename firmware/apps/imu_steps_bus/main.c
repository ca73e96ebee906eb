/*
 * imu_steps_bus: imu_steps' pedometer on the board's own accelerometer, read over its bus by FIFO, woken by
 * the chip's interrupt line where the board wires one, else by a timer tick.
 *
 *   stm32f4-discovery               LIS3DSH on SPI1, FIFO watermark on INT1 -> PE0 -> EXTI0   (lis3dsh_spi1.h)
 *   b-l475e-iot01a                  LSM6DSL on I2C2, FIFO threshold on INT1 -> PD11 -> EXTI11 (lsm6dsl_i2c2.h)
 *   arduino-nano-33-ble-sense       LSM9DS1 on TWIM1, FIFO polled on an RTC1 tick             (nano_twim.h)
 *   arduino-nano-33-ble-sense-rev2  BMI270 on TWIM1, FIFO watermark on INT1 -> P0.11 -> GPIOTE (nano_twim.h)
 *
 * Each board's header gives the chip's rate, the step threshold in its counts ((1.4 g)^2 in counts^2) and
 * the refractory period in frames (300 ms), and setup / chip_start / wait_data / chip_level / chip_read /
 * chip_stop. The step detector is imu_steps' (common/step_detector.h). The firmware prints a 32-bit FNV-1a
 * of the bytes of every frame it used (X, Y, Z little-endian), so a test can check the data it read against
 * the recording.
 *
 * "frames=N" on the command line stops after N samples (default 1000: the example recording).
 * Waiting is wfi with PRIMASK set: the interrupt wakes the core, the firmware polls the pending flag.
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
#define WATERMARK 25u

static void read_regs(uint8_t reg, uint8_t *buf, uint32_t n); /* each board's bus */
static inline uint8_t read_reg(uint8_t reg)
{
    uint8_t v;
    read_regs(reg, &v, 1);
    return v;
}

#if defined(DEVICE_ACCEL_LIS3DSH)
#include "lis3dsh_spi1.h"
#elif defined(DEVICE_IMU_LSM6DSL)
#include "lsm6dsl_i2c2.h"
#elif defined(BOARD_SVD_NRF52840)
#include "nano_twim.h"
#else
#error "imu_steps_bus: no IMU for this board"
#endif
#ifndef ID_REG_NAME
#define ID_REG_NAME "WHO_AM_I"
#endif
#ifndef MAX_BATCH
#define MAX_BATCH 32u
#endif
#define FRAME_US (1000000u / ODR_HZ)
#ifdef WAIT_EXTI
/* Sleep until the chip's interrupt line has set its EXTI pending bit, then clear it. */
static void wait_data(void)
{
    while (!(REG(EXTI_BASE, 0x14) & (1u << INT_PIN))) { /* EXTI_PR(1) */
        __asm volatile("wfi");
        NVIC_ICPR[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
    }
    REG(EXTI_BASE, 0x14) = 1u << INT_PIN; /* write 1 to clear */
}
#endif

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

int main(void)
{
    vclock_start();
    const uint32_t frames = parse_arg("frames=", 1000);
    setup();
    __asm volatile("cpsid i" ::: "memory");
    NVIC_ISER[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
    uint8_t who = chip_start();
    printf("imu_steps_bus on %s: %s (%s %02x), %u Hz, +-4 g, %s\n", BOARD_NAME, CHIP, ID_REG_NAME, who, ODR_HZ,
           WAKE);
    if (who != CHIP_ID)
        return 2;

    static uint8_t buf[6u * MAX_BATCH];
    uint32_t fnv = 2166136261u; /* FNV-1a over the bytes of the frames used */
    struct detector d = {.threshold_m2 = STEP_M2, .refractory = REFRACTORY, .frame_us = FRAME_US};
    uint32_t overruns = 0;
    while (d.k < frames) {
        wait_data();
        int ovr = 0;
        uint32_t n = chip_level(&ovr);
        overruns += (uint32_t)ovr;
        if (n > MAX_BATCH)
            n = MAX_BATCH;
        if (n > frames - d.k)
            n = frames - d.k;
        chip_read(buf, n);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *b = buf + 6u * i;
            for (uint32_t j = 0; j < 6u; j++)
                fnv = (fnv ^ b[j]) * 16777619u;
            frame(&d, (int16_t)(b[0] | b[1] << 8), (int16_t)(b[2] | b[3] << 8), (int16_t)(b[4] | b[5] << 8));
        }
    }
    end_run(&d);
    chip_stop();
    printf("done: %lu steps in %lu frames, %lu overruns\n", (unsigned long)d.steps, (unsigned long)d.k,
           (unsigned long)overruns);
    printf("data: fnv1a %08lx over %lu frames\n", (unsigned long)fnv, (unsigned long)d.k);
    return 0;
}
