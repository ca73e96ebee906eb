"""What pricing SDIV/UDIV from their operands costs: native per-divide hooks vs static pricing.

    python benchmarks/divide_cost.py [--repeat 3]

Runs firmware/bin/cortex-m4/div_bench.elf (20 M iterations of an 8-instruction loop with one
UDIV: a divide every 8 instructions, far denser than ML or DSP firmware) three ways in one
process: bare Unicorn, simcore with the divides priced from their operands (the default: a
native UC_HOOK_CODE on each divide, simcore/native/timing.c), and simcore with divides charged
the TRM's 12-cycle bound statically (no hooks). Prints guest MIPS, the ratios, the cost per
divide executed, and the cycles each way. Best of --repeat, runs alternating.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from emulation_speed import bare_run  # noqa: E402

from simcore.api import prepare  # noqa: E402

ELF = ROOT / "firmware/bin/cortex-m4/div_bench.elf"


def simcore_run(divides: str) -> tuple[float, int, int, int]:
    """Seconds, instructions, cycles and divides priced by hooks, for one run."""
    m = prepare(ELF, "cortex-m4", native=True, echo=None)
    m.hot.analyzer.cycle_model.divides = divides
    m.hot.configure_model()  # also removes the divide hooks the block cache installed at prepare()
    t0 = time.perf_counter()
    stop = m.run()
    dt = time.perf_counter() - t0
    assert stop.kind == "exit" and b"checksum" in bytes(m.console), stop.message
    return dt, m.instructions, m.cycles, m.hot.div_stats.executed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bare: list[float] = []
    hooked: list[float] = []
    static: list[float] = []
    for _ in range(args.repeat):
        bare.append(bare_run(ELF, "cortex-m4"))
        t, insns, cyc_ops, divs = simcore_run("operands")
        hooked.append(t)
        t, _, cyc_bound, bound_divs = simcore_run("bound")
        static.append(t)
        assert bound_divs == 0, f"the bound run priced {bound_divs:,} divides by hooks"
    mips = [insns / min(t) / 1e6 for t in (bare, hooked, static)]
    per_div = (min(hooked) - min(static)) / divs * 1e9
    print(f"firmware            {ELF.relative_to(ROOT)}: {insns:,} instructions, {divs:,} divides (1 in "
          f"{insns / divs:.1f})")
    print(f"bare unicorn        {mips[0]:8.1f} MIPS  (best of {args.repeat}: {min(bare):.3f} s)")
    print(f"divides by operands {mips[1]:8.1f} MIPS  ratio {mips[1] / mips[0]:.3f}  ({cyc_ops:,} cycles)")
    print(f"divides at 12       {mips[2]:8.1f} MIPS  ratio {mips[2] / mips[0]:.3f}  ({cyc_bound:,} cycles, no hooks)")
    print(f"hook cost           {per_div:8.1f} ns per divide executed; operand pricing moved the count "
          f"{(cyc_ops - cyc_bound) / cyc_bound:+.1%}")


if __name__ == "__main__":
    main()
