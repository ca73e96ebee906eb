#!/usr/bin/env bash
# A gdb session in batch mode against simcore's gdb server (docs/debugging.md):
# breakpoint in the SysTick handler, backtrace through the exception frame, a watchpoint,
# simcore's monitor commands, then detach: the run finishes and prints its usual summary,
# with the same instruction and cycle counts as without gdb.
#
#   examples/gdb_batch.sh [ELF] [BOARD]
set -euo pipefail
cd "$(dirname "$0")/.."
ELF=${1:-firmware/bin/stm32f407vg/systick.elf}
BOARD=${2:-stm32f407vg}
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

simcore run "$ELF" --board "$BOARD" --gdb :0 -q 2>"$LOG" &
SIM=$!
for _ in $(seq 100); do grep -q "gdb server on" "$LOG" && break; sleep 0.1; done
PORT=$(grep -o '127\.0\.0\.1:[0-9]*' "$LOG" | head -1 | cut -d: -f2)

gdb-multiarch -batch -nx "$ELF" \
    -ex "set pagination off" -ex "target remote 127.0.0.1:$PORT" \
    -ex "break SysTick_Handler" -ex "continue" -ex "bt" \
    -ex "print ticks" -ex "info registers pc xpsr msp psp primask" \
    -ex "watch ticks" -ex "continue" -ex "delete" \
    -ex "monitor cycles" -ex "detach"

wait "$SIM"
cat "$LOG"
