/* PDM modulation of an audio signal: the bit stream a MEMS microphone sends at its clock.
 *
 * simcore/devices/pdm.py holds the design and the Python twin of this loop (identical bits, the
 * fallback when the extension is not built). Input: the recording up-sampled and quantized to
 * Q23 (x[i], 1.0 = 2^23); for each output bit the signal is linearly interpolated at position
 * pos (32.32 fixed point, in input samples), then a second-order single-bit sigma-delta
 * modulator with delaying integrators (noise transfer (1 - z^-1)^2, signal transfer z^-2)
 * decides the bit. Integer arithmetic only, so that C and Python agree bit for bit.
 * pdm_modulate_packed: the same bits packed eight to a byte, the first bit highest (as a SPI/I2S receiver shifts
 * them in), the form PdmStream keeps. pdm_upsample: the interpolation filter before the modulator, as a
 * sequence of fused multiply-adds whose every rounding is fixed (the same doubles on any machine).
 * pdm_sinc: the STM32 DFSDM's Sinc filter over a packed stream (the receiving side), eight bits a step.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define PDM_FS (INT64_C(1) << 23)
#define PDM_LIMIT (INT64_C(1) << 30) /* integrator clamp: keeps an overdriven modulator stable */

static inline int64_t clamp(int64_t v) {
    return v > PDM_LIMIT ? PDM_LIMIT : (v < -PDM_LIMIT ? -PDM_LIMIT : v);
}

/* One modulator step on the interpolated input xi: y = +FS when u2 >= 0 (bit 1), else -FS; u2 + u1 - 2y and
 * u1 + xi - y written with the sign mask (the same integers as the Python twin). The clamps hold only an
 * overdriven modulator: off the state's dependency chain unless taken, one unsigned test per range
 * (v + LIMIT outside 0 .. 2 LIMIT); clamping an in-range value keeps it. */
static inline uint8_t step_bit(int64_t xi, int64_t *u1p, int64_t *u2p) {
    int64_t u1 = *u1p, u2 = *u2p;
    int64_t sign = u2 >> 63; /* -1 when u2 < 0, else 0 (arithmetic shift) */
    int64_t v2 = (u2 + u1 - 2 * PDM_FS) + (sign & (4 * PDM_FS));
    int64_t v1 = (u1 + xi - PDM_FS) + (sign & (2 * PDM_FS));
    if (__builtin_expect(((uint64_t)(v2 + PDM_LIMIT) > (uint64_t)(2 * PDM_LIMIT)) |
                         ((uint64_t)(v1 + PDM_LIMIT) > (uint64_t)(2 * PDM_LIMIT)), 0)) {
        v2 = clamp(v2);
        v1 = clamp(v1);
    }
    *u2p = v2;
    *u1p = v1;
    return (uint8_t)(sign + 1);
}

/* The reference loop (every bit with its clamp test): state[0] = u1, state[1] = u2; returns the position after
 * the last bit. */
static uint64_t modulate_ref(const int32_t *x, int64_t nx, uint64_t pos, uint64_t step, int64_t nbits,
                             int64_t *state, uint8_t *out) {
    int64_t u1 = state[0], u2 = state[1];
    /* the bits whose x[i + 1] exists (i = pos >> 32 < nx - 1; pos wraps only past 2^64): by input sample, the
     * sample and its slope loaded once for the several bits between two samples, no bounds tests */
    int64_t fast = 0, n = 0;
    if (nx >= 2 && step > 0) {
        uint64_t lim = (uint64_t)(nx - 1) << 32; /* the first position whose i is nx - 1 */
        if (pos < lim) {
            uint64_t k = (lim - pos + step - 1) / step; /* bits whose position is below lim */
            fast = k < (uint64_t)nbits ? (int64_t)k : nbits;
        }
    }
    while (n < fast) {
        uint64_t i = pos >> 32, next = (i + 1) << 32;
        int64_t a = x[i], d = (int64_t)x[i + 1] - a;
        do {
            int64_t frac = (int64_t)((pos >> 16) & 0xFFFF);
            out[n++] = step_bit(a + ((d * frac) >> 16), &u1, &u2);
            pos += step;
        } while (n < fast && pos < next);
    }
    for (; n < nbits; n++) { /* at and past the last sample: the Python twin's bounds */
        int64_t i = (int64_t)(pos >> 32);
        int64_t frac = (int64_t)((pos >> 16) & 0xFFFF);
        int64_t a = i < nx ? x[i] : 0;
        int64_t b = i + 1 < nx ? x[i + 1] : a;
        out[n] = step_bit(a + (((b - a) * frac) >> 16), &u1, &u2);
        pos += step;
    }
    state[0] = u1;
    state[1] = u2;
    return pos;
}

