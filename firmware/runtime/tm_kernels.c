/*
 * tm_kernels.c - reference kernels, int8 and float32.
 *
 * Each kernel repeats the arithmetic of the matching TFLite reference kernel
 * (tensorflow/lite/kernels/internal/reference/...), in the same order for float
 * sums, so outputs match TFLM's reference build byte for byte:
 *   int8 conv / depthwise / FC: int32 accumulation of filter * (input + input_offset)
 *   (+ bias), MultiplyByQuantizedMultiplier per channel, + output offset, clamp to
 *   the fused activation range (integer_ops/conv.h, depthwise_conv.h,
 *   fully_connected.h).
 * Integer sums are accumulated modulo 2^32 (through uint32) so a hostile model can
 * make them wrap but never invoke undefined behaviour.
 */
#include <math.h>
#include "tm_internal.h"

#define ADDW(acc, v) ((acc) = (int32_t)((uint32_t)(acc) + (uint32_t)(v)))

/* static_cast<int32_t>(float) as the x86 host build of TFLM does it: out-of-range and
 * NaN give INT32_MIN (the "integer indefinite" value of cvttss2si). */
static int32_t f2i(float f)
{
    if (!(f >= -2147483648.0f && f < 2147483648.0f)) return INT32_MIN;
    return (int32_t)f;
}

static const void *bias_ptr(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    return (op->n_in >= 3 && op->in[2] >= 0) ? tm_in(k, 2)->data : NULL;
}

/* ---- CONV_2D (reference_ops::Conv, reference_integer_ops::ConvPerChannel) ----- */
void tm_k_conv(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    if ((op->flags & OPF_INT8) && tm_opt_conv(k)) return;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    const int N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
    const int KH = f->dims[1], KW = f->dims[2], I = f->dims[3];
    const int OH = o->dims[1], OW = o->dims[2], OC = o->dims[3];
    const int fpg = OC / (C / I);
    const int sw = op->p[P_STRIDE_W], sh = op->p[P_STRIDE_H], dw = op->p[P_DIL_W], dh = op->p[P_DIL_H];
    const int pw = op->p[P_PAD_W], ph = op->p[P_PAD_H];
    const void *bias = bias_ptr(k);
    for (int b = 0; b < N; b++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int oc = 0; oc < OC; oc++) {
                    const int iy0 = oy * sh - ph, ix0 = ox * sw - pw, c0 = (oc / fpg) * I;
                    const size_t oi = (((size_t)b * OH + oy) * OW + ox) * OC + oc;
                    if (op->flags & OPF_INT8) {
                        const int8_t *x = (const int8_t *)in->data, *w = (const int8_t *)f->data;
                        const int32_t ioff = op->p[P_IN_OFFSET];
                        int32_t acc = 0;
                        for (int ky = 0; ky < KH; ky++) {
                            const int iy = iy0 + dh * ky;
                            for (int kx = 0; kx < KW; kx++) {
                                const int ix = ix0 + dw * kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                const int8_t *xp = x + (((size_t)b * H + iy) * W + ix) * C + c0;
                                const int8_t *wp = w + (((size_t)oc * KH + ky) * KW + kx) * I;
                                for (int ic = 0; ic < I; ic++) ADDW(acc, wp[ic] * (xp[ic] + ioff));
                            }
                        }
                        if (bias) ADDW(acc, ((const int32_t *)bias)[oc]);
                        acc = tm_mbqm(acc, op->mult[oc], op->shift[oc]);
                        ADDW(acc, op->p[P_OUT_OFFSET]);
                        ((int8_t *)o->data)[oi] = (int8_t)tm_clamp(acc, op->p[P_ACT_MIN], op->p[P_ACT_MAX]);
                    } else {
                        const float *x = (const float *)in->data, *w = (const float *)f->data;
                        float total = 0.0f;
                        for (int ky = 0; ky < KH; ky++) {
                            const int iy = iy0 + dh * ky;
                            for (int kx = 0; kx < KW; kx++) {
                                const int ix = ix0 + dw * kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                const float *xp = x + (((size_t)b * H + iy) * W + ix) * C + c0;
                                const float *wp = w + (((size_t)oc * KH + ky) * KW + kx) * I;
                                for (int ic = 0; ic < I; ic++) total += xp[ic] * wp[ic];
                            }
                        }
                        float bv = bias ? ((const float *)bias)[oc] : 0.0f;
                        ((float *)o->data)[oi] = tm_fclamp(total + bv, tm_p2f(op->p[P_ACT_MIN]), tm_p2f(op->p[P_ACT_MAX]));
                    }
                }
}

