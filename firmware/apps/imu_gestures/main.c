/*
 * imu_gestures: gesture recognition on simcore's IMU, as a wand or a wrist band does it.
 *
 *   IMU (50 Hz, +-4 g, +-500 dps) --FIFO, watermark 8 frames--> int8 frames (accel >> 7 = 64 per
 *   g, gyro >> 8, saturated) --> the newest 64 frames (1.28 s) every 8 frames (160 ms) -->
 *   1-D CNN (models/trained/gestures.tflite, tm runtime) --> 5 scores (wing, ring, slope,
 *   shake, idle) --> detector (common/detector.h)
 *
 * The constants come from models/tinyml/apps.py (build/imu_gestures/app_config.h); the Python
 * twin of this pipeline is models/tinyml/twins.py (gesture_pipeline). Inferences happen at
 * fixed frame counts (every GEST_HOP frames once GEST_WINDOW exist), whatever the FIFO level
 * when the firmware drains it, so the twin sees the same inputs. Each inference prints its
 * frames, top class and scores and its DWT cycles; a detection prints the gesture, the sensor
 * time of the window's end and the virtual time at which the firmware reported it. ITM port 3 /
 * port 4 bracket each inference (value = inference index).
 *
 *   simcore run firmware/bin/cortex-m4/imu_gestures.elf --board cortex-m4 \
 *       --sensor imu=models/trained/gestures_demo.csv
 *
 * On the Arduino Nano 33 BLE Sense Rev2 the frames come from its BMI270 over TWIM1 (common/nano_imu.h):
 * both sensors at 50 Hz, the same ranges and counts, a headerless FIFO with the watermark on INT1 (P0.11,
 * GPIOTE). The chip samples from its start-up, so frame 0 is the recording's sample d (d: the start-up
 * time); the first frame's counts are printed so a test can find d. "frames=N" stops after N frames
 * (the chip holds or repeats the recording's end).
 *
 * On the STM32F4 Discovery the frames come from its LIS3DSH over SPI1 (common/discovery_lis3dsh.h) at
 * 50 Hz, FIFO watermark on INT1 (PE0, EXTI0), and on the Nano 33 BLE Sense Rev1 from its LSM9DS1's
 * accelerometer over TWIM1 at 50 Hz, the FIFO polled on an RTC1 tick: accelerometers only, rescaled to
 * 8192 counts per g, with the gyroscope inputs 0; "frames=N" and the first frame as above.
 *
 * Exit status 0; 1 if the FIFO overflowed (frames lost); 2 if the model could not be set up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_config.h"
#include "board.h"
#include "detector.h"
#include "semihosting.h"
#if defined(DEVICE_IMU_BMI270) || defined(DEVICE_IMU_LSM9DS1)
#include "nano_imu.h" /* the Nano 33 BLE Sense's IMU on TWIM1 (Rev2: INT1 -> P0.11 -> GPIOTE; Rev1: RTC1 tick) */
#define CHIP_BUS 1
#elif defined(DEVICE_ACCEL_LIS3DSH)
#include "discovery_lis3dsh.h" /* the STM32F4 Discovery's LIS3DSH on SPI1, INT1 -> PE0 -> EXTI0 */
#define CHIP_BUS 1
#else
#include "simcore_imu.h"
#endif
#include "tinyml_app.h"
#include "tm.h"
#include "vclock.h"

#if !defined(CHIP_BUS)
#define IMU ((SIMCORE_IMU_Type *)IMU_BASE)
#endif
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define FRAME_MS (1000u / GEST_ODR)

static tm_interp_t interp;
static uint8_t arena[16 * 1024] __attribute__((aligned(16)));
static int8_t ring[GEST_WINDOW][6]; /* the newest GEST_WINDOW frames, frame k in row k % GEST_WINDOW */
static uint32_t nframes, n_inf;
static uint64_t inf_cycles;
static detector_t det;

static int8_t sat8(int32_t v)
{
    return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
}

