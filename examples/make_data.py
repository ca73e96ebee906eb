"""Synthesize the example recordings in examples/data/ (numpy only, fixed seed, reproducible).

    python examples/make_data.py [--out examples/data]

Writes:
  audio_events_16k.wav  3 s, 16 kHz mono PCM16: background noise with tone bursts and claps
  imu_walk_100hz.csv    10 s at 100 Hz: walking, one step every ~0.55 s (ax..az in g, gx..gz in dps)
  camera_square/        10 frames 96x96 gray PNG (a bright square moving right); .npy if no Pillow
  adc_trace_1k.csv      3 s at 1 kHz: a slow voltage with excursions above 2.5 V and below 0.8 V
  accel_2s.resd         2 s of 3-axis acceleration at 100 Hz (Renode RESD, constant-frequency block)
  truth.json            the event times each file was built with (ground truth for tests)
"""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path

import numpy as np

SEED = 20261125


def write_wav_pcm16(path: Path, samples: np.ndarray, rate: int) -> None:
    """Minimal RIFF/WAVE writer: mono PCM16."""
    data = samples.astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def audio(rng: np.random.Generator, out: Path) -> dict[str, object]:
    rate, seconds = 16000, 3.0
    n = int(rate * seconds)
    t = np.arange(n) / rate
    x = rng.normal(0, 0.01, n)  # background noise around -40 dBFS
    events: list[dict[str, object]] = []
    for start, freq in ((0.50, 1000.0), (1.70, 2500.0)):  # 150 ms tone bursts with 5 ms ramps
        idx = (t >= start) & (t < start + 0.15)
        ramp = np.clip(np.minimum(t[idx] - start, start + 0.15 - t[idx]) / 0.005, 0, 1)
        x[idx] += 0.6 * ramp * np.sin(2 * np.pi * freq * (t[idx] - start))
        events.append({"kind": "tone", "start_s": start, "duration_s": 0.15, "freq_hz": freq})
    for start in (1.10, 2.40):  # claps: noise bursts with a 20 ms exponential decay
        idx = (t >= start) & (t < start + 0.1)
        x[idx] += 0.8 * rng.normal(0, 1, idx.sum()) * np.exp(-(t[idx] - start) / 0.02)
        events.append({"kind": "clap", "start_s": start, "duration_s": 0.1})
    pcm = np.clip(np.rint(x * 32767), -32768, 32767).astype(np.int16)
    write_wav_pcm16(out / "audio_events_16k.wav", pcm, rate)
    return {"rate_hz": rate, "duration_s": seconds, "events": events}


def imu(rng: np.random.Generator, out: Path) -> dict[str, object]:
    rate, seconds = 100, 10.0
    n = int(rate * seconds)
    t = np.arange(n) / rate
    steps = np.round(np.arange(1.0, 9.6, 0.55) + rng.uniform(-0.03, 0.03, size=len(np.arange(1.0, 9.6, 0.55))), 2)
    ax = rng.normal(0, 0.02, n)
    ay = rng.normal(0, 0.02, n)
    az = 1.0 + rng.normal(0, 0.02, n)  # gravity on z while standing
    gx, gy, gz = (rng.normal(0, 1.5, n) for _ in range(3))
    for s in steps:  # heel strike: a sharp vertical peak, forward sway and a pitch rotation
        pulse = np.exp(-0.5 * ((t - s) / 0.04) ** 2)
        sway = np.exp(-0.5 * ((t - s - 0.1) / 0.08) ** 2)
        az += 0.9 * pulse
        ax += 0.3 * sway
        gy += 60.0 * sway
    rows = np.column_stack([t, ax, ay, az, gx, gy, gz])
    lines = ["t,ax,ay,az,gx,gy,gz"] + [
        f"{r[0]:.2f},{r[1]:.4f},{r[2]:.4f},{r[3]:.4f},{r[4]:.2f},{r[5]:.2f},{r[6]:.2f}" for r in rows
    ]
    (out / "imu_walk_100hz.csv").write_text("\n".join(lines) + "\n")
    return {"rate_hz": rate, "duration_s": seconds, "steps_s": steps.tolist()}


