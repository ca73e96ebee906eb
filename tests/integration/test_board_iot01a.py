"""B-L475E-IOT01A: audio_events through the MP34DT01, the DFSDM (Sinc4, FOSR 125) and DMA1 channel 4 (RDATAR read
into a circular buffer, half/complete interrupts, as ST's BSP_AUDIO_IN records) detects the events the generic
board's audio_events detects (numpy reference of tests/integration/test_sensors_audio.py), each boundary within
one 30 ms analysis window; the firmware's PCM equals the DFSDM's filter applied to the microphone's bit stream
in numpy."""

from __future__ import annotations

import re

import numpy as np
import pytest

from simcore.api import run
from simcore.errors import BadInputError
from tests.conftest import ROOT, elf
from tests.integration.test_sensors_audio import WAV, assert_events_within_a_window
from tests.unit.test_pdm import cic

BOARD = "b-l475e-iot01a"


@pytest.fixture(scope="module")
def result():
    return run(elf(BOARD, "audio_events"), BOARD, sensors={"mic": WAV}, cmdline="audio_events.elf windows=100")


def test_events_match_the_generic_board_within_a_window(result) -> None:
    assert result.exit_status == 0
    assert_events_within_a_window(result.text)
    mic = result.sensors["mic"]
    assert mic["samples_delivered"] >= 48000 and mic["overruns"] == 0 and mic["pdm_clocks_hz"] == [2_000_000]
    # the DMA path ran: every sample read by DMA1 channel 4 in blocks of one 480-sample half (the last one
    # cut short when the firmware stopped the filter)
    assert mic["samples_by_dma"] == mic["samples_delivered"]
    assert mic["dma_blocks"] - 1 <= mic["samples_by_dma"] // 480 <= mic["dma_blocks"]
    assert result.reports == {"unimplemented": [], "guest_errors": []}  # nothing unmodelled, no firmware error


def _dfsdm_pcm(n: int) -> np.ndarray:
    """The firmware's 16-bit samples computed in numpy: the microphone's bits at 2 MHz through a Sinc4 CIC
    decimating by 125 (from the first settled output), DTRBS 8 rounded, then (v * 4503) >> 16 saturated."""
    from simcore.devices.pdm import PdmStream
    from simcore.sources import open_source

    fosr, order = 125, 4
    bits = PdmStream(open_source(WAV), 0, 2e6).bits(0, (n + order) * fosr)
    v = cic(bits, order, fosr)
    raw = v[order - 1: order - 1 + n]
    rdata = (raw + 128) >> 8
    return np.clip((rdata * 4503) >> 16, -32768, 32767)


def test_window_energies_equal_the_dfsdm_path_in_numpy(result) -> None:
    pcm = _dfsdm_pcm(100 * 480).reshape(100, 480)
    sums = (pcm * pcm).sum(axis=1)
    want = np.rint(1000 * np.log10(np.maximum(sums, 1) / (480 * 2.0**30))).astype(int)
    rows = re.findall(r"^w (\d+) (-?\d+)\.(\d\d) \d+( loud)?$", result.text, re.M)
    assert len(rows) == 100
    for idx, (_w, whole, frac, loud) in enumerate(rows):
        cdb = int(whole) * 100 + (-1 if whole.startswith("-") else 1) * int(frac)
        assert abs(cdb - want[idx]) <= 1, f"window {idx}"  # float32 log10 on the part
        assert bool(loud) == bool(sums[idx] > 1629825495), f"window {idx}"


def test_low_clock_loses_samples_with_overruns_reported() -> None:
    r = run(elf(BOARD, "audio_events"), BOARD, mhz=80, sensors={"mic": WAV},
            cmdline="audio_events.elf windows=5 work=40", max_instructions=200_000_000)
    m = re.search(r"(\d+) overruns", r.text)
    assert m and int(m.group(1)) > 0  # 40 FFTs per 30 ms window do not fit: the ring is overwritten
    assert r.exit_status == 0


def test_the_board_refuses_what_it_cannot_carry(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "b-l475e-iot01a"\nname = "bad"\n[[device]]\nname = "mic3"\ntype = "mp34dt01"\n'
                   'bus = "dfsdm1"\ninput = 9\n')
    with pytest.raises(BadInputError, match="DATIN0-7"):
        run(elf(BOARD, "hello"), str(bad))
    with pytest.raises(BadInputError, match="not audio|units|acceleration|channel"):  # a CSV of accelerations
        run(elf(BOARD, "hello"), BOARD, sensors={"mic2": ROOT / "examples" / "data" / "imu_walk_100hz.csv"})


def _detections(text: str) -> list[tuple[str, int]]:
    return [(w, int(ms)) for w, ms in re.findall(r'^detected "(\w+)" at (\d+) ms of audio', text, re.M)]


def test_kws_mic_on_the_dfsdm_detects_what_the_generic_board_detects(tmp_path) -> None:
    """The models engineer's keyword spotter (front end, DS-CNN, detector) fed by the MP34DT01 through the
    DFSDM at 80 MHz: the same keywords as kws_mic on simcore's microphone, each within one inference."""
    import wave

    from simcore.sources.wav import write_wav
    from tests.conftest import ROOT

    with wave.open(str(ROOT / "models" / "trained" / "kws_demo.wav")) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    cut = tmp_path / "kws_6s.wav"
    write_wav(cut, x[: 6 * 16000], 16000)
    iot = run(elf(BOARD, "kws_mic"), BOARD, sensors={"mic": cut}, cmdline="kws_mic.elf halves=24")
    generic = run(elf("cortex-m4", "kws_mic"), "cortex-m4", sensors={"mic": cut})
    got, want = _detections(iot.text), _detections(generic.text)
    assert len(want) >= 2 and [w for w, _ in got] == [w for w, _ in want]
    assert all(abs(a - b) <= 250 for (_, a), (_, b) in zip(got, want, strict=True))
    assert "24 halves (6000 ms of audio)" in iot.text and "0 halves lost, 0 overruns" in iot.text
    assert iot.exit_status == 0 and iot.sensors["mic"]["overruns"] == 0
    mic = iot.sensors["mic"]  # by DMA in blocks of 2000 samples (half the DMA buffer), 24 x 4000 at least
    assert mic["samples_by_dma"] == mic["samples_delivered"] >= 24 * 4000
    assert mic["dma_blocks"] - 1 <= mic["samples_by_dma"] // 2000 <= mic["dma_blocks"]
