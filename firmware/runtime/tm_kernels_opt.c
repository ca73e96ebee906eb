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
 *   CONV_2D:  im2col of one output pixel (KH*KW*C bytes of planned scratch; 1x1
 *             kernels read the input pixel in place), then two output channels per
 *             pass over it, 8 bytes per loop iteration.
 *   DEPTHWISE (depth multiplier 1): four channels at a time, SXTB16 + SADD16 to add
 *             the input offset to two lanes, SMLABB / SMLATT per lane.
 *   FULLY_CONNECTED: two output rows per pass, 8 bytes per iteration.
 * Other shapes (grouped conv, depth multiplier > 1, non-zero weight zero point) fall
 * back to the reference kernels.
 */
#include "tm_internal.h"

#if defined(TM_OPTIMIZED) && TM_OPTIMIZED
#include "tm_dsp.h"

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

/* Bias, requantization, output offset and activation clamp for channel oc. */
static int8_t finish(const tm_op_t *op, int32_t acc, int oc, const int32_t *bias, int32_t m, int s)
{
    acc = (int32_t)((uint32_t)acc + (uint32_t)op->p[P_IN_OFFSET] * (uint32_t)op->wsum[oc]);
    if (bias) acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
    acc = tm_mbqm(acc, m, s);
    acc = (int32_t)((uint32_t)acc + (uint32_t)op->p[P_OUT_OFFSET]);
    return (int8_t)tm_clamp(acc, op->p[P_ACT_MIN], op->p[P_ACT_MAX]);
}

static const int32_t *bias_of(const tm_kctx *k)
{
    return (k->op->n_in >= 3 && k->op->in[2] >= 0) ? (const int32_t *)tm_in(k, 2)->data : NULL;
}

int32_t tm_opt_conv_scratch(const tm_interp_t *ip, const tm_op_t *op)
{
    const tm_tensor_t *in = &ip->tensors[op->in[0]], *f = &ip->tensors[op->in[1]];
    if (in->dims[3] != f->dims[3]) return 0; /* grouped: reference kernel */
    return f->dims[1] * f->dims[2] * f->dims[3];
}

void tm_opt_prepare(tm_interp_t *ip, tm_op_t *op)
{
    const tm_tensor_t *f = &ip->tensors[op->in[1]];
    if (op->code == OP_CONV_2D && ip->tensors[op->in[0]].dims[3] != f->dims[3]) return;
    const int nch = f->dims[0], n = (int)(tm_elems(f) / (uint32_t)nch);
    op->wsum = (int32_t *)tm_tail_alloc(ip, 4u * (uint32_t)nch);
    if (!op->wsum) return;
    const int8_t *w = (const int8_t *)f->data;
    for (int c = 0; c < nch; c++) {
        int32_t s = 0;
        for (int i = 0; i < n; i++) s += w[(size_t)c * n + i];
        op->wsum[c] = s;
    }
}

int tm_opt_conv(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    if (!op->wsum || !k->scratch) return 0;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    const int N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
    const int KH = f->dims[1], KW = f->dims[2], K = KH * KW * C;
    const int OH = o->dims[1], OW = o->dims[2], OC = o->dims[3];
    const int8_t *x = (const int8_t *)in->data, *w = (const int8_t *)f->data;
    int8_t *patch = (int8_t *)k->scratch, *y = (int8_t *)o->data;
    const int32_t *bias = bias_of(k);
    const int zp = -op->p[P_IN_OFFSET];
    for (int b = 0; b < N; b++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                const int iy0 = oy * op->p[P_STRIDE_H] - op->p[P_PAD_H];
                const int ix0 = ox * op->p[P_STRIDE_W] - op->p[P_PAD_W];
                const int8_t *px = patch;
                if (KH == 1 && KW == 1 && iy0 >= 0 && iy0 < H && ix0 >= 0 && ix0 < W) {
                    px = x + (((size_t)b * H + iy0) * W + ix0) * C; /* 1x1: the pixel is the patch */
                } else {
                    for (int ky = 0; ky < KH; ky++)
                        for (int kx = 0; kx < KW; kx++) {
                            const int iy = iy0 + op->p[P_DIL_H] * ky, ix = ix0 + op->p[P_DIL_W] * kx;
                            int8_t *dst = patch + (ky * KW + kx) * C;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) memset(dst, (int8_t)zp, (size_t)C);
                            else memcpy(dst, x + (((size_t)b * H + iy) * W + ix) * C, (size_t)C);
                        }
                }
                int8_t *yo = y + (((size_t)b * OH + oy) * OW + ox) * OC;
                int oc = 0;
                for (; oc + 2 <= OC; oc += 2) {
                    int32_t a0, a1;
                    dot2(px, w + (size_t)oc * K, w + (size_t)(oc + 1) * K, K, &a0, &a1);
                    yo[oc] = finish(op, a0, oc, bias, op->mult[oc], op->shift[oc]);
                    yo[oc + 1] = finish(op, a1, oc + 1, bias, op->mult[oc + 1], op->shift[oc + 1]);
                }
                if (oc < OC) {
                    int32_t a0, a1;
                    dot2(px, w + (size_t)oc * K, w + (size_t)oc * K, K, &a0, &a1);
                    yo[oc] = finish(op, a0, oc, bias, op->mult[oc], op->shift[oc]);
                }
            }
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

