/*
 * Flash timing calibration: the same code from flash and from SRAM, at 0 wait states
 * (stm32f407vg at 24 MHz) and 5 wait states (at 168 MHz) with the ART accelerator, and at
 * 5 wait states without an accelerator (a board variant with accelerator = "none").
 *
 * simcore's flash model (docs/cycle-model.md), per translated block in flash:
 *   none: every 128-bit line the block spans costs WS, every PC-relative literal load WS;
 *   ART : a line not in the 64-line direct-mapped I-cache costs WS unless it is the line
 *         after the last one fetched (sequential prefetch); the line of a block's literal
 *         loads costs WS if not in the 8-line D-cache.
 * Layout used by the hand computations: every function starts 16-byte aligned (line 0);
 * the prologue (push.w 4 B, mov 2 B) and CALIB_START (2 + 2 + 2 B) fill bytes 0-11, so
 * each sequence starts at byte 12 of line 0, and line 0 is already cached by the prologue.
 * CALIB_END before its bkpt is 8 bytes (movs 2, add.w 4, bkpt 2) and 3 cycles.
 */
#include "../calib_core/calib_harness.h"
    .syntax unified
    .thumb

#define NOPS8 nop.w; nop.w; nop.w; nop.w; nop.w; nop.w; nop.w; nop.w

/* 32 x nop.w (128 B) + END (8 B): one block, bytes 12..147 = lines 0..9.
 * 0 WS: 32 + 3 = 35.  ART 5 WS: line 0 cached, lines 1..9 sequential: 35.
 * none 5 WS: 10 lines x 5 = 50: 85. */
CALIB_BEGIN(flash_straight)
    CALIB_START
    NOPS8; NOPS8; NOPS8; NOPS8
CALIB_END(flash_straight)

/* b to a far line and back. Blocks: [b 2f] bytes 12-13 (line 0) 3; [b 3f] at the far
 * line F 3; [END] bytes 14-21 (lines 0-1) 3.  0 WS: 9.
 * ART 5 WS: line 0 hit; F cold and not sequential +5; line 0 hit, line 1 follows line 0
 * (prefetch) +0: 14.  none 5 WS: 1 + 1 + 2 lines = 4 x 5 = 20: 29. */
CALIB_BEGIN(flash_far)
    CALIB_START
    b 2f
3:
CALIB_END(flash_far)
    .balign 16
    .space 16 * 69           @ F = line 0 + 70: a different I-cache index than lines 0 and 1
2:  b 3b

/* A PC-relative literal load. Block [ldr r2, =lit; END] bytes 12-21 (lines 0-1).
 * 0 WS: 2 + 3 = 5.  ART 5 WS: lines 0, 1 (hit, sequential) +0, literal line cold in the
 * D-cache +5: 10.  none 5 WS: 2 lines + 1 literal = 3 x 5 = 15: 20. */
CALIB_BEGIN(flash_literal)
    CALIB_START
    ldr r2, =0x12345678
CALIB_END(flash_literal)
    .ltorg

/* The 10-iteration loop of calib_core from flash. Blocks: [movs, subs, bne] bytes 12-17
 * (lines 0-1: bne sits at bytes 16-17); 9 x [subs, bne] bytes 14-17 (lines 0-1);
 * [END] bytes 18-25 (line 1).
 * 0 WS: 39 + 3 = 42.  ART 5 WS: line 0 cached, line 1 sequential on its first fetch and
 * cached after: 42.  none 5 WS: (2 + 9 x 2 + 1) lines x 5 = 105: 147. */
CALIB_BEGIN(flash_loop)
    CALIB_START
    movs r2, #10
1:  subs r2, #1
    bne 1b
CALIB_END(flash_loop)

/* The straight-line sequence again, run from SRAM (.ramfunc, copied at start-up): no wait
 * states at any clock: 35. */
    .section .ramfunc, "ax", %progbits
    .balign 16
    .global calib_ram_straight
    .type calib_ram_straight, %function
    .thumb_func
calib_ram_straight:
    push {r4-r11, lr}
    mov r11, r0
    CALIB_START
    NOPS8; NOPS8; NOPS8; NOPS8
CALIB_END(ram_straight)
