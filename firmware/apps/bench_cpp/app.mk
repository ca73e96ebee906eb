# bench_cpp: a C++ firmware with a large image and many functions (benchmarks/corpus.py): gen.py
# writes thousands of distinct functions and classes with virtual methods into
# $(BUILD_DIR)/bench_cpp/gen.cpp, compiled with arm-none-eabi-g++ (no debug info: the image, not the
# file, is meant to be large) and linked with main.c.
APP_BOARDS.bench_cpp := cortex-m4
BENCH_CPP_OBJ := $(BUILD_DIR)/bench_cpp/gen.o
APP_DEPS.bench_cpp := $(BENCH_CPP_OBJ)
APP_LDFLAGS.bench_cpp := $(BENCH_CPP_OBJ)

$(BUILD_DIR)/bench_cpp/gen.cpp: apps/bench_cpp/gen.py
	@mkdir -p $(@D)
	$(PYTHON) apps/bench_cpp/gen.py -o $@

$(BENCH_CPP_OBJ): $(BUILD_DIR)/bench_cpp/gen.cpp $(MAKE_DEPS)
	$(CROSS_COMPILE)g++ $(ARCH_FLAGS) -O2 -std=gnu++17 -fno-exceptions -fno-rtti -fno-threadsafe-statics \
	    -ffunction-sections -fdata-sections $(PREFIX_MAP) -c $< -o $@
