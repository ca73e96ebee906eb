/*
 * tm_interp.c - model loading (verified flatbuffer reads), op preparation, arena
 * planning and invocation.
 *
 * The .tflite file is a FlatBuffer of TFLite schema v3 (tensorflow/lite/schema/
 * schema.fbs). We read it in place with hand-written accessors: every uoffset,
 * soffset (vtable), vtable entry and vector length is checked against the buffer
 * length before it is used, so a corrupt or truncated model is refused at init with
 * a message, never read out of bounds. Fields read (field id = vtable slot):
 *   Model:    0 version, 1 operator_codes, 2 subgraphs, 4 buffers
 *   SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators
 *   Tensor:   0 shape, 1 type, 2 buffer, 4 quantization
 *   QuantizationParameters: 2 scale[float], 3 zero_point[long], 6 quantized_dimension
 *   Buffer:   0 data[ubyte], 1 offset (ulong, external data: refused)
 *   Operator: 0 opcode_index, 1 inputs, 2 outputs, 4 builtin_options
 *   OperatorCode: 0 deprecated_builtin_code (byte), 1 custom_code, 3 builtin_code
 *     (int); the real code is max(deprecated_builtin_code, builtin_code), as the
 *     schema comment prescribes for codes above 127.
 */
#include <stdarg.h>
#include "tm_internal.h"

/* Op selection: build with -DTM_OPS_SELECT=1 -DTM_OP_CONV_2D=1 -DTM_OP_SOFTMAX=1 ... to
 * compile in only those ops (with -ffunction-sections and --gc-sections the other kernels
 * are left out of the image); a model using another op is refused at init ("not compiled
 * in"). Without TM_OPS_SELECT every op is compiled in. */
#if defined(TM_OPS_SELECT) && TM_OPS_SELECT
#define TM_OPS_ALL 0
#else
#define TM_OPS_ALL 1
#endif
#ifndef TM_OP_CONV_2D
#define TM_OP_CONV_2D TM_OPS_ALL
#endif
#ifndef TM_OP_DEPTHWISE_CONV_2D
#define TM_OP_DEPTHWISE_CONV_2D TM_OPS_ALL
#endif
#ifndef TM_OP_FULLY_CONNECTED
#define TM_OP_FULLY_CONNECTED TM_OPS_ALL
#endif
#ifndef TM_OP_AVERAGE_POOL_2D
#define TM_OP_AVERAGE_POOL_2D TM_OPS_ALL
#endif
#ifndef TM_OP_MAX_POOL_2D
#define TM_OP_MAX_POOL_2D TM_OPS_ALL
#endif
#ifndef TM_OP_SOFTMAX
#define TM_OP_SOFTMAX TM_OPS_ALL
#endif
#ifndef TM_OP_ADD
#define TM_OP_ADD TM_OPS_ALL
#endif
#ifndef TM_OP_MUL
#define TM_OP_MUL TM_OPS_ALL
#endif
#ifndef TM_OP_LOGISTIC
#define TM_OP_LOGISTIC TM_OPS_ALL
#endif
#ifndef TM_OP_TANH
#define TM_OP_TANH TM_OPS_ALL
#endif
#ifndef TM_OP_QUANTIZE
#define TM_OP_QUANTIZE TM_OPS_ALL
#endif
#ifndef TM_OP_DEQUANTIZE
#define TM_OP_DEQUANTIZE TM_OPS_ALL
#endif
#ifndef TM_OP_MEAN
#define TM_OP_MEAN TM_OPS_ALL
#endif
#ifndef TM_OP_CONCATENATION
#define TM_OP_CONCATENATION TM_OPS_ALL
#endif
#ifndef TM_OP_PAD
#define TM_OP_PAD TM_OPS_ALL
#endif
#ifndef TM_OP_RESHAPE
#define TM_OP_RESHAPE TM_OPS_ALL
#endif

/* ---- error messages: a tiny formatter (%s %d %u) to keep printf out of flash --- */

static void tm_vfmt(char *dst, int cap, const char *fmt, va_list ap)
{
    int n = 0;
    for (const char *f = fmt; *f && n < cap - 1; f++) {
        if (*f != '%' || !f[1]) { dst[n++] = *f; continue; }
        f++;
        char num[12];
        const char *s = num;
        if (*f == 's') {
            s = va_arg(ap, const char *);
            if (!s) s = "(null)";
        } else if (*f == 'd' || *f == 'u') {
            uint32_t v;
            int neg = 0, i = 11;
            if (*f == 'd') {
                int32_t x = va_arg(ap, int32_t);
                neg = x < 0;
                v = neg ? 0u - (uint32_t)x : (uint32_t)x;
            } else {
                v = va_arg(ap, uint32_t);
            }
            num[i] = 0;
            do { num[--i] = (char)('0' + v % 10); v /= 10; } while (v);
            if (neg) num[--i] = '-';
            s = num + i;
        } else {
            num[0] = *f; num[1] = 0;
        }
        while (*s && n < cap - 1) dst[n++] = *s++;
    }
    dst[n] = 0;
}

static tm_status fail(tm_interp_t *ip, tm_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm_vfmt(ip->msg, TM_MSG_LEN, fmt, ap);
    va_end(ap);
    ip->ready = 0;
    return st;
}

/* ---- verified flatbuffer access ------------------------------------------------ */

typedef struct {
    const uint8_t *b;
    uint32_t n;
    int bad; /* sticky: set by any failed check */
} fb_t;

typedef struct {
    uint32_t pos;     /* table start */
    uint32_t vt;      /* vtable start */
    uint16_t vt_size; /* vtable bytes */
    uint16_t tsize;   /* table bytes */
} fb_tab;

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* True when [pos, pos+size) lies inside the buffer (no overflow). */
static int fb_in(fb_t *fb, uint64_t pos, uint64_t size)
{
    if (pos > fb->n || size > fb->n - pos) { fb->bad = 1; return 0; }
    return 1;
}

/* Follows the uoffset stored at `at` to a table and validates its vtable. */
static int fb_table(fb_t *fb, uint32_t at, fb_tab *t)
{
    memset(t, 0, sizeof *t);
    if (!fb_in(fb, at, 4)) return 0;
    uint64_t pos = (uint64_t)at + rd32(fb->b + at);
    if (!fb_in(fb, pos, 4)) return 0;
    int64_t vt = (int64_t)pos - (int32_t)rd32(fb->b + pos);
    if (vt < 0 || !fb_in(fb, (uint64_t)vt, 4)) { fb->bad = 1; return 0; }
    uint16_t vs = rd16(fb->b + vt), ts = rd16(fb->b + vt + 2);
    if (vs < 4 || (vs & 1) || ts < 4 || !fb_in(fb, (uint64_t)vt, vs) || !fb_in(fb, pos, ts)) {
        fb->bad = 1;
        return 0;
    }
    t->pos = (uint32_t)pos; t->vt = (uint32_t)vt; t->vt_size = vs; t->tsize = ts;
    return 1;
}

/* Absolute position of field `id` of `size` bytes, 0 when absent (or bad). */
static uint32_t fb_field(fb_t *fb, const fb_tab *t, int id, uint32_t size)
{
    uint32_t slot = 4u + 2u * (uint32_t)id;
    if (!t->pos || slot + 2 > t->vt_size) return 0;
    uint16_t vo = rd16(fb->b + t->vt + slot);
    if (!vo) return 0;
    if ((uint32_t)vo + size > t->tsize) { fb->bad = 1; return 0; }
    return t->pos + vo;
}

static int64_t fb_int(fb_t *fb, const fb_tab *t, int id, uint32_t size, int sgn, int64_t def)
{
    uint32_t p = fb_field(fb, t, id, size);
    if (!p) return def;
    const uint8_t *q = fb->b + p;
    switch (size) {
    case 1: return sgn ? (int64_t)(int8_t)q[0] : q[0];
    case 2: return sgn ? (int64_t)(int16_t)rd16(q) : rd16(q);
    default: return sgn ? (int64_t)(int32_t)rd32(q) : rd32(q);
    }
}

static float fb_f32(fb_t *fb, const fb_tab *t, int id, float def)
{
    uint32_t p = fb_field(fb, t, id, 4), u;
    float f;
    if (!p) return def;
    u = rd32(fb->b + p);
    memcpy(&f, &u, 4);
    return f;
}

static int fb_subtable(fb_t *fb, const fb_tab *t, int id, fb_tab *sub)
{
    uint32_t p = fb_field(fb, t, id, 4);
    memset(sub, 0, sizeof *sub);
    return p ? fb_table(fb, p, sub) : 0;
}

/* A vector: count elements of esize bytes starting at data. count 0 when absent. */
typedef struct { uint32_t data, count; } fb_vec;

