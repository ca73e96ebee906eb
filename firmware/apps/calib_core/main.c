/*
 * calib_core: cycle-model calibration of core instructions (ALU, MUL, DSP, load/store
 * pipelining, LDM/STM, branches, IT, divide). Prints "calib <name> <cycles>" per sequence;
 * the hand computations are in calib_core.S next to each sequence and in calib.toml.
 */
#include <stdint.h>
#include <stdio.h>

#include "calib_list.h"

#define CALIB_CORE(X) \
    X(empty) X(alu) X(mul) X(dsp) X(ldr_single) X(ldr_pipelined) X(str_single) X(ldr_str) X(str_str) X(str_ldr) X(ldr_str_ldr) \
    X(str_reg) X(ldr_str_reg) X(str_ldrd) X(str_ldm) X(str_stm) X(ldr_writeback) X(ldr_strex) X(ldr_load_dep) \
    X(ldr_alu_dep) X(ldrd) X(ldm_stm) X(push_pop) X(branch) X(loop10) X(not_taken) X(cbz_taken) \
    X(call_bx) X(call_pop_pc) X(it_folded) X(it_unfolded) X(divide) X(tbb) X(ldr_pc)

CALIB_DECLARE(CALIB_CORE)

int main(void)
{
    CALIB_RUN(CALIB_CORE);
    puts("calib done");
    return 0;
}
