/*
 * Fixed-point spectrum pieces of the TinyML front ends (kws_mic, machine_monitor). Header-only:
 * each app is one translation unit. apps/kws_mic/frontend.py models them bit for bit
 * (fft_q15, log_int8) and generates the tables.
 *
 * fixfft_q15: in-place radix-2 decimation-in-time FFT of nfft points whose input is already in
 * bit-reversed order; int32 data, Q15 twiddles W^k = (tw_re[k], tw_im[k]) for k < nfft/2, each
 * butterfly t = (b * W + 2^14) >> 15 with 64-bit products, and every stage halves its outputs,
 * so the result is DFT / nfft.
 * fixlog_int8: q = clamp(((mult * L) >> 8) + offset, -128, 127) with L = log2(v) in Q8 (256 *
 * floor(log2 v) + the 8 bits after the leading one), v >= 1.
 */
#ifndef SIMCORE_FIXFFT_H
#define SIMCORE_FIXFFT_H

#include <stdint.h>

static void fixfft_q15(int32_t *re, int32_t *im, uint32_t nfft, const int16_t *tw_re, const int16_t *tw_im)
{
    for (uint32_t size = 2; size <= nfft; size <<= 1) {
        const uint32_t half = size >> 1, step = nfft / size;
        for (uint32_t start = 0; start < nfft; start += size) {
            for (uint32_t k = 0; k < half; k++) {
                const int32_t wr = tw_re[k * step], wi = tw_im[k * step];
                const uint32_t a = start + k, b = a + half;
                const int32_t tr = (int32_t)(((int64_t)re[b] * wr - (int64_t)im[b] * wi + (1 << 14)) >> 15);
                const int32_t ti = (int32_t)(((int64_t)re[b] * wi + (int64_t)im[b] * wr + (1 << 14)) >> 15);
                const int32_t ar = re[a], ai = im[a];
                re[a] = (ar + tr) >> 1;
                im[a] = (ai + ti) >> 1;
                re[b] = (ar - tr) >> 1;
                im[b] = (ai - ti) >> 1;
            }
        }
    }
}

static int8_t fixlog_int8(uint64_t v, uint32_t mult, int32_t offset)
{
    const uint32_t nbits = 63u - (uint32_t)__builtin_clzll(v);
    const uint32_t frac = (uint32_t)((v << (63u - nbits)) >> 55) & 0xFFu;
    const int32_t q = (int32_t)((mult * (256u * nbits + frac)) >> 8) + offset;
    return (int8_t)(q > 127 ? 127 : q < -128 ? -128 : q);
}

#endif
