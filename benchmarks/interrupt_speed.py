"""Guest MIPS of interrupt-heavy firmware vs the same work without interrupts, same process.

Usage: python benchmarks/interrupt_speed.py [--repeat 3] [--python]

firmware/bin/mps2-an386/bench_irq.elf on mps2-an386 (25 MHz): SysTick at 1 kHz whose handler
pends PendSV, PendSV switching between two threads on PSP at every tick, and the CMSDK timer 0
interrupting at 10 kHz (about 28,000 exceptions in 55 M instructions); with the argument
"plain" the same work runs in one thread with no interrupt. Prints guest MIPS for both
(simcore's instruction count over the emulating thread's CPU time, which the machine's load
does not inflate, and over wall time; runs alternate, best of --repeat), their ratio (issue 16
goal: >= 0.5), the exceptions taken (entries and tail-chains) and the cost of one exception.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simcore.api import prepare

ROOT = Path(__file__).resolve().parent.parent
ELF = ROOT / "firmware" / "bin" / "mps2-an386" / "bench_irq.elf"


def one_run(plain: bool, native: bool = True) -> tuple[float, float, int, int, str]:
    """(CPU seconds, wall seconds, instructions, exceptions taken, console) of one run."""
    m = prepare(ELF, "mps2-an386", native=native, cmdline="bench_irq.elf plain" if plain else "bench_irq.elf")
    t0, c0 = time.perf_counter(), time.thread_time()
    stop = m.run()
    dt, cpu = time.perf_counter() - t0, time.thread_time() - c0
    assert stop.exit_code == 0, stop.message
    exc = m.system.exc
    m.close()  # no engine left alive for the next run (Machine.close)
    return cpu, dt, m.instructions, exc.entries + exc.tail_chains, bytes(m.console).decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--python", action="store_true", help="also time the pure-Python fallback (slow)")
    args = ap.parse_args()
    irq_t: list[float] = []
    plain_t: list[float] = []
    irq_w: list[float] = []
    plain_w: list[float] = []
    irq_insns = plain_insns = entries = 0
    console = ""
    for _ in range(args.repeat):
        t, w, irq_insns, entries, console = one_run(plain=False)
        irq_t.append(t)
        irq_w.append(w)
        t, w, plain_insns, _, _ = one_run(plain=True)
        plain_t.append(t)
        plain_w.append(w)
    irq_mips = irq_insns / min(irq_t) / 1e6
    plain_mips = plain_insns / min(plain_t) / 1e6
    print(f"firmware            {ELF.relative_to(ROOT)} (mps2-an386, 25 MHz)")
    print("                    " + console.strip().splitlines()[-1])
    print(f"with interrupts     {irq_mips:8.1f} MIPS  ({irq_insns:,} instructions, best of {args.repeat}: "
          f"{min(irq_t):.3f} s CPU, {min(irq_w):.3f} s wall; {entries:,} exceptions)")
    print(f"without (plain)     {plain_mips:8.1f} MIPS  ({plain_insns:,} instructions, best of {args.repeat}: "
          f"{min(plain_t):.3f} s CPU, {min(plain_w):.3f} s wall)")
    wall_ratio = (irq_insns / min(irq_w)) / (plain_insns / min(plain_w))
    print(f"ratio               {irq_mips / plain_mips:8.3f}  (CPU time; wall time {wall_ratio:.3f}; goal >= 0.5)")
    per_exc = (min(irq_t) - min(plain_t) * irq_insns / plain_insns) / max(entries, 1) * 1e6
    print(f"per exception       {per_exc:8.2f} us  (the CPU time above the plain run's, per exception taken)")
    if args.python:
        t, _, n, _, _ = one_run(plain=False, native=False)
        print(f"python fallback     {n / t / 1e6:8.1f} MIPS with interrupts ({t:.3f} s)")


if __name__ == "__main__":
    main()
