# camera_person: camera (96x96 GRAY8, 4 fps, DMA) -> person detector (models/trained/person.tflite).
# cortex-m4: simcore's camera block (main.c); stm32f407-ov7670: OV7670 + DCMI + DMA2 (main_dcmi.c).
# Constants from python -m models.tinyml.apps (build/camera_person/app_config.h).
APP_BOARDS.camera_person := cortex-m4 stm32f407-ov7670
APP_SRCS.camera_person := $(sort $(wildcard runtime/tm_*.c)) common/model_blob.S
APP_CFLAGS.camera_person := -Iruntime -I$(BUILD_DIR)/camera_person -I$(BUILD_DIR)/periph -DTM_OPTIMIZED=1 \
    -Wa,-I$(SIMCORE_ROOT)/models -DMODEL_FILE='"trained/person.tflite"'
APP_DEPS.camera_person := $(SIMCORE_ROOT)/models/trained/person.tflite $(BUILD_DIR)/camera_person/app_config.h \
    $(BUILD_DIR)/periph/simcore_camera.h $(wildcard runtime/*.h)

$(BUILD_DIR)/camera_person/app_config.h: $(SIMCORE_ROOT)/models/tinyml/apps.py
	$(SIMCORE_PY) -m models.tinyml.apps camera_person -o $@
