"""What pricing SDIV/UDIV from their operands costs: native per-divide hooks vs static pricing.

    python benchmarks/divide_cost.py [--repeat 3]

Runs firmware/bin/cortex-m4/div_bench.elf (20 M iterations of an 8-instruction loop with one
UDIV: a divide every 8 instructions, far denser than ML or DSP firmware) three ways in one
process: bare Unicorn, simcore with the divides priced from their operands (the default: the
loop's divide keeps its operands to the block's end, so the block hook prices it at the next
block entry; divides the block analysis cannot defer have a native UC_HOOK_CODE each, see
docs/cycle-model.md "Divides"), and simcore with divides charged the TRM's 12-cycle bound
statically (no operand reads). Prints guest MIPS, the ratios, the cost per divide executed, how
the divides were priced, and the cycles each way. Best of --repeat, runs alternating.
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


def simcore_run(divides: str) -> tuple[float, int, int, int, int]:
    """Seconds, instructions, cycles, divides priced from their operands and, of those, at a block entry."""
    m = prepare(ELF, "cortex-m4", native=True, echo=None)
    m.hot.analyzer.cycle_model.divides = divides
    m.hot.configure_model()  # also removes the divide hooks the block cache installed at prepare()
    t0 = time.perf_counter()
    stop = m.run()
    dt = time.perf_counter() - t0
    assert stop.kind == "exit" and b"checksum" in bytes(m.console), stop.message
    return dt, m.instructions, m.cycles, m.hot.div_stats.executed, m.hot.state.dv_settled


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bare: list[float] = []
    hooked: list[float] = []
    static: list[float] = []
    for _ in range(args.repeat):
        bare.append(bare_run(ELF, "cortex-m4"))
        t, insns, cyc_ops, divs, deferred = simcore_run("operands")
        hooked.append(t)
        t, _, cyc_bound, bound_divs, _ = simcore_run("bound")
        static.append(t)
        assert bound_divs == 0, f"the bound run priced {bound_divs:,} divides from their operands"
    mips = [insns / min(t) / 1e6 for t in (bare, hooked, static)]
    per_div = (min(hooked) - min(static)) / divs * 1e9
    print(f"firmware            {ELF.relative_to(ROOT)}: {insns:,} instructions, {divs:,} divides (1 in "
          f"{insns / divs:.1f})")
    print(f"bare unicorn        {mips[0]:8.1f} MIPS  (best of {args.repeat}: {min(bare):.3f} s)")
    print(f"divides by operands {mips[1]:8.1f} MIPS  ratio {mips[1] / mips[0]:.3f}  ({cyc_ops:,} cycles)")
    print(f"divides at 12       {mips[2]:8.1f} MIPS  ratio {mips[2] / mips[0]:.3f}  ({cyc_bound:,} cycles, no hooks)")
    print(f"operand pricing     {per_div:8.1f} ns per divide executed ({deferred:,} at the next block entry, "
          f"{divs - deferred:,} by hooks); it moved the count {(cyc_ops - cyc_bound) / cyc_bound:+.1%}")


if __name__ == "__main__":
    main()
