"""simcore compare: the regression gate over --json files (docs/run-json.md)."""

from __future__ import annotations

import json

import pytest

from simcore import api
from tests.conftest import elf


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict:
    res = api.run(elf("stm32f407vg", "dut_demo"), "stm32f407vg")
    data = json.loads(json.dumps(res.to_dict(), default=str))
    assert data["schema"] == "simcore.run/1"
    return data


def write(tmp_path, name: str, data: dict):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_identical_runs_pass(cli, tmp_path, baseline):
    a, b = write(tmp_path, "a.json", baseline), write(tmp_path, "b.json", baseline)
    res = cli("compare", a, b)
    assert res.status == 0 and "no regression in 1 run" in res.out


def test_a_doctored_baseline_fails_with_a_table(cli, tmp_path, baseline):
    doctored = json.loads(json.dumps(baseline))
    doctored["cycles"] = int(baseline["cycles"] * 0.95)  # the baseline claims 5% fewer cycles
    doctored["stack"]["used"] -= 16
    flash = next(r for r in doctored["memory"]["regions"] if r["kind"] == "flash")
    flash["used"] -= 100
    res = cli("compare", write(tmp_path, "base.json", doctored), write(tmp_path, "cur.json", baseline))
    assert res.status == 1
    lines = {line.split()[3]: line for line in res.out.splitlines() if "REGRESSION" in line}
    assert set(lines) == {"cycles", "stack", "flash"}
    assert "+5.26%" in lines["cycles"] and "+16" in lines["stack"] and "+100" in lines["flash"]
    assert "3 regression(s) in 1 run(s)" in res.out
    # the same growth within tolerance passes; improvements never fail
    res = cli("compare", write(tmp_path, "base.json", doctored), write(tmp_path, "cur.json", baseline),
              "--tolerance", "cycles=6", "--tolerance", "stack=5", "--tolerance", "flash=1")
    assert res.status == 0, res.out
    assert cli("compare", write(tmp_path, "b2.json", baseline), write(tmp_path, "c2.json", doctored)).status == 0


def test_suites_match_runs_by_elf_and_board(cli, tmp_path, baseline):
    other = dict(baseline, board="nrf52840")
    suite = {"schema": "simcore.suite/1", "runs": [baseline, other]}
    slower = {"schema": "simcore.suite/1", "runs": [baseline, dict(other, instructions=other["instructions"] + 1)]}
    res = cli("compare", write(tmp_path, "s1.json", suite), write(tmp_path, "s2.json", slower))
    assert res.status == 1 and "dut_demo.elf on nrf52840  instructions" in res.out
    missing = {"schema": "simcore.suite/1", "runs": [baseline]}
    res = cli("compare", write(tmp_path, "s1.json", suite), write(tmp_path, "s3.json", missing))
    assert res.status == 1 and "MISSING" in res.out
    # a run compared with the same run inside a suite
    assert cli("compare", write(tmp_path, "r.json", baseline), write(tmp_path, "s1.json", suite)).status == 0


@pytest.mark.parametrize("content,why", [("not json", "not a JSON file"), ("{}", "no 'schema' field"),
                                         ('{"schema": "simcore.run/2"}', "not one this simcore reads")])
def test_bad_input_is_exit_2(cli, tmp_path, baseline, content, why):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    res = cli("compare", bad, write(tmp_path, "ok.json", baseline))
    assert res.status == 2 and why in " ".join(res.err.split()) and "Traceback" not in res.err
    res = cli("compare", write(tmp_path, "ok.json", baseline), write(tmp_path, "ok2.json", baseline),
              "--tolerance", "speed=3")
    assert res.status == 2 and "--tolerance speed=3" in res.err
