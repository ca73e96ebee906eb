/*
 * Console on an STM32L4/L4+ USART or LPUART (RM0432 sections 50.8 and 51.7),
 * e.g. LPUART1 of the STM32L4R5ZI (the ST-LINK virtual COM port on the Nucleo-144).
 *
 * Register offsets: CR1 0x00 (UE bit 0, TE bit 3), BRR 0x0C, ISR 0x1C (TXE bit 7,
 * TC bit 6, TEACK bit 21), TDR 0x28.
 * On a real part the bus clock (RCC) and the TX pin's alternate function must be
 * enabled first; simcore models neither, so this driver does not touch RCC/GPIO.
 */
#include <stdint.h>

#include "board.h"
#include "console.h"

#define REG(off) (*(volatile uint32_t *)(BOARD_CONSOLE_BASE + (off)))
#define USART_CR1 REG(0x00)
#define USART_BRR REG(0x0C)
#define USART_ISR REG(0x1C)
#define USART_TDR REG(0x28)

#define CR1_UE (1u << 0)
#define CR1_TE (1u << 3)
#define ISR_TXE (1u << 7)
#define ISR_TC (1u << 6)
#define ISR_TEACK (1u << 21)

#ifndef CONSOLE_BAUD
#define CONSOLE_BAUD 115200u
#endif
#define CONSOLE_PCLK (BOARD_DEFAULT_MHZ * 1000000u)

void console_init(void)
{
#if BOARD_CONSOLE_BASE == 0x40008000u
    /* LPUART1: BRR = 256 * fck / baud (RM0432 51.4.7), must be >= 0x300 */
    USART_BRR = (uint32_t)((256ull * CONSOLE_PCLK + CONSOLE_BAUD / 2u) / CONSOLE_BAUD);
#else
    /* USART, oversampling by 16: BRR = fck / baud */
    USART_BRR = (CONSOLE_PCLK + CONSOLE_BAUD / 2u) / CONSOLE_BAUD;
#endif
    USART_CR1 = CR1_UE | CR1_TE; /* 8N1, transmitter on */
    /* The transmitter is usable once it acknowledges TE. */
    while (!(USART_ISR & ISR_TEACK)) {
    }
}

void console_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!(USART_ISR & ISR_TXE)) {
        }
        USART_TDR = (uint8_t)buf[i];
    }
    while (!(USART_ISR & ISR_TC)) {
    }
}
