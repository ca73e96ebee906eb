# bench_nn: int8 neural-network kernels written the way CMSIS-NN writes them (saturating DSP
# arithmetic, requantization, clamps that compile to IT blocks); benchmarks/corpus.py.
APP_BOARDS.bench_nn := cortex-m4
