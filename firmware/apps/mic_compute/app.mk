# mic_compute: compute-bound firmware with the microphone streaming by DMA (speed benchmark).
APP_BOARDS.mic_compute := cortex-m4
APP_CFLAGS.mic_compute := -I$(BUILD_DIR)/periph -Iapps/compute -DCOMPUTE_ITERS=500
APP_DEPS.mic_compute := $(BUILD_DIR)/periph/simcore_mic.h
