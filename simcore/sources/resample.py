"""Rate conversion, only when asked for: a recording at another rate than the peripheral is an error.

Method ``linear``: when the new rate is lower, first a low-pass FIR (windowed sinc, Blackman
window, 63 taps, cut-off at 0.45 x the new rate) against aliasing; then linear interpolation at
the new sample times ``start + k / rate``. Method ``hold``: zero-order hold (the sample in effect
at each new time), which is what a sensor polled at its own output data rate sees. Irregularly
timestamped sources are converted the same way, from their timestamps. Integer PCM stays
integer (rounded and clipped to its type).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simcore.sources.base import ArraySource, Source, bad

if TYPE_CHECKING:
    import numpy as np

TAPS = 63


def lowpass_taps(cutoff_ratio: float, taps: int = TAPS) -> np.ndarray:
    """Windowed-sinc low-pass, cut-off as a fraction of the input rate (0 < ratio < 0.5), unit DC gain."""
    import numpy as np

    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff_ratio * np.sinc(2 * cutoff_ratio * n) * np.blackman(taps)
    return h / h.sum()


def resample(source: Source, rate_hz: float, method: str = "linear") -> ArraySource:
    """A new in-memory source holding ``source`` at ``rate_hz`` (same channels, units, end rule)."""
    import numpy as np

    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise bad(source.path, f"cannot be resampled to {rate_hz!r} Hz")
    if method not in ("linear", "hold"):
        raise bad(source.path, f"unknown resampling method {method!r} (use 'linear' or 'hold')")
    if len(source.sample_shape) != 1:
        raise bad(source.path, "is a frame sequence; frames are not resampled (set the camera's frame rate)")
    n = len(source)
    data = source._read(np.arange(n, dtype=np.int64)).astype(np.float64)
    times = source.times()
    start = float(times[0]) if n else source.start_s
    span = source.duration_s - start
    m = max(1, int(math.floor(span * rate_hz + 1e-9)))
    new_t = start + np.arange(m, dtype=np.float64) / rate_hz
    if method == "hold":
        idx = np.clip(np.searchsorted(times, new_t + 1e-12, side="right") - 1, 0, n - 1)
        out = data[idx]
    else:
        in_rate = source.rate_hz if source.rate_hz is not None else (n - 1) / max(times[-1] - times[0], 1e-12)
        if rate_hz < in_rate and n > TAPS:
            h = lowpass_taps(0.45 * rate_hz / in_rate)
            pad = (TAPS - 1) // 2
            padded = np.concatenate([np.repeat(data[:1], pad, axis=0), data, np.repeat(data[-1:], pad, axis=0)])
            data = np.stack([np.convolve(padded[:, c], h, mode="valid") for c in range(data.shape[1])], axis=1)
        out = np.stack([np.interp(new_t, times, data[:, c]) for c in range(data.shape[1])], axis=1)
    if np.issubdtype(source.dtype, np.integer):
        info = np.iinfo(source.dtype)
        out = np.clip(np.rint(out), info.min, info.max).astype(source.dtype)
    return ArraySource(
        source.path,
        out,
        channels=source.channels,
        units=source.units,
        rate_hz=rate_hz,
        start_s=start,
        full_scale=source.full_scale,
        end_rule=source.end_rule,
    )
