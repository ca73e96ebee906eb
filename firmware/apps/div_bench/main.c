/*
 * div_bench: DIV_BENCH_ITERS iterations of a loop with one UDIV among eight instructions, for
 * benchmarks/divide_cost.py (the cost of pricing each divide from its operands). Prints a checksum.
 */
#include <stdint.h>
#include <stdio.h>

uint32_t div_bench_loop(uint32_t iterations, const uint32_t *dividends);

int main(void)
{
    static const uint32_t dividends[16] = {
        7u, 100u, 1000u, 65535u, 1u << 20, 123456789u, 0xFFFFFFFFu, 42u,
        0u, 99999u, 1u << 31, 5u, 777777u, 31u, 0x12345678u, 2u};
    printf("div_bench %lu iterations, checksum %lu\n", (unsigned long)DIV_BENCH_ITERS,
           (unsigned long)div_bench_loop(DIV_BENCH_ITERS, dividends));
    return 0;
}