static fb_vec fb_vector(fb_t *fb, const fb_tab *t, int id, uint32_t esize)
{
    fb_vec v = {0, 0};
    uint32_t p = fb_field(fb, t, id, 4);
    if (!p) return v;
    uint64_t vp = (uint64_t)p + rd32(fb->b + p);
    if (!fb_in(fb, vp, 4)) return v;
    uint32_t cnt = rd32(fb->b + vp);
    if (!fb_in(fb, vp + 4, (uint64_t)cnt * esize)) return v;
    v.data = (uint32_t)vp + 4;
    v.count = cnt;
    return v;
}

static int32_t fb_vec_i32(fb_t *fb, fb_vec v, uint32_t i)
{
    return (int32_t)rd32(fb->b + v.data + 4 * i);
}

/* ---- names -------------------------------------------------------------------- */

const char *tm_op_name(int code)
{
    switch (code) {
    case OP_ADD: return "ADD";
    case OP_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case OP_CONCATENATION: return "CONCATENATION";
    case OP_CONV_2D: return "CONV_2D";
    case OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case OP_DEQUANTIZE: return "DEQUANTIZE";
    case OP_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case OP_LOGISTIC: return "LOGISTIC";
    case OP_MAX_POOL_2D: return "MAX_POOL_2D";
    case OP_MUL: return "MUL";
    case OP_RESHAPE: return "RESHAPE";
    case OP_SOFTMAX: return "SOFTMAX";
    case OP_TANH: return "TANH";
    case OP_PAD: return "PAD";
    case OP_MEAN: return "MEAN";
    case OP_QUANTIZE: return "QUANTIZE";
    /* common ops this runtime refuses, so messages can name them */
    case 19: return "RELU";
    case 21: return "RELU6";
    case 23: return "RESIZE_BILINEAR";
    case 27: return "SVDF";
    case 32: return "CUSTOM";
    case 36: return "GATHER";
    case 39: return "TRANSPOSE";
    case 41: return "SUB";
    case 42: return "DIV";
    case 43: return "SQUEEZE";
    case 45: return "STRIDED_SLICE";
    case 47: return "EXP";
    case 49: return "SPLIT";
    case 53: return "CAST";
    case 55: return "MAXIMUM";
    case 56: return "ARG_MAX";
    case 57: return "MINIMUM";
    case 60: return "PADV2";
    case 67: return "TRANSPOSE_CONV";
    case 74: return "SUM";
    case 82: return "REDUCE_MAX";
    case 83: return "PACK";
    case 88: return "UNPACK";
    case 98: return "LEAKY_RELU";
    case 117: return "HARD_SWISH";
    case 126: return "BATCH_MATMUL";
    default: return "UNKNOWN";
    }
}

const char *tm_type_name(int type)
{
    static const char *const names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64",
                                        "STRING", "BOOL", "INT16", "COMPLEX64", "INT8",
                                        "FLOAT64"};
    return (type >= 0 && type <= 10) ? names[type] : "UNKNOWN";
}

static uint32_t type_size(int type)
{
    switch (type) {
    case TM_FLOAT32: case TM_INT32: return 4;
    case TM_INT64: return 8;
    case TM_INT8: return 1;
    default: return 0;
    }
}

uint32_t tm_elems(const tm_tensor_t *t)
{
    uint32_t n = 1;
    for (int i = 0; i < t->ndims; i++) n *= (uint32_t)t->dims[i];
    return n;
}

/* ---- arena tail (persistent per-op data) --------------------------------------- */

void *tm_tail_alloc(tm_interp_t *ip, uint32_t bytes)
{
    /* 64-bit sum, saturated: repeated failed requests cannot wrap tail_needed back below the arena */
    uint64_t need = (uint64_t)ip->tail_needed + (((uint64_t)bytes + 3u) & ~(uint64_t)3u);
    ip->tail_needed = need > UINT32_MAX ? UINT32_MAX : (uint32_t)need;
    if (need > ip->arena_size) return NULL;
    ip->tail_used = (uint32_t)need;
    return ip->arena + ip->arena_size - ip->tail_used;
}

/* A finite float: NaN and infinities fail (no libm needed). */
static int finite_f(float f) { return f - f == 0.0f; }

/* ---- op preparation ------------------------------------------------------------- */

typedef struct {
    tm_interp_t *ip;
    fb_t *fb;
    int idx;          /* op index */
    tm_op_t *op;
    fb_tab opts;      /* builtin_options table (pos 0 when absent) */
} prep_t;

#define T(i) (&pc->ip->tensors[pc->op->in[i]])
#define TOUT (&pc->ip->tensors[pc->op->out])

static tm_status op_fail(prep_t *pc, tm_status st, const char *why)
{
    return fail(pc->ip, st, "op %d (%s): %s", pc->idx, tm_op_name(pc->op->code), why);
}

/* Requires n inputs present (in[i] >= 0) among the first n. */
static int need_inputs(prep_t *pc, int n)
{
    if (pc->op->n_in < n) return 0;
    for (int i = 0; i < n; i++)
        if (pc->op->in[i] < 0) return 0;
    return 1;
}

/* round(x) as int32, clamped to +-2^30 so absurd scales cannot overflow. */
static int32_t qround(float x)
{
    float r = tm_roundf(x);
    if (!(r > -1073741824.0f)) r = -1073741824.0f;
    if (r > 1073741824.0f) r = 1073741824.0f;
    return (int32_t)r;
}

/* Quantized activation range (TFLite CalculateActivationRangeQuantized, int8). */
static void act_range_q(const tm_tensor_t *o, int act, int32_t *lo, int32_t *hi)
{
    float s = o->scale;
    int32_t z = o->zero_point;
    *lo = -128; *hi = 127;
#define QZ(f) (z + qround((f) / s))
    if (act == ACT_RELU) { if (QZ(0.0f) > -128) *lo = QZ(0.0f); }
    else if (act == ACT_RELU6) { if (QZ(0.0f) > -128) *lo = QZ(0.0f); if (QZ(6.0f) < 127) *hi = QZ(6.0f); }
    else if (act == ACT_RELU_N1_TO_1) { if (QZ(-1.0f) > -128) *lo = QZ(-1.0f); if (QZ(1.0f) < 127) *hi = QZ(1.0f); }
#undef QZ
}

/* Float activation range (TFLite CalculateActivationRange). */
static void act_range_f(int act, int32_t *lo, int32_t *hi)
{
    float l = -3.402823466e+38f, h = 3.402823466e+38f;
    if (act == ACT_RELU) l = 0.0f;
    else if (act == ACT_RELU6) { l = 0.0f; h = 6.0f; }
    else if (act == ACT_RELU_N1_TO_1) { l = -1.0f; h = 1.0f; }
    *lo = tm_f2p(l); *hi = tm_f2p(h);
}

static void set_act(prep_t *pc, int lo_slot, int hi_slot)
{
    if (pc->op->flags & OPF_INT8) act_range_q(TOUT, pc->op->act, &pc->op->p[lo_slot], &pc->op->p[hi_slot]);
    else act_range_f(pc->op->act, &pc->op->p[lo_slot], &pc->op->p[hi_slot]);
}

static float chan_scale(const tm_tensor_t *t, uint32_t c)
{
    uint32_t u;
    float f;
    if (t->nchan <= 1 || !t->scales_fb) return t->scale;
    u = rd32(t->scales_fb + 4 * c);
    memcpy(&f, &u, 4);
    return f;
}

/* TFLite QuantizeMultiplier for a real multiplier derived from the model's scales; a product
 * or ratio of scales that overflowed (inf), underflowed to 0 or is NaN is refused, so no
 * non-finite value reaches a float-to-int conversion. */
static tm_status qmult(prep_t *pc, double m, int32_t *mult, int32_t *shift)
{
    int sh;
    if (!(m > 0.0 && m < 1e300)) return op_fail(pc, TM_ERR_MODEL, "quantization scales give a multiplier that is not a finite positive number");
    tm_quantize_multiplier(m, mult, &sh);
    *shift = sh;
    return TM_OK;
}

/* Checks that all listed tensors have the op's data type (int8 or float32). */
static tm_status check_types(prep_t *pc, int n_in)
{
    int want = (pc->op->flags & OPF_INT8) ? TM_INT8 : TM_FLOAT32;
    for (int i = 0; i < n_in; i++)
        if (T(i)->type != want) return op_fail(pc, TM_ERR_UNSUPPORTED, "mixed input/output types");
    if (TOUT->type != want) return op_fail(pc, TM_ERR_UNSUPPORTED, "mixed input/output types");
    return TM_OK;
}

