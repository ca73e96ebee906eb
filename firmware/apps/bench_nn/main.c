/*
 * bench_nn: int8 kernels in the style of CMSIS-NN (our own code): convolution and depthwise
 * convolution over HWC tensors, fully connected, pooling, element-wise add, an int16 softmax,
 * each requantizing with a fixed-point multiplier and a rounding shift and clamping with
 * SSAT/min/max, so the inner loops are dense with IT blocks and saturating DSP instructions.
 * Inputs come from an LCG; the run prints one checksum per kernel and exits.
 */
#include <arm_acle.h>
#include <stdint.h>
#include <stdio.h>

#ifndef ITERS
#define ITERS 24
#endif

#define H 16
#define W 16
#define CIN 8
#define COUT 8

static int8_t input[H * W * CIN], output[H * W * COUT], dw_out[H * W * CIN];
static int8_t weights[COUT * 3 * 3 * CIN], dw_weights[3 * 3 * CIN], fc_w[64 * 256];
static int32_t bias[COUT], mult[COUT];
static int8_t shift[COUT];
static int16_t logits[64];
static uint32_t seed = 12345u;

static inline int32_t ror8(int32_t v) { return (int32_t)(((uint32_t)v >> 8) | ((uint32_t)v << 24)); }

static inline uint32_t lcg(void) { return seed = seed * 1664525u + 1013904223u; }

/* round(a * b / 2^31), saturating: the requantization multiplier (arm_nn_doubling_high_mult). */
static inline int32_t doubling_high_mult(int32_t a, int32_t b)
{
    int64_t p = (int64_t)a * b;
    int32_t r = (int32_t)((p + (1ll << 30)) >> 31);
    return (a == b && a == INT32_MIN) ? INT32_MAX : r;
}

static inline int32_t rounding_shift(int32_t v, int s)
{
    if (s <= 0) return v;
    int32_t mask = (1 << s) - 1, rem = v & mask, thr = (mask >> 1) + (v < 0 ? 1 : 0);
    return (v >> s) + (rem > thr ? 1 : 0);
}

static inline int8_t requant(int32_t acc, int c, int32_t offset)
{
    int32_t v = rounding_shift(doubling_high_mult(acc, mult[c]), shift[c]) + offset;
    v = v > 127 ? 127 : v;
    v = v < -128 ? -128 : v;
    return (int8_t)v;
}

static void conv3x3(void)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int co = 0; co < COUT; co++) {
                int32_t acc = bias[co];
                for (int ky = -1; ky <= 1; ky++) {
                    int iy = y + ky;
                    if (iy < 0 || iy >= H) continue;
                    for (int kx = -1; kx <= 1; kx++) {
                        int ix = x + kx;
                        if (ix < 0 || ix >= W) continue;
                        const int8_t *in = &input[(iy * W + ix) * CIN];
                        const int8_t *wt = &weights[((co * 3 + ky + 1) * 3 + kx + 1) * CIN];
                        for (int ci = 0; ci < CIN; ci += 4) {
                            int32_t a = *(const int32_t *)&in[ci], b = *(const int32_t *)&wt[ci];
                            acc = __smlad(__sxtb16(a), __sxtb16(b), acc);
                            acc = __smlad(__sxtb16(ror8(a)), __sxtb16(ror8(b)), acc);
                        }
                    }
                }
                output[(y * W + x) * COUT + co] = requant(acc, co, -3);
            }
}

static void depthwise3x3(void)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < CIN; c++) {
                int32_t acc = bias[c];
                for (int ky = -1; ky <= 1; ky++)
                    for (int kx = -1; kx <= 1; kx++) {
                        int iy = y + ky, ix = x + kx;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        acc += input[(iy * W + ix) * CIN + c] * dw_weights[((ky + 1) * 3 + kx + 1) * CIN + c];
                    }
                int32_t v = requant(acc, c, 5);
                dw_out[(y * W + x) * CIN + c] = (int8_t)(v < 0 ? 0 : v); /* ReLU */
            }
}

