"""Seeded, reproducible mutation fuzzing of everything simcore reads (issue 11, item 7).

Targets: ``elf`` (firmware files), ``board`` (board TOML), ``sensor`` (WAV, CSV, NPY, RESD and
PNG recordings fed to the sensor firmware), ``semihosting`` (random semihosting calls made by
the ``hostile`` firmware from its command line), ``tflite`` (models loaded and run on the
emulated part by the ``tflite_loader`` firmware through semihosting). Each case is a mutated
copy of a valid input run through ``simcore``'s command line in this process, like a user
would run it, with an instruction budget and a wall-clock limit.

A case *fails* when simcore reports an internal error (exit 127), a Python exception escapes
(a traceback), the run exceeds its wall-clock limit, or the outcome is not one the input can
explain (exit 1 without a fail marker). Bad input (exit 2), firmware faults (126), budgets
(124) and the firmware's own statuses are fine. Case ``i`` of a target depends only on
(seed, target, i), so a failure is reproduced by its name:

    python -m simcore.fuzz --seed 1 --cases 300                 # every target, 300 cases
    python -m simcore.fuzz --seed 1 --only elf:68 --save DIR    # one case, its input saved

``tests/test_fuzz.py`` runs a small fixed budget in CI; ``benchmarks/fuzz.py`` a longer one.
Inputs that once failed are kept in ``tests/fuzz_regressions/`` and replayed by the tests.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import struct
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "firmware" / "bin"
DATA = ROOT / "examples" / "data"
MODELS = ROOT / "models"
INTERESTING32 = (0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
                 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFF0, 0x20000000, 0x20080000 - 4, 0x40000000,
                 0xE000ED00, 0x08000000, 0x1000)
INTERESTING_TOML = ("0", "-1", "1", "3", "7", "8", "100", "496", "497", "4294967295", "4294967296", "-4294967296",
                    "1e308", "-1e308", "nan", "inf", "-inf", "0.0001", '"fast"', '""', '"4G"', '"0x0"', '"1M"',
                    '"-1K"', "true", "false", "[]", "[[1]]", "[[1, 2], [0, 3]]", "[[0, 0]]", "{}", '{ x = 1 }',
                    "0x40000000", "0xE0000000", "0x20000004", "0x4F000080", "[0x0]", "[\"a\"]")


@dataclass
class Case:
    """One fuzz input: the files it needs and the command line that runs it."""

    target: str
    index: int
    files: dict[str, bytes]
    argv: list[str]  # {dir} in an argument is the case's directory
    limit_s: float = 20.0  # CPU seconds (wall: 4x), generous: the run itself has --timeout

    @property
    def name(self) -> str:
        return f"{self.target}:{self.index}"


@dataclass
class Result:
    case: Case
    status: int | None
    seconds: float
    failure: str | None = None  # why the case failed, None if it passed
    stderr: str = ""


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.failure]

    def summary(self) -> str:
        by_target: dict[str, Counter[int | None]] = {}
        for r in self.results:
            by_target.setdefault(r.case.target, Counter())[r.status] += 1
        lines = []
        for target, counts in by_target.items():
            n = sum(counts.values())
            slow = max((r.seconds for r in self.results if r.case.target == target), default=0.0)
            shown = ", ".join(f"{s}: {c}" for s, c in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0])))
            lines.append(f"{target:<12} {n:>4} cases, exit statuses {{{shown}}}, slowest {slow:.2f} s")
        lines.append(f"{len(self.results)} cases, {len(self.failures)} failures")
        for r in self.failures:
            lines.append(f"  FAIL {r.case.name}: {r.failure}")
        return "\n".join(lines)


# --- mutations -----------------------------------------------------------------------------------------
def mutate_bytes(rng: random.Random, data: bytes, hot: tuple[int, int] | None = None) -> bytes:
    """Bit flips, byte and word sets with boundary values, chunk deletes, duplicates and truncation.

    ``hot`` is a byte range (headers) that gets half of the point mutations.
    """
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not buf:
            break
        kind = rng.randrange(6)
        if hot is not None and rng.random() < 0.5:
            lo, hi = hot[0], min(hot[1], len(buf))
        else:
            lo, hi = 0, len(buf)
        at = rng.randrange(lo, max(hi, lo + 1)) if hi > lo else rng.randrange(len(buf))
        at = min(at, len(buf) - 1)
        if kind == 0:
            buf[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            buf[at] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
        elif kind == 2 and at + 4 <= len(buf):
            struct.pack_into("<I", buf, at & ~3 if (at & ~3) + 4 <= len(buf) else at, rng.choice(INTERESTING32))
        elif kind == 3:
            n = rng.randint(1, max(1, min(256, len(buf) - at)))
            del buf[at : at + n]
        elif kind == 4:
            n = rng.randint(1, max(1, min(256, len(buf) - at)))
            buf[at:at] = buf[at : at + n]
        else:
            del buf[rng.randint(0, len(buf)) :]
    return bytes(buf)


def mutate_toml(rng: random.Random, text: str) -> str:
    """Values replaced by wrong types and boundary values, lines dropped or repeated, tables duplicated."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(5)
        assigns = [i for i, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#")]
        if kind <= 1 and assigns:
            i = rng.choice(assigns)
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {rng.choice(INTERESTING_TOML)}"
        elif kind == 2 and lines:
            del lines[rng.randrange(len(lines))]
        elif kind == 3 and lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        else:
            starts = [i for i, ln in enumerate(lines) if ln.startswith("[[")]
            if starts:
                i = rng.choice(starts)
                j = next((k for k in starts if k > i), len(lines))
                lines[j:j] = lines[i:j]
    return "\n".join(lines) + "\n"


# --- targets -----------------------------------------------------------------------------------------
ELF_BASES = [("cortex-m4", "hello"), ("stm32f407vg", "hello"), ("cortex-m4", "semihost"),
             ("mps2-an386", "rdimon_hello"), ("nrf52840", "exitcode")]


def elf_cases(seed: int, n: int) -> Iterator[Case]:
    for i in range(n):
        rng = random.Random(f"{seed}:elf:{i}")
        board, app = rng.choice(ELF_BASES)
        raw = (BIN / board / f"{app}.elf").read_bytes()
        phoff = struct.unpack_from("<I", raw, 28)[0]
        data = mutate_bytes(rng, raw, hot=(0, max(phoff + 32 * 4, 0x1100)))
        if rng.random() < 0.3:
            argv = ["size", "{dir}/fw.elf", "--board", board]
        else:
            argv = ["run", "{dir}/fw.elf", "--board", board, "-q", "--max-instructions", "300000", "--timeout", "5"]
        yield Case("elf", i, {"fw.elf": data}, argv)


def board_cases(seed: int, n: int) -> Iterator[Case]:
    bases = ["cortex-m4", "stm32f407vg", "nrf52840", "mps2-an386", "stm32l4r5zi"]
    for i in range(n):
        rng = random.Random(f"{seed}:board:{i}")
        base = rng.choice(bases)
        text = (ROOT / "simcore" / "boards" / f"{base}.toml").read_text()
        files = {}
        if 'extends = "cortex-m4"' in text:  # the parent goes along, resolved next to the child
            text = text.replace('extends = "cortex-m4"', 'extends = "parent.toml"')
            files["parent.toml"] = (ROOT / "simcore" / "boards" / "cortex-m4.toml").read_bytes()
        files["board.toml"] = mutate_toml(rng, text).encode()
        app = "hello" if base != "mps2-an386" else "spin"
        argv = ["run", str(BIN / base / f"{app}.elf"), "--board", "{dir}/board.toml", "-q",
                "--max-instructions", "300000", "--timeout", "5"]
        if rng.random() < 0.2:
            argv += ["--mhz", rng.choice(["0", "-3", "1e9", "nan", "1", "64"])]
        yield Case("board", i, files, argv)


SENSOR_BASES = [("audio_events", "mic", "audio_events_16k.wav", ""), ("imu_steps", "imu", "imu_walk_100hz.csv", ""),
                ("imu_steps", "imu", "accel_2s.resd", ":resample=true"), ("adc_monitor", "adc", "adc_trace_1k.csv", ""),
                ("camera_motion", "camera", "camera_square/frame_001.png", ":fps=10"),
                ("audio_events", "mic", "audio.npy", ":rate_hz=16000")]


def _npy_audio() -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, (np.sin(np.arange(1600) / 5.0) * 1000).astype(np.int16))
    return buf.getvalue()


