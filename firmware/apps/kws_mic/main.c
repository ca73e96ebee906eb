/*
 * kws_mic: keyword spotting on simcore's microphone, the whole pipeline timed by the firmware.
 *
 *   mic (16 kHz PCM16) --circular DMA, two 250 ms halves--> front end (per 20 ms hop: 30 ms
 *   window, fixed-point 512-point FFT, 10 log-mel bands, int8) --> 49x10 feature map (the
 *   last 0.98 s) --> DS-CNN (models/trained/kws.tflite, trained on these very features from
 *   espeak-ng speech; tm runtime, optimized kernels) --> 12 scores --> keyword detector
 *
 * The front end is integer-only and documented in frontend.py, which also generates its tables
 * and the stream/detector constants (build/kws_mic/kws_frontend.h) and models it bit for bit.
 * The DMA ring holds two halves of KWS_HALF (4000) samples; each half, once its HT/TC flag is
 * up, is pushed through the front end (a frame every 320 samples; the 160 samples a window
 * shares with the next are carried over), the half is handed back (flag cleared), and once 49
 * frames exist the model classifies the newest 49: one inference every 250 ms of audio. The
 * firmware must finish a half's work within the 250 ms the DMA needs to refill the other half:
 * if it is too slow (low clock) the mic reports an overrun, printed with the audio that was lost.
 *
 * Detector (common/detector.h, the same rule as models/tinyml/twins.py): the mean of (score +
 * 128) of each class over the last KWS_DETECT_AVG inferences; its top class is a candidate when
 * it is one of the ten keywords and the mean reaches KWS_DETECT_THRESHOLD; a candidate is
 * detected unless it is the keyword detected last and still held since, or fewer than
 * KWS_DETECT_REFRACTORY inferences passed since the last detection. A detection prints the
 * audio time (end of the window) and the virtual time at which the firmware reported it.
 *
 * Per inference it prints the audio window, the top class and the 12 int8 scores, an FNV-1a
 * hash of the 490 feature bytes, and the DWT CYCCNT cycles of the front end (for that half's
 * frames) and of the inference, in ms at SystemCoreClock. Command line (semihosting) "dump"
 * also prints the features in hex. ITM port 3 / port 4 bracket each timed inference (value =
 * inference index), port 5 / port 6 each half's front-end work (value = half index).
 *
 *   simcore run firmware/bin/cortex-m4/kws_mic.elf --board cortex-m4 \
 *       --sensor mic=models/trained/kws_demo.wav
 *
 * On the B-L475E-IOT01A the audio comes from its MP34DT01 through the DFSDM and DMA1 channel 4
 * (common/dfsdm_mic.h: Sinc4 by 125 at 2 MHz, RDATAR read by circular DMA in halves of 2000 samples,
 * the half/complete interrupt scales each into the same two-half ring) at 80 MHz;
 * "halves=N" stops after N halves (the microphone streams silence after the recording).
 *
 * On the STM32F4 Discovery the MP45DT02 is read through I2S2 and DMA1 stream 3 at 168 MHz, and the DMA
 * interrupt filters each 125 ms of PDM bits to PCM with audio_events' Sinc4 CIC (common/i2s_pdm_mic.h):
 * the model hears the microphone's bit stream filtered, not the recording itself; "halves=N" as below.
 *
 * On the Arduino Nano 33 BLE Sense (Rev1 and Rev2) the MP34DT05 goes through the nRF52840's PDM, which
 * decimates in hardware (16 kHz PCM by EasyDMA straight into the ring halves) at 64 MHz; "halves=N" as
 * for the DFSDM (the PDM streams until stopped).
 *
 * Exit status 0; 1 if audio was lost to overruns; 2 if the model could not be set up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "kws_frontend.h"
#include "semihosting.h"
#if defined(DFSDM1_BASE)
#define DFSDM_DMA_HALF 2000u /* 125 ms per DMA half: two per stream half */
#include "dfsdm_mic.h" /* the B-L475E-IOT01A's MP34DT01 through the DFSDM and DMA1 */
#undef SYSTEM_CORE_CLOCK
#define SYSTEM_CORE_CLOCK 80000000u
#elif defined(SPI2_BASE)
#define MIC_I2S 1               /* the STM32F4 Discovery's MP45DT02 on I2S2 */
#define I2S_PDM_DMA_WORDS 8000u /* 125 ms of PDM bits per DMA half: two per stream half */
#include "i2s_pdm_mic.h" /* the STM32F4 Discovery's MP45DT02 on I2S2, the CIC in the DMA interrupt */
#undef SYSTEM_CORE_CLOCK
#define SYSTEM_CORE_CLOCK 168000000u
#elif defined(PDM_BASE)
#include "nrf52_pdm.h" /* the Nano 33 BLE Sense's MP34DT05 on the nRF52840 PDM */
#define PDM ((NRF52_PDM_Type *)PDM_BASE)
#undef SYSTEM_CORE_CLOCK
#define SYSTEM_CORE_CLOCK 64000000u
#else
#include "simcore_mic.h"
#endif
#include "detector.h"
#include "fixfft.h"
#include "tinyml_app.h"
#include "tm.h"
#include "vclock.h"

