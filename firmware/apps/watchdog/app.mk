# watchdog: IWDG and WWDG resets seen through RCC_CSR's flags across boots.
APP_BOARDS.watchdog := stm32f407vg stm32l4r5zi
APP_DEPS.watchdog := apps/clock_max/stm32.h apps/systick/cm4.h
