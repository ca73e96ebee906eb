"""Recordings that do not suit a sensor are refused before the run (issue 11): a float WAV with
NaN/inf (as CSV and NPY already were), an IMU CSV or RESD acceleration fed to the microphone or
the ADC even with resample=true."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
from simcore.sources import open_source
from simcore.sources.wav import write_wav
from tests.conftest import ROOT, elf, run_cli

AUDIO = elf("cortex-m4", "audio_events")
ADC = elf("cortex-m4", "adc_monitor")
IMU_CSV = ROOT / "examples" / "data" / "imu_walk_100hz.csv"
RESD = ROOT / "examples" / "data" / "accel_2s.resd"


def _refused(*args: object, expect: str) -> None:
    res = run_cli("run", *args)
    assert res.status == 2, res.err
    assert "Traceback" not in res.err and expect in res.err.replace("\n", " ")
    assert not res.out


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fmt", ["float32", "float64"])
def test_float_wav_with_non_finite_samples(tmp_path: Path, value: float, fmt: str) -> None:
    samples = np.zeros((100, 2))
    samples[37, 1] = value
    path = tmp_path / "bad.wav"
    write_wav(path, samples, 16000, fmt)
    with pytest.raises(BadInputError, match="frame 37, channel 1: sample .* is not finite"):
        open_source(path)
    _refused(AUDIO, "-q", "--sensor", f"mic={path}", expect="is not finite")


def test_finite_float_wav_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.wav"
    write_wav(path, np.linspace(-1, 1, 160), 16000, "float32")
    assert len(open_source(path)) == 160


@pytest.mark.parametrize("spec", [f"mic={IMU_CSV}:resample=true", f"mic={IMU_CSV}",
                                  f"mic={RESD}:resample=true"])
def test_imu_recordings_are_not_audio(spec: str) -> None:
    _refused(AUDIO, "-q", "--sensor", spec, expect="not audio")


def test_acceleration_is_not_volts() -> None:
    _refused(ADC, "-q", "--sensor", f"adc={IMU_CSV}:resample=true", expect="not volts")
