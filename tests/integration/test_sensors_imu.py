"""imu_steps on the IMU FIFO: the steps and their times checked against numpy.

Expected steps computed here from examples/data/imu_walk_100hz.csv with the algorithm the
firmware documents, written out again: counts = clip(rint(g / 4 * 32768)) (+-4 g range);
m = ax^2 + ay^2 + az^2 in counts^2; a step is a maximal run of frames with m > (1.4 * 8192)^2,
timed at the frame of the largest m in the run; a run starting less than 30 frames after the
previous step's frame is not a step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from simcore.api import run
from tests.conftest import ROOT, elf, run_cli

CSV = ROOT / "examples" / "data" / "imu_walk_100hz.csv"
TRUTH = json.loads((ROOT / "examples" / "data" / "truth.json").read_text())["imu_walk_100hz.csv"]
APP = elf("cortex-m4", "imu_steps")
REFRACTORY = 30


def counts(mg_per_count: float = 4000 / 32768, csv: Path = CSV) -> np.ndarray:
    """The recording's acceleration (columns ax, ay, az in g) in a sensor's counts, shape (n, 3)."""
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    return np.clip(np.rint(table[:, 1:4] * 1000 / mg_per_count), -32768, 32767).astype(np.int64)


def held(acc: np.ndarray, k0: int, n: int) -> np.ndarray:
    """Samples ``k0 .. k0+n-1`` under the end rule ``hold`` (the last sample repeats past the end)."""
    return acc[np.minimum(np.arange(k0, k0 + n), len(acc) - 1)]


def fnv1a(acc: np.ndarray) -> int:
    """32-bit FNV-1a of the frames' bytes (X, Y, Z as little-endian int16), as imu_steps_bus prints it."""
    h = 2166136261
    for byte in acc.astype("<i2").tobytes():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def expected_steps(mg_per_count: float = 4000 / 32768, csv: Path = CSV, refractory: int = REFRACTORY) -> list[int]:
    """Step frames; ``mg_per_count`` is the sensor's sensitivity (simcore's IMU: +-4 g in 16 bits)."""
    acc = counts(mg_per_count, csv)
    m = (acc * acc).sum(axis=1)
    above = m > int((1400 / mg_per_count) ** 2)
    steps: list[int] = []
    k = 0
    while k < len(m):
        if not above[k]:
            k += 1
            continue
        j = k
        while j < len(m) and above[j]:
            j += 1
        if not steps or k - steps[-1] >= refractory:
            steps.append(k + int(np.argmax(m[k:j])))
        k = j
    return steps


@pytest.fixture(scope="module")
def result():
    return run(APP, "cortex-m4", sensors={"imu": CSV})


def test_steps_match_numpy_and_ground_truth(result) -> None:
    got = [(int(t), int(k), int(d)) for t, k, d in
           re.findall(r"^step \d+ at (\d+) ms \(frame (\d+)\), detected at (\d+) ms$", result.text, re.M)]
    exp = expected_steps()
    assert [k for _t, k, _d in got] == exp
    assert [t for t, _k, _d in got] == [10 * k for k in exp]
    assert len(exp) == len(TRUTH["steps_s"]) == 16
    assert np.allclose([k / 100 for k in exp], TRUTH["steps_s"], atol=0.03)
    for t, _k, d in got:
        # found when the run ends and the FIFO reaches its watermark (25 frames = 250 ms) at the latest
        assert t < d <= t + 10 + 250 + 260


def test_no_overruns_at_the_default_clock(result) -> None:
    assert result.exit_status == 0
    imu = result.sensors["imu"]
    assert imu.get("overruns", 0) == 0 and imu.get("frames_lost", 0) == 0 and imu.get("late_services", 0) == 0
    assert "done: 16 steps in 1000 frames, 0 overruns" in result.text


def test_cli_with_source_options() -> None:
    res = run_cli("run", APP, "-q", "--sensor", f"imu={CSV}:end=stop,accel_channels=['ax', 'ay', 'az']")
    assert res.status == 0, res.err
    assert re.search(r"^sensor imu \(simcore_imu\) <- imu_walk_100hz.csv: .*0 overruns", res.err, re.M)


def test_rate_mismatch_refused_at_enable_with_exit_2() -> None:
    # resampled to 50 Hz: a valid file, but the firmware programs ODR = 100 Hz when it enables the IMU
    res = run_cli("run", APP, "-q", "--sensor", f"imu={CSV}:resample_hz=50")
    assert res.status == 2, res.err
    assert "50 Hz" in res.err and "100 Hz" in res.err and "internal error" not in res.err


def test_a_time_column_that_contradicts_rate_hz_is_refused_before_the_run() -> None:
    res = run_cli("run", APP, "--sensor", f"imu={CSV}:rate_hz=50")
    assert res.status == 2 and "time column" in res.err and res.out == ""


def test_interrupt_handler_mode_finds_the_same_steps(result) -> None:
    """With 'irq' the IMU's watermark interrupt runs a handler through the NVIC (exception entry)."""
    r = run(APP, "cortex-m4", sensors={"imu": CSV}, cmdline="imu_steps.elf irq", strict=True)
    assert r.exit_status == 0, r.stop.message
    assert "interrupt handler" in r.text
    assert "interrupts: 40 handler calls, 0 overruns seen" in r.text  # 1000 frames / watermark 25
    steps = re.findall(r"^step \d+ at (\d+) ms \(frame (\d+)\)", r.text, re.M)
    assert steps == re.findall(r"^step \d+ at (\d+) ms \(frame (\d+)\)", result.text, re.M)
    assert len(steps) == 16
