/*
 * camera_motion: frame statistics and motion detection on simcore's camera, as a vision
 * wake-up stage does before running a model.
 *
 * The camera captures 96x96 GRAY8 frames continuously at 10 fps by DMA. The firmware
 * double-buffers by pointing DMA_ADDR at the other buffer before acknowledging each frame
 * (STATUS.DONE), so the previous frame stays intact for the difference. Per frame it prints
 * the sum, minimum and maximum of the pixels, and, from the second frame on, the number of
 * pixels whose absolute difference from the previous frame exceeds 40 and the integer
 * centroid (sum of x / count, sum of y / count) of those pixels. Motion is reported when more
 * than 64 pixels changed. Times come from the sensor's frame number (FRAME_INDEX * 100 ms);
 * dropped frames (a frame completing while DONE is still set) are counted by the camera.
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "semihosting.h"
#include "vclock.h"
#include "simcore_camera.h"

#define CAM_W 96u
#define CAM_H 96u
#define CAM_FPS 10u
#define DIFF 40
#define MOTION_PIXELS 64u

#define CAM ((SIMCORE_CAMERA_Type *)CAMERA_BASE)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)

static uint8_t frames[2][CAM_W * CAM_H];


int main(void)
{
    vclock_start();
    printf("camera_motion on %s: %ux%u GRAY8 at %u fps, motion when > %u pixels change by > %d\n", BOARD_NAME, CAM_W, CAM_H,
           CAM_FPS, MOTION_PIXELS, DIFF);
    CAM->WIDTH = CAM_W;
    CAM->HEIGHT = CAM_H;
    CAM->FORMAT = 0;
    CAM->FPS = CAM_FPS;
    CAM->DMA_ADDR = (uint32_t)(uintptr_t)frames[0];
    CAM->DMA_LEN = CAM_W * CAM_H;
    CAM->INTEN = SIMCORE_CAMERA_INTEN_DONE_Msk | SIMCORE_CAMERA_INTEN_END_Msk | SIMCORE_CAMERA_INTEN_ERR_Msk;
    __asm volatile("cpsid i" ::: "memory");
    NVIC_ISER[CAMERA_IRQn / 32] = 1u << (CAMERA_IRQn % 32);
    CAM->CTRL = SIMCORE_CAMERA_CTRL_EN_Msk | SIMCORE_CAMERA_CTRL_CONT_Msk;

    uint32_t n = 0, motions = 0, cur = 0;
    for (;;) {
        uint32_t st = CAM->STATUS;
        while (!(st & (SIMCORE_CAMERA_STATUS_DONE_Msk | SIMCORE_CAMERA_STATUS_END_Msk |
                       SIMCORE_CAMERA_STATUS_ERR_Msk))) {
            __asm volatile("wfi");
            NVIC_ICPR[CAMERA_IRQn / 32] = 1u << (CAMERA_IRQn % 32);
            st = CAM->STATUS;
        }
        if (st & SIMCORE_CAMERA_STATUS_ERR_Msk) {
            printf("camera error: DMA buffer too small\n");
            return 1;
        }
        if (!(st & SIMCORE_CAMERA_STATUS_DONE_Msk))
            break; /* END: no more frames */
        const uint32_t index = CAM->FRAME_INDEX;
        const uint8_t *f = frames[cur], *prev = frames[cur ^ 1u];
        CAM->DMA_ADDR = (uint32_t)(uintptr_t)frames[cur ^ 1u]; /* the next frame goes to the other buffer */
        uint32_t sum = 0, lo = 255, hi = 0;
        for (uint32_t i = 0; i < CAM_W * CAM_H; i++) {
            uint32_t p = f[i];
            sum += p;
            lo = p < lo ? p : lo;
            hi = p > hi ? p : hi;
        }
        printf("frame %lu at %lu ms: sum %lu min %lu max %lu", (unsigned long)index, (unsigned long)(index * 100u),
               (unsigned long)sum, (unsigned long)lo, (unsigned long)hi);
        if (n > 0) {
            uint32_t count = 0, sx = 0, sy = 0;
            for (uint32_t y = 0; y < CAM_H; y++) {
                for (uint32_t x = 0; x < CAM_W; x++) {
                    int d = (int)f[y * CAM_W + x] - (int)prev[y * CAM_W + x];
                    if (d > DIFF || d < -DIFF) {
                        count++;
                        sx += x;
                        sy += y;
                    }
                }
            }
            printf(" changed %lu", (unsigned long)count);
            if (count > MOTION_PIXELS) {
                motions++;
                printf(" MOTION at (%lu, %lu), detected at %lu ms", (unsigned long)(sx / count),
                       (unsigned long)(sy / count), (unsigned long)vclock_ms());
            }
        }
        printf("\n");
        n++;
        cur ^= 1u;
        CAM->STATUS = SIMCORE_CAMERA_STATUS_DONE_Msk; /* acknowledge: the camera may deliver the next frame */
    }
    CAM->CTRL = 0;
    printf("done: %lu frames, %lu with motion, %lu dropped\n", (unsigned long)n, (unsigned long)motions,
           (unsigned long)CAM->DROP_COUNT);
    return 0;
}
