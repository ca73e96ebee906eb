"""Recorded sensor data on virtual time: WAV, CSV, NPY, PNG/JPEG sequences and Renode RESD files.

``open_source(path, kind=None, **options)`` picks the parser from ``kind``, the file's magic
bytes or its extension, and returns a :class:`Source`. Common options: ``end`` (``stop``,
``loop``, ``hold``, ``error``); per format: ``rate_hz``/``columns`` (CSV), ``rate_hz``/``fps``/
``time_column``/``channels`` (NPY), ``fps`` (images), ``sample_type``/``channel``/``custom_types`` (RESD), and
``resample_hz`` (+ ``resample_method``) to convert the rate explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simcore.sources.base import END_RULES, ArraySource, EndOfDataError, Source, bad
from simcore.sources.csv_source import read_csv
from simcore.sources.images import FrameSource, frame_to_pixels, open_images
from simcore.sources.npy_source import read_npy
from simcore.sources.resample import resample
from simcore.sources.resd import parse_resd, read_resd
from simcore.sources.wav import read_wav

KINDS = ("wav", "csv", "npy", "images", "resd")
_EXT = {
    ".wav": "wav",
    ".wave": "wav",
    ".csv": "csv",
    ".npy": "npy",
    ".resd": "resd",
    ".png": "images",
    ".jpg": "images",
    ".jpeg": "images",
    ".bmp": "images",
    ".pgm": "images",
    ".ppm": "images",
}
_OPTIONS = {
    "wav": set(),
    "csv": {"rate_hz", "columns"},
    "npy": {"rate_hz", "fps", "time_column", "channels"},
    "images": {"fps"},
    "resd": {"sample_type", "channel", "custom_types"},
}


def detect_kind(path: str | Path) -> str:
    """The format of ``path``: by magic bytes first, then by extension; directories/globs are images."""
    text = str(path)
    p = Path(text)
    if any(ch in text for ch in "*?[") or p.is_dir():
        return "images"
    try:
        with open(p, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise bad(path, f"cannot be opened ({exc.strerror or exc})") from None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RESD":
        return "resd"
    if head[:6] == b"\x93NUMPY":
        return "npy"
    if head[:8] == b"\x89PNG\r\n\x1a\n" or head[:3] == b"\xff\xd8\xff":
        return "images"
    kind = _EXT.get(p.suffix.lower())
    if kind is None:
        raise bad(path, f"has an unknown format (extension {p.suffix!r}); give kind= one of {', '.join(KINDS)}")
    return kind


def open_source(path: str | Path, kind: str | None = None, **options: Any) -> Source:
    """Open a recording as a :class:`Source`; unknown options and corrupt files raise BadInputError."""
    kind = kind or detect_kind(path)
    if kind not in KINDS:
        raise bad(path, f"unknown data kind {kind!r}; use one of {', '.join(KINDS)}")
    end = options.pop("end", options.pop("end_rule", "stop"))
    if end not in END_RULES:
        raise bad(path, f"unknown end-of-data rule {end!r}; use one of {', '.join(END_RULES)}")
    resample_hz = options.pop("resample_hz", None)
    method = options.pop("resample_method", "linear")
    unknown = set(options) - _OPTIONS[kind]
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[kind] | {"end", "resample_hz", "resample_method"}))
        raise bad(path, f"option(s) {', '.join(sorted(unknown))} do not apply to {kind} data (allowed: {allowed})")
    src: Source
    if kind == "wav":
        src = read_wav(path, end_rule=end)
    elif kind == "csv":
        src = read_csv(path, end_rule=end, **options)
    elif kind == "npy":
        src = read_npy(path, end_rule=end, **options)
    elif kind == "resd":
        src = read_resd(path, end_rule=end, **options)
    else:
        src = open_images(path, end_rule=end, **options)
    if resample_hz is not None:
        src = resample(src, float(resample_hz), method)
    return src


__all__ = [
    "END_RULES",
    "KINDS",
    "ArraySource",
    "EndOfDataError",
    "FrameSource",
    "Source",
    "detect_kind",
    "frame_to_pixels",
    "open_source",
    "parse_resd",
    "read_csv",
    "read_npy",
    "read_resd",
    "read_wav",
    "resample",
]
