/*
 * Calibration harness for simcore's Cortex-M4 cycle model (docs/cycle-model.md).
 *
 * Each CALIB_BEGIN .. CALIB_END function takes r0 = uint32_t buf[64]: it reads the cycle
 * counter into buf[0..1] (CALIB_START), runs the sequence under test, reads it again into
 * buf[2..3] (CALIB_END) and returns. The counter is read with the semihosting call
 * SYS_ELAPSED (0x30), which simcore answers from the hot path's cycle counter, the same
 * counter DWT CYCCNT reads (the system block's DWT was not merged when these were written).
 * buf[4..] is scratch data for loads and stores, addressed from r11 = buf.
 *
 * What a delta contains: the bkpt of CALIB_START ends a translated block, so the sequence
 * starts a block (no pipelining with what came before); the delta is the sequence plus
 * CALIB_END's three 1-cycle instructions before its bkpt is reached
 * (movs r0, #0x30; add.w r1, r11, #8; bkpt 0xab) = sequence + 3.
 * Any setup (register values) goes between CALIB_BEGIN and CALIB_START and is not timed.
 * Functions are 256-byte aligned: Unicorn ends a translated block at a 1 KiB page boundary,
 * and simcore does not carry load/store pipelining across blocks, so a timed region must not
 * cross one (tests/integration/test_calibration.py checks it).
 */
#ifndef CALIB_HARNESS_H
#define CALIB_HARNESS_H

#define CALIB_BEGIN(name) \
    .text; .balign 256; .global calib_##name; .type calib_##name, %function; .thumb_func; \
    calib_##name: push {r4-r11, lr}; mov r11, r0

#define CALIB_START movs r0, #0x30; mov r1, r11; bkpt 0xab

#define CALIB_END(name) \
    movs r0, #0x30; add.w r1, r11, #8; bkpt 0xab; pop {r4-r11, pc}; .size calib_##name, . - calib_##name

#endif
