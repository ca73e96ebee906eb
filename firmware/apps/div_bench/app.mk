# The divide-hook benchmark (benchmarks/divide_cost.py): generic board only. DIV_BENCH_ITERS
# iterations of 8 instructions (one UDIV).
APP_BOARDS.div_bench := cortex-m4
APP_CFLAGS.div_bench := -DDIV_BENCH_ITERS=20000000 -Wa,--debug-prefix-map=$(CURDIR)=firmware