def sensor_cases(seed: int, n: int) -> Iterator[Case]:
    for i in range(n):
        rng = random.Random(f"{seed}:sensor:{i}")
        app, sensor, file, opts = rng.choice(SENSOR_BASES)
        raw = _npy_audio() if file.endswith(".npy") else (DATA / file).read_bytes()
        if file.endswith(".csv") and rng.random() < 0.5:
            text = raw.decode()
            cells = [ln.split(",") for ln in text.splitlines()]
            for _ in range(rng.randint(1, 3)):
                row = rng.randrange(len(cells))
                col = rng.randrange(len(cells[row]))
                cells[row][col] = rng.choice(["nan", "inf", "-1e308", "", "x", "1e400", "0", "ax", "t"])
            data = ("\n".join(",".join(r) for r in cells) + "\n").encode()
        else:
            data = mutate_bytes(rng, raw, hot=(0, 128))
        name = "data" + Path(file).suffix
        argv = ["run", str(BIN / "cortex-m4" / f"{app}.elf"), "-q", "--sensor", f"{sensor}={{dir}}/{name}{opts}",
                "--max-instructions", "3000000", "--timeout", "10"]
        yield Case("sensor", i, {name: data}, argv)


SEMIHOSTING_OPS = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11,
                   0x12, 0x13, 0x15, 0x16, 0x30, 0x31, 0x99)


