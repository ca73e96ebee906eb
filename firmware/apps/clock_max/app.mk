# clock_max: clock bring-up to the part's maximum clock (RM0090 / RM0432 procedures).
APP_BOARDS.clock_max := stm32f407vg stm32l4r5zi
APP_DEPS.clock_max := apps/clock_max/stm32.h apps/systick/cm4.h
