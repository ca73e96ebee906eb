"""NumPy ``.npy`` recordings: any numeric array with a stated rate or a time column.

Shapes: ``(n,)`` one channel; ``(n, channels)``; a structured array whose field names are the
channels; ``(n, height, width)`` or ``(n, height, width, planes)`` of uint8 is a frame sequence
(for cameras, needs ``fps``). ``time_column`` (a name or a column index) takes timestamps in
seconds out of the data. Pickled objects are never loaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simcore.sources.base import ArraySource, Source, bad, regular_rate


def _check_header(path: str | Path) -> None:
    """The header must parse and declare no more bytes than the file holds (nothing huge is allocated)."""
    from numpy.lib import format as npf

    try:
        size = Path(path).stat().st_size
        with open(path, "rb") as fh:
            if fh.read(6) != b"\x93NUMPY":
                return  # an .npz or not NumPy at all: np.load says which
            fh.seek(0)
            version = npf.read_magic(fh)
            header = npf.read_array_header_1_0 if version == (1, 0) else npf.read_array_header_2_0
            shape, _fortran, dtype = header(fh)
            start = fh.tell()
    except OSError as exc:
        raise bad(path, f"cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001 - corrupt headers raise assorted errors
        raise bad(path, f"is not a valid .npy array file ({type(exc).__name__}: {exc})") from None
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > size - start:
        raise bad(path, f"is not a valid .npy array file: it declares shape {shape} of {dtype} ({declared:,} bytes) "
                  f"but holds {size - start:,} bytes "
                  "of data (truncated or corrupt)")


def read_npy(
    path: str | Path,
    *,
    rate_hz: float | None = None,
    fps: float | None = None,
    time_column: str | int | None = None,
    channels: list[str] | tuple[str, ...] | None = None,
    end_rule: str = "stop",
) -> Source:
    """Load an ``.npy`` file into a source (an :class:`ArraySource`, or frames for 3-D/4-D uint8)."""
    _check_header(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise bad(path, f"cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001 - a corrupt header raises ValueError, SyntaxError, TokenError...
        raise bad(path, f"is not a valid .npy array file ({type(exc).__name__}: {exc})") from None
    if not isinstance(arr, np.ndarray):
        raise bad(path, "holds several arrays (.npz); save one array per .npy file")
    if arr.dtype.names:
        names = list(arr.dtype.names)
        for name in names:
            if arr.dtype[name].kind not in "biuf":
                raise bad(path, f"field {name!r} has non-numeric type {arr.dtype[name]}")
        arr2 = np.stack([arr[n].astype(np.float64) for n in names], axis=1)
        return _from_2d(path, arr2, names, rate_hz, time_column, channels, end_rule)
    if arr.dtype.kind not in "biuf":
        raise bad(path, f"holds {arr.dtype} values; only numeric arrays (int, uint, float, bool) are used")
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise bad(path, f"holds no samples (shape {arr.shape})")
    if arr.ndim >= 3:
        from simcore.sources.images import ArrayFrameSource

        if arr.ndim > 4:
            raise bad(path, f"has shape {arr.shape}; frames need (n, height, width) or (n, height, width, planes)")
        rate = fps if fps is not None else rate_hz
        if rate is None:
            raise bad(path, f"holds {arr.shape[0]} frames (shape {arr.shape}) but no frame rate (fps) was given")
        if arr.dtype != np.uint8:
            raise bad(path, f"holds frames of {arr.dtype}; camera frames must be uint8")
        frames = arr if arr.ndim == 4 else arr[..., None]
        return ArrayFrameSource(path, frames, fps=rate, end_rule=end_rule)
    arr2 = arr[:, None] if arr.ndim == 1 else arr
    default = [f"ch{i}" for i in range(arr2.shape[1])]
    return _from_2d(path, arr2, default, rate_hz, time_column, channels, end_rule, names_given=False)


def _from_2d(
    path: str | Path,
    arr: np.ndarray,
    names: list[str],
    rate_hz: float | None,
    time_column: str | int | None,
    channels: list[str] | tuple[str, ...] | None,
    end_rule: str,
    names_given: bool = True,
) -> ArraySource:
    if arr.dtype.kind == "f":
        bad_cells = ~np.isfinite(arr)
        if bad_cells.any():
            r, c = (int(x) for x in np.argwhere(bad_cells)[0])
            raise bad(path, f"row {r}, column {names[c]!r}: value {arr[r, c]} is not finite (NaN or inf)")
    tcol: int | None = None
    if time_column is not None:
        if isinstance(time_column, int):
            if not -arr.shape[1] <= time_column < arr.shape[1]:
                raise bad(path, f"has {arr.shape[1]} columns; time_column {time_column} does not exist")
            tcol = time_column % arr.shape[1]
        elif time_column in names:
            tcol = names.index(time_column)
        else:
            raise bad(path, f"has no column {time_column!r} to take times from (columns: {', '.join(names)})")
    elif names_given:
        tcol = next((i for i, n in enumerate(names) if n.lower() in ("t", "time", "timestamp")), None)
    keep = [i for i in range(arr.shape[1]) if i != tcol]
    if not keep:
        raise bad(path, "has no data columns besides the time column")
    data = arr[:, keep]
    kept_names = [names[i] for i in keep]
    if channels is not None:
        if not names_given:
            if len(channels) != len(kept_names):
                raise bad(path, f"has {len(kept_names)} data columns but {len(channels)} channel names were given")
            kept_names = list(channels)
        else:
            missing = [c for c in channels if c not in kept_names]
            if missing:
                raise bad(path, f"is missing column(s) {', '.join(missing)} (columns: {', '.join(kept_names)})")
            data = data[:, [kept_names.index(c) for c in channels]]
            kept_names = list(channels)
    if tcol is None:
        if rate_hz is None:
            raise bad(path, "has no time column and no sample rate was given (rate_hz or time_column)")
        return ArraySource(path, data, channels=tuple(kept_names), rate_hz=rate_hz, end_rule=end_rule)
    times = arr[:, tcol].astype(np.float64)
    steps = np.diff(times)
    if (steps <= 0).any():
        r = int(np.argmax(steps <= 0)) + 1
        raise bad(path, f"row {r}: time {times[r]:.9g} s does not come after the previous row's {times[r - 1]:.9g} s")
    found = regular_rate(times)
    if found is not None:
        return ArraySource(
            path, data, channels=tuple(kept_names), rate_hz=found, start_s=float(times[0]), end_rule=end_rule
        )
    return ArraySource(path, data, channels=tuple(kept_names), times=times, end_rule=end_rule)
