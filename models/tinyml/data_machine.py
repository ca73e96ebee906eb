"""Machine-monitoring data: synthesized vibration of motors, healthy and with three faults.

An accelerometer on a motor's housing, biased at mid-supply, read by a 12-bit ADC at 4 kHz.
A healthy motor vibrates at its shaft rate (1x) and a few harmonics, with broadband noise
that excites two structural resonances. Faults, each with a random severity:

- ``imbalance``: a much stronger 1x component;
- ``misalignment``: strong 2x and 3x components;
- ``bearing``: an outer-race defect: impulses at the ball-pass frequency (BPFO, 3-4.2 x the
  shaft rate) ringing a resonance at 0.9-1.7 kHz, amplitude-modulated at 1x (sidebands).

Machines differ in shaft rate (18-40 Hz), harmonic levels, noise, resonances, bearing
geometry and sensor sensitivity; the shaft rate wanders slowly. The test machines are not
among the training machines. Only healthy recordings of the training machines train the
autoencoder; its threshold is chosen on healthy validation data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 4000
BIAS = 2048  # ADC code of 0 g (mid-supply, 1.65 V of 3.3 V)
CONDITIONS = ("healthy", "imbalance", "misalignment", "bearing")


@dataclass(frozen=True)
class Machine:
    shaft_hz: float
    h1: float  # g at 1x, 2x, 3x
    h2: float
    h3: float
    noise: float  # g RMS broadband
    res: tuple[tuple[float, float, float], ...]  # (Hz, Q, gain) of the structural resonances
    bpfo: float  # ball-pass frequency, outer race, in multiples of the shaft rate
    bearing_res: float  # Hz rung by bearing impacts
    codes_per_g: float


def random_machine(rng: np.random.Generator) -> Machine:
    return Machine(shaft_hz=float(rng.uniform(18, 40)), h1=float(rng.uniform(0.03, 0.08)),
                   h2=float(rng.uniform(0.01, 0.035)), h3=float(rng.uniform(0.004, 0.012)),
                   noise=float(rng.uniform(0.01, 0.025)),
                   res=tuple((float(rng.uniform(300, 1800)), float(rng.uniform(8, 25)), float(rng.uniform(1, 3)))
                             for _ in range(2)),
                   bpfo=float(rng.uniform(3.0, 4.2)), bearing_res=float(rng.uniform(900, 1700)),
                   codes_per_g=float(rng.uniform(250, 370)))


def _resonate(x: np.ndarray, f: float, q: float) -> np.ndarray:
    """x through a second-order resonator at f Hz with quality q (frequency domain, unit peak gain)."""
    spec = np.fft.rfft(x)
    fr = np.fft.rfftfreq(len(x), 1 / RATE)
    h = 1 / (1 + 1j * q * (fr / f - f / np.maximum(fr, 1e-3)))
    return np.fft.irfft(spec * h, len(x))


def vibration(rng: np.random.Generator, m: Machine, condition: str, seconds: float,
              severity: float | None = None) -> np.ndarray:
    """Acceleration in g at RATE for ``seconds`` of the machine in ``condition``."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    wander = np.cumsum(rng.normal(0, 1, n)) / np.sqrt(RATE) * 0.002
    f = m.shaft_hz * (1 + 0.004 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 6.3)) + wander)
    phase = 2 * np.pi * np.cumsum(f) / RATE
    s = severity if severity is not None else float(rng.uniform(0.5, 1.0))
    h = [m.h1, m.h2, m.h3]
    if condition == "imbalance":
        h[0] *= 1 + 5 * s
    elif condition == "misalignment":
        h[1] *= 1 + 5 * s
        h[2] *= 1 + 4 * s
    x = sum(a * np.sin(k * phase + rng.uniform(0, 6.3)) for k, a in zip((1, 2, 3), h))
    noise = rng.normal(0, 1, n)
    x = x + m.noise * noise
    for fres, q, g in m.res:
        x = x + m.noise * g * _resonate(noise, fres, q) / np.sqrt(q)
    if condition == "bearing":
        ball = np.cumsum(f * m.bpfo) / RATE  # impacts at each whole number of ball passes
        hits = np.nonzero(np.diff(np.floor(ball)) > 0)[0] + 1
        imp = np.zeros(n)
        imp[hits] = (0.6 + 0.4 * np.sin(phase[hits])) * (1 + 0.2 * rng.normal(0, 1, len(hits)))
        ring = _resonate(imp, m.bearing_res, 30)
        x = x + ring / (np.abs(ring).max() + 1e-9) * (0.15 + 0.45 * s)
    return x


def to_codes(m: Machine, g: np.ndarray) -> np.ndarray:
    """12-bit ADC codes (uint16) of acceleration g through the machine's sensor."""
    return np.clip(np.rint(BIAS + g * m.codes_per_g), 0, 4095).astype(np.uint16)