/* Two passes over chunks of bits whose samples are all inside x, for signals within +-2^29 and steps below one
 * sample: (1) the interpolated inputs minus FS, independent of each other (four at a time with AVX2: the samples
 * four consecutive bits use lie within five of the first one's, permuted out of eight loaded there); (2) the
 * modulator over them, eight bits at a time without clamp tests where none can clamp: from |u1| <= a and
 * |u2| <= c with |xi| <= X, after j steps |u1| <= a + j (X + FS) and |u2| <= c + j a + (X + FS) j (j - 1) / 2 +
 * 2 j FS, so c + 8 a + 28 (X + FS) + 16 FS <= LIMIT keeps every value of the eight steps in range (the clamp
 * would keep them); else the reference step. The same integers as modulate_ref. x86-64 with AVX2 only. */
#if defined(__x86_64__) && defined(__GNUC__)
#define MOD_CHUNK 1024

static inline int64_t iabs64(int64_t v) { return v < 0 ? -v : v; }

static void interp_scalar(const int32_t *x, uint64_t pos, uint64_t step, int64_t cnt, int32_t *xm) {
    for (int64_t k = 0; k < cnt; k++) {
        uint64_t i = pos >> 32;
        int64_t f = (int64_t)((pos >> 16) & 0xFFFF), a = x[i];
        xm[k] = (int32_t)(a + ((((int64_t)x[i + 1] - a) * f) >> 16) - PDM_FS);
        pos += step;
    }
}

__attribute__((target("avx2"))) static void interp_avx2(const int32_t *x, int64_t nx, uint64_t pos, uint64_t step,
                                                        int64_t cnt, int32_t *xm) {
    const __m256i lane = _mm256_set_epi64x((long long)(3 * step), (long long)(2 * step), (long long)step, 0);
    const __m256i m16 = _mm256_set1_epi64x(0xFFFF), one = _mm256_set1_epi32(1);
    const __m128i fs = _mm_set1_epi32((int)PDM_FS);
    const __m256i pick = _mm256_set_epi32(7, 7, 7, 7, 6, 4, 2, 0); /* the low 32 bits of each 64-bit lane */
    int64_t k = 0;
    for (; k + 4 <= cnt; k += 4) {
        uint64_t i0 = pos >> 32;
        if ((int64_t)i0 + 8 > nx)
            break;
        __m256i xv = _mm256_loadu_si256((const __m256i *)(x + i0));
        __m256i p = _mm256_add_epi64(_mm256_set1_epi64x((long long)pos), lane);
        __m256i rel = _mm256_srli_epi64(_mm256_sub_epi64(p, _mm256_set1_epi64x((long long)(i0 << 32))), 32);
        __m256i idx = _mm256_permutevar8x32_epi32(rel, pick); /* each bit's sample - i0 (0..3) */
        __m256i a = _mm256_permutevar8x32_epi32(xv, idx);
        __m256i b = _mm256_permutevar8x32_epi32(xv, _mm256_add_epi32(idx, one));
        __m256i d = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(_mm256_sub_epi32(b, a)));
        __m256i f = _mm256_and_si256(_mm256_srli_epi64(p, 16), m16);
        /* (d * f) >> 16 fits 32 bits (|d| < 2^30): the low half of the logical shift is the arithmetic one's */
        __m256i prod = _mm256_srli_epi64(_mm256_mul_epi32(d, f), 16);
        __m128i lo = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(prod, pick));
        _mm_storeu_si128((__m128i *)(xm + k), _mm_sub_epi32(_mm_add_epi32(_mm256_castsi256_si128(a), lo), fs));
        pos += 4 * step;
    }
    interp_scalar(x, pos, step, cnt - k, xm + k);
}

/* One modulator step on xm = xi - FS that cannot clamp: u2 + u1 -+ 2 FS and u1 + xi -+ FS chosen by u2's sign,
 * the bit (0 when u2 < 0) shifted into acc inverted: the sign goes to the carry flag, which chooses by conditional
 * moves (a data-dependent choice is never predictable: two cycles a bit) and rotates into acc. */
