# nrf_nvmc: flash page erase and word writes through the nRF52840 NVMC, with RNG bytes as data.
APP_BOARDS.nrf_nvmc := nrf52840
APP_DEPS.nrf_nvmc := apps/nrf_clock/nrf52.h apps/systick/cm4.h
