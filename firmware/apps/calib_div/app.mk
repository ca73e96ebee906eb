# Divide timing calibration: generic board only.
APP_BOARDS.calib_div := cortex-m4
# The assembler does not take -ffile-prefix-map: map the checkout path in the .S debug info too.
APP_CFLAGS.calib_div := -Wa,--debug-prefix-map=$(CURDIR)=firmware