#define FREE_STEP(xm)                                                                                          \
    do {                                                                                                       \
        int64_t w_ = u1 + (xm), a2_ = u2 + u1 - 2 * PDM_FS, b2_ = u2 + u1 + 2 * PDM_FS, b1_ = w_ + 2 * PDM_FS; \
        __asm__("bt $63, %[u2]\n\tcmovc %[b2], %[a2]\n\tcmovc %[b1], %[w]\n\trcl $1, %[acc]"                 \
                : [a2] "+&r"(a2_), [w] "+&r"(w_), [acc] "+&r"(acc)                                             \
                : [u2] "r"(u2), [b2] "r"(b2_), [b1] "r"(b1_)                                                   \
                : "cc");                                                                                       \
        u2 = a2_;                                                                                              \
        u1 = w_;                                                                                               \
    } while (0)

/* spread8[b]: the eight bits of b as eight 0/1 bytes, bit 7 first (in memory order) */
static uint64_t spread8[256];

__attribute__((constructor)) static void init_spread8(void) {
    for (unsigned b = 0; b < 256; b++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v |= (uint64_t)(b >> (7 - j) & 1) << (8 * j);
        spread8[b] = v;
    }
}

__attribute__((target("avx2"))) static uint64_t modulate_two_pass(const int32_t *x, int64_t nx, uint64_t pos,
                                                                  uint64_t step, int64_t nbits, int64_t *state,
                                                                  uint8_t *out) {
    int64_t fast = 0, n = 0;
    if (nx >= 2 && step > 0 && step < (UINT64_C(1) << 32)) {
        uint64_t lim = (uint64_t)(nx - 1) << 32;
        if (pos < lim) {
            uint64_t k = (lim - pos + step - 1) / step;
            fast = k < (uint64_t)nbits ? (int64_t)k : nbits;
        }
    }
    int64_t xmax = 0;
    if (fast > 0) { /* over the samples the fast bits use: (pos >> 32) .. ((last position) >> 32) + 1 < nx */
        int64_t last = (int64_t)((pos + (uint64_t)(fast - 1) * step) >> 32) + 1;
        for (int64_t i = (int64_t)(pos >> 32); i <= last; i++) {
            int64_t v = iabs64(x[i]);
            xmax = v > xmax ? v : xmax;
        }
    }
    const int64_t room = PDM_LIMIT - 28 * (xmax + PDM_FS) - 16 * PDM_FS;
    if (fast > 0 && xmax < (INT64_C(1) << 29) && room > 0) {
        int64_t u1 = state[0], u2 = state[1];
        int32_t xm[MOD_CHUNK];
        while (n < fast) {
            int64_t cnt = fast - n < MOD_CHUNK ? fast - n : MOD_CHUNK;
            interp_avx2(x, nx, pos, step, cnt, xm);
            pos += (uint64_t)cnt * step;
            uint8_t *o = out + n;
            int64_t k = 0;
            for (; k + 8 <= cnt; k += 8) {
                if (__builtin_expect(iabs64(u2) + 8 * iabs64(u1) <= room, 1)) {
                    uint64_t acc = 0; /* the eight bits inverted, the first highest */
                    FREE_STEP(xm[k]);
                    FREE_STEP(xm[k + 1]);
                    FREE_STEP(xm[k + 2]);
                    FREE_STEP(xm[k + 3]);
                    FREE_STEP(xm[k + 4]);
                    FREE_STEP(xm[k + 5]);
                    FREE_STEP(xm[k + 6]);
                    FREE_STEP(xm[k + 7]);
                    memcpy(o + k, &spread8[~acc & 0xFF], 8);
                } else {
                    for (int j = 0; j < 8; j++)
                        o[k + j] = step_bit(xm[k + j] + PDM_FS, &u1, &u2);
                }
            }
            for (; k < cnt; k++)
                o[k] = step_bit(xm[k] + PDM_FS, &u1, &u2);
            n += cnt;
        }
        state[0] = u1;
        state[1] = u2;
    }
    return modulate_ref(x, nx, pos, step, nbits - n, state, out + n);
}
#endif

/* state[0] = u1, state[1] = u2; returns the position after the last bit. The two passes where the CPU has AVX2
 * (20% faster than the reference loop at 1-2 MHz from 16 kHz), else the reference loop. */
uint64_t pdm_modulate(const int32_t *x, int64_t nx, uint64_t pos, uint64_t step, int64_t nbits,
                      int64_t *state, uint8_t *out) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2"))
        return modulate_two_pass(x, nx, pos, step, nbits, state, out);
