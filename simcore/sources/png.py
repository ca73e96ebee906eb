"""PNG camera frames decoded without Pillow's per-file machinery: the chunks parsed here, the image data inflated
by ``zlib`` and its scanlines reconstructed in C (``simcore/native/png.c``, W3C PNG specification section 9).

Only what camera recordings usually are: 8-bit gray or RGB, not interlaced, every chunk's CRC right, nothing
Pillow would read differently (no palette image, no alpha, no animation). :func:`read_png` returns None for
anything else, and without the compiled library (``SIMCORE_NO_NATIVE=1``): Pillow then decodes the file as
before, so its pixels and its errors are Pillow's own. A camera run decodes each frame when it is delivered:
Pillow's open/load/convert cost ~200 us per 96x96 gray frame, this ~80 us (``benchmarks/corpus.py`` camera_motion).
"""

from __future__ import annotations

import ctypes
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from simcore.paths import native_extension

if TYPE_CHECKING:
    import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"  # PNG specification 5.2
ANIMATION = (b"acTL", b"fcTL", b"fdAT")  # APNG: Pillow's reading of the default image is left to Pillow
_lib: ctypes.CDLL | None | bool = False  # False: not looked for yet


def native() -> ctypes.CDLL | None:
    """The compiled scanline reconstruction, or None (not built, or ``SIMCORE_NO_NATIVE=1``)."""
    global _lib
    if _lib is False:
        _lib = None
        path = native_extension("_png")
        if path is not None:
            lib = ctypes.CDLL(str(path))
            lib.png_abi_version.restype = ctypes.c_int64
            if lib.png_abi_version() != 1:
                raise RuntimeError(f"{path}: PNG decoder ABI {lib.png_abi_version()}, expected 1: rebuild it "
                                   "(pip install -e .)")
            lib.png_unfilter.restype = ctypes.c_int64
            lib.png_unfilter.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                         ctypes.c_void_p]
            _lib = lib
    return _lib if _lib else None


def read_png(path: str | Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The pixels of the PNG file ``path`` as a (height, width, planes) uint8 array when the file is an 8-bit gray
    (planes 1) or RGB (planes 3) image of ``shape`` this module decodes exactly as Pillow does; else None."""
    lib = native()
    if lib is None:
        return None
    try:
        with open(path, "rb") as f:  # not Path.read_bytes: a third of the time of a file this small
            data = f.read()
    except OSError:
        return None
    if not data.startswith(SIGNATURE):
        return None
    view = memoryview(data)
    pos, end_of_file = len(SIGNATURE), len(data)
    header: bytes | None = None
    idat: list[memoryview] = []
    while True:  # chunks (specification 5.3): length, type, data, CRC of type and data
        if pos + 12 > end_of_file:
            return None
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 8 + length
        if end + 4 > end_of_file or zlib.crc32(view[pos + 4: end]) != struct.unpack_from(">I", data, end)[0]:
            return None
        if header is None:
            if kind != b"IHDR" or length != 13:
                return None
            header = data[pos + 8: end]
        elif kind == b"IDAT":
            idat.append(view[pos + 8: end])
        elif kind == b"IEND":
            break
        elif kind in ANIMATION or (not kind[0] & 0x20 and kind != b"PLTE"):  # an unknown critical chunk
            return None
        pos = end + 4
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (0, 2) or compression or filtering or interlace:
        return None
    planes = 1 if colour == 0 else 3
    if (height, width, planes) != tuple(shape):
        return None
    try:
        raw = zlib.decompress(idat[0] if len(idat) == 1 else b"".join(idat))
    except zlib.error:
        return None
    stride = width * planes
    if len(raw) != height * (stride + 1):
        return None
    import numpy as np

    out = np.empty((height, width, planes), np.uint8)
    if lib.png_unfilter(raw, height, stride, planes, out.ctypes.data):
        return None  # a scanline with an unknown filter type
    return out
