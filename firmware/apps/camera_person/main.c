/*
 * camera_person: person detection on simcore's camera, the visual wake word of a smart doorbell.
 *
 *   camera (96x96 GRAY8, 4 fps, continuous, ping-pong DMA buffers) -> int8 input (pixel - 128)
 *   -> MobileNetV1-style CNN (models/trained/person.tflite, tm runtime) -> scores (nobody, person)
 *
 * Every frame is classified: it is a person frame when the person score + 128 reaches
 * CAM_PERSON_THRESHOLD (of 255). Each frame prints its index, time (index / FPS), both scores,
 * the decision and the inference's DWT cycles; a change of decision prints an event with the
 * frame's time and the virtual time at which the firmware reported it. Frames that complete
 * while the firmware is still busy are dropped by the camera (counted). Constants:
 * models/tinyml/apps.py; the Python twin: models/tinyml/twins.py (person_pipeline). ITM
 * port 3 / port 4 bracket each inference (value = frame index).
 *
 *   simcore run firmware/bin/cortex-m4/camera_person.elf --board cortex-m4 \
 *       --sensor camera=models/trained/person_demo.npy:fps=4
 *
 * Exit status 0; 1 if frames were dropped; 2 if the model could not be set up.
 * (On a board with an OV7670 on the DCMI, main_dcmi.c is the app instead.)
 */
#include "board.h" /* first: which camera the board has */
#if !defined(DEVICE_CAMERA_OV7670)
#include <stdint.h>
#include <stdio.h>

#include "app_config.h"
#include "person.h"
#include "board.h"
#include "semihosting.h"
#include "simcore_camera.h"
#include "tinyml_app.h"
#include "tm.h"
#include "vclock.h"

#define CAM ((SIMCORE_CAMERA_Type *)CAMERA_BASE)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define NPIX (CAM_WIDTH * CAM_HEIGHT)

static tm_interp_t interp;
static uint8_t arena[80 * 1024] __attribute__((aligned(16)));
static uint8_t frames[2][NPIX];

int main(void)
{
    if (!app_model_init(&interp, arena, sizeof arena, NPIX, 2, "camera_person"))
        return 2;
    const uint32_t model_len = app_model_bytes();
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    printf("camera_person on %s: camera %ux%u GRAY8 at %u fps -> person.tflite (%lu bytes, arena %lu bytes), "
           "person when its score + 128 >= %u\n", BOARD_NAME, CAM_WIDTH, CAM_HEIGHT, CAM_FPS,
           (unsigned long)model_len, (unsigned long)tm_arena_used(&interp), (unsigned)CAM_PERSON_THRESHOLD);
    CAM->WIDTH = CAM_WIDTH;
    CAM->HEIGHT = CAM_HEIGHT;
    CAM->FORMAT = 0;
    CAM->FPS = CAM_FPS;
    CAM->DMA_ADDR = (uint32_t)(uintptr_t)frames[0];
    CAM->DMA_LEN = NPIX;
    CAM->INTEN = SIMCORE_CAMERA_INTEN_DONE_Msk | SIMCORE_CAMERA_INTEN_END_Msk | SIMCORE_CAMERA_INTEN_ERR_Msk;
    __asm volatile("cpsid i" ::: "memory"); /* wfi wakes on the camera interrupt; flags are polled */
    NVIC_ISER[CAMERA_IRQn / 32] = 1u << (CAMERA_IRQn % 32);
    vclock_start(); /* virtual time 0 = camera enabled (frame k completes at (k + 1) / FPS) */
    CAM->CTRL = SIMCORE_CAMERA_CTRL_EN_Msk | SIMCORE_CAMERA_CTRL_CONT_Msk;

    uint32_t cur = 0;
    person_stats_t st = {0};
    for (;;) {
        uint32_t s = CAM->STATUS;
        while (!(s & (SIMCORE_CAMERA_STATUS_DONE_Msk | SIMCORE_CAMERA_STATUS_END_Msk | SIMCORE_CAMERA_STATUS_ERR_Msk))) {
            __asm volatile("wfi");
            NVIC_ICPR[CAMERA_IRQn / 32] = 1u << (CAMERA_IRQn % 32);
            s = CAM->STATUS;
        }
        if (s & SIMCORE_CAMERA_STATUS_ERR_Msk) {
            printf("camera error: DMA buffer too small\n");
            return 2;
        }
        if (!(s & SIMCORE_CAMERA_STATUS_DONE_Msk))
            break; /* END: no more frames */
        const uint32_t index = CAM->FRAME_INDEX;
        const uint8_t *f = frames[cur];
        CAM->DMA_ADDR = (uint32_t)(uintptr_t)frames[cur ^ 1u]; /* the next frame goes to the other buffer */
        CAM->STATUS = SIMCORE_CAMERA_STATUS_DONE_Msk;          /* the camera may deliver it meanwhile */
        cur ^= 1u;
        int8_t *x = (int8_t *)in->data;
        for (uint32_t i = 0; i < NPIX; i++)
            x[i] = (int8_t)(f[i] ^ 0x80u); /* pixel - 128 */
        uint32_t cycles = 0;
        if (!app_timed_invoke(&interp, "camera_person", index, &cycles))
            return 2;
        person_report(&st, (const int8_t *)out->data, index, cycles, "");
    }
    CAM->CTRL = 0;
    const uint32_t dropped = CAM->DROP_COUNT;
    person_done(&st, dropped, "dropped");
    return dropped ? 1 : 0;
}
#endif
