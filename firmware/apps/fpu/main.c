/*
 * fpu: single-precision floating point on the FPv4-SP unit.
 *
 * Exercises VSQRT, VDIV, VFMA (fmaf and contracted a*b+c), VCVT in all directions
 * (float<->signed/unsigned int, float<->fixed point) and newlib's sinf/cosf/expf/logf.
 * Results are printed as IEEE bit patterns and scaled integers, so the text is the same
 * on every host; values with an exactly known answer are checked and any mismatch gives
 * exit status 1. One line also goes through printf's %f (linked with -u _printf_float).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void expect_bits(const char *what, float got, uint32_t want)
{
    uint32_t b = bits(got);
    printf("fpu: %-22s 0x%08lx %s\n", what, (unsigned long)b, b == want ? "ok" : "MISMATCH");
    if (b != want) {
        printf("fpu:   expected 0x%08lx\n", (unsigned long)want);
        failures++;
    }
}

static void expect_int(const char *what, long got, long want)
{
    printf("fpu: %-22s %ld %s\n", what, got, got == want ? "ok" : "MISMATCH");
    if (got != want) {
        printf("fpu:   expected %ld\n", want);
        failures++;
    }
}

static void expect_uint(const char *what, unsigned long got, unsigned long want)
{
    printf("fpu: %-22s %lu %s\n", what, got, got == want ? "ok" : "MISMATCH");
    if (got != want) {
        printf("fpu:   expected %lu\n", want);
        failures++;
    }
}

/* Inputs through volatiles so the compiler cannot fold the operations at build time. */
static volatile float v_two = 2.0f, v_one = 1.0f, v_three = 3.0f, v_half = 0.5f;
static volatile float v_neg = -7.75f, v_big = 3000000000.0f, v_fix = 1.2345f;
static volatile int32_t v_int = 16777217;
static volatile uint32_t v_uint = 4000000000u;
static volatile uint32_t v_fma_a = 0x3F800800u; /* 1 + 2^-12 */

__attribute__((noinline)) static float fused(float a, float b, float c)
{
    return fmaf(a, b, c);
}

__attribute__((noinline)) static float dot(const float *x, const float *y, int n)
{
    float acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += x[i] * y[i]; /* contracted to VFMA/VMLA by -ffp-contract=fast */
    return acc;
}

int main(void)
{
    /* VSQRT, VDIV: IEEE 754 correctly rounded, so the bit patterns are exact. */
    expect_bits("sqrtf(2)", sqrtf(v_two), 0x3FB504F3u);
    expect_bits("1/3", v_one / v_three, 0x3EAAAAABu);
    expect_bits("-7.75/0.5", v_neg / v_half, 0xC1780000u);

    /* VFMA: (1+2^-12)^2 - (1+2^-11) is 2^-24 fused, 0 when the product is rounded first. */
    float a = from_bits(v_fma_a);
    float c = -(1.0f + 1.0f / 2048.0f);
    volatile float product = a * a;
    expect_bits("fmaf fused", fused(a, a, c), 0x33800000u);
    expect_bits("mul then add", product + c, 0x00000000u);

    /* VCVT: float -> int truncates toward zero; int -> float rounds to nearest even. */
    expect_int("(int32_t)-7.75", (int32_t)v_neg, -7);
    expect_uint("(uint32_t)3e9", (uint32_t)v_big, 3000000000UL);
    expect_bits("(float)16777217", (float)v_int, 0x4B800000u);
    expect_bits("(float)4000000000u", (float)v_uint, 0x4F6E6B28u);
    expect_int("Q16 of 1.2345", (int32_t)(v_fix * 65536.0f), 80904);
    expect_int("lrintf(2.5)", lrintf(v_two + v_half), 2);

    /* newlib libm: not exactly specified by IEEE 754, so print bits and check identities. */
    float s = sinf(v_half), co = cosf(v_half);
    float e = expf(v_one), l = logf(v_two);
    printf("fpu: sinf(0.5) 0x%08lx cosf(0.5) 0x%08lx expf(1) 0x%08lx logf(2) 0x%08lx\n",
           (unsigned long)bits(s), (unsigned long)bits(co), (unsigned long)bits(e), (unsigned long)bits(l));
    printf("fpu: sinf(0.5)*1e6 = %ld, cosf(0.5)*1e6 = %ld\n", lrintf(s * 1e6f), lrintf(co * 1e6f));
    float ident = fabsf(s * s + co * co - 1.0f);
    expect_int("sin^2+cos^2 ~ 1", ident < 1e-6f, 1);
    expect_int("expf(1)*1e6", lrintf(e * 1e6f), 2718282);
    expect_int("logf(2)*1e6", lrintf(l * 1e6f), 693147);

    /* A deterministic reduction: sum of sqrt(i) and a dot product, printed as bits. */
    float x[64], y[64];
    for (int i = 0; i < 64; i++) {
        x[i] = sqrtf((float)(i + 1));
        y[i] = 1.0f / (float)(i + 1);
    }
    float d = dot(x, y, 64);
    printf("fpu: dot(sqrt(i), 1/i) bits 0x%08lx, x1e6 = %ld\n", (unsigned long)bits(d), lrintf(d * 1e6f));

    printf("fpu: printf %%f of sqrtf(2): %.6f\n", (double)sqrtf(v_two));

    printf("fpu: %s\n", failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
