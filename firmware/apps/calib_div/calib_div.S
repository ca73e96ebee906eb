/*
 * SDIV/UDIV calibration: early termination by operand values (Cortex-M4 TRM, DDI 0439, Table 3-1:
 * 2-12 cycles, "Division operations use early termination to minimize the number of cycles
 * required based on the number of leading ones and zeroes in the input operands").
 *
 * simcore's rule (simcore.cycles.divide_cycles; fitted to DWT CYCCNT measurements on an STM32
 * Cortex-M4, see docs/cycle-model.md), bits() = significant bits of the magnitude:
 *   2                                 if the dividend or the divisor is 0
 *   3                                 if bits(dividend) < bits(divisor)
 *   5 + (bits(dividend) - bits(divisor)) / 4 (rounded down)   otherwise (at most 12)
 * Every total below = sequence + 3 (the harness, see ../calib_core/calib_harness.h); the same
 * numbers are in calib.toml, which tests/integration/test_calibration.py checks against the run.
 */
#include "../calib_core/calib_harness.h"
    .syntax unified
    .thumb

#define DIV_CASE(name, insn, n, m, comment) \
    CALIB_BEGIN(name); ldr r3, =n; ldr r4, =m; CALIB_START; insn r2, r3, r4; CALIB_END(name); .ltorg

DIV_CASE(div_zero_dividend, udiv, 0, 7, )                   @ 0 / 7: 2                 -> 5
DIV_CASE(div_zero_divisor, udiv, 7, 0, )                    @ 7 / 0 = 0: 2             -> 5
DIV_CASE(div_smaller, udiv, 5, 9, )                         @ 3 bits < 4 bits: 3       -> 6
DIV_CASE(div_equal_bits, udiv, 15, 8, )                     @ 4 - 4 = 0: 5             -> 8
DIV_CASE(div_diff3, udiv, 0xFF, 31, )                       @ 8 - 5 = 3: 5 + 0 = 5     -> 8
DIV_CASE(div_diff4, udiv, 0x1FF, 31, )                      @ 9 - 5 = 4: 5 + 1 = 6     -> 9
DIV_CASE(div_diff8, udiv, 0x1FFF, 31, )                     @ 13 - 5 = 8: 7            -> 10
DIV_CASE(div_diff16, udiv, 0x1FFFFF, 31, )                  @ 21 - 5 = 16: 9           -> 12
DIV_CASE(div_diff24, udiv, 0x1FFFFFFF, 31, )                @ 29 - 5 = 24: 11          -> 14
DIV_CASE(div_max, udiv, 0xFFFFFFFF, 1, )                    @ 32 - 1 = 31: 5 + 7 = 12  -> 15
DIV_CASE(sdiv_negative, sdiv, -100, 7, )                    @ |-100|: 7 - 3 = 4: 6     -> 9
DIV_CASE(sdiv_negative_divisor, sdiv, 1000, -3, )           @ 10 - 2 = 8: 7            -> 10
DIV_CASE(sdiv_minus_one, sdiv, -1, 1, )                     @ |-1| = 1: 1 - 1 = 0: 5   -> 8
DIV_CASE(udiv_minus_one, udiv, 0xFFFFFFFF, 1, )             @ the same bits unsigned: 12 -> 15
DIV_CASE(sdiv_int_min, sdiv, 0x80000000, -1, )              @ |INT_MIN| = 2^31: 32 - 1: 12 -> 15

/* A loop: the operands change every iteration and the hook prices each execution.
 * Iteration k = 0..7 divides 1 << 4k (4k + 1 bits) by 1: 5 + k cycles, 68 in all;
 * lsls, subs, bne 1 each x 8 = 24; 7 taken branches x P(2) = 14: 106 + 3 = 109. */
CALIB_BEGIN(div_loop)
    movs r3, #1; movs r4, #1; movs r5, #8
    CALIB_START
1:  udiv r2, r3, r4
    lsls r3, r3, #4
    subs r5, #1
    bne 1b
CALIB_END(div_loop)

/* IT-conditional divides. A failed one is not seen by its hook (Unicorn skips it): the block's
 * static 2. cmp 1 + it (folded onto the 16-bit cmp) 0 + udivne (fails) 2 = 3 -> 6. */
CALIB_BEGIN(div_it_fails)
    movs r3, #100; movs r4, #7
    CALIB_START
    cmp r3, r3
    it ne
    udivne r2, r3, r4
CALIB_END(div_it_fails)

/* cmp 1 + it 0 + udiveq (passes) 100 / 7: 7 - 3 = 4: 6 = 7 -> 10. */
CALIB_BEGIN(div_it_passes)
    movs r3, #100; movs r4, #7
    CALIB_START
    cmp r3, r3
    it eq
    udiveq r2, r3, r4
CALIB_END(div_it_passes)
