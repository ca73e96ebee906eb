"""NumPy ``.npy`` recordings: any numeric array with a stated rate or a time column.

Shapes: ``(n,)`` one channel; ``(n, channels)``; a structured array whose field names are the
channels; ``(n, height, width)`` or ``(n, height, width, planes)`` of uint8 is a frame sequence
(for cameras, needs ``fps``). ``time_column`` (a name or a column index) takes timestamps in
seconds out of the data. Pickled objects are never loaded.

A plain little-endian int, uint or float array in C order (what ``np.save`` writes for such data)
is read without numpy: the header (a Python literal, parsed as numpy.lib.format parses it) and
every check with the standard library, the array made by numpy at the first read. Anything else
(structured arrays, big-endian, Fortran order, float16, bool, and every file that fails a check)
goes through ``np.load``, which gives the same sources and the same errors.
"""

from __future__ import annotations

import ast
import math
import struct
import sys
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.sources.base import ArraySource, Deferred, Source, bad, regular_rate

if TYPE_CHECKING:
    import numpy as np

# descr -> (numpy's dtype name, the array module's typecode of that kind; its size is checked)
_PLAIN = {"|u1": ("uint8", "B"), "<u1": ("uint8", "B"), "|i1": ("int8", "b"), "<i1": ("int8", "b"),
          "<u2": ("uint16", "H"), "<i2": ("int16", "h"), "<u4": ("uint32", "I"), "<i4": ("int32", "i"),
          "<u8": ("uint64", "Q"), "<i8": ("int64", "q"), "<f4": ("float32", "f"), "<f8": ("float64", "d")}
# format version -> header length field and encoding (numpy.lib.format, "Format Version 1.0/2.0/3.0")
_HEADER = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}
_MAX_HEADER = 10000  # numpy's limit for a header it parses without allow_pickle


def _plain_header(blob: bytes) -> tuple[tuple[int, ...], str, int] | None:
    """(shape, descr, data offset) of a .npy file numpy would load as a plain C-order array, else None."""
    if len(blob) < 8 or blob[:6] != b"\x93NUMPY":
        return None
    info = _HEADER.get((blob[6], blob[7]))
    if info is None:
        return None
    fmt, encoding = info
    at = 8 + struct.calcsize(fmt)
    if len(blob) < at:
        return None
    (hlen,) = struct.unpack_from(fmt, blob, 8)
    if len(blob) < at + hlen:
        return None
    try:
        text = blob[at: at + hlen].decode(encoding)
        if len(text) > _MAX_HEADER:
            return None
        d = ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, UnicodeDecodeError, MemoryError, RecursionError):
        return None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"}:
        return None
    shape, descr = d["shape"], d["descr"]
    if d["fortran_order"] is not False or not isinstance(shape, tuple) or not isinstance(descr, str):
        return None
    if descr not in _PLAIN or not all(type(x) is int and x >= 0 for x in shape):
        return None
    if array(_PLAIN[descr][1]).itemsize != int(descr[2:]):
        return None
    return shape, descr, at + hlen


def _load_plain(blob: bytes, offset: int, descr: str, shape: tuple[int, ...]) -> np.ndarray:
    """The array np.load gives for a plain header: the values after the header, in a writable array."""
    import numpy as np

    count = math.prod(shape)
    return np.frombuffer(blob, dtype=np.dtype(descr), count=count, offset=offset).reshape(shape).copy()


def _read_plain(path: str | Path, rate_hz: float | None, fps: float | None, time_column: str | int | None,
                channels: list[str] | tuple[str, ...] | None, end_rule: str) -> Source | None:
    """The source of a plain array, without numpy; None when the file needs np.load (or has a problem it names)."""
    try:
        blob = Path(path).read_bytes()
    except OSError:
        return None
    head = _plain_header(blob)
    if head is None:
        return None
    shape, descr, offset = head
    name, code = _PLAIN[descr]
    count = math.prod(shape)
    if len(shape) == 0 or shape[0] == 0 or count * int(descr[2:]) > len(blob) - offset:
        return None

    def make() -> np.ndarray:
        return _load_plain(blob, offset, descr, shape)

    if len(shape) >= 3:
        rate = fps if fps is not None else rate_hz
        frames = shape if len(shape) == 4 else (*shape, 1)
        if len(shape) > 4 or rate is None or name != "uint8" or frames[3] not in (1, 3):
            return None
        from simcore.sources.images import ArrayFrameSource

        return ArrayFrameSource(path, Deferred(frames, "uint8", lambda: make().reshape(frames)), fps=rate,
                                end_rule=end_rule)
    rows, cols = shape[0], shape[1] if len(shape) == 2 else 1
    values = array(code, blob[offset: offset + count * int(descr[2:])])
    if sys.byteorder == "big":
        values.byteswap()
    # a NaN or inf makes the sum non-finite (so can overflow: then each value is looked at)
    if code in "fd" and not math.isfinite(sum(values)) and not all(math.isfinite(v) for v in values):
        return None  # np.load's path names the first bad cell

    def column(i: int) -> list[float]:
        return [float(v) for v in values[i::cols]]

    def take(keep: list[int]) -> Deferred:
        return Deferred((rows, len(keep)), name, lambda: make().reshape(rows, cols)[:, keep])

    default = [f"ch{i}" for i in range(cols)]
    return _from_2d(path, cols, column, take, default, rate_hz, time_column, channels, end_rule, names_given=False)


