/*
 * compute: a long, deterministic integer benchmark: an int8 x int8 -> int32 matrix
 * multiply (the inner loop of a quantised neural-network layer), requantised and fed
 * back as the next input, COMPUTE_ITERS times. Prints a checksum and returns 0.
 *
 * With the default COMPUTE_ITERS (Makefile: apps/compute/app.mk) a run is about
 * 300 million instructions. Operands are generated at run time (no data in the ELF).
 */
#include <stdint.h>
#include <stdio.h>

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

int main(void)
{
    uint32_t seed = 1u;
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1664525u + 1013904223u; /* LCG */
        a[i] = (int8_t)(seed >> 24);
        seed = seed * 1664525u + 1013904223u;
        b[i] = (int8_t)((seed >> 24) % 15u) - 7; /* small weights keep activations alive */
    }
    uint32_t sum = 0;
    for (int it = 0; it < COMPUTE_ITERS; it++) {
        matmul(a, b, c);
        sum = requantize(c, a, sum);
        a[it % (N * N)] ^= (int8_t)it; /* keep the sequence from settling into a fixed point */
    }
    printf("compute: %d iterations of %dx%d int8 matmul, checksum 0x%08lx\n", COMPUTE_ITERS, N, N,
           (unsigned long)sum);
    return 0;
}
