/*
 * tm_kernels_opt.c - int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED for the
 * Cortex-M4 DSP extension, selected with -DTM_OPTIMIZED=1.
 *
 * Same results as the reference kernels, bit for bit, by construction: the reference
 * accumulates filter * (input + input_offset) in int32; we accumulate filter * input
 * with SMLAD (two 16x16 products per instruction on SXTB16-unpacked bytes) and add
 * input_offset * sum(filter), precomputed at init. Integer sums are exact (or wrap
 * identically modulo 2^32), so the int32 accumulator, and everything after it, is
 * the same. Out-of-image taps of a convolution are filled with the input zero point
 * in the im2col buffer, where filter * (zp + input_offset) = 0, as the reference's
 * skipped taps contribute 0.
 *
 *   CONV_2D:  a matrix multiply blocked 2x2: two output pixels x two output channels
 *             per pass (four accumulators, each input and weight word loaded and
 *             SXTB16-unpacked once for two SMLADs). A pixel's patch is read in place
 *             when it is one contiguous run of the input (1x1 kernels inside the
 *             image), otherwise gathered (im2col) into 2*KH*KW*C bytes of planned
 *             scratch, out-of-image taps filled with the input zero point.
 *   DEPTHWISE (depth multiplier 1, channels a multiple of 4): four channels at a
 *             time, SXTAB16 adds the input offset while unpacking two lanes,
 *             SMLABB / SMLATT per lane; the valid tap range is computed once per
 *             pixel, 3-wide kernel rows are unrolled, and the accumulators start
 *             from the bias.
 *   Requantization: MultiplyByQuantizedMultiplier with the doubling high multiply
 *             written as one 64-bit multiply-accumulate, (x*m + 2^30) >> 31, which
 *             equals gemmlowp's nudged, truncating division for every x and any
 *             multiplier but INT32_MIN (then the reference formula is used).
 *   FULLY_CONNECTED: two output rows per pass, 8 bytes per iteration.
 * Other shapes (grouped conv, depth multiplier > 1, non-zero weight zero point) fall
 * back to the reference kernels.
 */
#include "tm_internal.h"

#if defined(TM_OPTIMIZED) && TM_OPTIMIZED
#include "tm_dsp.h"

#if defined(__GNUC__)
#define TM_NOINLINE __attribute__((noinline))
#else
#define TM_NOINLINE
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define TM_UNROLL _Pragma("GCC unroll 4")
#else
#define TM_UNROLL
#endif

/* Two dot products of x against w0 and w1 (n bytes each), sharing the x loads. */
static void dot2(const int8_t *x, const int8_t *w0, const int8_t *w1, int n, int32_t *r0, int32_t *r1)
{
    int32_t a0 = 0, a1 = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        uint32_t xv = tm_ld32(x + i), xw = tm_ld32(x + i + 4);
        uint32_t x02 = tm_sxtb16(xv), x13 = tm_sxtb16_ror8(xv);
        uint32_t y02 = tm_sxtb16(xw), y13 = tm_sxtb16_ror8(xw);
        uint32_t v = tm_ld32(w0 + i), u = tm_ld32(w0 + i + 4);
        a0 = tm_smlad(x02, tm_sxtb16(v), a0);
        a0 = tm_smlad(x13, tm_sxtb16_ror8(v), a0);
        a0 = tm_smlad(y02, tm_sxtb16(u), a0);
        a0 = tm_smlad(y13, tm_sxtb16_ror8(u), a0);
        v = tm_ld32(w1 + i); u = tm_ld32(w1 + i + 4);
        a1 = tm_smlad(x02, tm_sxtb16(v), a1);
        a1 = tm_smlad(x13, tm_sxtb16_ror8(v), a1);
        a1 = tm_smlad(y02, tm_sxtb16(u), a1);
        a1 = tm_smlad(y13, tm_sxtb16_ror8(u), a1);
    }
    for (; i < n; i++) {
        a0 = (int32_t)((uint32_t)a0 + (uint32_t)(x[i] * w0[i]));
        a1 = (int32_t)((uint32_t)a1 + (uint32_t)(x[i] * w1[i]));
    }
    *r0 = a0;
    *r1 = a1;
}

