"""CSV recordings (accelerometer, gyroscope, any numeric columns) with a time column or a stated rate.

The first row names the columns. A column ``t``, ``time`` or ``timestamp`` holds seconds
(``*_ms`` / ``*_us`` suffixes mean milli- and microseconds); without one a ``rate_hz`` must be
given. Accelerations ``ax, ay, az`` are in g and angular rates ``gx, gy, gz`` in degrees per
second. Every cell must be a finite number: the first bad one is reported by row and column.
Parsed and checked with the standard library (``csv``, ``array``); numpy makes the samples' array
at their first read.
"""

from __future__ import annotations

import csv
import itertools
import math
import operator
from array import array
from pathlib import Path
from typing import TYPE_CHECKING

from simcore.sources.base import ArraySource, Deferred, bad, regular_rate

if TYPE_CHECKING:
    import numpy as np

TIME_COLUMNS = {
    "t": 1.0,
    "time": 1.0,
    "timestamp": 1.0,
    "t_s": 1.0,
    "time_s": 1.0,
    "timestamp_s": 1.0,
    "t_ms": 1e-3,
    "time_ms": 1e-3,
    "timestamp_ms": 1e-3,
    "t_us": 1e-6,
    "time_us": 1e-6,
    "timestamp_us": 1e-6,
}
UNITS = {
    "voltage": "V",
    "volts": "V",
    "vin": "V",
    "ax": "g",
    "ay": "g",
    "az": "g",
    "gx": "dps",
    "gy": "dps",
    "gz": "dps",
    "mx": "uT",
    "my": "uT",
    "mz": "uT",
}


def read_csv(
    path: str | Path,
    *,
    rate_hz: float | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
    end_rule: str = "stop",
) -> ArraySource:
    """Parse a CSV file; ``columns`` lists the channels wanted (all non-time columns by default)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise bad(path, f"cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise bad(path, f"is not a readable CSV text file ({exc})") from None
    rows = [r for r in rows if (r and r[0].strip()) or any(cell.strip() for cell in r)]  # blank lines dropped
    if not rows:
        raise bad(path, "is empty: a header row naming the columns is needed")
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    if len(set(lower)) != len(lower):
        dup = next(h for h in lower if lower.count(h) > 1)
        raise bad(path, f"names column {dup!r} twice in its header row")
    time_col = next((i for i, h in enumerate(lower) if h in TIME_COLUMNS), None)
    wanted = [c.lower() for c in columns] if columns else [h for i, h in enumerate(lower) if i != time_col]
    missing = [c for c in wanted if c not in lower]
    if missing:
        raise bad(
            path,
            f"is missing column(s) {', '.join(missing)} (header row has: {', '.join(header)})",
        )
    if not wanted:
        raise bad(path, "has no data columns besides the time column")
    if time_col is None and rate_hz is None:
        raise bad(
            path,
            "has no time column (t, time or timestamp, in seconds) and no sample rate was given (rate_hz)",
        )
    body = rows[1:]
    if not body:
        raise bad(path, "has a header row but no samples")
    col_idx = [lower.index(c) for c in wanted]
    use = ([time_col] if time_col is not None else []) + col_idx
    width = len(use)
    values = _fast_cells(body, use, len(header))
    if values is None:  # a short row, a cell that is not a number or not finite: the cell by cell pass names it
        values = _cells(path, body, use, header)
    rows, skip = len(body), 1 if time_col is not None else 0

    def make() -> np.ndarray:
        import numpy as np

        return np.frombuffer(values, dtype=np.float64).reshape(rows, width)[:, skip:]

    data = Deferred((rows, width - skip), "float64", make)
    names = tuple(header[c] for c in col_idx)
    units = tuple(UNITS.get(n.lower(), "") for n in names)
    if time_col is None:
        return ArraySource(path, data, channels=names, units=units, rate_hz=rate_hz, end_rule=end_rule)
    scale = TIME_COLUMNS[lower[time_col]]
    times = [t * scale for t in values[::width]]
    for r in range(len(times) - 1):
        if times[r + 1] - times[r] <= 0:
            raise bad(
                path,
                f"row {r + 3}, column {header[time_col]!r}: time {times[r + 1]:.9g} s does not come after "
                f"the previous row's {times[r]:.9g} s (times must increase)",
            )
    found = regular_rate(times)
    if rate_hz is not None and (found is None or abs(found - rate_hz) > 1e-3 * rate_hz):
        raise bad(
            path,
            f"its time column does not match the stated rate of {rate_hz:g} Hz "
            f"(time column rate: {'irregular' if found is None else f'{found:g} Hz'})",
        )
    if found is not None:
        return ArraySource(
            path, data, channels=names, units=units, rate_hz=found, start_s=times[0], end_rule=end_rule
        )
    return ArraySource(path, data, channels=names, units=units, times=times, end_rule=end_rule)


def _fast_cells(body: list[list[str]], use: list[int], fields: int) -> array[float] | None:
    """The columns ``use`` of every row, row-major, when every row has ``fields`` fields and every cell is a finite
    number (float() strips the whitespace str.strip() does); None otherwise."""
    if any(len(row) < fields for row in body):
        return None
    pick = operator.itemgetter(*use)
    cells = map(pick, body) if len(use) > 1 else ((row[use[0]],) for row in body)
    try:
        values = array("d", map(float, itertools.chain.from_iterable(cells)))
    except ValueError:
        return None
    if not math.isfinite(sum(values)) and not all(math.isfinite(v) for v in values):
        return None  # (a finite sum proves every value finite; an overflowing one is looked at value by value)
    return values


def _cells(path: str | Path, body: list[list[str]], use: list[int], header: list[str]) -> array[float]:
    """The same values cell by cell, raising at the first bad row or cell in file order."""
    width = len(use)
    values = array("d", bytes(8 * len(body) * width))  # row-major (rows, width) float64, as numpy's would be
    for r, row in enumerate(body):
        line = r + 2  # 1-based file line, after the header
        if len(row) < len(header):
            raise bad(path, f"row {line} has {len(row)} fields but the header names {len(header)} columns")
        for j, c in enumerate(use):
            cell = row[c].strip()
            try:
                v = float(cell)
            except ValueError:
                raise bad(path, f"row {line}, column {header[c]!r}: {cell!r} is not a number") from None
            if not math.isfinite(v):
                raise bad(path, f"row {line}, column {header[c]!r}: value {cell!r} is not finite (NaN or inf)")
            values[r * width + j] = v
    return values
