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
 */
#include <stdio.h>
#include <string.h>

#include "../nrf_clock/nrf52.h"

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

void IRQ2_Handler(void) /* UARTE0 */
{
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
