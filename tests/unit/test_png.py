"""PNG camera frames decoded by simcore/sources/png.py (chunks in Python, zlib, scanlines in C) equal the pixels they
were made from and Pillow's decoding; every file it does not take (other depths and colour types, interlaced,
animated, bad CRC, truncated, another size) is left to Pillow, so a camera source gives the same frames and errors.

The files with chosen filter types are written here: each scanline filtered as the PNG specification (section 9)
defines, in plain Python, from a random image; the expected pixels are that image."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from simcore.errors import BadInputError
from simcore.sources import images, png
from simcore.sources.images import ImageSequenceSource


@pytest.fixture(autouse=True)
def _built() -> None:
    assert png.native() is not None, "the C decoder is built by setup.py (python3 setup.py build_ext --inplace)"


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filtered(img: np.ndarray, types: list[int]) -> bytes:
    """The image's scanlines, scanline y filtered with types[y] (PNG specification 9.2-9.4)."""
    h, w, planes = img.shape
    rows = img.reshape(h, w * planes).astype(int).tolist()
    out = bytearray()
    for y, row in enumerate(rows):
        up = rows[y - 1] if y else [0] * len(row)
        t = types[y]
        out.append(t)
        for i, x in enumerate(row):
            a = row[i - planes] if i >= planes else 0
            b = up[i]
            c = up[i - planes] if i >= planes and y else 0
            pred = (0, a, b, (a + b) // 2, paeth(a, b, c))[t] if t < 5 else 0  # 5: no such type (a bad file)
            out.append((x - pred) % 256)
    return bytes(out)


def png_file(path: Path, img: np.ndarray, types: list[int], interlace: int = 0, extra: bytes = b"",
             split: int = 1) -> Path:
    h, w, planes = img.shape
    data = zlib.compress(filtered(img, types), 6)
    parts = [data[i * len(data) // split: (i + 1) * len(data) // split] for i in range(split)]
    path.write_bytes(png.SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0 if planes == 1 else 2, 0, 0,
                                                                  interlace))
                     + extra + b"".join(chunk(b"IDAT", p) for p in parts) + chunk(b"IEND", b""))
    return path


def pillow(path: Path, planes: int) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L" if planes == 1 else "RGB"), dtype=np.uint8).reshape(im.height, im.width,
                                                                                          planes)


@pytest.mark.parametrize("planes", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize(("w", "h"), [(96, 96), (1, 5), (7, 3), (160, 120)])
def test_every_filter_type_gives_the_pixels_the_file_was_made_from(tmp_path: Path, planes: int, w: int,
                                                                    h: int) -> None:
    rng = np.random.default_rng(w * 1000 + h + planes)
    img = rng.integers(0, 256, (h, w, planes), dtype=np.uint8)
    img[h // 2:] //= 3  # some smooth rows too, where the predictors matter
    types = [int(t) for t in rng.integers(0, 5, h)]
    types[: min(h, 5)] = [0, 1, 2, 3, 4][: min(h, 5)]  # each type at least once, types 2-4 on the first row too
    extra = chunk(b"tEXt", b"Comment\x00simcore") + chunk(b"gAMA", struct.pack(">I", 45455))
    f = png_file(tmp_path / "f.png", img, types, extra=extra, split=3)
    got = png.read_png(f, (h, w, planes))
    assert got is not None
    assert np.array_equal(got, img)
    assert np.array_equal(got, pillow(f, planes))


@pytest.mark.parametrize("kw", [{}, {"optimize": True}, {"compress_level": 0}, {"compress_level": 9}])
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_files_pillow_writes_decode_as_pillow_reads_them(tmp_path: Path, mode: str, kw: dict) -> None:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:120, 0:160]
    base = ((x * 3 + y * 5) % 256).astype(np.uint8) ^ rng.integers(0, 16, (120, 160), dtype=np.uint8)
    arr = base if mode == "L" else np.stack([base, base[::-1], 255 - base], axis=2)
    f = tmp_path / "p.png"
    Image.fromarray(arr, mode).save(f, **kw)
    planes = 1 if mode == "L" else 3
    got = png.read_png(f, (120, 160, planes))
    assert got is not None and np.array_equal(got, pillow(f, planes))
    assert np.array_equal(got.reshape(arr.shape), arr)
    t = tmp_path / "t.png"  # a transparent colour (tRNS) changes no pixel
    Image.fromarray(arr, mode).save(t, transparency=0 if mode == "L" else (0, 0, 0))
    assert np.array_equal(png.read_png(t, (120, 160, planes)), pillow(t, planes))


def test_files_it_does_not_take_are_left_to_pillow(tmp_path: Path) -> None:
    img = np.arange(48, dtype=np.uint8).reshape(6, 8, 1)
    good = png_file(tmp_path / "good.png", img, [0] * 6)
    assert png.read_png(good, (6, 8, 1)) is not None
    assert png.read_png(good, (6, 8, 3)) is None and png.read_png(good, (8, 6, 1)) is None  # another shape
    assert png.read_png(png_file(tmp_path / "i.png", img, [0] * 6, interlace=1), (6, 8, 1)) is None
    data = good.read_bytes()
    bad_crc = tmp_path / "crc.png"
    bad_crc.write_bytes(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])  # IEND's CRC
    assert png.read_png(bad_crc, (6, 8, 1)) is None
    (tmp_path / "short.png").write_bytes(data[:40])
    assert png.read_png(tmp_path / "short.png", (6, 8, 1)) is None
    bad_type = png_file(tmp_path / "ft.png", img, [0, 1, 5, 0, 0, 0])  # filter type 5 does not exist
    assert png.read_png(bad_type, (6, 8, 1)) is None
    unknown = png_file(tmp_path / "crit.png", img, [0] * 6, extra=chunk(b"ZZZZ", b"?"))  # an unknown critical chunk
    assert png.read_png(unknown, (6, 8, 1)) is None
    (tmp_path / "not.png").write_bytes(b"GIF89a" + bytes(40))
    assert png.read_png(tmp_path / "not.png", (6, 8, 1)) is None
    gray = img[..., 0]
    for name, im in [("p", Image.fromarray(gray, "L").convert("P")), ("la", Image.fromarray(gray, "L").convert("LA")),
                     ("rgba", Image.fromarray(gray, "L").convert("RGBA")),
                     ("i16", Image.fromarray(gray.astype(np.uint16) * 257))]:  # 16-bit gray
        im.save(tmp_path / f"{name}.png")
        assert png.read_png(tmp_path / f"{name}.png", (6, 8, 1)) is None, name
        assert png.read_png(tmp_path / f"{name}.png", (6, 8, 3)) is None, name
    frames = [Image.fromarray(gray, "L"), Image.fromarray(255 - gray, "L")]
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    assert png.read_png(tmp_path / "anim.png", (6, 8, 1)) is None


