/* PDM modulation of an audio signal: the bit stream a MEMS microphone sends at its clock.
 *
 * simcore/devices/pdm.py holds the design and the Python twin of this loop (identical bits, the
 * fallback when the extension is not built). Input: the recording up-sampled and quantized to
 * Q23 (x[i], 1.0 = 2^23); for each output bit the signal is linearly interpolated at position
 * pos (32.32 fixed point, in input samples), then a second-order single-bit sigma-delta
 * modulator with delaying integrators (noise transfer (1 - z^-1)^2, signal transfer z^-2)
 * decides the bit. Integer arithmetic only, so that C and Python agree bit for bit.
 * pdm_sinc: the STM32 DFSDM's Sinc filter over such a stream (the receiving side).
 */
#include <stdint.h>

#define PDM_FS (INT64_C(1) << 23)
#define PDM_LIMIT (INT64_C(1) << 30) /* integrator clamp: keeps an overdriven modulator stable */

static inline int64_t clamp(int64_t v) {
    return v > PDM_LIMIT ? PDM_LIMIT : (v < -PDM_LIMIT ? -PDM_LIMIT : v);
}

/* state[0] = u1, state[1] = u2; returns the position after the last bit. */
uint64_t pdm_modulate(const int32_t *x, int64_t nx, uint64_t pos, uint64_t step, int64_t nbits,
                      int64_t *state, uint8_t *out) {
    int64_t u1 = state[0], u2 = state[1];
    for (int64_t n = 0; n < nbits; n++) {
        int64_t i = (int64_t)(pos >> 32);
        int64_t frac = (int64_t)((pos >> 16) & 0xFFFF);
        int64_t a = i < nx ? x[i] : 0;
        int64_t b = i + 1 < nx ? x[i + 1] : a;
        int64_t xi = a + (((b - a) * frac) >> 16);
        int64_t y = u2 >= 0 ? PDM_FS : -PDM_FS;
        out[n] = y > 0;
        u2 = clamp(u2 + u1 - 2 * y);
        u1 = clamp(u1 + xi - y);
        pos += step;
    }
    state[0] = u1;
    state[1] = u2;
    return pos;
}

/* The DFSDM's Sinc^order filter (simcore/peripherals/stm32/dfsdm.py, sinc_outputs, has the design and its
 * numpy twin): order integrators over the bits (1 = +1, 0 = -1) from zero state, sampled after bit
 * first + j * fosr for j = 0 .. nout + order - 1 (a position before bit 0: nothing integrated yet), then
 * order combs at the output rate. out holds nout + order values; out[order ..] are the outputs. Unsigned
 * arithmetic wraps; the outputs are exact (below 2^63). order is 1..5 (RM0351 24.4.8). */
void pdm_sinc(const uint8_t *bits, int64_t nbits, int64_t order, int64_t fosr, int64_t first, int64_t nout,
              int64_t *out) {
    uint64_t acc[5] = {0, 0, 0, 0, 0};
    uint64_t *s = (uint64_t *)out;
    const int64_t nsamp = nout + order;
    int64_t j = 0, next = first;
    while (j < nsamp && next < 0) {
        s[j++] = 0;
        next += fosr;
    }
    for (int64_t n = 0; n < nbits && j < nsamp; n++) {
        acc[0] += bits[n] ? 1u : (uint64_t)-1;
        for (int64_t k = 1; k < order; k++)
            acc[k] += acc[k - 1];
        if (n == next) {
            s[j++] = acc[order - 1];
            next += fosr;
        }
    }
    for (; j < nsamp; j++)
        s[j] = acc[order - 1]; /* past the bits given: not expected (the caller gives them all) */
    for (int64_t c = 0; c < order; c++)
        for (int64_t i = nsamp - 1; i > c; i--)
            s[i] -= s[i - 1];
}

int64_t pdm_abi_version(void) { return 2; }
