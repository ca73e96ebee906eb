"""simcore's trained TinyML models: data synthesis, training, Python twins of the firmware pipelines.

Data is synthesized (or spoken by Debian's ``espeak-ng``): nothing is downloaded. The trained
int8 models, their held-out evaluation sets, demo recordings and metrics live in
``models/trained/``; ``python -m models.tinyml.train`` regenerates them (TensorFlow, the
``models`` extra), ``python -m models.tinyml.table`` measures them in simcore and writes the
table in ``models/README.md``. The twins (:mod:`models.tinyml.twins`) need only numpy and
tflite-micro.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
TRAINED = ROOT / "models" / "trained"
METRICS = TRAINED / "metrics.json"
FIRMWARE_APPS = ROOT / "firmware" / "apps"


@cache
def kws_frontend() -> ModuleType:
    """firmware/apps/kws_mic/frontend.py: the integer audio front end and its bit-exact model."""
    path = FIRMWARE_APPS / "kws_mic" / "frontend.py"
    spec = importlib.util.spec_from_file_location("kws_frontend", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def model_file(name: str) -> Path:
    return TRAINED / f"{name}.tflite"
