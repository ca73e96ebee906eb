"""Image sequences for cameras: a directory or glob of PNG/JPEG frames, or one image, at a frame rate.

Pillow is imported only when image files are opened (optional extra ``sensors``). Frames are
decoded lazily: 8-bit gray and RGB PNG files by ``simcore/sources/png.py`` (zlib and a C scanline filter, 2-4x
faster than Pillow's per-file path), everything else by Pillow. Decoded frames are kept for the process by the
files' bytes (:data:`DECODED`): runs of the same recording after the first (a test suite, a sweep, a benchmark's
repeats) read each file (~15 us for a 96x96 frame) instead of decoding it again (~100-300 us). Every frame must have
the size and colour layout of the first; conversion to a camera's resolution and pixel format happens only when asked
(:func:`frame_to_pixels` with ``resize``/``convert``).
"""

from __future__ import annotations

import glob
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.errors import BadInputError
from simcore.sources.base import Deferred, Source, bad, check_end_rule

if TYPE_CHECKING:
    import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm")
PIXEL_FORMATS = {"GRAY8": 1, "RGB565": 2, "RGB888": 3}  # bytes per pixel
# Frames decoded in this process, by (file bytes, frame shape): a file's content, not its name or time, says whether
# a frame is known (a file rewritten between runs is decoded again). Least recently used first; DECODED_BYTES bounds
# the pixels and file bytes kept. The arrays are read-only (every run gets the same one).
DECODED: OrderedDict[tuple[bytes, tuple[int, ...]], np.ndarray] = OrderedDict()
DECODED_BYTES = 64 << 20
_decoded_size = [0]


def _pillow(path: str | Path) -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise BadInputError(
            f"sensor data file {path}: reading PNG/JPEG frames needs Pillow, which is not installed; "
            "install it with `pip install -e '.[sensors]'` in a source checkout (`pip install 'simcore[sensors]'` "
            "otherwise), or give the frames as "
            "a (n, height, width[, planes]) uint8 .npy file"
        ) from None
    return Image


class FrameSource(Source):
    """Frames of shape (height, width, planes) as uint8; planes is 1 (gray) or 3 (RGB)."""

    dtype_name = "uint8"
    full_scale = 255.0

    def _setup(self, path: str | Path, n: int, shape: tuple[int, int, int], fps: float | None, end_rule: str) -> None:
        self.path = str(path)
        self._n = n
        self.sample_shape = shape
        self.channels = ("gray",) if shape[2] == 1 else ("r", "g", "b")
        self.units = ("",) * len(self.channels)
        if fps is not None and not fps > 0:
            raise bad(path, f"frame rate {fps!r} is not a positive number")
        if fps is None and n > 1:
            raise bad(path, f"is a sequence of {n} frames but no frame rate (fps) was given")
        self.rate_hz = float(fps) if fps is not None else 1.0
        self.start_s = 0.0
        self.end_rule = check_end_rule(path, end_rule)

    @property
    def width(self) -> int:
        return self.sample_shape[1]

    @property
    def height(self) -> int:
        return self.sample_shape[0]

    def __len__(self) -> int:
        return self._n

    def frame(self, i: int) -> np.ndarray:
        import numpy as np

        return self._read(np.array([i], dtype=np.int64))[0]


class ArrayFrameSource(FrameSource):
    """Frames already in memory (from an .npy file, made by numpy at the first read, or made by a test)."""

    def __init__(self, path: str | Path, frames: np.ndarray | Deferred, fps: float | None,
                 end_rule: str = "stop") -> None:
        self._frames: np.ndarray | None = None
        self._make = None
        if isinstance(frames, Deferred):  # (n, height, width, planes) uint8
            shape = frames.shape
            self._make = frames.make
        else:
            if frames.ndim == 3:
                frames = frames[..., None]
            shape = frames.shape
            self._frames = frames
        if shape[3] not in (1, 3):
            raise bad(path, f"frames have {shape[3]} planes; 1 (gray) or 3 (RGB) are supported")
        self._setup(path, shape[0], tuple(shape[1:]), fps, end_rule)  # type: ignore[arg-type]

    @property
    def frames(self) -> np.ndarray:
        """The frames, (n, height, width, planes) uint8."""
        import numpy as np

        if self._frames is None:
            assert self._make is not None
            self._frames, self._make = self._make(), None
        elif self._frames.dtype != np.uint8:
            self._frames = self._frames.astype(np.uint8)
        return self._frames

    def _read(self, index: np.ndarray) -> np.ndarray:
        return self.frames[index]


