"""Float32 models on the emulated part vs the TFLM host interpreter, within a stated tolerance.

The target's float SOFTMAX/LOGISTIC/TANH use newlib's expf/tanhf, which need not round like the
host's libm, so float outputs are compared with |target - tflm| <= 1e-6 + 1e-5 * |tflm|
(int8 models are compared byte for byte elsewhere).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # builds and runs whole models

MODELS = Path(__file__).resolve().parents[2] / "models"
ATOL, RTOL = 1e-6, 1e-5


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("name", ["float_cnn", "float_elementwise"])
def test_float_model_on_target_matches_tflm(name: str) -> None:
    pytest.importorskip("tflite_micro", reason="tflite-micro not installed")
    from models.reference import tflm_reference
    from simcore.ml import run_model

    x = np.load(MODELS / f"{name}.inputs.npy")
    assert x.dtype == np.float32
    ours = run_model(MODELS / f"{name}.tflite", x, board="cortex-m4").outputs[0]
    ref = np.asarray(tflm_reference(MODELS / f"{name}.tflite", x)[0], dtype=np.float32)
    ours = np.asarray(ours, dtype=np.float32).reshape(ref.shape)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL)
    assert np.any(ref != 0)
