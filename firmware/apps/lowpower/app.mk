# lowpower: Sleep, Stop and Standby on the STM32 parts (simcore/lowpower.py), across boots.
APP_BOARDS.lowpower := stm32f407vg stm32l4r5zi
APP_DEPS.lowpower := apps/clock_max/stm32.h apps/systick/cm4.h