/* ---- DEPTHWISE_CONV_2D (reference_ops::DepthwiseConv, DepthwiseConvPerChannel) -- */
void tm_k_dwconv(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    if ((op->flags & OPF_INT8) && tm_opt_dwconv(k)) return;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    const int N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
    const int KH = f->dims[1], KW = f->dims[2];
    const int OH = o->dims[1], OW = o->dims[2], OC = o->dims[3], DM = op->p[P_DEPTH_MULT];
    const int sw = op->p[P_STRIDE_W], sh = op->p[P_STRIDE_H], dw = op->p[P_DIL_W], dh = op->p[P_DIL_H];
    const int pw = op->p[P_PAD_W], ph = op->p[P_PAD_H];
    const void *bias = bias_ptr(k);
    for (int b = 0; b < N; b++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int ic = 0; ic < C; ic++)
                    for (int m = 0; m < DM; m++) {
                        const int oc = m + ic * DM, iy0 = oy * sh - ph, ix0 = ox * sw - pw;
                        const size_t oi = (((size_t)b * OH + oy) * OW + ox) * OC + oc;
                        if (op->flags & OPF_INT8) {
                            const int8_t *x = (const int8_t *)in->data, *w = (const int8_t *)f->data;
                            int32_t acc = 0;
                            for (int ky = 0; ky < KH; ky++)
                                for (int kx = 0; kx < KW; kx++) {
                                    const int iy = iy0 + dh * ky, ix = ix0 + dw * kx;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                    ADDW(acc, w[((size_t)ky * KW + kx) * OC + oc] *
                                                  (x[(((size_t)b * H + iy) * W + ix) * C + ic] + op->p[P_IN_OFFSET]));
                                }
                            if (bias) ADDW(acc, ((const int32_t *)bias)[oc]);
                            acc = tm_mbqm(acc, op->mult[oc], op->shift[oc]);
                            ADDW(acc, op->p[P_OUT_OFFSET]);
                            ((int8_t *)o->data)[oi] = (int8_t)tm_clamp(acc, op->p[P_ACT_MIN], op->p[P_ACT_MAX]);
                        } else {
                            const float *x = (const float *)in->data, *w = (const float *)f->data;
                            float total = 0.0f;
                            for (int ky = 0; ky < KH; ky++)
                                for (int kx = 0; kx < KW; kx++) {
                                    const int iy = iy0 + dh * ky, ix = ix0 + dw * kx;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                    total += x[(((size_t)b * H + iy) * W + ix) * C + ic] * w[((size_t)ky * KW + kx) * OC + oc];
                                }
                            float bv = bias ? ((const float *)bias)[oc] : 0.0f;
                            ((float *)o->data)[oi] = tm_fclamp(total + bv, tm_p2f(op->p[P_ACT_MIN]), tm_p2f(op->p[P_ACT_MAX]));
                        }
                    }
}

