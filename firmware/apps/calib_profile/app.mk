# The assembler does not take -ffile-prefix-map: map the checkout path in the .S debug info too.
APP_CFLAGS.calib_profile := -Wa,--debug-prefix-map=$(CURDIR)=firmware
