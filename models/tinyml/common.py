"""Helpers shared by training, twins, tests and the table: TFLM runs, model statistics, metrics.

Needs numpy and tflite-micro only (never TensorFlow).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from models import reference
from models.tinyml import METRICS, TRAINED


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def array_sha256(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class Tflm:
    """One TFLM host interpreter for a model, reused across inferences (the graphs here keep no
    state between invokes: every intermediate tensor is written before it is read)."""

    def __init__(self, model: str | Path | bytes) -> None:
        data = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
        self.interp = reference.tflm_interpreter(bytes(data))
        self.inp = self.interp.get_input_details(0)
        self.out = self.interp.get_output_details(0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs (N, *output_shape_without_batch) for inputs (N, *input_shape_without_batch)."""
        x = np.asarray(x)
        if x.dtype != self.inp["dtype"]:
            raise TypeError(f"input dtype {x.dtype}, the model wants {np.dtype(self.inp['dtype'])}")
        shape = tuple(self.inp["shape"])
        rows = []
        for row in x:
            self.interp.set_input(row.reshape(shape), 0)
            self.interp.invoke()
            o = np.array(self.interp.get_output(0), copy=True)
            rows.append(o[0] if o.shape[:1] == (1,) else o)
        return np.stack(rows) if rows else np.zeros((0, *self.out["shape"][1:]), self.out["dtype"])


def quant(info: dict) -> tuple[float, int]:
    q = info["quantization"]
    return float(q["scale"]), int(q["zero_point"])


def model_stats(model: str | Path | bytes) -> dict[str, Any]:
    """Ops, MACs, parameters (weights + biases of the graph's constant tensors) and int8 weight bytes."""
    data = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    desc = reference.describe_model(bytes(data))
    m = reference.parse_model(bytes(data))
    sg = m.subgraphs[0]
    produced = {o for op in sg.operators or [] for o in op.outputs}
    params = weight_bytes = 0
    for i, t in enumerate(sg.tensors):
        buf = m.buffers[t.buffer] if t.buffer < len(m.buffers) else None
        if i in produced or i in set(sg.inputs) or buf is None or buf.data is None or not len(buf.data):
            continue
        shape = [int(v) for v in t.shape] if t.shape is not None else []
        n = int(np.prod(shape)) if shape else 1
        if t.type == 9 and len(shape) >= 2:  # int8 weights
            params += n
            weight_bytes += n
        elif t.type in (0, 2) and len(shape) == 1:  # float32 / int32 biases
            params += n
        elif t.type == 0 and len(shape) >= 2:  # float weights (float models)
            params += n
    return {"ops": desc["ops"], "macs": int(desc["macs"]), "params": params, "int8_weight_bytes": weight_bytes,
            "size_bytes": len(data), "inputs": desc["inputs"], "outputs": desc["outputs"]}


def load_metrics(path: Path = METRICS) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {"models": {}}


def save_metrics(metrics: dict[str, Any], path: Path = METRICS) -> None:
    path.write_text(json.dumps(metrics, indent=1, sort_keys=False) + "\n")


def load_eval(name: str, directory: Path = TRAINED) -> dict[str, np.ndarray]:
    """The committed held-out evaluation set of model ``name`` (inputs ``x`` in the model's dtype, ``y``)."""
    with np.load(directory / f"{name}.eval.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(y))) * 100.0


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (in %): the chance that a faulty window scores above a healthy one."""
    s, y = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    order = np.argsort(s, kind="stable")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    for v in np.unique(s):  # average ranks of ties
        k = s == v
        ranks[k] = ranks[k].mean()
    npos, nneg = y.sum(), (~y).sum()
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg) * 100) if npos and nneg else 0.0


def precision_recall(pred: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    pred, y = np.asarray(pred, bool), np.asarray(labels, bool)
    tp = int((pred & y).sum())
    return (100.0 * tp / max(int(pred.sum()), 1), 100.0 * tp / max(int(y.sum()), 1))


def r2(pred: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination in % (100 = perfect)."""
    pred, y = np.asarray(pred, np.float64).reshape(-1), np.asarray(y, np.float64).reshape(-1)
    return float(100.0 * (1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)))
