# tflite_loader: the tm runtime on a model read through semihosting at run time (the fuzzer's
# .tflite target, simcore/fuzz.py). Optimized kernels, as kws_demo.
APP_BOARDS.tflite_loader := cortex-m4
APP_SRCS.tflite_loader := $(sort $(wildcard runtime/tm_*.c))
APP_CFLAGS.tflite_loader := -Iruntime -DTM_OPTIMIZED=1
APP_DEPS.tflite_loader := $(wildcard runtime/*.h)