/* MultiplyByQuantizedMultiplier, bit-exact with tm_mbqm: for m != INT32_MIN,
 * SaturatingRoundingDoublingHighMul(a, m) = (a*m + 2^30) >> 31 (arithmetic): for a*m >= 0
 * that is gemmlowp's (a*m + 2^30) / 2^31; for a*m < 0 its truncating
 * (a*m + 1 - 2^30) / 2^31 = ceil(..) = floor((a*m + 2^30) / 2^31). */
static inline int32_t rq(int32_t x, int32_t m, int shift)
{
    const int ls = shift > 0 ? shift : 0, rs = ls - shift;
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << ls) * m + ((int64_t)1 << 30);
    const int32_t h = (int32_t)(ab >> 31);
    /* RoundingDivideByPOT(h, rs), as tm_rdbypot with a 32-bit mask */
    const int32_t mask = (int32_t)((1u << rs) - 1u);
    const int32_t rem = h & mask, thr = (mask >> 1) + (h < 0);
    return (h >> rs) + (int32_t)((uint32_t)(thr - rem) >> 31); /* + (rem > thr), no branch */
}

/* Output offset added, activation clamp [lo, hi] within int8, without data-dependent
 * branches or conditional instructions (so an inference takes the same cycles for any
 * input): SSAT to int8 first, then branch-free max / min on small differences. */
static inline int8_t out8(int32_t v, int32_t ooff, int32_t lo, int32_t hi)
{
    v = tm_ssat8((int32_t)((uint32_t)v + (uint32_t)ooff));
    int32_t d = v - lo;
    v -= d & (d >> 31);
    d = hi - v;
    v += d & (d >> 31);
    return (int8_t)v;
}

/* rq() needs multipliers other than INT32_MIN and shifts within [-31, 31] (what
 * QuantizeMultiplier gives for any sane scale), out8() an activation range within int8;
 * otherwise the reference kernel runs. */
static int rq_ok(const tm_op_t *op, int n)
{
    if (op->p[P_ACT_MIN] < -128 || op->p[P_ACT_MAX] > 127 || op->p[P_ACT_MIN] > op->p[P_ACT_MAX]) return 0;
    if (!op->mult) return op->p[14] != INT32_MIN && op->p[15] >= -31 && op->p[15] <= 31;
    for (int c = 0; c < n; c++)
        if (op->mult[c] == INT32_MIN || op->shift[c] < -31 || op->shift[c] > 31) return 0;
    return 1;
}

static const int32_t *bias_of(const tm_kctx *k)
{
    return (k->op->n_in >= 3 && k->op->in[2] >= 0) ? (const int32_t *)tm_in(k, 2)->data : NULL;
}

int32_t tm_opt_conv_scratch(const tm_interp_t *ip, const tm_op_t *op)
{
    const tm_tensor_t *in = &ip->tensors[op->in[0]], *f = &ip->tensors[op->in[1]];
    if (in->dims[3] != f->dims[3]) return 0; /* grouped: reference kernel */
    uint64_t n = 2u * (uint64_t)f->dims[1] * (uint64_t)f->dims[2] * (uint64_t)f->dims[3];
    return n > INT32_MAX ? INT32_MAX : (int32_t)n; /* 64-bit product: a huge filter fails in the planner */
}

/* Per output channel: input_offset * sum(filter) + bias, the part of the accumulator
 * that does not depend on the input (wrapping int32 arithmetic, as the reference's). */
void tm_opt_prepare(tm_interp_t *ip, tm_op_t *op)
{
    const tm_tensor_t *f = &ip->tensors[op->in[1]];
    if (op->code == OP_CONV_2D && ip->tensors[op->in[0]].dims[3] != f->dims[3]) return;
    if (op->code == OP_DEPTHWISE_CONV_2D) return; /* the depthwise kernel adds the offset to x */
    const tm_tensor_t *bt = (op->n_in >= 3 && op->in[2] >= 0) ? &ip->tensors[op->in[2]] : NULL;
    if (bt && !bt->is_const) return; /* bias computed at run time: reference kernel */
    const int32_t *bias = bt ? (const int32_t *)bt->data : NULL;
    const int nch = f->dims[0], n = (int)(tm_elems(f) / (uint32_t)nch);
    op->wsum = (int32_t *)tm_tail_alloc(ip, 4u * (uint32_t)nch);
    if (!op->wsum) return;
    const int8_t *w = (const int8_t *)f->data;
    for (int c = 0; c < nch; c++) {
        int32_t s = 0;
        for (int i = 0; i < n; i++) s += w[(size_t)c * n + i];
        uint32_t v = (uint32_t)op->p[P_IN_OFFSET] * (uint32_t)s;
        if (bias) v += (uint32_t)bias[c];
        op->wsum[c] = (int32_t)v;
    }
}

