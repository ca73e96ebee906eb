"""A microphone's recording with ``end=stop`` (the default) ends the run where the audio peripheral would deliver
its next block wholly past the recording (StopKind.END_OF_DATA, exit 0): a PDM microphone cannot tell the firmware
its data ended and the part's clock runs on, so kit-board apps without a bound used to process silence until the
instruction budget. Every block holding some of the recording is delivered first. Expected figures come from the
WAV file's own length and the PDM clock in the run's report, not from simcore's stream."""

from __future__ import annotations

import math
import wave
from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.machine import Machine
from tests.conftest import ROOT, elf, figures

WAV = str(ROOT / "examples" / "data" / "audio_events_16k.wav")
DISCO, IOT = "stm32f4-discovery", "b-l475e-iot01a"


def _frames_and_rate() -> tuple[int, int]:
    with wave.open(WAV) as w:
        return w.getnframes(), w.getframerate()


def _run(board: str, app: str = "audio_events", source: Any = WAV, **kw: Any) -> tuple[dict[str, Any], Any]:
    m = prepare(elf(board, app), board, sensors={"mic": source}, **kw)
    r = run_machine(m)
    return figures(r, drop=()), r


def test_discovery_i2s_stops_after_the_half_holding_the_last_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, r = _run(DISCO)
    n, rate = _frames_and_rate()
    mic = r.sensors["mic"]
    (clock,) = mic["pdm_clocks_hz"]
    words = math.ceil(math.ceil(n * clock / rate) / 16)  # 16-bit I2S words holding some of the recording
    half = 1920  # words per DMA half: 30 ms windows of 16 kHz after the firmware's decimation by 64 (16 bits x 4)
    assert fast["stop"]["kind"] == "end_of_data" and r.exit_status == 0
    assert fast["stop"]["details"] == {"sensor": "mic", "recording_s": n / rate}
    assert mic["samples_delivered"] == mic["samples_by_dma"] == half * math.ceil(words / half)
    assert mic["dma_blocks"] == math.ceil(words / half) == 100
    assert sum(line.startswith(b"w ") for line in r.console.splitlines()) == 100  # every window was processed
    assert n / rate <= mic["end_of_data_s"] <= n / rate + 0.1  # (the I2S starts after boot)
    # the same run with every half the run loop's, and with the Python hot path
    monkeypatch.setattr(Machine, "_plan_chain", lambda self, top: None)
    assert _run(DISCO)[0] == fast
    monkeypatch.undo()
    twin = _run(DISCO, native=False)[0]
    assert twin.pop("native_hot_path") is False and fast.pop("native_hot_path") is True
    assert twin == fast


def test_iot_dfsdm_stops_after_the_half_holding_the_last_sample() -> None:
    data, r = _run(IOT)
    n, _rate = _frames_and_rate()
    mic = r.sensors["mic"]
    assert data["stop"]["kind"] == "end_of_data" and r.exit_status == 0
    assert "DFSDM1 FLT0" in data["stop"]["message"]
    assert mic["samples_delivered"] == mic["samples_by_dma"] == n  # the DFSDM decimates to the recording's rate
    assert mic["dma_blocks"] == n // 480
    assert sum(line.startswith(b"w ") for line in r.console.splitlines()) == 100


def test_loop_keeps_the_microphone_streaming() -> None:
    data, r = _run(DISCO, source=(WAV, {"end": "loop"}), max_instructions=60_000_000)
    assert data["stop"]["kind"] == "budget"
    assert r.sensors["mic"]["samples_delivered"] > 192_000 and "end_of_data_s" not in r.sensors["mic"]


def test_a_bound_below_the_recording_is_the_firmware_own_exit() -> None:
    data, r = _run(DISCO, cmdline="audio_events.elf windows=10")
    assert data["stop"]["kind"] == "exit" and r.exit_status == 0 and "end_of_data_s" not in r.sensors["mic"]
