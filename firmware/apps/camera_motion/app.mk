# camera_motion: frame statistics and motion detection on simcore's camera (96x96 GRAY8, 10 fps).
APP_BOARDS.camera_motion := cortex-m4
APP_CFLAGS.camera_motion := -I$(BUILD_DIR)/periph
APP_DEPS.camera_motion := $(BUILD_DIR)/periph/simcore_camera.h