#endif
    return modulate_ref(x, nx, pos, step, nbits, state, out);
}

/* The bits of pdm_modulate packed eight to a byte, the first bit highest (bit n is bit 7 - n % 8 of byte n / 8);
 * the last byte's unused low bits are zero. The bits are made by pdm_modulate a chunk at a time and gathered
 * with one multiply per byte (byte j of a little-endian word -> bit 7 - j of the product's top byte). */
#define GATHER8 UINT64_C(0x8040201008040201)
#define PACK_CHUNK 2048

uint64_t pdm_modulate_packed(const int32_t *x, int64_t nx, uint64_t pos, uint64_t step, int64_t nbits,
                             int64_t *state, uint8_t *out) {
    uint8_t buf[PACK_CHUNK + 8];
    for (int64_t n = 0; n < nbits; n += PACK_CHUNK) {
        int64_t cnt = nbits - n < PACK_CHUNK ? nbits - n : PACK_CHUNK;
        pos = pdm_modulate(x, nx, pos, step, cnt, state, buf);
        memset(buf + cnt, 0, 8);
        for (int64_t k = 0; k < cnt; k += 8) {
            uint64_t v;
            memcpy(&v, buf + k, 8);
            out[(n + k) >> 3] = (uint8_t)((v * GATHER8) >> 56);
        }
    }
    return pos;
}

/* The interpolation filter (simcore/devices/pdm.py PdmStream._upsampled has its numpy twin): for each input
 * position i < m and phase p < P, y = sum over t < T of x[i + t] * taps[t * P + p], accumulated as the fused
 * multiply-add chain acc = fma(x[i + t], taps[t * P + p], acc) from acc = 0 in t order (one rounding per step,
 * IEEE 754 fusedMultiplyAdd, so the same doubles on any machine: it is also what OpenBLAS's FMA kernels compute
 * for numpy's matrix product, checked equal in tests/unit/test_pdm.py); then scaled by depth and by 2^23,
 * rounded half to even and clipped to Q23 as numpy's rint and clip do. out holds m * P values (row i, phase p). */
