/*
 * spin: print a verdict marker, then idle forever in a branch-to-self loop (`b .`).
 *
 * The shape of many on-target tests: the result goes to the console and the firmware never
 * exits. simcore stops at once with "stopped: spinning at main" (exit 125), or on the marker
 * with --pass-marker "TEST PASSED" (exit 0); QEMU runs until it is killed.
 */
#include <stdio.h>

#include "board.h"

int main(void) {
    printf("spin on %s: running checks\n", BOARD_NAME);
    unsigned sum = 0;
    for (unsigned i = 1; i <= 100; i++) sum += i;
    printf("sum 1..100 = %u\n", sum);
    printf(sum == 5050u ? "TEST PASSED\n" : "TEST FAILED\n");
    fflush(stdout);
    for (;;) {
        /* idle: compiles to `b .` */
    }
}
