/*
 * Hand-timed call tree for the profiler test (tests/integration/test_profile.py).
 * Costs from the Cortex-M4 TRM with simcore's P = 2 (branch) / 3 (load to PC):
 *
 *   prof_leaf:  10 x nop (1) + bx lr (1 + P)                     = 13 exclusive
 *   prof_mid:   push {r4, lr} (1 + 2) + 2 x bl (1 + P)
 *               + pop {r4, pc} (1 + 2 + 3)                        = 15 exclusive,
 *               + 2 x prof_leaf                                   = 41 inclusive
 *   The BL that enters a function is charged to its caller, the return to the callee.
 */
    .syntax unified
    .thumb
    .text

    .balign 4
    .global prof_leaf
    .type prof_leaf, %function
    .thumb_func
prof_leaf:
    nop; nop; nop; nop; nop; nop; nop; nop; nop; nop
    bx lr
    .size prof_leaf, . - prof_leaf

    .balign 4
    .global prof_mid
    .type prof_mid, %function
    .thumb_func
prof_mid:
    push {r4, lr}
    bl prof_leaf
    bl prof_leaf
    pop {r4, pc}
    .size prof_mid, . - prof_mid

/*
 * prof_jump: a BL used as a jump (libgcc's soft-float code does this): the code at 1 never
 * returns to the BL's fall-through but pops prof_jump's own return address. The profiler
 * must unwind both frames at that return, not leak the inner one.
 *   push {r4, lr} (1 + 2) + bl (1 + P) + pop {r4, pc} (1 + 2 + 3) = 12 cycles per call.
 */
    .balign 4
    .global prof_jump
    .type prof_jump, %function
    .thumb_func
prof_jump:
    push {r4, lr}
    bl 1f
    nop
1:  pop {r4, pc}
    .size prof_jump, . - prof_jump