static void upsample_scalar(const double *x, int64_t m, int64_t T, int64_t P, const double *taps, double depth,
                            int32_t *out) {
    double acc[64];
    for (int64_t i = 0; i < m; i++) {
        for (int64_t p = 0; p < P; p++)
            acc[p] = 0.0;
        for (int64_t t = 0; t < T; t++) {
            double w = x[i + t];
            for (int64_t p = 0; p < P; p++)
                acc[p] = fma(w, taps[t * P + p], acc[p]);
        }
        for (int64_t p = 0; p < P; p++) {
            double v = nearbyint(acc[p] * depth * (double)PDM_FS); /* (y * depth) * FS: numpy's two products */
            v = v < -(double)PDM_FS ? -(double)PDM_FS : (v > (double)(PDM_FS - 1) ? (double)(PDM_FS - 1) : v);
            out[i * P + p] = (int32_t)v;
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same chain four phases to a vector (the lanes' fused multiply-adds are the scalar fma's), for P = 16. */
__attribute__((target("avx2,fma"))) static void upsample16_avx2(const double *x, int64_t m, int64_t T,
                                                                const double *taps, double depth, int32_t *out) {
    const __m256d dep = _mm256_set1_pd(depth), fs = _mm256_set1_pd((double)PDM_FS);
    const __m256d lo = _mm256_set1_pd(-(double)PDM_FS), hi = _mm256_set1_pd((double)(PDM_FS - 1));
    for (int64_t i = 0; i < m; i++) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t t = 0; t < T; t++) {
            __m256d w = _mm256_broadcast_sd(x + i + t);
            const double *row = taps + t * 16;
            a0 = _mm256_fmadd_pd(w, _mm256_loadu_pd(row), a0);
            a1 = _mm256_fmadd_pd(w, _mm256_loadu_pd(row + 4), a1);
            a2 = _mm256_fmadd_pd(w, _mm256_loadu_pd(row + 8), a2);
            a3 = _mm256_fmadd_pd(w, _mm256_loadu_pd(row + 12), a3);
        }
        __m256d acc[4] = {a0, a1, a2, a3};
        for (int j = 0; j < 4; j++) {
            __m256d v = _mm256_mul_pd(_mm256_mul_pd(acc[j], dep), fs);
            v = _mm256_round_pd(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v = _mm256_min_pd(_mm256_max_pd(v, lo), hi);
            _mm_storeu_si128((__m128i *)(out + i * 16 + 4 * j), _mm256_cvtpd_epi32(v));
        }
    }
}
#endif

void pdm_upsample(const double *x, int64_t m, int64_t T, int64_t P, const double *taps, double depth,
                  int32_t *out) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (P == 16 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        upsample16_avx2(x, m, T, taps, depth, out);
        return;
    }
#endif
    if (P <= 64)
        upsample_scalar(x, m, T, P, taps, depth, out);
}

/* Eight bits at a time: the integrators are linear, a <- L a + x 1 per bit (L lower-triangular ones: each
 * integrator adds the one before it as just updated), so after 8 bits x_1 .. x_8 (+1 / -1)
 *   a_k' = sum_{i <= k} C(7 + k - i, k - i) a_i + sum_j x_j C(8 - j + k, k).
 * The bits' part is a table over the 256 patterns (t8[k][p] = sum_j b_j C(8 - j + k, k), x_j = 2 b_j - 1:
 * 2 t8 - sum_j C(8 - j + k, k)); unsigned arithmetic wraps as the bit loop's does, so the integers are the same.
 * A pattern is eight bits of the packed stream, the first highest (b_1 is bit 7). */
static uint64_t t8[5][256], w8[5];
static const uint64_t c8[5] = {1, 8, 36, 120, 330}; /* C(7 + d, d) */

__attribute__((constructor)) static void init_t8(void) {
    for (int k = 0; k < 5; k++) {
        uint64_t w[8];
        w8[k] = 0;
        for (int j = 1; j <= 8; j++) { /* C(8 - j + k, k) */
            uint64_t c = 1;
            for (int r = 1; r <= k; r++)
                c = c * (uint64_t)(8 - j + r) / (uint64_t)r;
            w[j - 1] = c;
            w8[k] += c;
        }
        for (unsigned b = 0; b < 256; b++) {
            uint64_t sum = 0;
            for (int j = 0; j < 8; j++)
                sum += (uint64_t)(b >> (7 - j) & 1) * w[j];
            t8[k][b] = sum;
        }
    }
}

/* Bits n .. n + 7 of a packed stream (bit n is bit 7 - n % 8 of byte n / 8), the first highest; the second byte
 * is read only when the eight bits straddle two bytes. */
static inline unsigned bits8(const uint8_t *p, uint64_t n) {
    uint64_t q = n >> 3;
    unsigned r = (unsigned)(n & 7);
    if (r == 0)
        return p[q];
    return ((unsigned)p[q] << 8 | p[q + 1]) >> (8 - r) & 0xFFu;
}

static inline uint64_t bit1(const uint8_t *p, uint64_t n) { return (uint64_t)(p[n >> 3] >> (7 - (n & 7)) & 1); }

/* Integrate bits[from .. to) (packed, bit offset off) into acc: eight bits a step by the tables, then one loop
 * per order for the rest (no per-bit sample test: the caller integrates up to each sample point). */
static inline void integrate(const uint8_t *bits, uint64_t off, int64_t from, int64_t to, int64_t order,
                             uint64_t *acc) {
    uint64_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4];
    int64_t n = from;
    /* one loop per order (the order's test outside the loop); the new a_k from the old a_0 .. a_k */
#define STEP8_1 a0 += 2 * t8[0][p] - w8[0]
#define STEP8_2 a1 += c8[1] * a0 + 2 * t8[1][p] - w8[1]; STEP8_1
#define STEP8_3 a2 += c8[1] * a1 + c8[2] * a0 + 2 * t8[2][p] - w8[2]; STEP8_2
#define STEP8_4 a3 += c8[1] * a2 + c8[2] * a1 + c8[3] * a0 + 2 * t8[3][p] - w8[3]; STEP8_3
#define STEP8_5 a4 += c8[1] * a3 + c8[2] * a2 + c8[3] * a1 + c8[4] * a0 + 2 * t8[4][p] - w8[4]; STEP8_4
#define LOOP8(STEP) for (; n + 8 <= to; n += 8) { unsigned p = bits8(bits, off + (uint64_t)n); STEP; }
    switch (order) {
    case 1: LOOP8(STEP8_1); break;
    case 2: LOOP8(STEP8_2); break;
    case 3: LOOP8(STEP8_3); break;
    case 4: LOOP8(STEP8_4); break;
    default: LOOP8(STEP8_5); break;
    }
#define BIT (bit1(bits, off + (uint64_t)n) * 2u - 1u)
    from = n;
    switch (order) {
    case 1:
        for (n = from; n < to; n++) a0 += BIT;
        break;
    case 2:
        for (n = from; n < to; n++) { a0 += BIT; a1 += a0; }
        break;
    case 3:
        for (n = from; n < to; n++) { a0 += BIT; a1 += a0; a2 += a1; }
        break;
    case 4:
        for (n = from; n < to; n++) { a0 += BIT; a1 += a0; a2 += a1; a3 += a2; }
        break;
    default:
        for (n = from; n < to; n++) {
            a0 += BIT;
            a1 += a0; a2 += a1; a3 += a2; a4 += a3;
        }
        break;
    }
#undef BIT
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4;
}

