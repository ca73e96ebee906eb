/*
 * dsp: the Cortex-M4 DSP extension (ARMv7E-M) through the ACLE intrinsics of <arm_acle.h>:
 * SMLAD SMLADX SMUAD SXTB16 QADD8 QSUB16 SADD16 USAT16 SEL UADD8 SSAT SMULBB SMLABB USADA8
 * (SMULBB by inline asm: GCC 12's header lacks __smulbb).
 *
 * Each instruction runs over the same pseudo-random operands as a plain-C model of its
 * definition (ARMv7-M ARM, section A7.7); both fold their results into a checksum per
 * instruction. The checksums are printed; any difference prints the instruction's name and
 * gives exit status 1, otherwise the last line is "DSP OK".
 * The reference code is compiled without optimisation so GCC does not turn it back into
 * the same DSP instructions.
 */
#include <arm_acle.h>
#include <stdint.h>
#include <stdio.h>

#ifndef DSP_ROUNDS
#define DSP_ROUNDS 512
#endif

enum { SMLAD, SMLADX, SMUAD, SXTB16, QADD8, QSUB16, SADD16_SEL, USAT16, UADD8_SEL, SSAT,
       SMULBB, SMLABB, USADA8, NUM_OPS };
static const char *const op_names[NUM_OPS] = {
    "SMLAD", "SMLADX", "SMUAD", "SXTB16", "QADD8", "QSUB16", "SADD16+SEL", "USAT16",
    "UADD8+SEL", "SSAT", "SMULBB", "SMLABB", "USADA8",
};

