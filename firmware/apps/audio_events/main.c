/*
 * audio_events: the front end of a TinyML audio model on simcore's microphone.
 *
 * The microphone streams 16 kHz PCM16 by circular DMA into a double buffer of two 30 ms
 * windows (480 samples each); the HT/TC flags say which half is complete. For every window
 * the firmware computes what an audio front end computes:
 *   - the log energy, 10*log10(sum(x^2) / (480 * 32768^2)) in dBFS (printed in 0.01 dB),
 *   - a Hann-windowed 512-point FFT (float, radix 2) and its strongest bin (1..255), in Hz.
 * A window is loud when sum(x^2) > LOUD_SUM, i.e. its energy is above -25 dBFS (integer
 * compare, so a test can reproduce the decision exactly). A loud event is a run of loud
 * windows: printed with start/end in ms from the sample index, its loudest window's energy
 * and peak frequency, and the virtual time at which the firmware detected its end
 * (DWT CYCCNT).
 *
 * Overruns: the firmware owns a half from its flag until it clears it; if it is too slow the
 * DMA refills a half it still owns (STATUS.OVR). The firmware then resynchronises from
 * SAMPLE_COUNT and prints which windows were lost. Waiting is wfi with PRIMASK set: the mic
 * interrupt wakes the core and the firmware polls STATUS (works with or without an NVIC).
 *
 * On the nRF52840 the same front end runs on the PDM with EasyDMA (PS v1.7 section 6.18):
 * PDM_CLK 1.28 MHz (PDMCLKCTRL 0x0A000000) with ratio 80 gives exactly 16 kHz, mono, two
 * 480-sample buffers; at each EVENTS_END the buffer just filled is handed back by writing
 * SAMPLE.PTR for the one after next (a late write is an overrun that simcore records).
 *
 * On the B-L475E-IOT01A the MP34DT01 goes through the DFSDM (common/dfsdm_mic.h: Sinc4, FOSR 125
 * at 2 MHz) and DMA1 channel 4 (circular, two halves of one 30 ms window each; the half/complete
 * interrupt scales each half into the ring, as ST's BSP_AUDIO_IN does).
 *
 * On the STM32F4 Discovery the MP45DT02 is read through I2S2 (RM0090 28.4) with DMA and filtered
 * here (common/i2s_pdm_mic.h, shared with kws_mic): the core runs at 168 MHz, the bit clock CK is
 * 1.024 MHz; DMA1 stream 3 fills a circular buffer of two halves of 1920 words (30 ms each); at each
 * half the firmware's Sinc4 CIC decimating by 64 turns its 30720 bits into the window's 480 samples.
 *
 * Optional command line (semihosting): "work=N" repeats the FFT N times per window (a heavier
 * front end), for clock sweeps; "windows=N" stops after N windows (the PDM has no end of data).
 * Exit status 0, or 1 if windows were lost.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "semihosting.h"
#include "vclock.h"
#if defined(PDM_BASE)
#include "nrf52_pdm.h"
#define PDM ((NRF52_PDM_Type *)PDM_BASE)
#elif defined(DFSDM1_BASE)
#define DFSDM_DMA_HALF 480u /* one window per DMA half */
#include "dfsdm_mic.h"
#elif defined(SPI2_BASE)
#define MIC_I2S 1 /* the STM32F4 Discovery's MP45DT02 on I2S2 */
#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
#include "i2s_pdm_mic.h"
#else
#include "simcore_mic.h"
#define MIC ((SIMCORE_MIC_Type *)MIC_BASE)
#endif

#define RATE_HZ 16000u
#define WIN 480u       /* 30 ms */
#define WIN_MS 30u
#define NFFT 512u
#define LOG2_NFFT 9u
/* floor(480 * 2^30 * 10^(-25/10)): a window is loud above -25 dBFS */
#define LOUD_SUM 1629825495ull

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)

#if !defined(MIC_I2S)
static int16_t ring[2 * WIN]; /* two halves: windows w and w+1 */
#endif
static float hann[WIN];
static float tw_re[NFFT / 2], tw_im[NFFT / 2];
static uint16_t bitrev[NFFT];
static float re[NFFT], im[NFFT];

static void setup_tables(void)
{
    const float pi = 3.14159265358979f;
    for (uint32_t n = 0; n < WIN; n++)
        hann[n] = 0.5f - 0.5f * cosf(2.0f * pi * (float)n / (float)(WIN - 1));
    for (uint32_t k = 0; k < NFFT / 2; k++) {
        tw_re[k] = cosf(2.0f * pi * (float)k / (float)NFFT);
        tw_im[k] = -sinf(2.0f * pi * (float)k / (float)NFFT);
    }
    for (uint32_t i = 0; i < NFFT; i++) {
        uint32_t r = 0;
        for (uint32_t b = 0; b < LOG2_NFFT; b++)
            r |= ((i >> b) & 1u) << (LOG2_NFFT - 1 - b);
        bitrev[i] = (uint16_t)r;
    }
}

