#!/usr/bin/env bash
# One table for models across parts: fit (with the shortfall when it does not), latency,
# energy per inference, memory, per-op cycles and the check against the TFLM host interpreter.
# Builds go to the cache directory ($SIMCORE_CACHE_DIR or ~/.cache/simcore), so this works from
# any directory.
#
#   examples/bench_table.sh [MODEL...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
    set -- "$ROOT/models/kws_dscnn.tflite" "$ROOT/models/fully_connected.tflite" "$ROOT/tests/ml/bench_data/wide_int8.tflite"
fi
simcore bench "$@" --board stm32f407vg --board stm32l4r5zi --board nrf52840 --board mps2-an386 \
    --json "${TMPDIR:-/tmp}/bench.json"
