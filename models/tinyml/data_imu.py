"""Gesture data: synthesized accelerometer and gyroscope recordings of a wand-like device.

A person holds the device and draws a shape in a vertical plane: ``wing`` (a W), ``ring`` (a
circle), ``slope`` (down to the right, then along), ``shake`` (fast side to side), or nothing
(``idle``: tremor, slow drift and slow reaching movements). The tip's path is smoothed and timed with a minimum-jerk
profile; the device turns about the wrist as the tip moves, so gravity's projection changes
with the path. The accelerometer measures the specific force (tip acceleration plus 1 g up)
and the gyroscope the angular rate, both in the device's frame, with per-person biases and
white noise. Persons differ in speed, size, sloppiness, how they hold the device and sensor
biases; the test set's persons are not in the training set.

The firmware reads int16 counts at +-4 g (8192 / g) and +-500 dps (65.536 / dps) from the IMU
FIFO at 50 Hz; its model input is accel counts >> 7 (64 / g) and gyro counts >> 8, saturated
to int8 (see firmware/apps/imu_gestures). Recordings are written with values that are exact
multiples of one count, so the IMU's conversion is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ODR = 50
WINDOW = 64  # frames in the model's input (1.28 s)
GESTURES = ("wing", "ring", "slope", "shake")
LABELS = (*GESTURES, "idle")
IDLE = 4
ACCEL_COUNTS_PER_G = 8192
GYRO_COUNTS_PER_DPS = 65.536
WRIST_M = 0.3  # tip-to-wrist distance: the device turns by (tip displacement / WRIST_M) rad


@dataclass(frozen=True)
class Person:
    speed: float  # gesture duration factor
    size: float  # gesture size factor
    sloppy: float  # control-point jitter
    yaw: float  # how the device is held (rad)
    pitch: float
    roll: float
    accel_bias: tuple[float, float, float]  # g
    gyro_bias: tuple[float, float, float]  # dps
    tremor: float  # g of hand tremor


def random_person(rng: np.random.Generator) -> Person:
    return Person(speed=float(rng.uniform(0.7, 1.4)), size=float(rng.uniform(0.65, 1.5)),
                  sloppy=float(rng.uniform(0.03, 0.16)), yaw=float(rng.normal(0, 0.45)),
                  pitch=float(rng.normal(0, 0.4)), roll=float(rng.normal(0, 0.4)),
                  accel_bias=tuple(rng.normal(0, 0.02, 3)), gyro_bias=tuple(rng.normal(0, 1.5, 3)),
                  tremor=float(rng.uniform(0.002, 0.012)))


def _rot(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cz, sz, cy, sy, cx, sx = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return rz @ ry @ rx


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    k = np.arange(-int(3 * sigma) - 1, int(3 * sigma) + 2)
    w = np.exp(-0.5 * (k / sigma) ** 2)
    w /= w.sum()
    pad = np.pad(x, ((len(k) // 2, len(k) // 2), (0, 0)), mode="edge")
    return np.stack([np.convolve(pad[:, j], w, mode="valid") for j in range(x.shape[1])], axis=1)


def _path(rng: np.random.Generator, kind: str, p: Person) -> tuple[np.ndarray, float]:
    """(tip path (n, 2) in metres in the drawing plane sampled evenly in time at 1 kHz, duration s)."""
    if kind == "shake":
        cycles = int(rng.integers(3, 6))
        freq = rng.uniform(3.0, 5.0) / p.speed ** 0.5
        dur = cycles / freq
        t = np.arange(int(dur * 1000)) / 1000
        amp = rng.uniform(0.03, 0.07) * p.size
        env = np.sin(np.pi * t / dur) ** 0.5
        ang = rng.normal(0, 0.3)
        s = amp * env * np.sin(2 * np.pi * freq * t)
        return np.stack([s * np.cos(ang), s * np.sin(ang)], axis=1), dur
    if kind == "ring":
        a0 = rng.uniform(-0.6, 0.6) + np.pi / 2
        th = a0 + np.linspace(0, 2 * np.pi * rng.uniform(0.95, 1.1), 60)
        pts = np.stack([np.cos(th), np.sin(th) * rng.uniform(0.8, 1.2)], axis=1) * 0.5
        dur = rng.uniform(0.8, 1.1)
    elif kind == "fidget":  # not a gesture: the hand moves somewhere else and back, slowly
        pts = rng.uniform(0, 1, (int(rng.integers(2, 4)), 2))
        pts = np.concatenate([pts, pts[:1]])
        dur = rng.uniform(1.0, 2.0)
    else:
        ctrl = {"wing": [(0, 1), (0.25, 0), (0.5, 0.6), (0.75, 0), (1, 1)],
                "slope": [(0, 1), (0.45, 0), (1, 0)]}[kind]
        pts = np.array(ctrl, dtype=float)
        dur = rng.uniform(0.8, 1.1) if kind == "wing" else rng.uniform(0.6, 0.85)
    pts = pts + rng.normal(0, p.sloppy, pts.shape)
    # resample the polyline by arc length, round its corners, time it with a minimum-jerk profile
    seg = np.r_[0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    fine = np.linspace(0, seg[-1], 400)
    curve = np.stack([np.interp(fine, seg, pts[:, j]) for j in range(2)], axis=1)
    curve = _smooth(curve, 8)
    dur *= p.speed
    n = int(dur * 1000)
    tau = np.arange(n) / max(n - 1, 1)
    s = 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5
    arc = np.r_[0, np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))]
    pos = np.stack([np.interp(s * arc[-1], arc, curve[:, j]) for j in range(2)], axis=1)
    size = rng.uniform(0.2, 0.35) * p.size
    pos = (pos - pos.mean(axis=0)) * size
    return pos, dur


def render(rng: np.random.Generator, p: Person, events: list[tuple[str, float]],
           seconds: float) -> tuple[np.ndarray, list[float]]:
    """(IMU recording (frames, 6): ax ay az in g, gx gy gz in dps at ODR on the count grid,
    duration of each event in s). ``events`` are (gesture, start s); the rest is idle motion."""
    fs = 250
    n = int(seconds * fs)
    tip = np.zeros((n, 2))
    durs = []
    for kind, t0 in events:
        pos, dur = _path(rng, kind, p)
        durs.append(dur)
        pos = pos[::1000 // fs]
        i0 = int(t0 * fs)
        m = min(len(pos), n - i0)
        if m > 0:  # the hand ends where the gesture ended, then drifts back within 0.8 s
            tip[i0:i0 + m] += pos[:m] - pos[0]
            back = np.linspace(1, 0, min(n - i0 - m, int(0.8 * fs)))
            tip[i0 + m:i0 + m + len(back)] += (pos[m - 1] - pos[0]) * back[:, None]
    drift = _smooth(rng.normal(0, 1, (int(seconds * 5) + 2, 2)), 2)
    t = np.arange(n) / fs
    drift = np.stack([np.interp(t * 5, np.arange(len(drift)), drift[:, j]) for j in range(2)], axis=1)
    tip = tip + 0.02 * p.size * drift
    acc = np.gradient(np.gradient(tip, 1 / fs, axis=0), 1 / fs, axis=0) / 9.80665  # g
    # the drawing plane: x to the right, z up; the device turns about the wrist as the tip moves:
    # sensor frame = world turned by yaw (about z), then pitch (about y), then the holding roll
    yaw = p.yaw + tip[:, 0] / WRIST_M
    pitch = p.pitch - tip[:, 1] / WRIST_M
    world = np.stack([acc[:, 0], np.zeros(n), acc[:, 1] + 1.0], axis=1)
    cz, sz, cy, sy = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    o, z = np.ones(n), np.zeros(n)
    rz = np.stack([np.stack([cz, -sz, z], 1), np.stack([sz, cz, z], 1), np.stack([z, z, o], 1)], 1)
    ry = np.stack([np.stack([cy, z, sy], 1), np.stack([z, o, z], 1), np.stack([-sy, z, cy], 1)], 1)
    r = rz @ ry @ _rot(0, 0, p.roll)
    out = np.zeros((n, 6))
    out[:, :3] = np.einsum("nji,nj->ni", r, world)
    dyaw, dpitch = np.gradient(yaw, 1 / fs), np.gradient(pitch, 1 / fs)
    out[:, 3] = np.degrees(-dpitch * np.sin(p.roll))
    out[:, 4] = np.degrees(dpitch * np.cos(p.roll))
    out[:, 5] = np.degrees(dyaw)
    frames = out[::fs // ODR if fs % ODR == 0 else 1].copy()
    k = len(frames)
    frames[:, :3] += np.array(p.accel_bias) + rng.normal(0, 0.008, (k, 3)) + p.tremor * rng.normal(0, 1, (k, 3))
    frames[:, 3:] += np.array(p.gyro_bias) + rng.normal(0, 0.8, (k, 3))
    return quantize(frames), durs


def quantize(frames: np.ndarray) -> np.ndarray:
    """Values on the IMU's count grid (+-4 g, +-500 dps): what the firmware reads back exactly."""
    a = np.clip(np.rint(frames[:, :3] * ACCEL_COUNTS_PER_G), -32768, 32767) / ACCEL_COUNTS_PER_G
    g = np.clip(np.rint(frames[:, 3:] * GYRO_COUNTS_PER_DPS), -32768, 32767) / GYRO_COUNTS_PER_DPS
    return np.concatenate([a, g], axis=1)


