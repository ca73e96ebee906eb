# faults_nohandler: shares firmware/apps/systick/cm4.h (Cortex-M4 system register definitions)
APP_CFLAGS.faults_nohandler := -Iapps/systick
APP_DEPS.faults_nohandler := apps/systick/cm4.h
