/*
 * Fixed-point spectrum pieces of the TinyML front ends (kws_mic, machine_monitor). Header-only:
 * each app is one translation unit. apps/kws_mic/frontend.py models them bit for bit
 * (fft_q15, log_int8) and generates the tables.
 *
 * fixfft_q15: in-place radix-2 decimation-in-time FFT of nfft points whose input (Q15-windowed
 * int16 samples) is already in bit-reversed order; int32 data, Q15 twiddles W^k = (tw_re[k],
 * tw_im[k]) for k < nfft/2, each butterfly t = (b * W + 2^14) >> 15 (exact), and every stage
 * halves its outputs, so the result is DFT / nfft.
 * fixlog_int8: q = clamp(((mult * L) >> 8) + offset, -128, 127) with L = log2(v) in Q8 (256 *
 * floor(log2 v) + the 8 bits after the leading one), v >= 1.
 */
#ifndef SIMCORE_FIXFFT_H
#define SIMCORE_FIXFFT_H

#include <stdint.h>

static void fixfft_q15(int32_t *re, int32_t *im, uint32_t nfft, const int16_t *tw_re, const int16_t *tw_im)
{
    /* The inputs are Q15-windowed int16 samples, so every value's complex magnitude stays
     * <= 2^15 (+ a few LSB of rounding) through the stages (each output is half the sum of two
     * values of magnitude <= 2^15 times a twiddle of magnitude <= 1), and b * W's real and
     * imaginary parts are < 2^31 in magnitude. The 64-bit expression of frontend.py is then
     * computed exactly in 32 bits with wrapping (unsigned) arithmetic: 2 multiplies instead of 4
     * 64-bit ones and no 64-bit shifts. */
    for (uint32_t size = 2; size <= nfft; size <<= 1) {
        const uint32_t half = size >> 1, step = nfft / size;
        for (uint32_t start = 0; start < nfft; start += size) {
            for (uint32_t k = 0; k < half; k++) {
                const uint32_t wr = (uint32_t)(int32_t)tw_re[k * step], wi = (uint32_t)(int32_t)tw_im[k * step];
                const uint32_t a = start + k, b = a + half;
                const uint32_t br = (uint32_t)re[b], bi = (uint32_t)im[b];
                const int32_t tr = (int32_t)(br * wr - bi * wi + (1u << 14)) >> 15;
                const int32_t ti = (int32_t)(br * wi + bi * wr + (1u << 14)) >> 15;
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
