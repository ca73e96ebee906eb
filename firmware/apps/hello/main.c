/* hello: the smallest useful firmware: a line of text and a float on the board console. */
#include <stdio.h>

#include "board.h"

int main(void)
{
    printf("Hello from simcore on %s!\n", BOARD_NAME);
    volatile float pi = 3.14159f; /* volatile: computed at run time on the FPU */
    float scaled = pi * 1000.0f + 0.5f;
    int milli = (int)scaled;
    printf("pi is about %d.%03d\n", milli / 1000, milli % 1000);
    return 0;
}
