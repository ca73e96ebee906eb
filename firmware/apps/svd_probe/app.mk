# svd_probe: bring-up code for peripherals simcore does not model (plain SVD registers, reported)
APP_BOARDS.svd_probe := stm32f407vg nrf52840
