"""The examples of docs/testing.md and docs/debugging.md run as documented (exit 0, the output they promise)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import ROOT, elf


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=300, env=_env(), cwd=ROOT)


def test_unit_test_c_function_example():
    res = _run(sys.executable, "examples/unit_test_c_function.py")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "8 of 8 passed on stm32f407vg" in res.stdout


def test_pytest_ci_example_writes_junit():
    res = _run(sys.executable, "examples/pytest_ci.py")
    assert res.returncode == 0, res.stdout + res.stderr
    report = Path(res.stderr.split("JUnit XML: ")[1].split()[0])
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests")) >= 5


def test_gdb_batch_example_detaches_with_the_counts_of_a_plain_run():
    from simcore import api

    res = _run("bash", "examples/gdb_batch.sh")
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "<signal handler called>" in out and "Hardware watchpoint 2: ticks" in out
    ref = api.run(elf("stm32f407vg", "systick"), "stm32f407vg")
    assert f"instructions {ref.instructions:,}" in out.split("detached", 1)[-1]  # the summary after detach


def test_suite_junit_example_on_a_small_directory(tmp_path):
    d = tmp_path / "stm32f407vg"  # the directory names the board
    d.mkdir()
    for app in ("hello", "exitcode", "dut_demo"):
        shutil.copy(elf("stm32f407vg", app), d)
    out = tmp_path / "out"
    out.mkdir()
    res = _run("bash", "examples/suite_junit.sh", str(d), str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "suite exit status: 1" in res.stdout  # exitcode exits 3 on purpose
    assert "compare exit status: 0" in res.stdout
    runs = {Path(r["elf"]).stem: r["verdict"] for r in json.loads((out / "baseline.json").read_text())["runs"]}
    assert runs == {"dut_demo": "pass", "exitcode": "fail", "hello": "pass"}
    assert ET.parse(out / "junit.xml").getroot().find("testsuite").get("tests") == "3"
