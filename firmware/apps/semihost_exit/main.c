/*
 * semihost_exit: leaves through the plain SYS_EXIT call (0x18) with
 * r1 = ADP_Stopped_ApplicationExit, which means exit status 0.
 */
#include <stdio.h>

#include "semihosting.h"

int main(void)
{
    printf("semihost_exit: console line\n");
    fflush(stdout);
    sh_write0("semihost_exit: SYS_EXIT with ADP_Stopped_ApplicationExit\n");
    sh_exit_reason(ADP_Stopped_ApplicationExit);
}
