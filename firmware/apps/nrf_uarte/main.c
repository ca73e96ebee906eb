/*
 * nrf_uarte: text over UARTE0 with EasyDMA (PS v1.7 section 6.34), two ways:
 *
 *   polled     printf through the console driver (common/console_nrf52_uarte.c): TXD.PTR and
 *              TXD.MAXCNT, TASKS_STARTTX, then a loop on EVENTS_ENDTX for each chunk;
 *   interrupt  a RAM buffer sent in chunks of 32 bytes by the ENDTX interrupt: the handler
 *              clears the event and starts the next chunk; the CPU sleeps (WFI) meanwhile.
 *
 * The app prints the cycles each way took: bytes x 10 bits / baud x 64 MHz, the baud rate being
 * BAUDRATE x 16 MHz / 2^32 (0x01D7E000: 115203.86 baud).
 *
 * With `rx` on the command line it receives instead (the board's uarte0 `input` file): EasyDMA
 * into two 8-byte buffers in turn, the ENDRX_STARTRX shortcut restarting the receiver at once on
 * the buffer the RXSTARTED interrupt pointed RXD.PTR to, the ENDRX interrupt collecting each
 * one; a 10 ms TIMER2 timeout clears the shortcut and triggers STOPRX (ENDRX with the last
 * bytes, then RXTO). It prints what arrived, the ENDRX count and when the last full buffer ended.
 */
#include <stdio.h>
#include <string.h>

#include "../nrf_clock/nrf52.h"
#include "cmdline.h"

#define UARTE_TASKS_STARTRX(u) NRF_REG(u, 0x000u)
#define UARTE_TASKS_STOPRX(u) NRF_REG(u, 0x004u)
#define UARTE_EVENTS_RXDRDY(u) NRF_REG(u, 0x108u)
#define UARTE_EVENTS_ENDRX(u) NRF_REG(u, 0x110u)
#define UARTE_EVENTS_RXTO(u) NRF_REG(u, 0x144u)
#define UARTE_EVENTS_RXSTARTED(u) NRF_REG(u, 0x14Cu)
#define UARTE_RXD_PTR(u) NRF_REG(u, 0x534u)
#define UARTE_RXD_MAXCNT(u) NRF_REG(u, 0x538u)
#define UARTE_RXD_AMOUNT(u) NRF_REG(u, 0x53Cu)
#define UARTE_SHORTS_ENDRX_STARTRX (1u << 5)
#define UARTE_INT_ENDRX (1u << 4)
#define UARTE_INT_RXTO (1u << 17)
#define UARTE_INT_RXSTARTED (1u << 19)
#define TIMER2_BASE 0x4000A000u
#define TIMER2_IRQ 10u
#define TIMER_SHORTS_COMPARE0_STOP (1u << 8)

#define CHUNK 32u

static char text[256] __attribute__((aligned(4))); /* EasyDMA reads Data RAM only */
static volatile uint32_t sent, total, chunks, done_cycles;

static void start_chunk(void)
{
    uint32_t n = total - sent < CHUNK ? total - sent : CHUNK;
    UARTE_TXD_PTR(UARTE0_BASE) = (uint32_t)(uintptr_t)(text + sent);
    UARTE_TXD_MAXCNT(UARTE0_BASE) = n;
    UARTE_TASKS_STARTTX(UARTE0_BASE) = 1;
}

static uint8_t rx_buf[2][8] __attribute__((aligned(4)));
static char got[128];
static volatile uint32_t got_n, endrx, rxstarted, rx_done, last_cycles;

static void rx_events(void)
{
    if (UARTE_EVENTS_ENDRX(UARTE0_BASE)) { /* buffer endrx % 2 is complete (or cut short by STOPRX) */
        UARTE_EVENTS_ENDRX(UARTE0_BASE) = 0;
        uint32_t n = UARTE_RXD_AMOUNT(UARTE0_BASE);
        const uint8_t *b = rx_buf[endrx % 2u];
        for (uint32_t i = 0; i < n && got_n < sizeof got - 1u; i++)
            got[got_n++] = (char)b[i];
        if (n == sizeof rx_buf[0])
            last_cycles = DWT_CYCCNT;
        endrx++;
    }
    if (UARTE_EVENTS_RXSTARTED(UARTE0_BASE)) { /* EasyDMA took RXD.PTR: give it the other buffer next */
        UARTE_EVENTS_RXSTARTED(UARTE0_BASE) = 0;
        rxstarted++;
        UARTE_RXD_PTR(UARTE0_BASE) = (uint32_t)(uintptr_t)rx_buf[rxstarted % 2u];
    }
    if (UARTE_EVENTS_RXTO(UARTE0_BASE)) {
        UARTE_EVENTS_RXTO(UARTE0_BASE) = 0;
        rx_done = 1;
    }
    (void)UARTE_EVENTS_RXTO(UARTE0_BASE);
}