/* ---- FULLY_CONNECTED (reference_ops / reference_integer_ops::FullyConnected) ---- */
void tm_k_fc(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    if ((op->flags & OPF_INT8) && tm_opt_fc(k)) return;
    const tm_tensor_t *in = tm_in(k, 0), *f = tm_in(k, 1), *o = tm_out(k);
    const int OC = f->dims[0], D = f->dims[1];
    const int B = (int)(tm_elems(in) / (uint32_t)D);
    const void *bias = bias_ptr(k);
    for (int b = 0; b < B; b++)
        for (int oc = 0; oc < OC; oc++) {
            if (op->flags & OPF_INT8) {
                const int8_t *x = (const int8_t *)in->data + (size_t)b * D;
                const int8_t *w = (const int8_t *)f->data + (size_t)oc * D;
                int32_t acc = 0;
                for (int d = 0; d < D; d++) ADDW(acc, (w[d] + op->p[P_W_OFFSET]) * (x[d] + op->p[P_IN_OFFSET]));
                if (bias) ADDW(acc, ((const int32_t *)bias)[oc]);
                acc = op->mult ? tm_mbqm(acc, op->mult[oc], op->shift[oc]) : tm_mbqm(acc, op->p[14], op->p[15]);
                ADDW(acc, op->p[P_OUT_OFFSET]);
                ((int8_t *)o->data)[(size_t)b * OC + oc] = (int8_t)tm_clamp(acc, op->p[P_ACT_MIN], op->p[P_ACT_MAX]);
            } else {
                const float *x = (const float *)in->data + (size_t)b * D;
                const float *w = (const float *)f->data + (size_t)oc * D;
                float total = 0.0f;
                for (int d = 0; d < D; d++) total += x[d] * w[d];
                float bv = bias ? ((const float *)bias)[oc] : 0.0f;
                ((float *)o->data)[(size_t)b * OC + oc] = tm_fclamp(total + bv, tm_p2f(op->p[P_ACT_MIN]), tm_p2f(op->p[P_ACT_MAX]));
            }
        }
}

/* ---- AVERAGE_POOL_2D / MAX_POOL_2D (reference pooling.h, integer_ops/pooling.h) -- */
void tm_k_pool(const tm_kctx *k, int is_max)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const int N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
    const int OH = o->dims[1], OW = o->dims[2], FH = op->p[P_FILTER_H], FW = op->p[P_FILTER_W];
    for (int b = 0; b < N; b++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int c = 0; c < C; c++) {
                    const int iy0 = oy * op->p[P_STRIDE_H] - op->p[P_PAD_H];
                    const int ix0 = ox * op->p[P_STRIDE_W] - op->p[P_PAD_W];
                    const int fy0 = iy0 < 0 ? -iy0 : 0, fx0 = ix0 < 0 ? -ix0 : 0;
                    const int fy1 = FH < H - iy0 ? FH : H - iy0, fx1 = FW < W - ix0 ? FW : W - ix0;
                    const size_t oi = (((size_t)b * OH + oy) * OW + ox) * C + c;
                    int32_t acc = is_max ? -128 : 0, cnt = 0;
                    float total = is_max ? -3.402823466e+38f : 0.0f;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++) {
                            const size_t ii = (((size_t)b * H + iy0 + fy) * W + ix0 + fx) * C + c;
                            if (op->flags & OPF_INT8) {
                                int32_t v = ((const int8_t *)in->data)[ii];
                                acc = is_max ? (v > acc ? v : acc) : acc + v;
                            } else {
                                float v = ((const float *)in->data)[ii];
                                total = is_max ? (v > total ? v : total) : total + v;
                            }
                            cnt++;
                        }
                    if (op->flags & OPF_INT8) {
                        if (!is_max && cnt) /* round half away from zero */
                            acc = acc > 0 ? (acc + cnt / 2) / cnt : (acc - cnt / 2) / cnt;
                        ((int8_t *)o->data)[oi] = (int8_t)tm_clamp(acc, op->p[P_ACT_MIN], op->p[P_ACT_MAX]);
                    } else {
                        if (!is_max && cnt) total = total / (float)cnt;
                        ((float *)o->data)[oi] = tm_fclamp(total, tm_p2f(op->p[P_ACT_MIN]), tm_p2f(op->p[P_ACT_MAX]));
                    }
                }
}