#ifndef SYSTEM_CORE_CLOCK
#define SYSTEM_CORE_CLOCK (BOARD_DEFAULT_MHZ * 1000000u)
#endif
#define HALF KWS_HALF /* samples per DMA half: 250 ms */
#define HALF_MS (HALF * 1000u / FE_RATE)
#define FRING 64u  /* feature rows kept (power of two >= FE_NFRAMES) */

uint32_t SystemCoreClock = SYSTEM_CORE_CLOCK;

#if !defined(DFSDM1_BASE) && !defined(PDM_BASE) && !defined(MIC_I2S)
#define MIC ((SIMCORE_MIC_Type *)MIC_BASE)
#endif
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define ITM_STIM(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))


static tm_interp_t interp;
static uint8_t arena[24 * 1024] __attribute__((aligned(16)));
static int16_t ring[2 * HALF];
static int16_t stage[FE_WIN];
static uint32_t stage_fill;
static int32_t fre[FE_NFFT], fim[FE_NFFT];
static int8_t fring[FRING][FE_NBANDS];
static uint32_t nframes; /* frames computed so far */
static int use_dwt, dump;

static detector_t det;

static uint32_t now(void)
{
    if (use_dwt)
        return DWT_CYCCNT;
    uint64_t t = 0;
    sh_elapsed(&t);
    return (uint32_t)t;
}

static void print_ms(uint32_t cycles)
{
    uint32_t us = (uint32_t)(((uint64_t)cycles * 1000000u + SystemCoreClock / 2u) / SystemCoreClock);
    printf("%lu.%03lu ms", (unsigned long)(us / 1000u), (unsigned long)(us % 1000u));
}

/* One 30 ms window -> FE_NBANDS int8 features (frontend.py has the arithmetic). */
static void frame_features(const int16_t *x, int8_t *out)
{
    for (uint32_t i = 0; i < FE_NFFT; i++) {
        uint32_t j = fe_bitrev[i];
        fre[i] = j < FE_WIN ? ((int32_t)x[j] * fe_hann[j] + (1 << 14)) >> 15 : 0;
        fim[i] = 0;
    }
    fixfft_q15(fre, fim, FE_NFFT, fe_tw_re, fe_tw_im);
    for (uint32_t band = 0; band < FE_NBANDS; band++) {
        const uint16_t *w = &fe_band_w[fe_band_off[band]];
        const uint32_t first = fe_band_first[band];
        uint64_t e = 0;
        for (uint32_t j = 0; j < fe_band_len[band]; j++) {
            /* |r|, |m| <= 2^15 + a few (fixfft.h): the power fits in 32 bits, w * p in one UMLAL */
            const int32_t r = fre[first + j], m = fim[first + j];
            const uint32_t p = (uint32_t)(r * r) + (uint32_t)(m * m);
            e += (uint64_t)w[j] * p;
        }
        out[band] = fixlog_int8((e >> 15) + 1u, FE_LOG_MULT, FE_LOG_OFFSET);
    }
}

