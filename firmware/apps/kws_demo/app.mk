# kws_demo: DS-CNN keyword spotter (models/kws_dscnn.tflite) on the tm runtime, timed with DWT CYCCNT.
# The model is pulled into flash by model.S (.incbin, found through -Wa,-I); the test vectors
# become build/kws_demo/kws_inputs.h (gen_inputs.py, no numpy needed).
# SystemCoreClock per board: -DSYSTEM_CORE_CLOCK from KWS_CLOCK_HZ.<board>; the board is taken
# from the object's path under $(BUILD_DIR) when the recipe runs.
APP_BOARDS.kws_demo := stm32f407vg stm32l4r5zi nrf52840 cortex-m4
KWS_CLOCK_HZ.stm32f407vg := 168000000
KWS_CLOCK_HZ.stm32l4r5zi := 120000000
KWS_CLOCK_HZ.nrf52840 := 64000000
KWS_CLOCK_HZ.cortex-m4 := 100000000
KWS_MODELS_DIR := $(SIMCORE_ROOT)/models
APP_SRCS.kws_demo := $(sort $(wildcard runtime/tm_*.c))
APP_CFLAGS.kws_demo := -Iruntime -I$(BUILD_DIR)/kws_demo -DTM_OPTIMIZED=1 -Wa,-I$(KWS_MODELS_DIR) \
    -DSYSTEM_CORE_CLOCK=$$(KWS_CLOCK_HZ.$$(firstword $$(subst /, ,$$(patsubst $(BUILD_DIR)/%,%,$$@))))u
APP_DEPS.kws_demo := $(KWS_MODELS_DIR)/kws_dscnn.tflite $(BUILD_DIR)/kws_demo/kws_inputs.h \
    $(wildcard runtime/*.h)

$(BUILD_DIR)/kws_demo/kws_inputs.h: apps/kws_demo/gen_inputs.py $(KWS_MODELS_DIR)/kws_dscnn.inputs.npy
	@mkdir -p $(@D)
	$(PYTHON) apps/kws_demo/gen_inputs.py $(KWS_MODELS_DIR)/kws_dscnn.inputs.npy -o $@
