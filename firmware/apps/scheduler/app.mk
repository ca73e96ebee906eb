# scheduler: shares firmware/apps/systick/cm4.h (Cortex-M4 system register definitions)
APP_CFLAGS.scheduler := -Iapps/systick
APP_DEPS.scheduler := apps/systick/cm4.h
