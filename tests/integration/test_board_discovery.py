"""STM32F4 Discovery: audio_events through the MP45DT02 on I2S2 with DMA and the firmware's own PDM-to-PCM
filter (a Sinc4 CIC by 64) detects the events the generic board's audio_events detects (numpy reference of
tests/integration/test_sensors_audio.py), each boundary within one 30 ms window; every window's energy equals
the firmware's filter applied in numpy to the microphone's bit stream."""

from __future__ import annotations

import re

import numpy as np
import pytest

from simcore.api import run
from tests.conftest import elf
from tests.integration.test_sensors_audio import WAV, assert_events_within_a_window
from tests.unit.test_pdm import cic

BOARD = "stm32f4-discovery"


@pytest.fixture(scope="module")
def result():
    return run(elf(BOARD, "audio_events"), BOARD, sensors={"mic": WAV}, cmdline="audio_events.elf windows=100")


def _cic_pcm(n: int) -> np.ndarray:
    """The firmware's samples in numpy: bits at 1.024 MHz (I2SxCLK 51.2 MHz / 50), Sinc4 CIC by 64, >> 8."""
    from simcore.devices.pdm import PdmStream
    from simcore.sources import open_source

    bits = PdmStream(open_source(WAV), 0, 1.024e6).bits(0, 64 * n)
    return np.clip(cic(bits, 4, 64) >> 8, -32768, 32767)


def test_events_match_the_generic_board_within_a_window(result) -> None:
    assert result.exit_status == 0
    assert_events_within_a_window(result.text)
    assert result.sensors["mic"]["overruns"] == 0 and result.sensors["mic"]["pdm_clocks_hz"] == [1_024_000]
    # DMA1 stream 3 read every word of DR, one block per half of the 2 x 1920-word buffer (one window each)
    mic = result.sensors["mic"]
    assert mic["samples_by_dma"] == mic["samples_delivered"] >= 100 * 1920
    assert mic["dma_blocks"] - 1 <= mic["samples_by_dma"] // 1920 <= mic["dma_blocks"]
    assert result.reports == {"unimplemented": [], "guest_errors": []}


def test_window_energies_equal_the_firmware_filter_in_numpy(result) -> None:
    pcm = _cic_pcm(100 * 480).reshape(100, 480)
    sums = (pcm * pcm).sum(axis=1)
    want = np.rint(1000 * np.log10(np.maximum(sums, 1) / (480 * 2.0**30))).astype(int)
    rows = re.findall(r"^w (\d+) (-?\d+)\.(\d\d) \d+( loud)?$", result.text, re.M)
    assert len(rows) == 100
    for idx, (_w, whole, frac, loud) in enumerate(rows):
        cdb = int(whole) * 100 + (-1 if whole.startswith("-") else 1) * int(frac)
        assert abs(cdb - want[idx]) <= 1, f"window {idx}"
        assert bool(loud) == bool(sums[idx] > 1629825495), f"window {idx}"


def test_kws_mic_through_i2s_equals_the_twin_on_the_firmware_filter(tmp_path) -> None:
    """kws_mic on the MP45DT02 (I2S2 + DMA1 stream 3, audio_events' Sinc4 CIC in the DMA interrupt, 168 MHz),
    first 6 s of the demo. Exact: every inference (window, 12 int8 scores) and detection equals the Python
    twin's (TFLM host interpreter) on the PCM the firmware's filter makes, computed here in numpy from the
    microphone's bit stream. Against the generic board (the twin of the recording itself, which
    test_tinyml_apps checks against kws_mic on simcore's microphone): the same keywords, each within one
    inference (250 ms), since the filtered PCM differs from the recording."""
    import wave

    from models.tinyml import twins
    from simcore.sources.wav import write_wav
    from tests.conftest import ROOT
    from tests.integration.test_tinyml_apps import DET_RE, parse_inferences

    with wave.open(str(ROOT / "models" / "trained" / "kws_demo.wav")) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    n = 6 * 16000
    cut = tmp_path / "kws_6s.wav"
    write_wav(cut, x[:n], 16000)
    r = run(elf(BOARD, "kws_mic"), BOARD, sensors={"mic": cut}, cmdline="kws_mic.elf halves=24")
    assert r.exit_status == 0, r.text[-2000:]
    assert "24 halves (6000 ms of audio)" in r.text and "0 halves lost, 0 overruns" in r.text

    from simcore.devices.pdm import PdmStream
    from simcore.sources import open_source

    bits = PdmStream(open_source(cut), 0, 1.024e6).bits(0, 64 * n)
    filtered = tmp_path / "kws_6s_cic.wav"
    write_wav(filtered, np.clip(cic(bits, 4, 64) >> 8, -32768, 32767).astype(np.int16), 16000)
    infs, dets = twins.kws_pipeline(filtered)
    assert parse_inferences(r.text) == infs and len(infs) == 21
    got = [twins.Detection(m[1], int(m[2]), int(m[3]), int(m[4])) for m in map(DET_RE.match, r.text.splitlines())
           if m]
    assert got == dets
    _, generic = twins.kws_pipeline(cut)
    assert [d.label for d in got] == [d.label for d in generic] and len(got) >= 2
    assert all(abs(a.at_ms - b.at_ms) <= 250 for a, b in zip(got, generic, strict=True))
    assert r.sensors["mic"]["overruns"] == 0 and r.reports == {"unimplemented": [], "guest_errors": []}



def test_imu_gestures_on_the_lis3dsh_equal_the_twin_without_a_gyroscope() -> None:
    """imu_gestures on the LIS3DSH (SPI1, 50 Hz, FIFO watermark on INT1 -> EXTI0), accelerometer only: see
    tests/integration/test_board_nano33.py accel_only_gestures (0.12 mg/digit: c * 3072 / 3125)."""
    from tests.integration.test_board_nano33 import accel_only_gestures

    accel_only_gestures(BOARD, "accel", "LIS3DSH", 0.12, 3072, 3125)
