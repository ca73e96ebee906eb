"""Arduino Nano 33 BLE Sense (Rev1 and Rev2): the nRF52840 with its chips on TWIM1 and the MP34DT05 on the
PDM. The nRF52 engineer's nrf_twim app finds the chips' datasheet identities at their addresses, and
audio_events on the board's microphone finds the generic board's windows and events exactly (the PDM
decimates in hardware: the recording arrives as PCM)."""

from __future__ import annotations

import re

from simcore.api import run
from tests.conftest import elf
from tests.integration.test_sensors_audio import WAV, expected


def test_rev1_chips_answer_with_their_identities() -> None:
    r = run(elf("nrf52840", "nrf_twim"), "arduino-nano-33-ble-sense")
    assert r.exit_status == 0
    lines = r.text.splitlines()
    assert lines[:6] == ["LSM9DS1 WHO_AM_I (0x6b): 68", "LSM9DS1 WHO_AM_I_M (0x1e): 3d", "HTS221 WHO_AM_I (0x5f): bc",
                         "APDS-9960 ID (0x39): ab", "APDS-9960 ATIME written db, read db (errors 0 0)",
                         "empty address 0x50: ERRORSRC 2 (ANACK = 2)"]


def test_rev2_has_a_bmi270_instead() -> None:
    r = run(elf("nrf52840", "nrf_twim"), "arduino-nano-33-ble-sense-rev2")
    assert "LSM9DS1 WHO_AM_I (0x6b): 00 NACK" in r.text and "APDS-9960 ID (0x39): ab" in r.text
    from simcore.board import load_board

    assert {d.name: (d.type, d.address) for d in load_board("arduino-nano-33-ble-sense-rev2").devices} == {
        "imu": ("bmi270", 0x68), "gesture": ("apds9960", 0x39), "mic": ("mp34dt05", None)}


def test_audio_events_on_the_boards_microphone() -> None:
    r = run(elf("nrf52840", "audio_events"), "arduino-nano-33-ble-sense", sensors={"mic": WAV},
            cmdline="audio_events.elf windows=100")
    exp = expected()
    rows = re.findall(r"^w (\d+) (-?\d+)\.(\d\d) \d+( loud)?$", r.text, re.M)
    assert [bool(loud) for *_x, loud in rows] == list(exp["loud"])
    events = [(int(a), int(b), int(w)) for a, b, w in
              re.findall(r"^event \d+: (\d+) ms \.\. (\d+) ms, .* \(window (\d+)\)", r.text, re.M)]
    assert events == exp["events"]
    assert r.sensors["pdm"]["samples_delivered"] == 48000 and r.sensors["mic"]["overruns"] == 0