void IRQ10_Handler(void) /* TIMER2: the receive timeout */
{
    TIMER_EVENTS_COMPARE(TIMER2_BASE, 0) = 0;
    (void)TIMER_EVENTS_COMPARE(TIMER2_BASE, 0);
    SHORTS(UARTE0_BASE) = 0; /* else ENDRX would start the receiver again */
    UARTE_TASKS_STOPRX(UARTE0_BASE) = 1;
}

static int receive(void)
{
    printf("nrf_uarte: receiving into 2 x 8-byte EasyDMA buffers\n");
    fflush(stdout);
    UARTE_EVENTS_ENDRX(UARTE0_BASE) = 0;
    UARTE_EVENTS_RXSTARTED(UARTE0_BASE) = 0;
    UARTE_EVENTS_RXTO(UARTE0_BASE) = 0;
    UARTE_RXD_PTR(UARTE0_BASE) = (uint32_t)(uintptr_t)rx_buf[0];
    UARTE_RXD_MAXCNT(UARTE0_BASE) = sizeof rx_buf[0];
    SHORTS(UARTE0_BASE) = UARTE_SHORTS_ENDRX_STARTRX;
    INTENSET(UARTE0_BASE) = UARTE_INT_ENDRX | UARTE_INT_RXSTARTED | UARTE_INT_RXTO;
    nvic_enable(UARTE0_IRQ);

    TIMER_BITMODE(TIMER2_BASE) = TIMER_BITMODE_32;
    TIMER_PRESCALER(TIMER2_BASE) = 4; /* 1 MHz */
    TIMER_CC(TIMER2_BASE, 0) = 10000u; /* 10 ms */
    SHORTS(TIMER2_BASE) = TIMER_SHORTS_COMPARE0_STOP;
    INTENSET(TIMER2_BASE) = TIMER_INT_COMPARE0;
    nvic_enable(TIMER2_IRQ);

    uint32_t t = DWT_CYCCNT;
    UARTE_TASKS_STARTRX(UARTE0_BASE) = 1;
    TIMER_TASKS_START(TIMER2_BASE) = 1;
    while (!rx_done)
        __asm__ volatile("wfi");
    got[got_n] = 0;
    printf("received %lu bytes in %lu buffers (ENDRX), the last full one %lu cycles after STARTRX: %s",
           (unsigned long)got_n, (unsigned long)endrx, (unsigned long)(last_cycles - t), got);
    return 0;
}

void IRQ2_Handler(void) /* UARTE0 */
{
    rx_events();
    if (UARTE_EVENTS_ENDTX(UARTE0_BASE)) {
        UARTE_EVENTS_ENDTX(UARTE0_BASE) = 0;
        (void)UARTE_EVENTS_ENDTX(UARTE0_BASE);
        sent += UARTE_TXD_AMOUNT(UARTE0_BASE);
        chunks++;
        if (sent < total) {
            start_chunk();
        } else {
            done_cycles = DWT_CYCCNT;
            INTENCLR(UARTE0_BASE) = UARTE_INT_ENDTX;
        }
    }
}

int main(void)
{
    cycles_start();
    if (strcmp(sh_args(), "rx") == 0)
        return receive();
    printf("nrf_uarte: polled EasyDMA transfers\n");
    fflush(stdout);
    static const char text73[] = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\n";
    uint32_t t = DWT_CYCCNT;
    fputs(text73, stdout);
    fflush(stdout);
    uint32_t polled = DWT_CYCCNT - t;
    printf("polled: %u bytes in %lu cycles\n", (unsigned)strlen(text73), (unsigned long)polled);
    fflush(stdout);

    int n = 0;
    for (int line = 1; line <= 4; line++)
        n += snprintf(text + n, sizeof text - (size_t)n, "interrupt-driven line %d of 4, from RAM by EasyDMA\n", line);
    total = (uint32_t)n;
    sent = 0;
    UARTE_EVENTS_ENDTX(UARTE0_BASE) = 0;
    INTENSET(UARTE0_BASE) = UARTE_INT_ENDTX;
    nvic_enable(UARTE0_IRQ);
    t = DWT_CYCCNT;
    start_chunk();
    while (sent < total)
        __asm__ volatile("wfi");
    printf("interrupt: %lu bytes in %lu chunks, %lu cycles\n", (unsigned long)total, (unsigned long)chunks,
           (unsigned long)(done_cycles - t));
    return 0;
}
