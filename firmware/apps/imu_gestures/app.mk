# imu_gestures: IMU FIFO (50 Hz) -> 64-frame int8 window -> gesture CNN (models/trained/gestures.tflite)
# -> detector. Constants from python -m models.tinyml.apps (build/imu_gestures/app_config.h).
APP_BOARDS.imu_gestures := cortex-m4 arduino-nano-33-ble-sense arduino-nano-33-ble-sense-rev2 stm32f4-discovery
APP_SRCS.imu_gestures := $(sort $(wildcard runtime/tm_*.c)) common/model_blob.S
APP_CFLAGS.imu_gestures := -Iruntime -I$(BUILD_DIR)/imu_gestures -I$(BUILD_DIR)/periph -DTM_OPTIMIZED=1 \
    -Wa,-I$(SIMCORE_ROOT)/models -DMODEL_FILE='"trained/gestures.tflite"'
APP_DEPS.imu_gestures := $(SIMCORE_ROOT)/models/trained/gestures.tflite $(BUILD_DIR)/imu_gestures/app_config.h \
    $(BUILD_DIR)/periph/simcore_imu.h common/nano_imu.h common/discovery_lis3dsh.h $(wildcard runtime/*.h)

$(BUILD_DIR)/imu_gestures/app_config.h: $(SIMCORE_ROOT)/models/tinyml/apps.py
	$(SIMCORE_PY) -m models.tinyml.apps imu_gestures -o $@
