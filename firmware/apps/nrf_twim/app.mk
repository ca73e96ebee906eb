# nrf_twim: the sensors of an Arduino Nano 33 BLE Sense through TWIM1 (and a chip on SPIM2).
APP_BOARDS.nrf_twim := nrf52840
APP_DEPS.nrf_twim := apps/nrf_clock/nrf52.h apps/systick/cm4.h