static void infer(void)
{
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    app_copy_newest((int8_t *)in->data, &ring[0][0], GEST_WINDOW, 6, GEST_WINDOW, nframes);
    uint32_t cycles = 0;
    if (!app_timed_invoke(&interp, "imu_gestures", n_inf, &cycles))
        exit(2);
    inf_cycles += cycles;
    const int8_t *sc = (const int8_t *)out->data;
    const uint32_t top = app_top(sc, GEST_NCLASSES);
    const uint32_t first = nframes - GEST_WINDOW, last = nframes;
    printf("inference %lu: frames %lu..%lu (%lu..%lu ms): top class %lu \"%s\" score %d\n  scores:",
           (unsigned long)n_inf, (unsigned long)first, (unsigned long)(last - 1u), (unsigned long)(first * FRAME_MS),
           (unsigned long)(last * FRAME_MS), (unsigned long)top, gest_labels[top], sc[top]);
    for (uint32_t i = 0; i < GEST_NCLASSES; i++)
        printf(" %d", sc[i]);
    printf("\n  inference: %lu cycles\n", (unsigned long)cycles);
    uint32_t mean = 0;
    const int k = detector_step(&det, n_inf, sc, &mean);
    if (k >= 0)
        printf("gesture \"%s\" at %lu ms (inference %lu, mean score %lu), reported at %lu ms\n", gest_labels[k],
               (unsigned long)(last * FRAME_MS), (unsigned long)n_inf, (unsigned long)mean,
               (unsigned long)vclock_ms());
    n_inf++;
}

static void push(const int16_t c[6])
{
    int8_t *row = ring[nframes % GEST_WINDOW];
    for (uint32_t i = 0; i < 3; i++) {
        row[i] = sat8(c[i] >> GEST_ACCEL_SHIFT);
        row[3 + i] = sat8(c[3 + i] >> GEST_GYRO_SHIFT);
    }
    nframes++;
    if (nframes % GEST_HOP == 0 && nframes >= GEST_WINDOW)
        infer();
}

#if defined(DEVICE_IMU_BMI270)
/* BMI270 at GEST_ODR for both sensors, +-4 g (8192 LSB/g) and +-500 dps (65.536 LSB/dps): the counts of
 * simcore's IMU at imu_gestures' ranges. Headerless FIFO frames of gyroscope then accelerometer (12 bytes,
 * X Y Z little-endian each), watermark GEST_WATERMARK frames on INT1. */
#define FRAME_BYTES 12u
#define MAX_BATCH 32u
static uint32_t max_frames = 0xFFFFFFFFu;

static uint32_t imu_start(void)
{
    nano_imu_setup();
    const uint8_t who = bmi270_start();
    if (who != BMI270_ID)
        return who;
    const uint8_t odr = GEST_ODR == 50 ? 7u : 8u;                  /* 100 Hz / 2^(8 - code) */
    nano_imu_write(BMI_ACC_CONF, 1u << 7 | 2u << 4 | odr);         /* filter_perf, bwp normal */
    nano_imu_write(BMI_ACC_RANGE, 1u);                             /* +-4 g */
    nano_imu_write(BMI_GYR_CONF, 1u << 7 | 2u << 4 | odr);         /* filter_perf, bwp normal */
    nano_imu_write(BMI_GYR_RANGE, 2u);                             /* +-500 dps */
    nano_imu_write(BMI_FIFO_CONFIG_0, 0);                          /* overwrite when full, no time frame */
    nano_imu_write(BMI_FIFO_CONFIG_1, 1u << 7 | 1u << 6);          /* fifo_gyr_en, fifo_acc_en, headerless */
    nano_imu_write(BMI_FIFO_WTM_0, (uint8_t)(FRAME_BYTES * GEST_WATERMARK));
    nano_imu_write(BMI_FIFO_WTM_1, 0);
    nano_imu_write(BMI_INT_MAP_DATA, 1u << 1);                     /* fwm_int1 */
    bmi270_int1_gpiote();
    vclock_start(); /* virtual time 0: the sensors start (frame k is the recording's k + d, d the start-up) */
    nano_imu_write(BMI_PWR_CTRL, 1u << 2 | 1u << 1);               /* acc_en, gyr_en: sampling starts */
    return who;
}

/* Drains the FIFO; returns 1 if it was full (frames overwritten). */
static int drain(void)
{
    static uint8_t buf[FRAME_BYTES * MAX_BATCH];
    uint8_t len[2];
    nano_imu_read(BMI_FIFO_LENGTH_0, len, 2);
    const uint32_t bytes = (uint32_t)(len[1] & 0x3Fu) << 8 | len[0];
    uint32_t n = bytes / FRAME_BYTES;
    if (n > MAX_BATCH)
        n = MAX_BATCH;
    if (n > max_frames - nframes)
        n = max_frames - nframes;
    if (n)
        nano_imu_read(BMI_FIFO_DATA, buf, FRAME_BYTES * n);
    uint8_t st;
    nano_imu_read(BMI_INT_STATUS_1, &st, 1); /* clears fwm: INT1 falls */
    for (uint32_t f = 0; f < n; f++) {
        const uint8_t *b = buf + FRAME_BYTES * f;
        int16_t c[6];
        for (uint32_t i = 0; i < 3; i++) {
            c[i] = (int16_t)(b[6 + 2 * i] | b[7 + 2 * i] << 8); /* accelerometer */
            c[3 + i] = (int16_t)(b[2 * i] | b[1 + 2 * i] << 8); /* gyroscope */
        }
        if (f == 0 && nframes == 0)
            printf("first frame: %d %d %d %d %d %d\n", c[0], c[1], c[2], c[3], c[4], c[5]);
        push(c);
    }
    return bytes + FRAME_BYTES > BMI270_FIFO_BYTES;
}

