"""WAV files parsed chunk by chunk with ``struct``: PCM 8/16/24/32-bit, IEEE float 32/64, EXTENSIBLE.

The stdlib ``wave`` module refuses float and WAVE_FORMAT_EXTENSIBLE files, so the RIFF chunks
are walked here. Samples keep their integer type (8-bit becomes signed int16 around 0, 24-bit
becomes int32 in the 24-bit range) and ``full_scale`` says what 1.0 is, so a 16-bit file reaches
a 16-bit microphone bit-exact. The header is checked here without numpy; the samples are decoded
by numpy at their first read (:class:`~simcore.sources.base.Deferred`), float files' finiteness
checked up front with the ``array`` module.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from pathlib import Path
from typing import TYPE_CHECKING

from simcore.sources.base import ArraySource, Deferred, bad

if TYPE_CHECKING:
    import numpy as np

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# KSDATAFORMAT_SUBTYPE_* GUIDs share this tail after the 16-bit format code (mmreg.h)
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def read_wav(path: str | Path, end_rule: str = "stop") -> ArraySource:
    """Parse a RIFF/WAVE file into an :class:`ArraySource` at the file's own sample rate."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise bad(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(blob) < 12 or blob[0:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise bad(path, "is not a WAV file (no RIFF/WAVE header in the first 12 bytes)")
    (riff_size,) = struct.unpack_from("<I", blob, 4)
    if riff_size + 8 > len(blob):
        raise bad(
            path,
            f"is truncated: the RIFF header declares {riff_size + 8} bytes but the file has {len(blob)}",
        )
    fmt: bytes | None = None
    data: bytes | None = None
    pos = 12
    end = riff_size + 8
    while pos + 8 <= end:
        chunk_id = blob[pos : pos + 4]
        (size,) = struct.unpack_from("<I", blob, pos + 4)
        body = pos + 8
        if body + size > end:
            name = chunk_id.decode("latin-1")
            raise bad(
                path,
                f"has a bad chunk size: chunk {name!r} at offset {pos} declares {size} bytes "
                f"but only {end - body} remain (truncated or corrupt file)",
            )
        if chunk_id == b"fmt ":
            fmt = blob[body : body + size]
        elif chunk_id == b"data":
            data = blob[body : body + size]
        pos = body + size + (size & 1)  # chunks are padded to even sizes
    if fmt is None:
        raise bad(path, "has no 'fmt ' chunk: the sample format is unknown")
    if data is None:
        raise bad(path, "has no 'data' chunk: there are no samples")
    if len(fmt) < 16:
        raise bad(path, f"has a 'fmt ' chunk of {len(fmt)} bytes; at least 16 are needed")
    tag, nch, rate, byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt, 0)
    container_bits = bits
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(fmt) < 40:
            raise bad(path, f"is WAVE_FORMAT_EXTENSIBLE but its 'fmt ' chunk has {len(fmt)} bytes, not 40")
        valid_bits = struct.unpack_from("<H", fmt, 18)[0]
        guid = fmt[24:40]
        if guid[2:] != _GUID_TAIL:
            raise bad(path, f"is WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID {guid.hex()}")
        tag = struct.unpack_from("<H", guid, 0)[0]
        if valid_bits and valid_bits != bits:
            bits = valid_bits  # e.g. 24 valid bits in 32-bit containers
    if nch == 0:
        raise bad(path, "declares 0 channels")
    if rate == 0:
        raise bad(path, "declares a sample rate of 0 Hz")
    if tag == WAVE_FORMAT_PCM:
        if container_bits not in (8, 16, 24, 32):
            raise bad(path, f"is PCM with {container_bits}-bit samples; 8, 16, 24 and 32 are supported")
    elif tag == WAVE_FORMAT_IEEE_FLOAT:
        if container_bits not in (32, 64):
            raise bad(path, f"is IEEE float with {container_bits}-bit samples; 32 and 64 are supported")
    else:
        raise bad(path, f"uses format tag {tag:#06x}; only PCM (1), IEEE float (3) and EXTENSIBLE are supported")
    width = container_bits // 8
    if block_align != nch * width:
        raise bad(
            path,
            f"declares block_align {block_align} but {nch} channel(s) of {container_bits}-bit samples need "
            f"{nch * width}",
        )
    if byte_rate != rate * block_align:
        raise bad(path, f"declares byte_rate {byte_rate} but {rate} Hz x {block_align} bytes is {rate * block_align}")
    if len(data) % block_align:
        raise bad(
            path,
            f"has a 'data' chunk of {len(data)} bytes, not a whole number of {block_align}-byte frames "
            "(truncated last frame)",
        )
    frames = len(data) // block_align
    dtype_name, full_scale = _format(tag, container_bits, bits)
    if tag == WAVE_FORMAT_IEEE_FLOAT:  # refused as CSV and NPY refuse them: the first one named
        _check_finite(path, data, container_bits, frames, nch)
    names = ("mono",) if nch == 1 else ("left", "right") if nch == 2 else tuple(f"ch{i}" for i in range(nch))

    def make() -> np.ndarray:
        return _decode(data, tag, container_bits, bits).reshape(frames, nch)

    return ArraySource(
        path,
        Deferred((frames, nch), dtype_name, make),
        channels=names,
        units=("FS",) * nch,
        rate_hz=float(rate),
        full_scale=full_scale,
        end_rule=end_rule,
    )


