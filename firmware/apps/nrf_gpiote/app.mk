# nrf_gpiote: a GPIOTE IN event from a button input (a recording) toggles an LED output.
APP_BOARDS.nrf_gpiote := nrf52840
APP_DEPS.nrf_gpiote := apps/nrf_clock/nrf52.h apps/systick/cm4.h
