/*
 * kws_mic: the whole keyword-spotting pipeline on simcore's microphone, timed by the firmware.
 *
 *   mic (16 kHz PCM16) --circular DMA, two 500 ms halves--> front end (per 20 ms hop: 30 ms
 *   window, fixed-point 512-point FFT, 10 log-mel bands, int8) --> 49x10 feature map (the
 *   last 0.98 s) --> DS-CNN (models/kws_dscnn.tflite, tm runtime, optimized kernels) --> 12 scores
 *
 * The front end is integer-only and documented in frontend.py, which also generates its tables
 * (build/kws_mic/kws_frontend.h) and models it bit for bit for the tests. The DMA ring holds two
 * halves of 8000 samples; each half, once its HT/TC flag is up, is pushed through the front end
 * (25 hops, the 160 samples a window shares with the next are carried over), the half is handed
 * back (flag cleared), and once 49 frames exist the model classifies the newest 49: one
 * inference every 500 ms of audio, on windows that overlap by half. The firmware must finish
 * a half's work within the 500 ms the DMA needs to refill the other half: if it is too slow
 * (low clock) the mic reports an overrun, printed with the windows that were lost.
 *
 * Per inference it prints the audio window, the top class and the 12 int8 scores, an FNV-1a
 * hash of the 490 feature bytes, and the DWT CYCCNT cycles of the front end (for that half's
 * frames) and of the inference, in ms at SystemCoreClock. Command line (semihosting) "dump"
 * also prints the features in hex. ITM port 3 / port 4 bracket each timed inference (value =
 * inference index), port 5 / port 6 each half's front-end work (value = half index).
 * The weights are synthetic: the classes mean nothing, the pipeline and its cost do.
 *
 *   simcore run firmware/bin/cortex-m4/kws_mic.elf --board cortex-m4 \
 *       --sensor mic=examples/data/audio_events_16k.wav
 *
 * Exit status 0; 1 if audio was lost to overruns; 2 if the model could not be set up.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "kws_frontend.h"
#include "semihosting.h"
#include "simcore_mic.h"
#include "tm.h"

#ifndef SYSTEM_CORE_CLOCK
#define SYSTEM_CORE_CLOCK (BOARD_DEFAULT_MHZ * 1000000u)
#endif
#define HALF 8000u /* samples per DMA half: 500 ms */
#define FRAMES_PER_HALF (HALF / FE_HOP)
#define FRING 64u  /* feature rows kept (power of two >= FE_NFRAMES) */

uint32_t SystemCoreClock = SYSTEM_CORE_CLOCK;

#define MIC ((SIMCORE_MIC_Type *)MIC_BASE)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define ITM_STIM(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))

extern const uint8_t kws_model[], kws_model_end[];
static const char *const labels[12] = {"down", "go",   "left", "no",      "off",    "on",
                                       "right", "stop", "up",   "yes",     "silence", "unknown"};

static tm_interp_t interp;
static uint8_t arena[24 * 1024] __attribute__((aligned(16)));
static int16_t ring[2 * HALF];
static int16_t stage[FE_WIN];
static uint32_t stage_fill;
static int32_t fre[FE_NFFT], fim[FE_NFFT];
static int8_t fring[FRING][FE_NBANDS];
static uint32_t nframes; /* frames computed so far */
static int use_dwt, dump;

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
    for (uint32_t size = 2; size <= FE_NFFT; size <<= 1) {
        const uint32_t half = size >> 1, step = FE_NFFT / size;
        for (uint32_t start = 0; start < FE_NFFT; start += size) {
            for (uint32_t k = 0; k < half; k++) {
                const int32_t wr = fe_tw_re[k * step], wi = fe_tw_im[k * step];
                const uint32_t a = start + k, b = a + half;
                const int32_t tr = (int32_t)(((int64_t)fre[b] * wr - (int64_t)fim[b] * wi + (1 << 14)) >> 15);
                const int32_t ti = (int32_t)(((int64_t)fre[b] * wi + (int64_t)fim[b] * wr + (1 << 14)) >> 15);
                const int32_t ar = fre[a], ai = fim[a];
                fre[a] = (ar + tr) >> 1;
                fim[a] = (ai + ti) >> 1;
                fre[b] = (ar - tr) >> 1;
                fim[b] = (ai - ti) >> 1;
            }
        }
    }
    for (uint32_t band = 0; band < FE_NBANDS; band++) {
        const uint16_t *w = &fe_band_w[fe_band_off[band]];
        const uint32_t first = fe_band_first[band];
        uint64_t e = 0;
        for (uint32_t j = 0; j < fe_band_len[band]; j++) {
            const int32_t r = fre[first + j], m = fim[first + j];
            const uint64_t p = (uint64_t)((int64_t)r * r) + (uint64_t)((int64_t)m * m);
            e += (uint64_t)w[j] * p;
        }
        const uint64_t v = (e >> 15) + 1u;
        const uint32_t nbits = 63u - (uint32_t)__builtin_clzll(v);
        const uint32_t frac = (uint32_t)((v << (63u - nbits)) >> 55) & 0xFFu;
        int32_t q = (int32_t)((FE_LOG_MULT * (256u * nbits + frac)) >> 8) + FE_LOG_OFFSET;
        out[band] = (int8_t)(q > 127 ? 127 : q < -128 ? -128 : q);
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
}

