/*
 * imu_steps_bus on the Arduino Nano 33 BLE Sense: the IMU on the nRF52840's TWIM1 (internal bus, SDA P0.14,
 * SCL P0.15, 400 kHz; nRF52840 PS v1.7 6.31 TWIM: EasyDMA, a register-address write then a repeated-start
 * read through the LASTTX_STARTRX and LASTRX_STOP shortcuts). The bus, the chips' start-up, the RTC1 tick
 * and the GPIOTE wiring are in common/nano_imu.h (shared with imu_gestures).
 *
 * Rev1, LSM9DS1 at 6Bh (datasheet DocID025715): none of its interrupt outputs reaches the nRF52840 on this
 * board (see the board file), so RTC1 (on the LFRC, PS 6.22) raises COMPARE0 every 4096 ticks (125 ms) and
 * the firmware reads FIFO_SRC and drains what is there. The accelerometer alone (gyroscope off) at
 * ODR_XL 119 Hz (the chip's rate nearest 100 Hz), FS_XL +-4 g (0.122 mg/LSB), FIFO on (CTRL_REG9 FIFO_EN)
 * in continuous mode (FIFO_CTRL FMODE 110); 125 ms is 15 samples of its 32 levels. One burst read from
 * OUT_X_L_XL drains n samples (with IF_ADD_INC the address rolls back from OUT_Z_H_XL, datasheet 3.5).
 * Threshold (1.4 g / 0.122 mg)^2 = 131685030 counts^2; refractory period 36 frames (302.5 ms).
 *
 * Rev2, BMI270 at 68h (datasheet BST-BMI270-DS000): INT1 is on P0.11 (board file). Then the accelerometer
 * at 100 Hz (ACC_CONF acc_odr 8), +-4 g (ACC_RANGE 1: 8192 LSB/g), headerless FIFO of accelerometer frames
 * (FIFO_CONFIG_1 fifo_acc_en, 6 bytes a frame), watermark 150 bytes = 25 frames mapped to INT1
 * (INT_MAP_DATA fwm_int1, INT1_IO_CTRL output_en and lvl = active high), whose rising
 * edge on P0.11 sets GPIOTE IN[0] (PS 6.10). The firmware reads FIFO_LENGTH, drains the FIFO with one
 * burst read of FIFO_DATA, then reads INT_STATUS_1 (which releases INT1). Threshold (1.4 * 8192)^2 =
 * 131533373 counts^2, refractory period 30 frames (300 ms), as imu_steps.
 */
#include "nano_imu.h"

static void read_regs(uint8_t reg, uint8_t *buf, uint32_t n) { nano_imu_read(reg, buf, n); }

static void setup(void) { nano_imu_setup(); }

static void chip_stop_twim(void)
{
    NANO_REG(TWIM1_BASE, TWIM_ENABLE) = 0;
}

#if defined(DEVICE_IMU_LSM9DS1)
#define CHIP "LSM9DS1"
#define ID_REG_NAME "WHO_AM_I"
#define CHIP_ID LSM9DS1_ID
#define ODR_HZ 119u
#define STEP_M2 131685030ll /* floor((1.4 g / 0.122 mg)^2) */
#define REFRACTORY 36u      /* 302.5 ms at 119 Hz */
#define INT_IRQn NANO_TICK_IRQn
#define WAKE "FIFO polled on an RTC1 tick every 125 ms (no IMU interrupt line on this board)"
#define MAX_BATCH 32u

static uint8_t chip_start(void) { return lsm9ds1_start_accel(LSM9DS1_ODR_XL_119HZ, 4096u /* 125 ms */); }

static uint32_t chip_level(int *overrun) { return lsm9ds1_level(overrun); }

static void chip_read(uint8_t *b, uint32_t samples) { lsm9ds1_read_samples(b, samples); }

static void chip_stop(void)
{
    lsm9ds1_stop();
    chip_stop_twim();
}

static void wait_data(void) { nano_tick_wait(); }
#elif defined(DEVICE_IMU_BMI270)
#define CHIP "BMI270"
#define ID_REG_NAME "CHIP_ID"
#define CHIP_ID BMI270_ID
#define ODR_HZ 100u
#define STEP_M2 131533373ll /* floor((1.4 * 8192)^2) */
#define REFRACTORY 30u
#define INT_IRQn GPIOTE_IRQn
#define WAKE "FIFO watermark 25 frames, INT1 -> P0.11 -> GPIOTE IN[0]"
#define MAX_BATCH 32u

static uint8_t chip_start(void)
{
    uint8_t who = bmi270_start();
    if (who != CHIP_ID) {
        if (who == 0)
            printf("BMI270 initialization failed: INTERNAL_STATUS is not init_ok\n");
        return who;
    }
    nano_imu_write(BMI_ACC_CONF, 1u << 7 | 2u << 4 | 8u); /* filter_perf, bwp normal, acc_odr 100 Hz */
    nano_imu_write(BMI_ACC_RANGE, 1u);                  /* +-4 g */
    nano_imu_write(BMI_FIFO_CONFIG_0, 0);               /* overwrite the oldest frames, no sensor-time frame */
    nano_imu_write(BMI_FIFO_CONFIG_1, 1u << 6);         /* fifo_acc_en, headerless */
    nano_imu_write(BMI_FIFO_WTM_0, 6u * WATERMARK);     /* 150 bytes */
    nano_imu_write(BMI_FIFO_WTM_1, 0);
    nano_imu_write(BMI_INT_MAP_DATA, 1u << 1);          /* fwm_int1 */
    bmi270_int1_gpiote();
    nano_imu_write(BMI_PWR_CTRL, 1u << 2);              /* acc_en: sampling starts */
    return who;
}

/* Frames in the FIFO (FIFO_LENGTH in bytes); a full FIFO has overwritten its oldest frames. */
static uint32_t chip_level(int *overrun)
{
    uint8_t len[2];
    read_regs(BMI_FIFO_LENGTH_0, len, 2);
    uint32_t bytes = (uint32_t)(len[1] & 0x3Fu) << 8 | len[0];
    *overrun = bytes + 6u > BMI270_FIFO_BYTES;
    return bytes / 6u;
}

static void chip_read(uint8_t *b, uint32_t frames)
{
    if (frames)
        read_regs(BMI_FIFO_DATA, b, 6u * frames); /* FIFO_DATA's address does not advance */
    (void)read_reg(BMI_INT_STATUS_1);            /* clears fwm: INT1 falls */
}

static void chip_stop(void)
{
    nano_imu_write(BMI_PWR_CTRL, 0);
    chip_stop_twim();
}

static void wait_data(void) { bmi270_wait_int1(); }
#else
#error "imu_steps_bus: no IMU model for this Nano board"
#endif
