# faults: shares firmware/apps/systick/cm4.h (Cortex-M4 system register definitions)
APP_CFLAGS.faults := -Iapps/systick
APP_DEPS.faults := apps/systick/cm4.h
