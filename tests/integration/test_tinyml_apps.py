"""The streaming TinyML apps on the cortex-m4 board's sensor blocks, fed the committed demo
recordings, against their Python twins (models/tinyml/twins.py: the same recording through
numpy front ends, the TFLM host interpreter and the same decision rules).

For each app: the firmware's inputs (audio windows, IMU frames, ADC windows, camera frames) and
int8 outputs equal the twin's byte for byte, its detections equal the twin's, and they match
what happens in the recording. Virtual time stamps are checked against the sensor time they
report (never later than one period of work after it); cycle counts are not hard-coded: the
firmware's DWT figures are compared with simcore's ITM spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pytest

from models.tinyml import METRICS, TRAINED, apps, common, kws_frontend, twins
from models.tinyml.demos import match_events
from simcore.api import RunResult, prepare, run, run_machine
from tests.conftest import elf

pytestmark = pytest.mark.slow  # whole models and demo recordings on the emulated part

DEMOS = common.load_metrics(METRICS)["models"]
CYCLE_TOLERANCE = 64  # ITM stores sit a few instructions outside the firmware's two CYCCNT reads

INF_RE = re.compile(r'^inference (\d+): (?:audio |frames \d+\.\.\d+ \()(\d+)\.\.(\d+) ms.*top class (\d+) "(\w+)" '
                    r"score (-?\d+)$")
SCORES_RE = re.compile(r"^  scores:((?: -?\d+)+)$")


@dataclass
class AppRun:
    result: RunResult
    inferences: list[twins.Inference] = field(default_factory=list)
    itm: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def run_app(app: str, sensors: dict, mhz: float | None = None, cmdline: str | None = None) -> AppRun:
    path = elf("cortex-m4", app)
    opts = {"mhz": mhz} if mhz else {}
    if cmdline:
        opts["cmdline"] = cmdline
    m = prepare(path, "cortex-m4", sensors=sensors, **opts)
    itm: dict[int, list[tuple[int, int]]] = {3: [], 4: [], 5: [], 6: []}
    m.system.itm.on_write(lambda port, value, cycle: itm[port].append((value, cycle)) if port in itm else None)
    return AppRun(run_machine(m), itm=itm)


def parse_inferences(text: str) -> list[twins.Inference]:
    out: list[twins.Inference] = []
    pending = None
    for line in text.splitlines():
        if mm := INF_RE.match(line):
            pending = (int(mm[1]), int(mm[2]), int(mm[3]))
        elif (mm := SCORES_RE.match(line)) and pending is not None:
            out.append(twins.Inference(*pending, tuple(int(s) for s in mm[1].split())))
            pending = None
    return out


def itm_spans(itm: dict[int, list[tuple[int, int]]], begin: int = 3, end: int = 4) -> list[int]:
    return [c1 - c0 for (_, c0), (_, c1) in zip(itm[begin], itm[end], strict=True)]


def check_report_times(text: str, pattern: str, slack_ms: int) -> int:
    """Every 'at X ms ..., reported at Y ms' line: X <= Y <= X + slack."""
    n = 0
    for at, rep in re.findall(pattern, text, re.M):
        assert int(at) <= int(rep) <= int(at) + slack_ms, (at, rep)
        n += 1
    return n


# --- kws_mic --------------------------------------------------------------------------------------
KWS_WAV = TRAINED / "kws_demo.wav"
DET_RE = re.compile(r'^detected "(\w+)" at (\d+) ms of audio \(inference (\d+), mean score (\d+)\), '
                    r"reported at (\d+) ms$")


@pytest.fixture(scope="module")
def kws_run() -> AppRun:
    r = run_app("kws_mic", {"mic": str(KWS_WAV)}, cmdline="dump")
    r.inferences = parse_inferences(r.result.text)
    return r


@pytest.fixture(scope="module")
def kws_twin() -> tuple[list[twins.Inference], list[twins.Detection]]:
    return twins.kws_pipeline(KWS_WAV)


def test_kws_runs_in_real_time(kws_run: AppRun) -> None:
    res = kws_run.result
    assert res.exit_status == 0, res.text[-2000:]
    mic = res.sensors["mic"]
    n = len(twins.read_wav(KWS_WAV))
    assert mic["samples_delivered"] == n and not mic.get("overruns")
    assert ", 0 halves lost, 0 overruns" in res.text


def test_kws_features_match_the_front_end_model(kws_run: AppRun) -> None:
    fe = kws_frontend()
    want = fe.stream_features(twins.read_wav(KWS_WAV))
    dumps = [bytes.fromhex(line.split("hex ", 1)[1]) for line in kws_run.result.text.splitlines()
             if line.startswith("  features hex ")]
    assert len(dumps) == len(kws_run.inferences) > 0
    for inf, got in zip(kws_run.inferences, dumps):
        last_frame = (inf.last_ms * 16 - fe.WIN) // fe.HOP
        assert got == want[last_frame + 1 - fe.NFRAMES:last_frame + 1].tobytes(), inf.index


def test_kws_scores_equal_tflm(kws_run: AppRun, kws_twin) -> None:
    infs, _ = kws_twin
    assert kws_run.inferences == infs  # windows and every int8 score


def test_kws_detections_equal_the_twin_and_the_words_spoken(kws_run: AppRun, kws_twin) -> None:
    _, dets = kws_twin
    got = [twins.Detection(m[1], int(m[2]), int(m[3]), int(m[4]))
           for m in map(DET_RE.match, kws_run.result.text.splitlines()) if m]
    assert got == dets
    truth = DEMOS["kws"]["demo"]["truth"]
    res = match_events(truth, got)
    assert res["missed"] == [] and res["false"] == []
    assert [d.label for d in got] == [t["word"] for t in truth if t["detect"]]
    # reported within one 250 ms half of work after the audio it is about
    assert check_report_times(kws_run.result.text, r"^detected .* at (\d+) ms of audio .*reported at (\d+) ms$",
                              250) == len(got)


def test_kws_cycle_figures_are_simcores(kws_run: AppRun) -> None:
    costs = [(int(a), int(b)) for a, b in
             re.findall(r"^  front end: (\d+) cycles for \d+ frames .*; inference: (\d+) cycles", kws_run.result.text,
                        re.M)]
    inf = itm_spans(kws_run.itm)
    fe = {v: c1 - c0 for (v, c0), (_, c1) in zip(kws_run.itm[5], kws_run.itm[6], strict=True)}
    assert len(inf) == len(costs) == len(kws_run.inferences)
    first_half = len(fe) - len(costs)  # halves before the first inference only feed the front end
    for i, (fe_cycles, inf_cycles) in enumerate(costs):
        assert 0 <= inf[i] - inf_cycles <= CYCLE_TOLERANCE
        assert 0 <= fe[first_half + i] - fe_cycles <= CYCLE_TOLERANCE


def test_kws_too_slow_a_clock_loses_audio_and_says_so() -> None:
    res = run(elf("cortex-m4", "kws_mic"), "cortex-m4", mhz=4, sensors={"mic": str(KWS_WAV)})
    assert res.exit_status == 1, res.text[-2000:]
    assert res.sensors["mic"].get("overruns")
    assert re.search(r"overrun: halves (\d+)\.\.(\d+) lost", res.text)


# --- imu_gestures -------------------------------------------------------------------------------
GEST_CSV = TRAINED / "gestures_demo.csv"
GEST_RE = re.compile(r'^gesture "(\w+)" at (\d+) ms \(inference (\d+), mean score (\d+)\), reported at (\d+) ms$')


@pytest.fixture(scope="module")
def gest_run() -> AppRun:
    r = run_app("imu_gestures", {"imu": str(GEST_CSV)})
    r.inferences = parse_inferences(r.result.text)
    return r


def test_gestures_equal_the_twin_and_the_recording(gest_run: AppRun) -> None:
    res = gest_run.result
    assert res.exit_status == 0, res.text[-2000:]
    infs, dets = twins.gesture_pipeline(GEST_CSV)
    assert gest_run.inferences == infs and len(infs) > 100
    got = [twins.Detection(m[1], int(m[2]), int(m[3]), int(m[4])) for m in map(GEST_RE.match, res.text.splitlines())
           if m]
    assert got == dets
    truth = DEMOS["gestures"]["demo"]["truth"]
    assert [d.label for d in got] == [t["gesture"] for t in truth if t["detect"]]
    hop_ms = 1000 * apps.GESTURES["HOP"] // apps.GESTURES["ODR"]
    assert check_report_times(res.text, r"^gesture .* at (\d+) ms .*reported at (\d+) ms$", hop_ms) == len(got)
    assert all(0 <= s - c <= CYCLE_TOLERANCE for s, c in
               zip(itm_spans(gest_run.itm), map(int, re.findall(r"^  inference: (\d+) cycles", res.text, re.M)),
                   strict=True))


# --- machine_monitor ------------------------------------------------------------------------------
MACHINE_NPY = TRAINED / "machine_demo.npy"
WIN_RE = re.compile(r"^window (\d+) \((\d+)\.\.(\d+) ms\): score (\d+), (\d+) cycles$")
REPORT_RE = re.compile(r"^(ANOMALY|normal again) at (\d+) ms \(window (\d+)\), reported at (\d+) ms$")


@pytest.fixture(scope="module")
def machine_run() -> AppRun:
    return run_app("machine_monitor", {"adc": (str(MACHINE_NPY), {"rate_hz": apps.MACHINE["RATE"]})}, cmdline="dump")


def test_machine_scores_and_reports_equal_the_twin(machine_run: AppRun) -> None:
    res = machine_run.result
    assert res.exit_status == 0, res.text[-2000:]
    codes = np.load(MACHINE_NPY)
    scores, reports = twins.machine_pipeline(codes)
    wins = [m for m in map(WIN_RE.match, res.text.splitlines()) if m]
    assert [int(m[4]) for m in wins] == scores.tolist()
    got = [twins.Anomaly("anomaly" if m[1] == "ANOMALY" else "normal", int(m[2]), int(m[3]))
           for m in map(REPORT_RE.match, res.text.splitlines()) if m]
    assert got == reports
    window_ms = 1000 * apps.MACHINE["HALF"] // apps.MACHINE["RATE"]
    assert check_report_times(res.text, r"^(?:ANOMALY|normal again) at (\d+) ms \(window \d+\), reported at (\d+) ms$",
                              window_ms * (apps.MACHINE["RUN"] + 1)) == len(got)
    assert all(0 <= s - int(m[5]) <= CYCLE_TOLERANCE for s, m in zip(itm_spans(machine_run.itm), wins, strict=True))


def test_machine_outputs_equal_tflm(machine_run: AppRun) -> None:
    """With "dump" the firmware prints the autoencoder's input and output bytes of every window."""
    rows = [line.split()[1:] for line in machine_run.result.text.splitlines() if line.startswith("  io ")]
    x = np.stack([np.frombuffer(bytes.fromhex(a), np.int8) for a, _ in rows])
    y = np.stack([np.frombuffer(bytes.fromhex(b), np.int8) for _, b in rows])
    assert np.array_equal(x, twins.machine_inputs(twins.machine_features(np.load(MACHINE_NPY))))
    assert np.array_equal(y, common.Tflm(TRAINED / "machine.tflite")(x))


