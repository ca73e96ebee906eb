"""Guest MIPS with simcore's full accounting vs bare Unicorn (no hooks), same ELF, same process.

Usage: python benchmarks/emulation_speed.py [--elf firmware/bin/cortex-m4/compute.elf] [--board cortex-m4]
                                           [--repeat 3] [--python] [--systick]
Prints guest MIPS for both and their ratio (issue target: >= 0.6) for the cortex-m4 cycle model and
the instruction-count model. Runs alternate and the best of --repeat is kept for each, so a noisy
neighbour hurts both sides alike.

``--systick`` runs firmware/bin/cortex-m4/compute_systick.elf (compute's matmul with SysTick at
1 kHz, ~4700 interrupts) on both sides. Bare Unicorn has no SysTick: the firmware's SYST_* writes
land in a dummy register file, no interrupt is ever taken, and compute still runs to completion
and exits 0 (the tick count it prints is then "few"). Both MIPS figures use simcore's instruction
count, which includes the SysTick handler's instructions (~5 per tick, <0.01% of the run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _bare import bare_unicorn, release  # benchmarks/_bare.py: run as a script, this folder is on sys.path

from simcore.api import prepare
from simcore.board import load_board
from simcore.elf import load_elf

ROOT = Path(__file__).resolve().parent.parent


def bare_run(elf: Path, board_name: str) -> float:
    """Run the firmware on a plain Unicorn (benchmarks/_bare.py): memories, image, semihosting exit only."""
    bare = bare_unicorn(load_board(board_name), load_elf(elf))
    assert bare.pc is not None
    uc, pc = bare.uc, bare.pc
    t0 = time.perf_counter()
    uc.emu_start(pc | 1, 0xFFFFFFFE)
    dt = time.perf_counter() - t0
    release(uc)  # no engine left alive for the next run (_bare.release)
    return dt


def simcore_run(elf: Path, board: str, native: bool, cycle_model: str = "cortex-m4",
                profile: bool = False) -> tuple[float, int]:
    """Time one run; ``profile`` keeps the shadow call stack and the op markers as ``simcore profile`` does."""
    m = prepare(elf, board, native=native, cycle_model=cycle_model)
    if profile:
        from simcore.profile import attach

        prof = attach(m)
    t0 = time.perf_counter()
    stop = m.run()
    if profile:
        prof.finish()
    dt = time.perf_counter() - t0
    m.close()  # no engine left alive for the next run (Machine.close)
    assert stop.kind == "exit", stop.message
    return dt, m.instructions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elf", type=Path, default=ROOT / "firmware/bin/cortex-m4/compute.elf")
    ap.add_argument("--board", default="cortex-m4")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--python", action="store_true", help="also time the pure-Python fallback hook (slow)")
    ap.add_argument("--cycle-model", default="cortex-m4", choices=["cortex-m4", "instructions"],
                    help="cycle model of the timed runs (issue 4 target: ratio >= 0.5 with cortex-m4)")
    ap.add_argument("--systick", action="store_true",
                    help="run compute_systick.elf (SysTick at 1 kHz) on both sides (issue target: ratio >= 0.6)")
    ap.add_argument("--profile", action="store_true",
                    help="also time runs with the profiler on (issue 4 target: ratio >= 0.3)")
    args = ap.parse_args()
    if args.systick:
        args.elf = ROOT / "firmware/bin/cortex-m4/compute_systick.elf"
    other = "instructions" if args.cycle_model == "cortex-m4" else "cortex-m4"
    bare_t: list[float] = []
    acc_t: list[float] = []
    other_t: list[float] = []
    prof_t: list[float] = []
    insns = 0
    for _ in range(args.repeat):
        bare_t.append(bare_run(args.elf, args.board))
        t, insns = simcore_run(args.elf, args.board, native=True, cycle_model=args.cycle_model)
        acc_t.append(t)
        other_t.append(simcore_run(args.elf, args.board, native=True, cycle_model=other)[0])
        if args.profile:
            prof_t.append(simcore_run(args.elf, args.board, native=True, cycle_model=args.cycle_model,
                                      profile=True)[0])
    bare_mips = insns / min(bare_t) / 1e6
    acc_mips = insns / min(acc_t) / 1e6
    print(f"firmware            {args.elf.relative_to(ROOT) if args.elf.is_relative_to(ROOT) else args.elf}")
    print(f"guest instructions  {insns:,}")
    print(f"bare unicorn        {bare_mips:8.1f} MIPS  (best of {args.repeat}: {min(bare_t):.3f} s)")
    print(f"simcore accounting  {acc_mips:8.1f} MIPS  (best of {args.repeat}: {min(acc_t):.3f} s, native hot path)")
    print(f"ratio               {acc_mips / bare_mips:8.3f}  (target >= 0.6; {args.cycle_model} cycle model)")
    other_mips = insns / min(other_t) / 1e6
    print(f"simcore accounting  {other_mips:8.1f} MIPS  (best of {args.repeat}: {min(other_t):.3f} s, {other} "
          "cycle model)")
    print(f"ratio               {other_mips / bare_mips:8.3f}  ({other} cycle model)")
    if args.systick:
        print("systick             bare Unicorn runs the same ELF without interrupts (no SysTick model); "
              "simcore takes them")
    if prof_t:
        prof_mips = insns / min(prof_t) / 1e6
        print(f"simcore profiling   {prof_mips:8.1f} MIPS  (best of {args.repeat}: {min(prof_t):.3f} s, shadow call "
              "stack + ITM op markers)")
        print(f"ratio               {prof_mips / bare_mips:8.3f}  (target >= 0.3)")
    if args.python:
        t, _ = simcore_run(args.elf, args.board, native=False)
        print(f"python fallback     {insns / t / 1e6:8.1f} MIPS  ({t:.3f} s)")


if __name__ == "__main__":
    main()
