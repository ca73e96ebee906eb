"""Python twins of the streaming apps: the whole firmware pipeline, from the recording to the detections.

Each twin reads the same recording the emulated sensor replays, computes the firmware's
integer features with the documented arithmetic (numpy), runs the int8 model in the TFLM host
interpreter and applies the firmware's decision rule. The tests compare the firmware's
printed inferences and detections with these, so the only shared parts are the recording,
the model file and the constants each app documents (generated into its header).

Needs numpy and tflite-micro only.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.tinyml import common, kws_frontend, model_file


@dataclass(frozen=True)
class Inference:
    """One run of the model on the stream: which input it saw and its int8 output."""

    index: int
    first_ms: int  # audio (or sensor) time covered by the input window
    last_ms: int
    scores: tuple[int, ...]


@dataclass(frozen=True)
class Detection:
    """A decision the app prints: label at a sensor time, from inference ``inference``."""

    label: str
    at_ms: int
    inference: int
    score: int


def read_wav(path: str | Path) -> np.ndarray:
    """Mono PCM16 samples of a WAV file."""
    with wave.open(str(path)) as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path}: want mono PCM16")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


# --- keyword spotting: kws_mic -----------------------------------------------------------------
def kws_inferences(samples: np.ndarray, model: str | Path | bytes | None = None) -> list[Inference]:
    """kws_mic's inferences on a 16 kHz recording: after every complete DMA half of fe.HALF
    samples, once 49 frames exist, the model runs on the newest 49 frames."""
    fe = kws_frontend()
    feats = fe.stream_features(samples)
    run = common.Tflm(model if model is not None else model_file("kws"))
    windows, inputs = [], []
    for h in range(len(samples) // fe.HALF):
        avail = (h + 1) * fe.HALF
        nframes = (avail - fe.WIN) // fe.HOP + 1
        if nframes < fe.NFRAMES:
            continue
        first = (nframes - fe.NFRAMES) * fe.HOP
        last = (nframes - 1) * fe.HOP + fe.WIN
        windows.append((first * 1000 // fe.RATE, last * 1000 // fe.RATE))
        inputs.append(feats[nframes - fe.NFRAMES:nframes])
    if not inputs:
        return []
    scores = run(np.stack(inputs)[..., None])
    return [Inference(i, a, b, tuple(int(v) for v in s)) for i, ((a, b), s) in enumerate(zip(windows, scores))]


def detections(infs: list[Inference], labels: tuple[str, ...], n_events: int, avg: int, threshold: int,
               refractory: int) -> list[Detection]:
    """firmware/common/detector.h: the mean of (score + 128) over the last ``avg`` inferences; the
    top class (lowest index on ties) is the candidate when it is an event (index < ``n_events``)
    and its mean reaches ``threshold``; it is detected unless it is the class detected last and
    held as the candidate ever since, or fewer than ``refractory`` inferences passed since the
    last detection. Detections are stamped with the inference's ``last_ms``."""
    out: list[Detection] = []
    held, last = -1, None
    for i, inf in enumerate(infs):
        if i + 1 < avg:
            continue
        acc = np.sum([np.array(infs[j].scores, np.int64) + 128 for j in range(i + 1 - avg, i + 1)], axis=0)
        top = int(np.argmax(acc))
        if top >= n_events or acc[top] < avg * threshold:
            held = -1
        elif top != held and (last is None or inf.index - last >= refractory):
            out.append(Detection(labels[top], inf.last_ms, inf.index, int(acc[top]) // avg))
            held, last = top, inf.index
    return out


def kws_detections(infs: list[Inference]) -> list[Detection]:
    """kws_mic's detections (its constants come from frontend.py)."""
    fe = kws_frontend()
    return detections(infs, fe.LABELS, fe.N_KEYWORDS, fe.DETECT_AVG, fe.DETECT_THRESHOLD, fe.DETECT_REFRACTORY)


def kws_pipeline(wav: str | Path, model: str | Path | bytes | None = None) -> tuple[list[Inference], list[Detection]]:
    infs = kws_inferences(read_wav(wav), model)
    return infs, kws_detections(infs)


# --- gestures: imu_gestures --------------------------------------------------------------------
def read_imu_csv(path: str | Path) -> np.ndarray:
    """Frames (n, 6) of an IMU CSV recording (t, ax, ay, az in g, gx, gy, gz in dps)."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, 1:7]


def imu_counts(frames: np.ndarray) -> np.ndarray:
    """int16 counts the IMU delivers at imu_gestures' ranges (+-4 g, +-500 dps)."""
    from models.tinyml import data_imu

    return data_imu.counts(frames)


def gesture_inferences(counts: np.ndarray, model: str | Path | bytes | None = None) -> list[Inference]:
    """imu_gestures' inferences: after every HOP frames, once WINDOW frames exist, the model runs
    on the newest WINDOW frames (accel >> ACCEL_SHIFT, gyro >> GYRO_SHIFT, saturated to int8)."""
    from models.tinyml.apps import GESTURES as G

    c = np.asarray(counts, dtype=np.int32)
    f = np.clip(np.concatenate([c[:, :3] >> G["ACCEL_SHIFT"], c[:, 3:] >> G["GYRO_SHIFT"]], axis=1), -128, 127)
    f = f.astype(np.int8)
    ends = [n for n in range(G["HOP"], len(f) + 1, G["HOP"]) if n >= G["WINDOW"]]
    if not ends:
        return []
    run = common.Tflm(model if model is not None else model_file("gestures"))
    scores = run(np.stack([f[n - G["WINDOW"]:n] for n in ends])[:, :, None, :])
    ms = 1000 // G["ODR"]
    return [Inference(i, (n - G["WINDOW"]) * ms, n * ms, tuple(int(v) for v in s))
            for i, (n, s) in enumerate(zip(ends, scores))]


def gesture_detections(infs: list[Inference]) -> list[Detection]:
    from models.tinyml.apps import GESTURE_EVENTS, GESTURE_LABELS
    from models.tinyml.apps import GESTURES as G

    return detections(infs, GESTURE_LABELS, GESTURE_EVENTS, G["DETECT_AVG"], G["DETECT_THRESHOLD"],
                      G["DETECT_REFRACTORY"])


def gesture_pipeline(csv: str | Path, model: str | Path | bytes | None = None
                     ) -> tuple[list[Inference], list[Detection]]:
    infs = gesture_inferences(imu_counts(read_imu_csv(csv)), model)
    return infs, gesture_detections(infs)


# --- machine monitoring: machine_monitor ---------------------------------------------------------
@dataclass(frozen=True)
class Anomaly:
    """machine_monitor's report: an anomaly from ``start_ms`` (first window of the run above the
    threshold) or, with ``end``, the machine normal again from ``start_ms``."""

    kind: str  # "anomaly" or "normal"
    at_ms: int
    window: int


def machine_features(codes: np.ndarray) -> np.ndarray:
    """int8 band features (n, NBANDS) of every complete HALF-sample window of ADC codes:
    (code - BIAS) Hann-windowed (Q15), fixfft_q15, power of bins 1..256 summed per band,
    fixlog_int8(E + 1, LOG_MULT, LOG_OFFSET)."""
    from models.tinyml.apps import MACHINE as M
    from models.tinyml.apps import machine_band_edges

    fe = kws_frontend()
    n = len(codes) // M["HALF"]
    x = np.asarray(codes[:n * M["HALF"]], dtype=np.int64).reshape(n, M["HALF"]) - M["BIAS"]
    hann = np.array(fe.hann_q15(M["HALF"]), dtype=np.int64)
    w = (x * hann + (1 << 14)) >> 15
    re, im = fe.fft_q15(w[:, np.array(fe.bitrev())], np.zeros_like(w))
    power = re[:, :257] * re[:, :257] + im[:, :257] * im[:, :257]
    edges = machine_band_edges()
    e = np.stack([power[:, a:b].sum(axis=1) for a, b in zip(edges, edges[1:])], axis=1)
    return fe.log_int8(e + 1, M["LOG_MULT"], M["LOG_OFFSET"])


def machine_inputs(feats: np.ndarray) -> np.ndarray:
    """Autoencoder inputs (n - CONTEXT + 1, CONTEXT * NBANDS): the newest CONTEXT windows, oldest first."""
    from models.tinyml.apps import MACHINE as M

    k = M["CONTEXT"]
    return np.stack([feats[i - k + 1:i + 1].reshape(-1) for i in range(k - 1, len(feats))]) if len(feats) >= k \
        else np.zeros((0, k * M["NBANDS"]), np.int8)


def machine_scores(x: np.ndarray, y: np.ndarray, out_zero_point: int, out_mult: int) -> np.ndarray:
    """Integer anomaly scores: sum over the inputs of (((y - zo) * M + 2^15) >> 16 - x)^2."""
    from models.tinyml.apps import MACHINE as M

    s = M["SCALE_SHIFT"]
    yq = ((y.astype(np.int64) - out_zero_point) * out_mult + (1 << (s - 1))) >> s
    d = yq - x.astype(np.int64)
    return (d * d).sum(axis=1)


def machine_reports(scores: np.ndarray, threshold: int) -> list[Anomaly]:
    """RUN windows in a row above the threshold start an anomaly (reported at the first of them);
    RUN windows in a row at or below it end it. Window i of the scores ends CONTEXT - 1 + i
    windows after the start, at (CONTEXT + i) * HALF / RATE s."""
    from models.tinyml.apps import MACHINE as M

    out: list[Anomaly] = []
    state, run = False, 0
    for i, sc in enumerate(scores):
        above = bool(sc > threshold)
        run = run + 1 if above != state else 0
        if run >= M["RUN"]:
            state = above
            first = i - M["RUN"] + 1
            out.append(Anomaly("anomaly" if above else "normal", (M["CONTEXT"] + first) * M["HALF"] * 1000 // M["RATE"],
                               first))
            run = 0
    return out


def machine_pipeline(codes: np.ndarray, model: str | Path | None = None) -> tuple[np.ndarray, list[Anomaly]]:
    """machine_monitor's scores (one per window from the CONTEXT-th on) and its reports."""
    from models.tinyml.apps import machine_calibration

    path = Path(model) if model is not None else model_file("machine")
    cal = machine_calibration()
    x = machine_inputs(machine_features(codes))
    scores = machine_scores(x, common.Tflm(path)(x), cal["OUT_ZERO_POINT"], cal["OUT_MULT"])
    return scores, machine_reports(scores, cal["THRESHOLD"])


# --- person detection: camera_person -------------------------------------------------------------
def person_inferences(frames: np.ndarray, model: str | Path | bytes | None = None) -> list[Inference]:
    """camera_person's inference on every frame (uint8 (n, 96, 96)): input pixel - 128."""
    from models.tinyml.apps import CAMERA as C

    x = (np.asarray(frames, np.int16) - 128).astype(np.int8)[..., None]
    scores = common.Tflm(model if model is not None else model_file("person"))(x)
    return [Inference(k, k * 1000 // C["FPS"], k * 1000 // C["FPS"], tuple(int(v) for v in s))
            for k, s in enumerate(scores)]


def person_events(infs: list[Inference]) -> list[Detection]:
    """A frame shows a person when its person score + 128 reaches PERSON_THRESHOLD; every change
    of that decision (from "nobody" before the first frame) is an event."""
    from models.tinyml.apps import CAMERA as C
    from models.tinyml.apps import CAMERA_LABELS

    out, state = [], 0
    for inf in infs:
        person = int(inf.scores[1] + 128 >= C["PERSON_THRESHOLD"])
        if person != state:
            out.append(Detection(CAMERA_LABELS[person], inf.first_ms, inf.index, inf.scores[1] + 128))
            state = person
    return out


def person_pipeline(npy: str | Path, model: str | Path | bytes | None = None
                    ) -> tuple[list[Inference], list[Detection]]:
    infs = person_inferences(np.load(npy), model)
    return infs, person_events(infs)
