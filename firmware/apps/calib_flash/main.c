/*
 * calib_flash: flash wait states and the flash accelerator, against the same code in SRAM.
 * Prints "calib <name> <cycles>"; hand computations in calib_flash.S and calib.toml.
 */
#include "../calib_core/calib_list.h"

#define CALIB_FLASH(X) X(flash_straight) X(flash_far) X(flash_literal) X(flash_loop) X(ram_straight)

CALIB_DECLARE(CALIB_FLASH)

int main(void)
{
    CALIB_RUN(CALIB_FLASH);
    puts("calib done");
    return 0;
}
