/*
 * tm_internal.h - internals shared by the runtime's C files (not for applications).
 *
 * Holds: the TFLite schema constants we use, the fixed-point arithmetic of TFLite's
 * reference kernels (gemmlowp's fixedpoint.h and tensorflow/lite/kernels/internal/
 * common.h, re-derived here in C99), the meaning of tm_op_t.p[] per op, and the
 * kernel entry points.
 */
#ifndef TM_INTERNAL_H
#define TM_INTERNAL_H

#include <string.h>
#include "tm.h"

/* Bit-exactness with TFLite's float kernels needs every float multiply and add
 * rounded separately: never fuse them into FMA (gcc defaults to fp-contract=fast in
 * GNU modes; -std=c99 turns it off, this makes it explicit). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

/* ---- TFLite schema v3 enum values (tensorflow/lite/schema/schema.fbs) ---------- */
enum {
    OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONCATENATION = 2, OP_CONV_2D = 3,
    OP_DEPTHWISE_CONV_2D = 4, OP_DEQUANTIZE = 6, OP_FULLY_CONNECTED = 9,
    OP_LOGISTIC = 14, OP_MAX_POOL_2D = 17, OP_MUL = 18, OP_RESHAPE = 22,
    OP_SOFTMAX = 25, OP_TANH = 28, OP_PAD = 34, OP_MEAN = 40, OP_QUANTIZE = 114
};
/* ActivationFunctionType */
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3 };
/* Padding */
enum { PAD_SAME = 0, PAD_VALID = 1 };

/* tm_op_t.flags */
#define OPF_INT8 1u   /* quantized int8 kernel (else float32) */
#define OPF_REQUANT 2u /* QUANTIZE int8 -> int8 */
#define OPF_BCAST 4u  /* ADD/MUL operands differ in shape */

/* ---- tm_op_t.p[] layout ------------------------------------------------------- */
/* CONV_2D, DEPTHWISE_CONV_2D, pools: */
#define P_STRIDE_W 0
#define P_STRIDE_H 1
#define P_DIL_W 2
#define P_DIL_H 3
#define P_PAD_W 4
#define P_PAD_H 5
#define P_ACT_MIN 6 /* int8 value, or float bits for float kernels */
#define P_ACT_MAX 7
#define P_DEPTH_MULT 8
#define P_IN_OFFSET 9  /* -input zero point */
#define P_OUT_OFFSET 10 /* output zero point */
#define P_FILTER_W 11   /* pools */
#define P_FILTER_H 12
#define P_W_OFFSET 13   /* FULLY_CONNECTED: -filter zero point */
/* ADD / MUL */
#define P_IN1_OFF 0
#define P_IN2_OFF 1
#define P_OUT_OFF 2
#define P_LSHIFT 3
#define P_IN1_MULT 4
#define P_IN1_SHIFT 5
#define P_IN2_MULT 12
#define P_IN2_SHIFT 13
#define P_OUT_MULT 8
#define P_OUT_SHIFT 9
#define P_EW_ACT_MIN 10
#define P_EW_ACT_MAX 11

/* ---- float <-> int32 bit storage in p[] --------------------------------------- */
static inline int32_t tm_f2p(float f) { int32_t i; memcpy(&i, &f, 4); return i; }
static inline float tm_p2f(int32_t i) { float f; memcpy(&f, &i, 4); return f; }

/* ---- Fixed-point arithmetic, exactly as TFLite's reference kernels -------------- */

/* gemmlowp SaturatingRoundingDoublingHighMul: (a*b*2) >> 32 rounded to nearest,
 * ties away from zero; the single overflow case INT32_MIN*INT32_MIN saturates. */
