/*
 * tm_quant.c - quantization helpers computed exactly as TFLite does.
 *
 * - tm_quantize_multiplier: TFLite QuantizeMultiplier (quantization_util.cc):
 *   frexp the double scale, round the significand to Q0.31, fix the 2^31 corner.
 * - exp / logistic / tanh / reciprocal on fixed-point values: gemmlowp's
 *   fixedpoint.h (exp_on_negative_values, logistic, tanh,
 *   one_over_one_plus_x_for_x_in_0_1) and TFLite's GetReciprocal, which TFLM's
 *   reference int8 SOFTMAX / LOGISTIC / TANH kernels use. FixedPoint<int32, N>
 *   values are plain int32 here; the integer-bit count is passed explicitly.
 *
 * frexp/round are implemented on the bit pattern so the firmware needs no double
 * libm (Cortex-M4 has a single-precision FPU only) and results are exact.
 */
#include "tm_internal.h"

double tm_frexp(double x, int *e)
{
    uint64_t b;
    memcpy(&b, &x, 8);
    int ex = (int)((b >> 52) & 0x7ff);
    *e = 0;
    if (x == 0.0 || ex == 0x7ff) return x;
    if (ex == 0) { /* subnormal: scale into the normal range first */
        x *= 18014398509481984.0; /* 2^54 */
        memcpy(&b, &x, 8);
        ex = (int)((b >> 52) & 0x7ff) - 54;
    }
    *e += ex - 1022;
    b = (b & ~((uint64_t)0x7ff << 52)) | ((uint64_t)1022 << 52);
    memcpy(&x, &b, 8);
    return x;
}

double tm_round(double x)
{
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x; /* |x|>=2^52 */
    double t = (double)(int64_t)x, d = x - t; /* both exact */
    if (d >= 0.5) t += 1.0;
    else if (d <= -0.5) t -= 1.0;
    return t;
}

float tm_roundf(float x)
{
    if (!(x > -8388608.0f && x < 8388608.0f)) return x; /* |x| >= 2^23 */
    float t = (float)(int32_t)x, d = x - t;
    if (d >= 0.5f) t += 1.0f;
    else if (d <= -0.5f) t -= 1.0f;
    return t;
}

void tm_quantize_multiplier(double m, int32_t *mult, int *shift)
{
    if (m == 0.0) { *mult = 0; *shift = 0; return; }
    double q = tm_frexp(m, shift);
    int64_t qf = (int64_t)tm_round(q * 2147483648.0);
    if (qf == ((int64_t)1 << 31)) { qf /= 2; ++*shift; }
    if (*shift < -31) { *shift = 0; qf = 0; }
    *mult = (int32_t)qf;
}

/* TFLite CalculateInputRadius: largest |input| whose rescaled value cannot overflow. */
int tm_input_radius(int int_bits, int left_shift, int total_bits)
{
    double r = 1.0 * (double)((1 << int_bits) - 1) *
               (double)((int64_t)1 << (total_bits - int_bits)) /
               (double)((int64_t)1 << left_shift);
    return (int)r; /* floor of a positive value */
}

/* exp(x) for x in [-1/4, 0), Q0.31 in and out (gemmlowp, Taylor series at -1/8). */
static int32_t exp_quarter(int32_t a)
{
    const int32_t c_term = 1895147668;  /* exp(-1/8) */
    const int32_t c_third = 715827883;  /* 1/3 */
    int32_t x = (int32_t)((uint32_t)a + (1u << 28));
    int32_t x2 = tm_srdhm(x, x);
    int32_t x3 = tm_srdhm(x2, x);
    int32_t x4 = tm_srdhm(x2, x2);
    int32_t x4_4 = tm_sat_pot(x4, -2);
    int32_t poly = tm_sat_pot(
        (int32_t)((uint32_t)tm_srdhm((int32_t)((uint32_t)x4_4 + (uint32_t)x3), c_third) +
                  (uint32_t)x2), -1);
    return (int32_t)((uint32_t)c_term +
                     (uint32_t)tm_srdhm(c_term, (int32_t)((uint32_t)x + (uint32_t)poly)));
}

