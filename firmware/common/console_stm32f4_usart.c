/*
 * Console on an STM32F4 USART (RM0090 section 30.6), e.g. USART2 of the STM32F407VG.
 *
 * Register offsets: SR 0x00 (TXE bit 7, TC bit 6), DR 0x04, BRR 0x08,
 * CR1 0x0C (UE bit 13, M bit 12, TE bit 3).
 * On a real part the USART's bus clock (RCC APB1ENR) and the TX pin's alternate function
 * must be enabled first; simcore models neither, so this driver does not touch RCC/GPIO.
 */
#include <stdint.h>

#include "board.h"
#include "console.h"

#define REG(off) (*(volatile uint32_t *)(BOARD_CONSOLE_BASE + (off)))
#define USART_SR REG(0x00)
#define USART_DR REG(0x04)
#define USART_BRR REG(0x08)
#define USART_CR1 REG(0x0C)

#define SR_TXE (1u << 7)
#define SR_TC (1u << 6)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)

#ifndef CONSOLE_BAUD
#define CONSOLE_BAUD 115200u
#endif
/* APB1 runs at HCLK/4 on the F407 at 168 MHz (42 MHz max). BRR = fck / baud
 * (oversampling by 16: mantissa in bits 15:4, fraction in bits 3:0). */
#define CONSOLE_PCLK (BOARD_DEFAULT_MHZ * 1000000u / 4u)

void console_init(void)
{
    USART_BRR = (CONSOLE_PCLK + CONSOLE_BAUD / 2u) / CONSOLE_BAUD;
    USART_CR1 = CR1_UE | CR1_TE; /* 8N1, transmitter on */
}

void console_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!(USART_SR & SR_TXE)) {
        }
        USART_DR = (uint8_t)buf[i];
    }
    while (!(USART_SR & SR_TC)) {
    }
}