/* Strongest bin (1..NFFT/2-1) of the Hann-windowed, zero-padded window; its power in *power. */
__attribute__((noinline)) static uint32_t fft_peak(const int16_t *x, float *power)
{
    memset(im, 0, sizeof im);
    for (uint32_t i = 0; i < NFFT; i++) {
        uint32_t j = bitrev[i];
        re[i] = j < WIN ? (float)x[j] * (1.0f / 32768.0f) * hann[j] : 0.0f;
    }
    for (uint32_t len = 2; len <= NFFT; len <<= 1) {
        uint32_t half = len >> 1, step = NFFT / len;
        for (uint32_t i = 0; i < NFFT; i += len) {
            for (uint32_t k = 0; k < half; k++) {
                float wr = tw_re[k * step], wi = tw_im[k * step];
                uint32_t a = i + k, b = a + half;
                float tr = re[b] * wr - im[b] * wi;
                float ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
    }
    uint32_t best = 1;
    float best_p = -1.0f;
    for (uint32_t k = 1; k < NFFT / 2; k++) {
        float p = re[k] * re[k] + im[k] * im[k];
        if (p > best_p) {
            best_p = p;
            best = k;
        }
    }
    *power = best_p;
    return best;
}

static uint64_t energy(const int16_t *x)
{
    uint64_t sum = 0;
    for (uint32_t n = 0; n < WIN; n++)
        sum += (uint64_t)((int32_t)x[n] * (int32_t)x[n]);
    return sum;
}

/* 100 * 10*log10(sum / (WIN * 32768^2)), rounded; -12000 for silence */
static int32_t centi_db(uint64_t sum)
{
    if (sum == 0)
        return -12000;
    float db = 10.0f * log10f((float)sum / ((float)WIN * 1073741824.0f));
    return (int32_t)lroundf(db * 100.0f);
}

static const char *fmt_cdb(int32_t cdb, char *buf)
{
    uint32_t mag = (uint32_t)(cdb < 0 ? -cdb : cdb);
    sprintf(buf, "%s%lu.%02lu", cdb < 0 ? "-" : "", (unsigned long)(mag / 100u), (unsigned long)(mag % 100u));
    return buf;
}


static uint32_t parse_arg(const char *name, uint32_t dflt)
{
    static char cmd[128];
    static int have;
    if (!have) {
        struct { char *buf; int len; } arg = {cmd, sizeof cmd - 1};
        have = 1;
        if (sh_call(0x15 /* SYS_GET_CMDLINE */, &arg) != 0)
            arg.len = 0;
        cmd[arg.len > 0 && arg.len < (int)sizeof cmd ? arg.len : 0] = 0;
    }
    const char *w = strstr(cmd, name);
    long n = w ? strtol(w + strlen(name), NULL, 10) : (long)dflt;
    return n < 1 ? dflt : (uint32_t)n;
}

struct event {
    uint32_t n, start_w;
    uint64_t peak_sum;
    uint32_t peak_w, peak_bin;
    int active;
};

static void close_event(struct event *ev, uint32_t end_w)
{
    char b[16];
    ev->n++;
    printf("event %lu: %lu ms .. %lu ms, peak %s dBFS at %lu Hz (window %lu), detected at %lu ms\n",
           (unsigned long)ev->n, (unsigned long)(ev->start_w * WIN_MS), (unsigned long)(end_w * WIN_MS),
           fmt_cdb(centi_db(ev->peak_sum), b), (unsigned long)(ev->peak_bin * RATE_HZ / NFFT),
           (unsigned long)ev->peak_w, (unsigned long)vclock_ms());
    ev->active = 0;
}

static struct event ev;
static uint32_t lost;

#if defined(PDM_BASE)
/* nRF52 PDM: EasyDMA into two buffers, handed over through SAMPLE.PTR at each EVENTS_END. */
static void mic_start(void)
{
    PDM->PSEL_CLK = 0;            /* pins: not modelled, kept as on a board */
    PDM->PSEL_DIN = 1;
    PDM->PDMCLKCTRL = 0x0A000000; /* PDM_CLK = 32 MHz / 25 = 1.28 MHz */
    PDM->RATIO = 1;               /* ratio 80: 1.28 MHz / 80 = 16 kHz */
    PDM->MODE = NRF52_PDM_MODE_OPERATION_Msk; /* mono */
    PDM->SAMPLE_PTR = (uint32_t)(uintptr_t)&ring[0];
    PDM->SAMPLE_MAXCNT = WIN;
    PDM->INTEN = NRF52_PDM_INTEN_END_Msk;
    __asm volatile("cpsid i" ::: "memory");
    NVIC_ISER[PDM_IRQn / 32] = 1u << (PDM_IRQn % 32);
    PDM->ENABLE = 1;
    PDM->TASKS_START = 1;
    while (!PDM->EVENTS_STARTED) {
    }
    PDM->EVENTS_STARTED = 0;
    PDM->SAMPLE_PTR = (uint32_t)(uintptr_t)&ring[WIN]; /* the second buffer follows the first */
}

/* The buffer of window w once it is complete; NULL never (the PDM streams until stopped). */
static const int16_t *mic_window(uint32_t w)
{
    while (!PDM->EVENTS_END) {
        __asm volatile("wfi");
        NVIC_ICPR[PDM_IRQn / 32] = 1u << (PDM_IRQn % 32);
    }
    PDM->EVENTS_END = 0;
    PDM->EVENTS_STARTED = 0;
    const int16_t *x = &ring[(w & 1u) * WIN];
    PDM->SAMPLE_PTR = (uint32_t)(uintptr_t)x; /* reused after the buffer now filling: 30 ms to finish */
    return x;
}

static void mic_release(uint32_t w) { (void)w; }

static void mic_stop(void)
{
    PDM->TASKS_STOP = 1;
    PDM->ENABLE = 0;
}

static uint32_t mic_overruns(void) { return 0; /* the PDM has no overrun flag: simcore records them */ }
#elif defined(DFSDM1_BASE)
/* STM32L4 DFSDM1 + DMA1 channel 4 (common/dfsdm_mic.h): the DMA interrupt fills the ring a window at a time. */
static void mic_start(void) { dfsdm_mic_start(ring, WIN); }

static const int16_t *mic_window(uint32_t w)
{
    dfsdm_mic_wait(w);
    return &ring[(w & 1u) * WIN];
}

static void mic_release(uint32_t w) { dfsdm_mic_release(w); }

static void mic_stop(void) { dfsdm_mic_stop(); }

static uint32_t mic_overruns(void) { return dfsdm_overruns + ((DFSDM_REG(0x108u) >> 3) & 1u); /* FLT0ISR.ROVRF */ }
#elif defined(SPI2_BASE)
/* STM32F4 Discovery: I2S2 + DMA1 stream 3, the PDM-to-PCM filter in software (common/i2s_pdm_mic.h). */
#define PDM_WORDS (WIN * I2S_PDM_DECIMATION / 16u) /* 16-bit words of PDM bits per window */

static uint16_t pdm_ring[2 * PDM_WORDS];
static int16_t pcm[WIN];

static void mic_start(void)
{
    __asm volatile("cpsid i" ::: "memory"); /* wake on the DMA interrupt, poll its flags */
    i2s_pdm_dma_start(pdm_ring, 2u * PDM_WORDS);
}

/* Window w's 480 samples, filtered from its half of the PDM ring once the DMA has filled it. */
static const int16_t *mic_window(uint32_t w)
{
    const uint32_t flag = (w & 1u) ? I2S_PDM_TCIF3 : I2S_PDM_HTIF3;
    while (!(REG(DMA1_BASE, 0x00) & flag)) {
        __asm volatile("wfi");
        NVIC_ICPR[I2S_PDM_DMA_IRQn / 32] = 1u << (I2S_PDM_DMA_IRQn % 32);
    }
    REG(DMA1_BASE, 0x08) = flag; /* LIFCR */
    i2s_pdm_to_pcm(&pdm_ring[(w & 1u) * PDM_WORDS], PDM_WORDS, pcm);
    return pcm;
}

static void mic_release(uint32_t w) { (void)w; }

static void mic_stop(void) { i2s_pdm_dma_stop(); }

static uint32_t mic_overruns(void) { return (REG(SPI2_BASE, 0x08) >> 6) & 1u; /* SR.OVR */ }
#else
/* simcore's microphone: circular DMA into two halves with HT/TC flags. */
static void mic_start(void)
{
    MIC->RATE = RATE_HZ;
    MIC->FORMAT = 0; /* 16-bit */
    MIC->DMA_ADDR = (uint32_t)(uintptr_t)ring;
    MIC->DMA_LEN = 2 * WIN;
    MIC->INTEN = SIMCORE_MIC_INTEN_HT_Msk | SIMCORE_MIC_INTEN_TC_Msk | SIMCORE_MIC_INTEN_END_Msk;
    __asm volatile("cpsid i" ::: "memory"); /* wake on the interrupt, poll the flags */
    NVIC_ISER[MIC_IRQn / 32] = 1u << (MIC_IRQn % 32);
    MIC->CTRL = SIMCORE_MIC_CTRL_EN_Msk | SIMCORE_MIC_CTRL_DMA_Msk;
}

static uint32_t half_flag(uint32_t w)
{
    return (w & 1u) ? SIMCORE_MIC_STATUS_TC_Msk : SIMCORE_MIC_STATUS_HT_Msk;
}

/* The half holding window *w once complete, or NULL at the end of the recording. After an
 * overrun, *w jumps to the newest window whose half holds it (SAMPLE_COUNT says which). */
static const int16_t *mic_window_resync(uint32_t *w)
{
    const uint32_t flags = SIMCORE_MIC_STATUS_HT_Msk | SIMCORE_MIC_STATUS_TC_Msk;
    uint32_t st = MIC->STATUS;
    while (!(st & (flags | SIMCORE_MIC_STATUS_END_Msk))) {
        __asm volatile("wfi");
        NVIC_ICPR[MIC_IRQn / 32] = 1u << (MIC_IRQn % 32);
        st = MIC->STATUS;
    }
    if (!(st & half_flag(*w)))
        return NULL; /* END with no complete window left */
    if (st & SIMCORE_MIC_STATUS_OVR_Msk) {
        uint32_t newest = MIC->SAMPLE_COUNT / WIN - 1u; /* halves written so far, minus one */
        uint32_t resync = ((newest & 1u) == (*w & 1u)) ? newest : newest - 1u;
        printf("overrun: windows %lu..%lu lost (%lu ms .. %lu ms), noticed at %lu ms\n", (unsigned long)*w,
               (unsigned long)(resync - 1u), (unsigned long)(*w * WIN_MS), (unsigned long)(resync * WIN_MS),
               (unsigned long)vclock_ms());
        lost += resync - *w;
        if (ev.active)
            close_event(&ev, *w);
        *w = resync;
        MIC->STATUS = SIMCORE_MIC_STATUS_OVR_Msk;
    }
    return &ring[(*w & 1u) * WIN];
}

static void mic_release(uint32_t w) { MIC->STATUS = half_flag(w); /* hand the half back to the DMA */ }

static void mic_stop(void) { MIC->CTRL = 0; }

static uint32_t mic_overruns(void) { return MIC->OVERRUN_COUNT; }
#endif

int main(void)
{
#if defined(MIC_I2S)
    i2s_pdm_clocks_168mhz();
#endif
    vclock_start();
    const uint32_t work = parse_arg("work=", 1);
    const uint32_t max_windows = parse_arg("windows=", 0xFFFFFFFFu);
    setup_tables();
    printf("audio_events on %s: %u Hz, %u ms windows, loud above -25 dBFS, work %lu\n", BOARD_NAME,
           RATE_HZ, WIN_MS, (unsigned long)work);
    mic_start();
    uint32_t w = 0;
    while (w < max_windows) {
#if defined(PDM_BASE) || defined(DFSDM1_BASE) || defined(MIC_I2S)
        const int16_t *x = mic_window(w);
#else
        const int16_t *x = mic_window_resync(&w);
        if (x == NULL)
            break;
#endif
        uint64_t sum = energy(x);
        float p = 0.0f;
        uint32_t bin = 0;
        for (uint32_t r = 0; r < work; r++)
            bin = fft_peak(x, &p);
        mic_release(w);
        char b[16];
        int loud = sum > LOUD_SUM;
        printf("w %lu %s %lu%s\n", (unsigned long)w, fmt_cdb(centi_db(sum), b), (unsigned long)(bin * RATE_HZ / NFFT),
               loud ? " loud" : "");
        if (loud && !ev.active) {
            ev.active = 1;
            ev.start_w = w;
            ev.peak_sum = 0;
        }
        if (loud && sum > ev.peak_sum) {
            ev.peak_sum = sum;
            ev.peak_w = w;
            ev.peak_bin = bin;
        }
        if (!loud && ev.active)
            close_event(&ev, w);
        w++;
    }
    if (ev.active)
        close_event(&ev, w);
    mic_stop();
    printf("done: %lu windows, %lu events, %lu windows lost, %lu overruns\n", (unsigned long)w, (unsigned long)ev.n,
           (unsigned long)lost, (unsigned long)mic_overruns());
    return lost ? 1 : 0;
}
