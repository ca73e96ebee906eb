/*
 * Virtual time in milliseconds from DWT CYCCNT (ARMv7-M ARM C1.8.8), for apps that timestamp
 * what they detect. The core clock comes from semihosting SYS_TICKFREQ when the host answers
 * (simcore does; SystemCoreClock on a real part), else the board's default clock.
 * Header-only: each app is one translation unit.
 */
#ifndef SIMCORE_VCLOCK_H
#define SIMCORE_VCLOCK_H

#include <stdint.h>

#include "semihosting.h"

#define VCLOCK_DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define VCLOCK_DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define VCLOCK_DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)

static uint32_t vclock_cycles_per_ms = BOARD_DEFAULT_MHZ * 1000u;

/* Start CYCCNT at 0 (CoreDebug DEMCR.TRCENA, then DWT_CTRL.CYCCNTENA). */
static void vclock_start(void)
{
    int hz = sh_tickfreq();
    if (hz >= 1000)
        vclock_cycles_per_ms = (uint32_t)hz / 1000u;
    VCLOCK_DEMCR |= 1u << 24;
    VCLOCK_DWT_CYCCNT = 0;
    VCLOCK_DWT_CTRL |= 1u;
}

static uint32_t vclock_ms(void)
{
    return VCLOCK_DWT_CYCCNT / vclock_cycles_per_ms;
}

#endif
