# adc_monitor: voltage threshold monitor on simcore's ADC (1 kHz, DMA ring) lighting a GPIO LED.
APP_BOARDS.adc_monitor := cortex-m4
APP_CFLAGS.adc_monitor := -I$(BUILD_DIR)/periph
APP_DEPS.adc_monitor := $(BUILD_DIR)/periph/simcore_adc.h $(BUILD_DIR)/periph/simcore_gpio.h
