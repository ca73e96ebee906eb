"""Smoke training (needs the `models` extra; see tests/ml/conftest.py): the whole training
pipeline of one model (gestures: synthesized IMU data, Keras training, int8 conversion with the
firmware's input quantization, TFLM evaluation, TFLite cross-check, metrics) for a few steps,
in a temporary directory. It checks that the pipeline works, not what it learns."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from models.tinyml import ROOT, common

pytestmark = [pytest.mark.slow, pytest.mark.training]


def test_smoke_training_of_gestures(tmp_path) -> None:
    t0 = time.time()
    p = subprocess.run([sys.executable, "-m", "models.tinyml.train", "--smoke", "--only", "gestures", "--out",
                        str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    took = time.time() - t0
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    print(f"smoke training took {took:.1f} s")
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["smoke"] is True and list(m["models"]) == ["gestures"]
    e = m["models"]["gestures"]
    for f, digest in e["files"].items():
        assert common.sha256(tmp_path / f) == digest
    st = common.model_stats(tmp_path / "gestures.tflite")
    assert common.quant(st["inputs"][0]) == (1 / 64, 0)
    assert st["ops"][0] == "CONV_2D" and "SHAPE" not in st["ops"]  # batch-1 graph: no dynamic reshape
    ev = common.load_eval("gestures", tmp_path)
    out = common.Tflm(tmp_path / "gestures.tflite")(ev["x"])
    assert out.shape == (len(ev["y"]), 5) and out.dtype == np.int8
    assert round(common.accuracy(out.argmax(1), ev["y"]), 2) == e["int8"]
