"""The committed example recordings load through open_source and hold the events truth.json promises."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simcore.sources import open_source

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
pytestmark = pytest.mark.skipif(not (DATA / "truth.json").exists(), reason="examples/data not generated")


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((DATA / "truth.json").read_text())


def test_audio_events_stand_out_of_the_noise(truth: dict) -> None:
    src = open_source(DATA / "audio_events_16k.wav")
    info = truth["audio_events_16k.wav"]
    assert src.rate_hz == 16000 and len(src) == 48000 and src.dtype == np.int16
    x = src.take(0, len(src))[:, 0].astype(np.float64) / 32768
    frame = 160  # 10 ms frames
    rms = np.sqrt(np.mean(x[: len(x) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    loud = rms > 0.1
    onsets = np.flatnonzero(loud & ~np.concatenate([[False], loud[:-1]])) * frame / 16000
    expected = sorted(e["start_s"] for e in info["events"])
    assert len(onsets) == len(expected)
    np.testing.assert_allclose(onsets, expected, atol=0.011)


def test_imu_steps_are_vertical_peaks(truth: dict) -> None:
    src = open_source(DATA / "imu_walk_100hz.csv")
    az = src.take(0, len(src))[:, src.channel_index("az")]
    high = az > 1.5
    starts = np.flatnonzero(high & ~np.concatenate([[False], high[:-1]]))
    ends = np.flatnonzero(high & ~np.concatenate([high[1:], [False]])) + 1
    peaks = np.array([s + int(np.argmax(az[s:e])) for s, e in zip(starts, ends, strict=True)])
    np.testing.assert_allclose(peaks / 100.0, truth["imu_walk_100hz.csv"]["steps_s"], atol=0.011)


def test_camera_square_moves(truth: dict) -> None:
    info = truth["camera_square"]
    src = open_source(DATA / info["path"], fps=info["fps"]) if info["format"] == "png" else None
    if src is None:
        pytest.skip("frames stored as npy")
    for sq in info["squares"]:
        f = src.take(sq["frame"], sq["frame"] + 1)[0, :, :, 0]
        ys, xs = np.nonzero(f > 200)
        assert (xs.min(), ys.min()) == (sq["x"], sq["y"]) and xs.max() - xs.min() + 1 == sq["size"]


def test_adc_crossings(truth: dict) -> None:
    src = open_source(DATA / "adc_trace_1k.csv")
    info = truth["adc_trace_1k.csv"]
    v = src.take(0, len(src))[:, 0]
    hi = info["thresholds_v"]["high"]
    above = (np.flatnonzero((v[1:] > hi) & (v[:-1] <= hi)) + 1) / 1000
    np.testing.assert_allclose(above, info["crossings_above_s"])
    assert src.units == ("V",)


def test_resd_tap(truth: dict) -> None:
    src = open_source(DATA / "accel_2s.resd")
    az = src.take(0, len(src))[:, 2]
    assert src.rate_hz == 100 and src.units[2] == "g"
    assert int(np.argmax(az)) / 100 == pytest.approx(truth["accel_2s.resd"]["tap_s"], abs=0.011)
    assert np.median(az) == pytest.approx(1.0, abs=0.01)
