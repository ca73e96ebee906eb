/*
 * calib_profile: a hand-timed call tree (calib_profile.S) called PROF_CALLS times between
 * ITM op markers, as simcore's ML runtime writes them (port 1 at op begin, port 2 at op
 * end, value = op index | TFLite builtin code << 16), for the profiler's tests.
 */
#include <stdint.h>
#include <stdio.h>

#define PROF_CALLS 5
#define ITM_PORT(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))
#define OP_CONV_2D 3u
#define OP_SOFTMAX 25u

void prof_mid(void);
void prof_leaf(void);
void prof_jump(void);

int main(void)
{
    for (int i = 0; i < PROF_CALLS; i++)
        prof_jump();
    ITM_PORT(1) = 0u | (OP_CONV_2D << 16);
    for (int i = 0; i < PROF_CALLS; i++)
        prof_mid();
    ITM_PORT(2) = 0u | (OP_CONV_2D << 16);
    ITM_PORT(1) = 1u | (OP_SOFTMAX << 16);
    prof_leaf();
    ITM_PORT(2) = 1u | (OP_SOFTMAX << 16);
    puts("profile done");
    return 0;
}