class ImageSequenceSource(FrameSource):
    """PNG/JPEG files read with Pillow on demand."""

    CACHE = 8

    def __init__(self, files: list[Path], where: str | Path, fps: float | None, end_rule: str = "stop") -> None:
        if not files:
            raise bad(where, "matches no image files (.png, .jpg, .jpeg, .bmp, .pgm, .ppm)")
        self.files = files
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        image = _pillow(where)
        first_size: tuple[int, int] | None = None
        planes = 1
        for f in files:
            try:
                with image.open(f) as im:
                    size, mode = im.size, im.mode
            except Exception as exc:  # Pillow raises many types for corrupt files
                raise bad(f, f"is not a readable image ({type(exc).__name__}: {exc})") from None
            p = 1 if mode in ("1", "L", "LA", "I", "I;16", "F") else 3
            if first_size is None:
                first_size, planes = size, p
            elif size != first_size or p != planes:
                raise bad(
                    f,
                    f"is {size[0]}x{size[1]} {'gray' if p == 1 else 'colour'} but the sequence's first frame "
                    f"{files[0].name} is {first_size[0]}x{first_size[1]} {'gray' if planes == 1 else 'colour'}; "
                    "all frames of a sequence must match",
                )
        assert first_size is not None
        self._setup(where, len(files), (first_size[1], first_size[0], planes), fps, end_rule)

    def _load(self, i: int) -> np.ndarray:
        hit = self._cache.get(i)
        if hit is not None:
            self._cache.move_to_end(i)
            return hit
        try:
            with open(self.files[i], "rb") as f:
                key = (f.read(), self.sample_shape)
        except OSError:
            key = None  # the decoders below say what is wrong with it
        if key is not None:
            known = DECODED.get(key)
            if known is not None:
                DECODED.move_to_end(key)
                return self._keep(i, known)
        arr = self._decode(i)
        if key is not None:
            arr.flags.writeable = False
            DECODED[key] = arr
            _decoded_size[0] += arr.nbytes + len(key[0])
            while _decoded_size[0] > DECODED_BYTES and len(DECODED) > 1:
                (data, _shape), old = DECODED.popitem(last=False)
                _decoded_size[0] -= old.nbytes + len(data)
        return self._keep(i, arr)

    def _decode(self, i: int) -> np.ndarray:
        """Frame ``i`` decoded from its file: simcore's PNG decoder where it applies, else Pillow."""
        from simcore.sources.png import read_png

        arr = read_png(self.files[i], self.sample_shape) if self.files[i].suffix.lower() == ".png" else None
        if arr is not None:
            return arr
        image = _pillow(self.files[i])
        try:
            import numpy as np

            with image.open(self.files[i]) as im:
                im = im.convert("L" if self.sample_shape[2] == 1 else "RGB")
                arr = np.asarray(im, dtype=np.uint8).reshape(self.sample_shape)
        except BadInputError:
            raise
        except Exception as exc:
            raise bad(self.files[i], f"could not be decoded ({type(exc).__name__}: {exc})") from None
        return arr

    def _keep(self, i: int, arr: np.ndarray) -> np.ndarray:
        self._cache[i] = arr
        if len(self._cache) > self.CACHE:
            self._cache.popitem(last=False)
        return arr

    def take(self, k0: int, k1: int) -> np.ndarray:
        """Source.take; one frame of the recording (a camera's delivery) without the index arrays."""
        if k1 == k0 + 1 and 0 <= k0 < len(self):  # every end rule gives frame k0
            return self._load(k0)[None].copy()
        return super().take(k0, k1)

    def _read(self, index: np.ndarray) -> np.ndarray:
        import numpy as np

        out = np.empty((len(index), *self.sample_shape), dtype=np.uint8)
        for j, i in enumerate(index.tolist()):
            out[j] = self._load(i)
        return out


def open_images(path: str | Path, fps: float | None = None, end_rule: str = "stop") -> ImageSequenceSource:
    """A directory of frames (sorted by name), a glob pattern, or a single image file."""
    text = str(path)
    p = Path(text)
    if any(ch in text for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(text) if f.lower().endswith(IMAGE_SUFFIXES))
    elif p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    elif p.is_file():
        files = [p]
    else:
        raise bad(path, "does not exist")
    if len(files) == 1 and fps is None:
        return ImageSequenceSource(files, path, None, end_rule if end_rule != "stop" else "hold")
    return ImageSequenceSource(files, path, fps, end_rule)


def frame_to_pixels(
    frame: np.ndarray,
    width: int,
    height: int,
    pixel_format: str,
    *,
    resize: bool = False,
    convert: bool = False,
    where: str = "camera",
) -> bytes:
    """A frame as the bytes a camera DMA writes: GRAY8, RGB565 (little-endian) or RGB888 (R, G, B).

    A size or layout that differs from the camera's configuration is an error unless ``resize``
    (nearest-neighbour) or ``convert`` (gray<->colour, BT.601 luma) is asked for.
    """
    import numpy as np

    if pixel_format not in PIXEL_FORMATS:
        raise BadInputError(f"{where}: unknown pixel format {pixel_format!r} (use {', '.join(PIXEL_FORMATS)})")
    h, w, planes = frame.shape
    if (w, h) != (width, height):
        if not resize:
            raise BadInputError(
                f"{where}: frames are {w}x{h} but the camera is configured for {width}x{height}; "
                "set the camera's resolution to match or enable resizing (option resize = true)"
            )
        rows = (np.arange(height) * h // height).astype(np.int64)
        cols = (np.arange(width) * w // width).astype(np.int64)
        frame = frame[rows][:, cols]
    want_planes = 1 if pixel_format == "GRAY8" else 3
    if planes != want_planes:
        if not convert:
            have = "gray" if planes == 1 else "colour"
            raise BadInputError(
                f"{where}: frames are {have} but the camera is configured for {pixel_format}; "
                "give matching frames or enable format conversion (option convert = true)"
            )
        if want_planes == 1:
            rgb = frame.astype(np.float64)
            luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
            frame = np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]
        else:
            frame = np.repeat(frame, 3, axis=2)
    if pixel_format == "RGB565":
        f = frame.astype(np.uint16)
        packed = ((f[..., 0] >> 3) << 11) | ((f[..., 1] >> 2) << 5) | (f[..., 2] >> 3)
        return packed.astype("<u2").tobytes()
    return np.ascontiguousarray(frame).tobytes()
