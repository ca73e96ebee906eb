/*
 * calib_fpu: cycle-model calibration of FPv4-SP instructions. Prints "calib <name> <cycles>";
 * the hand computations are in calib_fpu.S next to each sequence and in calib.toml.
 */
#include "../calib_core/calib_list.h"

#define CALIB_FPU(X) X(fp_empty) X(fp_alu) X(fp_dep) X(fp_mla) X(fp_div) X(fp_ldst) X(fp_ldm) X(fp_vmov)

CALIB_DECLARE(CALIB_FPU)

int main(void)
{
    CALIB_RUN(CALIB_FPU);
    puts("calib done");
    return 0;
}
