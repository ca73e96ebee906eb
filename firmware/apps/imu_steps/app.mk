# imu_steps: step detector on the IMU's frame FIFO (watermark interrupt, 100 Hz, +-4 g).
APP_BOARDS.imu_steps := cortex-m4
APP_CFLAGS.imu_steps := -I$(BUILD_DIR)/periph
APP_DEPS.imu_steps := $(BUILD_DIR)/periph/simcore_imu.h

ifndef SIMCORE_PERIPH_HEADER_RULE
SIMCORE_PERIPH_HEADER_RULE := 1
$(BUILD_DIR)/periph/%.h: $(wildcard $(SIMCORE_ROOT)/simcore/peripherals/sensors/*.py)
	@mkdir -p $(@D)
	$(SIMCORE_PY) -m simcore.peripherals.headers $* -o $@
endif
