"""What GPIO models of every part share: input levels from a recording, time-stamped output changes.

:class:`PinRecording` reads a recording (CSV, NPY, RESD...: anything ``simcore.sources`` opens)
whose columns are pins and whose values are levels (0.5 or more is high), and gives the level
changes in time order, with the recording's end rule (``end=loop`` repeats it). The caller
names how a column maps to a pin (``P0.13``, ``PA0``, ``pin13``...). Models schedule one event
at a time at the next change, so a firmware polling its input register or sleeping until a
pin interrupt is fast-forwarded to the next edge.

:class:`OutputLog` keeps the changes of output pins with their virtual time in femtoseconds
(the first ``MAX_CHANGES``; the per-pin counts are always complete), for the run summary,
``--json`` and tests (``trace()``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.errors import BadInputError

MAX_CHANGES = 100_000  # output changes kept for the trace


class PinRecording:
    """Levels of some pins over virtual time, from a recording.

    ``pin_of(column)`` returns the pin a column drives, or None (then ``naming`` is the
    explanation given to the user). ``steps`` holds ``(seconds, pins that change, their levels)``
    for each sample where a level changes (and the first sample).
    """

    def __init__(self, label: str, path: str, options: dict[str, Any], pin_of: Callable[[str], int | None],
                 naming: str) -> None:
        import numpy as np

        from simcore.sources import open_source

        self.source = open_source(Path(path), **options)
        self.columns: dict[int, int] = {}  # pin -> column of the recording
        for col, name in enumerate(self.source.channels):
            pin = pin_of(name.strip())
            if pin is None:
                raise BadInputError(f"sensor {label}: the recording {path} has a column {name!r}; name the columns "
                                    f"of a GPIO recording after the pins ({naming}), one column per pin, levels 0/1")
            if pin in self.columns:
                raise BadInputError(f"sensor {label}: the recording {path} has two columns for pin {pin}")
            self.columns[pin] = col
        if len(self.source) == 0:
            raise BadInputError(f"sensor {label}: the recording {path} has no samples")
        if len(self.source.sample_shape) != 1:
            raise BadInputError(f"sensor {label}: the recording {path} holds frames, not pin levels")
        values = self.source.take(0, len(self.source)).astype(np.float64)
        times = self.source.times() if self.source.rate_hz is None else (
            self.source.start_s + np.arange(len(self.source)) / self.source.rate_hz)
        levels = values >= 0.5  # (samples, columns)
        self.period = self.source.duration_s - self.source.start_s
        self.loop = self.source.end_rule == "loop"
        self.steps: list[tuple[float, int, int]] = []
        for i in range(len(times)):
            mask = bits = 0
            for pin, col in self.columns.items():
                lvl = bool(levels[i, col])
                if i == 0 or lvl != bool(levels[i - 1, col]):
                    mask |= 1 << pin
                bits |= int(lvl) << pin
            if mask:
                self.steps.append((float(times[i]), mask, bits))
        self.pins = sum(1 << p for p in self.columns)

    @property
    def path(self) -> str:
        return str(self.source.path)

    def step(self, k: int) -> tuple[float, int, int] | None:
        """The ``k``-th level change (the end rule applied): (seconds, pins that change, their levels)."""
        n = len(self.steps)
        if k < n:
            return self.steps[k]
        if not self.loop or self.period <= 0:
            return None
        rep, j = divmod(k, n)
        t, mask, bits = self.steps[j]
        if j == 0:  # the first sample of a repetition sets every pin again
            mask = self.pins
        return t + rep * self.period, mask, bits


class RecordingPlayer:
    """Plays a :class:`PinRecording` into ``drive(pins, levels)`` on the host's virtual time, one event at a time."""

    def __init__(self, host: Any, recording: PinRecording, drive: Callable[[int, int], None], tag: str) -> None:
        self.host = host
        self.recording = recording
        self.drive = drive
        self.tag = tag
        self.k = 0  # changes applied so far
        self._event: Any = None
        self._next()

    def _next(self) -> None:
        step = self.recording.step(self.k)
        if step is None:
            self._event = None
            return
        at = max(round(step[0] * FS_PER_SECOND), self.host.now_fs())
        self._event = self.host.schedule_at_fs(at, self._apply, self.tag)

    def _apply(self) -> None:
        step = self.recording.step(self.k)
        self.k += 1
        if step is not None:
            self.drive(step[1], step[2])
        self._next()


class OutputLog:
    """Changes of output pins: ``(fs, pin, level)`` in time order, and rises/falls counted per pin label."""

    def __init__(self, label: Callable[[int], str]) -> None:
        self.label = label
        self.changes: list[tuple[int, int, int]] = []
        self.counts: dict[str, int] = {}

    def record(self, fs: int, pin: int, level: int) -> None:
        key = f"{self.label(pin)}_{'rises' if level else 'falls'}"
        self.counts[key] = self.counts.get(key, 0) + 1
        if len(self.changes) < MAX_CHANGES:
            self.changes.append((fs, pin, level))

    def trace(self, pin: int | str | None = None, pin_id: Callable[[int], str] = str) -> list[dict[str, Any]]:
        """The changes (all, or of one pin by number, label or id) with virtual time in seconds."""
        out = []
        for fs, p, level in self.changes:
            label = self.label(p)
            if pin is None or pin == p or pin == label or pin == pin_id(p):
                out.append({"time_s": fs / FS_PER_SECOND, "pin": pin_id(p), "name": label, "level": level})
        return out
