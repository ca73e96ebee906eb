/*
 * Core-instruction calibration sequences, hand-timed from the Cortex-M4 TRM (Arm DDI 0439,
 * Table 3-1 and the load/store notes of section 3.3.2) with simcore's documented choices:
 * P = 2 after a branch, P = 3 after a load to the PC, SDIV/UDIV by operands (calib_div).
 * Every total below = sequence + 3 (the harness, see calib_harness.h); the same numbers are
 * in calib.toml, which tests/integration/test_calibration.py checks against the run.
 */
#include "calib_harness.h"
    .syntax unified
    .thumb

CALIB_BEGIN(empty)
    CALIB_START
    /* nothing: 0 + 3 = 3 */
CALIB_END(empty)

CALIB_BEGIN(alu)
    movs r3, #7; movs r4, #9
    CALIB_START
    adds r2, r3, r4          @ 1
    eors r2, r3              @ 1
    lsls r2, r2, #3          @ 1
    mov.w r5, #100           @ 1
    movw r6, #1234           @ 1
    movt r6, #1              @ 1
    clz r7, r6               @ 1
    ubfx r8, r6, #3, #5      @ 1
    sxth r9, r6              @ 1
    usat r10, #8, r6         @ 1   -> 10 + 3 = 13
CALIB_END(alu)

CALIB_BEGIN(mul)
    movs r2, #3; movs r3, #5; movs r4, #1; movs r5, #2
    CALIB_START
    muls r2, r3, r2          @ 1
    mla r4, r2, r3, r4       @ 1
    mls r5, r2, r3, r5       @ 1
    smull r6, r7, r2, r3     @ 1 (long multiply)
    umlal r6, r7, r2, r3     @ 1   -> 5 + 3 = 8
CALIB_END(mul)

CALIB_BEGIN(dsp)
    movs r2, #3; movs r3, #5; movs r4, #1; movs r9, #0; movs r10, #0
    CALIB_START
    smlad r2, r3, r4, r2     @ 1
    smuad r5, r3, r4         @ 1
    sxtb16 r6, r3            @ 1
    qadd8 r7, r3, r4         @ 1
    sel r8, r3, r4           @ 1
    usada8 r9, r3, r4, r9    @ 1
    smlabb r10, r3, r4, r10  @ 1
    ssat r2, #16, r3         @ 1   -> 8 + 3 = 11
CALIB_END(dsp)