/* TFLite ComputeOutSize / ComputePadding (kernels/padding.h). */
static int out_size(int pad, int in, int k, int stride, int dil)
{
    int eff = (k - 1) * dil + 1;
    return pad == PAD_SAME ? (in + stride - 1) / stride : (in + stride - eff) / stride;
}
static int pad_amount(int stride, int dil, int in, int k, int out)
{
    int eff = (k - 1) * dil + 1;
    int p = ((out - 1) * stride + eff - in) / 2;
    return p > 0 ? p : 0;
}

/* Spatial geometry shared by conv, depthwise conv and pools. */
static tm_status prep_window(prep_t *pc, int padding, int kh, int kw)
{
    tm_op_t *op = pc->op;
    const tm_tensor_t *in = T(0), *o = TOUT;
    if (in->ndims != 4 || o->ndims != 4) return op_fail(pc, TM_ERR_UNSUPPORTED, "input and output must be 4-D (NHWC)");
    if (op->p[P_STRIDE_W] < 1 || op->p[P_STRIDE_H] < 1 || op->p[P_DIL_W] < 1 || op->p[P_DIL_H] < 1 ||
        op->p[P_STRIDE_W] > 1024 || op->p[P_STRIDE_H] > 1024 || op->p[P_DIL_W] > 1024 || op->p[P_DIL_H] > 1024)
        return op_fail(pc, TM_ERR_MODEL, "bad stride or dilation");
    if (padding != PAD_SAME && padding != PAD_VALID) return op_fail(pc, TM_ERR_UNSUPPORTED, "unknown padding");
    if (kh < 1 || kw < 1 || kh > 4096 || kw > 4096) return op_fail(pc, TM_ERR_MODEL, "bad filter size");
    int oh = out_size(padding, in->dims[1], kh, op->p[P_STRIDE_H], op->p[P_DIL_H]);
    int ow = out_size(padding, in->dims[2], kw, op->p[P_STRIDE_W], op->p[P_DIL_W]);
    if (oh != o->dims[1] || ow != o->dims[2] || in->dims[0] != o->dims[0])
        return op_fail(pc, TM_ERR_MODEL, "output shape does not match input, filter and padding");
    op->p[P_PAD_H] = pad_amount(op->p[P_STRIDE_H], op->p[P_DIL_H], in->dims[1], kh, oh);
    op->p[P_PAD_W] = pad_amount(op->p[P_STRIDE_W], op->p[P_DIL_W], in->dims[2], kw, ow);
    return TM_OK;
}

/* Per-channel requantization multipliers (TFLite PopulateConvolutionQuantizationParams):
 * effective scale = double(input_scale) * double(filter_scale[c]) / double(output_scale). */
static tm_status prep_channel_mults(prep_t *pc, const tm_tensor_t *filt, int nch)
{
    tm_op_t *op = pc->op;
    if (filt->nchan > 1 && filt->nchan != nch) return op_fail(pc, TM_ERR_MODEL, "per-channel scale count differs from output channels");
    if (filt->nchan == 0 || T(0)->scale <= 0.0f || TOUT->scale <= 0.0f) return op_fail(pc, TM_ERR_MODEL, "int8 tensor without quantization scale");
    op->mult = (int32_t *)tm_tail_alloc(pc->ip, 4u * (uint32_t)nch);
    op->shift = (int32_t *)tm_tail_alloc(pc->ip, 4u * (uint32_t)nch);
    if (!op->mult || !op->shift) { op->mult = op->shift = NULL; return TM_OK; } /* reported later */
    for (int c = 0; c < nch; c++) {
        double eff = (double)T(0)->scale * (double)chan_scale(filt, (uint32_t)c) / (double)TOUT->scale;
        tm_status st = qmult(pc, eff, &op->mult[c], &op->shift[c]);
        if (st != TM_OK) return st;
    }
    return TM_OK;
}

static tm_status check_bias(prep_t *pc, int nch)
{
    if (pc->op->n_in < 3 || pc->op->in[2] < 0) return TM_OK;
    const tm_tensor_t *b = T(2);
    int want = (pc->op->flags & OPF_INT8) ? TM_INT32 : TM_FLOAT32;
    if (b->type != want) return op_fail(pc, TM_ERR_UNSUPPORTED, "bias type not supported");
    if ((int)tm_elems(b) != nch) return op_fail(pc, TM_ERR_MODEL, "bias size differs from output channels");
    return TM_OK;
}

static tm_status prep_conv(prep_t *pc, int depthwise)
{
    tm_op_t *op = pc->op;
    fb_t *fb = pc->fb;
    tm_status st;
    if (!need_inputs(pc, 2)) return op_fail(pc, TM_ERR_MODEL, "needs input and filter");
    const tm_tensor_t *in = T(0), *f = T(1), *o = TOUT;
    if ((st = check_types(pc, 1)) != TM_OK) return st;
    if (f->type != in->type) return op_fail(pc, TM_ERR_UNSUPPORTED, "filter type differs from input type");
    if (!f->is_const) return op_fail(pc, TM_ERR_UNSUPPORTED, "filter must be a constant tensor");
    if (f->ndims != 4) return op_fail(pc, TM_ERR_MODEL, "filter must be 4-D");
    /* Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4 dil_w, 5 dil_h.
     * DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
     * 4 activation, 5 dil_w, 6 dil_h. */
    int d = depthwise ? 1 : 0;
    int padding = (int)fb_int(fb, &pc->opts, 0, 1, 1, 0);
    op->p[P_STRIDE_W] = (int32_t)fb_int(fb, &pc->opts, 1, 4, 1, 1);
    op->p[P_STRIDE_H] = (int32_t)fb_int(fb, &pc->opts, 2, 4, 1, 1);
    op->act = (uint8_t)fb_int(fb, &pc->opts, 3 + d, 1, 0, 0);
    op->p[P_DIL_W] = (int32_t)fb_int(fb, &pc->opts, 4 + d, 4, 1, 1);
    op->p[P_DIL_H] = (int32_t)fb_int(fb, &pc->opts, 5 + d, 4, 1, 1);
    if (op->act > ACT_RELU6) return op_fail(pc, TM_ERR_UNSUPPORTED, "fused activation not supported");
    if ((st = prep_window(pc, padding, f->dims[1], f->dims[2])) != TM_OK) return st;
    int nch = o->dims[3];
    if (depthwise) {
        if (f->dims[0] != 1 || f->dims[3] != nch || nch % in->dims[3])
            return op_fail(pc, TM_ERR_MODEL, "filter shape does not match input/output channels");
        op->p[P_DEPTH_MULT] = nch / in->dims[3];
    } else {
        if (f->dims[0] != nch || f->dims[3] < 1 || in->dims[3] % f->dims[3] || nch % (in->dims[3] / f->dims[3]))
            return op_fail(pc, TM_ERR_MODEL, "filter shape does not match input/output channels");
    }
    if ((st = check_bias(pc, nch)) != TM_OK) return st;
    set_act(pc, P_ACT_MIN, P_ACT_MAX);
    if (op->flags & OPF_INT8) {
        op->p[P_IN_OFFSET] = -in->zero_point;
        op->p[P_OUT_OFFSET] = o->zero_point;
        if ((st = prep_channel_mults(pc, f, nch)) != TM_OK) return st;
        if (!depthwise) op->scratch_bytes = tm_opt_conv_scratch(pc->ip, op);
        if (!depthwise) tm_opt_prepare(pc->ip, op);
    }
    return TM_OK;
}

static tm_status prep_fc(prep_t *pc)
{
    tm_op_t *op = pc->op;
    tm_status st;
    if (!need_inputs(pc, 2)) return op_fail(pc, TM_ERR_MODEL, "needs input and weights");
    const tm_tensor_t *in = T(0), *f = T(1), *o = TOUT;
    if ((st = check_types(pc, 1)) != TM_OK) return st;
    if (f->type != in->type) return op_fail(pc, TM_ERR_UNSUPPORTED, "weights type differs from input type");
    if (!f->is_const) return op_fail(pc, TM_ERR_UNSUPPORTED, "weights must be a constant tensor");
    /* FullyConnectedOptions: 0 activation, 1 weights_format (0 = DEFAULT), 2 keep_num_dims */
    op->act = (uint8_t)fb_int(pc->fb, &pc->opts, 0, 1, 0, 0);
    if (op->act > ACT_RELU6) return op_fail(pc, TM_ERR_UNSUPPORTED, "fused activation not supported");
    if (fb_int(pc->fb, &pc->opts, 1, 1, 0, 0) != 0) return op_fail(pc, TM_ERR_UNSUPPORTED, "shuffled weights format not supported");
    if (f->ndims != 2) return op_fail(pc, TM_ERR_MODEL, "weights must be 2-D");
    int nch = f->dims[0], depth = f->dims[1];
    uint32_t ne = tm_elems(in);
    if (depth < 1 || o->ndims < 1 || ne % (uint32_t)depth || tm_elems(o) != ne / (uint32_t)depth * (uint32_t)nch ||
        o->dims[o->ndims - 1] != nch)
        return op_fail(pc, TM_ERR_MODEL, "input, weights and output shapes do not match");
    if ((st = check_bias(pc, nch)) != TM_OK) return st;
    set_act(pc, P_ACT_MIN, P_ACT_MAX);
    if (op->flags & OPF_INT8) {
        op->p[P_IN_OFFSET] = -in->zero_point;
        op->p[P_OUT_OFFSET] = o->zero_point;
        op->p[P_W_OFFSET] = -f->zero_point;
        tm_opt_prepare(pc->ip, op);
        if (f->nchan > 1) return prep_channel_mults(pc, f, nch);
        if (f->nchan == 0 || in->scale <= 0.0f || o->scale <= 0.0f) return op_fail(pc, TM_ERR_MODEL, "int8 tensor without quantization scale");
        /* TFLite GetQuantizedConvolutionMultipler: the input*filter product is a float. */
        double real = (double)(in->scale * f->scale) / (double)o->scale;
        return qmult(pc, real, &op->p[14], &op->p[15]);
    }
    return TM_OK;
}

