#!/usr/bin/env bash
# A suite of test ELFs in parallel with JUnit XML and JSON, then the regression gate:
# `simcore test` runs every ELF of a board in worker processes; `simcore compare` checks the
# suite against a baseline (the first run here; in CI, the main branch's committed JSON) and
# fails when instructions, cycles, flash, RAM or stack grew beyond the tolerance.
#
#   examples/suite_junit.sh [DIR] [OUT_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-firmware/bin/stm32f407vg}
OUT=${2:-$(mktemp -d)}

simcore test "$DIR" -j 2 --junit "$OUT/junit.xml" --json "$OUT/baseline.json"
echo "suite exit status: $? (1: some tests failed, e.g. the ones that exit non-zero on purpose)"
simcore test "$DIR" -j 2 --json "$OUT/current.json" > /dev/null
simcore compare "$OUT/baseline.json" "$OUT/current.json" --tolerance cycles=1
echo "compare exit status: $? (0: no figure grew)"
echo "JUnit XML: $OUT/junit.xml"
