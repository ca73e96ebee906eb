/*
 * tm_dsp.h - the Cortex-M4 DSP (ARMv7E-M SIMD) instructions the optimized kernels
 * use, as inline functions: real instructions on the target, a portable C model of
 * each instruction elsewhere, so the optimized path runs (and is tested bit for bit
 * against the reference kernels) on x86 hosts too.
 *
 * Semantics (ARMv7-M Architecture Reference Manual, A7.7):
 *   SXTB16 Rd, Rm{, ROR #8}: sign-extend bytes 0 and 2 (or 1 and 3) to two halfwords.
 *   SXTAB16 Rd, Rn, Rm{, ROR #8}: Rn + SXTB16(Rm) per halfword (wrapping).
 *   SADD16: two independent 16-bit adds (wrapping).
 *   SSAT #8: saturate a signed value to [-128, 127].
 *   SMLAD:  acc + lo(a)*lo(b) + hi(a)*hi(b), signed 16x16, wrapping 32-bit result.
 *   SMLABB / SMLATT: acc + lo(a)*lo(b) / hi(a)*hi(b).
 */
#ifndef TM_DSP_H
#define TM_DSP_H

#include <stdint.h>
#include <string.h>

/* Unaligned little-endian 32-bit load (LDR handles unaligned addresses on M4). */
static inline uint32_t tm_ld32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP

static inline uint32_t tm_sxtb16(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}
static inline uint32_t tm_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t tm_ssat8(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}
static inline uint32_t tm_sxtab16(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
static inline uint32_t tm_sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
static inline uint32_t tm_sadd16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t tm_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
static inline int32_t tm_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
static inline int32_t tm_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

#else /* portable models of the same instructions */

static inline uint32_t tm_pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}
static inline int32_t tm_lo16(uint32_t x) { return (int16_t)(x & 0xffffu); }
static inline int32_t tm_hi16(uint32_t x) { return (int16_t)(x >> 16); }

static inline uint32_t tm_sxtb16(uint32_t x)
{
    return tm_pack16((int8_t)(x & 0xffu), (int8_t)((x >> 16) & 0xffu));
}
static inline uint32_t tm_sxtb16_ror8(uint32_t x)
{
    return tm_sxtb16((x >> 8) | (x << 24));
}
static inline uint32_t tm_sadd16(uint32_t a, uint32_t b)
{
    return tm_pack16(tm_lo16(a) + tm_lo16(b), tm_hi16(a) + tm_hi16(b));
}
static inline int32_t tm_ssat8(int32_t x)
{
    return x < -128 ? -128 : (x > 127 ? 127 : x);
}
static inline uint32_t tm_sxtab16(uint32_t a, uint32_t x)
{
    return tm_sadd16(a, tm_sxtb16(x));
}
static inline uint32_t tm_sxtab16_ror8(uint32_t a, uint32_t x)
{
    return tm_sadd16(a, tm_sxtb16_ror8(x));
}
static inline int32_t tm_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tm_lo16(a) * tm_lo16(b)) +
                     (uint32_t)(tm_hi16(a) * tm_hi16(b)));
}
static inline int32_t tm_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tm_lo16(a) * tm_lo16(b)));
}
static inline int32_t tm_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tm_hi16(a) * tm_hi16(b)));
}

#endif
#endif /* TM_DSP_H */