/* ---- SOFTMAX (reference_ops::Softmax: float, and the gemmlowp fixed-point int8) -- */
void tm_k_softmax(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const int depth = in->dims[in->ndims - 1];
    const int outer = (int)(tm_elems(in) / (uint32_t)depth);
    for (int r = 0; r < outer; r++) {
        if (!(op->flags & OPF_INT8)) {
            const float *x = (const float *)in->data + (size_t)r * depth;
            float *y = (float *)o->data + (size_t)r * depth, mx = -3.402823466e+38f, sum = 0.0f;
            const float beta = tm_p2f(op->p[0]);
            for (int c = 0; c < depth; c++) mx = x[c] > mx ? x[c] : mx;
            for (int c = 0; c < depth; c++) sum += expf((x[c] - mx) * beta);
            for (int c = 0; c < depth; c++) y[c] = expf((x[c] - mx) * beta) / sum;
            continue;
        }
        const int8_t *x = (const int8_t *)in->data + (size_t)r * depth;
        int8_t *y = (int8_t *)o->data + (size_t)r * depth;
        int32_t mx = -128, sum = 0;
        for (int c = 0; c < depth; c++) mx = x[c] > mx ? x[c] : mx;
        for (int c = 0; c < depth; c++) {
            int32_t diff = x[c] - mx;
            if (diff >= op->p[2]) { /* Q5.26 scaled diff, exp in Q0.31, sum in Q12.19 */
                int32_t sd = tm_srdhm((int32_t)((uint32_t)diff << op->p[1]), op->p[0]);
                ADDW(sum, tm_rdbypot(tm_exp_on_negative(sd, 5), 12));
            }
        }
        int nbou;
        int32_t scale = tm_get_reciprocal(sum, 12, &nbou);
        int e = nbou + 31 - 8;
        for (int c = 0; c < depth; c++) {
            int32_t diff = x[c] - mx, v = -128;
            if (diff >= op->p[2]) {
                int32_t sd = tm_srdhm((int32_t)((uint32_t)diff << op->p[1]), op->p[0]);
                int32_t p = tm_srdhm(scale, tm_exp_on_negative(sd, 5));
                v = tm_clamp((e > 31 ? 0 : tm_rdbypot(p, e)) - 128, -128, 127);
            }
            y[c] = (int8_t)v;
        }
    }
}

/* ---- RESHAPE ---------------------------------------------------------------------- */
void tm_k_copy(const tm_kctx *k)
{
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    if (in->data != o->data) memmove(o->data, in->data, o->bytes);
}

/* ---- ADD / MUL (reference add.h, mul.h, integer_ops/add.h, mul.h) ---------------- */

/* Input element index for output index `oi` under numpy broadcasting. */
static uint32_t bidx(const tm_tensor_t *t, const tm_tensor_t *o, uint32_t oi)
{
    uint32_t idx = 0, stride = 1;
    for (int d = o->ndims - 1; d >= 0; d--) {
        uint32_t c = oi % (uint32_t)o->dims[d];
        oi /= (uint32_t)o->dims[d];
        int td = d - (o->ndims - t->ndims);
        if (td < 0) break;
        if (t->dims[td] != 1) idx += c * stride;
        stride *= (uint32_t)t->dims[td];
    }
    return idx;
}

void tm_k_add_mul(const tm_kctx *k, int is_mul)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *a = tm_in(k, 0), *b = tm_in(k, 1), *o = tm_out(k);
    const uint32_t n = tm_elems(o);
    const int bc = (op->flags & OPF_BCAST) != 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ia = bc ? bidx(a, o, i) : i, ib = bc ? bidx(b, o, i) : i;
        if (!(op->flags & OPF_INT8)) {
            float x = ((const float *)a->data)[ia], y = ((const float *)b->data)[ib];
            ((float *)o->data)[i] = tm_fclamp(is_mul ? x * y : x + y, tm_p2f(op->p[P_EW_ACT_MIN]), tm_p2f(op->p[P_EW_ACT_MAX]));
            continue;
        }
        int32_t x = ((const int8_t *)a->data)[ia] + op->p[P_IN1_OFF];
        int32_t y = ((const int8_t *)b->data)[ib] + op->p[P_IN2_OFF];
        int32_t r;
        if (is_mul) {
            r = tm_mbqm(x * y, op->p[P_OUT_MULT], op->p[P_OUT_SHIFT]);
        } else {
            int32_t sx = tm_mbqm(x * (1 << op->p[P_LSHIFT]), op->p[P_IN1_MULT], op->p[P_IN1_SHIFT]);
            int32_t sy = tm_mbqm(y * (1 << op->p[P_LSHIFT]), op->p[P_IN2_MULT], op->p[P_IN2_SHIFT]);
            r = tm_mbqm((int32_t)((uint32_t)sx + (uint32_t)sy), op->p[P_OUT_MULT], op->p[P_OUT_SHIFT]);
        }
        ADDW(r, op->p[P_OUT_OFF]);
        ((int8_t *)o->data)[i] = (int8_t)tm_clamp(r, op->p[P_EW_ACT_MIN], op->p[P_EW_ACT_MAX]);
    }
}