def test_machine_reports_each_fault_and_no_false_alarm() -> None:
    demo = DEMOS["machine"]["demo"]
    faults = [t for t in demo["truth"] if t["condition"] != "healthy"]
    anomalies = [r for r in demo["twin"] if r["kind"] == "anomaly"]
    assert len(anomalies) == len(faults)
    for a, f in zip(anomalies, faults):  # each anomaly starts within its fault (window length + context late)
        assert f["start_ms"] <= a["at_ms"] <= f["end_ms"], (a, f)


# --- camera_person --------------------------------------------------------------------------------
PERSON_NPY = TRAINED / "person_demo.npy"
FRAME_RE = re.compile(r"^frame (\d+) at (\d+) ms: scores (-?\d+) (-?\d+): (\w+), (\d+) cycles$")
EVENT_RE = re.compile(r"^(PERSON|nobody) at (\d+) ms \(frame (\d+)\), reported at (\d+) ms$")


def test_camera_frames_equal_the_twin() -> None:
    fps = apps.CAMERA["FPS"]
    r = run_app("camera_person", {"camera": (str(PERSON_NPY), {"fps": fps})})
    res = r.result
    assert res.exit_status == 0, res.text[-2000:]
    infs, events = twins.person_pipeline(PERSON_NPY)
    frames = [m for m in map(FRAME_RE.match, res.text.splitlines()) if m]
    got = [twins.Inference(int(m[1]), int(m[2]), int(m[2]), (int(m[3]), int(m[4]))) for m in frames]
    assert got == infs and len(got) == len(np.load(PERSON_NPY))
    got_events = [(m[1].lower(), int(m[2]), int(m[3])) for m in map(EVENT_RE.match, res.text.splitlines()) if m]
    assert got_events == [(e.label if e.label == "nobody" else "person", e.at_ms, e.inference) for e in events]
    truth = DEMOS["person"]["demo"]["truth"]
    right = sum(int((m[5] == "person") == bool(t)) for m, t in zip(frames, truth))
    assert right == DEMOS["person"]["demo"]["frames_right"] and right >= 0.85 * len(truth)
    # a frame completes 1 / fps after its start and is classified within the next frame period
    assert check_report_times(res.text, r"^(?:PERSON|nobody) at (\d+) ms .*reported at (\d+) ms$",
                              2 * 1000 // fps) == len(got_events)
    assert all(0 <= s - int(m[6]) <= CYCLE_TOLERANCE for s, m in zip(itm_spans(r.itm), frames, strict=True))


# --- sine: no app, model_runner --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sine", "sine_float"])
def test_sine_on_the_target_equals_tflm(name: str) -> None:
    from simcore.ml import compare_with_tflm

    c = compare_with_tflm(TRAINED / f"{name}.tflite", TRAINED / f"{name}.inputs.npy", board="cortex-m4")
    assert c.match, c.summary()
