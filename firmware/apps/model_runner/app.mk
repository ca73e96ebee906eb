# model_runner: any .tflite given at build time (see main.c). Not part of the default build
# (no committed ELF): build it with
#
#   make -C firmware model_runner MODEL=path/to/model.tflite INPUTS=path/to/inputs.npy BOARD=stm32f407vg
#
# -> firmware/build/model_runner/<board>/<model>[_ref]/<board>/model_runner.elf (printed at the end).
# Variables: BOARD (default cortex-m4), OPTIMIZED=1|0 (TM_OPTIMIZED kernels, default 1),
# ARENA (bytes, default 65536), OPS="CONV_2D SOFTMAX ..." (compile only these ops: the rest
# are refused at init; default all), MR_BUILD (output directory, default as above).
# The recipe runs a sub-make of this Makefile for that one board and app in its own build
# directory, so builds of different models and kernel sets do not overwrite each other.
BOARD ?= cortex-m4
OPTIMIZED ?= 1
ARENA ?= 65536
OPS ?=
ifeq ($(MR_SUB),)
APP_BOARDS.model_runner := none
MR_BUILD ?= $(BUILD_DIR)/model_runner/$(BOARD)/$(basename $(notdir $(MODEL)))$(if $(filter 0,$(OPTIMIZED)),_ref)$(if $(OPS),_ops)
.PHONY: model_runner
model_runner:
	@test -n "$(MODEL)" || { echo "model_runner: give MODEL=path/to/model.tflite INPUTS=path/to/inputs.npy [BOARD=...]"; exit 2; }
	@test -f "$(MODEL)" || { echo "model_runner: no such model file: $(MODEL)"; exit 2; }
	@test -n "$(INPUTS)" && test -f "$(INPUTS)" || { echo "model_runner: INPUTS=file.npy|file.bin missing or not found: $(INPUTS)"; exit 2; }
	$(MAKE) --no-print-directory MR_SUB=1 APPS=model_runner BOARDS=$(BOARD) BUILD_DIR=$(MR_BUILD) BIN_DIR=$(MR_BUILD) \
	    MODEL=$(abspath $(MODEL)) INPUTS=$(abspath $(INPUTS)) OPTIMIZED=$(OPTIMIZED) ARENA=$(ARENA) OPS="$(OPS)" \
	    $(MR_BUILD)/$(BOARD)/model_runner.elf
	@echo "model_runner: $(MR_BUILD)/$(BOARD)/model_runner.elf"
else
APP_BOARDS.model_runner := $(BOARD)
APP_SRCS.model_runner := $(sort $(wildcard runtime/tm_*.c))
APP_CFLAGS.model_runner := -Iruntime -DTM_OPTIMIZED=$(OPTIMIZED) -DTM_OP_CYCLES=1 -DMR_ARENA_BYTES=$(ARENA) \
    -DMR_MODEL_FILE='"$(MODEL)"' -DMR_INPUTS_FILE='"$(abspath $(BUILD_DIR))/inputs.bin"' \
    $(if $(strip $(OPS)),-DTM_OPS_SELECT=1 $(foreach o,$(OPS),-DTM_OP_$(o)=1))
APP_DEPS.model_runner := $(MODEL) $(BUILD_DIR)/inputs.bin $(wildcard runtime/*.h) $(BUILD_DIR)/mr_flags.txt
# Rebuild when the settings change (the objects of one build directory would otherwise be
# reused with other OPTIMIZED / ARENA / OPS / OPT values): mr_flags.txt is rewritten only
# when they differ from the last build's.
MR_FLAGS := OPTIMIZED=$(OPTIMIZED) ARENA=$(ARENA) OPS=$(strip $(OPS)) OPT=$(OPT) MODEL=$(MODEL)
ifneq ($(file < $(BUILD_DIR)/mr_flags.txt),$(MR_FLAGS))
$(shell mkdir -p $(BUILD_DIR))
$(file > $(BUILD_DIR)/mr_flags.txt,$(MR_FLAGS))
endif

$(BUILD_DIR)/inputs.bin: $(INPUTS) apps/model_runner/npy2bin.py
	$(PYTHON) apps/model_runner/npy2bin.py $< $@
endif
