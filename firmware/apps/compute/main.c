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

#include "workload.h"

int main(void)
{
    workload_init();
    uint32_t sum = 0;
    for (int it = 0; it < COMPUTE_ITERS; it++) {
        sum = workload_step(it, sum);
    }
    printf("compute: %d iterations of %dx%d int8 matmul, checksum 0x%08lx\n", COMPUTE_ITERS, N, N,
           (unsigned long)sum);
    return 0;
}
