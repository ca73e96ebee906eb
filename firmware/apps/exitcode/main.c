/* exitcode: main's return value becomes the exit status (exit -> _exit -> SYS_EXIT_EXTENDED). */
#include <stdio.h>

#include "board.h"

#ifndef EXIT_CODE
#define EXIT_CODE 3
#endif

int main(void)
{
    printf("exitcode: returning %d from main on %s\n", EXIT_CODE, BOARD_NAME);
    return EXIT_CODE;
}