def camera(rng: np.random.Generator, out: Path) -> dict[str, object]:
    n, size, side = 10, 96, 16
    frames = np.zeros((n, size, size), dtype=np.uint8)
    positions = []
    for i in range(n):
        frame = rng.integers(10, 40, size=(size, size)).astype(np.uint8)  # dim noisy background
        x0, y0 = 4 + i * 8, 40
        frame[y0 : y0 + side, x0 : x0 + side] = 220
        frames[i] = frame
        positions.append({"frame": i, "x": x0, "y": y0, "size": side})
    folder = out / "camera_square"
    folder.mkdir(exist_ok=True)
    try:
        from PIL import Image
    except ImportError:
        np.save(out / "camera_square.npy", frames)
        return {"fps": 10, "format": "npy", "path": "camera_square.npy", "squares": positions}
    for i, frame in enumerate(frames):
        Image.fromarray(frame, "L").save(folder / f"frame_{i:03d}.png", optimize=True)
    return {"fps": 10, "format": "png", "path": "camera_square/", "squares": positions}


def adc(rng: np.random.Generator, out: Path) -> dict[str, object]:
    rate, seconds = 1000, 3.0
    n = int(rate * seconds)
    t = np.arange(n) / rate
    v = 1.6 + 0.3 * np.sin(2 * np.pi * 0.7 * t) + rng.normal(0, 0.005, n)
    for start, level in ((0.8, 1.8), (2.0, -1.4)):  # half-sine excursions of 300 ms
        idx = (t >= start) & (t < start + 0.3)
        v[idx] += level * np.sin(np.pi * (t[idx] - start) / 0.3)
    lines = ["t,voltage"] + [f"{a:.3f},{b:.4f}" for a, b in zip(t, v, strict=True)]
    (out / "adc_trace_1k.csv").write_text("\n".join(lines) + "\n")
    high, low = 2.5, 0.8
    above = np.flatnonzero((v[1:] > high) & (v[:-1] <= high)) + 1
    below = np.flatnonzero((v[1:] < low) & (v[:-1] >= low)) + 1
    return {
        "rate_hz": rate,
        "duration_s": seconds,
        "thresholds_v": {"high": high, "low": low},
        "crossings_above_s": (above / rate).tolist(),
        "crossings_below_s": (below / rate).tolist(),
    }


def resd(rng: np.random.Generator, out: Path) -> dict[str, object]:
    rate, seconds = 100, 2.0
    n = int(rate * seconds)
    t = np.arange(n) / rate
    tap = 1.2
    acc = np.column_stack(
        [
            rng.normal(0, 0.01, n),
            rng.normal(0, 0.01, n),
            1.0 + rng.normal(0, 0.01, n) + 1.5 * np.exp(-0.5 * ((t - tap) / 0.02) ** 2),
        ]
    )
    raw = np.rint(acc * 1e6).astype("<i4")  # micro-g
    period_ns = 10_000_000
    body = struct.pack("<QQ", 0, period_ns) + struct.pack("<Q", 0) + raw.tobytes()
    header = struct.pack("<BHHQ", 2, 0x0002, 0, len(body))  # constant frequency, acceleration, channel 0
    (out / "accel_2s.resd").write_bytes(b"RESD\x01\x00\x00\x00" + header + body)
    return {"rate_hz": rate, "duration_s": seconds, "sample_type": "acceleration", "channel": 0, "tap_s": tap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "data"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    truth = {
        "seed": SEED,
        "audio_events_16k.wav": audio(rng, out),
        "imu_walk_100hz.csv": imu(rng, out),
        "camera_square": camera(rng, out),
        "adc_trace_1k.csv": adc(rng, out),
        "accel_2s.resd": resd(rng, out),
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
