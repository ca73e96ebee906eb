/*
 * Console on an Arm CMSDK APB UART (Cortex-M System Design Kit TRM, DDI 0479, 4.3),
 * as on the MPS2 FPGA boards (and QEMU's mps2-an386, UART0 at 0x40004000).
 *
 * Register offsets: DATA 0x000, STATE 0x004 (bit 0 TX buffer full),
 * CTRL 0x008 (bit 0 TX enable), BAUDDIV 0x010 (>= 16).
 */
#include <stdint.h>

#include "board.h"
#include "console.h"

#define REG(off) (*(volatile uint32_t *)(BOARD_CONSOLE_BASE + (off)))
#define UART_DATA REG(0x000)
#define UART_STATE REG(0x004)
#define UART_CTRL REG(0x008)
#define UART_BAUDDIV REG(0x010)

#define STATE_TX_FULL (1u << 0)
#define CTRL_TX_EN (1u << 0)

#ifndef CONSOLE_BAUD
#define CONSOLE_BAUD 115200u
#endif

void console_init(void)
{
    UART_BAUDDIV = BOARD_DEFAULT_MHZ * 1000000u / CONSOLE_BAUD;
    UART_CTRL = CTRL_TX_EN;
}

void console_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & STATE_TX_FULL) {
        }
        UART_DATA = (uint8_t)buf[i];
    }
}
