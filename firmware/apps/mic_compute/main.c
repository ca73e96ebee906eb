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

#ifndef COMPUTE_ITERS
#define COMPUTE_ITERS 500
#endif
#define N 48
#define HALF 256u
#define MIC ((SIMCORE_MIC_Type *)MIC_BASE)

static int8_t a[N * N], b[N * N];
static int32_t c[N * N];
static int16_t ring[2 * HALF];

__attribute__((noinline)) static void matmul(const int8_t *x, const int8_t *w, int32_t *out)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < N; k++)
                acc += (int32_t)x[i * N + k] * (int32_t)w[k * N + j];
            out[i * N + j] = acc;
        }
    }
}

__attribute__((noinline)) static uint32_t requantize(const int32_t *in, int8_t *out, uint32_t sum)
{
    for (int i = 0; i < N * N; i++) {
        int32_t v = (in[i] + 64) >> 7;
        v = v < -128 ? -128 : v > 127 ? 127 : v;
        out[i] = (int8_t)v;
        sum = (sum * 31u) ^ (uint32_t)in[i];
    }
    return sum;
}

int main(void)
{
    uint32_t seed = 1u;
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = (int8_t)(seed >> 24);
        seed = seed * 1664525u + 1013904223u;
        b[i] = (int8_t)((seed >> 24) % 15u) - 7;
    }
    MIC->RATE = 16000u;
    MIC->DMA_ADDR = (uint32_t)(uintptr_t)ring;
    MIC->DMA_LEN = 2 * HALF;
    MIC->CTRL = SIMCORE_MIC_CTRL_EN_Msk | SIMCORE_MIC_CTRL_DMA_Msk;

    uint32_t sum = 0, halves = 0, next = SIMCORE_MIC_STATUS_HT_Msk;
    for (int it = 0; it < COMPUTE_ITERS; it++) {
        matmul(a, b, c);
        sum = requantize(c, a, sum);
        a[it % (N * N)] ^= (int8_t)it;
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
