"""``--cycle-model instructions`` gives CPI exactly 1 on every committed firmware.

Every instruction costs one cycle and nothing else does: no refills, no wait states, no
exception entry or return cycles (those are not instructions). Time spent asleep in WFI/WFE is
not counted in CPI (it is idle time). Each ELF runs for at most 3 M instructions; the sensor
apps get the example recordings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simcore.api import run

ROOT = Path(__file__).resolve().parents[2]
ELFS = sorted((ROOT / "firmware" / "bin").glob("*/*.elf"))
DATA = ROOT / "examples" / "data"
SENSORS = {"adc_monitor": {"adc": DATA / "adc_trace_1k.csv"}, "audio_events": {"mic": DATA / "audio_events_16k.wav"},
           "kws_mic": {"mic": DATA / "audio_events_16k.wav"}, "mic_compute": {"mic": DATA / "audio_events_16k.wav"},
           "imu_steps": {"imu": DATA / "imu_walk_100hz.csv"},
           "imu_steps_bus": {"imu": (DATA / "imu_walk_100hz.csv", {"resample": True})},
           "camera_motion": {"camera": (DATA / "camera_square", {"fps": 10})}}
TRAINED = ROOT / "models" / "trained"  # the TinyML apps' demo recordings
SENSORS |= {"kws_mic": {"mic": TRAINED / "kws_demo.wav"}, "imu_gestures": {"imu": TRAINED / "gestures_demo.csv"},
            "machine_monitor": {"adc": (TRAINED / "machine_demo.npy", {"rate_hz": 4000})},
            "camera_person": {"camera": (TRAINED / "person_demo.npy", {"fps": 4})}}
# The OV7670 sends only its own frame sizes: the 96x96 demo frames are scaled to what the firmware configures.
BOARD_SENSORS = {("stm32f407-ov7670", "camera_person"):
                 {"camera": (TRAINED / "person_demo.npy", {"fps": 4, "resize": True})}}


@pytest.mark.parametrize("path", ELFS, ids=[f"{p.parent.name}/{p.stem}" for p in ELFS])
def test_cpi_is_exactly_one(path: Path) -> None:
    r = run(path, path.parent.name, cycle_model="instructions", max_instructions=3_000_000,
            sensors=BOARD_SENSORS.get((path.parent.name, path.stem), SENSORS.get(path.stem)))
    assert r.instructions > 0
    assert r.cycles - r.sleep_cycles == r.instructions, r.stop.message
    assert r.extra["cpi"] == 1.0
