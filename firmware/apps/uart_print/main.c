/*
 * uart_print: printf over the console UART by polling, by interrupt and by DMA, timed on the clock
 * the app configured, as the reference manuals describe the three ways (RM0090 30.3.2 and 10.3,
 * RM0432 50.5.2, 11.4 and 12.3).
 *
 *   uart_print [fast]   reset clock (HSI 16 MHz / MSI 4 MHz), or the maximum (168 / 120 MHz)
 *
 * Each way sends the same 64-byte line at 115200 baud and prints how long it took, measured with
 * DWT CYCCNT, against the 64 frames of 10 bits the baud rate allows.
 */
#include <stdio.h>
#include <string.h>

#include "stm32_io.h"

#define BAUD 115200u

static const char LINE[] = "The quick brown fox jumps over the lazy dog, 0123456789 ABCDEF.\n";

static volatile const char *tx_ptr;
static volatile uint32_t tx_left;
static volatile int tx_done;

static void wait_tc(void)
{
    while (!(UART_STATUS & UART_TC)) {
    }
}

static void send_poll(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while (!(UART_STATUS & UART_TXE)) {
        }
        UART_TDR = (uint8_t)s[i];
    }
    wait_tc();
}

/* TXE interrupt feeds the bytes; after the last one, the TC interrupt says the line is out. */
void UART_IRQHandler(void)
{
    uint32_t sr = UART_STATUS;
    if ((UART_CR1 & UART_CR1_TXEIE) && (sr & UART_TXE)) {
        UART_TDR = (uint8_t)*tx_ptr++;
        if (--tx_left == 0) {
            UART_CR1 = (UART_CR1 & ~UART_CR1_TXEIE) | UART_CR1_TCIE;
        }
    } else if ((UART_CR1 & UART_CR1_TCIE) && (sr & UART_TC)) {
        UART_CR1 &= ~UART_CR1_TCIE;
        tx_done = 1;
    }
}

static void send_irq(const char *s, uint32_t n)
{
    tx_ptr = s;
    tx_left = n;
    tx_done = 0;
    nvic_enable(UART_IRQn);
    UART_CR1 |= UART_CR1_TXEIE;
    while (!tx_done)
        wfi();
}

#if defined(STM32F4)
/* USART2_TX: DMA1 stream 6, channel 4 (RM0090 Table 42); stream 6 is NVIC line 17 */
#define TX_STREAM 6u
#define DMA_IRQn 17
void IRQ17_Handler(void)
{
    if (DMA_HISR(DMA1_BASE) & (1u << 21)) { /* TCIF6: the last byte is in the USART */
        DMA_HIFCR(DMA1_BASE) = 0x3Du << 16;
        UART_CR3 &= ~UART_CR3_DMAT;
        UART_CR1 |= UART_CR1_TCIE; /* the line is out when TC follows */
    }
}

static void send_dma(const char *s, uint32_t n)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_DMA1EN;
    tx_done = 0;
    DMA_SCR(DMA1_BASE, TX_STREAM) = 0;
    DMA_HIFCR(DMA1_BASE) = 0x3Du << 16;
    DMA_SPAR(DMA1_BASE, TX_STREAM) = (uint32_t)&UART_TDR;
    DMA_SM0AR(DMA1_BASE, TX_STREAM) = (uint32_t)s;
    DMA_SNDTR(DMA1_BASE, TX_STREAM) = n;
    DMA_SCR(DMA1_BASE, TX_STREAM) = DMA_SCR_CHSEL(4) | DMA_SCR_MINC | DMA_SCR_DIR_M2P | DMA_SCR_TCIE | DMA_SCR_EN;
    nvic_enable(DMA_IRQn);
    nvic_enable(UART_IRQn);
    UART_CLEAR_TC();
    UART_CR3 |= UART_CR3_DMAT;
    while (!tx_done)
        wfi();
}
#else
/* LPUART1_TX: DMAMUX1 request 35 routed to DMA1 channel 1 (DMAMUX channel 0); NVIC line 11 */
#define DMA_IRQn 11
void IRQ11_Handler(void)
{
    if (DMA_ISR(DMA1_BASE) & (1u << 1)) { /* TCIF1 */
        DMA_IFCR(DMA1_BASE) = 0xFu;
        UART_CR3 &= ~UART_CR3_DMAT;
        UART_CR1 |= UART_CR1_TCIE;
    }
}

static void send_dma(const char *s, uint32_t n)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_DMA1EN | RCC_AHB1ENR_DMAMUX1EN;
    tx_done = 0;
    DMA_CCR(DMA1_BASE, 1) = 0;
    DMAMUX_CCR(0) = DMAMUX_REQ_LPUART1_TX;
    DMA_CPAR(DMA1_BASE, 1) = (uint32_t)&UART_TDR;
    DMA_CMAR(DMA1_BASE, 1) = (uint32_t)s;
    DMA_CNDTR(DMA1_BASE, 1) = n;
    DMA_CCR(DMA1_BASE, 1) = DMA_CCR_MINC | DMA_CCR_DIR_M2P | DMA_CCR_TCIE | DMA_CCR_EN;
    nvic_enable(DMA_IRQn);
    nvic_enable(UART_IRQn);
    UART_CLEAR_TC();
    UART_CR3 |= UART_CR3_DMAT;
    while (!tx_done)
        wfi();
}
#endif

/* The console UART's NVIC line: USART2 (38) on the F4, LPUART1 (70) on the L4 */
#if UART_IRQn == 38
void IRQ38_Handler(void) { UART_IRQHandler(); }
#else
void IRQ70_Handler(void) { UART_IRQHandler(); }
#endif

static void report(const char *how, uint32_t cycles, int fast)
{
    uint32_t us = cycles_to_us(cycles, fast);
    uint32_t expect = (uint32_t)((64ull * 10u * 1000000u + BAUD / 2u) / BAUD);
    printf("%s: 64 bytes in %lu cycles = %lu us (64 frames at %lu baud: %lu us)\n", how, (unsigned long)cycles,
           (unsigned long)us, (unsigned long)BAUD, (unsigned long)expect);
}

int main(void)
{
    int fast = cmdline_has("fast");
    stm32_clock(fast);
    stm32_uart_init(fast, BAUD);
    printf("uart_print on %s at %lu MHz, console UART at %lu baud\n", BOARD_NAME,
           (unsigned long)(CORE_HZ(fast) / 1000000u), (unsigned long)BAUD);
    wait_tc();

    uint32_t n = (uint32_t)strlen(LINE);
    uint32_t t = DWT_CYCCNT;
    send_poll(LINE, n);
    report("polling", DWT_CYCCNT - t, fast);
    wait_tc();

    t = DWT_CYCCNT;
    send_irq(LINE, n);
    report("interrupt", DWT_CYCCNT - t, fast);
    wait_tc();

    t = DWT_CYCCNT;
    send_dma(LINE, n);
    report("DMA", DWT_CYCCNT - t, fast);
    wait_tc();
    return 0;
}
