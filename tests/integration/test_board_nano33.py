"""Arduino Nano 33 BLE Sense (Rev1 and Rev2): the nRF52840 with its chips on TWIM1 and the MP34DT05 on the
PDM. The nRF52 engineer's nrf_twim app finds the chips' datasheet identities at their addresses, and
audio_events on the board's microphone finds the generic board's windows and events exactly (the PDM
decimates in hardware: the recording arrives as PCM).

imu_steps_bus on each revision counts the steps imu_steps counts on the generic board from the same walk
(examples/data/imu_walk_100hz.csv), and the bytes it read over TWIM1 are the recording's samples in the
chip's counts (numpy, FNV-1a over the frames): Rev2's BMI270 at its 100 Hz by FIFO watermark on INT1 (P0.11,
GPIOTE); Rev1's LSM9DS1 has no interrupt line to the nRF52840 and no 100 Hz rate, so its FIFO is polled on
an RTC1 tick at 119 Hz from the walk interpolated to 119 Hz here in numpy (np.interp)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from simcore.api import run
from tests.conftest import elf
from tests.integration.test_sensors_audio import WAV, events_in, expected
from tests.integration.test_sensors_imu import CSV, TRUTH, counts, expected_steps, fnv1a, held

REV1, REV2 = "arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense-rev2"
STEP = re.compile(r"^step \d+ at (\d+) ms \(frame (\d+)\)", re.M)


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
    assert events_in(r.text) == exp["events"]
    assert r.sensors["pdm"]["samples_delivered"] == 48000 and r.sensors["mic"]["overruns"] == 0


@pytest.fixture(scope="module")
def generic_steps() -> list[tuple[int, int]]:
    """(ms, frame) of every step imu_steps finds on the generic board from the walk."""
    r = run(elf("cortex-m4", "imu_steps"), "cortex-m4", sensors={"imu": CSV})
    assert r.exit_status == 0 and "done: 16 steps in 1000 frames, 0 overruns" in r.text
    return [(int(ms), int(k)) for ms, k in STEP.findall(r.text)]


def test_rev2_bmi270_by_fifo_watermark_interrupt(generic_steps) -> None:
    r = run(elf(REV2, "imu_steps_bus"), REV2, sensors={"imu": (CSV, {"end": "hold"})})
    assert r.exit_status == 0, r.text
    assert "BMI270 (CHIP_ID 24), 100 Hz, +-4 g, FIFO watermark 25 frames, INT1 -> P0.11 -> GPIOTE IN[0]" in r.text
    got = [int(k) for _ms, k in STEP.findall(r.text)]
    exp = [k for _ms, k in generic_steps]
    assert exp == expected_steps() and len(exp) == len(TRUTH["steps_s"]) == 16
    # the chip samples the recording from reset: its frame i is sample offset + i (the time before acc_en)
    offset = exp[0] - got[0]
    assert 0 <= offset <= 30 and [k + offset for k in got] == exp
    assert "done: 16 steps in 1000 frames, 0 overruns" in r.text
    # 8192 counts per g (+-4 g): the bytes read from FIFO_DATA are the recording's samples offset .. offset+999
    assert f"data: fnv1a {fnv1a(held(counts(), offset, 1000)):08x} over 1000 frames" in r.text
    imu = r.sensors["imu"]
    assert imu["config_loaded"] and imu["overruns"] == 0
    assert r.reports == {"unimplemented": [], "guest_errors": []}


def test_rev1_lsm9ds1_polled_on_an_rtc_tick(tmp_path: Path, generic_steps) -> None:
    table = np.loadtxt(CSV, delimiter=",", skiprows=1)
    t = np.arange(int(table[-1, 0] * 119) + 1) / 119  # the walk at the LSM9DS1's 119 Hz
    walk = np.column_stack([t] + [np.interp(t, table[:, 0], table[:, c]) for c in range(1, 7)])
    csv = tmp_path / "walk_119hz.csv"
    np.savetxt(csv, walk, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="", fmt=["%.12f"] + ["%.6f"] * 6)
    frames = len(t) - 9
    r = run(elf(REV1, "imu_steps_bus"), REV1, sensors={"imu": (csv, {"end": "hold"})},
            cmdline=f"imu_steps_bus.elf frames={frames}")
    assert r.exit_status == 0, r.text
    assert "LSM9DS1 (WHO_AM_I 68), 119 Hz, +-4 g, FIFO polled on an RTC1 tick every 125 ms" in r.text
    got = STEP.findall(r.text)
    exp = expected_steps(0.122, csv, refractory=36)  # 0.122 mg/LSB at +-4 g; 36 frames = 302.5 ms
    offset = exp[0] - int(got[0][1])
    assert 0 <= offset <= 30 and [int(k) + offset for _ms, k in got] == exp
    # the same 16 steps as the generic board, each within a frame of both rates (8.4 + 10 ms) of its time
    assert len(got) == len(generic_steps) == 16
    shift = offset * 1000 / 119
    assert all(abs(int(ms) + shift - g_ms) <= 19 for (ms, _k), (g_ms, _gk) in zip(got, generic_steps, strict=True))
    assert f"done: 16 steps in {frames} frames, 0 overruns" in r.text
    assert f"data: fnv1a {fnv1a(held(counts(0.122, csv), offset, frames)):08x} over {frames} frames" in r.text
    assert r.sensors["imu"]["overruns"] == 0
    assert r.reports == {"unimplemented": [], "guest_errors": []}


def test_kws_mic_on_the_pdm_equals_the_generic_board(tmp_path: Path) -> None:
    """The models engineer's keyword spotter fed by the MP34DT05 through the PDM (hardware decimation: the
    recording arrives as the same 16 kHz PCM) on both revisions: every inference's window and 12 int8 scores,
    and every detection, equal kws_mic's on simcore's microphone (the first 6 s of the demo)."""
    import wave

    from simcore.sources.wav import write_wav
    from tests.conftest import ROOT

    with wave.open(str(ROOT / "models" / "trained" / "kws_demo.wav")) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    cut = tmp_path / "kws_6s.wav"
    write_wav(cut, x[: 6 * 16000], 16000)
    generic = run(elf("cortex-m4", "kws_mic"), "cortex-m4", sensors={"mic": cut})
    inference = re.compile(r"^inference \d+: audio .*\n  scores:.*$", re.M)
    detection = re.compile(r'^detected "\w+" at \d+ ms of audio \(inference \d+, mean score \d+\)', re.M)
    want_inf, want_det = inference.findall(generic.text), detection.findall(generic.text)
    assert len(want_inf) == 21 and len(want_det) >= 2
    for board in (REV1, REV2):
        r = run(elf(REV1, "kws_mic"), board, sensors={"mic": cut}, cmdline="kws_mic.elf halves=24")
        assert r.exit_status == 0, r.text[-2000:]
        assert inference.findall(r.text) == want_inf and detection.findall(r.text) == want_det
        assert "24 halves (6000 ms of audio)" in r.text and "0 halves lost" in r.text
        assert r.sensors["pdm"]["samples_delivered"] == 24 * 4000 and r.sensors["mic"]["overruns"] == 0
        assert r.reports == {"unimplemented": [], "guest_errors": []}


def gestures_equal_the_twin(text: str, rows: np.ndarray, first: list[int], inputs: Callable[[int], np.ndarray]
                            ) -> tuple[int, list]:
    """imu_gestures on a chip that samples the recording from reset: d = the one recording frame whose ``rows``
    entry equals the first frame the firmware printed; the twin (TFLM host interpreter) on ``inputs(d)`` must
    give every inference and detection the firmware printed. Returns d and the detections."""
    from models.tinyml import twins
    from tests.integration.test_tinyml_apps import GEST_RE, parse_inferences

    ds = [k for k in range(50) if list(rows[k]) == first]
    assert len(ds) == 1
    infs = twins.gesture_inferences(inputs(ds[0]))
    assert parse_inferences(text) == infs and len(infs) > 100
    got = [twins.Detection(m[1], int(m[2]), int(m[3]), int(m[4])) for m in map(GEST_RE.match, text.splitlines()) if m]
    assert got == twins.gesture_detections(infs)
    return ds[0], got


def test_imu_gestures_on_the_rev2_bmi270_equal_the_twin() -> None:
    """imu_gestures on the BMI270 (both sensors at 50 Hz over TWIM1, FIFO watermark on INT1): the chip samples
    the recording from reset, so the firmware's frame 0 is the recording's frame d (d from the first frame's
    counts). Every inference (frames, 5 int8 scores) and detection equals the Python twin's (TFLM host
    interpreter) on the recording's frames d..; the gestures are the generic board's (the twin of the whole
    recording, which test_tinyml_apps checks against the generic board), each within one hop (8 frames)."""
    from models.tinyml import TRAINED, apps, twins

    csv = TRAINED / "gestures_demo.csv"
    counts16 = twins.imu_counts(twins.read_imu_csv(csv)).astype(np.int64)
    frames = len(counts16) - 50
    r = run(elf(REV2, "imu_gestures"), REV2, sensors={"imu": (csv, {"end": "hold"})},
            cmdline=f"imu_gestures.elf frames={frames}")
    assert r.exit_status == 0, r.text[-2000:]
    first = [int(v) for v in re.search(r"^first frame: (.*)$", r.text, re.M)[1].split()]
    d, got = gestures_equal_the_twin(r.text, counts16, first, lambda d: counts16[d:d + frames])
    _, generic = twins.gesture_pipeline(csv)
    hop_ms = 1000 * apps.GESTURES["HOP"] // apps.GESTURES["ODR"]
    assert [g.label for g in got] == [g.label for g in generic] and len(got) >= 4
    assert all(abs(g.at_ms + 20 * d - w.at_ms) <= hop_ms for g, w in zip(got, generic, strict=True))
    assert f"done: {frames} frames" in r.text and r.sensors["imu"]["overruns"] == 0
    assert r.reports == {"unimplemented": [], "guest_errors": []}


def accel_only_gestures(board: str, sensor: str, chip: str, mg_per_count: float, num: int, den: int) -> None:
    """imu_gestures on a board whose chip gives it an accelerometer only at 50 Hz (the Discovery's LIS3DSH, the
    Nano Rev1's LSM9DS1, which has no 50 Hz gyroscope rate): the firmware rescales the counts to 8192 per g
    (c * num / den, truncated) and feeds 0 for the three gyroscope inputs. Exact: every inference and
    detection equals the Python twin's on the same inputs made here in numpy from the recording's frames d..
    (d from the first frame's counts: the chip samples from reset). Without rotation the model finds only some
    of the generic board's gestures (3 of 8 on the demo): each one it finds is one of them, same label, within
    one analysis window (64 frames; 140-180 ms seen)."""
    from models.tinyml import TRAINED, apps, twins

    csv = TRAINED / "gestures_demo.csv"
    g = twins.read_imu_csv(csv)
    counts = np.clip(np.rint(g[:, :3] * 1000 / mg_per_count), -32768, 32767).astype(np.int64)
    frames = len(g) - 50
    r = run(elf(board, "imu_gestures"), board, sensors={sensor: (csv, {"end": "hold"})},
            cmdline=f"imu_gestures.elf frames={frames}")
    assert r.exit_status == 0, r.text[-2000:]
    raw = [int(v) for v in re.search(rf"^first frame: .*\({chip} counts (.*)\)$", r.text, re.M)[1].split()]

    def inputs(d: int) -> np.ndarray:
        acc = np.trunc(counts[d:d + frames] * num / den).astype(np.int64)  # C's truncating division
        return np.concatenate([acc, np.zeros_like(acc)], axis=1)

    d, got = gestures_equal_the_twin(r.text, counts, raw, inputs)
    assert len(got) >= 1
    _, generic = twins.gesture_pipeline(csv)
    window_ms = 1000 * apps.GESTURES["WINDOW"] // apps.GESTURES["ODR"]
    assert all(any(w.label == x.label and abs(x.at_ms + 20 * d - w.at_ms) <= window_ms for w in generic) for x in got)
    assert r.sensors[sensor]["overruns"] == 0 and r.reports == {"unimplemented": [], "guest_errors": []}


def test_imu_gestures_on_the_rev1_lsm9ds1_accelerometer() -> None:
    """imu_gestures on the LSM9DS1's accelerometer at 50 Hz (0.122 mg/LSB: c * 15616 / 15625), its FIFO polled
    on an RTC1 tick (no interrupt line on Rev1)."""
    accel_only_gestures(REV1, "imu", "LSM9DS1", 0.122, 15616, 15625)
