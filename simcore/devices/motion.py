"""One sensor inside a chip (accelerometer, gyroscope, magnetometer) fed from columns of a recording.

A :class:`Stream` picks its columns of the recording by name (``ax ay az``, ``gx gy gz``,
``mx my mz`` by default; the ``*_channels`` options rename them), converts their units to
the chip's (mg, mdps, mgauss), and lays the recording on virtual time at the sensor's output
data rate: sample ``k`` is complete at ``(k + 1) / ODR``. The recording's rate must equal the
ODR the firmware programs unless the user allowed resampling (``resample = true``): the same
rule, and the same message, as the sensor block.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from simcore.devices.base import FS_PER_SECOND, RateClock
from simcore.errors import BadInputError
from simcore.peripherals.sensors.common import SourceBinding

if TYPE_CHECKING:
    import numpy as np

    from simcore.devices.base import BusDevice
    from simcore.sources import Source

# unit of the recording -> factor to the chip's unit
UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "accel": ("mg", {"g": 1000.0, "mg": 1.0, "m/s2": 1000.0 / 9.80665, "m/s^2": 1000.0 / 9.80665}),
    "gyro": ("mdps", {"dps": 1000.0, "deg/s": 1000.0, "mdps": 1.0, "rad/s": 1000.0 * 180.0 / math.pi}),
    "mag": ("mgauss", {"gauss": 1000.0, "G": 1000.0, "mgauss": 1.0, "mG": 1.0, "uT": 10.0, "mT": 10000.0}),
}
DEFAULT_CHANNELS = {"accel": ("ax", "ay", "az"), "gyro": ("gx", "gy", "gz"), "mag": ("mx", "my", "mz")}
WHAT = {"accel": "acceleration", "gyro": "angular rate", "mag": "magnetic field"}


class Stream:
    """Columns of the recording for one sensor of ``device``, at that sensor's output data rate."""

    def __init__(self, device: BusDevice, kind: str, required: bool = False) -> None:
        self.device = device
        self.kind = kind
        self.required = required
        self.names = [str(c).lower() for c in device.option(f"{kind}_channels", DEFAULT_CHANNELS[kind])]
        self.columns: list[int] | None = None  # None: the recording has none of them (zeros, counted)
        self.factor = 1.0
        self.binding: SourceBinding | None = None
        self.clock: RateClock | None = None
        self.first = 0
        self.cap: int | None = None  # the last sample it will take (a single conversion)

    def bind(self, source: Source) -> None:
        """Find the columns and check their units; BadInputError (one paragraph) if they cannot serve."""
        lower = [c.lower() for c in source.channels]
        found = [n for n in self.names if n in lower]
        where = self.device.where()
        if not found:
            if self.required:
                raise BadInputError(
                    f"{where}: the recording {source.path} has no {WHAT[self.kind]} channels "
                    f"{', '.join(self.names)} (it has {', '.join(source.channels)}); name them with option "
                    f"{self.kind}_channels")
            self.columns = None
            return
        if len(found) != len(self.names):
            missing = [n for n in self.names if n not in lower]
            raise BadInputError(f"{where}: the recording {source.path} has {', '.join(found)} but not "
                                f"{', '.join(missing)}; a {WHAT[self.kind]} needs all three axes")
        self.columns = [lower.index(n) for n in self.names]
        unit_name, table = UNITS[self.kind]
        units = {source.units[c] for c in self.columns}
        unit = units.pop() if len(units) == 1 else None
        if unit is None or unit not in table:
            have = ", ".join(sorted({source.units[c] or "no unit" for c in self.columns}))
            raise BadInputError(f"{where}: the recording {source.path} gives {WHAT[self.kind]} in {have}; use one "
                                f"of {', '.join(table)} (simcore converts to {unit_name})")
        self.factor = table[unit]
        self.binding = SourceBinding(where, source, self.device.option("resample", False), "virtual")

    @property
    def present(self) -> bool:
        return self.columns is not None

    def start(self, rate_hz: float, now_fs: int) -> None:
        """The sensor starts sampling at ``rate_hz`` (refused if the recording's rate differs, unless resampling)."""
        if self.binding is not None:
            self.binding.prepare(rate_hz, f"{self.kind} output data rate")
        else:
            self.device.stats_.count(f"{self.kind}_not_in_recording")
        self.clock = RateClock(rate_hz)
        self.first = self.clock.count_by(now_fs)
        self.cap = None
        if self.binding is not None:
            self.binding.start(self.first)

    def stop(self) -> None:
        self.clock = None

    @property
    def running(self) -> bool:
        return self.clock is not None

    def limit(self) -> int | None:
        """The first sample index with no data (recording end rule ``stop``)."""
        return self.binding.limit() if self.binding is not None else None

    def latest(self, now_fs: int) -> int:
        """Index of the newest complete sample, or ``first - 1`` before the first one."""
        if self.clock is None:
            return -1
        k = self.clock.count_by(now_fs) - 1
        limit = self.limit()
        if limit is not None:
            k = min(k, limit - 1)
        return min(k, self.cap) if self.cap is not None else k

    def latest_at(self, times_fs: list[int]) -> list[int]:
        """``latest`` at each of ``times_fs`` (non-negative), in one loop: a FIFO drain's samples."""
        clock = self.clock
        if clock is None:
            return [-1] * len(times_fs)
        num, den = clock._num, FS_PER_SECOND * clock._den  # RateClock.count_by's arithmetic
        ks = [-(-(t + 1) * num // den) - 2 for t in times_fs]
        limit = self.limit()
        top = min(limit - 1, self.cap) if limit is not None and self.cap is not None else (
            limit - 1 if limit is not None else self.cap)
        return ks if top is None else [min(k, top) for k in ks]

    def readable_end(self) -> int | None:
        """The first sample index ``values`` must not reach past what a read needs: the end of an ``error``
        recording (asking for it raises); None when any index reads (zeros, a loop, the last sample held, a stop's
        fewer rows)."""
        binding = self.binding
        if binding is None or self.columns is None or binding.source.end_rule != "error":
            return None
        return binding.k_base + len(binding.source)

    def values(self, k0: int, k1: int) -> np.ndarray:
        """Samples ``k0 .. k1-1`` in the chip's unit, shape (n, 3) (zeros where the recording has none)."""
        import numpy as np

        n = max(0, k1 - k0)
        if self.binding is None or self.columns is None:
            return np.zeros((n, len(self.names)))
        data = self.binding.fetch(k0, k1).astype(np.float64)
        out = np.zeros((n, len(self.names)))
        out[: len(data)] = data[:, self.columns] * self.factor
        return out


class OutputLatch:
    """The output registers of one sensor (X_L, X_H, Y_L, Y_H, Z_L, Z_H): the newest sample, data ready, overrun.

    With block data update an axis keeps the sample latched by reading its low byte until its high
    byte is read (ST "BDU": output registers not updated until MSB and LSB were read). Data ready
    is a sample newer than the last whose high byte was read (ST: reading the high part of an axis
    clears it); overrun is a sample that arrived while the one before was still unread.
    """

    def __init__(self, stream: Stream, counts: Callable[[np.ndarray], np.ndarray],
                 scale_key: Callable[[], int] = lambda: 0) -> None:
        self.stream = stream
        self.counts = counts
        self.scale_key = scale_key
        self.last_read = -1
        self.latched: list[int | None] = [None, None, None]
        self._cache: tuple[tuple[int, int], np.ndarray] | None = None
        self._memo: dict[tuple[int, int], np.ndarray] = {}  # values computed ahead by ``prefetch``
        # consecutive samples computed ahead by ``prefetch``: (scale, first k, rows, rows as little-endian int16 bytes)
        self._block: tuple[int, int, np.ndarray, bytes] | None = None

    AHEAD = 256  # samples a prefetch computes from the first it needs (a FIFO drain's next ones come from them)

    def restart(self) -> None:
        self.last_read = self.stream.first - 1
        self.latched = [None, None, None]
        self._cache = None
        self._memo = {}
        self._block = None

    def _in_block(self, k: int, scale: int) -> np.ndarray | None:
        """Sample ``k``'s values from the prefetched block, None when it does not hold them."""
        blk = self._block
        if blk is None or blk[0] != scale or not 0 <= k - blk[1] < len(blk[2]):
            return None
        return blk[2][k - blk[1]]

    def block_bytes(self, k0: int, n: int) -> bytes | None:
        """Samples ``k0 .. k0+n-1`` as the chip's output registers lay them out (X, Y, Z little-endian 16-bit, 6 bytes
        a sample) from the prefetched block, or None when it does not hold all of them at the current scale."""
        blk = self._block
        if blk is None or blk[0] != self.scale_key() or k0 < blk[1] or k0 + n > blk[1] + len(blk[2]) or n < 0:
            return None
        return blk[3][6 * (k0 - blk[1]):6 * (k0 + n - blk[1])]

    def prefetch(self, ks: list[int]) -> None:
        """Compute the values of samples ``ks`` in one numpy step (a FIFO drain's: consecutive samples), for the
        ``sample`` / ``preview_sample`` calls that follow. Only the values come from here: what those calls count
        is unchanged. ``counts`` works element by element (scaling, rounding, saturation) and ``Stream.values``
        of a range is its samples' rows, so each row equals the one-sample computation."""
        if not self.stream.running:
            return
        scale = self.scale_key()
        blk = self._block
        live = [k for k in ks if k >= 0]
        if not live:
            return
        lo, hi = min(live), max(live)
        if blk is not None and blk[0] == scale and blk[1] <= lo and hi < blk[1] + len(blk[2]):
            return
        if hi - lo < 4 * len(live) + 8:  # consecutive samples: those and the next ones, in one step
            end = lo + self.AHEAD
            safe = self.stream.readable_end()
            if safe is not None:
                end = min(end, safe)
            rows = self.counts(self.stream.values(lo, max(end, hi + 1)))
            self._block = (scale, lo, rows, (rows & 0xFFFF).astype("<u2").tobytes())
            return
        old = self._memo
        if all((k, scale) in old for k in ks):
            return
        memo = {(k, scale): old[k, scale] for k in ks if (k, scale) in old}
        want = sorted({k for k in ks if k >= 0 and (k, scale) not in memo})
        if want:  # scattered samples (a decimated FIFO): one step each
            memo.update({(k, scale): self.counts(self.stream.values(k, k + 1)[0]) for k in want})
        self._memo = memo

    def sample(self, k: int) -> np.ndarray:
        """The register values (signed 16-bit) of sample ``k``; zeros before the first sample."""
        import numpy as np

        key = (k, self.scale_key())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if k < 0 or not self.stream.running:
            values = np.zeros(3, dtype=np.int64)
        else:
            values = self._in_block(k, key[1])
            if values is None:
                memo = self._memo.get(key) if self._memo else None
                values = memo if memo is not None else self.counts(self.stream.values(k, k + 1)[0])
            self.stream.device.stats_.count(f"{self.stream.kind}_samples_read")
        self._cache = (key, values)
        return values

    def sample_run(self, k0: int, n: int) -> None:
        """``sample(k)`` for ``k = k0 .. k0+n-1`` in turn (a FIFO drain's consecutive samples), for what those calls
        count and cache, in O(1): each counts one sample read but the first when the cache holds it already."""
        if n <= 0:
            return
        if k0 < 0 or not self.stream.running:
            for k in range(k0, k0 + n):
                self.sample(k)
            return
        hit = self._cache is not None and self._cache[0] == (k0, self.scale_key())
        if hit and n == 1:
            return
        self._cache = None
        self.sample(k0 + n - 1)  # counts one, caches the last
        if n - hit > 1:
            self.stream.device.stats_.count(f"{self.stream.kind}_samples_read", n - hit - 1)

    def preview_sample(self, k: int) -> np.ndarray:
        """``sample(k)`` for a preview (BusDevice.preview_reads): the same values, kept for the read that will use
        them, but nothing counted and the latch's cache untouched (the reads count as they would without it)."""
        key = (k, self.scale_key())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if k < 0 or not self.stream.running:
            import numpy as np

            return np.zeros(3, dtype=np.int64)
        values = self._in_block(k, key[1])
        if values is None:
            values = self._memo.get(key)
        if values is None:
            values = self._memo[key] = self.counts(self.stream.values(k, k + 1)[0])
        return values

    def byte(self, i: int, now_fs: int, bdu: bool) -> int:
        """Output byte ``i`` (0 = X_L .. 5 = Z_H) now."""
        axis, high = i // 2, bool(i % 2)
        k = self.stream.latest(now_fs)
        if bdu:
            if self.latched[axis] is None:
                self.latched[axis] = k
            k = self.latched[axis]  # type: ignore[assignment]
            if high:
                self.latched[axis] = None
        if high:
            self.last_read = max(self.last_read, k)
        value = int(self.sample(k)[axis])
        return (value >> 8) & 0xFF if high else value & 0xFF

    def data_ready(self, now_fs: int) -> bool:
        return self.stream.running and self.stream.latest(now_fs) > self.last_read

    def overrun(self, now_fs: int) -> bool:
        return self.stream.running and self.stream.latest(now_fs) - self.last_read >= 2

    def next_sample_at(self, now_fs: int) -> int | None:
        """When the next sample completes (None when stopped or at the end of a ``stop`` recording)."""
        if self.stream.clock is None:
            return None
        k = self.stream.latest(now_fs) + 1
        limit = self.stream.limit()
        if limit is not None and k >= limit or self.stream.cap is not None and k > self.stream.cap:
            return None
        return self.stream.clock.arrival(k)
