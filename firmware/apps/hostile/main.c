/*
 * hostile: firmware that misbehaves on purpose, one way per run, chosen by the semihosting
 * command line (`simcore run hostile.elf -- <mode> [args]`). simcore must end every one of
 * them quickly with a diagnosis (issue 11), and the fuzzer drives "semi" with random calls.
 *
 * modes:
 *   storm         UsageFault enabled; its handler returns to the faulting udf: a fault storm
 *   storm_hard    no UsageFault: the udf escalates to HardFault, whose handler returns to it
 *   lockup        HardFault handler that faults itself (udf): the core's lockup state (B1.5.15)
 *   vtor          VTOR pointed at unmapped memory, then an SVC: the vector fetch fails
 *   writec        SYS_WRITEC forever
 *   spin          a tight loop in C that never ends and is not an idle `b .`
 *   flood MIB     MIB mebibytes through SYS_WRITE in 64 KiB chunks, then exit 0
 *   exit N        SYS_EXIT_EXTENDED with status N (decimal, may be negative or above 255)
 *   semi TOKEN... semihosting calls, each printed with its result and SYS_ERRNO:
 *                   OP:a,b,c,d   r1 = a 4-word parameter block holding a..d
 *                   OP@x         r1 = x
 *                   D<off>=hex   bytes into the scratch buffer at <off> (for names, data)
 *                 numbers are hex; "B<off>" is the scratch buffer's address + <off>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../systick/cm4.h" /* firmware/apps/systick/cm4.h */
#define SH_CMDLINE_MAX 1024
#include "cmdline.h"

static char scratch[4096];
static uint32_t block[4];
static volatile uint32_t counter;
static int mode_lockup;

/* Returns to the faulting instruction: the udf runs again, for ever. */
void UsageFault_Handler(void)
{
    counter++;
}

void HardFault_Handler(void)
{
    counter++;
    if (mode_lockup)
        __asm__ volatile("udf #1");
}

static uint32_t number(const char **p)
{
    uint32_t base = 0;
    if (**p == 'B') {
        base = (uint32_t)(uintptr_t)scratch;
        (*p)++;
    }
    return base + (uint32_t)strtoul(*p, (char **)p, 16);
}

static void put_hex(uint32_t off, const char *hex)
{
    while (hex[0] && hex[1] && off < sizeof scratch) {
        char two[3] = {hex[0], hex[1], 0};
        scratch[off++] = (char)strtoul(two, 0, 16);
        hex += 2;
    }
}

static void semi(char *tokens)
{
    for (char *tok = strtok(tokens, " "); tok; tok = strtok(0, " ")) {
        const char *p = tok;
        if (*p == 'D') {
            p++;
            uint32_t off = (uint32_t)strtoul(p, (char **)&p, 16);
            if (*p == '=')
                put_hex(off, p + 1);
            continue;
        }
        uint32_t op = (uint32_t)strtoul(p, (char **)&p, 16);
        uint32_t r1 = (uint32_t)(uintptr_t)block;
        if (*p == '@') {
            p++;
            r1 = number(&p);
        } else if (*p == ':') {
            p++;
            for (int i = 0; i < 4; i++) {
                block[i] = *p ? number(&p) : 0;
                if (*p == ',')
                    p++;
            }
        }
        if (op == SYS_EXIT || op == SYS_EXIT_EXTENDED)
            printf("call %lx: exits\n", (unsigned long)op);
        int r = sh_call((int)op, (const void *)(uintptr_t)r1);
        int e = sh_call(SYS_ERRNO, 0);
        printf("call %lx -> %08lx errno %d\n", (unsigned long)op, (unsigned long)r, e);
    }
}

int main(void)
{
    char *args = sh_args(); /* the mode, then its arguments */
    char *rest = strchr(args, ' ');
    if (rest)
        *rest++ = 0;
    else
        rest = args + strlen(args);

    if (!strcmp(args, "storm")) {
        SCB_SHCSR |= SHCSR_USGFAULTENA;
        __asm__ volatile("udf #0");
    } else if (!strcmp(args, "storm_hard")) {
        __asm__ volatile("udf #0");
    } else if (!strcmp(args, "lockup")) {
        mode_lockup = 1;
        __asm__ volatile("udf #0");
    } else if (!strcmp(args, "vtor")) {
        SCB_VTOR = 0x30000000u;
        __asm__ volatile("svc #0");
    } else if (!strcmp(args, "writec")) {
        for (;;)
            sh_writec('w');
    } else if (!strcmp(args, "spin")) {
        for (;;)
            counter++;
    } else if (!strcmp(args, "flood")) {
        static char chunk[65536];
        memset(chunk, 'x', sizeof chunk);
        for (uint32_t i = 63; i < sizeof chunk; i += 64)
            chunk[i] = '\n';
        uint32_t chunks = (uint32_t)strtoul(rest, 0, 10) * 16u;
        for (uint32_t i = 0; i < chunks; i++)
            sh_write(SH_STDOUT, chunk, sizeof chunk);
        return 0;
    } else if (!strcmp(args, "exit")) {
        sh_exit((int)strtol(rest, 0, 10));
    } else if (!strcmp(args, "semi")) {
        semi(rest);
        return 0;
    }
    printf("hostile: unknown mode '%s'\n", args);
    return 2;
}
