# machine_monitor: ADC (4 kHz, DMA) -> log band energies of 512-sample windows -> autoencoder
# (models/trained/machine.tflite) -> anomaly score and reports. Constants, the output rescaling
# and the threshold from python -m models.tinyml.apps (build/machine_monitor/app_config.h).
APP_BOARDS.machine_monitor := cortex-m4
APP_SRCS.machine_monitor := $(sort $(wildcard runtime/tm_*.c)) common/model_blob.S
APP_CFLAGS.machine_monitor := -Iruntime -I$(BUILD_DIR)/machine_monitor -I$(BUILD_DIR)/periph -DTM_OPTIMIZED=1 \
    -Wa,-I$(SIMCORE_ROOT)/models -DMODEL_FILE='"trained/machine.tflite"'
APP_DEPS.machine_monitor := $(SIMCORE_ROOT)/models/trained/machine.tflite $(BUILD_DIR)/machine_monitor/app_config.h \
    $(BUILD_DIR)/periph/simcore_adc.h $(wildcard runtime/*.h)

$(BUILD_DIR)/machine_monitor/app_config.h: $(SIMCORE_ROOT)/models/tinyml/apps.py $(SIMCORE_ROOT)/models/trained/metrics.json \
    apps/kws_mic/frontend.py
	$(SIMCORE_PY) -m models.tinyml.apps machine_monitor -o $@
