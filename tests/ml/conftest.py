"""tests/ml: the training smoke test needs TensorFlow (the `models` extra, ~600 MB, which `.[test]`
does not bring). Without TensorFlow that file is not collected at all (neither run nor reported
as a skip), so `pip install -e '.[test]' && python -m pytest -q` stays small and skip-free. CI
installs the extra (.ci/run) and sets SIMCORE_NO_SKIPS=1, under which a missing TensorFlow is an
error instead: the smoke training cannot silently vanish there."""

from __future__ import annotations

import importlib.util
import os

collect_ignore: list[str] = []
if importlib.util.find_spec("tensorflow") is None:
    if os.environ.get("SIMCORE_NO_SKIPS") == "1":
        raise RuntimeError("SIMCORE_NO_SKIPS=1 but TensorFlow is not installed: tests/ml/test_training_smoke.py "
                           "needs the models extra (pip install -e '.[models]')")
    collect_ignore.append("test_training_smoke.py")