/* Pushes one DMA half through the front end: a frame every time the window is full. */
static void push_samples(const int16_t *x, uint32_t n)
{
    while (n) {
        uint32_t take = FE_WIN - stage_fill;
        if (take > n)
            take = n;
        memcpy(&stage[stage_fill], x, take * sizeof *x);
        stage_fill += take;
        x += take;
        n -= take;
        if (stage_fill == FE_WIN) {
            frame_features(stage, fring[nframes % FRING]);
            nframes++;
            memmove(stage, &stage[FE_HOP], (FE_WIN - FE_HOP) * sizeof *stage);
            stage_fill = FE_WIN - FE_HOP;
        }
    }
}

static void reset_stream(void)
{
    stage_fill = 0;
    nframes = 0;
    detector_reset(&det);
}

/* --- the microphone: a ring of two halves of HALF samples --------------------------------------- */
#if defined(DFSDM1_BASE) || defined(PDM_BASE) || defined(MIC_I2S)
static uint32_t max_halves;
#endif

#if defined(DFSDM1_BASE) || defined(MIC_I2S)
/* A ring the DMA interrupt fills a DMA half at a time: the IoT node's DFSDM (common/dfsdm_mic.h) or the
 * Discovery's I2S2 with the CIC in the interrupt (common/i2s_pdm_mic.h: 168 MHz, CK 1.024 MHz, DMA halves
 * of 8000 words = 125 ms). */
#if defined(DFSDM1_BASE)
#define RING_MIC(fn) dfsdm_mic_##fn
#define RING_SAMPLES dfsdm_samples
#define RING_OVERRUNS dfsdm_overruns
#else
#define RING_MIC(fn) i2s_pdm_mic_##fn
#define RING_SAMPLES i2s_pdm_samples
#define RING_OVERRUNS i2s_pdm_overruns
#endif
static void mic_start(void)
{
    max_halves = app_cmdline_value("halves=", 0xFFFFFFFFu);
    vclock_start(); /* virtual time 0 = the microphone's clock starts */
    RING_MIC(start)(ring, HALF);
}

/* Wait for stream half h: 0 at the end, else 1 with *resync = the newest complete half when the
 * interrupt has gone on past h's partner (too slow: the halves from h on were overwritten), else h. */
static int mic_wait(uint32_t h, uint32_t *resync)
{
    if (h >= max_halves)
        return 0;
    RING_MIC(wait)(h);
    const uint32_t newest = RING_SAMPLES / HALF - 1u;
    *resync = newest > h ? newest : h;
    return 1;
}

static void mic_release(uint32_t h) { RING_MIC(release)(h); }
static void mic_stop(void) { RING_MIC(stop)(); }
static uint32_t mic_overruns(void) { return RING_OVERRUNS; }
#elif defined(PDM_BASE)
/* nRF52840 PDM with EasyDMA (PS v1.7 section 6.18), as audio_events drives it: PDM_CLK 1.28 MHz
 * (PDMCLKCTRL 0x0A000000) and ratio 80 give 16 kHz, decimated in hardware; mono, SAMPLE.MAXCNT = HALF
 * into the two ring halves. SAMPLE.PTR is double-buffered: after EVENTS_STARTED of one half the next
 * half's address is written; at each EVENTS_END the half just filled goes to the front end, and its
 * address is written again for the transfer after the one now running (250 ms later). The PDM has no
 * overrun flag: a late hand-back is counted by simcore (the pdm peripheral's report). */
