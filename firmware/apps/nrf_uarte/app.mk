# nrf_uarte: printf over the nRF52840 UARTE with EasyDMA, polling ENDTX and by the ENDTX interrupt.
APP_BOARDS.nrf_uarte := nrf52840
APP_DEPS.nrf_uarte := apps/nrf_clock/nrf52.h apps/systick/cm4.h
