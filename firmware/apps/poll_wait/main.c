/*
 * poll_wait: the polling loops vendor drivers wait in, for simcore's fast-forward (simcore/poll.py).
 * The mode is the command line (`simcore run poll_wait.elf -- <mode>`):
 *
 *   countflag N  LL_mDelay style: SysTick at 1 ms without interrupt, N waits on CTRL.COUNTFLAG
 *   flag100      one wait of 100 ms on SysTick's COUNTFLAG (HCLK/8): the busy-wait benchmark
 *   hal          HAL style: wait for RCC_CR.HSERDY with a 100 ms timeout on a 1 kHz SysTick tick
 *   ramcount     wait for HSERDY counting polls in RAM only (the registers repeat, memory does not)
 *   forever      wait on PWR_CSR.WUF, which nothing sets, with SysTick interrupts running
 *   uart N       N lines through the polled USART (the console)
 *   delay N      HAL_Delay style: N ms on the 1 kHz SysTick tick (a loop on RAM only)
 *   plain        start a peripheral simcore does not model and wait for its flag, with SysTick
 *                interrupts running (the loop reads no RAM): a plain SVD register, served in C
 *   plaintimeout the same wait with HAL's timeout of 100 ticks (the loop reads the tick in RAM)
 *   tim2 N       STM32F4: N ms on TIM2's update flag (SR.UIF), one-pulse mode, 1 kHz counter
 *   tim6 N       STM32F4: HAL_Delay on a basic timer: N updates of TIM6 (1 ms each), UIF polled and cleared
 *   cnt N        STM32F4: TIM2 counting at 1 kHz, wait until CNT reaches N (a loop on the counter itself)
 *   timer N      nRF52840: N ms on TIMER1's EVENTS_COMPARE[0] (1 MHz, no interrupt, no shortcut)
 *   rtc N        nRF52840: N ms on RTC1's EVENTS_COMPARE[0] (LFCLK 32768 Hz)
 *   rtctick N    nRF52840: N ticks of RTC1 at 100 Hz (PRESCALER 327), EVENTS_TICK polled and cleared
 *
 * The plain register is SDIO.STA.CMDREND after a command on the STM32F407 (RM0090 31.9.4, 31.9.11)
 * and COMP.EVENTS_READY after TASKS_START on the nRF52840 (PS v1.7 6.6.6); the RCC/PWR modes
 * exist on the STM32F407 only. Every mode prints the cycles DWT counted, so tests compare them
 * with the virtual time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#if defined(BOARD_CONSOLE_KIND_STM32F4_USART)
#include "../clock_max/stm32.h"
#define RESET_HZ 16000000u /* HSI */
#define PWR_CSR REG32(PWR_BASE + 0x04u)
#define SDIO_CMD REG32(0x40012C00u + 0x0Cu)
#define SDIO_STA REG32(0x40012C00u + 0x34u)
#define SDIO_CMD_CPSMEN (1u << 10)
#define SDIO_STA_CMDREND (1u << 6)
#include "stm32_io.h" /* the timers' registers (RM0090 18.4, 20.4) */
/* TIM2 and TIM6; their clocks: RCC_APB1ENR TIM2EN bit 0, TIM6EN bit 4 (RM0090 7.3.13) */
#define TIM2_BASE 0x40000000u
#define TIM6_BASE 0x40001000u
#define PLAIN_START() (SDIO_CMD = SDIO_CMD_CPSMEN | (1u << 6) | 8u) /* CMD8 with a short response */
#define PLAIN_DONE() (SDIO_STA & SDIO_STA_CMDREND)
#elif defined(BOARD_CONSOLE_KIND_NRF52_UARTE)
#define RESET_HZ 64000000u
#define COMP_TASKS_START REG32(0x40013000u + 0x000u)
#define COMP_EVENTS_READY REG32(0x40013000u + 0x100u)
#define PLAIN_START() (COMP_TASKS_START = 1u)
#define PLAIN_DONE() (COMP_EVENTS_READY != 0u)
/* CLOCK (PS v1.7 5.4.6), TIMER1 (6.30.5) and RTC1 (6.22.10): the registers the timer modes use */
#define CLOCK_TASKS_LFCLKSTART REG32(0x40000000u + 0x008u)
#define CLOCK_EVENTS_LFCLKSTARTED REG32(0x40000000u + 0x104u)
#define CLOCK_LFCLKSRC REG32(0x40000000u + 0x518u)
#define TIMER1_TASKS_START REG32(0x40009000u + 0x000u)
#define TIMER1_TASKS_CLEAR REG32(0x40009000u + 0x00Cu)
#define TIMER1_EVENTS_COMPARE0 REG32(0x40009000u + 0x140u)
#define TIMER1_MODE REG32(0x40009000u + 0x504u)
#define TIMER1_BITMODE REG32(0x40009000u + 0x508u)
#define TIMER1_PRESCALER REG32(0x40009000u + 0x510u)
#define TIMER1_CC0 REG32(0x40009000u + 0x540u)
#define RTC1_TASKS_START REG32(0x40011000u + 0x000u)
#define RTC1_TASKS_CLEAR REG32(0x40011000u + 0x008u)
#define RTC1_EVENTS_TICK REG32(0x40011000u + 0x100u)
#define RTC1_EVENTS_COMPARE0 REG32(0x40011000u + 0x140u)
#define RTC1_EVTENSET REG32(0x40011000u + 0x344u)
#define RTC1_PRESCALER REG32(0x40011000u + 0x508u)
#define RTC1_CC0 REG32(0x40011000u + 0x540u)
#else
#error "poll_wait: an STM32F4 or nRF52840 board"
#endif
#include "../systick/cm4.h"
#include "cmdline.h"


