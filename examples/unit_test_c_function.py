"""Unit-test C functions of a firmware from Python: call them with arguments, check their results and cost.

The dut_demo firmware (firmware/apps/dut_demo/main.c) has plain C functions; this script
boots it once (to main: .data and .bss initialised), snapshots that state, and calls the
functions directly, without the firmware's main running them: integer, float and double
arguments, more than four arguments, 64-bit values, and buffers for pointer parameters. Each
call reports its instructions and cycles on the part. A snapshot restore before every case
gives each the same starting state (and the same counts run after run).

    python examples/unit_test_c_function.py [--board stm32f407vg]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simcore.target import Target  # noqa: E402

CASES = [  # (function, arguments, expected result)
    ("add", (2, 3), 5),
    ("add", (-7, 2), -5),
    ("scale", (2.0, 3.0), 9.0),  # x * k * fscale (1.5, a global in .data)
    ("mix", (2.25, 2.0, 1), 5.5),  # a double, a float and an int: d0, s2, r0
    ("mul64", (0x123456789, -2), -2 * 0x123456789),
    ("sum6", (1, 2, 3, 4, 5, 6), 91),  # the fifth and sixth arguments on the stack
    ("checksum", (bytes([1, 2, 3, 4]), 4), 2),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--board", default="stm32f407vg")
    a = ap.parse_args()
    t = Target(ROOT / "firmware" / "bin" / a.board / "dut_demo.elf", board=a.board)
    t.run_until("main")
    booted = t.snapshot()
    failures = 0
    print(f"{'call':<34} {'result':>14} {'instructions':>12} {'cycles':>8}")
    for name, args, expected in CASES:
        t.restore(booted)
        got = t.call(name, *args)
        ok = got == expected
        failures += not ok
        shown = ", ".join(f"<{len(x)} bytes>" if isinstance(x, bytes) else repr(x) for x in args)
        print(f"{name + '(' + shown + ')':<34} {got!r:>14} {t.last_call.instructions:>12,} "
              f"{t.last_call.cycles:>8,}  {'ok' if ok else f'FAIL (expected {expected!r})'}")
    t.restore(booted)
    buf = [0] * 4
    t.call("fill", buf, 4, -5)  # the function writes through the pointer; the list gets the values back
    print(f"{'fill(buf, 4, -5)':<34} {str(buf):>14} {t.last_call.instructions:>12,} {t.last_call.cycles:>8,}  "
          f"{'ok' if buf == [-5, -4, -3, -2] else 'FAIL'}")
    failures += buf != [-5, -4, -3, -2]
    print(f"\n{len(CASES) + 1 - failures} of {len(CASES) + 1} passed on {a.board}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