static void imu_wait(void) { bmi270_wait_int1(); }
static void imu_stop(void) { nano_imu_write(BMI_PWR_CTRL, 0); }
#define IMU_ID BMI270_ID
#define IMU_NAME "BMI270"
#elif defined(DEVICE_ACCEL_LIS3DSH) || defined(DEVICE_IMU_LSM9DS1)
/* An accelerometer only at 50 Hz, +-4 g: the Discovery's LIS3DSH (0.12 mg/digit, SPI1, INT1 -> EXTI0) or the
 * Nano Rev1's LSM9DS1 (0.122 mg/LSB, TWIM1, polled on an RTC1 tick: it has a gyroscope, but not at 50 Hz,
 * only at 14.9, 59.5, 119 Hz and up). Its counts are put on simcore's IMU scale (8192 per g) as
 * c * SCALE_NUM / SCALE_DEN (= c * sensitivity / (1000 / 8192), truncated), and the gyroscope inputs are 0:
 * the model sees no rotation (the twin in the test does the same). */
#if defined(DEVICE_ACCEL_LIS3DSH)
#define SCALE_NUM 3072 /* 0.12 * 8.192 = 3072 / 3125 */
#define SCALE_DEN 3125
#define IMU_ID LIS3DSH_ID
#define IMU_NAME "LIS3DSH"
static uint32_t chip_start(void)
{
    lis_setup();
    vclock_start(); /* virtual time 0: the sensor starts (frame k is the recording's k + d, d the start-up) */
    return lis3dsh_start(5u /* 50 Hz */, GEST_WATERMARK);
}
#define chip_level lis3dsh_level
#define chip_read lis3dsh_read_samples
#define imu_wait lis3dsh_wait_int1
#define imu_stop lis3dsh_stop
#else
#define SCALE_NUM 15616 /* 0.122 * 8.192 = 15616 / 15625 */
#define SCALE_DEN 15625
#define IMU_ID LSM9DS1_ID
#define IMU_NAME "LSM9DS1"
static uint32_t chip_start(void)
{
    nano_imu_setup();
    vclock_start(); /* virtual time 0: the sensor starts (frame k is the recording's k + d, d the start-up) */
    return lsm9ds1_start_accel(LSM9DS1_ODR_XL_50HZ, 4096u /* 125 ms: 6 frames of the FIFO's 32 */);
}
#define chip_level lsm9ds1_level
#define chip_read lsm9ds1_read_samples
#define imu_wait nano_tick_wait
#define imu_stop lsm9ds1_stop
#endif
#define MAX_BATCH 32u
static uint32_t max_frames = 0xFFFFFFFFu;

static uint32_t imu_start(void) { return chip_start(); }

static int drain(void)
{
    static uint8_t buf[6u * MAX_BATCH];
    int ovr = 0;
    uint32_t n = chip_level(&ovr);
    if (n > MAX_BATCH)
        n = MAX_BATCH;
    if (n > max_frames - nframes)
        n = max_frames - nframes;
    chip_read(buf, n);
    for (uint32_t f = 0; f < n; f++) {
        const uint8_t *b = buf + 6u * f;
        int16_t c[6] = {0, 0, 0, 0, 0, 0};
        for (uint32_t i = 0; i < 3; i++) {
            const int32_t raw = (int16_t)(b[2 * i] | b[1 + 2 * i] << 8);
            c[i] = (int16_t)(raw * SCALE_NUM / SCALE_DEN);
        }
        if (f == 0 && nframes == 0)
            printf("first frame: %d %d %d (" IMU_NAME " counts %d %d %d)\n", c[0], c[1], c[2],
                   (int16_t)(b[0] | b[1] << 8), (int16_t)(b[2] | b[3] << 8), (int16_t)(b[4] | b[5] << 8));
        push(c);
    }
    return ovr;
}
#else
static void drain(void)
{
    for (uint32_t n = IMU->FIFO_LEVEL; n; n--) {
        int16_t c[6];
        for (uint32_t i = 0; i < 6; i++)
            c[i] = (int16_t)IMU->FIFO_DATA;
        push(c);
    }
}
#endif

