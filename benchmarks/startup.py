"""Wall time of `simcore run hello` end to end (interpreter start and imports included).

Usage: python benchmarks/startup.py [--board stm32f407vg] [--repeat 5]
Issue target: under 0.5 s. Prints every run, the best and the median (wall time), and the CPU
time of the best run. The runs use Python's bytecode cache (in a directory of this run:
PYTHONPYCACHEPREFIX), as an installed simcore does, even where the environment sets
PYTHONDONTWRITEBYTECODE; a first, unreported run fills it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
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
    with tempfile.TemporaryDirectory() as pyc:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=pyc)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(cmd, capture_output=True, env=env)  # fills the bytecode cache
        times = []
        cpus = []
        for _ in range(args.repeat):
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            times.append(time.perf_counter() - t0)
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime)
            if proc.returncode != 0:
                raise SystemExit(f"simcore run failed ({proc.returncode}): {proc.stderr}")
    print(f"simcore run hello on {args.board}: " + " ".join(f"{t:.3f}" for t in times) + " s")
    best = min(range(len(times)), key=times.__getitem__)
    print(f"best {times[best]:.3f} s ({cpus[best]:.3f} s CPU), median {statistics.median(times):.3f} s "
          "(target < 0.5 s)")

if __name__ == "__main__":
    main()
