/*
 * nrf_gpiote: button presses toggle an LED (PS v1.7 sections 6.9 GPIO, 6.10 GPIOTE, 6.30 TIMER).
 *
 * P0.11 is the button (input with pull-up, pressed = low, as on the nRF52840 DK); GPIOTE
 * channel 0 in event mode on P0.11, HiToLo: EVENTS_IN[0] and its interrupt at each press. The
 * handler toggles the LED on P0.13 (output) and stamps the press with TIMER0 (1 MHz, started
 * at boot) through TASKS_CAPTURE[1]. The CPU sleeps (WFI) between presses. The input comes
 * from a recording: `simcore run nrf_gpiote.elf --board nrf52840 --sensor p0=buttons.csv`
 * (columns time, P0.11). After PRESSES presses the app prints their times and exits.
 */
#include <stdio.h>

#include "../nrf_clock/nrf52.h"

#define BUTTON 11u
#define LED 13u
#define PRESSES 3u

static volatile uint32_t presses;
static volatile uint32_t at_us[PRESSES];

void IRQ6_Handler(void) /* GPIOTE */
{
    if (GPIOTE_EVENTS_IN(0)) {
        GPIOTE_EVENTS_IN(0) = 0;
        (void)GPIOTE_EVENTS_IN(0);
        TIMER_TASKS_CAPTURE(TIMER0_BASE, 1) = 1;
        P0_OUT ^= 1u << LED;
        if (presses < PRESSES)
            at_us[presses] = TIMER_CC(TIMER0_BASE, 1);
        presses++;
    }
}

int main(void)
{
    TIMER_BITMODE(TIMER0_BASE) = TIMER_BITMODE_32;
    TIMER_PRESCALER(TIMER0_BASE) = 4; /* 1 MHz */
    TIMER_TASKS_START(TIMER0_BASE) = 1;

    P0_PIN_CNF(LED) = PIN_CNF_OUTPUT;
    P0_OUTSET = 1u << LED; /* LED off (active low) */
    P0_PIN_CNF(BUTTON) = PIN_CNF_INPUT_PULLUP;
    GPIOTE_CONFIG(0) = GPIOTE_MODE_EVENT | GPIOTE_PSEL(BUTTON) | GPIOTE_POLARITY_HITOLO;
    GPIOTE_EVENTS_IN(0) = 0;
    INTENSET(GPIOTE_BASE) = 1u << 0; /* IN[0] */
    nvic_enable(GPIOTE_IRQ);
    printf("nrf_gpiote: waiting for %u presses on P0.%u (P0.IN %08lx)\n", PRESSES, BUTTON, (unsigned long)P0_IN);

    while (presses < PRESSES)
        __asm__ volatile("wfi");
    for (unsigned i = 0; i < PRESSES; i++)
        printf("press %u at %lu us\n", i + 1, (unsigned long)at_us[i]);
    printf("LED P0.%u is %s\n", LED, (P0_OUT >> LED & 1u) ? "off" : "on");
    return 0;
}