static void mic_start(void)
{
    max_halves = app_cmdline_value("halves=", 0xFFFFFFFFu);
    PDM->PSEL_CLK = 26;           /* the Nano's PDM_CLK P0.26, PDM_DIN P0.25 (board file) */
    PDM->PSEL_DIN = 25;
    PDM->PDMCLKCTRL = 0x0A000000; /* PDM_CLK = 32 MHz / 25 = 1.28 MHz */
    PDM->RATIO = 1;               /* ratio 80: 1.28 MHz / 80 = 16 kHz */
    PDM->MODE = NRF52_PDM_MODE_OPERATION_Msk; /* mono */
    PDM->SAMPLE_PTR = (uint32_t)(uintptr_t)&ring[0];
    PDM->SAMPLE_MAXCNT = HALF;
    PDM->INTEN = NRF52_PDM_INTEN_END_Msk;
    __asm volatile("cpsid i" ::: "memory"); /* wfi wakes on the PDM interrupt; events are polled */
    NVIC_ISER[PDM_IRQn / 32] = 1u << (PDM_IRQn % 32);
    PDM->ENABLE = 1;
    vclock_start(); /* virtual time 0 = the microphone's clock starts */
    PDM->TASKS_START = 1;
    while (!PDM->EVENTS_STARTED) {
    }
    PDM->EVENTS_STARTED = 0;
    PDM->SAMPLE_PTR = (uint32_t)(uintptr_t)&ring[HALF]; /* the second half follows the first */
}

static int mic_wait(uint32_t h, uint32_t *resync)
{
    if (h >= max_halves)
        return 0;
    while (!PDM->EVENTS_END) {
        __asm volatile("wfi");
        NVIC_ICPR[PDM_IRQn / 32] = 1u << (PDM_IRQn % 32);
    }
    PDM->EVENTS_END = 0;
    PDM->EVENTS_STARTED = 0;
    NVIC_ICPR[PDM_IRQn / 32] = 1u << (PDM_IRQn % 32);
    PDM->SAMPLE_PTR = (uint32_t)(uintptr_t)&ring[(h & 1u) * HALF]; /* after the half now filling */
    *resync = h;
    return 1;
}

static void mic_release(uint32_t h) { (void)h; }

static void mic_stop(void)
{
    PDM->TASKS_STOP = 1;
    PDM->ENABLE = 0;
}

static uint32_t mic_overruns(void) { return 0; /* no overrun flag in the PDM: simcore records them */ }
#else
static void mic_start(void)
{
    MIC->RATE = FE_RATE;
    MIC->FORMAT = 0;
    MIC->DMA_ADDR = (uint32_t)(uintptr_t)ring;
    MIC->DMA_LEN = 2 * HALF;
    MIC->INTEN = SIMCORE_MIC_INTEN_HT_Msk | SIMCORE_MIC_INTEN_TC_Msk | SIMCORE_MIC_INTEN_END_Msk;
    __asm volatile("cpsid i" ::: "memory"); /* wfi wakes on the mic interrupt; flags are polled */
    NVIC_ISER[MIC_IRQn / 32] = 1u << (MIC_IRQn % 32);
    vclock_start(); /* virtual time 0 = the first sample (the recording starts at enable) */
    MIC->CTRL = SIMCORE_MIC_CTRL_EN_Msk | SIMCORE_MIC_CTRL_DMA_Msk;
}

/* Wait for stream half h: 0 at the end of the recording, else 1 with *resync = the newest complete
 * half after an overrun (the halves h..*resync-1 were lost), else h. */
