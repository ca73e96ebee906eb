# audio_events: 30 ms log-energy windows from the microphone (DMA double buffer), loud events;
# simcore_mic on the generic board, the PDM with EasyDMA on the nRF52840, the DFSDM on the
# B-L475E-IOT01A (RDATAR read by DMA1 channel 4), I2S2 + DMA and a CIC in software on the STM32F4 Discovery.
# Register maps come from the peripheral models themselves (python -m simcore.peripherals.headers).
APP_BOARDS.audio_events := cortex-m4 nrf52840 b-l475e-iot01a stm32f4-discovery
APP_CFLAGS.audio_events := -I$(BUILD_DIR)/periph
APP_DEPS.audio_events := common/dfsdm_mic.h common/i2s_pdm_mic.h $(BUILD_DIR)/periph/simcore_mic.h $(BUILD_DIR)/periph/nrf52_pdm.h
