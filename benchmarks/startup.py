"""Wall time of `simcore run hello` end to end (interpreter start and imports included).

Usage: python benchmarks/startup.py [--board stm32f407vg] [--repeat 5]
Issue target: under 0.5 s. Prints every run, the best and the median.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f407vg")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    elf = ROOT / "firmware" / "bin" / args.board / "hello.elf"
    cmd = [sys.executable, "-m", "simcore", "run", str(elf), "--board", args.board, "-q"]
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"simcore run failed ({proc.returncode}): {proc.stderr}")
    print(f"simcore run hello on {args.board}: " + " ".join(f"{t:.3f}" for t in times) + " s")
    print(f"best {min(times):.3f} s, median {statistics.median(times):.3f} s (target < 0.5 s)")


if __name__ == "__main__":
    main()
