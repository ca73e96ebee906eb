/*
 * bench_cpp: a large C++ image (gen.py: thousands of functions, classes with virtual methods,
 * their tables) called through a dispatch table, so a run translates a great many distinct
 * blocks: what start-up and first-translation costs look like on big firmware.
 */
#include <stdint.h>
#include <stdio.h>

uint32_t cpp_bench(uint32_t rounds); /* gen.cpp */

int main(void)
{
    printf("bench_cpp: checksum %08lx\n", (unsigned long)cpp_bench(3));
    return 0;
}
