"""Reference outputs for the model suite, shared by tests and tools.

Expected outputs are never committed: they are computed here from the TFLM host
interpreter (PyPI ``tflite-micro``), and optionally cross-checked against TensorFlow
Lite (``tf.lite.Interpreter``) by ``models/check.py``.

Only numpy and tflite-micro are needed by this module; TensorFlow is imported lazily
by :func:`tflite_reference` alone.

tflite-micro API used (verified on tflite-micro 0.dev20261023182759):

- ``runtime.Interpreter.from_file(path, arena_size=...)`` /
  ``runtime.Interpreter.from_bytes(data, arena_size=...)``
- ``interp.set_input(array_with_batch_dim, index)``
- ``interp.invoke()``
- ``interp.get_output(index)``
- ``interp.get_input_details(index)`` / ``interp.get_output_details(index)``
  (dict with ``dtype``, ``shape``, ``quantization_parameters``)
- ``interp.print_allocations()`` (RecordingMicroAllocator summary, printed by C++)

Note: an arena that is too small makes the host interpreter crash the process
(segmentation fault), not raise, so we always pass a generous arena.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent
MANIFEST = MODELS_DIR / "manifest.json"

#: Arena used for host reference runs. The host is 64-bit, so TFLM's own structures are
#: larger than on a Cortex-M; activations dominate anyway. 4 MiB fits every model here.
DEFAULT_ARENA = 4 << 20


# --------------------------------------------------------------------------------------
# manifest and test vectors
# --------------------------------------------------------------------------------------

def load_manifest(path: str | os.PathLike = MANIFEST) -> dict:
    with open(path) as f:
        return json.load(f)


def model_names(path: str | os.PathLike = MANIFEST) -> list[str]:
    return [m["name"] for m in load_manifest(path)["models"]]


def model_path(name: str) -> Path:
    return MODELS_DIR / f"{name}.tflite"


def load_inputs(name: str) -> np.ndarray:
    """Test vectors of model ``name``: shape (N, *input_shape_without_batch)."""
    return np.load(MODELS_DIR / f"{name}.inputs.npy")


# --------------------------------------------------------------------------------------
# silencing the C++ libraries (converter, interpreters) that print to the process's fds
# --------------------------------------------------------------------------------------

@contextlib.contextmanager
def quiet_fds():
    """Silence stdout/stderr at the file-descriptor level (C++ prints too)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


# --------------------------------------------------------------------------------------
# TFLM host interpreter
# --------------------------------------------------------------------------------------

def _runtime():
    from tflite_micro.python.tflite_micro import runtime

    return runtime


def tflm_interpreter(model: str | os.PathLike | bytes, arena_size: int | None = None):
    runtime = _runtime()
    arena = arena_size or DEFAULT_ARENA
    if isinstance(model, (bytes, bytearray)):
        return runtime.Interpreter.from_bytes(bytes(model), arena_size=arena)
    return runtime.Interpreter.from_file(str(model), arena_size=arena)


def _num_outputs(model_bytes: bytes) -> int:
    m = parse_model(model_bytes)
    return len(m.subgraphs[0].outputs)


def tflm_reference(
    model_path: str | os.PathLike,
    inputs: np.ndarray | Sequence[np.ndarray],
    arena_size: int | None = None,
) -> list[np.ndarray]:
    """Run the TFLM host interpreter on every test vector.

    ``inputs``: array of shape (N, *input_shape_without_batch) (what ``<name>.inputs.npy``
    holds), with the model input dtype.

    Returns one array per model output (in the model's output order), each of shape
    (N, *output_shape_without_batch) and the model output dtype: row ``i`` is the
    output for ``inputs[i]``. A fresh interpreter is used for every vector so that no
    state carries over.
    """
    model_bytes = Path(model_path).read_bytes()
    n_out = _num_outputs(model_bytes)
    per_output: list[list[np.ndarray]] = [[] for _ in range(n_out)]
    for x in inputs:
        interp = tflm_interpreter(model_bytes, arena_size)
        want = interp.get_input_details(0)["dtype"]
        x = np.asarray(x)
        if x.dtype != want:
            raise TypeError(f"input dtype {x.dtype} but model wants {np.dtype(want)}")
        interp.set_input(x[None, ...], 0)
        interp.invoke()
        for k in range(n_out):
            out = np.array(interp.get_output(k), copy=True)
            per_output[k].append(out[0] if out.shape[:1] == (1,) else out)
    return [np.stack(o) for o in per_output]


def tflm_arena_bytes(model: str | os.PathLike | bytes, arena_size: int | None = None) -> int:
    """Arena bytes TFLM's RecordingMicroAllocator reports after one invoke (host build).

    The C++ side prints to the process's stdout/stderr, so the file descriptors are
    redirected to a temporary file for the call.
    """
    model_bytes = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    interp = tflm_interpreter(model_bytes, arena_size)
    d = interp.get_input_details(0)
    interp.set_input(np.zeros(tuple(d["shape"]), dtype=d["dtype"]), 0)
    interp.invoke()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            interp.print_allocations()
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    m = re.search(r"Arena allocation total (\d+) bytes", text)
    if not m:
        raise RuntimeError(f"could not read TFLM arena usage from: {text[:300]!r}")
    return int(m.group(1))


# --------------------------------------------------------------------------------------
# TensorFlow Lite (cross-check only; needs tensorflow or ai-edge-litert)
# --------------------------------------------------------------------------------------

def _tflite_interpreter_class():
    try:
        import tensorflow as tf  # noqa: F401

        return tf.lite.Interpreter, tf.lite.experimental.OpResolverType
    except ImportError:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        return Interpreter, OpResolverType


