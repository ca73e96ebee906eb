/*
 * exti_button: the user button raises an EXTI interrupt on its rising edge; the handler
 * time-stamps the press and toggles an LED (RM0090 12.2.5 and 9.2.3, RM0432 14.3 and 9.2.3).
 *
 *   exti_button [fast]   reset clock (HSI 16 MHz / MSI 4 MHz), or the maximum (168 / 120 MHz)
 *
 * STM32F4 Discovery: button PA0 (EXTI0), LED LD4 on PD12. NUCLEO-L4R5ZI: button PC13
 * (EXTI15_10), LED LD2 on PB7. The button is driven from a recording
 * (--sensor gpioa=examples/data/buttons.csv, or gpioc= on the L4); the app listens for one
 * second of virtual time (SysTick at 1 kHz) and prints the time of every press.
 * The EXTI line is unmasked, and each press shown marked in a RAM word, through the bit-band
 * aliases (PM0214 2.2.5; EXTI is in the bit-banded megabyte on both parts).
 */
#include <stdio.h>

#include "stm32_io.h"

#if defined(STM32F4)
#define BTN_PORT GPIOA_BASE
#define BTN_PIN 0u
#define BTN_IRQ EXTI0_IRQ
#define LED_PORT GPIOD_BASE
#define LED_PIN 12u
#define BTN_NAME "PA0"
#else
#define BTN_PORT GPIOC_BASE
#define BTN_PIN 13u
#define BTN_IRQ EXTI15_10_IRQ
#define LED_PORT GPIOB_BASE
#define LED_PIN 7u
#define BTN_NAME "PC13"
#endif

#define MAX_PRESSES 32u

static volatile uint32_t ms;
static volatile uint32_t presses;
static volatile uint32_t stamp_us[MAX_PRESSES];
static volatile uint32_t seen; /* bit i: press i was printed (set through the SRAM bit-band alias) */
static uint32_t start;
static int fast;

void SysTick_Handler(void) { ms++; }

static void button(void)
{
    if (EXTI_PR & (1u << BTN_PIN)) {
        EXTI_PR = 1u << BTN_PIN; /* write 1 to clear */
        if (presses < MAX_PRESSES)
            stamp_us[presses] = cycles_to_us(DWT_CYCCNT - start, fast);
        presses++;
        GPIO_ODR(LED_PORT) ^= 1u << LED_PIN;
    }
}

#if defined(STM32F4)
void IRQ6_Handler(void) { button(); } /* EXTI0 */
#else
void IRQ40_Handler(void) { button(); } /* EXTI15_10 */
#endif

int main(void)
{
    fast = cmdline_has("fast");
    stm32_clock(fast);
    stm32_uart_init(fast, 115200u);
#if defined(STM32F4)
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIODEN;
    RCC_APB2ENR |= RCC_APB2ENR_SYSCFGEN;
#else
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOBEN | RCC_AHB2ENR_GPIOCEN;
    RCC_APB2ENR |= RCC_APB2ENR_SYSCFGEN;
#endif
    gpio_mode(BTN_PORT, BTN_PIN, GPIO_MODE_IN);
    GPIO_PUPDR(BTN_PORT) = (GPIO_PUPDR(BTN_PORT) & ~(3u << (2u * BTN_PIN))) | (2u << (2u * BTN_PIN)); /* pull-down */
    gpio_mode(LED_PORT, LED_PIN, GPIO_MODE_OUT);
    /* EXTI line BTN_PIN from the button's port, rising edge, unmasked */
    uint32_t port = (BTN_PORT - GPIOA_BASE) / 0x400u;
    SYSCFG_EXTICR(BTN_PIN / 4u) = (SYSCFG_EXTICR(BTN_PIN / 4u) & ~(0xFu << (4u * (BTN_PIN % 4u))))
                                  | (port << (4u * (BTN_PIN % 4u)));
    EXTI_RTSR |= 1u << BTN_PIN;
    EXTI_FTSR &= ~(1u << BTN_PIN);
    EXTI_PR = 1u << BTN_PIN;
    BITBAND_PERIPH(&EXTI_IMR, BTN_PIN) = 1u; /* EXTI_IMR |= 1u << BTN_PIN, as one store */
    nvic_enable(BTN_IRQ);

    printf("exti_button on %s at %lu MHz: waiting 1 s for presses of %s\n", BOARD_NAME,
           (unsigned long)(CORE_HZ(fast) / 1000000u), BTN_NAME);
    start = DWT_CYCCNT;
    SYST_RVR = CORE_HZ(fast) / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    uint32_t shown = 0;
    while (ms < 1000u) {
        wfi();
        while (shown < presses && shown < MAX_PRESSES) {
            uint32_t us = stamp_us[shown];
            printf("press %lu at %lu.%03lu ms, LED %s\n", (unsigned long)(shown + 1u), (unsigned long)(us / 1000u),
                   (unsigned long)(us % 1000u), (shown % 2u) ? "off" : "on");
            BITBAND_SRAM(&seen, shown) = 1u;
            shown++;
        }
    }
    SYST_CSR = 0;
    printf("%lu presses in 1000 ms\n", (unsigned long)presses);
    printf("bit-band: IMR bit %lu (IMR %#lx), presses seen %#lx (bit 0 read back %lu)\n",
           (unsigned long)BITBAND_PERIPH(&EXTI_IMR, BTN_PIN), (unsigned long)EXTI_IMR, (unsigned long)seen,
           (unsigned long)BITBAND_SRAM(&seen, 0));
    return 0;
}
