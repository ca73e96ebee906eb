/*
 * calib_div: SDIV/UDIV timing by operand values. Prints "calib <name> <cycles>"; the hand
 * computations are in calib_div.S next to each sequence and in calib.toml.
 */
#include "../calib_core/calib_list.h"

#define CALIB_DIV(X) \
    X(div_zero_dividend) X(div_zero_divisor) X(div_smaller) X(div_equal_bits) X(div_diff3) X(div_diff4) \
    X(div_diff8) X(div_diff16) X(div_diff24) X(div_max) X(sdiv_negative) X(sdiv_negative_divisor) \
    X(sdiv_minus_one) X(udiv_minus_one) X(sdiv_int_min) X(div_loop) X(div_it_fails) X(div_it_passes)

CALIB_DECLARE(CALIB_DIV)

int main(void)
{
    CALIB_RUN(CALIB_DIV);
    puts("calib done");
    return 0;
}