/* GCC 12's <arm_acle.h> has no __smulbb (ACLE lists it under __ARM_FEATURE_DSP): inline asm. */
static inline int32_t smulbb(uint32_t a, uint32_t b)
{
    int32_t r;
    __asm__("smulbb %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static uint32_t rng_state;

static uint32_t rng(void)
{
    /* xorshift32: deterministic operands with every bit pattern likely */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static uint32_t mix(uint32_t sum, uint32_t v)
{
    return ((sum << 5) | (sum >> 27)) ^ v;
}

/* ---- the DSP instructions ---------------------------------------------------------- */

__attribute__((noinline)) static void run_dsp(uint32_t sums[NUM_OPS])
{
    rng_state = 0x12345678u;
    int32_t acc1 = 0, acc2 = 0, acc3 = 0;
    uint32_t acc4 = 0;
    for (int i = 0; i < DSP_ROUNDS; i++) {
        uint32_t x = rng(), y = rng();
        acc1 = __smlad((int16x2_t)x, (int16x2_t)y, acc1);
        sums[SMLAD] = mix(sums[SMLAD], (uint32_t)acc1);
        acc2 = __smladx((int16x2_t)x, (int16x2_t)y, acc2);
        sums[SMLADX] = mix(sums[SMLADX], (uint32_t)acc2);
        sums[SMUAD] = mix(sums[SMUAD], (uint32_t)__smuad((int16x2_t)x, (int16x2_t)y));
        sums[SXTB16] = mix(sums[SXTB16], (uint32_t)__sxtb16((int8x4_t)x));
        sums[QADD8] = mix(sums[QADD8], (uint32_t)__qadd8((int8x4_t)x, (int8x4_t)y));
        sums[QSUB16] = mix(sums[QSUB16], (uint32_t)__qsub16((int16x2_t)x, (int16x2_t)y));
        /* SADD16 sets GE per halfword (result >= 0); SEL picks bytes by GE */
        uint32_t s = (uint32_t)__sadd16((int16x2_t)x, (int16x2_t)y);
        uint32_t sel = (uint32_t)__sel((uint8x4_t)x, (uint8x4_t)y);
        sums[SADD16_SEL] = mix(mix(sums[SADD16_SEL], s), sel);
        sums[USAT16] = mix(sums[USAT16], (uint32_t)__usat16((int16x2_t)x, 9));
        /* UADD8 sets GE per byte on unsigned carry out; SEL picks bytes by GE */
        uint32_t u = (uint32_t)__uadd8((uint8x4_t)x, (uint8x4_t)y);
        uint32_t sel2 = (uint32_t)__sel((uint8x4_t)x, (uint8x4_t)y);
        sums[UADD8_SEL] = mix(mix(sums[UADD8_SEL], u), sel2);
        sums[SSAT] = mix(sums[SSAT], (uint32_t)__ssat((int32_t)x >> (i & 15), 12));
        sums[SMULBB] = mix(sums[SMULBB], (uint32_t)smulbb(x, y));
        acc3 = __smlabb(x, y, acc3);
        sums[SMLABB] = mix(sums[SMLABB], (uint32_t)acc3);
        acc4 = __usada8((uint8x4_t)x, (uint8x4_t)y, acc4);
        sums[USADA8] = mix(sums[USADA8], acc4);
    }
}

/* ---- plain-C models of the same instructions --------------------------------------- */

#define REF __attribute__((noinline, optimize("O0")))

static int32_t lo16(uint32_t v) { return (int16_t)(v & 0xFFFF); }
static int32_t hi16(uint32_t v) { return (int16_t)(v >> 16); }
static int32_t sbyte(uint32_t v, int n) { return (int8_t)((v >> (8 * n)) & 0xFF); }
static uint32_t ubyte(uint32_t v, int n) { return (v >> (8 * n)) & 0xFF; }

static int32_t sat(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

REF static uint32_t ref_sadd16(uint32_t x, uint32_t y, uint32_t *ge)
{
    int32_t l = lo16(x) + lo16(y), h = hi16(x) + hi16(y);
    *ge = (l >= 0 ? 0x3u : 0) | (h >= 0 ? 0xCu : 0);
    return ((uint32_t)h << 16) | ((uint32_t)l & 0xFFFF);
}

REF static uint32_t ref_uadd8(uint32_t x, uint32_t y, uint32_t *ge)
{
    uint32_t r = 0;
    *ge = 0;
    for (int n = 0; n < 4; n++) {
        uint32_t t = ubyte(x, n) + ubyte(y, n);
        if (t >= 0x100)
            *ge |= 1u << n;
        r |= (t & 0xFF) << (8 * n);
    }
    return r;
}

REF static uint32_t ref_sel(uint32_t x, uint32_t y, uint32_t ge)
{
    uint32_t r = 0;
    for (int n = 0; n < 4; n++)
        r |= ((ge >> n) & 1 ? ubyte(x, n) : ubyte(y, n)) << (8 * n);
    return r;
}

REF static void run_ref(uint32_t sums[NUM_OPS])
{
    rng_state = 0x12345678u;
    int32_t acc1 = 0, acc2 = 0, acc3 = 0;
    uint32_t acc4 = 0;
    for (int i = 0; i < DSP_ROUNDS; i++) {
        uint32_t x = rng(), y = rng();
        /* SMLAD/SMLADX/SMUAD: the sum wraps modulo 2^32 (Q flag not modelled here) */
        acc1 = (int32_t)((uint32_t)acc1 + (uint32_t)(lo16(x) * lo16(y)) + (uint32_t)(hi16(x) * hi16(y)));
        sums[SMLAD] = mix(sums[SMLAD], (uint32_t)acc1);
        acc2 = (int32_t)((uint32_t)acc2 + (uint32_t)(lo16(x) * hi16(y)) + (uint32_t)(hi16(x) * lo16(y)));
        sums[SMLADX] = mix(sums[SMLADX], (uint32_t)acc2);
        sums[SMUAD] = mix(sums[SMUAD], (uint32_t)(lo16(x) * lo16(y)) + (uint32_t)(hi16(x) * hi16(y)));
        uint32_t sx = ((uint32_t)sbyte(x, 0) & 0xFFFF) | ((uint32_t)sbyte(x, 2) << 16);
        sums[SXTB16] = mix(sums[SXTB16], sx);
        uint32_t q8 = 0;
        for (int n = 0; n < 4; n++)
            q8 |= ((uint32_t)sat(sbyte(x, n) + sbyte(y, n), -128, 127) & 0xFF) << (8 * n);
        sums[QADD8] = mix(sums[QADD8], q8);
        uint32_t q16 = ((uint32_t)sat(lo16(x) - lo16(y), -32768, 32767) & 0xFFFF) |
                       ((uint32_t)sat(hi16(x) - hi16(y), -32768, 32767) << 16);
        sums[QSUB16] = mix(sums[QSUB16], q16);
        uint32_t ge;
        uint32_t s = ref_sadd16(x, y, &ge);
        sums[SADD16_SEL] = mix(mix(sums[SADD16_SEL], s), ref_sel(x, y, ge));
        uint32_t us = ((uint32_t)sat(lo16(x), 0, 511)) | ((uint32_t)sat(hi16(x), 0, 511) << 16);
        sums[USAT16] = mix(sums[USAT16], us);
        uint32_t u = ref_uadd8(x, y, &ge);
        sums[UADD8_SEL] = mix(mix(sums[UADD8_SEL], u), ref_sel(x, y, ge));
        sums[SSAT] = mix(sums[SSAT], (uint32_t)sat((int32_t)x >> (i & 15), -2048, 2047));
        sums[SMULBB] = mix(sums[SMULBB], (uint32_t)(lo16(x) * lo16(y)));
        acc3 = (int32_t)((uint32_t)acc3 + (uint32_t)(lo16(x) * lo16(y)));
        sums[SMLABB] = mix(sums[SMLABB], (uint32_t)acc3);
        uint32_t sad = 0;
        for (int n = 0; n < 4; n++)
            sad += ubyte(x, n) > ubyte(y, n) ? ubyte(x, n) - ubyte(y, n) : ubyte(y, n) - ubyte(x, n);
        acc4 += sad;
        sums[USADA8] = mix(sums[USADA8], acc4);
    }
}

int main(void)
{
    uint32_t got[NUM_OPS] = {0}, want[NUM_OPS] = {0};
    run_dsp(got);
    run_ref(want);
    int bad = 0;
    for (int k = 0; k < NUM_OPS; k++) {
        int ok = got[k] == want[k];
        printf("dsp: %-10s 0x%08lx %s\n", op_names[k], (unsigned long)got[k], ok ? "ok" : "MISMATCH");
        if (!ok) {
            printf("dsp:   plain C gives 0x%08lx\n", (unsigned long)want[k]);
            bad++;
        }
    }
    if (bad) {
        printf("DSP FAILED: %d of %d instructions differ\n", bad, NUM_OPS);
        return 1;
    }
    printf("DSP OK\n");
    return 0;
}
