"""Runaway and memory-hungry firmware, measured: wall time to a diagnosis, peak RSS (issue 11).

Usage: python benchmarks/hardening.py [--flood-mib 100] [--big-ram 1G] [--timeout 3]

Each line runs ``simcore run`` in a fresh process (interpreter start included) and prints its
exit status, wall time, peak resident memory (the child's ru_maxrss) and how it stopped:

  storm          hostile.elf storm: UsageFault handler returning to the faulting udf
  storm_hard     hostile.elf storm_hard: the same through HardFault
  lockup         hostile.elf lockup: a fault inside the HardFault handler
  vtor           hostile.elf vtor: VTOR at unmapped memory, then an SVC
  writec         hostile.elf writec with --timeout: SYS_WRITEC for ever
  spin           hostile.elf spin with --timeout: a tight loop in C
  flood          hostile.elf flood N: N MiB on the console (stdout to /dev/null)
  hello          hello.elf on the cortex-m4 board: the baseline RSS
  big RAM        hello.elf on a board with an extra RAM of --big-ram the firmware never touches

Targets (issue 11): a storm and a SYS_WRITEC loop stop within 5 s with a diagnosis; printing
100 MB peaks under 100 MB RSS; an untouched 1 GiB RAM costs under 50 MB over the baseline.
Figures are printed, not asserted; machines are noisy (the RSS figures are not).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "firmware/bin/cortex-m4/hostile.elf"
HELLO = ROOT / "firmware/bin/cortex-m4/hello.elf"


def measure(args: list[str]) -> tuple[int, float, float, str]:
    """Exit status, wall seconds, peak RSS in MiB, and the 'stopped:' line of one simcore run."""
    cmd = [sys.executable, "-m", "simcore", "run", *args]
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as null, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=null, stderr=err, env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    stopped = next((ln for ln in text.splitlines() if ln.startswith(("stopped:", "simcore: error"))), text[-200:])
    return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, stopped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flood-mib", type=int, default=100)
    ap.add_argument("--big-ram", default="1G")
    ap.add_argument("--timeout", default="3")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        board = Path(tmp) / "bigram.toml"
        board.write_text(f'extends = "cortex-m4"\nname = "bigram"\n[[memory]]\nname = "bigram"\nkind = "ram"\n'
                         f'base = 0x60000000\nsize = "{a.big_ram}"\nexecutable = false\n')
        runs = [
            ("storm", [str(HOSTILE), "-q", "--", "storm"]),
            ("storm_hard", [str(HOSTILE), "-q", "--", "storm_hard"]),
            ("lockup", [str(HOSTILE), "-q", "--", "lockup"]),
            ("vtor", [str(HOSTILE), "-q", "--", "vtor"]),
            ("writec", [str(HOSTILE), "-q", "--timeout", a.timeout, "--", "writec"]),
            ("spin", [str(HOSTILE), "-q", "--timeout", a.timeout, "--", "spin"]),
            (f"flood {a.flood_mib} MiB", [str(HOSTILE), "--", "flood", str(a.flood_mib)]),
            ("hello", [str(HELLO), "-q"]),
            (f"big RAM {a.big_ram}", [str(HELLO), "-q", "--board", str(board)]),
        ]
        print(f"{'run':<18} {'exit':>4} {'wall s':>7} {'peak RSS MiB':>13}  stopped")
        base_rss = None
        for name, args in runs:
            status, wall, rss, stopped = measure(args)
            if name == "hello":
                base_rss = rss
            extra = f" (+{rss - base_rss:.1f} over hello)" if name.startswith("big RAM") and base_rss else ""
            print(f"{name:<18} {status:>4} {wall:>7.2f} {rss:>13.1f}{extra}  {stopped[:150]}")


if __name__ == "__main__":
    main()
