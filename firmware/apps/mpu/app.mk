# mpu: the ARMv7-M MPU from privileged and unprivileged code (shares apps/systick/cm4.h)
APP_CFLAGS.mpu := -Iapps/systick
APP_DEPS.mpu := apps/systick/cm4.h
APP_BOARDS.mpu := cortex-m4 stm32f407vg
