# nrf_clock: nRF52840 clock bring-up (HFXO, LFCLK from the crystal) and TIMER0 at 1 kHz with its interrupt.
APP_BOARDS.nrf_clock := nrf52840
APP_DEPS.nrf_clock := apps/nrf_clock/nrf52.h apps/systick/cm4.h
