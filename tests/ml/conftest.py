"""tests/ml: the training smoke test needs TensorFlow (the `models` extra, which `.[test]` does
not install: it is ~600 MB). Without TensorFlow that file is not collected at all (neither run
nor reported as a skip); CI installs the extra and sets SIMCORE_REQUIRE_TRAINING=1, which makes
a missing TensorFlow an error instead."""

from __future__ import annotations

import importlib.util
import os

collect_ignore: list[str] = []
if importlib.util.find_spec("tensorflow") is None:
    if os.environ.get("SIMCORE_REQUIRE_TRAINING"):
        raise RuntimeError("SIMCORE_REQUIRE_TRAINING is set but TensorFlow is not installed: "
                           "pip install -e '.[models]' for tests/ml/test_training_smoke.py")
    collect_ignore.append("test_training_smoke.py")
