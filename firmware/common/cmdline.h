/*
 * The firmware's command line through semihosting SYS_GET_CMDLINE (0x15; Arm "Semihosting for
 * AArch32 and AArch64" 2.0, 6.4): simcore passes the ELF's name and the words after `--` (or
 * `simcore test`'s arguments), QEMU the -append string. One copy for the apps that take a mode.
 */
#ifndef SIMCORE_CMDLINE_H
#define SIMCORE_CMDLINE_H

#include <string.h>

#include "semihosting.h"

#define SYS_GET_CMDLINE 0x15

#ifndef SH_CMDLINE_MAX
#define SH_CMDLINE_MAX 128
#endif

/* The command line (SYS_GET_CMDLINE: the program name, then the arguments simcore's
 * words after `--` or QEMU's -append give), read once; "" when there is none or it
 * does not fit in SH_CMDLINE_MAX bytes (define it larger before including this header). */
static inline char *sh_cmdline(void)
{
    static char line[SH_CMDLINE_MAX];
    static int read;
    if (!read) {
        struct {
            char *buf;
            int len;
        } b = {line, (int)sizeof line - 1};
        read = 1;
        if (sh_call(SYS_GET_CMDLINE, &b) != 0 || b.len < 0 || b.len >= (int)sizeof line)
            b.len = 0;
        line[b.len] = 0;
    }
    return line;
}

/* The arguments: the command line after the program name's first space, "" if none. The buffer is
 * the caller's to split in place. */
static inline char *sh_args(void)
{
    char *line = sh_cmdline();
    char *sp = strchr(line, ' ');
    return sp ? sp + 1 : line + strlen(line);
}

#endif
