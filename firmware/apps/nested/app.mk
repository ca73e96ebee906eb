# nested: shares firmware/apps/systick/cm4.h (Cortex-M4 system register definitions)
APP_CFLAGS.nested := -Iapps/systick
APP_DEPS.nested := apps/systick/cm4.h