static tm_status prep_pool(prep_t *pc)
{
    tm_op_t *op = pc->op;
    fb_t *fb = pc->fb;
    tm_status st;
    if (!need_inputs(pc, 1)) return op_fail(pc, TM_ERR_MODEL, "needs an input");
    if ((st = check_types(pc, 1)) != TM_OK) return st;
    /* Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height,
     * 5 activation */
    int padding = (int)fb_int(fb, &pc->opts, 0, 1, 1, 0);
    op->p[P_STRIDE_W] = (int32_t)fb_int(fb, &pc->opts, 1, 4, 1, 1);
    op->p[P_STRIDE_H] = (int32_t)fb_int(fb, &pc->opts, 2, 4, 1, 1);
    op->p[P_FILTER_W] = (int32_t)fb_int(fb, &pc->opts, 3, 4, 1, 1);
    op->p[P_FILTER_H] = (int32_t)fb_int(fb, &pc->opts, 4, 4, 1, 1);
    op->act = (uint8_t)fb_int(fb, &pc->opts, 5, 1, 0, 0);
    op->p[P_DIL_W] = op->p[P_DIL_H] = 1;
    if (op->act > ACT_RELU6) return op_fail(pc, TM_ERR_UNSUPPORTED, "fused activation not supported");
    /* the int8 average sums at most FH * FW values of |v| <= 128 in an int32: keep that below 2^31 */
    if ((int64_t)op->p[P_FILTER_H] * op->p[P_FILTER_W] > (1 << 23))
        return op_fail(pc, TM_ERR_UNSUPPORTED, "pooling window above 2^23 elements");
    if ((st = prep_window(pc, padding, op->p[P_FILTER_H], op->p[P_FILTER_W])) != TM_OK) return st;
    if (T(0)->dims[3] != TOUT->dims[3]) return op_fail(pc, TM_ERR_MODEL, "channel count changes");
    if ((op->flags & OPF_INT8) && (T(0)->scale != TOUT->scale || T(0)->zero_point != TOUT->zero_point))
        return op_fail(pc, TM_ERR_UNSUPPORTED, "input and output quantization differ");
    set_act(pc, P_ACT_MIN, P_ACT_MAX);
    return TM_OK;
}

