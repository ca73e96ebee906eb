# poll_wait: polling loops as vendor drivers write them (simcore/poll.py fast-forwards them).
APP_BOARDS.poll_wait := stm32f407vg nrf52840
APP_DEPS.poll_wait := apps/clock_max/stm32.h apps/systick/cm4.h common/stm32_io.h
