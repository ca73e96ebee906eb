/*
 * The compute workload, shared by apps/compute and apps/mic_compute so that
 * benchmarks/sensor_speed.py compares the same instructions with and without a sensor:
 * an int8 x int8 -> int32 matrix multiply (the inner loop of a quantised layer), requantised
 * and fed back as the next input. Operands are generated at run time (no data in the ELF).
 * Header-only: each app is one translation unit.
 */
#ifndef COMPUTE_WORKLOAD_H
#define COMPUTE_WORKLOAD_H

#include <stdint.h>

#ifndef COMPUTE_ITERS
#define COMPUTE_ITERS 500
#endif
#define N 48 /* matrix dimension */

static int8_t a[N * N], b[N * N];
static int32_t c[N * N];

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
        int32_t v = (in[i] + 64) >> 7; /* scale down and round */
        v = v < -128 ? -128 : v > 127 ? 127 : v;
        out[i] = (int8_t)v;
        sum = (sum * 31u) ^ (uint32_t)in[i];
    }
    return sum;
}

/* Fill the operands from a fixed LCG (same bytes on every run). */
static void workload_init(void)
{
    uint32_t seed = 1u;
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1664525u + 1013904223u; /* LCG */
        a[i] = (int8_t)(seed >> 24);
        seed = seed * 1664525u + 1013904223u;
        b[i] = (int8_t)((seed >> 24) % 15u) - 7; /* small weights keep activations alive */
    }
}

/* One iteration: c = a*b, requantise c back into a, fold into the checksum. */
static inline uint32_t workload_step(int it, uint32_t sum)
{
    matmul(a, b, c);
    sum = requantize(c, a, sum);
    a[it % (N * N)] ^= (int8_t)it; /* keep the sequence from settling into a fixed point */
    return sum;
}

#endif
