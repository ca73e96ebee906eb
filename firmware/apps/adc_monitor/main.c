/*
 * adc_monitor: a supply/sensor voltage monitor on simcore's ADC that lights an LED.
 *
 * The ADC converts at 1 kHz, triggered by its own timer: the firmware reads the core clock
 * (semihosting SYS_TICKFREQ) and sets TIM_PSC for a 1 MHz timer and TIM_ARR = 999, so the rate
 * stays 1 kHz at any --mhz. Conversions (12 bits against 3.3 V: code = v / 3.3 * 4095) stream
 * by circular DMA into two halves of 50 samples (50 ms). For every sample k a state machine
 * with 0.1 V hysteresis (124 codes) tracks the window 0.8 V .. 2.5 V:
 *   normal -> HIGH when code > 3102 (2.5 V); HIGH -> normal when code < 2978 (2.4 V);
 *   normal -> LOW  when code < 992 (0.8 V);  LOW -> normal  when code > 1116 (0.9 V).
 * The LED (GPIO pin 0) is lit while the input is HIGH. Every transition is printed with the
 * sample's time (k ms) and the virtual time at which the firmware acted (DWT CYCCNT).
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "semihosting.h"
#include "vclock.h"
#include "simcore_adc.h"
#include "simcore_gpio.h"

#define HALF 50u
#define HIGH_ON 3102u
#define HIGH_OFF 2978u
#define LOW_ON 992u
#define LOW_OFF 1116u
#define LED_PIN 0u

#define ADC ((SIMCORE_ADC_Type *)ADC_BASE)
#define GPIO ((SIMCORE_GPIO_Type *)GPIO_BASE)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)

static uint16_t ring[2 * HALF];
enum state { NORMAL, HIGH, LOW };
static const char *const names[] = {"normal", "HIGH", "LOW"};


static enum state step(enum state s, uint32_t code)
{
    switch (s) {
    case HIGH:
        return code < HIGH_OFF ? NORMAL : HIGH;
    case LOW:
        return code > LOW_OFF ? NORMAL : LOW;
    default:
        return code > HIGH_ON ? HIGH : code < LOW_ON ? LOW : NORMAL;
    }
}

int main(void)
{
    vclock_start();
    int hz = sh_tickfreq();
    if (hz < 1000000) {
        printf("adc_monitor: core clock unknown (SYS_TICKFREQ = %d)\n", hz);
        return 2;
    }
    printf("adc_monitor on %s: 1 kHz, 12 bits, window 0.8 V .. 2.5 V, LED while above\n", BOARD_NAME);
    GPIO->CLR = 1u << LED_PIN;
    ADC->RES = 12;
    ADC->VREF_MV = 3300;
    ADC->TIM_PSC = (uint32_t)hz / 1000000u - 1u; /* 1 MHz timer */
    ADC->TIM_ARR = 999u;                          /* 1 kHz conversions */
    ADC->DMA_ADDR = (uint32_t)(uintptr_t)ring;
    ADC->DMA_LEN = 2 * HALF;
    ADC->INTEN = SIMCORE_ADC_INTEN_HT_Msk | SIMCORE_ADC_INTEN_TC_Msk | SIMCORE_ADC_INTEN_END_Msk;
    __asm volatile("cpsid i" ::: "memory");
    NVIC_ISER[ADC_IRQn / 32] = 1u << (ADC_IRQn % 32);
    ADC->CTRL = SIMCORE_ADC_CTRL_EN_Msk | SIMCORE_ADC_CTRL_DMA_Msk;

    const uint32_t flags = SIMCORE_ADC_STATUS_HT_Msk | SIMCORE_ADC_STATUS_TC_Msk;
    enum state s = NORMAL;
    uint32_t k = 0, half = 0, transitions = 0;
    for (;;) {
        uint32_t st = ADC->STATUS;
        while (!(st & (flags | SIMCORE_ADC_STATUS_END_Msk))) {
            __asm volatile("wfi");
            NVIC_ICPR[ADC_IRQn / 32] = 1u << (ADC_IRQn % 32);
            st = ADC->STATUS;
        }
        const uint32_t want = half ? SIMCORE_ADC_STATUS_TC_Msk : SIMCORE_ADC_STATUS_HT_Msk;
        if (!(st & want))
            break; /* END and no complete half left */
        if (st & SIMCORE_ADC_STATUS_OVR_Msk) {
            printf("overrun near sample %lu\n", (unsigned long)k);
            ADC->STATUS = SIMCORE_ADC_STATUS_OVR_Msk;
        }
        const uint16_t *x = &ring[half * HALF];
        for (uint32_t i = 0; i < HALF; i++, k++) {
            enum state n = step(s, x[i]);
            if (n == s)
                continue;
            if (n == HIGH)
                GPIO->SET = 1u << LED_PIN;
            else if (s == HIGH)
                GPIO->CLR = 1u << LED_PIN;
            transitions++;
            printf("%s -> %s at %lu ms (sample %lu, code %u), acted at %lu ms\n", names[s], names[n],
                   (unsigned long)k, (unsigned long)k, (unsigned)x[i], (unsigned long)vclock_ms());
            s = n;
        }
        ADC->STATUS = want;
        half ^= 1u;
    }
    ADC->CTRL = 0;
    printf("done: %lu samples, %lu transitions, %lu overruns\n", (unsigned long)k, (unsigned long)transitions,
           (unsigned long)ADC->OVERRUN_COUNT);
    return 0;
}