def counts(frames: np.ndarray) -> np.ndarray:
    """int16 counts (n, 6) of a recording made by :func:`render` (exact: it is on the grid)."""
    a = np.rint(frames[:, :3] * ACCEL_COUNTS_PER_G)
    g = np.rint(frames[:, 3:] * GYRO_COUNTS_PER_DPS)
    return np.clip(np.concatenate([a, g], axis=1), -32768, 32767).astype(np.int16)


def features(c: np.ndarray) -> np.ndarray:
    """The model's int8 input rows from int16 counts (n, 6): accel >> 7, gyro >> 8, saturated."""
    c = np.asarray(c, dtype=np.int32)
    f = np.concatenate([c[:, :3] >> 7, c[:, 3:] >> 8], axis=1)
    return np.clip(f, -128, 127).astype(np.int8)


def make_split(rng: np.random.Generator, persons: list[Person], per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """(int8 windows (N, WINDOW, 1, 6), labels): gestures placed so that at least 85% of each lies
    in the window, and idle windows (some with up to 15% of a gesture at an edge)."""
    xs, ys = [], []
    t0 = 1.0
    secs = WINDOW / ODR + 2.0
    for label in range(len(LABELS)):
        for _ in range(per_class):
            p = persons[rng.integers(len(persons))]
            kind = GESTURES[label] if label != IDLE else GESTURES[rng.integers(4)]
            edge = label == IDLE and rng.random() < 0.3
            fidget = label == IDLE and not edge and rng.random() < 0.4
            events = [(kind, t0)] if label != IDLE or edge else [("fidget", float(rng.uniform(0.3, 1.5)))] \
                if fidget else []
            rec, durs = render(rng, p, events, secs)
            f = features(counts(rec))
            k0 = int(t0 * ODR)
            if label != IDLE:
                d = int(durs[0] * ODR)
                lo, hi = k0 + d - int(0.15 * d) - WINDOW, k0 + int(0.15 * d)  # keep >= 85% inside
            elif edge:  # the window ends within the first 15% or starts within the last 15%
                d = int(durs[0] * ODR)
                lo, hi = (k0 - WINDOW, k0 - WINDOW + int(0.15 * d)) if rng.random() < 0.5 else \
                    (k0 + d - int(0.15 * d), k0 + d)
            else:
                lo, hi = 0, len(f) - WINDOW
            top = len(f) - WINDOW
            lo = min(max(lo, 0), top)
            start = int(rng.integers(lo, min(max(hi, lo + 1), top + 1)))
            xs.append(f[start:start + WINDOW])
            ys.append(label)
    order = rng.permutation(len(xs))
    return np.stack(xs)[order][:, :, None, :], np.array(ys, dtype=np.int8)[order]