static int parse_dump(void)
{
    static char cmd[64];
    struct { char *buf; int len; } arg = {cmd, sizeof cmd - 1};
    if (sh_call(0x15 /* SYS_GET_CMDLINE */, &arg) != 0)
        return 0;
    cmd[arg.len > 0 && arg.len < (int)sizeof cmd ? arg.len : 0] = 0;
    return strstr(cmd, "dump") != NULL;
}

int main(void)
{
    dump = parse_dump();
    const uint32_t model_len = (uint32_t)(kws_model_end - kws_model);
    tm_status st = tm_init(kws_model, model_len, arena, sizeof arena, &interp);
    if (st != TM_OK) {
        printf("kws_mic: tm_init failed (%d): %s\n", (int)st, tm_error_message(&interp));
        return 2;
    }
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    if (in->bytes != FE_NFRAMES * FE_NBANDS || out->bytes != 12) {
        printf("kws_mic: unexpected model I/O\n");
        return 2;
    }
    DEMCR |= 1u << 24; /* TRCENA */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u; /* CYCCNTENA */
    __asm volatile("nop\n nop\n nop\n nop" ::: "memory");
    use_dwt = DWT_CYCCNT != 0 || DWT_CYCCNT != 0;

    printf("kws_mic on %s: mic %u Hz by DMA (2 x %u ms), 30 ms windows / 20 ms hop, 512-point fixed-point FFT, "
           "%u log-mel bands -> %ux%u int8 -> kws_dscnn.tflite (%lu bytes)\n",
           BOARD_NAME, FE_RATE, HALF * 1000u / FE_RATE, FE_NBANDS, FE_NFRAMES, FE_NBANDS, (unsigned long)model_len);
    printf("SystemCoreClock %lu Hz; timer %s; arena %lu bytes used\n", (unsigned long)SystemCoreClock,
           use_dwt ? "DWT CYCCNT" : "semihosting SYS_ELAPSED", (unsigned long)tm_arena_used(&interp));
    const int core_hz = sh_tickfreq();
    if (core_hz > 0 && (uint32_t)core_hz != SystemCoreClock)
        printf("note: the core runs at %d Hz here (SYS_TICKFREQ), not at SystemCoreClock: rescale the ms figures\n",
               core_hz);

    MIC->RATE = FE_RATE;
    MIC->FORMAT = 0;
    MIC->DMA_ADDR = (uint32_t)(uintptr_t)ring;
    MIC->DMA_LEN = 2 * HALF;
    MIC->INTEN = SIMCORE_MIC_INTEN_HT_Msk | SIMCORE_MIC_INTEN_TC_Msk | SIMCORE_MIC_INTEN_END_Msk;
    __asm volatile("cpsid i" ::: "memory"); /* wfi wakes on the mic interrupt; flags are polled */
    NVIC_ISER[MIC_IRQn / 32] = 1u << (MIC_IRQn % 32);
    MIC->CTRL = SIMCORE_MIC_CTRL_EN_Msk | SIMCORE_MIC_CTRL_DMA_Msk;

    uint32_t h = 0, n_inf = 0, lost = 0, base_sample = 0, processed = 0;
    uint64_t fe_total = 0, inf_total = 0;
    for (;;) {
        uint32_t s = MIC->STATUS;
        const uint32_t want = (h & 1u) ? SIMCORE_MIC_STATUS_TC_Msk : SIMCORE_MIC_STATUS_HT_Msk;
        while (!(s & (want | SIMCORE_MIC_STATUS_END_Msk))) {
            __asm volatile("wfi");
            NVIC_ICPR[MIC_IRQn / 32] = 1u << (MIC_IRQn % 32);
            s = MIC->STATUS;
        }
        if (!(s & want))
            break; /* end of the recording, no complete half left */
        if (s & SIMCORE_MIC_STATUS_OVR_Msk) {
            /* Too slow: the DMA is refilling a half we had not read yet. Half k of the stream
             * always lands in ring half k & 1, so restart at the newest complete half and drop
             * the stale flag of the other ring half (the one being refilled now). */
            const uint32_t newest = MIC->SAMPLE_COUNT / HALF - 1u;
            const uint32_t refilling = ((newest + 1u) & 1u) ? SIMCORE_MIC_STATUS_TC_Msk : SIMCORE_MIC_STATUS_HT_Msk;
            printf("overrun: halves %lu..%lu lost (%lu ms .. %lu ms of audio)\n", (unsigned long)h,
                   (unsigned long)(newest - 1u), (unsigned long)(h * 500u), (unsigned long)(newest * 500u));
            lost += newest - h;
            h = newest;
            MIC->STATUS = SIMCORE_MIC_STATUS_OVR_Msk | refilling;
            reset_stream();
            base_sample = h * HALF;
        }
        const uint32_t mine = (h & 1u) ? SIMCORE_MIC_STATUS_TC_Msk : SIMCORE_MIC_STATUS_HT_Msk;
        ITM_STIM(5) = h;
        uint32_t t0 = now();
        push_samples(&ring[(h & 1u) * HALF], HALF);
        uint32_t fe = now() - t0;
        ITM_STIM(6) = h;
        MIC->STATUS = mine; /* hand the half back to the DMA */
        fe_total += fe;
        processed++;
        h++;
        if (nframes < FE_NFRAMES)
            continue;

        /* the newest 49 frames, oldest first */
        int8_t *x = (int8_t *)in->data;
        for (uint32_t r = 0; r < FE_NFRAMES; r++)
            memcpy(&x[r * FE_NBANDS], fring[(nframes - FE_NFRAMES + r) % FRING], FE_NBANDS);
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
        st = tm_invoke(&interp);
        uint32_t ic = now() - t0;
        ITM_STIM(4) = n_inf;
        if (st != TM_OK) {
            printf("kws_mic: tm_invoke failed: %s\n", tm_error_message(&interp));
            return 2;
        }
        inf_total += ic;
        const int8_t *sc = (const int8_t *)out->data;
        uint32_t top = 0;
        for (uint32_t i = 1; i < 12; i++)
            if (sc[i] > sc[top])
                top = i;
        const uint32_t first = base_sample + (nframes - FE_NFRAMES) * FE_HOP;
        const uint32_t last = base_sample + (nframes - 1u) * FE_HOP + FE_WIN;
        printf("inference %lu: audio %lu..%lu ms (frames %lu..%lu): top class %lu \"%s\" score %d\n",
               (unsigned long)n_inf, (unsigned long)(first / 16u), (unsigned long)(last / 16u),
               (unsigned long)(nframes - FE_NFRAMES), (unsigned long)(nframes - 1u), (unsigned long)top, labels[top],
               sc[top]);
        printf("  scores:");
        for (uint32_t i = 0; i < 12; i++)
            printf(" %d", sc[i]);
        printf("\n  features fnv1a 0x%08lx\n", (unsigned long)hash);
        printf("  front end: %lu cycles for %lu frames (", (unsigned long)fe, (unsigned long)FRAMES_PER_HALF);
        print_ms(fe);
        printf("); inference: %lu cycles (", (unsigned long)ic);
        print_ms(ic);
        printf(") at %lu MHz\n", (unsigned long)(SystemCoreClock / 1000000u));
        n_inf++;
    }
    MIC->CTRL = 0;
    printf("done: %lu halves (%lu ms of audio), %lu frames, %lu inferences, %lu halves lost, %lu overruns\n",
           (unsigned long)h, (unsigned long)(h * 500u), (unsigned long)nframes, (unsigned long)n_inf,
           (unsigned long)lost, (unsigned long)MIC->OVERRUN_COUNT);
    if (n_inf) {
        const uint64_t busy = fe_total / processed + inf_total / n_inf;
        printf("per 500 ms of audio: front end %lu cycles, inference %lu cycles = ",
               (unsigned long)(fe_total / processed), (unsigned long)(inf_total / n_inf));
        print_ms((uint32_t)busy);
        printf(" busy at SystemCoreClock (%lu%% of real time)\n", (unsigned long)((busy * 100u) / (SystemCoreClock / 2u)));
    }
    return lost ? 1 : 0;
}