static int mic_wait(uint32_t h, uint32_t *resync)
{
    uint32_t s = MIC->STATUS;
    const uint32_t want = (h & 1u) ? SIMCORE_MIC_STATUS_TC_Msk : SIMCORE_MIC_STATUS_HT_Msk;
    while (!(s & (want | SIMCORE_MIC_STATUS_END_Msk))) {
        __asm volatile("wfi");
        NVIC_ICPR[MIC_IRQn / 32] = 1u << (MIC_IRQn % 32);
        s = MIC->STATUS;
    }
    if (!(s & want))
        return 0; /* end of the recording, no complete half left */
    *resync = h;
    if (s & SIMCORE_MIC_STATUS_OVR_Msk) {
        /* Too slow: the DMA is refilling a half we had not read yet. Half k of the stream
         * always lands in ring half k & 1, so restart at the newest complete half and drop
         * the stale flag of the other ring half (the one being refilled now). */
        const uint32_t newest = MIC->SAMPLE_COUNT / HALF - 1u;
        const uint32_t refilling = ((newest + 1u) & 1u) ? SIMCORE_MIC_STATUS_TC_Msk : SIMCORE_MIC_STATUS_HT_Msk;
        MIC->STATUS = SIMCORE_MIC_STATUS_OVR_Msk | refilling;
        *resync = newest;
    }
    return 1;
}

static void mic_release(uint32_t h)
{
    MIC->STATUS = (h & 1u) ? SIMCORE_MIC_STATUS_TC_Msk : SIMCORE_MIC_STATUS_HT_Msk; /* hand the half back */
}

static void mic_stop(void) { MIC->CTRL = 0; }
static uint32_t mic_overruns(void) { return MIC->OVERRUN_COUNT; }
#endif