/* Four dot products of length n: pixels x0, x1 against filters w0, w1 (r[2*pixel + filter]). */
static void dot2x2(const int8_t *x0, const int8_t *x1, const int8_t *w0, const int8_t *w1, int n, int32_t *r)
{
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t u = tm_ld32(x0 + i), v = tm_ld32(x1 + i);
        const uint32_t u02 = tm_sxtb16(u), u13 = tm_sxtb16_ror8(u);
        const uint32_t v02 = tm_sxtb16(v), v13 = tm_sxtb16_ror8(v);
        uint32_t f = tm_ld32(w0 + i);
        uint32_t f02 = tm_sxtb16(f), f13 = tm_sxtb16_ror8(f);
        a00 = tm_smlad(u02, f02, a00);
        a00 = tm_smlad(u13, f13, a00);
        a10 = tm_smlad(v02, f02, a10);
        a10 = tm_smlad(v13, f13, a10);
        f = tm_ld32(w1 + i);
        f02 = tm_sxtb16(f);
        f13 = tm_sxtb16_ror8(f);
        a01 = tm_smlad(u02, f02, a01);
        a01 = tm_smlad(u13, f13, a01);
        a11 = tm_smlad(v02, f02, a11);
        a11 = tm_smlad(v13, f13, a11);
    }
    for (; i < n; i++) {
        a00 = (int32_t)((uint32_t)a00 + (uint32_t)(x0[i] * w0[i]));
        a01 = (int32_t)((uint32_t)a01 + (uint32_t)(x0[i] * w1[i]));
        a10 = (int32_t)((uint32_t)a10 + (uint32_t)(x1[i] * w0[i]));
        a11 = (int32_t)((uint32_t)a11 + (uint32_t)(x1[i] * w1[i]));
    }
    r[0] = a00; r[1] = a01; r[2] = a10; r[3] = a11;
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__)
#define TM_ASM 1
/* dot2x2 for the common layout x1 = x0 + n, w1 = w0 + n (adjacent pixels or the im2col
 * pair, adjacent filter rows), n a multiple of 8: 8 bytes per iteration, post-indexed
 * loads, 13 registers (the end pointer is reloaded from memory at the loop test). */
