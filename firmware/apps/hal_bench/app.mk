# hal_bench: a HAL-style main loop (printf through the polled USART console, HAL_Delay on a SysTick tick)
# a 100 ms busy-wait on a timer flag and loops of one kind of register access, for benchmarks/hal_speed.py.
APP_BOARDS.hal_bench := stm32f407vg stm32l4r5zi b-l475e-iot01a
APP_DEPS.hal_bench := apps/clock_max/stm32.h apps/systick/cm4.h