static volatile uint32_t uwTick;

void SysTick_Handler(void) { uwTick++; }

static uint32_t hz(void) { return RESET_HZ; } /* the reset clock */

static void tick_start(int interrupt, int div8, uint32_t reload)
{
    SYST_CSR = 0;
    SYST_RVR = reload - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | (interrupt ? SYST_CSR_TICKINT : 0u) | (div8 ? 0u : SYST_CSR_CLKSOURCE);
}

static void report(const char *what, uint32_t t0)
{
    uint32_t c = DWT_CYCCNT - t0;
    printf("%s: %lu cycles = %lu.%03lu ms\n", what, (unsigned long)c, (unsigned long)(c / (hz() / 1000u)),
           (unsigned long)(c % (hz() / 1000u) / (hz() / 1000000u)));
}

static void delay_ms(uint32_t ms)
{
    uint32_t start = uwTick;
    while (uwTick - start < ms) {
    }
}

#if defined(STM32F4)
/* A timer counting at counter_hz from the reset clock (APB1 timer clock = HCLK): ARR + 1 counts a period */
static void tim_start(uint32_t tim, uint32_t counter_hz, uint32_t arr, uint32_t cr1)
{
    TIM_PSC(tim) = hz() / counter_hz - 1u;
    TIM_ARR(tim) = arr;
    TIM_EGR(tim) = TIM_EGR_UG; /* loads PSC; sets UIF, cleared next */
    TIM_SR(tim) = 0;
    TIM_CR1(tim) = cr1 | TIM_CR1_CEN;
}