static TM_NOINLINE void dot2x2_adj(const int8_t *x, const int8_t *w, int n, int32_t *r)
{
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    const int8_t *wend = w + n;
    uint32_t t0, t1, t2, t3, t4, t5, t6;
#define TM_DOT2X2_STEP                                                                     \
    "ldr %[t0], [%[x], %[k]]\n\t"                                                          \
    "ldr %[t2], [%[w], %[k]]\n\t"                                                          \
    "ldr %[t1], [%[x]], #4\n\t"                                                            \
    "ldr %[t6], [%[w]], #4\n\t"                                                            \
    "sxtb16 %[t3], %[t0]\n\t"                                                              \
    "sxtb16 %[t0], %[t0], ror #8\n\t"                                                      \
    "sxtb16 %[t4], %[t1]\n\t"                                                              \
    "sxtb16 %[t1], %[t1], ror #8\n\t"                                                      \
    "sxtb16 %[t5], %[t2]\n\t"                                                              \
    "sxtb16 %[t2], %[t2], ror #8\n\t"                                                      \
    "smlad %[a01], %[t4], %[t5], %[a01]\n\t"                                               \
    "smlad %[a01], %[t1], %[t2], %[a01]\n\t"                                               \
    "smlad %[a11], %[t3], %[t5], %[a11]\n\t"                                               \
    "smlad %[a11], %[t0], %[t2], %[a11]\n\t"                                               \
    "sxtb16 %[t5], %[t6]\n\t"                                                              \
    "sxtb16 %[t2], %[t6], ror #8\n\t"                                                      \
    "smlad %[a00], %[t4], %[t5], %[a00]\n\t"                                               \
    "smlad %[a00], %[t1], %[t2], %[a00]\n\t"                                               \
    "smlad %[a10], %[t3], %[t5], %[a10]\n\t"                                               \
    "smlad %[a10], %[t0], %[t2], %[a10]\n\t"
#define TM_DOT2X2_OPERANDS                                                                 \
    : [x] "+r"(x), [w] "+r"(w), [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10),         \
      [a11] "+r"(a11), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3),     \
      [t4] "=&r"(t4), [t5] "=&r"(t5), [t6] "=&r"(t6)                                       \
    : [k] "r"(n), [end] "m"(wend)                                                          \
    : "cc", "memory"
    if ((n & 15) == 0)
        __asm__ volatile("1:\n\t" TM_DOT2X2_STEP TM_DOT2X2_STEP TM_DOT2X2_STEP TM_DOT2X2_STEP
                         "ldr %[t5], %[end]\n\t"
                         "cmp %[w], %[t5]\n\t"
                         "bne 1b\n\t" TM_DOT2X2_OPERANDS);
    else
        __asm__ volatile("1:\n\t" TM_DOT2X2_STEP TM_DOT2X2_STEP
                         "ldr %[t5], %[end]\n\t"
                         "cmp %[w], %[t5]\n\t"
                         "bne 1b\n\t" TM_DOT2X2_OPERANDS);
#undef TM_DOT2X2_OPERANDS
#undef TM_DOT2X2_STEP
    r[0] = a00; r[1] = a01; r[2] = a10; r[3] = a11;
}
#endif

/* Requantize n accumulators (plus add[], the per-channel offset and bias, if given) to
 * int8 with per-channel multipliers and shifts. */
/* MultiplyByQuantizedMultiplier for shift <= 0 (no left shift), as rq(). */
static inline int32_t rq_r(int32_t x, int32_t m, int shift)
{
    const int rs = -shift;
    const int32_t h = (int32_t)(((int64_t)x * m + ((int64_t)1 << 30)) >> 31);
    const int32_t mask = (int32_t)((1u << rs) - 1u);
    const int32_t rem = h & mask, thr = (mask >> 1) + (h < 0);
    return (h >> rs) + (int32_t)((uint32_t)(thr - rem) >> 31);
}

/* One output: accumulator (+ add), requantized, offset, clamped; the flags are
 * compile-time constants at every call, so each combination gets its own loop. */
static inline int8_t rq_out(int32_t a, const int32_t *add, int32_t m, int32_t s, int32_t ooff, int32_t amin,
                            int32_t amax, int has_add, int full, int nols)
{
    if (has_add) a = (int32_t)((uint32_t)a + (uint32_t)*add);
    const int32_t v = nols ? rq_r(a, m, s) : rq(a, m, s);
    if (full) return (int8_t)tm_ssat8((int32_t)((uint32_t)v + (uint32_t)ooff));
    return out8(v, ooff, amin, amax);
}

#define TM_RQ_LOOP(HA, FULL, NOLS)                                                           \
    for (int l = 0; l < n; l++)                                                              \
        y[l] = rq_out(acc[l], add + (HA ? l : 0), mult[l], shift[l], ooff, amin, amax, HA, FULL, NOLS)

/* Requantize n accumulators (plus add[], the per-channel offset and bias, if given) to
 * int8 with per-channel multipliers and shifts (nols: every shift <= 0). */
static TM_NOINLINE void requant(const int32_t *acc, const int32_t *add, const int32_t *mult, const int32_t *shift,
                                int n, int8_t *y, int32_t ooff, int32_t amin, int32_t amax, int nols)
{
    const int full = amin == -128 && amax == 127; /* the clamp is the int8 saturation itself */
    if (add) {
        if (full) { if (nols) TM_RQ_LOOP(1, 1, 1); else TM_RQ_LOOP(1, 1, 0); }
        else { if (nols) TM_RQ_LOOP(1, 0, 1); else TM_RQ_LOOP(1, 0, 0); }
    } else {
        if (full) { if (nols) TM_RQ_LOOP(0, 1, 1); else TM_RQ_LOOP(0, 1, 0); }
        else { if (nols) TM_RQ_LOOP(0, 0, 1); else TM_RQ_LOOP(0, 0, 0); }
    }
}

