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
The goal (issue 16): ``simcore test -j N`` over the ELFs QEMU can run is faster per ELF than
QEMU run once per ELF: simcore's whole wall time (interpreter start, imports, forking the
workers, every run, the report) divided by the ELFs, against QEMU's process wall time per ELF
(process start included, as a user runs it once per ELF), QEMU N processes at a time (the same
two cores; the stricter figure) and one at a time. The last line says whether it is met.
``--copies K`` lists each QEMU-capable ELF K times (K x the suite, K x the QEMU processes), so the
suite's one-off start-up is spread as over a suite of a few hundred binaries. Ratios are measured
side by side in one run; ``--repeat R`` keeps the best of R. The machine's load is printed: a
busy machine makes every figure slower, not their ratios reliable; repeat on a quiet one.

simcore runs as an installed simcore does: Python's bytecode cache on (in a directory of this run,
``PYTHONPYCACHEPREFIX``, even where the environment sets PYTHONDONTWRITEBYTECODE) and simcore's
cache (block analyses, the suite's record of run lengths that orders the longest ELFs first) in a
directory of this run that the first, untimed suite run fills: the figures are those of a second
run of the suite. ``--cold`` empties simcore's cache before every timed suite run (a first run on
a fresh machine; the bytecode cache stays). ``--qemu-only`` measures only the QEMU figures (3, 4)
and ``--no-single`` leaves out the ``simcore run`` processes.

    python benchmarks/suite_speed.py [-j 2] [--repeat 3] [--small-only] [--copies 10] [--qemu-only] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


RUN_DIR = Path(tempfile.mkdtemp(prefix="suite-speed-"))  # this run's bytecode and simcore caches


def env() -> dict[str, str]:
    """simcore's environment: this checkout first, bytecode cached, simcore's cache in this run's directory."""
    e = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
         "PYTHONPYCACHEPREFIX": str(RUN_DIR / "pyc"), "SIMCORE_CACHE_DIR": str(RUN_DIR / "cache")}
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    return e


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far (a simcore test process includes its
    workers, which it waits for): a figure the other users of a loaded machine do not move much."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def simcore_suite(elfs: list[Path], jobs: int, out: Path, cold: bool = False) -> tuple[float, dict]:
    """Wall time of one ``simcore test`` process over ``elfs`` and its JSON (``cold``: simcore's cache emptied)."""
    if cold:
        shutil.rmtree(RUN_DIR / "cache", ignore_errors=True)
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


class QemuHung(Exception):
    """A QEMU process that did not end within QEMU_TIMEOUT (QEMU runs on host time: a wait on a timer can stall)."""


QEMU_TIMEOUT = 60.0


def qemu_one(cmd: list[str], per_elf: dict[str, list[float]] | None = None) -> float:
    t0 = time.perf_counter()
    try:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                       timeout=QEMU_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise QemuHung(cmd[cmd.index("-kernel") + 1]) from None
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
    ap.add_argument("--qemu-only", action="store_true", help="only the ELFs of the boards QEMU runs, only figures 3-4")
    ap.add_argument("--no-single", action="store_true", help="leave out the one-process-per-ELF simcore run figures")
    ap.add_argument("--cold", action="store_true", help="empty simcore's cache before every timed suite run")
    a = ap.parse_args()
    try:
        return measure(a)
    finally:
        shutil.rmtree(RUN_DIR, ignore_errors=True)