/* The poll count lives in RAM only: the core registers repeat at every read of RCC_CR. */
static uint32_t ram_count(volatile uint32_t *counter)
{
    uint32_t ready;
    do {
        __asm__ volatile("ldr r3, [%1]\n\tadds r3, #1\n\tstr r3, [%1]\n\tmovs r3, #0\n\tldr %0, [%2]"
                         : "=r"(ready) : "r"(counter), "r"(&RCC_CR) : "r3", "memory");
    } while (!(ready & RCC_CR_HSERDY));
    return *counter;
}
#endif

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    char *mode = sh_args();
    char *arg = strchr(mode, ' ');
    uint32_t n = arg ? (uint32_t)strtoul(arg + 1, 0, 10) : 1u;
    uint32_t t0 = DWT_CYCCNT;

    if (strncmp(mode, "countflag", 9) == 0) {
        tick_start(0, 0, hz() / 1000u);
        for (uint32_t i = 0; i < n; i++)
            while (!(SYST_CSR & SYST_CSR_COUNTFLAG)) {
            }
        report("countflag", t0);
    } else if (strncmp(mode, "flag100", 7) == 0) {
        tick_start(0, 1, hz() / 8u / 10u); /* 100 ms of HCLK/8 */
        while (!(SYST_CSR & SYST_CSR_COUNTFLAG)) {
        }
        report("flag100", t0);
    } else if (strncmp(mode, "plaintimeout", 12) == 0) {
        tick_start(1, 0, hz() / 1000u);
        PLAIN_START();
        uint32_t start = uwTick;
        int ok = 1;
        while (!PLAIN_DONE()) {
            if (uwTick - start > 100u) {
                ok = 0;
                break;
            }
        }
        report(ok ? "plain flag set" : "plain flag timeout", t0);
    } else if (strncmp(mode, "plain", 5) == 0) {
        tick_start(1, 0, hz() / 1000u);
        PLAIN_START();
        while (!PLAIN_DONE()) {
        }
        report("plain flag set", t0);
#if defined(STM32F4)
    } else if (strncmp(mode, "hal", 3) == 0) {
        tick_start(1, 0, hz() / 1000u);
        RCC_CR |= RCC_CR_HSEON;
        uint32_t start = uwTick;
        int ok = 1;
        while (!(RCC_CR & RCC_CR_HSERDY)) {
            if (uwTick - start > 100u) {
                ok = 0;
                break;
            }
        }
        report(ok ? "HSE ready" : "HSE timeout", t0);
    } else if (strncmp(mode, "ramcount", 8) == 0) {
        static volatile uint32_t counter;
        RCC_CR |= RCC_CR_HSEON;
        uint32_t c = ram_count(&counter);
        printf("polls counted in RAM: %lu\n", (unsigned long)c);
        report("ramcount", t0);
    } else if (strncmp(mode, "forever", 7) == 0) {
        tick_start(1, 0, hz() / 1000u);
        while (!(PWR_CSR & 1u)) {
        }
        report("woken", t0);
    } else if (strncmp(mode, "tim2", 4) == 0) {
        RCC_APB1ENR |= 1u << 0;
        tim_start(TIM2_BASE, 1000u, n - 1u, TIM_CR1_OPM);
        while (!(TIM_SR(TIM2_BASE) & TIM_SR_UIF)) {
        }
        report("tim2", t0);
    } else if (strncmp(mode, "tim6", 4) == 0) {
        RCC_APB1ENR |= 1u << 4;
        tim_start(TIM6_BASE, 2000u, 1u, 0u); /* an update every 1 ms (ARR 0 would block the counter) */
        for (uint32_t i = 0; i < n; i++) {
            while (!(TIM_SR(TIM6_BASE) & TIM_SR_UIF)) {
            }
            TIM_SR(TIM6_BASE) = 0;
        }
        report("tim6", t0);
    } else if (strncmp(mode, "cnt", 3) == 0) {
        RCC_APB1ENR |= 1u << 0;
        tim_start(TIM2_BASE, 1000u, 0xFFFFFFFFu, 0u);
        while (TIM_CNT(TIM2_BASE) < n) {
        }
        report("cnt", t0);
#else
    } else if (strncmp(mode, "timer", 5) == 0) {
        TIMER1_MODE = 0;
        TIMER1_BITMODE = 3u;   /* 32 bits */
        TIMER1_PRESCALER = 4u; /* 16 MHz / 2^4 = 1 MHz */
        TIMER1_CC0 = 1000u * n;
        TIMER1_EVENTS_COMPARE0 = 0;
        TIMER1_TASKS_CLEAR = 1;
        TIMER1_TASKS_START = 1;
        while (!TIMER1_EVENTS_COMPARE0) {
        }
        report("timer", t0);
    } else if (strncmp(mode, "rtc", 3) == 0) {
        int tick = strncmp(mode, "rtctick", 7) == 0;
        CLOCK_LFCLKSRC = 0u; /* the RC oscillator (600 us to start; the crystal takes 0.25 s) */
        CLOCK_TASKS_LFCLKSTART = 1;
        while (!CLOCK_EVENTS_LFCLKSTARTED) {
        }
        RTC1_PRESCALER = tick ? 327u : 0u; /* ticks at 32768 / 328 = 99.9 Hz, or 32768 Hz */
        RTC1_CC0 = (32768u * n + 999u) / 1000u;
        RTC1_EVENTS_COMPARE0 = 0;
        if (tick)
            RTC1_EVTENSET = 1u; /* EVTEN.TICK: the TICK event is generated only when enabled (PS 6.22.3) */
        RTC1_TASKS_CLEAR = 1;
        RTC1_TASKS_START = 1;
        if (tick) {
            for (uint32_t i = 0; i < n; i++) {
                while (!RTC1_EVENTS_TICK) {
                }
                RTC1_EVENTS_TICK = 0;
            }
        } else {
            while (!RTC1_EVENTS_COMPARE0) {
            }
        }
        report(tick ? "rtctick" : "rtc", t0);
#endif
    } else if (strncmp(mode, "uart", 4) == 0) {
        for (uint32_t i = 0; i < n; i++)
            printf("line %lu of %lu through the polled USART\n", (unsigned long)i, (unsigned long)n);
        report("uart", t0);
    } else if (strncmp(mode, "delay", 5) == 0) {
        tick_start(1, 0, hz() / 1000u);
        delay_ms(n);
        report("delay", t0);
    } else {
        printf("poll_wait: unknown mode '%s'\n", mode);
        return 2;
    }
    return 0;
}
