"""The common interface of recorded-data sources: timestamped samples, channels, an end-of-data rule.

A source is a finite recording laid on virtual time. Sample ``i`` takes effect at ``times()[i]``
seconds and stays in effect until the next one. What happens after the last sample is the
source's explicit ``end_rule``: ``stop`` (no more samples), ``loop`` (start again, the loop
period is ``duration_s``), ``hold`` (the last sample forever) or ``error`` (reading past the
end is an :class:`EndOfDataError`). All look-ups are vectorized with numpy so peripherals can
fetch a whole DMA half-buffer in one call.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from simcore.errors import BadInputError

END_RULES = ("stop", "loop", "hold", "error")


class EndOfDataError(BadInputError):
    """A source whose end rule is ``error`` was read past its last sample."""


def bad(path: str | Path, problem: str) -> BadInputError:
    """One-paragraph BadInputError naming the data file and what is wrong with it."""
    return BadInputError(f"sensor data file {path}: {problem}")


def check_end_rule(path: str | Path, rule: str) -> str:
    if rule not in END_RULES:
        raise bad(path, f"unknown end-of-data rule {rule!r}; use one of {', '.join(END_RULES)}")
    return rule


class Source(ABC):
    """A finite stream of samples on virtual time; subclasses provide ``_read`` and ``times``."""

    path: str
    channels: tuple[str, ...]
    units: tuple[str, ...]
    rate_hz: float | None  # None: samples carry their own timestamps (irregular)
    dtype: np.dtype
    sample_shape: tuple[int, ...]  # (channels,) for signals, (height, width, planes) for frames
    full_scale: float  # value that means 1.0 (e.g. 32768 for PCM16); 1.0 for physical units
    end_rule: str
    start_s: float

    # --- what subclasses implement ---------------------------------------------------------
    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _read(self, index: np.ndarray) -> np.ndarray:
        """Samples at valid indices ``0 <= index < len(self)``: shape ``(len(index), *sample_shape)``."""

    def times(self) -> np.ndarray:
        """Timestamps of all samples in seconds (float64)."""
        if self.rate_hz is None:
            raise NotImplementedError
        return self.start_s + np.arange(len(self), dtype=np.float64) / self.rate_hz

    # --- derived ---------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        """End of the recording in virtual seconds: the loop period, and where ``hold`` starts."""
        n = len(self)
        if n == 0:
            return self.start_s
        if self.rate_hz is not None:
            return self.start_s + n / self.rate_hz
        t = self.times()
        last_dt = float(t[-1] - t[-2]) if n > 1 else 0.0
        return float(t[-1]) + last_dt

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "channels": list(self.channels),
            "units": list(self.units),
            "rate_hz": self.rate_hz,
            "samples": len(self),
            "duration_s": self.duration_s,
            "dtype": str(self.dtype),
            "end_rule": self.end_rule,
        }

    def _end_error(self, what: str) -> EndOfDataError:
        return EndOfDataError(
            f"sensor data file {self.path}: {what}, past the end of the recording "
            f"({len(self)} samples, {self.duration_s:.6g} s) and its end rule is 'error'; "
            "use end rule 'stop', 'loop' or 'hold', or a longer recording"
        )

    def take(self, k0: int, k1: int) -> np.ndarray:
        """Samples ``k0 .. k1-1`` of the endless stream the end rule defines (by index, not time).

        ``stop`` returns only the samples that exist (possibly fewer rows); ``loop`` wraps;
        ``hold`` repeats the last sample; ``error`` raises when ``k1`` passes the end.
        """
        n = len(self)
        k0, k1 = max(0, k0), max(k0, k1)
        if n == 0:
            if self.end_rule == "error" and k1 > k0:
                raise self._end_error(f"sample {k0} was requested")
            return np.zeros((0, *self.sample_shape), dtype=self.dtype)
        idx = np.arange(k0, k1, dtype=np.int64)
        if self.end_rule == "loop":
            idx %= n
        elif self.end_rule == "hold":
            np.minimum(idx, n - 1, out=idx)
        elif self.end_rule == "stop":
            idx = idx[idx < n]
        elif k1 > n:
            raise self._end_error(f"sample {n} was requested")
        return self._read(idx)

    def index_at(self, t: float | np.ndarray) -> np.ndarray:
        """Index of the sample in effect at each time ``t`` (seconds), -1 where there is none.

        Before the first sample there is none; after the end the end rule decides.
        """
        ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
        n = len(self)
        if n == 0:
            return np.full(ts.shape, -1, dtype=np.int64)
        end = self.duration_s
        local = ts.copy()
        past = ts >= end
        if self.end_rule == "loop":
            period = end - self.start_s
            if period > 0:
                local = np.where(past, self.start_s + np.mod(ts - self.start_s, period), ts)
        elif self.end_rule == "error" and past.any():
            raise self._end_error(f"time {float(ts[past][0]):.6g} s was requested")
        if self.rate_hz is not None:
            # a tiny tolerance so that t == k/rate computed in floating point lands on sample k
            idx = np.floor((local - self.start_s) * self.rate_hz + 1e-9).astype(np.int64)
            idx[local < self.start_s] = -1
        else:
            idx = np.searchsorted(self.times(), local, side="right").astype(np.int64) - 1
        if self.end_rule == "hold" or self.end_rule == "loop":
            idx = np.where(idx >= n, n - 1, idx)
        elif self.end_rule == "stop":
            idx = np.where(past, -1, idx)
        return np.minimum(idx, n - 1)

    def sample_at(self, t: float | np.ndarray) -> np.ndarray:
        """Values in effect at each time (zero-order hold); zeros where no sample is in effect."""
        idx = self.index_at(t)
        out = np.zeros((idx.size, *self.sample_shape), dtype=self.dtype)
        ok = idx >= 0
        if ok.any():
            out[ok] = self._read(idx[ok])
        return out

    def samples_between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps and values of the samples that arrive in ``[t0, t1)``, loops unrolled."""
        n = len(self)
        if n == 0 or t1 <= t0:
            return np.zeros(0), np.zeros((0, *self.sample_shape), dtype=self.dtype)
        times = self.times()
        end = self.duration_s
        if self.end_rule == "error" and t1 > end:
            raise self._end_error(f"samples up to {t1:.6g} s were requested")
        if self.end_rule != "loop":
            i0, i1 = np.searchsorted(times, [t0, t1], side="left")
            idx = np.arange(i0, i1, dtype=np.int64)
            return times[idx], self._read(idx)
        period = end - self.start_s
        first = max(0, math.floor((t0 - self.start_s) / period)) if period > 0 else 0
        last = math.floor((t1 - self.start_s) / period) if period > 0 else 0
        all_t: list[np.ndarray] = []
        all_i: list[np.ndarray] = []
        for rep in range(first, last + 1):
            shifted = times + rep * period
            i0, i1 = np.searchsorted(shifted, [t0, t1], side="left")
            all_t.append(shifted[i0:i1])
            all_i.append(np.arange(i0, i1, dtype=np.int64))
        idx = np.concatenate(all_i)
        return np.concatenate(all_t), self._read(idx)

    def as_float(self, values: np.ndarray) -> np.ndarray:
        """Values scaled so that full scale is 1.0 (PCM) or left in physical units."""
        return values.astype(np.float64) / self.full_scale

    def channel_index(self, name: str) -> int:
        try:
            return self.channels.index(name)
        except ValueError:
            raise bad(self.path, f"has no channel {name!r} (channels: {', '.join(self.channels)})") from None


