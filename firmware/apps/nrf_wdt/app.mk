# nrf_wdt: a starved nRF52840 WDT resets the part; POWER.RESETREAS tells the next boot.
APP_BOARDS.nrf_wdt := nrf52840
APP_DEPS.nrf_wdt := apps/nrf_clock/nrf52.h apps/systick/cm4.h
