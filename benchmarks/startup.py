"""Start-up of simcore with the interpreter's own start included: every built-in board, ELFs of every size.

Usage: python benchmarks/startup.py [--repeat 3] [--board NAME ...] [--elf PATH ...]

Per row (every board in simcore/boards with its hello.elf, then the largest committed ELFs on the generic board;
a kit board, one with sensor chips on its buses, runs twice: as is, and with its chips fed from the TinyML
apps' demo recordings, ``+rec``: the readers open and check them with the standard library, and numpy loads
only when the firmware reads samples, which hello does not):

- ``first insn cold``: wall seconds from spawning ``python`` to the moment the run is about to start
  (``simcore.api.prepare`` done: ELF read and checked, board and peripherals built, block cache read),
  with an empty cache directory (``SIMCORE_CACHE_DIR``), best of ``--repeat`` fresh directories;
- ``warm``: the same with the cache directory an earlier full run of the same ELF filled;
- ``CPU``: the child's user+system seconds of the best warm start (what the machine's load inflates
  least);
- ``run e2e``: ``python -m simcore run ELF --board B -q`` end to end, warm (hello rows only: the
  others spend their time emulating, see benchmarks/corpus.py).

``python -c pass`` in the same environment is printed first: the interpreter's share of every figure.
Children run with Python's bytecode cache on (in a directory of this run: ``PYTHONPYCACHEPREFIX``), as
an installed simcore has it, even where the environment sets PYTHONDONTWRITEBYTECODE; one warm-up
start fills it. Issue 16 goals: <= 0.3 s cold for any ELF under 2 MB, <= 0.15 s warm.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "firmware" / "bin"
PROBE = """
import json, sys, time
import simcore.api as sc
sensors = {k: {"source": path, **opts} for k, (path, opts) in json.loads(sys.argv[3]).items()}
sc.prepare(sys.argv[1], sys.argv[2], max_instructions=1, sensors=sensors or None)
print(time.monotonic(), flush=True)
"""
# boards without a firmware directory of their own run their part's ELFs
PART_OF = {"nucleo-l4r5zi": "stm32l4r5zi", "reference": "cortex-m4", "stm32f407-ov7670": "stm32f407vg"}
LARGE = ("tflite_loader", "kws_demo", "bench_runtime", "bench_cpp")  # on cortex-m4, by size (no sensor input)
TRAINED = ROOT / "models" / "trained"
# a kit board's chips by kind -> the demo recording of the TinyML app that uses that kind (and its options)
RECORDING = {"mic": (TRAINED / "kws_demo.wav", {}), "imu": (TRAINED / "gestures_demo.csv", {}),
             "camera": (TRAINED / "person_demo.npy", {"fps": 4, "resize": True})}
KIND = {"mp45dt02": "mic", "mp34dt01": "mic", "mp34dt05": "mic", "lis3dsh": "imu", "lis3dh": "imu",
        "lsm6dsl": "imu", "lsm9ds1": "imu", "bmi270": "imu", "ov7670": "camera"}


def recordings(board: str) -> dict[str, tuple[str, dict[str, object]]]:
    """The board's chips that a demo recording fits, each with that recording: {device name: (path, options)}."""
    from simcore.board import load_board

    out = {}
    for d in load_board(board).devices:
        kind = KIND.get(d.type)
        if kind is not None:
            path, opts = RECORDING[kind]
            out[d.name] = (str(path), opts)
    return out


def _sensor_args(sensors: dict[str, tuple[str, dict[str, object]]]) -> list[str]:
    """The same recordings as ``simcore run`` options (NAME=FILE[:key=value,...])."""
    args = []
    for name, (path, opts) in sensors.items():
        extra = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in opts.items())
        args += ["--sensor", f"{name}={path}" + (f":{extra}" if extra else "")]
    return args