/* Every shift of the first n channels <= 0 (the usual case: scales below 1). */
static int no_left_shift(const tm_op_t *op, int n)
{
    if (!op->mult) return op->p[15] <= 0;
    for (int c = 0; c < n; c++)
        if (op->shift[c] > 0) return 0;
    return 1;
}

/* First and one-past-last kernel tap whose input coordinate o + d * k lies in [0, n). */
static void tap_range(int o, int d, int n, int k, int *k0, int *k1)
{
    int a = o >= 0 ? 0 : (-o + d - 1) / d;
    int b = n - o <= 0 ? 0 : (n - o + d - 1) / d;
    *k0 = a < k ? a : k;
    *k1 = b < k ? b : k;
    if (*k1 < *k0) *k1 = *k0;
}

/* The patch (KH*KW*C bytes) of output pixel p: in place when the kernel is 1x1 and the
 * pixel inside the image, else gathered into buf. */
static const int8_t *patch_of(const tm_kctx *k, int p, int8_t *buf)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    const int H = in->dims[1], W = in->dims[2], C = in->dims[3];
    const int KH = f->dims[1], KW = f->dims[2], OH = o->dims[1], OW = o->dims[2];
    const int b = p / (OH * OW), oy = p / OW % OH, ox = p % OW;
    const int iy0 = oy * op->p[P_STRIDE_H] - op->p[P_PAD_H];
    const int ix0 = ox * op->p[P_STRIDE_W] - op->p[P_PAD_W];
    const int8_t *x = (const int8_t *)in->data;
    if (KH == 1 && KW == 1 && iy0 >= 0 && iy0 < H && ix0 >= 0 && ix0 < W)
        return x + (((size_t)b * H + iy0) * W + ix0) * C;
    const int zp = -op->p[P_IN_OFFSET], dw = op->p[P_DIL_W];
    int kx0 = 0, kx1 = KW;
    if (dw == 1) tap_range(ix0, 1, W, KW, &kx0, &kx1);
    for (int ky = 0; ky < KH; ky++) {
        const int iy = iy0 + op->p[P_DIL_H] * ky;
        int8_t *dst = buf + ky * KW * C;
        if (iy < 0 || iy >= H) {
            memset(dst, (int8_t)zp, (size_t)KW * C);
        } else if (dw == 1) { /* the row's valid taps are one run of the input */
            memset(dst, (int8_t)zp, (size_t)kx0 * C);
            memcpy(dst + kx0 * C, x + (((size_t)b * H + iy) * W + ix0 + kx0) * C, (size_t)(kx1 - kx0) * C);
            memset(dst + kx1 * C, (int8_t)zp, (size_t)(KW - kx1) * C);
        } else {
            for (int kx = 0; kx < KW; kx++) {
                const int ix = ix0 + dw * kx;
                if (ix < 0 || ix >= W) memset(dst + kx * C, (int8_t)zp, (size_t)C);
                else memcpy(dst + kx * C, x + (((size_t)b * H + iy) * W + ix) * C, (size_t)C);
            }
        }
    }
    return buf;
}

/* Output channels per accumulator block (stack: 8 bytes each). */
#ifndef TM_CONV_CHUNK
#define TM_CONV_CHUNK 64
#endif