def _check_header(path: str | Path) -> None:
    """The header must parse and declare no more bytes than the file holds (nothing huge is allocated)."""
    import numpy as np
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
    plain = _read_plain(path, rate_hz, fps, time_column, channels, end_rule)
    if plain is not None:
        return plain
    import numpy as np

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
        return _from_array(path, arr2, names, rate_hz, time_column, channels, end_rule)
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
    return _from_array(path, arr2, default, rate_hz, time_column, channels, end_rule, names_given=False)


def _from_array(
    path: str | Path,
    arr: np.ndarray,
    names: list[str],
    rate_hz: float | None,
    time_column: str | int | None,
    channels: list[str] | tuple[str, ...] | None,
    end_rule: str,
    names_given: bool = True,
) -> ArraySource:
    """:func:`_from_2d` over an array np.load has read (structured arrays, and files the plain path leaves)."""
    import numpy as np

    if arr.dtype.kind == "f":
        bad_cells = ~np.isfinite(arr)
        if bad_cells.any():
            r, c = (int(x) for x in np.argwhere(bad_cells)[0])
            raise bad(path, f"row {r}, column {names[c]!r}: value {arr[r, c]} is not finite (NaN or inf)")
    return _from_2d(path, arr.shape[1], lambda i: arr[:, i].astype(np.float64).tolist(),
                    lambda keep: arr[:, keep], names, rate_hz, time_column, channels, end_rule, names_given)


def _from_2d(
    path: str | Path,
    ncols: int,
    column: Callable[[int], list[float]],
    take: Callable[[list[int]], Any],
    names: list[str],
    rate_hz: float | None,
    time_column: str | int | None,
    channels: list[str] | tuple[str, ...] | None,
    end_rule: str,
    names_given: bool = True,
) -> ArraySource:
    """A table of ``ncols`` finite columns as a source: ``column(i)`` one column as floats, ``take(cols)`` the samples
    (an array, or a :class:`Deferred` one) of those columns in that order."""
    tcol: int | None = None
    if time_column is not None:
        if isinstance(time_column, int):
            if not -ncols <= time_column < ncols:
                raise bad(path, f"has {ncols} columns; time_column {time_column} does not exist")
            tcol = time_column % ncols
        elif time_column in names:
            tcol = names.index(time_column)
        else:
            raise bad(path, f"has no column {time_column!r} to take times from (columns: {', '.join(names)})")
    elif names_given:
        tcol = next((i for i, n in enumerate(names) if n.lower() in ("t", "time", "timestamp")), None)
    keep = [i for i in range(ncols) if i != tcol]
    if not keep:
        raise bad(path, "has no data columns besides the time column")
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
            keep = [keep[kept_names.index(c)] for c in channels]
            kept_names = list(channels)
    data = take(keep)
    if tcol is None:
        if rate_hz is None:
            raise bad(path, "has no time column and no sample rate was given (rate_hz or time_column)")
        return ArraySource(path, data, channels=tuple(kept_names), rate_hz=rate_hz, end_rule=end_rule)
    times = column(tcol)
    for r in range(1, len(times)):
        if times[r] - times[r - 1] <= 0:
            raise bad(path, f"row {r}: time {times[r]:.9g} s does not come after the previous row's "
                      f"{times[r - 1]:.9g} s")
    found = regular_rate(times)
    if found is not None:
        return ArraySource(path, data, channels=tuple(kept_names), rate_hz=found, start_s=times[0],
                           end_rule=end_rule)
    return ArraySource(path, data, channels=tuple(kept_names), times=times, end_rule=end_rule)