def semihosting_cases(seed: int, n: int) -> Iterator[Case]:
    """Random call scripts for the hostile firmware (cortex-m4 board: flash 0-1M, RAM 0x20000000-0x20080000)."""
    pointers = ("B0", "B10", "Bff0", "0", "100", "8000000", "20000000", "2007fff0", "2007fffc", "20080000",
                "30000000", "40004000", "4f000000", "e000ed00", "fffffffc", "ffffffff")
    values = ("0", "1", "2", "3", "4", "7", "b", "c", "10", "40", "100", "1000", "7fffffff", "80000000", "fffffff0",
              "ffffffff", "20026", "20023")
    for i in range(n):
        rng = random.Random(f"{seed}:semihosting:{i}")
        script = []
        for _ in range(rng.randint(1, 8)):
            op = rng.choice(SEMIHOSTING_OPS)
            if rng.random() < 0.2:
                off = rng.randrange(0, 0x100)
                script.append(f"D{off:x}=" + "".join(rng.choice(["61", "2e", "2f", "00", "3a", "74", "ff", "2e2e"])
                                                     for _ in range(rng.randint(1, 12))))
            if op in (0x03, 0x04, 0x30) or rng.random() < 0.2:
                script.append(f"{op:x}@{rng.choice(pointers)}")
            else:
                args = [rng.choice(pointers + values) for _ in range(4)]
                script.append(f"{op:x}:" + ",".join(args))
        if rng.random() < 0.2:  # an exit with an awkward status
            script.append(f"20:20026,{rng.choice(values)}")
        argv = ["run", str(BIN / "cortex-m4" / "hostile.elf"), "-q", "--semihosting-root", "{dir}/root",
                "--max-instructions", "2000000", "--timeout", "10", "--", "semi", *script]
        yield Case("semihosting", i, {"root/readme.txt": b"semihosting root\n"}, argv)


def tflite_cases(seed: int, n: int) -> Iterator[Case]:
    models = sorted(p for p in MODELS.glob("*.tflite") if p.stat().st_size < 60_000)
    elf = BIN / "cortex-m4" / "tflite_loader.elf"
    for i in range(n):
        rng = random.Random(f"{seed}:tflite:{i}")
        raw = rng.choice(models).read_bytes()
        data = mutate_bytes(rng, raw, hot=(0, 2048))
        argv = ["run", str(elf), "-q", "--semihosting-root", "{dir}", "--max-instructions", "100000000",
                "--timeout", "15"]
        yield Case("tflite", i, {"model.tflite": data}, argv, limit_s=30.0)


TARGETS: dict[str, Callable[[int, int], Iterator[Case]]] = {
    "elf": elf_cases, "board": board_cases, "sensor": sensor_cases, "semihosting": semihosting_cases,
    "tflite": tflite_cases,
}