def measure(a: argparse.Namespace) -> int:
    all_elfs = sorted(e for e in BIN.glob("*/*.elf") if not a.qemu_only or e.parent.name in QEMU_MACHINES)
    single_on = not a.no_single
    tmp = RUN_DIR
    # one suite run to learn what each ELF does (instructions, how it ends)
    _w, probe = simcore_suite(all_elfs, a.jobs, tmp / "probe.json")  # also fills the bytecode/simcore caches
    info = {Path(r["elf"]).resolve(): r for r in probe["runs"]}
    elfs = [e for e in all_elfs if not a.small_only or info[e.resolve()].get("instructions", 0) < SMALL]
    qemu_elfs = [e for e in elfs if QEMU and e.parent.name in QEMU_MACHINES
                 and (info[e.resolve()].get("stop") or {}).get("kind") == "exit"
                 and qemu_agrees(qemu_cmd(e, tmp), info[e.resolve()]["exit_status"])]
    best: dict[str, float] = {}
    single: dict[str, list[float]] = {}  # ELF -> simcore run process wall times (every repeat)
    qemu: dict[str, list[float]] = {}  # ELF -> QEMU process wall times
    worker: dict[str, list[float]] = {}  # ELF -> its time inside the suite's worker
    pairs: list[tuple[float, float]] = []  # per repeat: simcore test wall, QEMU N at a time wall
    hung_in: list[str] = []  # ELFs on which a QEMU process hung (one per repeat left out)

    def keep(name: str, value: float) -> None:
        best[name] = min(best.get(name, value), value)

    for _ in range(a.repeat):
        if not a.qemu_only:
            wall, _suite = simcore_suite(elfs, a.jobs, tmp / "suite.json", a.cold)
            keep("suite", wall)
            if single_on:
                keep("single_sum", sum(simcore_single(e) for e in elfs))
        if qemu_elfs:
            c0 = children_cpu()
            wall_q, suite_q = simcore_suite(qemu_elfs * a.copies, a.jobs, tmp / "suite_q.json", a.cold)
            keep("suite_q", wall_q)
            keep("suite_q_cpu", children_cpu() - c0)
            for r in suite_q["runs"]:
                worker.setdefault(r["elf"], []).append(r["wall_seconds"])
            cmds = [qemu_cmd(e, tmp) for e in qemu_elfs] * a.copies
            try:  # a repeat where a QEMU process hangs gives no QEMU figures (its timeout is not QEMU's speed)
                c0 = children_cpu()
                qemu_sum = sum(qemu_one(c, qemu) for c in cmds)
                qemu_cpu = children_cpu() - c0
                t0 = time.perf_counter()
                with ThreadPoolExecutor(a.jobs) as pool:
                    list(pool.map(qemu_one, cmds))
                qemu_par = time.perf_counter() - t0
            except QemuHung as hung:
                hung_in.append(str(hung))
                print(f"suite_speed: qemu-system-arm did not end within {QEMU_TIMEOUT:.0f} s on {hung}; "
                      "this repeat's QEMU figures are left out", file=sys.stderr)
            else:
                keep("qemu_sum", qemu_sum)
                keep("qemu_cpu", qemu_cpu)
                keep("qemu_par", qemu_par)
                pairs.append((wall_q, qemu_par))
            if single_on:
                keep("single_q", sum(simcore_single(e, single) for e in qemu_elfs))
    if qemu_elfs and not pairs:
        print(f"suite_speed: QEMU hung in every repeat ({', '.join(hung_in)}): no side-by-side figures; "
              "run again with more --repeat", file=sys.stderr)
        return 1
    n, nq, runs_q = len(elfs), len(qemu_elfs), len(qemu_elfs) * a.copies
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"suite speed: {n} committed ELFs ({'small only' if a.small_only else 'all'}"
          f"{', QEMU boards only' if a.qemu_only else ''}), -j {a.jobs}, best of {a.repeat}, simcore's cache "
          f"{'cold' if a.cold else 'warm'}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"{'':52} {'wall s':>8} {'per run s':>10}")
    rows = []
    if not a.qemu_only:
        rows.append((f"simcore test -j {a.jobs} (all {n})", best["suite"], n))
        if single_on:
            rows.append((f"simcore run, one process per ELF (sum of {n})", best["single_sum"], n))
    if nq:
        rows.append((f"simcore test -j {a.jobs} ({runs_q} runs of the {nq} QEMU ELFs)", best["suite_q"], runs_q))
        if single_on:
            rows.append((f"simcore run, one process each (sum of {nq})", best["single_q"], nq))
        rows += [(f"qemu-system-arm, {runs_q} processes, {a.jobs} at a time", best["qemu_par"], runs_q),
                 (f"qemu-system-arm, {runs_q} processes (sum)", best["qemu_sum"], runs_q)]
    for label, wall, count in rows:
        print(f"{label:52} {wall:>8.2f} {wall / count:>10.3f}")
    if not a.qemu_only and single_on:
        print(f"ratio single-process sum / suite: {best['single_sum'] / best['suite']:.2f}x")
    if nq:
        par, one = best["qemu_par"] / best["suite_q"], best["qemu_sum"] / best["suite_q"]
        print(f"ratio QEMU / simcore test -j {a.jobs} per ELF on the same {runs_q} runs (> 1: simcore faster): "
              f"{par:.2f}x against QEMU {a.jobs} at a time, {one:.2f}x against QEMU one at a time")
        print(f"CPU time (user + system, best of {a.repeat}; the machine's load moves it less than wall time): "
              f"simcore test {best['suite_q_cpu'] / runs_q:.3f} s per ELF (interpreter start, workers and runs), "
              f"QEMU {best['qemu_cpu'] / runs_q:.3f} s per process: {best['qemu_cpu'] / best['suite_q_cpu']:.2f}x")
        if hung_in:
            print(f"QEMU hung (left out of {len(hung_in)} of {a.repeat} repeats): {', '.join(hung_in)}")
        print(f"each repeat (simcore s / QEMU s, both per ELF, QEMU {a.jobs} at a time): "
              + ", ".join(f"{s / runs_q:.3f}/{q / runs_q:.3f} = {q / s:.2f}x" for s, q in pairs))
        print(f"goal (issue 16: simcore test -j {a.jobs} faster per ELF than QEMU once per ELF, {a.jobs} at a time): "
              f"{'MET' if par > 1 else 'NOT MET'} ({best['suite_q'] / runs_q:.3f} s vs "
              f"{best['qemu_par'] / runs_q:.3f} s per ELF)")
    elif QEMU is None:
        print("qemu-system-arm not installed: no QEMU figures")
    if nq:
        print(f"\nper ELF (best of {a.repeat}; s): QEMU process, simcore run process, inside the warm "
              f"simcore test worker")
        print(f"{'ELF':40} {'instructions':>13} {'qemu':>7} {'run':>7} {'worker':>7} {'qemu/worker':>11}")
        for e in qemu_elfs:
            key = str(e)
            q, w = min(qemu[key]), min(worker[key])
            s = f"{min(single[key]):>7.3f}" if single_on else f"{'-':>7}"
            n_insn = info[e.resolve()].get("instructions", 0)
            print(f"{e.parent.name + '/' + e.name:40} {n_insn:>13,} {q:>7.3f} {s} {w:>7.3f} {q / w:>10.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
