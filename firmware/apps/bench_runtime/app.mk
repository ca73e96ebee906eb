# bench_runtime: the tm runtime with every op and the reference kernels (TM_OPTIMIZED=0), running
# one inference of every model in models/ (benchmarks/corpus.py). gen_models.py writes the first
# input of each model and models.S (the models and inputs in flash, .incbin, and their table).
APP_BOARDS.bench_runtime := cortex-m4
BENCH_RT_DIR := $(BUILD_DIR)/bench_runtime
BENCH_RT_MODELS := $(sort $(wildcard $(SIMCORE_ROOT)/models/*.tflite))
BENCH_RT_OBJ := $(BENCH_RT_DIR)/models.o
APP_SRCS.bench_runtime := $(sort $(wildcard runtime/tm_*.c))
APP_CFLAGS.bench_runtime := -Iruntime -DTM_OPTIMIZED=0
APP_DEPS.bench_runtime := $(BENCH_RT_OBJ) $(wildcard runtime/*.h)
APP_LDFLAGS.bench_runtime := $(BENCH_RT_OBJ)

$(BENCH_RT_DIR)/models.S: apps/bench_runtime/gen_models.py $(BENCH_RT_MODELS) $(BENCH_RT_MODELS:.tflite=.inputs.npy)
	@mkdir -p $(@D)
	$(PYTHON) apps/bench_runtime/gen_models.py $(abspath $(SIMCORE_ROOT)/models) $(@D)

$(BENCH_RT_OBJ): $(BENCH_RT_DIR)/models.S $(MAKE_DEPS)
	$(CC) $(FW_CFLAGS) -Wa,-I$(abspath $(SIMCORE_ROOT)/models) -Wa,-I$(abspath $(BENCH_RT_DIR)) -c $< -o $@