# --- running -----------------------------------------------------------------------------------------
def run_case(case: Case, workdir: Path) -> Result:
    """Write the case's files, run its command line in this process, and judge the outcome."""
    from simcore.cli import main

    d = workdir / case.name.replace(":", "_")
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for rel, data in case.files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    argv = [a.replace("{dir}", str(d)) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    t0, c0 = time.perf_counter(), time.process_time()
    status: int | None = None
    failure = None
    try:
        with redirect_stdout(out), redirect_stderr(err):
            status = main(argv)
    except BaseException as exc:  # noqa: BLE001 - any escape is a finding
        if isinstance(exc, KeyboardInterrupt):
            raise
        failure = f"{type(exc).__name__} escaped: {exc}"
        err.write(traceback.format_exc())
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0  # what the case cost, whatever else loads the machine
    text = err.getvalue()
    if failure is None:
        if status == 127:
            failure = "internal error (exit 127)"
        elif "Traceback" in text:
            failure = "a traceback on stderr"
        elif status == 1 and "--fail-marker" not in argv and "firmware exited with code" not in text:
            failure = "exit 1 without a fail marker or a firmware exit"
        elif cpu > case.limit_s or seconds > 4 * case.limit_s:
            failure = f"took {cpu:.1f} s of CPU, {seconds:.1f} s of wall time (limit {case.limit_s:g} s CPU)"
    if failure is None:
        shutil.rmtree(d, ignore_errors=True)
    return Result(case, status, seconds, failure, text[-4000:])


def save_regression(case: Case, dest: Path, why: str) -> Path:
    """Keep a failing case as a regression test: its files and ``case.json`` (argv, why it failed)."""
    import json

    d = dest / case.name.replace(":", "_")
    d.mkdir(parents=True, exist_ok=True)
    for rel, data in case.files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    argv = [a.replace(str(ROOT), "{root}") for a in case.argv]
    (d / "case.json").write_text(json.dumps({"target": case.target, "index": case.index, "argv": argv,
                                             "files": sorted(case.files), "found": why}, indent=1) + "\n")
    return d


def load_regression(d: Path) -> Case:
    """A saved case, ready for :func:`run_case` (``{root}`` is this checkout)."""
    import json

    meta = json.loads((d / "case.json").read_text())
    files = {rel: (d / rel).read_bytes() for rel in meta["files"]}
    argv = [a.replace("{root}", str(ROOT)) for a in meta["argv"]]
    return Case(meta["target"], meta["index"], files, argv)


def cases(seed: int, counts: dict[str, int]) -> Iterator[Case]:
    for target, n in counts.items():
        yield from TARGETS[target](seed, n)


def fuzz(seed: int, counts: dict[str, int], workdir: Path | None = None,
         progress: Callable[[Result], None] | None = None) -> Report:
    """Run every case; failed cases keep their files in ``workdir`` (a temporary directory by default)."""
    report = Report()
    own = workdir is None
    base = Path(tempfile.mkdtemp(prefix="simcore-fuzz-")) if workdir is None else workdir
    try:
        for case in cases(seed, counts):
            r = run_case(case, base)
            report.results.append(r)
            if progress is not None:
                progress(r)
    finally:
        if own and not report.failures:
            shutil.rmtree(base, ignore_errors=True)
    return report


def split_budget(total: int, targets: list[str]) -> dict[str, int]:
    """Share ``total`` cases among the targets (tflite cases cost most: a tenth of the others' share)."""
    weights = {t: (0.25 if t == "tflite" else 1.0) for t in targets}
    scale = total / sum(weights.values())
    return {t: max(1, round(w * scale)) for t, w in weights.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simcore.fuzz", description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=300, help="total cases, shared among the targets")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: " + ", ".join(TARGETS))
    ap.add_argument("--only", help="one case by name, e.g. elf:68")
    ap.add_argument("--save", type=Path, help="keep every failing case's files here")
    ap.add_argument("--regressions", type=Path,
                    help="also write each failing case as a regression test here (tests/fuzz_regressions)")
    args = ap.parse_args(argv)
    if args.only:
        target, _, index = args.only.partition(":")
        case = next(c for c in TARGETS[target](args.seed, int(index) + 1) if c.index == int(index))
        work = args.save or Path(tempfile.mkdtemp(prefix="simcore-fuzz-"))
        r = run_case(case, work)
        print(f"{case.name}: exit {r.status} in {r.seconds:.2f} s; argv {case.argv}")
        print(r.stderr)
        if r.failure:
            print(f"FAIL: {r.failure}; files in {work}")
        return 1 if r.failure else 0
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        print(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    report = fuzz(args.seed, split_budget(args.cases, targets), args.save)
    print(report.summary())
    if args.regressions:
        for r in report.failures:
            print(f"saved {save_regression(r.case, args.regressions, r.failure or '')}")
    print(f"{time.perf_counter() - t0:.1f} s")
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
