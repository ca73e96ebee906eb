# nrf_saadc: SAADC samples triggered by TIMER1 through the PPI into an EasyDMA buffer.
APP_BOARDS.nrf_saadc := nrf52840
APP_DEPS.nrf_saadc := apps/nrf_clock/nrf52.h apps/systick/cm4.h
