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
#include "simcore_imu.h"
#include "tinyml_app.h"
#include "tm.h"
#include "vclock.h"

#define IMU ((SIMCORE_IMU_Type *)IMU_BASE)
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

static void drain(void)
{
    for (uint32_t n = IMU->FIFO_LEVEL; n; n--) {
        int16_t c[6];
        for (uint32_t i = 0; i < 6; i++)
            c[i] = (int16_t)IMU->FIFO_DATA;
        push(c);
    }
}

int main(void)
{
    if (!app_model_init(&interp, arena, sizeof arena, GEST_WINDOW * 6, GEST_NCLASSES, "imu_gestures"))
        return 2;
    const uint32_t model_len = app_model_bytes();
    detector_init(&det, GEST_DETECT_AVG, GEST_DETECT_THRESHOLD, GEST_DETECT_REFRACTORY, GEST_NCLASSES, GEST_NEVENTS);
    printf("imu_gestures on %s: IMU %u Hz by FIFO (watermark %u), %u-frame windows every %u frames -> "
           "gestures.tflite (%lu bytes, arena %lu bytes) -> detector\n", BOARD_NAME, GEST_ODR, GEST_WATERMARK,
           GEST_WINDOW, GEST_HOP, (unsigned long)model_len, (unsigned long)tm_arena_used(&interp));
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
    if (n_inf)
        printf("mean inference: %lu cycles\n", (unsigned long)(inf_cycles / n_inf));
    return overruns ? 1 : 0;
}
