/*
 * machine_monitor: vibration anomaly detection on simcore's ADC, as a motor-health sensor does it.
 *
 *   accelerometer on the motor -> ADC (12 bits, 4 kHz from its timer, circular DMA, two halves
 *   of 512 samples = 128 ms) -> per half: (code - 2048) Hann-windowed, fixed-point 512-point FFT,
 *   power summed in 32 bands (8 of 7.8 Hz up to 133 Hz, then geometric up to 2 kHz), log2 ->
 *   int8 -> the newest 4 windows (512 ms) -> autoencoder (models/trained/machine.tflite) ->
 *   anomaly score = sum of squared differences between the input and its reconstruction
 *
 * The reconstruction is brought to the input's scale with the integer multiplier MM_OUT_MULT
 * (((y - zero point) * M + 2^15) >> 16), so the score is an integer; MM_THRESHOLD was chosen on
 * healthy machines' data when the model was trained (models/trained/metrics.json). MM_RUN
 * windows in a row above the threshold report an anomaly (timed at the first of them), MM_RUN
 * at or below it report the machine normal again. Constants: models/tinyml/apps.py; the FFT
 * and log: common/fixfft.h; the Python twin: models/tinyml/twins.py (machine_pipeline).
 * Every window's score is printed; ITM port 3 / port 4 bracket each inference. With "dump" on
 * the command line (semihosting) each window also prints the model's input and output bytes
 * ("  io <hex> <hex>").
 *
 *   simcore run firmware/bin/cortex-m4/machine_monitor.elf --board cortex-m4 \
 *       --sensor adc=models/trained/machine_demo.npy:rate_hz=4000
 *
 * Exit status 0; 1 if samples were lost to overruns; 2 if the model could not be set up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_config.h"
#include "board.h"
#include "fixfft.h"
#include "semihosting.h"
#include "simcore_adc.h"
#include "tinyml_app.h"
#include "tm.h"
#include "vclock.h"

#define ADC ((SIMCORE_ADC_Type *)ADC_BASE)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define HALF MM_HALF
#define WINDOW_MS (HALF * 1000u / MM_RATE)

static tm_interp_t interp;
static uint8_t arena[8 * 1024] __attribute__((aligned(16)));
static uint16_t ring[2 * HALF];
static int32_t fre[HALF], fim[HALF];
static int8_t fring[MM_CONTEXT][MM_NBANDS]; /* window k's bands in row k % MM_CONTEXT */

/* One 512-sample window -> MM_NBANDS int8 log band energies. */
static void window_features(const uint16_t *x, int8_t *out)
{
    for (uint32_t i = 0; i < HALF; i++) {
        const uint32_t j = mm_bitrev[i];
        fre[i] = (((int32_t)x[j] - MM_BIAS) * mm_hann[j] + (1 << 14)) >> 15;
        fim[i] = 0;
    }
    fixfft_q15(fre, fim, HALF, mm_tw_re, mm_tw_im);
    for (uint32_t b = 0; b < MM_NBANDS; b++) {
        uint64_t e = 0;
        for (uint32_t k = mm_band_edge[b]; k < mm_band_edge[b + 1]; k++)
            e += (uint32_t)(fre[k] * fre[k]) + (uint32_t)(fim[k] * fim[k]); /* < 2^32: fixfft.h's bound */
        out[b] = fixlog_int8(e + 1u, MM_LOG_MULT, MM_LOG_OFFSET);
    }
}

static void hex(const int8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        printf("%02x", (uint8_t)p[i]);
}