class ArraySource(Source):
    """A source held in memory as a numpy array: every format except image sequences."""

    def __init__(
        self,
        path: str | Path,
        data: np.ndarray,
        *,
        channels: tuple[str, ...],
        units: tuple[str, ...] | None = None,
        rate_hz: float | None = None,
        times: np.ndarray | None = None,
        start_s: float = 0.0,
        full_scale: float = 1.0,
        end_rule: str = "stop",
    ) -> None:
        self.path = str(path)
        if data.ndim == 1:
            data = data[:, None]
        self.data = data
        self.channels = tuple(channels)
        self.units = tuple(units) if units is not None else ("",) * len(self.channels)
        if len(self.channels) != data.shape[1] or len(self.units) != data.shape[1]:
            raise ValueError("channel names and units must match the data's columns")
        self.dtype = data.dtype
        self.sample_shape = (data.shape[1],)
        self.full_scale = full_scale
        self.end_rule = check_end_rule(path, end_rule)
        if (rate_hz is None) == (times is None):
            raise ValueError("give exactly one of rate_hz and times")
        if rate_hz is not None and not (math.isfinite(rate_hz) and rate_hz > 0):
            raise bad(path, f"sample rate {rate_hz!r} Hz is not a positive number")
        self.rate_hz = float(rate_hz) if rate_hz is not None else None
        self._times = None if times is None else np.asarray(times, dtype=np.float64)
        self.start_s = float(self._times[0]) if self._times is not None and len(self._times) else float(start_s)

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def times(self) -> np.ndarray:
        if self._times is not None:
            return self._times
        return super().times()

    def _read(self, index: np.ndarray) -> np.ndarray:
        return self.data[index]


def regular_rate(times: np.ndarray, rel_tol: float = 1e-6) -> float | None:
    """The constant rate of a time column, or None when its steps are not all equal."""
    if len(times) < 2:
        return None
    dt = np.diff(times)
    med = float(np.median(dt))
    if med <= 0 or np.max(np.abs(dt - med)) > rel_tol * med + 1e-12:
        return None
    rate = 1.0 / med
    return float(f"{rate:.9g}")
