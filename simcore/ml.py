"""Run a .tflite model on an emulated part in one call.

Builds ``firmware/apps/model_runner`` for the model and its inputs (``make -C firmware
model_runner``, needs ``arm-none-eabi-gcc``), runs the ELF in simcore, and parses what it
prints: the output bytes of every inference, the arena use and the cycles of every op
(DWT CYCCNT in the firmware; simcore's ITM op markers give the same spans plus their
instruction counts).

    from simcore.ml import run_model, compare_with_tflm
    r = run_model("models/kws_dscnn.tflite", "models/kws_dscnn.inputs.npy", board="stm32f407vg")
    r.outputs[0]            # np.ndarray (N, *output_shape) of the model's output dtype
    r.op_table()            # per-op cycles and instructions, as text
    c = compare_with_tflm("models/kws_dscnn.tflite", "models/kws_dscnn.inputs.npy")
    c.match, c.max_abs_diff

Command line: ``python -m simcore.ml MODEL INPUTS [--board B] [--mhz N] [--reference] [--compare]``.
Errors (no cross compiler, a model the runtime refuses, a missing optional dependency) are
simcore errors: one paragraph, exit 2. Builds go to the cache directory
(:func:`simcore.paths.cache_dir`, ``$SIMCORE_CACHE_DIR``), never into the checkout.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simcore.errors import EXIT_BAD_INPUT, SimcoreError
from simcore.paths import cache_dir

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"

#: TFLite TensorType -> numpy dtype (the types the tm runtime handles).
TFLITE_DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8}

#: Float outputs match the TFLM host interpreter when |d| <= FLOAT_ABS_TOL + FLOAT_REL_TOL * |ref|
#: (README "On-device ML": newlib's expf/tanhf may round differently from the host's libm);
#: integer outputs must be identical.
FLOAT_ABS_TOL = 1e-6
FLOAT_REL_TOL = 1e-5

#: The runtime's status codes (firmware/runtime/tm.h, enum tm_status) in words.
TM_STATUS = {
    1: "TM_ERR_MODEL: the model file is malformed or truncated",
    2: "TM_ERR_UNSUPPORTED: an op, type or option the runtime does not implement",
    3: "TM_ERR_ARENA: the tensor arena is too small",
    4: "TM_ERR_ARG: a bad argument (e.g. inputs that do not fit the model)",
    5: "TM_ERR_STATE: invoke before a successful init",
}


class ModelRunError(SimcoreError):
    """The model could not be built or run (the message says why): exit 2 from the command line."""

    exit_code = EXIT_BAD_INPUT


def build_root() -> Path:
    """Where model_runner builds go: the cache directory, not the checkout."""
    return cache_dir("model_runner")


def _require_tflm() -> None:
    """The TFLM host interpreter is an optional dependency: refuse before anything is built."""
    try:
        import tflite_micro.python.tflite_micro.runtime  # noqa: F401
    except ImportError as e:
        raise ModelRunError("comparing with TFLM needs the tflite-micro package, which is not installed: "
                            "pip install -e '.[ml]' in a source checkout, or pip install 'simcore[ml]' "
                            f"({e})") from None


@dataclass
class OpRun:
    """One op of the graph: cycles per inference (firmware DWT) and, from the ITM markers,
    instructions and cycles per inference as simcore counted them."""

    index: int
    code: int
    name: str
    cycles: list[int] = field(default_factory=list)
    itm_cycles: list[int] = field(default_factory=list)
    itm_instructions: list[int] = field(default_factory=list)

    @property
    def mean_cycles(self) -> float:
        return float(np.mean(self.cycles)) if self.cycles else 0.0

    @property
    def mean_instructions(self) -> float:
        return float(np.mean(self.itm_instructions)) if self.itm_instructions else 0.0


@dataclass
class ModelRun:
    model: Path
    board: str
    mhz: float
    optimized: bool
    elf: Path
    outputs: list[np.ndarray]
    ops: list[OpRun]
    invoke_cycles: list[int]
    arena_used: int
    arena_size: int
    instructions: int
    cycles: int
    exit_status: int
    console: str
    flash_bytes: int = 0
    ram_bytes: int = 0
    stack_used: int | None = None  # high-water bytes (simcore bench)

    @property
    def mean_invoke_cycles(self) -> float:
        return float(np.mean(self.invoke_cycles)) if self.invoke_cycles else 0.0

    @property
    def latency_ms(self) -> float:
        return self.mean_invoke_cycles / (self.mhz * 1e3)

    def op_table(self) -> str:
        total = sum(o.mean_cycles for o in self.ops) or 1.0
        lines = [f"{'op':>3} {'name':<20} {'cycles':>12} {'instr':>12} {'share':>6}"]
        for o in self.ops:
            lines.append(f"{o.index:>3} {o.name:<20} {o.mean_cycles:>12,.0f} {o.mean_instructions:>12,.0f} "
                         f"{100 * o.mean_cycles / total:>5.1f}%")
        lines.append(f"    {'invoke':<20} {self.mean_invoke_cycles:>12,.0f} "
                     f"({self.latency_ms:.3f} ms at {self.mhz:g} MHz; arena {self.arena_used} B)")
        return "\n".join(lines)


@dataclass
class Comparison:
    run: ModelRun
    reference: list[np.ndarray]
    match: bool
    max_abs_diff: float
    mismatched_rows: list[int]

    def summary(self) -> str:
        n = len(self.run.invoke_cycles)
        if self.match:
            if self.max_abs_diff:
                return (f"{self.run.model.name}: {n} inferences, outputs match the TFLM host interpreter within "
                        f"|d| <= {FLOAT_ABS_TOL:g} + {FLOAT_REL_TOL:g} |ref| (max |diff| {self.max_abs_diff:g})")
            return f"{self.run.model.name}: {n} inferences, outputs identical to the TFLM host interpreter"
        return (f"{self.run.model.name}: outputs differ from TFLM in rows {self.mismatched_rows} "
                f"(max |diff| {self.max_abs_diff:g})")


# --- build ----------------------------------------------------------------------------------
def _inputs_file(inputs: Any) -> Path:
    """A path to the input file the Makefile takes (.npy or raw .bin)."""
    if isinstance(inputs, (str, os.PathLike)):
        p = Path(inputs)
        if not p.is_file():
            raise ModelRunError(f"inputs file not found: {p}")
        return p.resolve()
    a = np.ascontiguousarray(np.asarray(inputs))
    h = hashlib.sha256(a.tobytes() + str(a.dtype).encode() + str(a.shape).encode()).hexdigest()[:16]
    p = build_root() / "_inputs" / f"{h}.npy"
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp.npy")
        np.save(tmp, a)
        tmp.replace(p)
    return p


def _load_inputs(inputs: Any) -> np.ndarray:
    if isinstance(inputs, (str, os.PathLike)):
        p = Path(inputs)
        if p.suffix == ".npy":
            return np.load(p)
        raise ModelRunError("compare_with_tflm needs the inputs as a .npy file or an array")
    return np.asarray(inputs)


def build_model_runner(model: str | os.PathLike, inputs: Any, board: str = "cortex-m4", optimized: bool = True,
                       arena: int = 65536, ops: list[str] | None = None, build_dir: str | os.PathLike | None = None,
                       quiet: bool = True) -> Path:
    """Build the model_runner ELF for ``model`` and ``inputs``; returns its path."""
    if shutil.which("arm-none-eabi-gcc") is None:
        raise ModelRunError("arm-none-eabi-gcc not found: install gcc-arm-none-eabi and libnewlib-arm-none-eabi "
                            "(Debian/Ubuntu) to build the model_runner firmware")
    if shutil.which("make") is None:
        raise ModelRunError("make not found: needed to build the model_runner firmware")
    model = Path(model).resolve()
    if not model.is_file():
        raise ModelRunError(f"model file not found: {model}")
    inp = _inputs_file(inputs)
    if build_dir is None:
        tag = hashlib.sha256(f"{model}|{inp}|{arena}|{ops}".encode()).hexdigest()[:8]
        build_dir = build_root() / board / f"{model.stem}-{tag}{'' if optimized else '_ref'}"
    build_dir = Path(build_dir).resolve()
    # BUILD_DIR too: the outer make's own files (boards.mk) stay out of the checkout as well
    cmd = ["make", "-C", str(FIRMWARE), "model_runner", f"MODEL={model}", f"INPUTS={inp}", f"BOARD={board}",
           f"OPTIMIZED={int(optimized)}", f"ARENA={int(arena)}", f"MR_BUILD={build_dir}",
           f"BUILD_DIR={build_root() / '_make'}", f"PYTHON={sys.executable}"]
    if ops:
        cmd.append("OPS=" + " ".join(ops))
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        build_dir.mkdir(parents=True, exist_ok=True)
        log = build_dir / "build.log"
        log.write_text(f"$ {' '.join(cmd)}\n{p.stdout}{p.stderr}")
        lines = [ln.strip() for ln in (p.stdout + p.stderr).splitlines() if ln.strip()]
        why = next((ln for ln in lines if "error" in ln.lower() and not ln.startswith("make")), lines[-1] if lines
                   else f"make exited with status {p.returncode}")
        raise ModelRunError(f"the model_runner firmware for {model.name} on {board} did not build: {why} "
                            f"(full log: {log})")
    elf = build_dir / board / "model_runner.elf"
    if not elf.exists():
        raise ModelRunError(f"model_runner build made no {elf}")
    return elf


# --- run ------------------------------------------------------------------------------------
def _parse(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"io": {"in": {}, "out": {}}, "ops": [], "outs": {}, "cyc": {}, "error": None}
    for line in text.splitlines():
        f = line.split()
        if not f or not f[0].startswith("MR_"):
            continue
        tag = f[0]
        if tag == "MR_ERROR":
            out["error"] = line[len("MR_ERROR "):]
        elif tag == "MR_ARENA":
            out["arena"] = (int(f[1]), int(f[2]))
        elif tag == "MR_IO":
            out["io"][f[1]][int(f[2])] = (int(f[3]), int(f[4]), [int(d) for d in f[5:]])
        elif tag == "MR_OP":
            out["ops"].append((int(f[1]), int(f[2]), f[3]))
        elif tag == "MR_OUT":
            out["outs"].setdefault(int(f[2]), {})[int(f[1])] = bytes.fromhex(f[3] if len(f) > 3 else "")
        elif tag == "MR_CYC":
            out["cyc"][int(f[1])] = [int(x) for x in f[2:]]
        elif tag == "MR_DONE":
            out["done"] = int(f[1])
    return out


def run_elf(elf: str | os.PathLike, board: str = "cortex-m4", mhz: float | None = None, model: Any = None,
            optimized: bool = True, max_instructions: int = 4_000_000_000) -> ModelRun:
    """Run a built model_runner ELF in simcore and parse its output."""
    from simcore import api

    m = api.prepare(elf, board, mhz=mhz, max_instructions=max_instructions, echo=None)
    marks: list[tuple[int, int, int, int]] = []

    def on_itm(port: int, value: int, cycle: int) -> None:
        if port in (1, 2):
            marks.append((port, value & 0xFFFF, cycle, m.instructions))

    m.system.itm.on_write(on_itm)
    with m:  # closed after the run: see Machine.close
        res = api.run_machine(m)
    text = res.console.decode("utf-8", "replace")
    info = _parse(text)
    if info["error"] is not None:
        raise ModelRunError(f"the runtime refused the model: {_status_words(info['error'])}")
    if res.exit_status != 0 or "done" not in info:
        raise ModelRunError(f"model_runner did not finish (exit status {res.exit_status}, {res.stop}):\n"
                            f"{text[-2000:]}")
    n = info["done"]
    outputs = []
    for k in sorted(info["io"]["out"]):
        ttype, nbytes, dims = info["io"]["out"][k]
        dt = np.dtype(TFLITE_DTYPES.get(ttype, np.uint8))
        shape = dims[1:] if dims and dims[0] == 1 else dims
        rows = [np.frombuffer(info["outs"][k][v], dtype=dt).reshape(shape) for v in range(n)]
        outputs.append(np.stack(rows) if rows else np.zeros((0, *shape), dt))
    ops = [OpRun(i, code, name) for i, code, name in info["ops"]]
    invoke = []
    for v in range(n):
        cyc = info["cyc"][v]
        invoke.append(cyc[0])
        for o, c in zip(ops, cyc[1:]):
            o.cycles.append(c)
    open_: dict[int, tuple[int, int]] = {}
    for port, idx, cycle, insn in marks:
        if port == 1:
            open_[idx] = (cycle, insn)
        elif idx in open_ and idx < len(ops):
            c0, i0 = open_.pop(idx)
            ops[idx].itm_cycles.append(cycle - c0)
            ops[idx].itm_instructions.append(insn - i0)
    flash = ram = 0
    try:
        for u in res.layout.regions:
            if "flash" in u.memory.name:
                flash += u.used
            else:
                ram += u.used
    except Exception:  # noqa: BLE001 - layout figures are a nicety
        pass
    return ModelRun(model=Path(model) if model is not None else Path(elf), board=res.board, mhz=res.mhz,
                    optimized=optimized, elf=Path(elf), outputs=outputs, ops=ops, invoke_cycles=invoke,
                    arena_used=info.get("arena", (0, 0))[0], arena_size=info.get("arena", (0, 0))[1],
                    instructions=res.instructions, cycles=res.cycles, exit_status=res.exit_status, console=text,
                    flash_bytes=flash, ram_bytes=ram, stack_used=res.stack_used)


def _status_words(error: str) -> str:
    """``MR_ERROR <status> <message>`` as words: the status's meaning (tm.h), then the runtime's message."""
    code, _, message = error.partition(" ")
    try:
        words = TM_STATUS.get(int(code), f"status {code}")
    except ValueError:
        return error
    return f"{words} ({message})" if message else words


def run_model(model: str | os.PathLike, inputs: Any, board: str = "cortex-m4", mhz: float | None = None,
              optimized: bool = True, arena: int | None = None, ops: list[str] | None = None) -> ModelRun:
    """Build model_runner for ``model`` with ``inputs`` (a .npy/.bin path or an array of shape
    (N, *input_shape)), run it on ``board`` and return the parsed :class:`ModelRun`.

    The arena defaults to 64 KiB; if the model needs more, the runtime says how much and the
    build is redone once with that size (rounded up to 1 KiB)."""
    size = int(arena or 65536)
    for attempt in range(2):
        elf = build_model_runner(model, inputs, board, optimized, size, ops)
        try:
            return run_elf(elf, board, mhz, model=model, optimized=optimized)
        except ModelRunError as e:
            msg = str(e)
            if attempt == 0 and arena is None and "arena too small: needs" in msg:
                need = int(msg.split("needs", 1)[1].split()[0])
                size = (need + 1023) // 1024 * 1024
                continue
            raise
    raise AssertionError("unreachable")


def tflm_outputs(model: str | os.PathLike, inputs: np.ndarray, n_outputs: int = 1) -> list[np.ndarray]:
    """Outputs of the TFLM host interpreter (PyPI tflite-micro) for every input row."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        _require_tflm()
        raise
    data = Path(model).read_bytes()
    per: list[list[np.ndarray]] = []
    for x in inputs:
        interp = runtime.Interpreter.from_bytes(data, arena_size=4 << 20)
        det = interp.get_input_details(0)
        interp.set_input(np.asarray(x, dtype=det["dtype"]).reshape(det["shape"]), 0)
        interp.invoke()
        for k in range(n_outputs):
            o = np.array(interp.get_output(k), copy=True)
            if len(per) <= k:
                per.append([])
            per[k].append(o[0] if o.shape[:1] == (1,) else o)
    return [np.stack(p) for p in per]