/* The DFSDM's Sinc^order filter (simcore/peripherals/stm32/dfsdm.py, sinc_outputs, has the design and its
 * numpy twin): order integrators over the bits (1 = +1, 0 = -1) from zero state, sampled after bit
 * first + j * fosr for j = 0 .. nout + order - 1 (a position before bit 0: nothing integrated yet), then
 * order combs at the output rate. The nbits bits are packed (pdm_modulate_packed's layout) from bit off of
 * bits. out holds nout + order values; out[order ..] are the outputs. Unsigned arithmetic wraps; the outputs
 * are exact (below 2^63). order is 1..5 (RM0351 24.4.8). */
void pdm_sinc(const uint8_t *bits, int64_t off, int64_t nbits, int64_t order, int64_t fosr, int64_t first,
              int64_t nout, int64_t *out) {
    uint64_t acc[5] = {0, 0, 0, 0, 0};
    uint64_t *s = (uint64_t *)out;
    const int64_t nsamp = nout + order;
    int64_t j = 0, next = first, done = 0; /* bits integrated so far: 0 .. done-1 */
    while (j < nsamp && next < 0) {
        s[j++] = 0;
        next += fosr;
    }
    while (j < nsamp && next < nbits) { /* sampled after bit next: integrate up to and including it */
        integrate(bits, (uint64_t)off, done, next + 1, order, acc);
        done = next + 1;
        s[j++] = acc[order - 1];
        next += fosr;
    }
    if (j < nsamp) /* past the bits given: not expected (the caller gives them all) */
        integrate(bits, (uint64_t)off, done, nbits, order, acc);
    for (; j < nsamp; j++)
        s[j] = acc[order - 1];
    for (int64_t c = 0; c < order; c++)
        for (int64_t i = nsamp - 1; i > c; i--)
            s[i] -= s[i - 1];
}

/* The DFSDM's integrator and data unit over a block of Sinc outputs (simcore/peripherals/stm32/dfsdm.py
 * Stm32L4Dfsdm._results has the numpy twin, RM0351 24.4.13): conversion j sums sinc[j * iosr .. + iosr - 1],
 * the 32-bit data path wraps, a right shift by dtrbs rounds to nearest (half up, sign kept), the 24-bit offset
 * is subtracted and the result saturated to 24 bits; the word RDATAR holds is (result << 8) | channel, and
 * what a DMA channel reading RDATAR at byte offset shift / 8 takes is that word >> shift. */
void pdm_dfsdm_words(const int64_t *sinc, int64_t nconv, int64_t iosr, int64_t dtrbs, int64_t offset,
                     int64_t channel, int64_t shift, uint32_t *out) {
    for (int64_t j = 0; j < nconv; j++) {
        uint64_t sum = 0;
        for (int64_t i = 0; i < iosr; i++)
            sum += (uint64_t)sinc[j * iosr + i];
        int64_t raw = (int64_t)(int32_t)(uint32_t)sum; /* the 32-bit data path */
        if (dtrbs)
            raw = (raw + (INT64_C(1) << (dtrbs - 1))) >> dtrbs; /* arithmetic: floor */
        int64_t v = raw - offset;
        v = v < -(INT64_C(1) << 23) ? -(INT64_C(1) << 23) : (v > (INT64_C(1) << 23) - 1 ? (INT64_C(1) << 23) - 1 : v);
        uint32_t word = (uint32_t)(v & 0xFFFFFF) << 8 | (uint32_t)channel;
        out[j] = word >> shift;
    }
}

int64_t pdm_abi_version(void) { return 3; }