int main(void)
{
    const int dump = app_cmdline_has("dump");
    if (!app_model_init(&interp, arena, sizeof arena, MM_CONTEXT * MM_NBANDS, MM_CONTEXT * MM_NBANDS,
                        "machine_monitor"))
        return 2;
    const uint32_t model_len = app_model_bytes();
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    const int hz = sh_tickfreq();
    if (hz < 1000000) {
        printf("machine_monitor: core clock unknown (SYS_TICKFREQ = %d)\n", hz);
        return 2;
    }
    printf("machine_monitor on %s: ADC %u Hz by DMA (2 x %u ms), %u log bands x %u windows -> machine.tflite "
           "(%lu bytes, arena %lu bytes), threshold %u\n", BOARD_NAME, MM_RATE, WINDOW_MS, MM_NBANDS, MM_CONTEXT,
           (unsigned long)model_len, (unsigned long)tm_arena_used(&interp), (unsigned)MM_THRESHOLD);
    ADC->RES = 12;
    ADC->VREF_MV = 3300;
    ADC->TIM_PSC = (uint32_t)hz / 1000000u - 1u; /* 1 MHz timer */
    ADC->TIM_ARR = 1000000u / MM_RATE - 1u;
    ADC->DMA_ADDR = (uint32_t)(uintptr_t)ring;
    ADC->DMA_LEN = 2 * HALF;
    ADC->INTEN = SIMCORE_ADC_INTEN_HT_Msk | SIMCORE_ADC_INTEN_TC_Msk | SIMCORE_ADC_INTEN_END_Msk;
    __asm volatile("cpsid i" ::: "memory"); /* wfi wakes on the ADC interrupt; flags are polled */
    NVIC_ISER[ADC_IRQn / 32] = 1u << (ADC_IRQn % 32);
    vclock_start(); /* virtual time 0 = the start of the recording (it starts at enable) */
    ADC->CTRL = SIMCORE_ADC_CTRL_EN_Msk | SIMCORE_ADC_CTRL_DMA_Msk;

    uint32_t nwin = 0, half = 0, run = 0, anomalies = 0, overruns = 0;
    int state = 0; /* 1 while an anomaly is reported */
    uint64_t inf_cycles = 0;
    for (;;) {
        uint32_t s = ADC->STATUS;
        const uint32_t want = half ? SIMCORE_ADC_STATUS_TC_Msk : SIMCORE_ADC_STATUS_HT_Msk;
        while (!(s & (want | SIMCORE_ADC_STATUS_END_Msk))) {
            __asm volatile("wfi");
            NVIC_ICPR[ADC_IRQn / 32] = 1u << (ADC_IRQn % 32);
            s = ADC->STATUS;
        }
        if (!(s & want))
            break; /* END and no complete half left */
        if (s & SIMCORE_ADC_STATUS_OVR_Msk) {
            printf("overrun near window %lu\n", (unsigned long)nwin);
            ADC->STATUS = SIMCORE_ADC_STATUS_OVR_Msk;
            overruns++;
        }
        window_features(&ring[half * HALF], fring[nwin % MM_CONTEXT]);
        ADC->STATUS = want; /* hand the half back to the DMA */
        half ^= 1u;
        nwin++;
        if (nwin < MM_CONTEXT)
            continue;
        int8_t xin[MM_CONTEXT * MM_NBANDS]; /* kept: the arena may reuse the input tensor */
        app_copy_newest(xin, &fring[0][0], MM_CONTEXT, MM_NBANDS, MM_CONTEXT, nwin);
        memcpy(in->data, xin, sizeof xin);
        const uint32_t i = nwin - MM_CONTEXT;
        uint32_t cycles = 0;
        if (!app_timed_invoke(&interp, "machine_monitor", i, &cycles))
            return 2;
        inf_cycles += cycles;
        const int8_t *y = (const int8_t *)out->data;
        uint32_t score = 0;
        for (uint32_t k = 0; k < MM_CONTEXT * MM_NBANDS; k++) {
            const int64_t yq = ((int64_t)(y[k] - MM_OUT_ZERO_POINT) * MM_OUT_MULT + (1 << (MM_SCALE_SHIFT - 1)))
                               >> MM_SCALE_SHIFT;
            const int64_t d = yq - xin[k];
            score += (uint32_t)(d * d);
        }
        if (dump) {
            printf("  io ");
            hex(xin, sizeof xin);
            printf(" ");
            hex(y, sizeof xin);
            printf("\n");
        }
        printf("window %lu (%lu..%lu ms): score %lu, %lu cycles\n", (unsigned long)i,
               (unsigned long)((nwin - MM_CONTEXT) * WINDOW_MS), (unsigned long)(nwin * WINDOW_MS),
               (unsigned long)score, (unsigned long)cycles);
        const int above = score > MM_THRESHOLD;
        run = above != state ? run + 1u : 0u;
        if (run >= MM_RUN) {
            state = above;
            const uint32_t first = i + 1u - MM_RUN;
            printf("%s at %lu ms (window %lu), reported at %lu ms\n", above ? "ANOMALY" : "normal again",
                   (unsigned long)((MM_CONTEXT + first) * WINDOW_MS), (unsigned long)first,
                   (unsigned long)vclock_ms());
            anomalies += (uint32_t)above;
            run = 0;
        }
    }
    ADC->CTRL = 0;
    printf("done: %lu windows, %lu scores, %lu anomalies, %lu overruns\n", (unsigned long)nwin,
           (unsigned long)(nwin >= MM_CONTEXT ? nwin - MM_CONTEXT + 1u : 0u), (unsigned long)anomalies,
           (unsigned long)ADC->OVERRUN_COUNT);
    if (nwin >= MM_CONTEXT)
        printf("mean inference: %lu cycles\n", (unsigned long)(inf_cycles / (nwin - MM_CONTEXT + 1u)));
    return overruns ? 1 : 0;
}
