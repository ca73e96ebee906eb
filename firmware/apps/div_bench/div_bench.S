/*
 * The loop of benchmarks/divide_cost.py: one UDIV among eight instructions (a table load, the
 * divide, a multiply-accumulate, index arithmetic, the loop branch), dividends from a table so
 * the divide's cycles vary (2-12) as its operand hook prices them.
 */
    .syntax unified
    .thumb

    .text
    .balign 16
    .global div_bench_loop
    .type div_bench_loop, %function
    .thumb_func
div_bench_loop:                  @ r0 = iterations, r1 = uint32_t table[16] (dividends), returns a checksum
    push {r4-r7, lr}
    movs r2, #0                  @ checksum
    movs r3, #0                  @ index
1:  ldr r4, [r1, r3, lsl #2]     @ dividend
    adds r5, r3, #3              @ divisor 3..18
    udiv r6, r4, r5
    mla r2, r6, r5, r2
    adds r3, #1
    and r3, r3, #15
    subs r0, #1
    bne 1b
    mov r0, r2
    pop {r4-r7, pc}
    .size div_bench_loop, . - div_bench_loop
