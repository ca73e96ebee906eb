/*
 * kws_demo: keyword spotting on an emulated part, timed by the firmware itself.
 *
 * The DS-CNN keyword spotter of MLPerf Tiny (models/kws_dscnn.tflite, 49x10 int8 features
 * -> 12 int8 class scores) is linked into flash (model.S, .incbin) and run with simcore's
 * TFLM-compatible runtime (firmware/runtime, optimized kernels TM_OPTIMIZED=1). Inputs:
 *   0..KWS_NUM_INPUTS-1  the committed test vectors models/kws_dscnn.inputs.npy (compiled in
 *                        as a C array generated at build time by gen_inputs.py),
 *   KWS_NUM_INPUTS       one pseudo-random vector made at run time: xorshift32 from seed
 *                        0x4B575321, each value the top byte of the state as int8.
 * For each input it prints the top class, the 12 int8 scores and the latency of tm_invoke,
 * measured with DWT CYCCNT (DEMCR.TRCENA + DWT_CTRL.CYCCNTENA) and converted to ms at
 * SystemCoreClock (-DSYSTEM_CORE_CLOCK per board, see app.mk). If CYCCNT does not count
 * (no DWT), the semihosting SYS_ELAPSED tick counter is used instead and the line says so.
 * If SYS_TICKFREQ (simcore: the emulated core clock, --mhz) differs from SystemCoreClock, a
 * note says the ms figures need rescaling (the cycle counts do not).
 * Then the arena bytes used. The weights are synthetic (briefly trained on random data), so
 * the classes mean nothing: the point is the pipeline and its cost.
 *
 * Markers for tools: ITM port 3 gets the input index just before the first CYCCNT read and
 * ITM port 4 just after the second (the runtime itself marks every op on ports 1 and 2), so a
 * simulator or an SWO viewer can time the same region. Exit status 0, 2 if init failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "kws_inputs.h"
#include "semihosting.h"
#include "tm.h"

#ifndef SYSTEM_CORE_CLOCK
#define SYSTEM_CORE_CLOCK (BOARD_DEFAULT_MHZ * 1000000u)
#endif
#ifndef KWS_ARENA_BYTES
#define KWS_ARENA_BYTES (24 * 1024)
#endif

uint32_t SystemCoreClock = SYSTEM_CORE_CLOCK;

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CTRL_CYCCNTENA 1u
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define ITM_STIM(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))

extern const uint8_t kws_model[], kws_model_end[];

/* MLPerf Tiny KWS label order (Speech Commands v2). */
static const char *const labels[12] = {"down", "go",   "left", "no",      "off",    "on",
                                       "right", "stop", "up",   "yes",     "silence", "unknown"};

static tm_interp_t interp;
static uint8_t arena[KWS_ARENA_BYTES] __attribute__((aligned(16)));
static int8_t noise[KWS_INPUT_BYTES];

static int use_dwt;

static void timer_init(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    __asm volatile("nop\n nop\n nop\n nop" ::: "memory");
    /* A CYCCNT that stays 0 means there is no DWT (or it is not modelled): fall back. */
    use_dwt = DWT_CYCCNT != 0 || DWT_CYCCNT != 0;
}

static uint32_t timer_now(void)
{
    if (use_dwt)
        return DWT_CYCCNT;
    uint64_t ticks = 0;
    sh_elapsed(&ticks); /* simcore: core cycles since reset */
    return (uint32_t)ticks;
}

static void print_ms(uint32_t cycles, uint32_t hz)
{
    uint32_t us = (uint32_t)(((uint64_t)cycles * 1000000u + hz / 2u) / hz);
    printf("%lu.%03lu ms", (unsigned long)(us / 1000u), (unsigned long)(us % 1000u));
}

static void make_noise(void)
{
    uint32_t x = 0x4B575321u;
    for (uint32_t i = 0; i < KWS_INPUT_BYTES; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise[i] = (int8_t)(x >> 24);
    }
}

int main(void)
{
    const uint32_t hz = SystemCoreClock;
    const uint32_t model_len = (uint32_t)(kws_model_end - kws_model);
    printf("kws_demo on %s: DS-CNN keyword spotter (kws_dscnn.tflite, %lu bytes in flash), "
           "tm runtime, optimized kernels\n",
           BOARD_NAME, (unsigned long)model_len);

    tm_status st = tm_init(kws_model, model_len, arena, sizeof arena, &interp);
    if (st != TM_OK) {
        printf("kws_demo: tm_init failed (%d): %s\n", (int)st, tm_error_message(&interp));
        return 2;
    }
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    if (in->bytes != KWS_INPUT_BYTES || out->bytes != 12) {
        printf("kws_demo: unexpected model I/O: %lu input bytes, %lu output bytes\n", (unsigned long)in->bytes,
               (unsigned long)out->bytes);
        return 2;
    }
    timer_init();
    make_noise();
    /* simcore answers SYS_TICKFREQ with the emulated core clock (--mhz): if it is not the
     * SystemCoreClock this build assumes, say so (the ms figures below use SystemCoreClock). */
    const int core_hz = sh_tickfreq();
    printf("SystemCoreClock %lu Hz; timer %s\n", (unsigned long)hz,
           use_dwt ? "DWT CYCCNT" : "semihosting SYS_ELAPSED (DWT CYCCNT did not count)");
    if (core_hz > 0 && (uint32_t)core_hz != hz)
        printf("note: the core runs at %d Hz here (SYS_TICKFREQ), not at SystemCoreClock: "
               "rescale the ms figures\n", core_hz);
    printf("labels in MLPerf Tiny order; the weights are synthetic, so the classes mean nothing\n");

    uint64_t total = 0;
    const uint32_t n = KWS_NUM_INPUTS + 1;
    for (uint32_t v = 0; v < n; v++) {
        memcpy(in->data, v < KWS_NUM_INPUTS ? kws_inputs[v] : noise, KWS_INPUT_BYTES);
        ITM_STIM(3) = v;
        uint32_t t0 = timer_now();
        st = tm_invoke(&interp);
        uint32_t t1 = timer_now();
        ITM_STIM(4) = v;
        if (st != TM_OK) {
            printf("kws_demo: tm_invoke failed (%d): %s\n", (int)st, tm_error_message(&interp));
            return 2;
        }
        uint32_t cycles = t1 - t0;
        total += cycles;

        const int8_t *s = (const int8_t *)out->data;
        uint32_t top = 0;
        for (uint32_t i = 1; i < 12; i++)
            if (s[i] > s[top])
                top = i;
        if (v < KWS_NUM_INPUTS)
            printf("input %lu (test vector %lu): ", (unsigned long)v, (unsigned long)v);
        else
            printf("input %lu (xorshift noise): ", (unsigned long)v);
        printf("top class %lu \"%s\" score %d\n", (unsigned long)top, labels[top], s[top]);
        printf("  scores:");
        for (uint32_t i = 0; i < 12; i++)
            printf(" %d", s[i]);
        printf("\n  latency: %lu cycles = ", (unsigned long)cycles);
        print_ms(cycles, hz);
        printf(" at %lu MHz\n", (unsigned long)(hz / 1000000u));
    }
    printf("arena: %lu bytes used of %lu\n", (unsigned long)tm_arena_used(&interp), (unsigned long)sizeof arena);
    uint32_t mean = (uint32_t)(total / n);
    printf("mean latency: %lu cycles = ", (unsigned long)mean);
    print_ms(mean, hz);
    printf(" per inference at %lu MHz (%lu inferences)\n", (unsigned long)(hz / 1000000u), (unsigned long)n);
    return 0;
}
