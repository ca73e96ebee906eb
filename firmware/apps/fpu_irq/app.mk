# fpu_irq: shares firmware/apps/systick/cm4.h (Cortex-M4 system register definitions)
APP_CFLAGS.fpu_irq := -Iapps/systick
APP_DEPS.fpu_irq := apps/systick/cm4.h
