/*
 * FPU calibration sequences, hand-timed from the Cortex-M4 TRM (Arm DDI 0439) FPU
 * instruction table (Table 7-1): VADD/VSUB/VMUL/VABS/VNEG 1, VMLA/VFMA 3, VDIV/VSQRT 14,
 * VLDR/VSTR .32 2 / .64 3, VLDM/VSTM/VPUSH/VPOP 1+N, VMOV core<->FP 1 (2 core registers: 2),
 * +1 when an FP result is used by the very next instruction. Totals = sequence + 3
 * (harness, calib_core/calib_harness.h); the same numbers are in calib.toml.
 */
#include "../calib_core/calib_harness.h"
    .syntax unified
    .thumb

CALIB_BEGIN(fp_empty)
    CALIB_START              @ 0 + 3 = 3
CALIB_END(fp_empty)

CALIB_BEGIN(fp_alu)
    CALIB_START
    vadd.f32 s0, s1, s2      @ 1
    vsub.f32 s3, s4, s5      @ 1
    vmul.f32 s6, s7, s8      @ 1
    vabs.f32 s9, s10         @ 1
    vneg.f32 s11, s12        @ 1   -> 5 + 3 = 8
CALIB_END(fp_alu)

CALIB_BEGIN(fp_dep)
    CALIB_START
    vadd.f32 s0, s1, s2      @ 1
    vmul.f32 s3, s0, s4      @ 1 + 1 (uses the previous FP result)
                             @     -> 3 + 3 = 6
CALIB_END(fp_dep)

CALIB_BEGIN(fp_mla)
    CALIB_START
    vmla.f32 s0, s1, s2      @ 3
    vfma.f32 s3, s4, s5      @ 3   -> 6 + 3 = 9
CALIB_END(fp_mla)

CALIB_BEGIN(fp_div)
    vmov.f32 s1, #2.0; vmov.f32 s2, #1.0; vmov.f32 s4, #4.0
    CALIB_START
    vdiv.f32 s0, s1, s2      @ 14
    vsqrt.f32 s3, s4         @ 14  -> 28 + 3 = 31
CALIB_END(fp_div)

CALIB_BEGIN(fp_ldst)
    CALIB_START
    vldr s0, [r11, #16]      @ 2
    vstr s1, [r11, #20]      @ 2
    vldr d1, [r11, #24]      @ 3   -> 7 + 3 = 10
CALIB_END(fp_ldst)

CALIB_BEGIN(fp_ldm)
    add r3, r11, #16
    CALIB_START
    vldmia r3, {s0-s3}       @ 1 + 4
    vpush {s4-s7}            @ 1 + 4
    vpop {s4-s7}             @ 1 + 4   -> 15 + 3 = 18
CALIB_END(fp_ldm)

CALIB_BEGIN(fp_vmov)
    movs r2, #1; movs r3, #2
    CALIB_START
    vmov s0, r2              @ 1
    vmov r4, s1              @ 1
    vmov s2, s3, r2, r3      @ 2 (two core registers)
                             @     -> 4 + 3 = 7
CALIB_END(fp_vmov)