int tm_opt_conv(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    if (!op->wsum || !k->scratch) return 0;
    const tm_tensor_t *f = tm_in(k, 1), *o = tm_out(k);
    if (!rq_ok(op, o->dims[3])) return 0;
    const int K = f->dims[1] * f->dims[2] * f->dims[3];
    const int OC = o->dims[3], P = o->dims[0] * o->dims[1] * o->dims[2];
    const int8_t *w = (const int8_t *)f->data;
    int8_t *buf = (int8_t *)k->scratch, *y = (int8_t *)o->data;
    const int32_t ooff = op->p[P_OUT_OFFSET], amin = op->p[P_ACT_MIN], amax = op->p[P_ACT_MAX];
    const int nols = no_left_shift(op, OC);
    for (int p = 0; p < P; p += 2) {
        const int two = p + 1 < P;
        const int8_t *x0 = patch_of(k, p, buf);
        const int8_t *x1 = two ? patch_of(k, p + 1, buf + K) : x0;
        int8_t *y0 = y + (size_t)p * OC, *y1 = y0 + OC;
#ifdef TM_ASM
        const int adj = two && x1 == x0 + K && K > 0 && (K & 7) == 0;
#endif
        for (int c0 = 0; c0 < OC; c0 += TM_CONV_CHUNK) {
            const int n = OC - c0 < TM_CONV_CHUNK ? OC - c0 : TM_CONV_CHUNK;
            int32_t acc0[TM_CONV_CHUNK], acc1[TM_CONV_CHUNK];
            for (int j = 0; j < n; j += 2) {
                const int oc = c0 + j, pair = j + 1 < n, oc1 = pair ? oc + 1 : oc;
                int32_t r[4];
#ifdef TM_ASM
                if (adj && pair) dot2x2_adj(x0, w + (size_t)oc * K, K, r);
                else
#endif
                dot2x2(x0, x1, w + (size_t)oc * K, w + (size_t)oc1 * K, K, r);
                acc0[j] = r[0];
                acc1[j] = r[2];
                if (pair) {
                    acc0[j + 1] = r[1];
                    acc1[j + 1] = r[3];
                }
            }
            requant(acc0, op->wsum + c0, op->mult + c0, op->shift + c0, n, y0 + c0, ooff, amin, amax, nols);
            if (two) requant(acc1, op->wsum + c0, op->mult + c0, op->shift + c0, n, y1 + c0, ooff, amin, amax, nols);
        }
    }
    return 1;
}

/* One tap of four channels: x (4 bytes) + offset times w (4 bytes) into a0..a3. */
#define DW_TAP(xp, wp)                                                                       \
    do {                                                                                     \
        const uint32_t xv_ = tm_ld32(xp), wv_ = tm_ld32(wp);                                 \
        const uint32_t x02_ = tm_sxtab16(ioff2, xv_), x13_ = tm_sxtab16_ror8(ioff2, xv_);    \
        const uint32_t w02_ = tm_sxtb16(wv_), w13_ = tm_sxtb16_ror8(wv_);                    \
        a0 = tm_smlabb(x02_, w02_, a0);                                                      \
        a2 = tm_smlatt(x02_, w02_, a2);                                                      \
        a1 = tm_smlabb(x13_, w13_, a1);                                                      \
        a3 = tm_smlatt(x13_, w13_, a3);                                                      \
    } while (0)

/* Geometry of one output pixel of a depthwise op, shared by its channel groups. */
typedef struct {
    int nty, ntx;       /* valid kernel rows / columns */
    int xstep, xrow;    /* input bytes between horizontal taps / kernel rows */
    int wrow, C;        /* filter bytes between kernel rows, channels */
    uint32_t ioff2;     /* input offset in both halfwords */
} dw_geom;


/* Accumulators of four channels over nty kernel rows of NT taps C bytes apart in input
 * and filter (dilation 1), acc[] holding the bias on entry. One function per width, so
 * each gets the registers to itself. */
#ifdef TM_ASM
/* One tap of four channels in Thumb-2: x word at [xp, OFF], w word at [wp, OFF]. */
#define DW_ASM_TAP(OFF)                                                                      \
    "ldr %[t0], [%[xp]" OFF "]\n\t"                                                          \
    "ldr %[t1], [%[wp]" OFF "]\n\t"                                                          \
    "sxtab16 %[t2], %[io], %[t0]\n\t"                                                        \
    "sxtab16 %[t0], %[io], %[t0], ror #8\n\t"                                                \
    "sxtb16 %[t3], %[t1]\n\t"                                                                \
    "sxtb16 %[t1], %[t1], ror #8\n\t"                                                        \
    "smlabb %[a0], %[t2], %[t3], %[a0]\n\t"                                                  \
    "smlatt %[a2], %[t2], %[t3], %[a2]\n\t"                                                  \
    "smlabb %[a1], %[t0], %[t1], %[a1]\n\t"                                                  \
    "smlatt %[a3], %[t0], %[t1], %[a3]\n\t"