def test_a_camera_source_gives_pillows_frames_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    d = tmp_path / "frames"
    d.mkdir()
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8), "L").save(d / f"f{i}.png")
    fast = ImageSequenceSource(sorted(d.iterdir()), d, 10.0)
    frames = [fast.frame(i) for i in range(4)]
    monkeypatch.setattr(png, "read_png", lambda path, shape: None)  # every file through Pillow
    monkeypatch.setattr(images, "DECODED", type(images.DECODED)())  # none decoded yet in this process
    slow = ImageSequenceSource(sorted(d.iterdir()), d, 10.0)
    assert all(np.array_equal(a, slow.frame(i)) for i, a in enumerate(frames))
    monkeypatch.undo()
    data = (d / "f2.png").read_bytes()
    i = data.index(b"IDAT") + 10
    (d / "f2.png").write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])  # IDAT's CRC no longer matches
    broken = ImageSequenceSource(sorted(d.iterdir()), d, 10.0)
    with pytest.raises(BadInputError) as fast_error:
        broken.frame(2)
    monkeypatch.setattr(png, "read_png", lambda path, shape: None)
    with pytest.raises(BadInputError) as slow_error:
        ImageSequenceSource(sorted(d.iterdir()), d, 10.0).frame(2)
    assert str(fast_error.value) == str(slow_error.value) and "f2.png" in str(fast_error.value)


def test_frames_are_decoded_once_per_process_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second source of the same files (the next run of a recording) gives the frames decoded for the first without
    decoding them again, read-only; a file rewritten with other pixels (the same name) is decoded again."""
    monkeypatch.setattr(images, "DECODED", type(images.DECODED)())
    rng = np.random.default_rng(5)
    d = tmp_path / "frames"
    d.mkdir()
    pixels = [rng.integers(0, 256, (24, 32), dtype=np.uint8) for _ in range(3)]
    for i, px in enumerate(pixels):
        Image.fromarray(px, "L").save(d / f"f{i}.png")
    decoded: list[str] = []
    read_png = png.read_png

    def counting(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
        decoded.append(Path(path).name)
        return read_png(path, shape)

    monkeypatch.setattr(png, "read_png", counting)
    first = [ImageSequenceSource(sorted(d.iterdir()), d, 10.0).frame(i) for i in range(3)]
    assert decoded == ["f0.png", "f1.png", "f2.png"]
    again = ImageSequenceSource(sorted(d.iterdir()), d, 10.0)
    assert all(np.array_equal(again.frame(i), px[..., None]) for i, px in enumerate(pixels))
    assert decoded == ["f0.png", "f1.png", "f2.png"] and all(np.array_equal(a, b[..., None]) for a, b in
                                                              zip(first, pixels, strict=True))
    assert not images.DECODED[next(iter(images.DECODED))].flags.writeable
    Image.fromarray(255 - pixels[1], "L").save(d / "f1.png")
    assert np.array_equal(ImageSequenceSource(sorted(d.iterdir()), d, 10.0).frame(1), 255 - pixels[1][..., None])
    assert decoded[-1] == "f1.png" and len(decoded) == 4
