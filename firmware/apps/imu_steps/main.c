/*
 * imu_steps: a pedometer on simcore's IMU, the way wearables' step counters work.
 *
 * The IMU samples at 100 Hz with a +-4 g accelerometer range (8192 counts per g) into its
 * frame FIFO; the watermark interrupt (25 frames = 250 ms) wakes the core, which drains the
 * FIFO (6 words per frame: AX AY AZ GX GY GZ). For every frame k the squared magnitude of the
 * acceleration m = ax^2 + ay^2 + az^2 (counts^2, integer) is compared with the threshold of
 * 1.4 g: a step is a run of frames above it; the step's time is the frame with the largest m
 * in the run; a run that starts less than 30 frames (300 ms) after the previous step's frame
 * is not a new step (refractory period). Steps are printed with their time from the frame
 * index (k * 10 ms) and the virtual time at which the firmware found them (DWT CYCCNT).
 * Waiting is wfi with PRIMASK set: the IMU interrupt wakes the core, the firmware polls.
 * With "irq" on the command line an interrupt handler (IRQ<IMU_IRQn>_Handler) drains the FIFO
 * instead and the main loop sleeps between batches (same steps, same times).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "semihosting.h"
#include "vclock.h"
#include "step_detector.h"
#include "simcore_imu.h"

#define ODR_HZ 100u
#define FRAME_MS 10u
#define WATERMARK 25u
#define COUNTS_PER_G 8192
/* (1.4 g in counts)^2 = (1.4 * 8192)^2, rounded down */
#define STEP_M2 131533373ll
#define REFRACTORY 30u

#define IMU ((SIMCORE_IMU_Type *)IMU_BASE)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)


static void drain(struct detector *d)
{
    uint32_t n = IMU->FIFO_LEVEL;
    while (n--) {
        int32_t ax = (int32_t)IMU->FIFO_DATA, ay = (int32_t)IMU->FIFO_DATA, az = (int32_t)IMU->FIFO_DATA;
        (void)IMU->FIFO_DATA; /* gyro x, y, z: not used by the step detector */
        (void)IMU->FIFO_DATA;
        (void)IMU->FIFO_DATA;
        frame(d, ax, ay, az);
    }
}

/* Interrupt mode ("irq" on the command line): the IMU's handler drains the FIFO into a
 * software queue and notes the end of data; the main loop sleeps in wfi between batches. */
#define QLEN 64u
static volatile int16_t queue[QLEN][3];
static volatile uint32_t q_head, q_tail, irq_overruns, irq_calls;
static volatile int ended;

#define HANDLER_NAME(n) IRQ##n##_Handler
#define HANDLER(n) HANDLER_NAME(n)
void HANDLER(IMU_IRQn)(void)
{
    irq_calls++;
    uint32_t st = IMU->STATUS;
    if (st & SIMCORE_IMU_STATUS_OVR_Msk) {
        irq_overruns++;
        IMU->STATUS = SIMCORE_IMU_STATUS_OVR_Msk;
    }
    for (uint32_t n = IMU->FIFO_LEVEL; n; n--) {
        uint32_t slot = q_head % QLEN;
        queue[slot][0] = (int16_t)IMU->FIFO_DATA;
        queue[slot][1] = (int16_t)IMU->FIFO_DATA;
        queue[slot][2] = (int16_t)IMU->FIFO_DATA;
        (void)IMU->FIFO_DATA;
        (void)IMU->FIFO_DATA;
        (void)IMU->FIFO_DATA;
        q_head++;
    }
    if (st & SIMCORE_IMU_STATUS_END_Msk) {
        ended = 1;
        IMU->INTEN = 0; /* nothing more will come: the END flag would keep the line high */
    }
}

static int irq_mode(void)
{
    static char cmd[64];
    struct { char *buf; int len; } arg = {cmd, sizeof cmd - 1};
    if (sh_call(0x15 /* SYS_GET_CMDLINE */, &arg) != 0 || arg.len <= 0 || arg.len >= (int)sizeof cmd)
        return 0;
    cmd[arg.len] = 0;
    return strstr(cmd, " irq") != NULL;
}

int main(void)
{
    vclock_start();
    const int use_irq = irq_mode();
    printf("imu_steps on %s: %u Hz, +-4 g, FIFO watermark %u frames, step above 1.4 g, %s\n", BOARD_NAME, ODR_HZ,
           WATERMARK, use_irq ? "interrupt handler" : "polling");
    if (IMU->ID != 0x494D5531u) {
        printf("no simcore IMU at 0x%08lx\n", (unsigned long)IMU_BASE);
        return 2;
    }
    IMU->ODR = ODR_HZ;
    IMU->ACCEL_RANGE = 1; /* +-4 g */
    IMU->GYRO_RANGE = 2;  /* +-500 dps */
    IMU->FIFO_WM = WATERMARK;
    IMU->INTEN = SIMCORE_IMU_INTEN_WM_Msk | SIMCORE_IMU_INTEN_END_Msk | SIMCORE_IMU_INTEN_OVR_Msk;
    __asm volatile("cpsid i" ::: "memory");
    NVIC_ISER[IMU_IRQn / 32] = 1u << (IMU_IRQn % 32);
    IMU->CTRL = SIMCORE_IMU_CTRL_EN_Msk | SIMCORE_IMU_CTRL_FIFO_EN_Msk;

    struct detector d = {.threshold_m2 = STEP_M2, .refractory = REFRACTORY, .frame_us = FRAME_MS * 1000u};
    if (use_irq) {
        for (;;) {
            __asm volatile("cpsid i" ::: "memory");
            if (q_tail == q_head && !ended)
                __asm volatile("wfi"); /* a pending interrupt wakes the core even while masked */
            __asm volatile("cpsie i" ::: "memory"); /* the handler runs here */
            while (q_tail != q_head) {
                uint32_t slot = q_tail % QLEN;
                frame(&d, queue[slot][0], queue[slot][1], queue[slot][2]);
                q_tail++;
            }
            if (ended && q_tail == q_head)
                break;
        }
        printf("interrupts: %lu handler calls, %lu overruns seen\n", (unsigned long)irq_calls,
               (unsigned long)irq_overruns);
    } else {
        for (;;) {
            uint32_t st = IMU->STATUS;
            while (!(st & (SIMCORE_IMU_STATUS_WM_Msk | SIMCORE_IMU_STATUS_END_Msk | SIMCORE_IMU_STATUS_OVR_Msk))) {
                __asm volatile("wfi");
                NVIC_ICPR[IMU_IRQn / 32] = 1u << (IMU_IRQn % 32);
                st = IMU->STATUS;
            }
            if (st & SIMCORE_IMU_STATUS_OVR_Msk) {
                printf("overrun: FIFO overflowed after frame %lu, noticed at %lu ms\n", (unsigned long)d.k,
                       (unsigned long)vclock_ms());
                IMU->STATUS = SIMCORE_IMU_STATUS_OVR_Msk;
            }
            drain(&d);
            if (st & SIMCORE_IMU_STATUS_END_Msk) {
                drain(&d); /* frames that arrived while the last batch was processed */
                break;
            }
        }
    }
    end_run(&d);
    IMU->CTRL = 0;
    printf("done: %lu steps in %lu frames, %lu overruns\n", (unsigned long)d.steps, (unsigned long)d.k,
           (unsigned long)IMU->OVERRUN_COUNT);
    return 0;
}
