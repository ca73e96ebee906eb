"""``simcore bench MODEL.tflite... --board B...``: a model on several parts, one table, no Python to write.

Per model: the inputs (``--inputs``, else ``<model>.inputs.npy`` next to it, else one
deterministic random input), the TFLM host interpreter's outputs as the reference (the ``ml``
extra), and the arena the runtime needs (measured by a first run). Per model and board: the
``model_runner`` firmware built with exactly that arena in simcore's cache directory (never in
the checkout, so it works from any directory); the linker decides whether it fits the part,
and when it does not the shortfall per memory is reported; else it runs and gives latency,
cycles per inference, energy per inference, flash/RAM/arena/stack use, the per-op cycles and
whether the outputs equal TFLM's (int8 bit-exact; float32 within the documented tolerance).
``--json FILE`` writes ``simcore.bench/1`` (docs/run-json.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simcore.errors import BadInputError, SimcoreError

BENCH_SCHEMA = "simcore.bench/1"
DEFAULT_BOARDS = ("stm32f407vg", "stm32l4r5zi", "nrf52840", "mps2-an386")
_OVERFLOW = re.compile(r"region [`'\"]?(\w+)['`\"]? overflowed by (\d+) bytes")
_LOG = re.compile(r"\(full log: (.+)\)\s*$")


@dataclass
class BenchResult:
    model: str
    board: str
    mhz: float
    fits: bool
    shortfall: dict[str, int] = field(default_factory=dict)  # linker region -> bytes missing
    error: str | None = None
    instructions: int = 0
    cycles_per_inference: float = 0.0
    latency_seconds: float = 0.0
    energy_joules: float = 0.0
    flash: int = 0
    ram: int = 0
    arena_used: int = 0
    arena_size: int = 0
    stack: int | None = None
    match: bool | None = None
    max_abs_diff: float | None = None
    ops: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"model": self.model, "board": self.board, "mhz": self.mhz, "fits": self.fits,
                             "shortfall": self.shortfall}
        if self.error is not None:
            d["error"] = self.error
        if self.fits and self.error is None:
            d.update(instructions=self.instructions, cycles=round(self.cycles_per_inference),
                     latency_seconds=self.latency_seconds, energy_joules=self.energy_joules,
                     memory={"regions": [{"name": "flash", "kind": "flash", "used": self.flash},
                                         {"name": "ram", "kind": "ram", "used": self.ram}]},
                     stack={"used": self.stack}, arena={"used": self.arena_used, "size": self.arena_size},
                     match={"equal": self.match, "max_abs_diff": self.max_abs_diff}, ops=self.ops)
        return d


def model_inputs(model: Path, given: Path | None) -> Any:
    """The inputs file for ``model``: given, ``X.inputs.npy`` next to ``X.tflite``, or one random row."""
    if given is not None:
        if not given.is_file():
            raise BadInputError(f"--inputs {given}: no such file")
        return given
    beside = model.with_name(model.stem + ".inputs.npy")
    if beside.is_file():
        return beside
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:
        raise BadInputError(f"{model}: no {beside.name} next to it and no --inputs; install the ml extra "
                            "(tflite-micro) to make one from the model's input shape") from exc
    interp = runtime.Interpreter.from_bytes(model.read_bytes(), arena_size=4 << 20)
    det = interp.get_input_details(0)
    dtype = np.dtype(det["dtype"])
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, size=det["shape"], dtype=dtype, endpoint=True)
    else:
        x = rng.standard_normal(det["shape"]).astype(dtype)
    return x.reshape(1, *det["shape"][1:]) if det["shape"][0] == 1 else x[None]


def _reference(model: Path, inputs: Any, n_outputs: int) -> list[np.ndarray] | None:
    from simcore import ml

    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        return None
    x = np.load(inputs) if isinstance(inputs, Path) else np.asarray(inputs)
    return ml.tflm_outputs(model, x.reshape((-1, *x.shape[1:])), n_outputs)


def _matches(outputs: list[np.ndarray], ref: list[np.ndarray]) -> tuple[bool, float]:
    from simcore.ml import FLOAT_ABS_TOL, FLOAT_REL_TOL

    ok, worst = len(outputs) == len(ref), 0.0
    for a, b in zip(outputs, ref):
        b = b.reshape(a.shape)
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        worst = max(worst, float(d.max()) if d.size else 0.0)
        allowed = FLOAT_ABS_TOL + FLOAT_REL_TOL * np.abs(b.astype(np.float64)) \
            if np.issubdtype(a.dtype, np.floating) else 0.0
        ok = ok and bool((d <= allowed).all())
    return ok, worst


def shortfall_of(error: str) -> dict[str, int]:
    """``region `RAM' overflowed by N bytes`` lines of a failed model_runner link (message or its log)."""
    found = dict((r, int(n)) for r, n in _OVERFLOW.findall(error))
    m = _LOG.search(error)
    if not found and m:
        try:
            found = dict((r, int(n)) for r, n in _OVERFLOW.findall(Path(m.group(1)).read_text()))
        except OSError:
            pass
    return found


def bench_model(model: Path, boards: list[tuple[str, float | None]], inputs: Any = None, optimized: bool = True,
                log: Any = None) -> list[BenchResult]:
    """Every board for one model (see the module docstring)."""
    from simcore import ml
    from simcore.board import load_board
    from simcore.energy import estimate

    if not model.is_file():
        raise BadInputError(f"{model}: no such model file")
    inputs = model_inputs(model, inputs)
    results: list[BenchResult] = []
    arena: int | None = None
    reference: list[np.ndarray] | None = None
    ref_done = False
    # the board with the most RAM first: it measures the arena the model needs
    order = sorted(range(len(boards)), key=lambda i: -sum(m.size for m in load_board(boards[i][0]).ram))
    by_index: dict[int, BenchResult] = {}
    for i in order:
        board, mhz = boards[i]
        b = load_board(board)
        clock = float(mhz or b.default_mhz)
        if log is not None:
            log(f"{model.name} on {board} at {clock:g} MHz")
        res = BenchResult(model.stem, board, clock, fits=True)
        try:
            run = ml.run_model(model, inputs, board, clock, optimized, arena)
            if arena is None:
                arena = (run.arena_used + 1023) // 1024 * 1024  # what every part gets from now on
                if run.arena_size != arena:
                    run = ml.run_model(model, inputs, board, clock, optimized, arena)
        except ml.ModelRunError as exc:
            short = shortfall_of(str(exc))
            if short:
                res.fits, res.shortfall = False, short
            else:
                res.error = " ".join(str(exc).split())
            by_index[i] = res
            continue
        if not ref_done:
            reference, ref_done = _reference(model, inputs, len(run.outputs)), True
        res.instructions = run.instructions
        res.cycles_per_inference = run.mean_invoke_cycles
        res.latency_seconds = run.mean_invoke_cycles / (clock * 1e6)
        res.energy_joules = estimate(b.power, clock, int(run.mean_invoke_cycles), 0).joules
        res.flash, res.ram = run.flash_bytes, run.ram_bytes
        res.arena_used, res.arena_size = run.arena_used, run.arena_size
        res.stack = getattr(run, "stack_used", None)
        if reference is not None:
            res.match, res.max_abs_diff = _matches(run.outputs, reference)
        res.ops = [{"index": o.index, "name": o.name, "cycles": round(o.mean_cycles)} for o in run.ops]
        by_index[i] = res
    results = [by_index[i] for i in range(len(boards))]
    return results


# --- tables -----------------------------------------------------------------------------------------
def _kib(n: float) -> str:
    return f"{n / 1024:.1f}"


def summary_table(results: list[BenchResult]) -> str:
    head = ("model", "board", "MHz", "fits", "flash KiB", "RAM KiB", "arena KiB", "stack B", "cycles/inf",
            "latency ms", "energy uJ", "vs TFLM")
    rows = []
    for r in results:
        if not r.fits:
            short = ", ".join(f"{reg} short by {n:,} B" for reg, n in r.shortfall.items())
            rows.append((r.model, r.board, f"{r.mhz:g}", "NO", "", "", "", "", "", "", "", short))
            continue
        if r.error is not None:
            rows.append((r.model, r.board, f"{r.mhz:g}", "?", "", "", "", "", "", "", "", "error: " + r.error[:60]))
            continue
        verdict = "n/a (ml extra)" if r.match is None else (
            ("bit-exact" if not r.max_abs_diff else f"within tol ({r.max_abs_diff:.1e})") if r.match
            else f"DIFFERS ({r.max_abs_diff:g})")
        rows.append((r.model, r.board, f"{r.mhz:g}", "yes", _kib(r.flash), _kib(r.ram),
                     f"{_kib(r.arena_used)}/{_kib(r.arena_size)}", "" if r.stack is None else f"{r.stack:,}",
                     f"{r.cycles_per_inference:,.0f}", f"{r.latency_seconds * 1e3:.3f}",
                     f"{r.energy_joules * 1e6:,.1f}", verdict))
    return _table(head, rows, right={2, 4, 5, 6, 7, 8, 9, 10})


def op_table(results: list[BenchResult]) -> str:
    """Per-op cycles per inference of one model, a column per board that ran it."""
    ran = [r for r in results if r.fits and r.error is None and r.ops]
    if not ran:
        return ""
    head = ("op", "name", *(f"{r.board}@{r.mhz:g}" for r in ran))
    rows = []
    for k, op in enumerate(ran[0].ops):
        rows.append((str(op["index"]), op["name"], *(f"{r.ops[k]['cycles']:,}" if k < len(r.ops) else ""
                                                      for r in ran)))
    return _table(head, rows, right=set(range(2, len(head))))


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))) \
            .rstrip()

    return "\n".join([fmt(head), *(fmt(r) for r in rows)])


# --- command line ---------------------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    p = sub.add_parser("bench", help="a .tflite model on several parts: fit, latency, energy, per-op, vs TFLM",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", type=Path, metavar="MODEL", help=".tflite files")
    p.add_argument("--board", action="append", default=[], metavar="B[@MHZ]",
                   help=f"a part (repeatable; default {', '.join(DEFAULT_BOARDS)}); B@MHZ sets its clock")
    p.add_argument("--mhz", type=float, help="core clock for boards without @MHZ (default: each board's)")
    p.add_argument("--inputs", type=Path, help="inputs .npy (default: MODEL's X.inputs.npy, else random)")
    p.add_argument("--reference-kernels", action="store_true", help="the reference kernels (TM_OPTIMIZED=0)")
    p.add_argument("--no-ops", action="store_true", help="leave out the per-op tables")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the results (simcore.bench/1)")


def parse_boards(specs: list[str], mhz: float | None) -> list[tuple[str, float | None]]:
    from simcore.board import load_board

    out = []
    for spec in specs or list(DEFAULT_BOARDS):
        name, sep, clock = spec.partition("@")
        try:
            value = float(clock) if sep else mhz
        except ValueError as exc:
            raise BadInputError(f"--board {spec}: expected BOARD or BOARD@MHZ") from exc
        load_board(name)  # a misspelt board is bad input before anything is built
        out.append((name, value))
    return out


def cmd_bench(args: argparse.Namespace) -> int:
    from simcore.outfile import output_file

    json_out = output_file(args.json, "--json") if args.json else None
    boards = parse_boards(args.board, args.mhz)
    t0 = time.perf_counter()
    results: list[BenchResult] = []
    per_model: list[list[BenchResult]] = []
    for model in args.models:
        rs = bench_model(model, boards, args.inputs, not args.reference_kernels,
                         log=lambda text: print(f"simcore bench: {text}", file=sys.stderr, flush=True))
        per_model.append(rs)
        results += rs
    print(summary_table(results))
    if not args.no_ops:
        for rs in per_model:
            text = op_table(rs)
            if text:
                print(f"\n{rs[0].model}: cycles per inference by op")
                print(text)
    print(f"\n{len(args.models)} model(s) x {len(boards)} board(s) in {time.perf_counter() - t0:.1f} s")
    if json_out is not None:
        json_out.write(json.dumps({"schema": BENCH_SCHEMA, "results": [r.to_dict() for r in results]}, indent=1)
                       + "\n")
    bad = [r for r in results if r.error is not None or r.match is False]
    return 1 if bad else 0


__all__ = ["BenchResult", "bench_model", "cmd_bench", "SimcoreError"]
