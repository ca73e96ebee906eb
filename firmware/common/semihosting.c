/* Arm semihosting helpers: see semihosting.h. */
#include "semihosting.h"

void sh_writec(char c)
{
    sh_call(SYS_WRITEC, &c);
}

void sh_write0(const char *s)
{
    sh_call(SYS_WRITE0, s);
}

int sh_write(int handle, const void *buf, size_t n)
{
    const uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    return sh_call(SYS_WRITE, block);
}

int sh_clock(void)
{
    return sh_call(SYS_CLOCK, 0);
}

int sh_time(void)
{
    return sh_call(SYS_TIME, 0);
}

int sh_elapsed(uint64_t *ticks)
{
    uint32_t block[2] = {0, 0}; /* least significant word first */
    int r = sh_call(SYS_ELAPSED, block);
    if (r == 0)
        *ticks = ((uint64_t)block[1] << 32) | block[0];
    return r;
}

int sh_tickfreq(void)
{
    return sh_call(SYS_TICKFREQ, 0);
}

void sh_exit(int code)
{
    const uint32_t block[2] = {ADP_Stopped_ApplicationExit, (uint32_t)code};
    sh_call(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

void sh_exit_reason(uint32_t reason)
{
    sh_call(SYS_EXIT, (const void *)(uintptr_t)reason);
    for (;;) {
    }
}
