"""Suite speed: the committed firmware ELFs as one ``simcore test -j N`` suite, next to one
``simcore run`` process per ELF and next to QEMU (``qemu-system-arm``, one process per ELF).

Three figures for all ELFs under firmware/bin (every board):
  1. ``simcore test firmware/bin -j N``: wall time of the whole suite (warm worker processes);
  2. the sum of ``simcore run ELF --board B -q`` wall times, one process per ELF, one at a time;
and for the ELFs QEMU can run (mps2-an386 on ``-M mps2-an386``, stm32f407vg on
``-M netduinoplus2``, as tests/integration/test_qemu.py runs them; ELFs that do not exit on
their own in simcore, or that QEMU does not run to the same exit status within 10 s (QEMU's
netduinoplus2 has no RCC model, so clock start-up code waits for ever), are left out):
  3. QEMU, one process per ELF, N at a time (wall) and one at a time (sum), next to
     ``simcore test -j N`` over exactly those ELFs;
  4. per ELF QEMU can run, side by side: QEMU's process wall time, ``simcore run``'s process
     wall time, and the ELF's time inside the warm suite worker (from the suite's JSON).
The goal (issue 14): faster than QEMU per ELF on small test binaries, for a suite of a few
hundred of them: ``--copies K`` lists each QEMU-capable ELF K times (K x the suite, K x the
QEMU processes), so the suite's one-off start-up is spread as over a real suite. Ratios are measured side
by side in one run; ``--repeat R`` keeps the best of R. The machine's load is printed: a busy
machine makes every figure slower, not their ratios reliable; repeat on a quiet one.

    python benchmarks/suite_speed.py [-j 2] [--repeat 3] [--small-only] [--copies 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "firmware" / "bin"
QEMU = shutil.which("qemu-system-arm")
QEMU_MACHINES = {"mps2-an386": "mps2-an386", "stm32f407vg": "netduinoplus2"}
SMALL = 1_000_000  # instructions: a "small test binary"


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def simcore_suite(elfs: list[Path], jobs: int, out: Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "simcore", "test", *map(str, elfs), "-j", str(jobs), "--json", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), cwd=ROOT)
    wall = time.perf_counter() - t0
    return wall, json.loads(out.read_text())


def simcore_single(elf: Path, per_elf: dict[str, list[float]] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "simcore", "run", str(elf), "--board", elf.parent.name, "-q"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), cwd=ROOT)
    wall = time.perf_counter() - t0
    if per_elf is not None:
        per_elf.setdefault(str(elf), []).append(wall)
    return wall


def qemu_cmd(elf: Path, tmp: Path) -> list[str]:
    from simcore.elf import load_elf

    machine = QEMU_MACHINES[elf.parent.name]
    serial = ["-serial", "stdio"] if machine == "mps2-an386" else ["-serial", "null", "-serial", "stdio"]
    cmd = [str(QEMU), "-M", machine, "-nographic", "-monitor", "none", *serial,
           "-semihosting-config", f"enable=on,target=native,arg={elf.name}", "-kernel", str(elf)]
    fw = load_elf(elf)
    if machine == "mps2-an386" and fw.read_loaded(0, 8) is None:  # a bare rdimon image: a vector table for it
        vectors = tmp / f"{elf.stem}.vectors.bin"
        vectors.write_bytes(struct.pack("<II", 0x20400000, fw.entry))
        cmd += ["-device", f"loader,file={vectors},addr=0,force-raw=on"]
    return cmd


def qemu_agrees(cmd: list[str], status: int) -> bool:
    """Does QEMU run the ELF to the exit status simcore gave it (within 10 s)?"""
    try:
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                              timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == status


def qemu_one(cmd: list[str], per_elf: dict[str, list[float]] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=60)
    wall = time.perf_counter() - t0
    if per_elf is not None:
        per_elf.setdefault(cmd[cmd.index("-kernel") + 1], []).append(wall)
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--small-only", action="store_true", help=f"only ELFs under {SMALL:,} instructions")
    ap.add_argument("--copies", type=int, default=1, help="run each QEMU-capable ELF this many times (suite and QEMU)")
    a = ap.parse_args()
    all_elfs = sorted(BIN.glob("*/*.elf"))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # one suite run to learn what each ELF does (instructions, how it ends)
        _w, probe = simcore_suite(all_elfs, a.jobs, tmp / "probe.json")
        info = {Path(r["elf"]).resolve(): r for r in probe["runs"]}
        elfs = [e for e in all_elfs if not a.small_only or info[e.resolve()].get("instructions", 0) < SMALL]
        qemu_elfs = [e for e in elfs if QEMU and e.parent.name in QEMU_MACHINES
                     and (info[e.resolve()].get("stop") or {}).get("kind") == "exit"
                     and qemu_agrees(qemu_cmd(e, tmp), info[e.resolve()]["exit_status"])]
        best: dict[str, float] = {}
        single: dict[str, list[float]] = {}  # ELF -> simcore run process wall times (every repeat)
        qemu: dict[str, list[float]] = {}  # ELF -> QEMU process wall times
        worker: dict[str, list[float]] = {}  # ELF -> its time inside the suite's worker

        def keep(name: str, value: float) -> None:
            best[name] = min(best.get(name, value), value)

        for _ in range(a.repeat):
            wall, suite = simcore_suite(elfs, a.jobs, tmp / "suite.json")
            keep("suite", wall)
            keep("single_sum", sum(simcore_single(e) for e in elfs))
            if qemu_elfs:
                wall_q, suite_q = simcore_suite(qemu_elfs * a.copies, a.jobs, tmp / "suite_q.json")
                keep("suite_q", wall_q)
                for r in suite_q["runs"]:
                    worker.setdefault(r["elf"], []).append(r["wall_seconds"])
                cmds = [qemu_cmd(e, tmp) for e in qemu_elfs] * a.copies
                keep("qemu_sum", sum(qemu_one(c, qemu) for c in cmds))
                t0 = time.perf_counter()
                with ThreadPoolExecutor(a.jobs) as pool:
                    list(pool.map(qemu_one, cmds))
                keep("qemu_par", time.perf_counter() - t0)
                keep("single_q", sum(simcore_single(e, single) for e in qemu_elfs))
    n, nq, runs_q = len(elfs), len(qemu_elfs), len(qemu_elfs) * a.copies
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"suite speed: {n} committed ELFs ({'small only' if a.small_only else 'all'}), -j {a.jobs}, "
          f"best of {a.repeat}; load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':52} {'wall s':>8} {'per run s':>10}")
    rows = [(f"simcore test -j {a.jobs} (all {n})", best["suite"], n),
            (f"simcore run, one process per ELF (sum of {n})", best["single_sum"], n)]
    if nq:
        rows += [(f"simcore test -j {a.jobs} ({runs_q} runs of the {nq} QEMU ELFs)", best["suite_q"], runs_q),
                 (f"simcore run, one process each (sum of {nq})", best["single_q"], nq),
                 (f"qemu-system-arm, {runs_q} processes, {a.jobs} at a time", best["qemu_par"], runs_q),
                 (f"qemu-system-arm, {runs_q} processes (sum)", best["qemu_sum"], runs_q)]
    for label, wall, count in rows:
        print(f"{label:52} {wall:>8.2f} {wall / count:>10.3f}")
    print(f"ratio single-process sum / suite: {best['single_sum'] / best['suite']:.2f}x")
    if nq:
        print(f"ratio QEMU ({a.jobs} at a time) / simcore test -j {a.jobs} on the same {runs_q} runs: "
              f"{best['qemu_par'] / best['suite_q']:.2f}x (> 1: simcore faster per ELF)")
    elif QEMU is None:
        print("qemu-system-arm not installed: no QEMU figures")
    if nq:
        print(f"\nper ELF (best of {a.repeat}; s): QEMU process, simcore run process, inside the warm "
              f"simcore test worker")
        print(f"{'ELF':40} {'instructions':>13} {'qemu':>7} {'run':>7} {'worker':>7} {'qemu/worker':>11}")
        for e in qemu_elfs:
            key = str(e)
            q, s, w = min(qemu[key]), min(single[key]), min(worker[key])
            n_insn = info[e.resolve()].get("instructions", 0)
            print(f"{e.parent.name + '/' + e.name:40} {n_insn:>13,} {q:>7.3f} {s:>7.3f} {w:>7.3f} {q / w:>10.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