def tflite_reference(
    model_path: str | os.PathLike,
    inputs: np.ndarray | Sequence[np.ndarray],
    reference_kernels: bool = True,
) -> list[np.ndarray]:
    """Same contract as :func:`tflm_reference`, computed with TensorFlow Lite.

    ``reference_kernels=True`` selects TFLite's reference kernels (BUILTIN_REF), which
    are the ones TFLM's kernels are ported from; the optimized kernels may differ by
    one LSB on some int8 ops.
    """
    Interpreter, OpResolverType = _tflite_interpreter_class()
    kw = {}
    if reference_kernels:
        kw["experimental_op_resolver_type"] = OpResolverType.BUILTIN_REF
    interp = Interpreter(model_path=str(model_path), num_threads=1, **kw)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    outs = interp.get_output_details()
    per_output: list[list[np.ndarray]] = [[] for _ in outs]
    for x in inputs:
        interp.set_tensor(inp["index"], np.asarray(x)[None, ...])
        interp.invoke()
        for k, od in enumerate(outs):
            per_output[k].append(np.array(interp.get_tensor(od["index"])[0], copy=True))
    return [np.stack(o) for o in per_output]


# --------------------------------------------------------------------------------------
# reading the flatbuffer (ops, tensors, MACs) with the schema shipped in tflite-micro
# --------------------------------------------------------------------------------------

def _schema():
    return _runtime().schema_fb


def parse_model(model_bytes: bytes):
    s = _schema()
    return s.ModelT.InitFromObj(s.Model.GetRootAsModel(bytearray(model_bytes), 0))


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def _builtin_code(opcode) -> int:
    return max(opcode.builtinCode, opcode.deprecatedBuiltinCode)


def _tensor_info(model, t_index: int) -> dict:
    s = _schema()
    t = model.subgraphs[0].tensors[t_index]
    info = {
        "name": t.name.decode() if isinstance(t.name, bytes) else t.name,
        "shape": [int(v) for v in t.shape] if t.shape is not None else [],
        "dtype": _enum_names(s.TensorType)[t.type].lower(),
    }
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale):
        scales = [float(v) for v in q.scale]
        zps = [int(v) for v in q.zeroPoint]
        info["quantization"] = {
            "scale": scales[0] if len(scales) == 1 else scales,
            "zero_point": zps[0] if len(zps) == 1 else zps,
        }
        if len(scales) > 1:
            info["quantization"]["quantized_dimension"] = int(q.quantizedDimension)
    else:
        info["quantization"] = None
    return info


_PADDING = {0: "SAME", 1: "VALID"}


def _options_summary(op, op_name: str) -> dict:
    s = _schema()
    o = op.builtinOptions
    if o is None:
        return {}
    act_names = _enum_names(s.ActivationFunctionType)
    out: dict = {}
    for key, val in vars(o).items():
        if key == "keepDims":
            out[key] = bool(val)
            continue
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
            continue
        if key == "padding":
            out["padding"] = _PADDING.get(int(val), int(val))
        elif key == "fusedActivationFunction":
            out["activation"] = act_names.get(int(val), int(val))
        elif key in ("strideW", "strideH", "depthMultiplier", "filterWidth", "filterHeight",
                     "axis", "dilationWFactor", "dilationHFactor"):
            out[key] = int(val)
    return out


def describe_model(model_bytes: bytes) -> dict:
    """Ops (execution order), per-op options, inputs/outputs and MAC count of a model."""
    s = _schema()
    model = parse_model(model_bytes)
    op_names = _enum_names(s.BuiltinOperator)
    sg = model.subgraphs[0]
    tensors = sg.tensors

    def shape(i: int) -> list[int]:
        return [int(v) for v in tensors[i].shape] if i >= 0 and tensors[i].shape is not None else []

    ops, details, macs = [], [], 0
    for op in sg.operators or []:
        name = op_names[_builtin_code(model.operatorCodes[op.opcodeIndex])]
        ops.append(name)
        d = {"op": name, **_options_summary(op, name)}
        n = 0
        out_shape = shape(op.outputs[0])
        if name == "CONV_2D":
            w = shape(op.inputs[1])  # [cout, kh, kw, cin]
            n = int(np.prod(out_shape)) * w[1] * w[2] * w[3]
        elif name == "DEPTHWISE_CONV_2D":
            w = shape(op.inputs[1])  # [1, kh, kw, cin*mult]
            n = int(np.prod(out_shape)) * w[1] * w[2]
        elif name == "FULLY_CONNECTED":
            w = shape(op.inputs[1])  # [units, in]
            n = int(np.prod(out_shape)) * w[1]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = shape(op.inputs[1])
            d["kernel"] = [w[1], w[2]]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            d["bias"] = bool(len(op.inputs) > 2 and op.inputs[2] >= 0)
            wq = tensors[op.inputs[1]].quantization
            if wq is not None and wq.scale is not None and len(wq.scale):
                d["weights"] = "per-channel" if len(wq.scale) > 1 else "per-tensor"
        d["in"] = shape(op.inputs[0])
        d["out"] = out_shape
        if n:
            d["macs"] = n
        macs += n
        details.append(d)
    return {
        "ops": ops,
        "op_details": details,
        "inputs": [_tensor_info(model, i) for i in sg.inputs],
        "outputs": [_tensor_info(model, i) for i in sg.outputs],
        "macs": macs,
    }


def model_ops(model_path: str | os.PathLike) -> list[str]:
    """Builtin op names of a .tflite model, in execution order."""
    return describe_model(Path(model_path).read_bytes())["ops"]


def compare(a: Iterable[np.ndarray], b: Iterable[np.ndarray]) -> float:
    """Largest absolute difference between two output lists (inf on shape/dtype mismatch)."""
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        if x.shape != y.shape or x.dtype != y.dtype:
            return float("inf")
        if x.size:
            worst = max(worst, float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))))
    return worst
