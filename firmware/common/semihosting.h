/*
 * Arm semihosting for simcore firmware (Arm "Semihosting for AArch32 and AArch64",
 * version 2.0). On M-profile the call is `bkpt 0xAB` with the operation in r0 and the
 * argument (a value or a pointer to a parameter block) in r1; the result comes back in r0.
 *
 * simcore (and QEMU with -semihosting) implement these calls. On a real board without a
 * debugger attached, `bkpt` escalates to HardFault: do not ship semihosting to hardware.
 */
#ifndef SIMCORE_SEMIHOSTING_H
#define SIMCORE_SEMIHOSTING_H

#include <stddef.h>
#include <stdint.h>

/* Operation numbers */
#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITEC 0x03
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_CLOCK 0x10
#define SYS_TIME 0x11
#define SYS_ERRNO 0x13
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define SYS_ELAPSED 0x30
#define SYS_TICKFREQ 0x31

/* Reason codes for SYS_EXIT / SYS_EXIT_EXTENDED */
#define ADP_Stopped_ApplicationExit 0x20026
#define ADP_Stopped_RunTimeErrorUnknown 0x20023

/* Handles simcore gives the standard streams for SYS_WRITE */
#define SH_STDOUT 1
#define SH_STDERR 2

/* One semihosting call: r0 = op, r1 = arg; returns r0. */
static inline int sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_writec(char c);                              /* SYS_WRITEC: one character */
void sh_write0(const char *s);                       /* SYS_WRITE0: NUL-terminated string */
int sh_write(int handle, const void *buf, size_t n); /* SYS_WRITE: returns bytes NOT written */
int sh_clock(void);                                  /* SYS_CLOCK: centiseconds since start, -1 on error */
int sh_time(void);                                   /* SYS_TIME: seconds since the epoch */
int sh_elapsed(uint64_t *ticks);                     /* SYS_ELAPSED: 0 ok, -1 error */
int sh_tickfreq(void);                               /* SYS_TICKFREQ: ticks per second, -1 if unknown */

/* SYS_EXIT_EXTENDED {ADP_Stopped_ApplicationExit, code}: exit status = code. */
__attribute__((noreturn)) void sh_exit(int code);
/* SYS_EXIT with r1 = reason (32-bit form): ApplicationExit means status 0, anything else a failure. */
__attribute__((noreturn)) void sh_exit_reason(uint32_t reason);

#endif