#define DW_ASM_OPERANDS                                                                      \
    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0),          \
      [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                         \
    : [xp] "r"(xp), [wp] "r"(wp), [c1] "r"(C), [c2] "r"(2 * C), [io] "r"(ioff2)             \
    : "memory"
#define DW_ROW3 __asm__ volatile(DW_ASM_TAP("") DW_ASM_TAP(", %[c1]") DW_ASM_TAP(", %[c2]") DW_ASM_OPERANDS)
#define DW_ROW2 __asm__ volatile(DW_ASM_TAP("") DW_ASM_TAP(", %[c1]") DW_ASM_OPERANDS)
#else
#define DW_ROW3 do { DW_TAP(xp, wp); DW_TAP(xp + C, wp + C); DW_TAP(xp + 2 * C, wp + 2 * C); } while (0)
#define DW_ROW2 do { DW_TAP(xp, wp); DW_TAP(xp + C, wp + C); } while (0)
#endif

/* Accumulators of ngroups x 4 channels over nty kernel rows of 3 (2) taps C bytes apart in
 * input and filter (dilation 1); acc[] holds the bias on entry. */
#define DW_ROWS(name, ROW)                                                                   \
    static TM_NOINLINE void name(const int8_t *xb, const int8_t *wb, const dw_geom *g,       \
                                 int32_t *acc, int ngroups)                                  \
    {                                                                                        \
        const uint32_t ioff2 = g->ioff2;                                                     \
        const int C = g->C, xrow = g->xrow, wrow = g->wrow, nty = g->nty;                    \
        for (; ngroups > 0; ngroups--, xb += 4, wb += 4, acc += 4) {                         \
            int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];                      \
            uint32_t t0, t1, t2, t3;                                                         \
            (void)t0; (void)t1; (void)t2; (void)t3;                                          \
            const int8_t *xp = xb, *wp = wb;                                                 \
            for (int ty = nty; ty > 0; ty--, xp += xrow, wp += wrow) ROW;                    \
            acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;                              \
        }                                                                                    \
    }
DW_ROWS(dw_rows3, DW_ROW3)
DW_ROWS(dw_rows2, DW_ROW2)

