"""simcore bench: a model across parts in one table; a part it does not fit shows the shortfall."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import ROOT

WIDE = ROOT / "tests" / "ml" / "bench_data" / "wide_int8.tflite"  # ~400 KiB of arena: tests/ml/make_bench_models.py


@pytest.mark.slow
def test_bench_table_fit_shortfall_and_tflm_check(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # works from any directory: builds go to the cache directory
    out = tmp_path / "bench.json"
    res = cli("bench", WIDE, "--board", "nrf52840", "--board", "stm32l4r5zi", "--json", out)
    assert res.status == 0, res.out + res.err
    rows = {line.split()[1]: line for line in res.out.splitlines() if line.startswith("wide_int8")}
    assert " NO " in rows["nrf52840"] and "RAM short by" in rows["nrf52840"]
    assert " yes " in rows["stm32l4r5zi"] and rows["stm32l4r5zi"].endswith("bit-exact")
    assert "wide_int8: cycles per inference by op" in res.out and "CONV_2D" in res.out
    data = json.loads(out.read_text())
    assert data["schema"] == "simcore.bench/1"
    nrf, l4 = data["results"]
    assert not nrf["fits"] and nrf["shortfall"]["RAM"] > 100_000  # 256 KiB of RAM for ~400 KiB of arena
    assert l4["fits"] and l4["match"]["equal"] and l4["arena"]["used"] > 256 * 1024
    assert l4["latency_seconds"] == pytest.approx(l4["cycles"] / 120e6, rel=1e-6)
    assert l4["energy_joules"] > 0 and [op["name"] for op in l4["ops"]][0] == "CONV_2D"
    assert sorted(os.listdir(tmp_path)) == ["bench.json"]  # nothing built in the working directory
    assert cli("compare", out, out).status == 0  # a bench file is a baseline for the regression gate


def test_bench_bad_input(cli, tmp_path):
    res = cli("bench", tmp_path / "none.tflite", "--board", "nrf52840")
    assert res.status == 2 and "no such model file" in res.err
    res = cli("bench", WIDE, "--board", "nrf52841")
    assert res.status == 2 and "nrf52841" in res.err
