/*
 * Console on an nRF52 UARTE (nRF52840 Product Specification v1.7, section 6.34),
 * e.g. UARTE0 of the nRF52840.
 *
 * Register offsets: TASKS_STARTTX 0x008, TASKS_STOPTX 0x00C, EVENTS_ENDTX 0x120,
 * EVENTS_TXSTOPPED 0x158, ENABLE 0x500 (8 = UARTE), PSEL.TXD 0x50C, BAUDRATE 0x524,
 * TXD.PTR 0x544, TXD.MAXCNT 0x548, CONFIG 0x56C.
 * EasyDMA can only read from Data RAM, so text (often in flash) is copied to a RAM
 * buffer first and sent in chunks.
 */
#include <stdint.h>

#include "board.h"
#include "console.h"

#define REG(off) (*(volatile uint32_t *)(BOARD_CONSOLE_BASE + (off)))
#define UARTE_TASKS_STARTTX REG(0x008)
#define UARTE_TASKS_STOPTX REG(0x00C)
#define UARTE_EVENTS_ENDTX REG(0x120)
#define UARTE_EVENTS_TXSTOPPED REG(0x158)
#define UARTE_ENABLE REG(0x500)
#define UARTE_PSEL_TXD REG(0x50C)
#define UARTE_BAUDRATE REG(0x524)
#define UARTE_TXD_PTR REG(0x544)
#define UARTE_TXD_MAXCNT REG(0x548)
#define UARTE_CONFIG REG(0x56C)

#define ENABLE_UARTE 8u
#define BAUDRATE_115200 0x01D7E000u
#ifndef CONSOLE_TX_PIN
#define CONSOLE_TX_PIN 6u /* P0.06: TXD of the nRF52840-DK's interface MCU */
#endif
#ifndef CONSOLE_CHUNK
#define CONSOLE_CHUNK 64u
#endif

static uint8_t tx_buf[CONSOLE_CHUNK] __attribute__((aligned(4)));

void console_init(void)
{
    UARTE_PSEL_TXD = CONSOLE_TX_PIN; /* bit 31 clear: connected */
    UARTE_BAUDRATE = BAUDRATE_115200;
    UARTE_CONFIG = 0;                /* 8N1, no flow control */
    UARTE_ENABLE = ENABLE_UARTE;
}

void console_write(const char *buf, size_t len)
{
    while (len > 0) {
        size_t n = len < CONSOLE_CHUNK ? len : CONSOLE_CHUNK;
        for (size_t i = 0; i < n; i++)
            tx_buf[i] = (uint8_t)buf[i];
        UARTE_EVENTS_ENDTX = 0;
        UARTE_TXD_PTR = (uint32_t)(uintptr_t)tx_buf;
        UARTE_TXD_MAXCNT = n;
        __asm volatile("" ::: "memory"); /* buffer contents before STARTTX */
        UARTE_TASKS_STARTTX = 1;
        while (UARTE_EVENTS_ENDTX == 0) {
        }
        UARTE_EVENTS_ENDTX = 0;
        buf += n;
        len -= n;
    }
    /* Stop the transmitter between writes (saves power on the part). */
    UARTE_EVENTS_TXSTOPPED = 0;
    UARTE_TASKS_STOPTX = 1;
    while (UARTE_EVENTS_TXSTOPPED == 0) {
    }
    UARTE_EVENTS_TXSTOPPED = 0;
}