/* ---- QUANTIZE / DEQUANTIZE (reference quantize.h, requantize.h, dequantize.h) ---- */
void tm_k_quantize(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const uint32_t n = tm_elems(o);
    int8_t *y = (int8_t *)o->data;
    for (uint32_t i = 0; i < n; i++) {
        int32_t v;
        if (op->flags & OPF_REQUANT)
            v = tm_mbqm(((const int8_t *)in->data)[i] - op->p[0], op->p[2], op->p[3]);
        else
            v = f2i(tm_roundf(((const float *)in->data)[i] / tm_p2f(op->p[0])));
        ADDW(v, op->p[1]);
        y[i] = (int8_t)tm_clamp(v, -128, 127);
    }
}

void tm_k_dequantize(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const uint32_t n = tm_elems(o);
    /* TFLite computes float(double(scale) * (v - zp)). That double product is exact
     * (24-bit significand times a 9-bit integer), so rounding it to float equals the
     * single float multiply below: same bits, no soft-float double on the M4. */
    const float scale = tm_p2f(op->p[1]);
    for (uint32_t i = 0; i < n; i++)
        ((float *)o->data)[i] = scale * (float)(((const int8_t *)in->data)[i] - op->p[0]);
}

/* ---- LOGISTIC / TANH (reference_ops float; integer_ops logistic.h, tanh.h) -------- */
static void act_int8(const tm_kctx *k, int is_tanh)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const uint32_t n = tm_elems(o);
    for (uint32_t i = 0; i < n; i++) {
        int32_t x = ((const int8_t *)in->data)[i] - op->p[0], v;
        if (x <= -op->p[1]) v = -128;
        else if (x >= op->p[1]) v = 127;
        else {
            int32_t q4 = tm_mbqm(x, op->p[2], op->p[3]); /* Q4.27 */
            if (is_tanh) v = tm_rdbypot(tm_tanh_q(q4, 4), 24);
            else v = tm_rdbypot(tm_logistic_q(q4, 4), 23) - 128;
            v = tm_clamp(v, -128, 127);
        }
        ((int8_t *)o->data)[i] = (int8_t)v;
    }
}

void tm_k_logistic(const tm_kctx *k)
{
    if (k->op->flags & OPF_INT8) { act_int8(k, 0); return; }
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const uint32_t n = tm_elems(o);
    for (uint32_t i = 0; i < n; i++) {
        float v = ((const float *)in->data)[i], r;
        if (v > 16.619047164916992188f) r = 1.0f;
        else if (v < -9.0f) r = expf(v);
        else r = 1.0f / (1.0f + expf(-v));
        ((float *)o->data)[i] = r;
    }
}

void tm_k_tanh(const tm_kctx *k)
{
    if (k->op->flags & OPF_INT8) { act_int8(k, 1); return; }
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const uint32_t n = tm_elems(o);
    for (uint32_t i = 0; i < n; i++) ((float *)o->data)[i] = tanhf(((const float *)in->data)[i]);
}

