"""CI runs every test: with SIMCORE_NO_SKIPS=1 (.ci/run sets it) a skipped test fails (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, no_skips: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_runtest_makereport  # noqa: F401\n")
    (tmp_path / "test_it.py").write_text("import pytest\n\n\ndef test_needs_a_tool():\n    pytest.skip('no tool')\n\n\n"
                                         "def test_runs():\n    assert True\n")
    env = {k: v for k, v in os.environ.items() if k != "SIMCORE_NO_SKIPS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if no_skips:
        env["SIMCORE_NO_SKIPS"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           "-c", os.devnull, str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path)


@pytest.mark.slow
def test_a_skip_is_a_failure_under_simcore_no_skips(tmp_path: Path) -> None:
    plain = _pytest(tmp_path, no_skips=False)
    assert plain.returncode == 0 and "1 passed, 1 skipped" in plain.stdout
    ci = _pytest(tmp_path, no_skips=True)
    assert ci.returncode == 1 and "1 failed, 1 passed" in ci.stdout and "SIMCORE_NO_SKIPS=1 forbid" in ci.stdout


def test_ci_sets_it_and_installs_what_the_readme_says() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "SIMCORE_NO_SKIPS=1 python3 -m pytest -q" in ci and "--durations=15" in ci
    assert "pip install -q -e '.[test]'" in ci
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e '.[test]' && simcore run" in readme and "python -m pytest -q" in readme