int32_t tm_exp_on_negative(int32_t a, int int_bits)
{
    static const int32_t mults[7] = {1672461947, 1302514674, 790015084, 290630308,
                                     39332535, 720401, 242}; /* exp(-2^k), k=-2..4 */
    const int frac = 31 - int_bits;
    const int32_t quarter = (int32_t)1 << (frac - 2);
    int32_t amq = (int32_t)((uint32_t)(a & (quarter - 1)) - (uint32_t)quarter);
    int32_t result = exp_quarter(tm_sat_pot(amq, int_bits)); /* Rescale<0> */
    int32_t rem = (int32_t)((uint32_t)amq - (uint32_t)a);
    for (int k = -2; k <= 4; k++) {
        if (int_bits > k && (rem & ((int32_t)1 << (frac + k))))
            result = tm_srdhm(result, mults[k + 2]);
    }
    if (int_bits > 5) {
        int32_t clamp = -((int32_t)1 << (36 - int_bits)); /* -32.0 */
        if (a < clamp) result = 0;
    }
    if (a == 0) result = INT32_MAX;
    return result;
}

/* Newton-Raphson 1/(1+x) core shared by logistic and tanh (gemmlowp), Q2.29 x. */
static int32_t nr_recip_q2(int32_t a)
{
    int64_t s = (int64_t)a + INT32_MAX; /* RoundingHalfSum(a, One) */
    int32_t half_den = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
    int32_t x = (int32_t)(1515870810u + (uint32_t)tm_srdhm(half_den, -1010580540));
    for (int i = 0; i < 3; i++) {
        int32_t hdx = tm_srdhm(half_den, x);
        int32_t one_minus = (int32_t)((uint32_t)(1 << 29) - (uint32_t)hdx);
        x = (int32_t)((uint32_t)x + (uint32_t)tm_sat_pot(tm_srdhm(x, one_minus), 2));
    }
    return x;
}

int32_t tm_one_over_one_plus_x(int32_t a)
{
    return tm_sat_pot(nr_recip_q2(a), 1); /* Rescale<0>(ExactMulByPot<-1>(x)) */
}

static int32_t one_minus_x_over_one_plus_x(int32_t a)
{
    return tm_sat_pot((int32_t)((uint32_t)nr_recip_q2(a) - (1u << 29)), 2);
}

int32_t tm_logistic_q(int32_t a, int int_bits)
{
    if (a == 0) return 1 << 30;
    int32_t abs_a = a > 0 ? a : (int32_t)(0u - (uint32_t)a);
    int32_t pos = tm_one_over_one_plus_x(
        tm_exp_on_negative((int32_t)(0u - (uint32_t)abs_a), int_bits));
    return a > 0 ? pos : (int32_t)((uint32_t)INT32_MAX - (uint32_t)pos);
}

int32_t tm_tanh_q(int32_t a, int int_bits)
{
    if (a == 0) return 0;
    int32_t n = a < 0 ? a : (int32_t)(0u - (uint32_t)a);
    /* exp_on_negative_values(ExactMulByPot<1>(n)): same raw, one more integer bit */
    int32_t t = one_minus_x_over_one_plus_x(tm_exp_on_negative(n, int_bits + 1));
    return a < 0 ? (int32_t)(0u - (uint32_t)t) : t;
}

/* TFLite GetReciprocal (kernels/internal/common.h). */
int32_t tm_get_reciprocal(int32_t x, int int_digits, int *num_bits_over_unit)
{
    uint32_t ux = (uint32_t)x;
    int hr = 0;
    if (ux == 0) hr = 32;
    else while (!(ux & 0x80000000u)) { ux <<= 1; hr++; }
    *num_bits_over_unit = int_digits - hr;
    int32_t shifted = (int32_t)(((uint32_t)x << (hr & 31)) - (1u << 31));
    return tm_one_over_one_plus_x(shifted);
}
