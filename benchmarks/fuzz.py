"""The long fuzz run: many more cases than CI, every target, failures saved as regression tests.

Usage: python benchmarks/fuzz.py [--seed 1] [--cases 3000] [--targets elf,board,...]
           [--regressions tests/fuzz_regressions]

Prints, per target, the number of cases, the exit statuses seen and the slowest case, then the
failures (internal errors, tracebacks, runs over their wall-clock limit) and the cases per
second. A failure is reproduced with `python -m simcore.fuzz --seed S --only target:N`; with
--regressions it is also written there as a regression test for tests/test_fuzz.py.
CI runs a fixed small budget of the same fuzzer (tests/test_fuzz.py).
"""

from __future__ import annotations

import sys

from simcore import fuzz

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not any(a.startswith("--cases") for a in argv):
        argv += ["--cases", "3000"]
    raise SystemExit(fuzz.main(argv))