CALIB_BEGIN(ldr_single)
    CALIB_START
    ldr r2, [r11, #16]       @ 2   -> 2 + 3 = 5
CALIB_END(ldr_single)

CALIB_BEGIN(ldr_pipelined)
    CALIB_START
    ldr r2, [r11, #16]       @ 2
    ldr r3, [r11, #20]       @ 1 (pipelined with the previous load)
    ldr r4, [r11, #24]       @ 1
    ldr r5, [r11, #28]       @ 1   -> 5 + 3 = 8
CALIB_END(ldr_pipelined)

/* Stores (TRM 3.3.2 "Load/store timings"): "STR Rx,[Ry,#imm] is always one cycle ... the data
 * store is performed at the same time as the next instruction is executing"; "STR can only be
 * pipelined when it follows an LDR, but nothing can be pipelined after the store": a load or
 * store right after it waits one cycle for that data phase (an STM/PUSH does not: measured on
 * an STM32F407). CALIB_END starts with a movs, which the last data phase overlaps. */
CALIB_BEGIN(str_single)
    CALIB_START
    str r2, [r11, #32]       @ 1 (data phase overlaps CALIB_END's movs)
                             @     -> 1 + 3 = 4
CALIB_END(str_single)

CALIB_BEGIN(ldr_str)
    CALIB_START
    ldr r2, [r11, #16]       @ 2
    str r2, [r11, #32]       @ 0 (pipelined: its address phase overlaps the load's data phase;
                             @    TRM: LDR R0,[R1,R2]; STR R0,[R3,#20] normally three cycles
                             @    total, the third being the data phase, here under the movs)
                             @     -> 2 + 3 = 5
CALIB_END(ldr_str)

CALIB_BEGIN(str_str)
    CALIB_START
    str r2, [r11, #32]       @ 1
    str r3, [r11, #36]       @ 1 + 1 (nothing is pipelined after a store)
    str r4, [r11, #40]       @ 1 + 1   -> 5 + 3 = 8
CALIB_END(str_str)

CALIB_BEGIN(str_ldr)
    CALIB_START
    str r2, [r11, #32]       @ 1
    ldr r3, [r11, #36]       @ 2 + 1 (waits for the store's data phase)
                             @     -> 4 + 3 = 7
CALIB_END(str_ldr)

CALIB_BEGIN(ldr_str_ldr)
    CALIB_START
    ldr r2, [r11, #16]       @ 2
    str r2, [r11, #32]       @ 0 (pipelined after the load)
    ldr r3, [r11, #36]       @ 2 + 1 (after a store: not pipelined, waits)
                             @     -> 5 + 3 = 8
CALIB_END(ldr_str_ldr)

CALIB_BEGIN(str_reg)
    movs r4, #32
    CALIB_START
    str r2, [r11, r4]        @ 2 (register offset: "other instructions cannot be pipelined after")
    ldr r3, [r11, #36]       @ 2 (its data phase was its own second cycle: no wait)
                             @     -> 4 + 3 = 7
CALIB_END(str_reg)

CALIB_BEGIN(ldr_str_reg)
    movs r4, #32
    CALIB_START
    ldr r2, [r11, #16]       @ 2
    str r3, [r11, r4]        @ 1 (TRM: LDR R0,[R1,R2]; STR R1,[R3,R2] normally three cycles total)
                             @     -> 3 + 3 = 6
CALIB_END(ldr_str_reg)

CALIB_BEGIN(str_ldrd)
    CALIB_START
    str r2, [r11, #32]       @ 1
    ldrd r4, r5, [r11, #16]  @ 3 + 1 (waits for the store)
                             @     -> 5 + 3 = 8
CALIB_END(str_ldrd)

CALIB_BEGIN(str_ldm)
    add r3, r11, #64
    CALIB_START
    str r2, [r11, #32]       @ 1
    ldm r3, {r4, r5, r6}     @ 1 + 3 + 1 (a load-multiple waits for the store)
                             @     -> 6 + 3 = 9
CALIB_END(str_ldm)

CALIB_BEGIN(str_stm)
    add r3, r11, #64
    CALIB_START
    str r2, [r11, #32]       @ 1
    stm r3, {r4, r5, r6}     @ 1 + 3 (a store-multiple does not wait)
                             @     -> 5 + 3 = 8
CALIB_END(str_stm)

CALIB_BEGIN(ldr_writeback)
    add r3, r11, #16
    CALIB_START
    ldr r2, [r3], #4         @ 2
    ldr r4, [r3]             @ 2 (its base was written back by the previous load: not pipelined)
    ldr r5, [r11, #20]       @ 1 (pipelined)
                             @     -> 5 + 3 = 8
CALIB_END(ldr_writeback)

CALIB_BEGIN(ldr_strex)
    add r3, r11, #48
    CALIB_START
    ldrex r2, [r3]           @ 2
    strex r4, r2, [r3]       @ 1 ("STREX is treated more like an LDR": pipelined after a load)
                             @     -> 3 + 3 = 6
CALIB_END(ldr_strex)

CALIB_BEGIN(ldr_load_dep)
    add r3, r11, #48; str r3, [r11, #16]
    CALIB_START
    ldr r2, [r11, #16]       @ 2
    ldr r4, [r2]             @ 2 (its address is the previous load's result: not pipelined)
                             @     -> 4 + 3 = 7
CALIB_END(ldr_load_dep)

CALIB_BEGIN(ldr_alu_dep)
    CALIB_START
    add r3, r11, #16         @ 1
    ldr r2, [r3]             @ 2 + 1 (address from the previous ALU result: no forwarding)
                             @     -> 4 + 3 = 7
CALIB_END(ldr_alu_dep)

CALIB_BEGIN(ldrd)
    CALIB_START
    ldrd r2, r3, [r11, #16]  @ 3 (1+N, never pipelined)
    ldr r4, [r11, #24]       @ 2 (nothing pipelines after LDRD)
                             @     -> 5 + 3 = 8
CALIB_END(ldrd)

CALIB_BEGIN(ldm_stm)
    add r3, r11, #64
    CALIB_START
    ldm r3, {r4, r5, r6}     @ 1 + 3
    stm r3, {r4-r10}         @ 1 + 7   -> 12 + 3 = 15
CALIB_END(ldm_stm)

CALIB_BEGIN(push_pop)
    CALIB_START
    push {r2-r9}             @ 1 + 8
    pop {r2-r9}              @ 1 + 8   -> 18 + 3 = 21
CALIB_END(push_pop)

CALIB_BEGIN(branch)
    CALIB_START
    b 1f                     @ 1 + P = 3
    nop                      @ (skipped)
1:                           @     -> 3 + 3 = 6
CALIB_END(branch)

CALIB_BEGIN(loop10)
    CALIB_START
    movs r2, #10             @ 1
1:  subs r2, #1              @ 10 x 1
    bne 1b                   @ 10 x 1 + 9 taken x P(2)
                             @     -> 1 + 10 + 10 + 18 = 39 + 3 = 42
CALIB_END(loop10)

CALIB_BEGIN(not_taken)
    CALIB_START
    movs r2, #1              @ 1
    cmp r2, #0               @ 1
    beq 1f                   @ 1 (not taken)
    nop                      @ 1
1:                           @     -> 4 + 3 = 7
CALIB_END(not_taken)

CALIB_BEGIN(cbz_taken)
    CALIB_START
    movs r2, #0              @ 1
    cbz r2, 1f               @ 1 + P = 3 (taken)
    nop
    nop
1:                           @     -> 4 + 3 = 7
CALIB_END(cbz_taken)

CALIB_BEGIN(call_bx)
    CALIB_START
    bl calib_leaf            @ 1 + P = 3
                             @ calib_leaf: bx lr = 1 + P = 3
                             @     -> 6 + 3 = 9
CALIB_END(call_bx)

CALIB_BEGIN(call_pop_pc)
    CALIB_START
    bl calib_frame           @ 1 + P = 3
                             @ calib_frame: push {r4, lr} = 1 + 2; pop {r4, pc} = 1 + 2 + P(3) = 6
                             @     -> 12 + 3 = 15
CALIB_END(call_pop_pc)

CALIB_BEGIN(it_folded)
    movs r2, #4
    CALIB_START
    cmp r2, #4               @ 1 (16-bit)
    ite eq                   @ 0 (folded onto the preceding 16-bit instruction)
    moveq r3, #1             @ 1 (condition passes)
    movne r3, #2             @ 1 (fails: still one cycle)
                             @     -> 3 + 3 = 6
CALIB_END(it_folded)

CALIB_BEGIN(it_unfolded)
    movs r2, #4
    CALIB_START
    cmp.w r2, #4             @ 1 (32-bit: IT cannot fold onto it)
    ite eq                   @ 1
    moveq r3, #1             @ 1
    movne r3, #2             @ 1   -> 4 + 3 = 7
CALIB_END(it_unfolded)

CALIB_BEGIN(divide)
    movs r3, #100; movs r4, #7
    CALIB_START
    sdiv r2, r3, r4          @ 6 (early termination: 100 has 7 bits, 7 has 3: 5 + (7 - 3) / 4)
    udiv r5, r3, r4          @ 6   -> 12 + 3 = 15 (the rule's full range: calib_div)
CALIB_END(divide)

CALIB_BEGIN(tbb)
    movs r2, #1
    CALIB_START
    tbb [pc, r2]             @ 2 (load) + 1 (add) + P(3) = 6, to case 1
1:  .byte (3f - 1b) / 2, (2f - 1b) / 2
    .balign 2
3:  nop                      @ (case 0, skipped)
2:                           @     -> 6 + 3 = 9
CALIB_END(tbb)

CALIB_BEGIN(ldr_pc)
    adr r3, 1f
    adds r3, #1              @ Thumb bit
    str r3, [r11, #16]
    CALIB_START
    ldr pc, [r11, #16]       @ 2 + P(3) = 5
    nop                      @ (skipped)
    .balign 4
1:                           @     -> 5 + 3 = 8
CALIB_END(ldr_pc)

    .text
    .balign 4
    .thumb_func
calib_leaf:
    bx lr
    .thumb_func
calib_frame:
    push {r4, lr}
    pop {r4, pc}
