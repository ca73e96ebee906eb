/*
 * IT blocks (ARMv7-M A7.3.3) with conditions that pass and fail. An instruction whose condition
 * fails is executed as a NOP (A7.3.2): it is counted as an instruction, as QEMU counts it.
 * tests/integration/test_qemu.py runs this program on QEMU with one instruction per
 * translation block and compares QEMU's count of executed instructions with simcore's.
 */
    .syntax unified
    .thumb
    .text

/* uint32_t it_mix(uint32_t x): conditional ALU, loads and stores, both ways of ite/itete */
    .global it_mix
    .type it_mix, %function
    .thumb_func
it_mix:
    push {r4, r5, lr}
    sub sp, sp, #8
    movs r4, #0
    str r4, [sp]
    cmp r0, #8
    ite lo                   @ one of the two runs
    addlo r4, r0, #3
    subhs r4, r0, #3
    tst r0, #1
    itete ne                 @ 4 slots, two fail whatever r0 is
    addne r4, r4, #1
    addeq r4, r4, #2
    eorne r4, r4, #0x10
    eoreq r4, r4, #0x20
    cmp r0, #5
    itttt gt                 @ all four pass or all four fail
    ldrgt r5, [sp]
    addgt r5, r5, r0
    strgt r5, [sp]
    ldrgt r5, [sp]
    it le
    movle r5, #7
    add r0, r4, r5
    add sp, sp, #8
    pop {r4, r5, pc}
    .size it_mix, . - it_mix

/* uint32_t it_ret(uint32_t x): an IT-conditional return and an IT-conditional branch */
    .global it_ret
    .type it_ret, %function
    .thumb_func
it_ret:
    cmp r0, #3
    itt eq
    moveq r0, #100
    bxeq lr                  @ returns only when x == 3
    cmp r0, #10
    it hi
    bhi 1f                   @ a branch inside an IT block (its last slot)
    adds r0, r0, #1
    bx lr
1:  subs r0, r0, #1
    bx lr
    .size it_ret, . - it_ret

/* uint32_t it_pop(uint32_t x): popne {pc} */
    .global it_pop
    .type it_pop, %function
    .thumb_func
it_pop:
    push {r4, lr}
    mov r4, r0
    cmp r4, #0
    itt ne
    addne r0, r4, r4
    popne {r4, pc}
    movs r0, #42
    pop {r4, pc}
    .size it_pop, . - it_pop

/*
 * uint32_t it_across_page(uint32_t x): an IT block that straddles a 1 KiB boundary, where
 * Unicorn ends a translation block: the next block starts inside the IT block.
 */
    .balign 1024
    .space 1024 - 8
    .global it_across_page
    .type it_across_page, %function
    .thumb_func
it_across_page:
    cmp r0, #2               @ 2 bytes
    itete eq                 @ 2 bytes
    moveq r1, #1             @ 4 bytes (mov.w): the page ends after it
    movne r1, #2             @ next page
    addeq r1, r1, #10
    addne r1, r1, #20
    adds r0, r0, r1
    bx lr
    .size it_across_page, . - it_across_page
