"""Speed over a corpus: every committed ELF, side by side with bare Unicorn on the same ELF.

Usage: python benchmarks/corpus.py [--repeat 2] [--filter TEXT] [--json FILE] [--no-startup]

Per ELF (firmware/bin/<board>/<app>.elf, the board is the directory): time to first
instruction in a fresh interpreter (interpreter start and imports included: the wall time from
spawning ``python`` to the moment the run starts), cold (empty cache directory) and warm (the
same directory again); the wall time of ``python -m simcore run ELF -q`` end to end; guest MIPS
of the run in this process (simcore's instruction count over the emulating thread's CPU time,
which the machine's load inflates far less than wall time); and bare Unicorn's MIPS on the same
ELF, timed the same way (memories, image, MMIO answering "ready", semihosting exit; no hooks),
as the ratio simcore / bare: both to the same end, so the ratio is bare's time over simcore's.
Bare Unicorn does not always execute the same instructions: its MMIO answers "ready" at once (no
waiting on a UART's transmission), it takes no interrupts (an idle wait spins). A second, untimed
bare run counts what it executes (a native per-instruction hook): column "bare insns", and the
note "different work" where it differs from simcore's count by more than 10% (the ratio then
compares runs of unequal work; bare MIPS are its own count over its time). The children run
with Python's bytecode cache on (in a directory
of this run: PYTHONPYCACHEPREFIX), as an installed simcore does, even where the environment
sets PYTHONDONTWRITEBYTECODE; one warm-up start fills it. Bare Unicorn has no interrupts, no sensors and no
fault handling: where it cannot reach the same end (it does not exit the same way within ten
times simcore's time) the ratio is n/a with the reason. Runs that idle (spinning, sleeping)
fast-forward virtual time, so their MIPS are not comparable either. Best of --repeat for
every timed figure; the machine's load moves all figures alike (ratios are side by side).
Issue 16 goals: ratio >= 0.6 on every ELF; start-up <= 0.3 s cold for an ELF under 2 MB and
<= 0.15 s warm.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import unicorn
from _bare import bare_unicorn  # benchmarks/_bare.py: run as a script, this folder is on sys.path

from simcore.api import prepare
from simcore.board import load_board
from simcore.elf import load_elf
from simcore.errors import SimcoreError
from simcore.hotpath import native_library

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
WAV = str(DATA / "audio_events_16k.wav")
# sensor recordings per app: (CLI --sensor value, API value)
SENSORS: dict[str, dict[str, tuple[str, object]]] = {
    "adc_monitor": {"adc": (str(DATA / "adc_trace_1k.csv"),) * 2}, "audio_events": {"mic": (WAV, WAV)},
    "kws_mic": {"mic": (WAV, WAV)}, "mic_compute": {"mic": (WAV, WAV)},
    "imu_steps": {"imu": (str(DATA / "imu_walk_100hz.csv"),) * 2},
    "camera_motion": {"camera": (str(DATA / "camera_square") + ":fps=10", (str(DATA / "camera_square"), {"fps": 10}))},
}
PROBE = """
import sys, time
import simcore.api as sc
elf, board = sys.argv[1], sys.argv[2]
m = sc.prepare(elf, board, max_instructions=1)
print(time.monotonic(), flush=True)
"""


@dataclass
class Row:
    elf: str
    size: int
    startup_cold: float | None = None
    startup_warm: float | None = None
    cpu_cold: float | None = None
    cpu_warm: float | None = None
    wall: float | None = None
    instructions: int = 0
    stop: str = ""
    mips: float | None = None
    bare_mips: float | None = None
    bare_instructions: int | None = None
    ratio: float | None = None
    note: str = ""


PYC = Path(tempfile.mkdtemp(prefix="simcore-pyc-"))  # the children's bytecode cache (see the docstring)


def child_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, SIMCORE_CACHE_DIR=str(cache), PYTHONPYCACHEPREFIX=str(PYC))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def startup(elf: Path, board: str, cache: Path) -> tuple[float, float]:
    """Seconds from spawning the interpreter to the first instruction (the run about to start), and the
    CPU seconds the child used in all (a figure the machine's load does not inflate)."""
    env = child_env(cache)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", PROBE, str(elf), board], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True).stdout
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return float(out.split()[-1]) - t0, cpu


def wall(elf: Path, board: str, cache: Path) -> float:
    args = [sys.executable, "-m", "simcore", "run", str(elf), "--board", board, "-q"]
    for name, (spec, _api) in SENSORS.get(elf.stem, {}).items():
        args += ["--sensor", f"{name}={spec}"]
    env = child_env(cache)
    t0 = time.monotonic()
    subprocess.run(args, capture_output=True, env=env, cwd=ROOT)
    return time.monotonic() - t0


def simcore_run(elf: Path, board: str) -> tuple[float, int, str, int | None]:
    sensors = {k: api for k, (_cli, api) in SENSORS.get(elf.stem, {}).items()}
    m = prepare(elf, board, sensors=sensors or None)
    t0 = time.thread_time()
    stop = m.run()
    return time.thread_time() - t0, m.instructions, stop.kind.value, stop.exit_code


def bare_run(elf: Path, board_name: str, timeout_s: float, count: bool = False) -> tuple[float, int | None]:
    """Seconds and semihosting exit code (None: did not exit) of the ELF on a hookless Unicorn.

    ``count``: instead of the seconds, the instructions it executed (a native UC_HOOK_CODE counter:
    a run that is not timed)."""
    bare = bare_unicorn(load_board(board_name), load_elf(elf))
    uc, code = bare.uc, bare.exit_code
    counter = ctypes.c_uint64(0)
    if count:
        lib = native_library()
        assert lib is not None
        lib.tm_count_hook_ptr.restype = ctypes.c_void_p
        handle = ctypes.c_size_t()
        uclib = unicorn.unicorn_py3.unicorn.uclib
        uclib.uc_hook_add(uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_CODE, ctypes.c_void_p(lib.tm_count_hook_ptr()),
                          ctypes.c_void_p(ctypes.addressof(counter)), ctypes.c_uint64(1), ctypes.c_uint64(0))
    if bare.pc is None:
        return 0.0, None
    pc = bare.pc
    t0 = time.thread_time()
    try:
        uc.emu_start(pc | 1, 0xFFFFFFFE, timeout=int(timeout_s * 1e6))
    except unicorn.UcError:
        return (counter.value if count else time.thread_time() - t0), None
    return (counter.value if count else time.thread_time() - t0), code[0]


def measure(elf: Path, repeat: int, do_startup: bool) -> Row:
    board = elf.parent.name
    row = Row(f"{board}/{elf.stem}", elf.stat().st_size)
    if do_startup:
        with tempfile.TemporaryDirectory() as tmp:
            cold = []
            for _ in range(repeat):  # each cold probe gets an empty cache directory
                with tempfile.TemporaryDirectory() as fresh:
                    cold.append(startup(elf, board, Path(fresh)))
            row.startup_cold, row.cpu_cold = min(cold)
            wall(elf, board, Path(tmp))  # a whole run fills the cache
            row.startup_warm, row.cpu_warm = min(startup(elf, board, Path(tmp)) for _ in range(repeat))
            row.wall = min(wall(elf, board, Path(tmp)) for _ in range(repeat))
    runs = []
    for _ in range(repeat):
        runs.append(simcore_run(elf, board))
    t, row.instructions, row.stop, exit_code = min(runs)
    if row.stop in ("spinning", "sleeping"):
        row.note = f"{row.stop}: idle time is fast-forwarded"
    elif t > 0:
        row.mips = row.instructions / t / 1e6
    if elf.stem in SENSORS:
        row.note = row.note or "needs sensor input"
    if row.mips is not None and not row.note:
        bare = [bare_run(elf, board, max(10 * t, 2.0)) for _ in range(repeat)]
        bt, bcode = min(bare, key=lambda x: x[0])
        if bcode is not None and bcode == exit_code and row.stop == "exit":
            n, _ = bare_run(elf, board, max(100 * t, 20.0), count=True)
            row.bare_instructions = int(n)
            row.bare_mips = n / bt / 1e6
            row.ratio = bt / t
            if abs(n - row.instructions) > 0.1 * row.instructions:
                row.note = f"different work: bare Unicorn executes {n / row.instructions:.2f}x the instructions"
        else:
            row.note = "bare Unicorn does not reach the same end (no interrupts, faults or peripherals)"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--filter", default="", help="only ELFs whose board/app contains this text")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--no-startup", action="store_true", help="skip the fresh-interpreter figures (faster)")
    args = ap.parse_args()
    elfs = [p for p in sorted((ROOT / "firmware" / "bin").glob("*/*.elf"))
            if args.filter in f"{p.parent.name}/{p.stem}"]
    if elfs and not args.no_startup:  # fill the children's bytecode cache
        with tempfile.TemporaryDirectory() as tmp:
            startup(elfs[0], elfs[0].parent.name, Path(tmp))
    rows = []
    head = f"{'ELF':34s} {'KiB':>6s} {'cold s':>7s} {'(cpu)':>6s} {'warm s':>7s} {'(cpu)':>6s} {'wall s':>7s} " \
           f"{'instructions':>13s} {'MIPS':>7s} {'bare insns':>13s} {'bare':>7s} {'ratio':>6s}  note"
    print(head)

    def f(v: float | None, fmt: str) -> str:
        return format(v, fmt) if v is not None else "-"

    for elf in elfs:
        try:
            r = measure(elf, args.repeat, not args.no_startup)
        except SimcoreError as exc:  # an app whose inputs SENSORS does not give: say so, measure the others
            r = Row(f"{elf.parent.name}/{elf.stem}", elf.stat().st_size, note=f"not measured: {exc}"[:160])
        rows.append(r)
        print(f"{r.elf:34s} {r.size / 1024:6.0f} {f(r.startup_cold, '7.3f')} {f(r.cpu_cold, '6.3f')} "
              f"{f(r.startup_warm, '7.3f')} {f(r.cpu_warm, '6.3f')} {f(r.wall, '7.2f')} {r.instructions:13,d} "
              f"{f(r.mips, '7.1f')} {f(r.bare_instructions, '13,d')} {f(r.bare_mips, '7.1f')} {f(r.ratio, '6.3f')}  "
              f"{r.note}", flush=True)
    ratios = [r.ratio for r in rows if r.ratio is not None]
    small = [r for r in rows if r.size < 2 << 20 and r.startup_cold is not None]
    print()
    if ratios:
        print(f"ratio to bare Unicorn: min {min(ratios):.3f}, median {sorted(ratios)[len(ratios) // 2]:.3f} over "
              f"{len(ratios)} ELFs ({sum(1 for x in ratios if x >= 0.6)} at >= 0.6)")
    if small:
        cold, warm = max(r.startup_cold or 0 for r in small), max(r.startup_warm or 0 for r in small)
        print(f"start-up (ELFs under 2 MB): cold max {cold:.3f} s ({max(r.cpu_cold or 0 for r in small):.3f} s CPU), "
              f"warm max {warm:.3f} s ({max(r.cpu_warm or 0 for r in small):.3f} s CPU)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
