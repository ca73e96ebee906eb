"""The common interface of recorded-data sources: timestamped samples, channels, an end-of-data rule.

A source is a finite recording laid on virtual time. Sample ``i`` takes effect at ``times()[i]``
seconds and stays in effect until the next one. What happens after the last sample is the
source's explicit ``end_rule``: ``stop`` (no more samples), ``loop`` (start again, the loop
period is ``duration_s``), ``hold`` (the last sample forever) or ``error`` (reading past the
end is an :class:`EndOfDataError`). All look-ups are vectorized with numpy so peripherals can
fetch a whole DMA half-buffer in one call.

numpy is not imported when a recording is opened: the readers parse and validate with the
standard library (``struct``, ``array``, ``csv``) and hand over a :class:`Deferred` array whose
values numpy makes at the first read, so that attaching a recording adds no numpy import to
start-up (benchmarks/startup.py, ``+rec`` rows); firmware that never starts the sensor never
loads numpy.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.errors import BadInputError

if TYPE_CHECKING:
    import numpy as np

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
    dtype_name: str  # numpy's name of the samples' type ("int16", "float64", "uint8"), known without numpy
    sample_shape: tuple[int, ...]  # (channels,) for signals, (height, width, planes) for frames
    full_scale: float  # value that means 1.0 (e.g. 32768 for PCM16); 1.0 for physical units
    end_rule: str
    start_s: float

    @property
    def dtype(self) -> np.dtype:
        """The samples' numpy dtype (imports numpy: for readers of the data, not for start-up)."""
        import numpy as np

        return np.dtype(self.dtype_name)

    # --- what subclasses implement ---------------------------------------------------------
    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _read(self, index: np.ndarray) -> np.ndarray:
        """Samples at valid indices ``0 <= index < len(self)``: shape ``(len(index), *sample_shape)``."""

    def times(self) -> np.ndarray:
        """Timestamps of all samples in seconds (float64)."""
        import numpy as np

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
            "dtype": self.dtype_name,
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
        import numpy as np

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
        import numpy as np

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
        import numpy as np

        idx = self.index_at(t)
        out = np.zeros((idx.size, *self.sample_shape), dtype=self.dtype)
        ok = idx >= 0
        if ok.any():
            out[ok] = self._read(idx[ok])
        return out

    def samples_between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps and values of the samples that arrive in ``[t0, t1)``, loops unrolled."""
        import numpy as np

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
        import numpy as np

        return values.astype(np.float64) / self.full_scale

    def channel_index(self, name: str) -> int:
        try:
            return self.channels.index(name)
        except ValueError:
            raise bad(self.path, f"has no channel {name!r} (channels: {', '.join(self.channels)})") from None


class Deferred:
    """An array whose shape and dtype a reader knows from the file, and whose values numpy makes at the first read.

    ``make`` must return exactly the array the reader's numpy path would have built (same dtype, shape and values):
    the readers validate everything before they hand one over, so making it cannot fail on the user's data.
    """

    def __init__(self, shape: tuple[int, ...], dtype_name: str, make: Callable[[], np.ndarray]) -> None:
        self.shape = shape
        self.dtype_name = dtype_name
        self.make = make


class ArraySource(Source):
    """A source held in memory as a numpy array (made at the first read when given a :class:`Deferred`)."""

    def __init__(
        self,
        path: str | Path,
        data: np.ndarray | Deferred,
        *,
        channels: tuple[str, ...],
        units: tuple[str, ...] | None = None,
        rate_hz: float | None = None,
        times: np.ndarray | Sequence[float] | None = None,
        start_s: float = 0.0,
        full_scale: float = 1.0,
        end_rule: str = "stop",
    ) -> None:
        self.path = str(path)
        if isinstance(data, Deferred):
            if len(data.shape) != 2:
                raise ValueError("a deferred array of samples must be 2-D (samples, channels)")
            self._data: np.ndarray | None = None
            self._make: Callable[[], np.ndarray] | None = data.make
            shape, self.dtype_name = data.shape, data.dtype_name
        else:
            if data.ndim == 1:
                data = data[:, None]
            self._data, self._make = data, None
            shape, self.dtype_name = data.shape, str(data.dtype)
        self._rows = int(shape[0])
        self.channels = tuple(channels)
        self.units = tuple(units) if units is not None else ("",) * len(self.channels)
        if len(self.channels) != shape[1] or len(self.units) != shape[1]:
            raise ValueError("channel names and units must match the data's columns")
        self.sample_shape = (int(shape[1]),)
        self.full_scale = full_scale
        self.end_rule = check_end_rule(path, end_rule)
        if (rate_hz is None) == (times is None):
            raise ValueError("give exactly one of rate_hz and times")
        if rate_hz is not None and not (math.isfinite(rate_hz) and rate_hz > 0):
            raise bad(path, f"sample rate {rate_hz!r} Hz is not a positive number")
        self.rate_hz = float(rate_hz) if rate_hz is not None else None
        # timestamps: a list of floats from a reader (numpy's array made at the first times()), or an array
        self._times_seq: list[float] | None = None
        self._times: np.ndarray | None = None
        if isinstance(times, list | tuple):
            self._times_seq = [float(t) for t in times]
        elif times is not None:
            import numpy as np

            self._times = np.asarray(times, dtype=np.float64)
        if self._times_seq is not None:
            self.start_s = self._times_seq[0] if self._times_seq else float(start_s)
        else:
            self.start_s = float(self._times[0]) if self._times is not None and len(self._times) else float(start_s)

    @property
    def data(self) -> np.ndarray:
        """The samples, shape (n, channels): made by numpy here at the first use when the reader deferred them."""
        if self._data is None:
            assert self._make is not None
            self._data, self._make = self._make(), None
        return self._data

    def __len__(self) -> int:
        return self._rows

    @property
    def duration_s(self) -> float:
        if self.rate_hz is None and self._times_seq is not None and self._times is None:
            t = self._times_seq  # the same float arithmetic as Source.duration_s, without numpy
            if not t:
                return self.start_s
            return t[-1] + ((t[-1] - t[-2]) if len(t) > 1 else 0.0)
        return super().duration_s

    def times(self) -> np.ndarray:
        if self._times is None and self._times_seq is not None:
            import numpy as np

            self._times = np.asarray(self._times_seq, dtype=np.float64)
        if self._times is not None:
            return self._times
        return super().times()

    def _read(self, index: np.ndarray) -> np.ndarray:
        return self.data[index]


def regular_rate(times: Sequence[float] | np.ndarray, rel_tol: float = 1e-6) -> float | None:
    """The constant rate of a time column, or None when its steps are not all equal.

    Plain float arithmetic (no numpy): the steps, their median (the middle one, or the mean of the two middle
    ones) and the largest deviation from it, each the same IEEE operation numpy's diff/median/abs/max perform.
    """
    t = times.tolist() if hasattr(times, "tolist") else list(times)
    if len(t) < 2:
        return None
    dt = [b - a for a, b in zip(t, t[1:], strict=False)]
    s = sorted(dt)
    mid = len(s) // 2
    med = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
    if med <= 0 or max(abs(d - med) for d in dt) > rel_tol * med + 1e-12:
        return None
    rate = 1.0 / med
    return float(f"{rate:.9g}")