int main(void)
{
#if defined(MIC_I2S)
    i2s_pdm_clocks_168mhz();
#endif
    dump = app_cmdline_has("dump");
    detector_init(&det, KWS_DETECT_AVG, KWS_DETECT_THRESHOLD, KWS_DETECT_REFRACTORY, KWS_NCLASSES, KWS_NKEYWORDS);
    if (!app_model_init(&interp, arena, sizeof arena, FE_NFRAMES * FE_NBANDS, KWS_NCLASSES, "kws_mic"))
        return 2;
    const uint32_t model_len = app_model_bytes();
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    DEMCR |= 1u << 24; /* TRCENA */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u; /* CYCCNTENA */
    __asm volatile("nop\n nop\n nop\n nop" ::: "memory");
    use_dwt = DWT_CYCCNT != 0 || DWT_CYCCNT != 0;

    printf("kws_mic on %s: mic %u Hz by DMA (2 x %u ms), 30 ms windows / 20 ms hop, 512-point fixed-point FFT, "
           "%u log-mel bands -> %ux%u int8 -> kws.tflite (%lu bytes) -> detector\n",
           BOARD_NAME, FE_RATE, HALF * 1000u / FE_RATE, FE_NBANDS, FE_NFRAMES, FE_NBANDS, (unsigned long)model_len);
    printf("SystemCoreClock %lu Hz; timer %s; arena %lu bytes used\n", (unsigned long)SystemCoreClock,
           use_dwt ? "DWT CYCCNT" : "semihosting SYS_ELAPSED", (unsigned long)tm_arena_used(&interp));
    const int core_hz = sh_tickfreq();
    if (core_hz > 0 && (uint32_t)core_hz != SystemCoreClock)
        printf("note: the core runs at %d Hz here (SYS_TICKFREQ), not at SystemCoreClock: rescale the ms figures\n",
               core_hz);

    mic_start();

    uint32_t h = 0, n_inf = 0, lost = 0, base_sample = 0, processed = 0;
    uint64_t fe_total = 0, inf_total = 0;
    for (;;) {
        uint32_t resync = h;
        if (!mic_wait(h, &resync))
            break;
        if (resync != h) {
            printf("overrun: halves %lu..%lu lost (%lu ms .. %lu ms of audio)\n", (unsigned long)h,
                   (unsigned long)(resync - 1u), (unsigned long)(h * HALF_MS), (unsigned long)(resync * HALF_MS));
            lost += resync - h;
            h = resync;
            reset_stream();
            base_sample = h * HALF;
        }
        ITM_STIM(5) = h;
        const uint32_t frames_before = nframes;
        uint32_t t0 = now();
        push_samples(&ring[(h & 1u) * HALF], HALF);
        uint32_t fe = now() - t0;
        const uint32_t fe_frames = nframes - frames_before;
        ITM_STIM(6) = h;
        mic_release(h);
        fe_total += fe;
        processed++;
        h++;
        if (nframes < FE_NFRAMES)
            continue;

        int8_t *x = (int8_t *)in->data; /* the newest 49 frames, oldest first */
        app_copy_newest(x, &fring[0][0], FRING, FE_NBANDS, FE_NFRAMES, nframes);
        uint32_t hash = 2166136261u;
        for (uint32_t i = 0; i < FE_NFRAMES * FE_NBANDS; i++)
            hash = (hash ^ (uint8_t)x[i]) * 16777619u;
        if (dump) { /* before tm_invoke: the arena reuses the input tensor's bytes */
            printf("  features hex ");
            for (uint32_t i = 0; i < FE_NFRAMES * FE_NBANDS; i++)
                printf("%02x", (uint8_t)x[i]);
            printf("\n");
        }
        ITM_STIM(3) = n_inf;
        t0 = now();
        const int ok = app_invoke(&interp, "kws_mic");
        uint32_t ic = now() - t0;
        ITM_STIM(4) = n_inf;
        if (!ok)
            return 2;
        inf_total += ic;
        const int8_t *sc = (const int8_t *)out->data;
        const uint32_t top = app_top(sc, KWS_NCLASSES);
        const uint32_t first = base_sample + (nframes - FE_NFRAMES) * FE_HOP;
        const uint32_t last = base_sample + (nframes - 1u) * FE_HOP + FE_WIN;
        printf("inference %lu: audio %lu..%lu ms (frames %lu..%lu): top class %lu \"%s\" score %d\n",
               (unsigned long)n_inf, (unsigned long)(first / 16u), (unsigned long)(last / 16u),
               (unsigned long)(nframes - FE_NFRAMES), (unsigned long)(nframes - 1u), (unsigned long)top,
               kws_labels[top], sc[top]);
        printf("  scores:");
        for (uint32_t i = 0; i < KWS_NCLASSES; i++)
            printf(" %d", sc[i]);
        printf("\n  features fnv1a 0x%08lx\n", (unsigned long)hash);
        printf("  front end: %lu cycles for %lu frames (", (unsigned long)fe, (unsigned long)fe_frames);
        print_ms(fe);
        printf("); inference: %lu cycles (", (unsigned long)ic);
        print_ms(ic);
        printf(") at %lu MHz\n", (unsigned long)(SystemCoreClock / 1000000u));
        uint32_t mean = 0;
        const int k = detector_step(&det, n_inf, sc, &mean);
        if (k >= 0)
            printf("detected \"%s\" at %lu ms of audio (inference %lu, mean score %lu), reported at %lu ms\n",
                   kws_labels[k], (unsigned long)(last / 16u), (unsigned long)n_inf, (unsigned long)mean,
                   (unsigned long)vclock_ms());
        n_inf++;
    }
    mic_stop();
    printf("done: %lu halves (%lu ms of audio), %lu frames, %lu inferences, %lu detections, %lu halves lost, "
           "%lu overruns\n", (unsigned long)h, (unsigned long)(h * HALF_MS), (unsigned long)nframes,
           (unsigned long)n_inf, (unsigned long)det.count, (unsigned long)lost, (unsigned long)mic_overruns());
    if (n_inf) {
        const uint64_t busy = fe_total / processed + inf_total / n_inf;
        printf("per %lu ms of audio: front end %lu cycles, inference %lu cycles = ", (unsigned long)HALF_MS,
               (unsigned long)(fe_total / processed), (unsigned long)(inf_total / n_inf));
        print_ms((uint32_t)busy);
        printf(" busy at SystemCoreClock (%lu%% of real time)\n",
               (unsigned long)((busy * 100u) / ((uint64_t)SystemCoreClock * HALF_MS / 1000u)));
    }
    return lost ? 1 : 0;
}
