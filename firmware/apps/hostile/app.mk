# hostile: runaway and hostile behaviours chosen by the command line (issue 11); the fuzzer's
# "semihosting calls from firmware" target. Uses firmware/apps/systick/cm4.h.
APP_BOARDS.hostile := cortex-m4
APP_DEPS.hostile := apps/systick/cm4.h