static inline int32_t tm_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates */
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero. */
static inline int32_t tm_rdbypot(int32_t x, int e)
{
    int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
    int32_t rem = x & mask;
    int32_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > thr ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (double-rounding variant, the TFLM default:
 * TFLITE_SINGLE_ROUNDING unset). shift > 0 shifts left before the multiply. */
static inline int32_t tm_mbqm(int32_t x, int32_t mult, int shift)
{
    int ls = shift > 0 ? shift : 0, rs = shift > 0 ? 0 : -shift;
    if (ls > 31) ls = 31; /* only absurd scales get here; TFLite is undefined there */
    if (rs > 31) rs = 31;
    return tm_rdbypot(tm_srdhm((int32_t)((uint32_t)x << ls), mult), rs);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a run-time exponent. */
static inline int32_t tm_sat_pot(int32_t x, int e)
{
    if (e > 0) {
        int32_t thr = (int32_t)(((int64_t)1 << (31 - e)) - 1);
        if (x > thr) return INT32_MAX;
        if (x < -thr) return INT32_MIN;
        return (int32_t)((uint32_t)x << e);
    }
    return e < 0 ? tm_rdbypot(x, -e) : x;
}

static inline int32_t tm_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}
static inline float tm_fclamp(float v, float lo, float hi)
{
    /* TFLite ActivationFunctionWithMinMax: min(max(x, lo), hi) */
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* ---- quant.c: scale -> multiplier conversions and special functions ------------ */
void tm_quantize_multiplier(double m, int32_t *mult, int *shift);
double tm_frexp(double x, int *e);
double tm_round(double x);   /* std::round: half away from zero */
float tm_roundf(float x);
int32_t tm_exp_on_negative(int32_t a, int int_bits);  /* result Q0.31 */
int32_t tm_one_over_one_plus_x(int32_t a);            /* Q0.31 -> Q0.31 */
int32_t tm_logistic_q(int32_t a, int int_bits);       /* Q(int_bits) -> Q0.31 */
int32_t tm_tanh_q(int32_t a, int int_bits);           /* Q(int_bits) -> Q0.31 */
int32_t tm_get_reciprocal(int32_t x, int int_digits, int *num_bits_over_unit);
int tm_input_radius(int int_bits, int left_shift, int total_bits);

/* ---- kernels ------------------------------------------------------------------ */
typedef struct tm_kctx {
    tm_interp_t *ip;
    const tm_op_t *op;
    uint8_t *scratch;
} tm_kctx;

static inline const tm_tensor_t *tm_in(const tm_kctx *k, int i)
{
    return &k->ip->tensors[k->op->in[i]];
}
static inline const tm_tensor_t *tm_out(const tm_kctx *k)
{
    return &k->ip->tensors[k->op->out];
}
uint32_t tm_elems(const tm_tensor_t *t);

void tm_k_conv(const tm_kctx *k);
void tm_k_dwconv(const tm_kctx *k);
void tm_k_fc(const tm_kctx *k);
void tm_k_pool(const tm_kctx *k, int is_max);
void tm_k_softmax(const tm_kctx *k);
void tm_k_copy(const tm_kctx *k);
void tm_k_add_mul(const tm_kctx *k, int is_mul);
void tm_k_quantize(const tm_kctx *k);
void tm_k_dequantize(const tm_kctx *k);
void tm_k_logistic(const tm_kctx *k);
void tm_k_tanh(const tm_kctx *k);
void tm_k_mean(const tm_kctx *k);
void tm_k_concat(const tm_kctx *k);
void tm_k_pad(const tm_kctx *k);

/* Optimized int8 kernels (tm_kernels_opt.c, TM_OPTIMIZED=1): return 1 when they
 * handled the op, 0 to fall back to the reference kernel. */
int tm_opt_conv(const tm_kctx *k);
int tm_opt_dwconv(const tm_kctx *k);
int tm_opt_fc(const tm_kctx *k);
/* Scratch bytes the optimized conv wants (0 = none). */
int32_t tm_opt_conv_scratch(const tm_interp_t *ip, const tm_op_t *op);
/* Init-time precomputation for optimized CONV_2D / FULLY_CONNECTED (filter sums). */
void tm_opt_prepare(tm_interp_t *ip, tm_op_t *op);
/* Persistent allocation from the arena's end (NULL when it does not fit; the need
 * is still counted so init can report the size the arena must have). */
void *tm_tail_alloc(tm_interp_t *ip, uint32_t bytes);

#endif /* TM_INTERNAL_H */
