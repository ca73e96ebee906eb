# it_blocks: IT blocks whose conditions pass and fail (counts compared with QEMU's, test_qemu.py).
APP_BOARDS.it_blocks := cortex-m4 mps2-an386
# The assembler does not take -ffile-prefix-map: map the checkout path in the .S debug info too.
APP_CFLAGS.it_blocks := -Wa,--debug-prefix-map=$(CURDIR)=firmware
