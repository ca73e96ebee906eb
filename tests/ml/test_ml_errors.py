"""simcore.ml's errors are simcore errors; the float tolerance; optional dependencies checked first; the cache dir."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simcore import ml
from simcore.errors import SimcoreError

ROOT = Path(__file__).resolve().parents[2]


def test_model_run_errors_are_bad_input_errors() -> None:
    assert issubclass(ml.ModelRunError, SimcoreError) and ml.ModelRunError("x").exit_code == 2


def test_runtime_status_codes_are_words_from_tm_h() -> None:
    enum = (ROOT / "firmware" / "runtime" / "tm.h").read_text()
    body = enum[enum.index("typedef enum {"):enum.index("} tm_status;")]
    names = re.findall(r"\b(TM_\w+)", body)
    assert names[0] == "TM_OK"
    assert {i: ml.TM_STATUS[i].split(":")[0] for i in ml.TM_STATUS} == dict(list(enumerate(names))[1:])
    assert ml._status_words("3 arena too small: needs 70000 bytes").startswith("TM_ERR_ARENA")  # noqa: SLF001
    assert "(arena too small: needs 70000 bytes)" in ml._status_words("3 arena too small: needs 70000 bytes")  # noqa: SLF001


def _fake_run(outputs: list[np.ndarray]) -> ml.ModelRun:
    return ml.ModelRun(model=Path("m.tflite"), board="cortex-m4", mhz=100.0, optimized=True, elf=Path("x.elf"),
                       outputs=outputs, ops=[], invoke_cycles=[1] * len(outputs[0]), arena_used=0, arena_size=0,
                       instructions=0, cycles=0, exit_status=0, console="")


@pytest.mark.parametrize(("delta", "match"), [(0.0, True), (1.5e-4, True), (2.5e-4, False)])
def test_float_outputs_compare_within_the_documented_tolerance(monkeypatch: pytest.MonkeyPatch, delta: float,
                                                               match: bool) -> None:
    ref = np.array([[1.0, -20.0, 0.5], [3.0, 0.0, 7.0]], dtype=np.float32)
    got = ref + np.float32(delta) * np.array([[0, 1, 0], [0, 0, 0]], dtype=np.float32)  # |d| on the -20.0
    monkeypatch.setattr(ml, "_require_tflm", lambda: None)
    monkeypatch.setattr(ml, "run_model", lambda *a, **k: _fake_run([got]))
    monkeypatch.setattr(ml, "tflm_outputs", lambda *a, **k: [ref])
    c = ml.compare_with_tflm("m.tflite", np.zeros((2, 3), np.int8))
    # 1e-6 + 1e-5 * 20 = 2.01e-4 allows 1.5e-4, not 2.5e-4
    assert c.match is match and c.mismatched_rows == ([] if match else [0])


def test_integer_outputs_must_be_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = np.array([[1, 2, 3]], dtype=np.int8)
    monkeypatch.setattr(ml, "_require_tflm", lambda: None)
    monkeypatch.setattr(ml, "run_model", lambda *a, **k: _fake_run([ref + np.int8(1)]))
    monkeypatch.setattr(ml, "tflm_outputs", lambda *a, **k: [ref])
    assert not ml.compare_with_tflm("m.tflite", np.zeros((1, 3), np.int8)).match


def test_a_missing_tflite_micro_is_found_before_anything_is_built(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name in [n for n in sys.modules if n.startswith("tflite_micro")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tflite_micro", None)  # import tflite_micro... raises ImportError

    def no_build(*_a: Any, **_k: Any) -> None:
        raise AssertionError("built before checking the dependency")

    monkeypatch.setattr(ml, "build_model_runner", no_build)
    with pytest.raises(ml.ModelRunError, match=r"pip install -e '\.\[ml\]'"):
        ml.compare_with_tflm(ROOT / "models" / "kws_dscnn.tflite", ROOT / "models" / "kws_dscnn.inputs.npy")
    status = ml.main([str(ROOT / "models" / "kws_dscnn.tflite"), str(ROOT / "models" / "kws_dscnn.inputs.npy"),
                      "--compare"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("simcore: error: comparing with TFLM needs the tflite-micro package")
    assert "Traceback" not in err


def test_builds_go_to_the_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path / "cache"))
    assert ml.build_root() == tmp_path / "cache" / "model_runner" and ml.build_root().is_dir()
    monkeypatch.delenv("SIMCORE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ml.build_root() == tmp_path / "xdg" / "simcore" / "model_runner"
    assert ROOT not in ml.build_root().parents