/* ---- MEAN (reference reduce.h: Mean for float, integer QuantizedMeanOrSum for int8) */
void tm_k_mean(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const uint32_t mask = (uint32_t)op->p[0], n_in = tm_elems(in), n_out = tm_elems(o);
    const int q = (op->flags & OPF_INT8) != 0;
    int32_t *isum = (int32_t *)(void *)k->scratch;
    float *fsum = (float *)(void *)k->scratch;
    int32_t coord[TM_MAX_DIMS] = {0};
    uint32_t cnt = 1;
    for (int d = 0; d < in->ndims; d++)
        if (mask & (1u << d)) cnt *= (uint32_t)in->dims[d];
    for (uint32_t i = 0; i < n_out; i++) {
        if (q) isum[i] = 0;
        else fsum[i] = 0.0f;
    }
    for (uint32_t i = 0; i < n_in; i++) {
        uint32_t oi = 0;
        for (int d = 0; d < in->ndims; d++)
            if (!(mask & (1u << d))) oi = oi * (uint32_t)in->dims[d] + (uint32_t)coord[d];
        if (q) ADDW(isum[oi], ((const int8_t *)in->data)[i]);
        else fsum[oi] += ((const float *)in->data)[i];
        for (int d = in->ndims - 1; d >= 0; d--) { /* next coordinate, row-major */
            if (++coord[d] < in->dims[d]) break;
            coord[d] = 0;
        }
    }
    if (!q) {
        for (uint32_t i = 0; i < n_out; i++) ((float *)o->data)[i] = fsum[i] / (float)cnt;
        return;
    }
    /* Integer QuantizedMeanOrSum (reference reduce.h): fold 1/count into the
     * input/output rescale multiplier, then requantize (sum - zp * count). */
    int32_t mult = op->p[6];
    int shift = 63, sh = op->p[7];
    while (!((uint64_t)cnt >> shift)) shift--; /* 63 - CountLeadingZeros(cnt) */
    if (shift > 32) shift = 32;
    if (shift > 31 + sh) shift = 31 + sh;
    mult = (int32_t)((int64_t)((uint64_t)(int64_t)mult << shift) / (int64_t)cnt);
    sh -= shift;
    for (uint32_t i = 0; i < n_out; i++) {
        int32_t v = (int32_t)((int64_t)isum[i] - (int64_t)op->p[2] * (int64_t)cnt);
        v = tm_mbqm(v, mult, sh);
        ADDW(v, op->p[3]);
        ((int8_t *)o->data)[i] = (int8_t)tm_clamp(v, -128, 127);
    }
}

/* ---- CONCATENATION (reference concatenation.h: plain copies) ---------------------- */
void tm_k_concat(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *o = tm_out(k);
    const int axis = op->p[0];
    const uint32_t es = o->bytes / tm_elems(o);
    uint32_t outer = 1, inner = es;
    for (int d = 0; d < axis; d++) outer *= (uint32_t)o->dims[d];
    for (int d = axis + 1; d < o->ndims; d++) inner *= (uint32_t)o->dims[d];
    uint8_t *dst = (uint8_t *)o->data;
    for (uint32_t r = 0; r < outer; r++)
        for (int i = 0; i < op->n_in; i++) {
            const tm_tensor_t *t = tm_in(k, i);
            uint32_t chunk = (uint32_t)t->dims[axis] * inner;
            memcpy(dst, (const uint8_t *)t->data + (size_t)r * chunk, chunk);
            dst += chunk;
        }
}

/* ---- PAD (reference pad.h; the pad value is the output zero point for int8) -------- */
void tm_k_pad(const tm_kctx *k)
{
    const tm_op_t *op = k->op;
    const tm_tensor_t *in = tm_in(k, 0), *o = tm_out(k);
    const uint32_t es = o->bytes / tm_elems(o), n_out = tm_elems(o);
    const int nd = in->ndims;
    if (es == 1) memset(o->data, (int8_t)op->p[12], o->bytes);
    else for (uint32_t i = 0; i < n_out; i++) ((float *)o->data)[i] = 0.0f;
    if (nd == 0) { memcpy(o->data, in->data, in->bytes); return; }
    const uint32_t row = (uint32_t)in->dims[nd - 1] * es;
    const uint32_t rows = tm_elems(in) / (uint32_t)in->dims[nd - 1];
    int32_t coord[TM_MAX_DIMS] = {0};
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t oi = 0;
        for (int d = 0; d < nd; d++)
            oi = oi * (uint32_t)o->dims[d] + (uint32_t)(d < nd - 1 ? coord[d] + op->p[2 * d] : op->p[2 * d]);
        memcpy((uint8_t *)o->data + (size_t)oi * es, (const uint8_t *)in->data + (size_t)r * row, row);
        for (int d = nd - 2; d >= 0; d--) {
            if (++coord[d] < in->dims[d]) break;
            coord[d] = 0;
        }
    }
}