int main(void)
{
    if (!app_model_init(&interp, arena, sizeof arena, GEST_WINDOW * 6, GEST_NCLASSES, "imu_gestures"))
        return 2;
    const uint32_t model_len = app_model_bytes();
    detector_init(&det, GEST_DETECT_AVG, GEST_DETECT_THRESHOLD, GEST_DETECT_REFRACTORY, GEST_NCLASSES, GEST_NEVENTS);
    printf("imu_gestures on %s: IMU %u Hz by FIFO (watermark %u), %u-frame windows every %u frames -> "
           "gestures.tflite (%lu bytes, arena %lu bytes) -> detector\n", BOARD_NAME, GEST_ODR, GEST_WATERMARK,
           GEST_WINDOW, GEST_HOP, (unsigned long)model_len, (unsigned long)tm_arena_used(&interp));
#if defined(CHIP_BUS)
    __asm volatile("cpsid i" ::: "memory"); /* wfi wakes on the bus and the INT1 line; flags are polled */
    const uint32_t want = app_cmdline_value("frames=", 0);
    if (want)
        max_frames = want;
    const uint32_t who = imu_start();
    if (who != IMU_ID) {
        printf("no " IMU_NAME " (ID %02lx)\n", (unsigned long)who);
        return 2;
    }
    uint32_t overruns = 0;
    while (nframes < max_frames) {
        imu_wait();
        if (drain()) {
            printf("overrun: FIFO full after frame %lu, noticed at %lu ms\n", (unsigned long)nframes,
                   (unsigned long)vclock_ms());
            overruns++;
        }
    }
    imu_stop();
    printf("done: %lu frames, %lu inferences, %lu gestures, %lu overruns\n", (unsigned long)nframes,
           (unsigned long)n_inf, (unsigned long)det.count, (unsigned long)overruns);
#else
    if (IMU->ID != 0x494D5531u) {
        printf("no simcore IMU at 0x%08lx\n", (unsigned long)IMU_BASE);
        return 2;
    }
    IMU->ODR = GEST_ODR;
    IMU->ACCEL_RANGE = GEST_ACCEL_RANGE;
    IMU->GYRO_RANGE = GEST_GYRO_RANGE;
    IMU->FIFO_WM = GEST_WATERMARK;
    IMU->INTEN = SIMCORE_IMU_INTEN_WM_Msk | SIMCORE_IMU_INTEN_END_Msk | SIMCORE_IMU_INTEN_OVR_Msk;
    __asm volatile("cpsid i" ::: "memory"); /* wfi wakes on the IMU interrupt; flags are polled */
    NVIC_ISER[IMU_IRQn / 32] = 1u << (IMU_IRQn % 32);
    vclock_start(); /* virtual time 0 = the first frame's period (the recording starts at enable) */
    IMU->CTRL = SIMCORE_IMU_CTRL_EN_Msk | SIMCORE_IMU_CTRL_FIFO_EN_Msk;

    uint32_t overruns = 0;
    for (;;) {
        uint32_t s = IMU->STATUS;
        while (!(s & (SIMCORE_IMU_STATUS_WM_Msk | SIMCORE_IMU_STATUS_END_Msk | SIMCORE_IMU_STATUS_OVR_Msk))) {
            __asm volatile("wfi");
            NVIC_ICPR[IMU_IRQn / 32] = 1u << (IMU_IRQn % 32);
            s = IMU->STATUS;
        }
        if (s & SIMCORE_IMU_STATUS_OVR_Msk) {
            printf("overrun: FIFO overflowed after frame %lu, noticed at %lu ms\n", (unsigned long)nframes,
                   (unsigned long)vclock_ms());
            IMU->STATUS = SIMCORE_IMU_STATUS_OVR_Msk;
            overruns++;
        }
        drain();
        if (s & SIMCORE_IMU_STATUS_END_Msk) {
            drain();
            break;
        }
    }
    IMU->CTRL = 0;
    printf("done: %lu frames, %lu inferences, %lu gestures, %lu overruns\n", (unsigned long)nframes,
           (unsigned long)n_inf, (unsigned long)det.count, (unsigned long)IMU->OVERRUN_COUNT);
#endif
    if (n_inf)
        printf("mean inference: %lu cycles\n", (unsigned long)(inf_cycles / n_inf));
    return overruns ? 1 : 0;
}
