/*
 * semihost: every semihosting call simcore implements for output and time, then exit
 * status 7 through SYS_EXIT_EXTENDED.
 *
 * Expected semihosting output (stdout unless noted):
 *   semihost: SYS_WRITE0
 *   semihost: SYS_WRITEC
 *   semihost: SYS_WRITE stdout
 *   semihost: SYS_WRITE stderr            (on stderr)
 * and on the board console, lines starting "semihost:" with the clock readings.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "semihosting.h"

static const char stdout_line[] = "semihost: SYS_WRITE stdout\n";
static const char stderr_line[] = "semihost: SYS_WRITE stderr\n";

static volatile uint32_t sink;

int main(void)
{
    int ok = 1;
    int w1, w2;

    printf("semihost: start (console)\n");

    sh_write0("semihost: SYS_WRITE0\n");
    for (const char *p = "semihost: SYS_WRITEC\n"; *p; p++)
        sh_writec(*p);
    w1 = sh_write(SH_STDOUT, stdout_line, strlen(stdout_line));
    w2 = sh_write(SH_STDERR, stderr_line, strlen(stderr_line));

    int cs0 = sh_clock();
    uint64_t t0 = 0, t1 = 0;
    int e0 = sh_elapsed(&t0);
    for (uint32_t i = 0; i < 100000u; i++) /* some work between the two readings */
        sink += i;
    int e1 = sh_elapsed(&t1);
    int cs1 = sh_clock();
    int freq = sh_tickfreq();

    printf("semihost: SYS_WRITE left %d and %d bytes unwritten (0 expected)\n", w1, w2);
    if (w1 != 0 || w2 != 0)
        ok = 0;
    printf("semihost: SYS_CLOCK %d -> %d centiseconds\n", cs0, cs1);
    /* newlib-nano's printf has no %llu: print the 64-bit readings as two hex words */
    printf("semihost: SYS_ELAPSED %s 0x%08lx%08lx -> 0x%08lx%08lx ticks (+%lu), SYS_TICKFREQ %d Hz\n",
           (e0 == 0 && e1 == 0) ? "ok" : "failed", (unsigned long)(t0 >> 32), (unsigned long)t0,
           (unsigned long)(t1 >> 32), (unsigned long)t1, (unsigned long)(t1 - t0), freq);
    if (cs0 < 0 || cs1 < cs0 || e0 != 0 || e1 != 0 || t1 <= t0)
        ok = 0;
    printf("semihost: %s, exiting with 7 via SYS_EXIT_EXTENDED\n", ok ? "checks passed" : "CHECKS FAILED");
    fflush(stdout);
    sh_exit(ok ? 7 : 1);
}