def compare_with_tflm(model: str | os.PathLike, inputs: Any, board: str = "cortex-m4", mhz: float | None = None,
                      optimized: bool = True, arena: int | None = None) -> Comparison:
    """Run the model in simcore and in the TFLM host interpreter; compare the outputs.

    Integer outputs must be identical; float outputs match within FLOAT_ABS_TOL + FLOAT_REL_TOL * |ref|.
    """
    _require_tflm()
    x = _load_inputs(inputs)
    r = run_model(model, inputs, board, mhz, optimized, arena)
    ref = tflm_outputs(model, x.reshape((-1, *x.shape[1:])), len(r.outputs))
    worst, bad = 0.0, set()
    for a, b in zip(r.outputs, ref):
        b = b.reshape(a.shape)
        d = np.abs(a.astype(np.float64) - b.astype(np.float64)).reshape(len(a), -1)
        worst = max(worst, float(d.max()) if d.size else 0.0)
        if np.issubdtype(a.dtype, np.floating):
            allowed = FLOAT_ABS_TOL + FLOAT_REL_TOL * np.abs(b.astype(np.float64)).reshape(len(a), -1)
        else:
            allowed = np.zeros_like(d)
        bad |= {int(i) for i in np.nonzero((d > allowed).any(axis=1))[0]} if d.size else set()
    same = len(r.outputs) == len(ref) and not bad
    return Comparison(run=r, reference=ref, match=same, max_abs_diff=worst, mismatched_rows=sorted(bad))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simcore.ml",
                                 description="Build model_runner for a .tflite model, run it in simcore, print "
                                             "outputs and per-op cycles; optionally compare with TFLM.")
    ap.add_argument("model", type=Path)
    ap.add_argument("inputs", type=Path, help=".npy (N, *input_shape) or raw .bin")
    ap.add_argument("--board", default="cortex-m4")
    ap.add_argument("--mhz", type=float)
    ap.add_argument("--reference", action="store_true", help="reference kernels (TM_OPTIMIZED=0)")
    ap.add_argument("--arena", type=int, help="arena bytes (default 64 KiB, grown if the model needs more)")
    ap.add_argument("--ops", help="compile only these ops (comma separated builtin names)")
    ap.add_argument("--compare", action="store_true", help="also run the TFLM host interpreter and compare")
    a = ap.parse_args(argv)
    ops = [o.strip().upper() for o in a.ops.split(",")] if a.ops else None
    from simcore.board import load_board
    from simcore.errors import SimcoreError

    try:
        load_board(a.board)  # a misspelt board is one paragraph here, not a failed firmware build
    except SimcoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    try:
        if a.compare:
            c = compare_with_tflm(a.model, a.inputs, a.board, a.mhz, not a.reference, a.arena)
            r = c.run
        else:
            r = run_model(a.model, a.inputs, a.board, a.mhz, not a.reference, a.arena, ops)
    except SimcoreError as e:
        print(textwrap.fill(f"simcore: error: {e}", width=100), file=sys.stderr)
        return e.exit_code
    for k, o in enumerate(r.outputs):
        for v, row in enumerate(o):
            print(f"output {k} inference {v}: {row.tobytes().hex()}")
    print(r.op_table())
    print(f"elf {r.elf}\nflash {r.flash_bytes} B, ram {r.ram_bytes} B")
    if a.compare:
        print(c.summary())
        return 0 if c.match else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
