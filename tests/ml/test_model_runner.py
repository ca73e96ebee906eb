"""firmware/apps/model_runner + simcore.ml: any .tflite built into firmware, run in simcore,
outputs compared with the TFLM host interpreter byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # builds and runs whole models

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"

needs_gcc = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")


def _tflm() -> None:
    try:
        from tflite_micro.python.tflite_micro import runtime  # noqa: F401
    except ImportError:
        pytest.skip("tflite-micro not installed")


@needs_gcc
@pytest.mark.parametrize("name,board,optimized", [
    ("depthwise_conv", "cortex-m4", True),
    ("fully_connected", "nrf52840", True),
    ("conv2d_variants", "cortex-m4", False),
    ("kws_dscnn", "stm32f407vg", True),
    ("vww_mobilenet_v1_025", "cortex-m4", True),
    ("ic_resnet8", "cortex-m4", True),
    ("ad_autoencoder", "cortex-m4", True),
])
def test_compare_with_tflm(name, board, optimized):
    _tflm()
    from simcore.ml import compare_with_tflm

    c = compare_with_tflm(MODELS / f"{name}.tflite", MODELS / f"{name}.inputs.npy", board=board, optimized=optimized)
    r = c.run
    n = len(np.load(MODELS / f"{name}.inputs.npy"))
    assert c.match, c.summary()
    assert r.exit_status == 0 and len(r.invoke_cycles) == n and r.outputs[0].shape[0] == n
    assert r.board == board and r.optimized == optimized
    assert r.arena_used > 0 and r.arena_used <= r.arena_size
    # per-op cycles from the firmware's DWT agree with simcore's ITM op spans
    for o in r.ops:
        assert len(o.cycles) == n and len(o.itm_cycles) == n
        for dwt, itm in zip(o.cycles, o.itm_cycles):
            assert 0 < dwt <= itm <= dwt + 64, (o.name, dwt, itm)
        assert all(i > 0 for i in o.itm_instructions)
    assert sum(r.invoke_cycles) < r.cycles


@needs_gcc
def test_array_inputs_and_arena_retry():
    """Inputs as an array; an arena too small is grown to what the runtime asks for."""
    from simcore.ml import run_model

    x = np.load(MODELS / "kws_dscnn.inputs.npy")[:1]
    r = run_model(MODELS / "kws_dscnn.tflite", x, arena=None)
    assert r.outputs[0].shape == (1, 12) and r.outputs[0].dtype == np.int8
    from simcore import ml

    elf = ml.build_model_runner(MODELS / "kws_dscnn.tflite", x, arena=4096)
    with pytest.raises(ml.ModelRunError, match="arena too small"):
        ml.run_elf(elf)


@needs_gcc
def test_ops_subset_build():
    """OPS= compiles only the listed ops: the model's own ops run (same outputs, smaller
    image); a model needing another op is refused at init."""
    from simcore import ml

    x = np.load(MODELS / "kws_dscnn.inputs.npy")[:1]
    kws_ops = ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"]
    full = ml.run_model(MODELS / "kws_dscnn.tflite", x)
    only = ml.run_model(MODELS / "kws_dscnn.tflite", x, ops=kws_ops)
    assert np.array_equal(full.outputs[0], only.outputs[0])
    assert only.flash_bytes < full.flash_bytes
    elf = ml.build_model_runner(MODELS / "kws_dscnn.tflite", x, ops=["FULLY_CONNECTED"])
    with pytest.raises(ml.ModelRunError, match="not compiled in"):
        ml.run_elf(elf)


def test_missing_compiler_is_a_clear_error(monkeypatch):
    from simcore import ml

    monkeypatch.setattr(ml.shutil, "which", lambda name: None)
    with pytest.raises(ml.ModelRunError, match="arm-none-eabi-gcc not found"):
        ml.run_model(MODELS / "kws_dscnn.tflite", MODELS / "kws_dscnn.inputs.npy")


@needs_gcc
def test_cli():
    _tflm()
    p = subprocess.run([sys.executable, "-m", "simcore.ml", str(MODELS / "fully_connected.tflite"),
                        str(MODELS / "fully_connected.inputs.npy"), "--board", "cortex-m4", "--compare"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "identical to the TFLM host interpreter" in p.stdout
    assert "FULLY_CONNECTED" in p.stdout and "output 0 inference 0:" in p.stdout


@needs_gcc
def test_make_target_usage_error():
    p = subprocess.run(["make", "-C", str(ROOT / "firmware"), "model_runner"], capture_output=True, text=True)
    assert p.returncode != 0 and "MODEL=path/to/model.tflite" in p.stdout + p.stderr