/* Any geometry. */
static TM_NOINLINE void dw_acc4(const int8_t *xb, const int8_t *wb, const dw_geom *g, int32_t *acc, int ngroups)
{
    const uint32_t ioff2 = g->ioff2;
    for (; ngroups > 0; ngroups--, xb += 4, wb += 4, acc += 4) {
        int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
        const int8_t *xp = xb, *wp = wb;
        for (int ty = 0; ty < g->nty; ty++, xp += g->xrow, wp += g->wrow) {
            const int8_t *xq = xp, *wq = wp;
            for (int tx = 0; tx < g->ntx; tx++, xq += g->xstep, wq += g->C) DW_TAP(xq, wq);
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
    }
}

/* Channels per accumulator block (stack: 4 bytes each). */
#ifndef TM_DW_CHUNK
#define TM_DW_CHUNK 64
#endif

int tm_opt_dwconv(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    const int N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
    if (op->p[P_DEPTH_MULT] != 1 || (C & 3) != 0 || !rq_ok(op, C)) return 0;
    const int KH = f->dims[1], KW = f->dims[2], OH = o->dims[1], OW = o->dims[2];
    const int dh = op->p[P_DIL_H], dw = op->p[P_DIL_W];
    const int8_t *w = (const int8_t *)f->data;
    const int32_t *bias = bias_of(k);
    const int32_t *mult = op->mult, *shift = op->shift;
    const int32_t ioff = op->p[P_IN_OFFSET], ooff = op->p[P_OUT_OFFSET];
    const int32_t amin = op->p[P_ACT_MIN], amax = op->p[P_ACT_MAX];
    const int nols = no_left_shift(op, C);
    dw_geom g;
    g.ioff2 = ((uint32_t)ioff & 0xffffu) | ((uint32_t)ioff << 16);
    g.xstep = dw * C;
    g.xrow = dh * W * C;
    g.wrow = KW * C;
    g.C = C;
    for (int b = 0; b < N; b++) {
        const int8_t *x = (const int8_t *)in->data + (size_t)b * H * W * C;
        for (int oy = 0; oy < OH; oy++) {
            const int iy0 = oy * op->p[P_STRIDE_H] - op->p[P_PAD_H];
            int ky0, ky1;
            tap_range(iy0, dh, H, KH, &ky0, &ky1);
            g.nty = ky1 - ky0;
            for (int ox = 0; ox < OW; ox++) {
                const int ix0 = ox * op->p[P_STRIDE_W] - op->p[P_PAD_W];
                int kx0, kx1;
                tap_range(ix0, dw, W, KW, &kx0, &kx1);
                g.ntx = kx1 - kx0;
                int8_t *yo = (int8_t *)o->data + (((size_t)b * OH + oy) * OW + ox) * C;
                const int8_t *xb = x + ((ptrdiff_t)(iy0 + dh * ky0) * W + (ix0 + dw * kx0)) * C;
                const int8_t *wb = w + ((size_t)ky0 * KW + kx0) * C;
                for (int c = 0; c < C; c += TM_DW_CHUNK) {
                    const int n = C - c < TM_DW_CHUNK ? C - c : TM_DW_CHUNK;
                    int32_t acc[TM_DW_CHUNK];
                    if (bias) memcpy(acc, bias + c, 4u * (uint32_t)n);
                    else memset(acc, 0, 4u * (uint32_t)n);
                    if (g.xstep == C && g.ntx == 3) dw_rows3(xb + c, wb + c, &g, acc, n / 4);
                    else if (g.xstep == C && g.ntx == 2) dw_rows2(xb + c, wb + c, &g, acc, n / 4);
                    else dw_acc4(xb + c, wb + c, &g, acc, n / 4);
                    requant(acc, NULL, mult + c, shift + c, n, yo + c, ooff, amin, amax, nols);
                }
            }
        }
    }
    return 1;
}

int tm_opt_fc(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    if (!op->wsum || op->p[P_W_OFFSET] != 0) return 0;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    if (!rq_ok(op, f->dims[0])) return 0;
    const int OC = f->dims[0], D = f->dims[1], B = (int)(tm_elems(in) / (uint32_t)D);
    const int8_t *w = (const int8_t *)f->data;
    const int32_t ooff = op->p[P_OUT_OFFSET], amin = op->p[P_ACT_MIN], amax = op->p[P_ACT_MAX];
    const int nols = no_left_shift(op, OC);
    int32_t acc[TM_CONV_CHUNK], tm[TM_CONV_CHUNK], ts[TM_CONV_CHUNK];
    if (!op->mult) /* per-tensor: the same multiplier for every row */
        for (int j = 0; j < TM_CONV_CHUNK; j++) {
            tm[j] = op->p[14];
            ts[j] = op->p[15];
        }
    for (int b = 0; b < B; b++) {
        const int8_t *x = (const int8_t *)in->data + (size_t)b * D;
        int8_t *y = (int8_t *)o->data + (size_t)b * OC;
        for (int c0 = 0; c0 < OC; c0 += TM_CONV_CHUNK) {
            const int n = OC - c0 < TM_CONV_CHUNK ? OC - c0 : TM_CONV_CHUNK;
            for (int j = 0; j < n; j += 2) {
                const int oc = c0 + j, two = j + 1 < n;
                int32_t a1;
                dot2(x, w + (size_t)oc * D, w + (size_t)(two ? oc + 1 : oc) * D, D, &acc[j], &a1);
                if (two) acc[j + 1] = a1;
            }
            requant(acc, op->wsum + c0, op->mult ? op->mult + c0 : tm, op->mult ? op->shift + c0 : ts, n, y + c0,
                    ooff, amin, amax, nols);
        }
    }
    return 1;
}

#else /* reference build: no optimized kernels */

int32_t tm_opt_conv_scratch(const tm_interp_t *ip, const tm_op_t *op) { (void)ip; (void)op; return 0; }
void tm_opt_prepare(tm_interp_t *ip, tm_op_t *op) { (void)ip; (void)op; }
int tm_opt_conv(const tm_kctx *k) { (void)k; return 0; }
int tm_opt_dwconv(const tm_kctx *k) { (void)k; return 0; }
int tm_opt_fc(const tm_kctx *k) { (void)k; return 0; }

#endif
