/*
 * mic_compute: the compute app's int8 matmul workload with the microphone streaming at
 * 16 kHz by circular DMA (two halves of 256 samples, 16 ms each) the whole time, for
 * benchmarks/sensor_speed.py: how fast simcore emulates a busy core while a sensor's DMA
 * events keep arriving.
 *
 * Between matmul iterations (about 600 k instructions each) the firmware reads STATUS once;
 * a completed half is folded into the checksum (its samples feed the next input) and handed
 * back. On a bare emulator STATUS reads 0 and the compute path is the same. Prints the
 * checksum and the halves seen; returns 0.
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "simcore_mic.h"

#include "workload.h"

#define HALF 256u
#define MIC ((SIMCORE_MIC_Type *)MIC_BASE)

static int16_t ring[2 * HALF];

int main(void)
{
    workload_init();
    MIC->RATE = 16000u;
    MIC->DMA_ADDR = (uint32_t)(uintptr_t)ring;
    MIC->DMA_LEN = 2 * HALF;
    MIC->CTRL = SIMCORE_MIC_CTRL_EN_Msk | SIMCORE_MIC_CTRL_DMA_Msk;

    uint32_t sum = 0, halves = 0, next = SIMCORE_MIC_STATUS_HT_Msk;
    for (int it = 0; it < COMPUTE_ITERS; it++) {
        sum = workload_step(it, sum);
        uint32_t st = MIC->STATUS;
        while (st & next) { /* every completed half, in order */
            const int16_t *x = &ring[next == SIMCORE_MIC_STATUS_HT_Msk ? 0 : HALF];
            for (uint32_t i = 0; i < HALF; i++)
                sum += (uint32_t)(uint16_t)x[i];
            MIC->STATUS = next;
            halves++;
            next ^= SIMCORE_MIC_STATUS_HT_Msk | SIMCORE_MIC_STATUS_TC_Msk;
            st = MIC->STATUS;
        }
    }
    MIC->CTRL = 0;
    printf("mic_compute: %d iterations, %lu microphone halves, checksum 0x%08lx\n", COMPUTE_ITERS,
           (unsigned long)halves, (unsigned long)sum);
    return 0;
}
