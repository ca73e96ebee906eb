# adc_dma: STM32 I/O app (firmware/common/stm32_io.h, RM0090 / RM0432 procedures).
APP_BOARDS.adc_dma := stm32f407vg stm32l4r5zi
APP_DEPS.adc_dma := common/stm32_io.h apps/clock_max/stm32.h apps/systick/cm4.h
