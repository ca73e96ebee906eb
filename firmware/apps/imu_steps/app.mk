# imu_steps: step detector on the IMU's frame FIFO (watermark interrupt, 100 Hz, +-4 g).
APP_BOARDS.imu_steps := cortex-m4
APP_CFLAGS.imu_steps := -I$(BUILD_DIR)/periph
APP_DEPS.imu_steps := $(BUILD_DIR)/periph/simcore_imu.h common/step_detector.h