int tm_opt_dwconv(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    if (op->p[P_DEPTH_MULT] != 1) return 0;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    const int N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
    const int KH = f->dims[1], KW = f->dims[2], OH = o->dims[1], OW = o->dims[2];
    const int dh = op->p[P_DIL_H], dw = op->p[P_DIL_W];
    const int8_t *w = (const int8_t *)f->data;
    const int32_t *bias = bias_of(k);
    const int32_t ioff = op->p[P_IN_OFFSET];
    const uint32_t ioff2 = ((uint32_t)ioff & 0xffffu) | ((uint32_t)ioff << 16);
    const size_t xstep = (size_t)dw * C; /* bytes between horizontal taps */
    for (int b = 0; b < N; b++) {
        const int8_t *x = (const int8_t *)in->data + (size_t)b * H * W * C;
        for (int oy = 0; oy < OH; oy++) {
            const int iy0 = oy * op->p[P_STRIDE_H] - op->p[P_PAD_H];
            int ky0, ky1;
            tap_range(iy0, dh, H, KH, &ky0, &ky1);
            for (int ox = 0; ox < OW; ox++) {
                const int ix0 = ox * op->p[P_STRIDE_W] - op->p[P_PAD_W];
                int kx0, kx1;
                tap_range(ix0, dw, W, KW, &kx0, &kx1);
                int8_t *yo = (int8_t *)o->data + (((size_t)b * OH + oy) * OW + ox) * C;
                for (int c = 0; c < C; c += 4) {
                    const int lanes = C - c < 4 ? C - c : 4;
                    int32_t acc[4] = {0, 0, 0, 0};
                    for (int ky = ky0; ky < ky1; ky++) {
                        const int8_t *xp = x + ((size_t)(iy0 + dh * ky) * W + (ix0 + dw * kx0)) * C + c;
                        const int8_t *wp = w + ((size_t)ky * KW + kx0) * C + c;
                        if (lanes == 4) {
                            int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
                            for (int kx = kx0; kx < kx1; kx++, xp += xstep, wp += C) {
                                uint32_t xv = tm_ld32(xp), wv = tm_ld32(wp);
                                uint32_t x02 = tm_sadd16(tm_sxtb16(xv), ioff2);
                                uint32_t x13 = tm_sadd16(tm_sxtb16_ror8(xv), ioff2);
                                uint32_t w02 = tm_sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
                                a0 = tm_smlabb(x02, w02, a0);
                                a2 = tm_smlatt(x02, w02, a2);
                                a1 = tm_smlabb(x13, w13, a1);
                                a3 = tm_smlatt(x13, w13, a3);
                            }
                            acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
                        } else {
                            for (int kx = kx0; kx < kx1; kx++, xp += xstep, wp += C)
                                for (int l = 0; l < lanes; l++)
                                    acc[l] = (int32_t)((uint32_t)acc[l] + (uint32_t)(wp[l] * (xp[l] + ioff)));
                        }
                    }
                    for (int l = 0; l < lanes; l++) {
                        int32_t a = acc[l];
                        if (bias) a = (int32_t)((uint32_t)a + (uint32_t)bias[c + l]);
                        a = tm_mbqm(a, op->mult[c + l], op->shift[c + l]);
                        a = (int32_t)((uint32_t)a + (uint32_t)op->p[P_OUT_OFFSET]);
                        yo[c + l] = (int8_t)tm_clamp(a, op->p[P_ACT_MIN], op->p[P_ACT_MAX]);
                    }
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
    const int OC = f->dims[0], D = f->dims[1], B = (int)(tm_elems(in) / (uint32_t)D);
    const int8_t *w = (const int8_t *)f->data;
    const int32_t *bias = bias_of(k);
    for (int b = 0; b < B; b++) {
        const int8_t *x = (const int8_t *)in->data + (size_t)b * D;
        int8_t *y = (int8_t *)o->data + (size_t)b * OC;
        for (int oc = 0; oc < OC; oc += 2) {
            const int two = oc + 1 < OC;
            int32_t a0, a1;
            dot2(x, w + (size_t)oc * D, w + (size_t)(two ? oc + 1 : oc) * D, D, &a0, &a1);
            for (int j = 0; j <= two; j++) {
                const int c = oc + j;
                y[c] = op->mult ? finish(op, j ? a1 : a0, c, bias, op->mult[c], op->shift[c])
                                : finish(op, j ? a1 : a0, c, bias, op->p[14], op->p[15]);
            }
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