static uint32_t fully_connected(void)
{
    uint32_t sum = 0;
    for (int o = 0; o < 64; o++) {
        int32_t acc = 0;
        const int8_t *w = &fc_w[o * 256];
        for (int i = 0; i < 256; i += 4) {
            int32_t a = *(const int32_t *)&output[i], b = *(const int32_t *)&w[i];
            acc = __smlad(__sxtb16(a), __sxtb16(b), acc);
            acc = __smlad(__sxtb16(ror8(a)), __sxtb16(ror8(b)), acc);
        }
        acc = __qadd(acc, bias[o & (COUT - 1)] << 8);
        logits[o] = (int16_t)__ssat(acc >> 6, 16);
        sum = sum * 33u + (uint16_t)logits[o];
    }
    return sum;
}

static uint32_t pool_and_add(void)
{
    uint32_t sum = 0;
    for (int y = 0; y < H; y += 2)
        for (int x = 0; x < W; x += 2)
            for (int c = 0; c < CIN; c++) {
                int8_t m = -128;
                int32_t avg = 0;
                for (int k = 0; k < 4; k++) {
                    int8_t v = dw_out[((y + (k >> 1)) * W + x + (k & 1)) * CIN + c];
                    m = v > m ? v : m;
                    avg += v;
                }
                avg = (avg + (avg >= 0 ? 2 : -2)) / 4;
                int32_t packed = (uint8_t)m | ((uint8_t)avg << 8);
                int32_t added = __qadd8(packed, 0x1010);
                sum = sum * 31u + (uint32_t)added;
            }
    return sum;
}

/* An int16 softmax-like normalization: max, exponent by table, saturating sums. */
static uint32_t softmax16(void)
{
    static const int16_t exp_table[16] = {32767, 20054, 12274, 7512, 4598, 2814, 1722, 1054,
                                          645, 395, 242, 148, 90, 55, 34, 21};
    int16_t mx = INT16_MIN;
    for (int i = 0; i < 64; i++) mx = logits[i] > mx ? logits[i] : mx;
    int32_t total = 0;
    int16_t e[64];
    for (int i = 0; i < 64; i++) {
        int32_t d = (mx - logits[i]) >> 8;
        e[i] = d > 15 ? 0 : exp_table[d];
        total = __qadd(total, e[i]);
    }
    uint32_t sum = 0;
    for (int i = 0; i < 64; i++) {
        int32_t p = total ? (int32_t)(((int64_t)e[i] << 15) / total) : 0;
        sum = sum * 7u + (uint32_t)__usat(p, 15);
    }
    return sum;
}

int main(void)
{
    for (unsigned i = 0; i < sizeof input; i++) input[i] = (int8_t)(lcg() >> 24);
    for (unsigned i = 0; i < sizeof weights; i++) weights[i] = (int8_t)(lcg() >> 25);
    for (unsigned i = 0; i < sizeof dw_weights; i++) dw_weights[i] = (int8_t)(lcg() >> 25);
    for (unsigned i = 0; i < sizeof fc_w; i++) fc_w[i] = (int8_t)(lcg() >> 26);
    for (int c = 0; c < COUT; c++) {
        bias[c] = (int32_t)(lcg() >> 20) - 2048;
        mult[c] = 0x40000000 + (int32_t)(lcg() >> 3);
        shift[c] = (int8_t)(6 + (lcg() >> 30));
    }
    uint32_t sums[5] = {0};
    for (int it = 0; it < ITERS; it++) {
        conv3x3();
        depthwise3x3();
        sums[0] = sums[0] * 3u + fully_connected();
        sums[1] = sums[1] * 3u + pool_and_add();
        sums[2] = sums[2] * 3u + softmax16();
        for (unsigned i = 0; i < sizeof input; i++) input[i] = (int8_t)(input[i] + output[i % sizeof output]);
    }
    for (unsigned i = 0; i < sizeof output; i++) sums[3] = sums[3] * 31u + (uint8_t)output[i];
    for (unsigned i = 0; i < sizeof dw_out; i++) sums[4] = sums[4] * 31u + (uint8_t)dw_out[i];
    printf("bench_nn: fc %08lx pool %08lx softmax %08lx conv %08lx dw %08lx\n", (unsigned long)sums[0],
           (unsigned long)sums[1], (unsigned long)sums[2], (unsigned long)sums[3], (unsigned long)sums[4]);
    return 0;
}