def _format(tag: int, container_bits: int, valid_bits: int) -> tuple[str, float]:
    """The decoded samples' dtype name and the value that means full scale (what :func:`_decode` gives)."""
    if tag == WAVE_FORMAT_IEEE_FLOAT:
        return "float64", 1.0
    if container_bits == 8:  # unsigned, 128 is silence
        return "int16", 128.0
    if container_bits == 16:
        return "int16", 32768.0
    if container_bits == 24:
        return "int32", float(1 << 23)
    if valid_bits < 32:  # left-justified in the container: shifted down to the valid range
        return "int32", float(1 << (valid_bits - 1))
    return "int32", float(1 << 31)


def _check_finite(path: str | Path, data: bytes, container_bits: int, frames: int, nch: int) -> None:
    """Refuse a float file with a NaN or infinite sample, naming the first (frame, channel) and its value."""
    values = array("f" if container_bits == 32 else "d", data)
    if sys.byteorder == "big":
        values.byteswap()
    if math.isfinite(sum(values)):  # a NaN or inf anywhere makes the sum NaN or inf (so does overflow: then scan)
        return
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise bad(path, f"frame {i // nch}, channel {i % nch}: sample {v} is not finite (NaN or inf)")


def _decode(data: bytes, tag: int, container_bits: int, valid_bits: int) -> np.ndarray:
    import numpy as np

    if tag == WAVE_FORMAT_IEEE_FLOAT:
        return np.frombuffer(data, dtype="<f4" if container_bits == 32 else "<f8").astype(np.float64)
    if container_bits == 8:  # unsigned, 128 is silence
        return np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128
    if container_bits == 16:
        return np.frombuffer(data, dtype="<i2").astype(np.int16)
    if container_bits == 24:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        return np.where(value & 0x800000, value - (1 << 24), value).astype(np.int32)
    value = np.frombuffer(data, dtype="<i4").astype(np.int32)
    if valid_bits < 32:  # left-justified in the container: shift down to the valid range
        return value >> (32 - valid_bits)
    return value


def write_wav(
    path: str | Path, samples: np.ndarray, rate_hz: int, fmt: str = "pcm16", extensible: bool = False
) -> None:
    """Write a WAV file (used by tests and examples): fmt is pcm8/pcm16/pcm24/pcm32/float32/float64.

    ``samples`` are integers in the format's range for PCM, or floats for the float formats;
    shape ``(n,)`` or ``(n, channels)``.
    """
    import numpy as np

    arr = np.asarray(samples)
    if arr.ndim == 1:
        arr = arr[:, None]
    nch = arr.shape[1]
    if fmt == "pcm8":
        payload, bits, tag = (arr.astype(np.int16) + 128).astype(np.uint8).tobytes(), 8, WAVE_FORMAT_PCM
    elif fmt == "pcm16":
        payload, bits, tag = arr.astype("<i2").tobytes(), 16, WAVE_FORMAT_PCM
    elif fmt == "pcm24":
        v = arr.astype(np.int64).reshape(-1) & 0xFFFFFF
        b = np.stack([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF], axis=1).astype(np.uint8)
        payload, bits, tag = b.tobytes(), 24, WAVE_FORMAT_PCM
    elif fmt == "pcm32":
        payload, bits, tag = arr.astype("<i4").tobytes(), 32, WAVE_FORMAT_PCM
    elif fmt == "float32":
        payload, bits, tag = arr.astype("<f4").tobytes(), 32, WAVE_FORMAT_IEEE_FLOAT
    elif fmt == "float64":
        payload, bits, tag = arr.astype("<f8").tobytes(), 64, WAVE_FORMAT_IEEE_FLOAT
    else:
        raise ValueError(f"unknown WAV format {fmt!r}")
    align = nch * bits // 8
    if extensible:
        fmt_body = (
            struct.pack("<HHIIHHHHI", WAVE_FORMAT_EXTENSIBLE, nch, rate_hz, rate_hz * align, align, bits, 22, bits, 0)
            + struct.pack("<H", tag)
            + _GUID_TAIL
        )
    else:
        fmt_body = struct.pack("<HHIIHH", tag, nch, rate_hz, rate_hz * align, align, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body
    chunks += b"data" + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)
