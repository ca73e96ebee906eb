"""adc_monitor on the ADC and GPIO: threshold transitions and the LED checked against numpy.

Expected transitions computed here from examples/data/adc_trace_1k.csv with the algorithm the
firmware documents, written out again: code = clip(rint(v / 3.3 * 4095), 0, 4095); normal ->
HIGH above 3102, HIGH -> normal below 2978, normal -> LOW below 992, LOW -> normal above 1116.
The LED must rise and fall with HIGH, within one DMA half (50 ms) plus processing.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from simcore.api import run
from tests.conftest import ROOT, elf

CSV = ROOT / "examples" / "data" / "adc_trace_1k.csv"
TRUTH = json.loads((ROOT / "examples" / "data" / "truth.json").read_text())["adc_trace_1k.csv"]
APP = elf("cortex-m4", "adc_monitor")


def expected() -> list[tuple[str, str, int]]:
    v = np.loadtxt(CSV, delimiter=",", skiprows=1)[:, 1]
    codes = np.clip(np.rint(v / 3.3 * 4095), 0, 4095).astype(int)
    state, out = "normal", []
    for k, c in enumerate(codes):
        if state == "HIGH":
            new = "normal" if c < 2978 else "HIGH"
        elif state == "LOW":
            new = "normal" if c > 1116 else "LOW"
        else:
            new = "HIGH" if c > 3102 else "LOW" if c < 992 else "normal"
        if new != state:
            out.append((state, new, k))
            state = new
    return out


@pytest.fixture(scope="module", params=[100, 16])
def result(request):
    return run(APP, "cortex-m4", mhz=request.param, sensors={"adc": CSV})


def test_transitions_match_numpy(result) -> None:
    got = [(a, b, int(k), int(d)) for a, b, k, d in
           re.findall(r"^(\w+) -> (\w+) at \d+ ms \(sample (\d+), code \d+\), acted at (\d+) ms$", result.text, re.M)]
    assert [(a, b, k) for a, b, k, _d in got] == expected()
    assert [k / 1000 for a, b, k, _d in got if b == "HIGH"] == TRUTH["crossings_above_s"]
    assert [k / 1000 for a, b, k, _d in got if b == "LOW"] == TRUTH["crossings_below_s"]
    for _a, _b, k, d in got:
        assert k < d <= k + 50 + 5


def test_led_follows_the_high_state(result) -> None:
    changes = result.sensors["gpio"]["changes"]
    highs = [(k, b) for _a, b, k in expected() if b == "HIGH" or _a == "HIGH"]
    assert [c["level"] for c in changes] == [1 if b == "HIGH" else 0 for _k, b in highs]
    for c, (k, _b) in zip(changes, highs, strict=True):
        assert c["name"] == "led"
        assert k / 1000 < c["time_s"] <= k / 1000 + 0.055  # the sample's half arrives, then the firmware acts


def test_no_overruns(result) -> None:
    assert result.exit_status == 0
    adc = result.sensors["adc"]
    assert adc.get("overruns", 0) == 0 and adc.get("late_services", 0) == 0 and adc["dma_halves"] == 60
    assert "done: 3000 samples, 4 transitions, 0 overruns" in result.text