static int same_shape(const tm_tensor_t *a, const tm_tensor_t *b)
{
    if (a->ndims != b->ndims) return 0;
    for (int i = 0; i < a->ndims; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

/* Numpy-style broadcast of a and b must give out's shape. */
static int bcast_ok(const tm_tensor_t *a, const tm_tensor_t *b, const tm_tensor_t *o)
{
    if (a->ndims > o->ndims || b->ndims > o->ndims) return 0;
    for (int i = 0; i < o->ndims; i++) {
        int ia = i - (o->ndims - a->ndims), ib = i - (o->ndims - b->ndims);
        int da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        int want = da > db ? da : db;
        if ((da != 1 && da != want) || (db != 1 && db != want) || o->dims[i] != want) return 0;
    }
    return 1;
}

static tm_status prep_add_mul(prep_t *pc, int is_mul)
{
    tm_op_t *op = pc->op;
    tm_status st;
    if (!need_inputs(pc, 2)) return op_fail(pc, TM_ERR_MODEL, "needs two inputs");
    if ((st = check_types(pc, 2)) != TM_OK) return st;
    /* AddOptions / MulOptions: 0 fused_activation_function */
    op->act = (uint8_t)fb_int(pc->fb, &pc->opts, 0, 1, 0, 0);
    if (op->act > ACT_RELU6) return op_fail(pc, TM_ERR_UNSUPPORTED, "fused activation not supported");
    const tm_tensor_t *a = T(0), *b = T(1), *o = TOUT;
    if (!bcast_ok(a, b, o)) return op_fail(pc, TM_ERR_MODEL, "operand shapes do not broadcast to the output");
    if (!same_shape(a, o) || !same_shape(b, o)) op->flags |= OPF_BCAST;
    set_act(pc, P_EW_ACT_MIN, P_EW_ACT_MAX);
    if (!(op->flags & OPF_INT8)) return TM_OK;
    if (a->scale <= 0.0f || b->scale <= 0.0f || o->scale <= 0.0f) return op_fail(pc, TM_ERR_MODEL, "int8 tensor without quantization scale");
    op->p[P_IN1_OFF] = -a->zero_point;
    op->p[P_IN2_OFF] = -b->zero_point;
    op->p[P_OUT_OFF] = o->zero_point;
    if (is_mul) { /* TFLM mul_common.cc */
        double real = (double)a->scale * (double)b->scale / (double)o->scale;
        return qmult(pc, real, &op->p[P_OUT_MULT], &op->p[P_OUT_SHIFT]);
    }
    /* TFLM add_common.cc: inputs rescaled to a common 2*max scale with 20 bits of
     * headroom, summed, then rescaled to the output. */
    op->p[P_LSHIFT] = 20;
    double twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
    double r1 = (double)a->scale / twice_max, r2 = (double)b->scale / twice_max;
    double ro = twice_max / ((double)(1 << 20) * (double)o->scale);
    st = qmult(pc, r1, &op->p[P_IN1_MULT], &op->p[P_IN1_SHIFT]);
    if (st == TM_OK) st = qmult(pc, r2, &op->p[P_IN2_MULT], &op->p[P_IN2_SHIFT]);
    if (st == TM_OK) st = qmult(pc, ro, &op->p[P_OUT_MULT], &op->p[P_OUT_SHIFT]);
    return st;
}

static tm_status prep_softmax(prep_t *pc)
{
    tm_op_t *op = pc->op;
    tm_status st;
    if (!need_inputs(pc, 1)) return op_fail(pc, TM_ERR_MODEL, "needs an input");
    if ((st = check_types(pc, 1)) != TM_OK) return st;
    if (!same_shape(T(0), TOUT) || T(0)->ndims < 1) return op_fail(pc, TM_ERR_MODEL, "output shape differs from input");
    float beta = fb_f32(pc->fb, &pc->opts, 0, 0.0f); /* SoftmaxOptions: 0 beta */
    if (!(op->flags & OPF_INT8)) { op->p[0] = tm_f2p(beta); return TM_OK; }
    if (TOUT->zero_point != -128 || TOUT->scale != 1.0f / 256)
        return op_fail(pc, TM_ERR_UNSUPPORTED, "int8 output must have scale 1/256 and zero point -128");
    /* TFLite PreprocessSoftmaxScaling with kScaledDiffIntegerBits = 5, then
     * diff_min = -CalculateInputRadius(5, left_shift). */
    if (!(beta > 0.0f) || !finite_f(beta)) return op_fail(pc, TM_ERR_MODEL, "softmax beta must be a finite positive number");
    double m = (double)beta * (double)T(0)->scale * (double)(1 << (31 - 5));
    if (m > 2147483647.0) m = 2147483647.0;
    int32_t sh;
    if ((st = qmult(pc, m, &op->p[0], &sh)) != TM_OK) return st;
    if (sh < 0 || sh > 30) return op_fail(pc, TM_ERR_UNSUPPORTED, "input scale * beta out of range");
    op->p[1] = sh;
    op->p[2] = -tm_input_radius(5, sh, 31);
    return TM_OK;
}

static tm_status prep_act(prep_t *pc, int is_tanh)
{
    tm_op_t *op = pc->op;
    tm_status st;
    if (!need_inputs(pc, 1)) return op_fail(pc, TM_ERR_MODEL, "needs an input");
    if ((st = check_types(pc, 1)) != TM_OK) return st;
    if (tm_elems(T(0)) != tm_elems(TOUT)) return op_fail(pc, TM_ERR_MODEL, "output size differs from input");
    if (!(op->flags & OPF_INT8)) return TM_OK;
    if (is_tanh ? TOUT->zero_point != 0 : TOUT->zero_point != -128)
        return op_fail(pc, TM_ERR_UNSUPPORTED, "unexpected output zero point");
    /* TFLM logistic_common.cc / tanh.cc: input to Q4.27 via frexp of scale * 2^27. */
    double real = (double)T(0)->scale * (double)(1 << (31 - 4));
    if (!(real > 0.0 && real < 1e300)) return op_fail(pc, TM_ERR_MODEL, "input scale is not a finite positive number");
    int sh;
    double q = tm_frexp(real, &sh);
    op->p[0] = T(0)->zero_point;
    op->p[2] = (int32_t)(int64_t)tm_round(q * 2147483648.0);
    op->p[3] = sh;
    if (sh > 30 || sh < -31) return op_fail(pc, TM_ERR_UNSUPPORTED, "input scale out of range");
    op->p[1] = sh >= 0 ? tm_input_radius(4, sh, 31) : INT32_MAX;
    return TM_OK;
}

static tm_status prep_quant(prep_t *pc, int dequant)
{
    tm_op_t *op = pc->op;
    if (!need_inputs(pc, 1)) return op_fail(pc, TM_ERR_MODEL, "needs an input");
    const tm_tensor_t *in = T(0), *o = TOUT;
    if (tm_elems(in) != tm_elems(o)) return op_fail(pc, TM_ERR_MODEL, "output size differs from input");
    if (dequant) {
        if (in->type != TM_INT8 || o->type != TM_FLOAT32) return op_fail(pc, TM_ERR_UNSUPPORTED, "only int8 -> float32");
        op->p[0] = in->zero_point;
        op->p[1] = tm_f2p(in->scale);
        return TM_OK;
    }
    if (o->type != TM_INT8 || (in->type != TM_FLOAT32 && in->type != TM_INT8))
        return op_fail(pc, TM_ERR_UNSUPPORTED, "only float32 -> int8 and int8 -> int8");
    if (o->scale <= 0.0f) return op_fail(pc, TM_ERR_MODEL, "output without quantization scale");
    op->p[1] = o->zero_point;
    if (in->type == TM_FLOAT32) { op->p[0] = tm_f2p(o->scale); return TM_OK; }
    op->flags |= OPF_REQUANT;
    op->p[0] = in->zero_point;
    return qmult(pc, (double)in->scale / (double)o->scale, &op->p[2], &op->p[3]);
}

/* Reads a small constant int32 tensor (axis, paddings) from the model. */
static const uint8_t *const_i32(prep_t *pc, int i, uint32_t *count)
{
    if (pc->op->n_in <= i || pc->op->in[i] < 0) return NULL;
    const tm_tensor_t *t = T(i);
    if (!t->is_const || t->type != TM_INT32) return NULL;
    *count = tm_elems(t);
    return (const uint8_t *)t->data;
}

static tm_status prep_mean(prep_t *pc)
{
    tm_op_t *op = pc->op;
    tm_status st;
    uint32_t na;
    const uint8_t *ax = const_i32(pc, 1, &na);
    if (!need_inputs(pc, 1)) return op_fail(pc, TM_ERR_MODEL, "needs an input");
    if ((st = check_types(pc, 1)) != TM_OK) return st;
    if (!ax) return op_fail(pc, TM_ERR_UNSUPPORTED, "axis must be a constant int32 tensor");
    const tm_tensor_t *in = T(0);
    uint32_t mask = 0, out_n = 1;
    for (uint32_t i = 0; i < na; i++) {
        int32_t a = (int32_t)rd32(ax + 4 * i);
        if (a < 0) a += in->ndims;
        if (a < 0 || a >= in->ndims) return op_fail(pc, TM_ERR_MODEL, "axis out of range");
        mask |= 1u << a;
    }
    for (int d = 0; d < in->ndims; d++)
        if (!(mask & (1u << d))) out_n *= (uint32_t)in->dims[d];
    if (tm_elems(TOUT) != out_n) return op_fail(pc, TM_ERR_MODEL, "output size does not match the reduced axes");
    op->p[0] = (int32_t)mask;
    if (op->flags & OPF_INT8) {
        op->p[2] = in->zero_point;
        op->p[3] = TOUT->zero_point;
        if (TOUT->scale <= 0.0f) return op_fail(pc, TM_ERR_MODEL, "output without quantization scale");
        /* TFLM reduce_common.cc: multiplier of input_scale / output_scale */
        tm_status qs = qmult(pc, (double)in->scale / (double)TOUT->scale, &op->p[6], &op->p[7]);
        if (qs != TM_OK) return qs;
        op->scratch_bytes = (int32_t)(out_n * 4u);
    } else {
        op->scratch_bytes = (int32_t)(out_n * 4u);
    }
    return TM_OK;
}

static tm_status prep_concat(prep_t *pc)
{
    tm_op_t *op = pc->op;
    const tm_tensor_t *o = TOUT;
    /* ConcatenationOptions: 0 axis, 1 fused_activation_function */
    int axis = (int)fb_int(pc->fb, &pc->opts, 0, 4, 1, 0);
    op->act = (uint8_t)fb_int(pc->fb, &pc->opts, 1, 1, 0, 0);
    if (op->act != ACT_NONE) return op_fail(pc, TM_ERR_UNSUPPORTED, "fused activation not supported");
    if (axis < 0) axis += o->ndims;
    if (axis < 0 || axis >= o->ndims) return op_fail(pc, TM_ERR_MODEL, "axis out of range");
    if (op->n_in < 1 || !need_inputs(pc, op->n_in)) return op_fail(pc, TM_ERR_MODEL, "missing input");
    int32_t sum = 0;
    for (int i = 0; i < op->n_in; i++) {
        const tm_tensor_t *t = T(i);
        if (t->type != o->type) return op_fail(pc, TM_ERR_UNSUPPORTED, "mixed input/output types");
        if (t->type == TM_INT8 && (t->scale != o->scale || t->zero_point != o->zero_point))
            return op_fail(pc, TM_ERR_UNSUPPORTED, "inputs must share the output quantization");
        if (t->ndims != o->ndims) return op_fail(pc, TM_ERR_MODEL, "input rank differs from output");
        for (int d = 0; d < o->ndims; d++)
            if (d != axis && t->dims[d] != o->dims[d]) return op_fail(pc, TM_ERR_MODEL, "input shape does not match output");
        sum += t->dims[axis];
    }
    if (sum != o->dims[axis]) return op_fail(pc, TM_ERR_MODEL, "inputs do not add up to the output");
    op->p[0] = axis;
    return TM_OK;
}

static tm_status prep_pad(prep_t *pc)
{
    tm_op_t *op = pc->op;
    uint32_t np;
    const uint8_t *pd = const_i32(pc, 1, &np);
    if (!need_inputs(pc, 1)) return op_fail(pc, TM_ERR_MODEL, "needs an input");
    const tm_tensor_t *in = T(0), *o = TOUT;
    if (in->type != o->type || (in->type != TM_INT8 && in->type != TM_FLOAT32))
        return op_fail(pc, TM_ERR_UNSUPPORTED, "type not supported");
    if (!pd) return op_fail(pc, TM_ERR_UNSUPPORTED, "paddings must be a constant int32 tensor");
    if (np != 2u * in->ndims || in->ndims != o->ndims) return op_fail(pc, TM_ERR_MODEL, "paddings shape does not match input rank");
    if (in->type == TM_INT8 && (in->scale != o->scale || in->zero_point != o->zero_point))
        return op_fail(pc, TM_ERR_UNSUPPORTED, "input and output quantization differ");
    for (int d = 0; d < in->ndims; d++) {
        int32_t b = (int32_t)rd32(pd + 8 * d), a = (int32_t)rd32(pd + 8 * d + 4);
        if (b < 0 || a < 0 || b > 65536 || a > 65536 || in->dims[d] + b + a != o->dims[d])
            return op_fail(pc, TM_ERR_MODEL, "paddings do not match the output shape");
        op->p[2 * d] = b;
        op->p[2 * d + 1] = a;
    }
    op->p[12] = in->type == TM_INT8 ? o->zero_point : 0;
    return TM_OK;
}

static tm_status not_compiled(prep_t *pc)
{
    return op_fail(pc, TM_ERR_UNSUPPORTED, "operator not compiled in (TM_OPS_SELECT build)");
}

static tm_status prep_op(prep_t *pc)
{
    tm_op_t *op = pc->op;
    if (op->n_out != 1) return op_fail(pc, TM_ERR_UNSUPPORTED, "must have exactly one output");
    if (op->n_in >= 1 && op->in[0] >= 0 && pc->ip->tensors[op->in[0]].type == TM_INT8) op->flags |= OPF_INT8;
    switch (op->code) {
    case OP_CONV_2D: return TM_OP_CONV_2D ? prep_conv(pc, 0) : not_compiled(pc);
    case OP_DEPTHWISE_CONV_2D: return TM_OP_DEPTHWISE_CONV_2D ? prep_conv(pc, 1) : not_compiled(pc);
    case OP_FULLY_CONNECTED: return TM_OP_FULLY_CONNECTED ? prep_fc(pc) : not_compiled(pc);
    case OP_AVERAGE_POOL_2D: return TM_OP_AVERAGE_POOL_2D ? prep_pool(pc) : not_compiled(pc);
    case OP_MAX_POOL_2D: return TM_OP_MAX_POOL_2D ? prep_pool(pc) : not_compiled(pc);
    case OP_SOFTMAX: return TM_OP_SOFTMAX ? prep_softmax(pc) : not_compiled(pc);
    case OP_ADD: return TM_OP_ADD ? prep_add_mul(pc, 0) : not_compiled(pc);
    case OP_MUL: return TM_OP_MUL ? prep_add_mul(pc, 1) : not_compiled(pc);
    case OP_LOGISTIC: return TM_OP_LOGISTIC ? prep_act(pc, 0) : not_compiled(pc);
    case OP_TANH: return TM_OP_TANH ? prep_act(pc, 1) : not_compiled(pc);
    case OP_QUANTIZE: return TM_OP_QUANTIZE ? prep_quant(pc, 0) : not_compiled(pc);
    case OP_DEQUANTIZE: return TM_OP_DEQUANTIZE ? prep_quant(pc, 1) : not_compiled(pc);
    case OP_MEAN: return TM_OP_MEAN ? prep_mean(pc) : not_compiled(pc);
    case OP_CONCATENATION: return TM_OP_CONCATENATION ? prep_concat(pc) : not_compiled(pc);
    case OP_PAD: return TM_OP_PAD ? prep_pad(pc) : not_compiled(pc);
    case OP_RESHAPE:
        if (!TM_OP_RESHAPE) return not_compiled(pc);
        if (!need_inputs(pc, 1)) return op_fail(pc, TM_ERR_MODEL, "needs an input");
        if (T(0)->type != TOUT->type) return op_fail(pc, TM_ERR_MODEL, "type changes");
        if (tm_elems(T(0)) != tm_elems(TOUT)) return op_fail(pc, TM_ERR_MODEL, "element count changes");
        return TM_OK;
    default:
        if (op->code == 0xffff || !strcmp(tm_op_name(op->code), "UNKNOWN"))
            return fail(pc->ip, TM_ERR_UNSUPPORTED, "op %d (builtin code %d): operator not supported", pc->idx, (int32_t)op->code);
        return op_fail(pc, TM_ERR_UNSUPPORTED, "operator not supported");
    }
}

/* ---- tensors -------------------------------------------------------------------- */

static tm_status load_tensor(tm_interp_t *ip, fb_t *fb, fb_vec tensors, fb_vec buffers, int i)
{
    tm_tensor_t *t = &ip->tensors[i];
    fb_tab tt, qt, bt;
    t->offset = -1;
    t->first_use = t->last_use = -1;
    if (!fb_table(fb, tensors.data + 4u * (uint32_t)i, &tt)) return fail(ip, TM_ERR_MODEL, "tensor %d: bad table", i);
    fb_vec shape = fb_vector(fb, &tt, 0, 4);
    if (fb->bad) return fail(ip, TM_ERR_MODEL, "tensor %d: bad shape vector", i);
    if (shape.count > TM_MAX_DIMS) return fail(ip, TM_ERR_UNSUPPORTED, "tensor %d: rank %u above %d", i, shape.count, TM_MAX_DIMS);
    t->ndims = (uint8_t)shape.count;
    uint64_t n = 1;
    for (uint32_t d = 0; d < shape.count; d++) {
        int32_t v = fb_vec_i32(fb, shape, d);
        if (v < 1) return fail(ip, TM_ERR_UNSUPPORTED, "tensor %d: dimension %d is %d (dynamic or empty shapes not supported)", i, (int32_t)d, v);
        t->dims[d] = v;
        n *= (uint64_t)v;
        if (n > (1u << 28)) return fail(ip, TM_ERR_MODEL, "tensor %d: too large", i);
    }
    int type = (int)fb_int(fb, &tt, 1, 1, 1, 0);
    uint32_t es = type_size(type);
    if (!es) return fail(ip, TM_ERR_UNSUPPORTED, "tensor %d: type %s not supported", i, tm_type_name(type));
    t->type = (uint8_t)type;
    t->bytes = (uint32_t)n * es;
    /* quantization */
    if (fb_subtable(fb, &tt, 4, &qt)) {
        fb_vec sc = fb_vector(fb, &qt, 2, 4), zp = fb_vector(fb, &qt, 3, 8);
        int64_t qd = fb_int(fb, &qt, 6, 4, 1, 0);
        if (fb->bad) return fail(ip, TM_ERR_MODEL, "tensor %d: bad quantization table", i);
        if (sc.count > 0) {
            uint32_t u = rd32(fb->b + sc.data);
            memcpy(&t->scale, &u, 4);
            if (sc.count > 0xffff) return fail(ip, TM_ERR_UNSUPPORTED, "tensor %d: too many scales", i);
            t->nchan = (uint16_t)sc.count;
            t->scales_fb = fb->b + sc.data;
            if (zp.count != 0 && zp.count != sc.count) return fail(ip, TM_ERR_MODEL, "tensor %d: %u zero points for %u scales", i, zp.count, sc.count);
            for (uint32_t c = 0; c < sc.count; c++) { /* every scale, not only the first */
                float f;
                uint32_t w = rd32(fb->b + sc.data + 4u * c);
                memcpy(&f, &w, 4);
                if (!finite_f(f) || (type == TM_INT8 && !(f > 0.0f)))
                    return fail(ip, TM_ERR_MODEL, "tensor %d: scale %u is not a finite positive number", i, c);
            }
            for (uint32_t c = 0; c < zp.count; c++) { /* every zero point in the type's range */
                int64_t z = (int64_t)((uint64_t)rd32(fb->b + zp.data + 8u * c) |
                                      (uint64_t)rd32(fb->b + zp.data + 8u * c + 4) << 32);
                if (type == TM_INT8 ? (z < -128 || z > 127) : (z < -2147483647 || z > 2147483647))
                    return fail(ip, TM_ERR_MODEL, "tensor %d: zero point out of range", i);
                if (c == 0) t->zero_point = (int32_t)z;
            }
            if (sc.count > 1 && (qd < 0 || qd >= t->ndims || (uint32_t)t->dims[qd] != sc.count))
                return fail(ip, TM_ERR_MODEL, "tensor %d: per-channel scales do not match quantized_dimension", i);
            t->qdim = (int8_t)qd;
            if (!(t->scale > 0.0f) && type == TM_INT8) return fail(ip, TM_ERR_MODEL, "tensor %d: bad scale", i);
        }
    } else if (fb->bad) {
        return fail(ip, TM_ERR_MODEL, "tensor %d: bad quantization table", i);
    }
    /* constant data */
    uint32_t bi = (uint32_t)fb_int(fb, &tt, 2, 4, 0, 0);
    if (bi >= buffers.count) return fail(ip, TM_ERR_MODEL, "tensor %d: buffer index %u out of range", i, bi);
    if (!fb_table(fb, buffers.data + 4u * bi, &bt)) return fail(ip, TM_ERR_MODEL, "tensor %d: bad buffer table", i);
    fb_vec data = fb_vector(fb, &bt, 0, 1);
    if (fb->bad) return fail(ip, TM_ERR_MODEL, "tensor %d: bad buffer data", i);
    if (fb_field(fb, &bt, 1, 8) && rd32(fb->b + fb_field(fb, &bt, 1, 8)) > 1)
        return fail(ip, TM_ERR_UNSUPPORTED, "tensor %d: data outside the flatbuffer not supported", i);
    if (data.count) {
        if (data.count != t->bytes) return fail(ip, TM_ERR_MODEL, "tensor %d: buffer has %u bytes, shape needs %u", i, data.count, t->bytes);
        t->data = (void *)(uintptr_t)(fb->b + data.data);
        t->is_const = 1;
        /* kernels load int32/float words directly (VLDR faults on unaligned data) */
        if (es >= 4 && ((uintptr_t)t->data & 3u))
            return fail(ip, TM_ERR_MODEL, "tensor %d: constant data not 4-byte aligned (align the model buffer)", i);
    }
    return TM_OK;
}

/* ---- arena planning ------------------------------------------------------------- */

/* A planned buffer: tensor t (t >= 0) or the scratch of op -t-1. */
typedef struct { int64_t size; int32_t first, last; int32_t *offset; } pbuf;

static int get_buf(tm_interp_t *ip, int k, pbuf *b)
{
    if (k < ip->n_tensors) {
        tm_tensor_t *t = &ip->tensors[k];
        if (t->is_const || t->first_use < 0) return 0;
        b->size = ((int64_t)t->bytes + 15) & ~(int64_t)15;
        b->first = t->first_use; b->last = t->last_use; b->offset = &t->offset;
        return 1;
    }
    tm_op_t *op = &ip->ops[k - ip->n_tensors];
    if (op->scratch_bytes <= 0) return 0;
    b->size = ((int64_t)op->scratch_bytes + 15) & ~(int64_t)15;
    b->first = b->last = k - ip->n_tensors;
    b->offset = &op->scratch_offset;
    return 1;
}

/* Greedy by size: the largest unplaced buffer goes to the lowest offset that
 * overlaps no placed buffer whose lifetime intersects its own (ties: earlier first
 * use, then lower index, so the plan is deterministic). Returns the high-water mark. */
static uint64_t plan(tm_interp_t *ip)
{
    int nb = ip->n_tensors + ip->n_ops;
    uint64_t high = 0;
    pbuf b, c;
    for (int k = 0; k < nb; k++)
        if (get_buf(ip, k, &b)) *b.offset = -1;
    for (;;) {
        int best = -1;
        pbuf bb = {0, 0, 0, NULL};
        for (int k = 0; k < nb; k++) {
            if (!get_buf(ip, k, &b) || *b.offset >= 0) continue;
            if (best < 0 || b.size > bb.size || (b.size == bb.size && b.first < bb.first)) { best = k; bb = b; }
        }
        if (best < 0) break;
        int64_t off = 0;
        for (int moved = 1; moved;) { /* bump past conflicts until none is left */
            moved = 0;
            for (int k = 0; k < nb; k++) {
                if (!get_buf(ip, k, &c) || *c.offset < 0) continue;
                if (c.last < bb.first || c.first > bb.last) continue;
                if (off < *c.offset + c.size && *c.offset < off + bb.size) { off = *c.offset + c.size; moved = 1; }
            }
        }
        if (off + bb.size > INT32_MAX) return UINT64_MAX; /* cannot fit any arena: the caller refuses */
        *bb.offset = (int32_t)off;
        if ((uint64_t)(off + bb.size) > high) high = (uint64_t)(off + bb.size);
    }
    return high;
}

/* ---- init ------------------------------------------------------------------------ */

static tm_status read_io(tm_interp_t *ip, fb_t *fb, fb_vec v, int16_t *dst, uint8_t *n, const char *what)
{
    if (v.count > TM_MAX_IO) return fail(ip, TM_ERR_UNSUPPORTED, "graph has %u %ss, TM_MAX_IO is %d", v.count, what, TM_MAX_IO);
    for (uint32_t i = 0; i < v.count; i++) {
        int32_t t = fb_vec_i32(fb, v, i);
        if (t < 0 || t >= ip->n_tensors) return fail(ip, TM_ERR_MODEL, "graph %s %u: tensor index %d out of range", what, i, t);
        dst[i] = (int16_t)t;
    }
    *n = (uint8_t)v.count;
    return TM_OK;
}

tm_status tm_init(const void *model_bytes, size_t len, void *arena, size_t arena_size, tm_interp_t *ip)
{
    if (!ip) return TM_ERR_ARG;
    memset(ip, 0, sizeof *ip);
    if (!model_bytes || !arena) return fail(ip, TM_ERR_ARG, "NULL model or arena");
    if (len < 16 || len > 0x7fffffffu) return fail(ip, TM_ERR_MODEL, "model too short (%u bytes)", (uint32_t)len);
    fb_t fbs = {(const uint8_t *)model_bytes, (uint32_t)len, 0}, *fb = &fbs;
    uintptr_t a = (uintptr_t)arena, a16 = (a + 15u) & ~(uintptr_t)15u;
    uint32_t lost = (uint32_t)(a16 - a);
    ip->model = fb->b;
    ip->model_len = (uint32_t)len;
    ip->arena = (uint8_t *)a16;
    /* usable size: a multiple of 4 so the tail (int32 tables) stays aligned */
    ip->arena_size = arena_size > lost ? (uint32_t)(arena_size - lost) & ~3u : 0;

    fb_tab model, sg;
    if (!fb_table(fb, 0, &model)) return fail(ip, TM_ERR_MODEL, "bad root table (not a .tflite flatbuffer?)");
    uint32_t ver = (uint32_t)fb_int(fb, &model, 0, 4, 0, 0);
    if (ver != 3) return fail(ip, TM_ERR_UNSUPPORTED, "schema version %u, expected 3", ver);
    fb_vec opcodes = fb_vector(fb, &model, 1, 4), subgraphs = fb_vector(fb, &model, 2, 4),
           buffers = fb_vector(fb, &model, 4, 4);
    if (fb->bad || subgraphs.count < 1) return fail(ip, TM_ERR_MODEL, "bad model table (no subgraph)");
    if (!fb_table(fb, subgraphs.data, &sg)) return fail(ip, TM_ERR_MODEL, "bad subgraph table");
    fb_vec tensors = fb_vector(fb, &sg, 0, 4), gin = fb_vector(fb, &sg, 1, 4),
           gout = fb_vector(fb, &sg, 2, 4), ops = fb_vector(fb, &sg, 3, 4);
    if (fb->bad) return fail(ip, TM_ERR_MODEL, "bad subgraph vectors");
    if (tensors.count > TM_MAX_TENSORS) return fail(ip, TM_ERR_UNSUPPORTED, "model has %u tensors, TM_MAX_TENSORS is %d", tensors.count, TM_MAX_TENSORS);
    if (ops.count > TM_MAX_OPS) return fail(ip, TM_ERR_UNSUPPORTED, "model has %u operators, TM_MAX_OPS is %d", ops.count, TM_MAX_OPS);
    if (ops.count == 0) return fail(ip, TM_ERR_MODEL, "model has no operators");
    ip->n_tensors = (uint16_t)tensors.count;
    ip->n_ops = (uint16_t)ops.count;

    tm_status st;
    for (int i = 0; i < ip->n_tensors; i++)
        if ((st = load_tensor(ip, fb, tensors, buffers, i)) != TM_OK) return st;
    if ((st = read_io(ip, fb, gin, ip->inputs, &ip->n_inputs, "input")) != TM_OK) return st;
    if ((st = read_io(ip, fb, gout, ip->outputs, &ip->n_outputs, "output")) != TM_OK) return st;
    for (int i = 0; i < ip->n_inputs; i++) {
        tm_tensor_t *x = &ip->tensors[ip->inputs[i]];
        if (x->is_const) return fail(ip, TM_ERR_MODEL, "graph input %d is a constant", i);
        x->first_use = 0;
        x->last_use = 0;
    }

    /* operators */
    for (int i = 0; i < ip->n_ops; i++) {
        tm_op_t *op = &ip->ops[i];
        fb_tab ot, ct;
        if (!fb_table(fb, ops.data + 4u * (uint32_t)i, &ot)) return fail(ip, TM_ERR_MODEL, "op %d: bad operator table", i);
        uint32_t oc = (uint32_t)fb_int(fb, &ot, 0, 4, 0, 0);
        if (oc >= opcodes.count || !fb_table(fb, opcodes.data + 4u * oc, &ct))
            return fail(ip, TM_ERR_MODEL, "op %d: bad opcode index %u", i, oc);
        int32_t dep = (int32_t)fb_int(fb, &ct, 0, 1, 1, 0);
        int32_t code = (int32_t)fb_int(fb, &ct, 3, 4, 1, 0);
        if (dep > code) code = dep;
        if (fb->bad) return fail(ip, TM_ERR_MODEL, "op %d: bad operator code table", i);
        op->code = (uint16_t)(code < 0 || code > 0xffff ? 0xffff : code);
        op->scratch_offset = -1;
        if (code == 32) {
            return fail(ip, TM_ERR_UNSUPPORTED, "op %d (CUSTOM): custom operators not supported", i);
        }
        fb_vec vin = fb_vector(fb, &ot, 1, 4), vout = fb_vector(fb, &ot, 2, 4);
        if (fb->bad) return fail(ip, TM_ERR_MODEL, "op %d (%s): bad input/output vectors", i, tm_op_name(code));
        if (vin.count > TM_MAX_OP_INPUTS) return fail(ip, TM_ERR_UNSUPPORTED, "op %d (%s): %u inputs, at most %d supported", i, tm_op_name(code), vin.count, TM_MAX_OP_INPUTS);
        op->n_in = (uint8_t)vin.count;
        op->n_out = (uint8_t)(vout.count > 255 ? 255 : vout.count);
        for (uint32_t k = 0; k < vin.count; k++) {
            int32_t ti = fb_vec_i32(fb, vin, k);
            if (ti < -1 || ti >= ip->n_tensors) return fail(ip, TM_ERR_MODEL, "op %d (%s): input %u tensor index %d out of range", i, tm_op_name(code), k, ti);
            op->in[k] = (int16_t)ti;
        }
        for (uint32_t k = vin.count; k < TM_MAX_OP_INPUTS; k++) op->in[k] = -1;
        if (vout.count >= 1) {
            int32_t ti = fb_vec_i32(fb, vout, 0);
            if (ti < 0 || ti >= ip->n_tensors) return fail(ip, TM_ERR_MODEL, "op %d (%s): output tensor index %d out of range", i, tm_op_name(code), ti);
            op->out = (int16_t)ti;
        }
        prep_t pc = {ip, fb, i, op, {0, 0, 0, 0}};
        fb_subtable(fb, &ot, 4, &pc.opts);
        if (fb->bad) return fail(ip, TM_ERR_MODEL, "op %d (%s): bad builtin options table", i, tm_op_name(code));
        if ((st = prep_op(&pc)) != TM_OK) return st;
        if (fb->bad) return fail(ip, TM_ERR_MODEL, "op %d (%s): bad builtin options table", i, tm_op_name(code));
        /* lifetimes: reads extend a tensor's life, the write starts it */
        for (int k = 0; k < op->n_in; k++) {
            if (op->in[k] < 0) continue;
            tm_tensor_t *x = &ip->tensors[op->in[k]];
            if (x->is_const) continue;
            if (op->code == OP_RESHAPE && k == 1) continue; /* shape operand: unused */
            if (x->first_use < 0) return fail(ip, TM_ERR_MODEL, "op %d (%s): input tensor %d is read before it is written", i, tm_op_name(code), op->in[k]);
            x->last_use = (int16_t)i;
        }
        tm_tensor_t *y = &ip->tensors[op->out];
        if (y->is_const || y->first_use >= 0) return fail(ip, TM_ERR_MODEL, "op %d (%s): output tensor %d is constant or written twice", i, tm_op_name(code), op->out);
        y->first_use = y->last_use = (int16_t)i;
    }
    for (int i = 0; i < ip->n_outputs; i++) {
        tm_tensor_t *x = &ip->tensors[ip->outputs[i]];
        if (!x->is_const && x->first_use < 0) return fail(ip, TM_ERR_MODEL, "graph output %d is never written", i);
        x->last_use = (int16_t)ip->n_ops;
    }
    for (int i = 0; i < ip->n_inputs; i++) { /* inputs live from before op 0 */
        tm_tensor_t *x = &ip->tensors[ip->inputs[i]];
        if (x->last_use < 0) x->last_use = 0;
    }

    uint64_t planned = plan(ip);
    ip->plan_bytes = planned > UINT32_MAX ? UINT32_MAX : (uint32_t)planned;
    uint64_t need = planned == UINT64_MAX ? UINT64_MAX : planned + ip->tail_needed;
    if (need > ip->arena_size)
        return fail(ip, TM_ERR_ARENA, "arena too small: needs %u bytes, has %u",
                    need + lost > UINT32_MAX ? UINT32_MAX : (uint32_t)(need + lost), (uint32_t)arena_size);
    ip->arena_used = (uint32_t)need + lost;
    for (int i = 0; i < ip->n_tensors; i++) {
        tm_tensor_t *x = &ip->tensors[i];
        if (!x->is_const && x->offset >= 0) x->data = ip->arena + x->offset;
    }
    ip->msg[0] = 0;
    ip->ready = 1;
    return TM_OK;
}

/* ---- invoke ----------------------------------------------------------------------- */

/* Op markers for simcore's profiler (README.md): op index | builtin code << 16 to
 * ITM stimulus port 1 at op begin and port 2 at op end; target builds only. */
#if defined(__arm__) && !defined(TM_NO_ITM)
#define TM_ITM_PORT(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))
#define TM_MARK(port, i, code) (TM_ITM_PORT(port) = (uint32_t)(i) | ((uint32_t)(code) << 16))
#else
#define TM_MARK(port, i, code) ((void)0)
#endif

/* -DTM_OP_CYCLES=1 (target builds): DWT CYCCNT cycles of every op of the last tm_invoke
 * in tm_op_cycles[] (the application enables the cycle counter). */
#if defined(TM_OP_CYCLES) && TM_OP_CYCLES && defined(__arm__)
uint32_t tm_op_cycles[TM_MAX_OPS];
#define TM_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define TM_T0() uint32_t t0_ = TM_CYCCNT
#define TM_T1(i) (tm_op_cycles[i] = TM_CYCCNT - t0_)
#else
#define TM_T0() ((void)0)
#define TM_T1(i) ((void)0)
#endif

tm_status tm_invoke(tm_interp_t *ip)
{
    if (!ip) return TM_ERR_ARG;
    if (!ip->ready) return fail(ip, TM_ERR_STATE, "tm_invoke before a successful tm_init");
    for (int i = 0; i < ip->n_ops; i++) {
        const tm_op_t *op = &ip->ops[i];
        tm_kctx k = {ip, op, op->scratch_offset >= 0 ? ip->arena + op->scratch_offset : NULL};
        TM_MARK(1, i, op->code);
        TM_T0();
        switch (op->code) {
        case OP_CONV_2D: if (TM_OP_CONV_2D) tm_k_conv(&k); break;
        case OP_DEPTHWISE_CONV_2D: if (TM_OP_DEPTHWISE_CONV_2D) tm_k_dwconv(&k); break;
        case OP_FULLY_CONNECTED: if (TM_OP_FULLY_CONNECTED) tm_k_fc(&k); break;
        case OP_AVERAGE_POOL_2D: if (TM_OP_AVERAGE_POOL_2D) tm_k_pool(&k, 0); break;
        case OP_MAX_POOL_2D: if (TM_OP_MAX_POOL_2D) tm_k_pool(&k, 1); break;
        case OP_SOFTMAX: if (TM_OP_SOFTMAX) tm_k_softmax(&k); break;
        case OP_RESHAPE: if (TM_OP_RESHAPE) tm_k_copy(&k); break;
        case OP_ADD: if (TM_OP_ADD) tm_k_add_mul(&k, 0); break;
        case OP_MUL: if (TM_OP_MUL) tm_k_add_mul(&k, 1); break;
        case OP_QUANTIZE: if (TM_OP_QUANTIZE) tm_k_quantize(&k); break;
        case OP_DEQUANTIZE: if (TM_OP_DEQUANTIZE) tm_k_dequantize(&k); break;
        case OP_LOGISTIC: if (TM_OP_LOGISTIC) tm_k_logistic(&k); break;
        case OP_TANH: if (TM_OP_TANH) tm_k_tanh(&k); break;
        case OP_MEAN: if (TM_OP_MEAN) tm_k_mean(&k); break;
        case OP_CONCATENATION: if (TM_OP_CONCATENATION) tm_k_concat(&k); break;
        case OP_PAD: if (TM_OP_PAD) tm_k_pad(&k); break;
        default: break;
        }
        TM_T1(i);
        TM_MARK(2, i, op->code);
    }
    return TM_OK;
}

tm_tensor_t *tm_input(tm_interp_t *ip, int i)
{
    if (!ip || !ip->ready || i < 0 || i >= ip->n_inputs) return NULL;
    return &ip->tensors[ip->inputs[i]];
}

tm_tensor_t *tm_output(tm_interp_t *ip, int i)
{
    if (!ip || !ip->ready || i < 0 || i >= ip->n_outputs) return NULL;
    return &ip->tensors[ip->outputs[i]];
}

int tm_num_inputs(const tm_interp_t *ip) { return ip && ip->ready ? ip->n_inputs : 0; }
int tm_num_outputs(const tm_interp_t *ip) { return ip && ip->ready ? ip->n_outputs : 0; }
size_t tm_arena_used(const tm_interp_t *ip) { return ip && ip->ready ? ip->arena_used : 0; }
const char *tm_error_message(const tm_interp_t *ip) { return ip ? ip->msg : "NULL interpreter"; }