def _env(pyc: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(pyc), SIMCORE_CACHE_DIR=str(cache),
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _child(args: list[str], env: dict[str, str], check: bool = True) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and stdout of one child process (``check``: it must exit 0)."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), proc.stdout


Sensors = dict[str, tuple[str, dict[str, object]]]


def first_insn(elf: Path, board: str, pyc: Path, cache: Path, sensors: Sensors) -> tuple[float, float]:
    """Seconds from spawning the interpreter to the first instruction, and the child's CPU seconds."""
    t0 = time.monotonic()
    _wall, cpu, out = _child([sys.executable, "-c", PROBE, str(elf), board, json.dumps(sensors)], _env(pyc, cache))
    return float(out.split()[-1]) - t0, cpu


def run_cli(elf: Path, board: str, pyc: Path, cache: Path, sensors: Sensors, check: bool = True) -> float:
    args = [sys.executable, "-m", "simcore", "run", str(elf), "--board", board, "-q", *_sensor_args(sensors)]
    return _child(args, _env(pyc, cache), check)[0]


def hello(board: str) -> Path:
    """The board's own hello.elf, else its part's."""
    own = BIN / board / "hello.elf"
    return own if own.exists() else BIN / PART_OF.get(board, board) / "hello.elf"


def rows(boards: list[str], elfs: list[Path]) -> list[tuple[str, Path, Sensors]]:
    out: list[tuple[str, Path, Sensors]] = []
    for b in boards:
        out.append((b, hello(b), {}))
        rec = recordings(b)
        if rec:
            out.append((b, hello(b), rec))
    return out + [("cortex-m4", e, {}) for e in elfs]


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from simcore.board import BOARD_DIR

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--board", action="append", help="only these boards (default: every board in simcore/boards)")
    ap.add_argument("--elf", action="append", type=Path, help="ELFs for the generic board (default: the largest)")
    args = ap.parse_args(argv)
    boards = args.board or sorted(p.stem for p in BOARD_DIR.glob("*.toml"))
    elfs = args.elf if args.elf is not None else [BIN / "cortex-m4" / f"{n}.elf" for n in LARGE]
    with tempfile.TemporaryDirectory(prefix="simcore-startup-") as tmp:
        pyc = Path(tmp) / "pyc"
        warm_cache = Path(tmp) / "warm"
        run_cli(BIN / "cortex-m4" / "hello.elf", "cortex-m4", pyc, warm_cache, {})  # fills the bytecode cache
        base = min(_child([sys.executable, "-c", "pass"], _env(pyc, warm_cache))[0] for _ in range(args.repeat))
        print(f"python -c pass: {base:.3f} s (the interpreter's share of every figure below)")
        print(f"{'board':<31} {'elf':<15} {'KiB':>6} {'first insn cold':>15} {'warm':>7} {'CPU':>6} {'run e2e':>8}")
        worst_cold = worst_warm = 0.0
        for board, elf, sensors in rows(boards, elfs):
            cold = min(first_insn(elf, board, pyc, Path(tempfile.mkdtemp(dir=tmp)), sensors)
                       for _ in range(args.repeat))[0]
            cache = Path(tempfile.mkdtemp(dir=tmp))
            run_cli(elf, board, pyc, cache, sensors, check=False)  # a full run fills the block cache (any status)
            warm, cpu = min(first_insn(elf, board, pyc, cache, sensors) for _ in range(args.repeat))
            e2e = (f"{min(run_cli(elf, board, pyc, cache, sensors) for _ in range(args.repeat)):8.3f}"
                   if elf.stem == "hello" else f"{'-':>8}")
            size = elf.stat().st_size
            if size < 2 << 20:
                worst_cold, worst_warm = max(worst_cold, cold), max(worst_warm, warm)
            name = elf.stem + ("+rec" if sensors else "")
            print(f"{board:<31} {name:<15} {size / 1024:6.0f} {cold:15.3f} {warm:7.3f} {cpu:6.3f} {e2e}",
                  flush=True)
    print(f"worst over ELFs under 2 MB: cold {worst_cold:.3f} s (goal <= 0.3), warm {worst_warm:.3f} s "
          f"(goal <= 0.15); best of {args.repeat}, wall time on a machine others share")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
