# nrf_sleep: RTC1 compare wake-ups from WFI and WFE sleep on the LFXO.
APP_BOARDS.nrf_sleep := nrf52840
APP_DEPS.nrf_sleep := apps/nrf_clock/nrf52.h apps/systick/cm4.h
