"""Sources: every format round-trips synthesized data; every corrupt input is a BadInputError."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
from simcore.sources import EndOfDataError, open_source, read_resd
from simcore.sources.base import ArraySource
from simcore.sources.images import frame_to_pixels
from simcore.sources.resample import resample
from simcore.sources.resd import write_resd
from simcore.sources.wav import write_wav

RNG = np.random.default_rng(1234)


# --- WAV ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "lo", "hi", "full"),
    [("pcm8", -128, 127, 128), ("pcm16", -32768, 32767, 32768), ("pcm24", -(1 << 23), (1 << 23) - 1, 1 << 23)],
)
@pytest.mark.parametrize("extensible", [False, True])
@pytest.mark.parametrize("nch", [1, 2, 3])
def test_wav_pcm_round_trip(tmp_path: Path, fmt: str, lo: int, hi: int, full: int, extensible: bool, nch: int) -> None:
    x = RNG.integers(lo, hi + 1, size=(777, nch))
    write_wav(tmp_path / "a.wav", x, 22050, fmt, extensible=extensible)
    src = open_source(tmp_path / "a.wav")
    assert src.rate_hz == 22050
    assert len(src.channels) == nch
    got = src.take(0, 777)
    np.testing.assert_array_equal(got, x)
    assert src.full_scale == full
    assert src.duration_s == pytest.approx(777 / 22050)


def test_wav_pcm32_and_float(tmp_path: Path) -> None:
    x32 = RNG.integers(-(1 << 31), (1 << 31) - 1, size=(100, 2))
    write_wav(tmp_path / "i.wav", x32, 8000, "pcm32")
    np.testing.assert_array_equal(open_source(tmp_path / "i.wav").take(0, 100), x32)
    for fmt, dt in (("float32", np.float32), ("float64", np.float64)):
        f = RNG.uniform(-1, 1, size=(300, 1))
        write_wav(tmp_path / f"{fmt}.wav", f, 48000, fmt, extensible=fmt == "float64")
        src = open_source(tmp_path / f"{fmt}.wav")
        np.testing.assert_array_equal(src.take(0, 300), f.astype(dt).astype(np.float64))
        assert src.full_scale == 1.0


def _good_wav(tmp_path: Path) -> bytes:
    write_wav(tmp_path / "g.wav", np.arange(100, dtype=np.int16), 16000)
    return (tmp_path / "g.wav").read_bytes()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda b: b[:-10], "truncated"),
        (lambda b: b[:40] + struct.pack("<I", 10_000) + b[44:], "bad chunk size"),
        (lambda b: b[:20] + struct.pack("<H", 2) + b[22:], "format tag"),
        (lambda b: b[:34] + struct.pack("<H", 12) + b[36:], "12-bit"),
        (lambda b: b[:32] + struct.pack("<H", 4) + b[34:], "block_align"),
        (lambda b: b"RIFX" + b[4:], "not a WAV"),
        (lambda b: b[:4] + struct.pack("<I", len(b) - 8 - 1) + b[8:40] + struct.pack("<I", 199) + b[44:-1], "frames"),
        (lambda b: b[:12] + b"LIST" + b[16:], "no 'fmt '"),
    ],
)
def test_wav_corrupt(tmp_path: Path, mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.wav").write_bytes(mutate(_good_wav(tmp_path)))
    with pytest.raises(BadInputError) as info:
        open_source(tmp_path / "bad.wav")
    msg = str(info.value)
    assert needle in msg
    assert "bad.wav" in msg
    assert "\n" not in msg


# --- end rules, time look-ups --------------------------------------------------------------
def test_end_rules_by_index_and_time() -> None:
    data = np.arange(10, dtype=np.int16)
    mk = lambda rule: ArraySource("mem", data, channels=("x",), rate_hz=10.0, end_rule=rule)  # noqa: E731
    np.testing.assert_array_equal(mk("loop").take(8, 13)[:, 0], [8, 9, 0, 1, 2])
    np.testing.assert_array_equal(mk("hold").take(8, 13)[:, 0], [8, 9, 9, 9, 9])
    assert len(mk("stop").take(8, 13)) == 2
    with pytest.raises(EndOfDataError, match="end rule is 'error'"):
        mk("error").take(8, 13)
    t = np.array([0.0, 0.05, 0.1, 0.99, 1.0, 1.25, 2.71])
    np.testing.assert_array_equal(mk("loop").sample_at(t)[:, 0], [0, 0, 1, 9, 0, 2, 7])
    np.testing.assert_array_equal(mk("hold").sample_at(t)[:, 0], [0, 0, 1, 9, 9, 9, 9])
    np.testing.assert_array_equal(mk("stop").index_at(t), [0, 0, 1, 9, -1, -1, -1])
    ts, vs = mk("loop").samples_between(0.85, 1.25)
    np.testing.assert_allclose(ts, [0.9, 1.0, 1.1, 1.2])
    np.testing.assert_array_equal(vs[:, 0], [9, 0, 1, 2])


# --- CSV ------------------------------------------------------------------------------------
def _write_csv(path: Path, header: list[str], rows: np.ndarray | list[list[str]]) -> None:
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def test_csv_time_column_round_trip(tmp_path: Path) -> None:
    t = np.arange(50) / 100.0
    vals = RNG.normal(size=(50, 6))
    _write_csv(tmp_path / "imu.csv", ["t", "ax", "ay", "az", "gx", "gy", "gz"], np.column_stack([t, vals]))
    src = open_source(tmp_path / "imu.csv", end="hold")
    assert src.rate_hz == pytest.approx(100.0)
    assert src.channels == ("ax", "ay", "az", "gx", "gy", "gz")
    assert src.units == ("g", "g", "g", "dps", "dps", "dps")
    np.testing.assert_allclose(src.take(0, 50), vals)
    np.testing.assert_allclose(src.sample_at(0.125)[0], vals[12])


def test_csv_irregular_times_and_stated_rate(tmp_path: Path) -> None:
    t = np.cumsum(RNG.uniform(0.005, 0.02, size=30))
    vals = RNG.normal(size=(30, 3))
    _write_csv(tmp_path / "irr.csv", ["timestamp_ms", "ax", "ay", "az"], np.column_stack([t * 1000, vals]))
    src = open_source(tmp_path / "irr.csv")
    assert src.rate_hz is None
    np.testing.assert_allclose(src.times(), t)
    np.testing.assert_allclose(src.sample_at(t[7] + 1e-6)[0], vals[7])
    _write_csv(tmp_path / "r.csv", ["ax"], vals[:, :1])
    src2 = open_source(tmp_path / "r.csv", rate_hz=50.0, columns=["ax"])
    assert src2.rate_hz == 50.0 and len(src2) == 30


@pytest.mark.parametrize(
    ("header", "rows", "opts", "needle"),
    [
        (["t", "ax", "ay"], [["0", "1", "2"]], {"columns": ["ax", "az"]}, "missing column(s) az"),
        (["t", "ax"], [["0", "1"], ["0.01", "nan"]], {}, "row 3, column 'ax'"),
        (["t", "ax"], [["0", "1"], ["0.01", "inf"]], {}, "not finite"),
        (["t", "ax"], [["0", "1"], ["0.01", "abc"]], {}, "'abc' is not a number"),
        (["ax", "ay"], [["0", "1"]], {}, "no time column"),
        (["t", "ax"], [["0", "1"], ["0", "2"]], {}, "times must increase"),
        (["t", "ax"], [["0", "1"], ["0.01"]], {}, "row 3 has 1 fields"),
        (["t", "ax"], [["0", "1"], ["0.01", "2"]], {"rate_hz": 50.0}, "does not match the stated rate"),
    ],
)
def test_csv_corrupt(tmp_path: Path, header: list[str], rows: list[list[str]], opts: dict, needle: str) -> None:
    _write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(BadInputError) as info:
        open_source(tmp_path / "bad.csv", **opts)
    assert needle in str(info.value)
    assert "bad.csv" in str(info.value)


# --- NPY ------------------------------------------------------------------------------------
def test_npy_rate_time_column_and_structured(tmp_path: Path) -> None:
    x = RNG.integers(0, 4096, size=(200,), dtype=np.uint16)
    np.save(tmp_path / "adc.npy", x)
    src = open_source(tmp_path / "adc.npy", rate_hz=1000.0)
    np.testing.assert_array_equal(src.take(0, 200)[:, 0], x)
    t = np.sort(RNG.uniform(0, 1, size=40))
    arr = np.column_stack([t, RNG.normal(size=(40, 2))])
    np.save(tmp_path / "tc.npy", arr)
    src2 = open_source(tmp_path / "tc.npy", time_column=0, channels=["a", "b"])
    assert src2.channels == ("a", "b") and src2.rate_hz is None
    np.testing.assert_allclose(src2.times(), t)
    rec = np.zeros(5, dtype=[("time", "f8"), ("v", "f4")])
    rec["time"] = np.arange(5) * 0.5
    rec["v"] = [1, 2, 3, 4, 5]
    np.save(tmp_path / "rec.npy", rec)
    src3 = open_source(tmp_path / "rec.npy")
    assert src3.rate_hz == 2.0 and src3.channels == ("v",)
    np.testing.assert_array_equal(src3.take(0, 5)[:, 0], [1, 2, 3, 4, 5])


def test_npy_corrupt(tmp_path: Path) -> None:
    bad = np.array([[0.0, 1.0], [1.0, np.nan]])
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(BadInputError, match=r"row 1, column 'ch1'.*not finite"):
        open_source(tmp_path / "nan.npy", rate_hz=10.0)
    np.save(tmp_path / "ok.npy", np.zeros(4))
    with pytest.raises(BadInputError, match="no sample rate"):
        open_source(tmp_path / "ok.npy")
    (tmp_path / "trunc.npy").write_bytes((tmp_path / "ok.npy").read_bytes()[:-9])
    with pytest.raises(BadInputError, match="not a valid .npy"):
        open_source(tmp_path / "trunc.npy", rate_hz=1.0)
    np.save(tmp_path / "str.npy", np.array(["a", "b"]))
    with pytest.raises(BadInputError, match="only numeric"):
        open_source(tmp_path / "str.npy", rate_hz=1.0)


# --- images ---------------------------------------------------------------------------------
def test_png_sequence_and_pixel_formats(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    frames = RNG.integers(0, 256, size=(4, 12, 16, 3), dtype=np.uint8)
    for i, f in enumerate(frames):
        image.fromarray(f, "RGB").save(tmp_path / f"f{i:03d}.png")
    src = open_source(tmp_path, fps=10.0, end="loop")
    assert len(src) == 4 and src.sample_shape == (12, 16, 3)
    np.testing.assert_array_equal(src.sample_at(0.25)[0], frames[2])
    np.testing.assert_array_equal(src.sample_at(0.45)[0], frames[0])  # looped
    glob_src = open_source(str(tmp_path / "f00[12].png"), fps=5.0)
    assert len(glob_src) == 2
    f = frames[1]
    assert frame_to_pixels(f, 16, 12, "RGB888") == f.tobytes()
    expect565 = (
        ((f[..., 0].astype(np.uint16) >> 3) << 11) | ((f[..., 1].astype(np.uint16) >> 2) << 5) | (f[..., 2] >> 3)
    )
    assert frame_to_pixels(f, 16, 12, "RGB565") == expect565.astype("<u2").tobytes()
    with pytest.raises(BadInputError, match="configured for GRAY8"):
        frame_to_pixels(f, 16, 12, "GRAY8")
    luma = np.clip(np.rint(f @ np.array([0.299, 0.587, 0.114])), 0, 255).astype(np.uint8)
    assert frame_to_pixels(f, 16, 12, "GRAY8", convert=True) == luma.tobytes()
    with pytest.raises(BadInputError, match="16x12 but the camera is configured for 8x6"):
        frame_to_pixels(f, 8, 6, "RGB888")
    assert frame_to_pixels(f, 8, 6, "RGB888", resize=True) == f[::2, ::2].tobytes()


def test_images_corrupt(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    image.fromarray(np.zeros((8, 8), np.uint8), "L").save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(BadInputError, match=r"b\.png: is not a readable image"):
        open_source(tmp_path, fps=1.0)
    (tmp_path / "b.png").unlink()
    image.fromarray(np.zeros((9, 8), np.uint8), "L").save(tmp_path / "c.png")
    with pytest.raises(BadInputError, match="must match"):
        open_source(tmp_path, fps=1.0)
    (tmp_path / "c.png").unlink()
    image.fromarray(np.zeros((8, 8), np.uint8), "L").save(tmp_path / "d.png")
    with pytest.raises(BadInputError, match="no frame rate"):
        open_source(str(tmp_path / "*.png"))


def test_npy_frames(tmp_path: Path) -> None:
    frames = RNG.integers(0, 256, size=(3, 5, 7), dtype=np.uint8)
    np.save(tmp_path / "cam.npy", frames)
    src = open_source(tmp_path / "cam.npy", fps=2.0)
    assert src.sample_shape == (5, 7, 1)
    np.testing.assert_array_equal(src.sample_at(1.0)[0, :, :, 0], frames[2])


# --- RESD -----------------------------------------------------------------------------------
def test_resd_constant_and_arbitrary_blocks(tmp_path: Path) -> None:
    acc = RNG.integers(-2_000_000, 2_000_000, size=(20, 3))
    temp = RNG.integers(20_000, 30_000, size=(5, 1))
    ts = np.array([0, 7, 20, 21, 50]) * 1_000_000
    write_resd(
        tmp_path / "x.resd",
        [
            {"sample_type": "acceleration", "channel": 0, "period_ns": 10_000_000, "start_ns": 0, "raw": acc[:10]},
            {"sample_type": "temperature", "channel": 3, "start_ns": 5_000_000, "times_ns": ts, "raw": temp},
            {
                "sample_type": "acceleration",
                "channel": 0,
                "period_ns": 10_000_000,
                "start_ns": 100_000_000,
                "raw": acc[10:],
            },
        ],
    )
    a = open_source(tmp_path / "x.resd", sample_type="acceleration", channel=0)
    assert a.rate_hz == pytest.approx(100.0) and a.units == ("g", "g", "g")
    np.testing.assert_allclose(a.take(0, 20), acc * 1e-6)
    t = read_resd(tmp_path / "x.resd", sample_type="temperature")
    assert t.rate_hz is None
    np.testing.assert_allclose(t.times(), (ts + 5_000_000) * 1e-9)
    np.testing.assert_allclose(t.sample_at(0.0252)[0], temp[2] * 1e-3)
    with pytest.raises(BadInputError, match="holds several channels"):
        open_source(tmp_path / "x.resd")


def _resd_bytes(tmp_path: Path) -> bytes:
    write_resd(
        tmp_path / "g.resd",
        [{"sample_type": "angular_rate", "channel": 0, "period_ns": 1_000_000, "raw": np.ones((4, 3))}],
    )
    return (tmp_path / "g.resd").read_bytes()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda b: b[:9] + struct.pack("<H", 0x0042) + b[11:], "sample type 0x0042"),
        (lambda b: b[:9] + struct.pack("<H", 0xF001) + b[11:], "custom type"),
        (lambda b: b[:-5], "truncated"),
        (lambda b: b[:8] + b"\x07" + b[9:], "unknown block type 7"),
        (lambda b: b"RESX" + b[4:], "not a RESD file"),
        (lambda b: b[:4] + b"\x02" + b[5:], "version 2"),
        (lambda b: b[:13] + struct.pack("<Q", struct.unpack_from("<Q", b, 13)[0] - 2) + b[21:-2], "whole number"),
        (lambda b: b[:8] + b[8:10], "block header"),
    ],
)
def test_resd_corrupt(tmp_path: Path, mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.resd").write_bytes(mutate(_resd_bytes(tmp_path)))
    with pytest.raises(BadInputError) as info:
        open_source(tmp_path / "bad.resd")
    assert needle in str(info.value)
    assert "bad.resd" in str(info.value)


# --- resampling and dispatch ----------------------------------------------------------------
def test_resample_linear_and_hold() -> None:
    fs = 48000
    t = np.arange(4800) / fs
    x = np.sin(2 * np.pi * 440 * t)
    src = ArraySource("mem", x, channels=("mono",), rate_hz=fs)
    out = resample(src, 16000)
    assert out.rate_hz == 16000 and len(out) == 1600
    expect = np.sin(2 * np.pi * 440 * np.arange(1600) / 16000)
    # away from the edges the filtered, interpolated tone matches the ideal one closely
    assert np.max(np.abs(out.take(0, 1600)[100:-100, 0] - expect[100:-100])) < 0.01
    tone = np.sin(2 * np.pi * 15000 * t)  # above the new Nyquist: must be filtered out, not aliased
    aliased = resample(ArraySource("mem", tone, channels=("m",), rate_hz=fs), 16000).take(0, 1600)[100:-100, 0]
    assert np.max(np.abs(aliased)) < 0.01
    held = resample(ArraySource("mem", np.arange(4.0), channels=("m",), rate_hz=2.0), 4.0, "hold")
    np.testing.assert_array_equal(held.take(0, 8)[:, 0], [0, 0, 1, 1, 2, 2, 3, 3])


def test_open_source_dispatch_errors(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\x00" * 16)
    with pytest.raises(BadInputError, match="unknown format"):
        open_source(tmp_path / "x.bin")
    with pytest.raises(BadInputError, match="cannot be opened"):
        open_source(tmp_path / "missing.wav")
    write_wav(tmp_path / "a.wav", np.zeros(10, np.int16), 8000)
    with pytest.raises(BadInputError, match="do not apply"):
        open_source(tmp_path / "a.wav", fps=3)
    with pytest.raises(BadInputError, match="end-of-data rule"):
        open_source(tmp_path / "a.wav", end="rewind")
    assert open_source(tmp_path / "a.wav", resample_hz=16000).rate_hz == 16000


def test_resd_custom_sample_type_heart_rate(tmp_path: Path) -> None:
    custom = {"0xF001": {"name": "heart_rate", "dtype": "<u4", "channels": ["bpm"], "scale": 1e-3, "unit": "bpm"}}
    bpm = np.array([[72_000], [75_500], [80_250]])
    write_resd(
        tmp_path / "hr.resd",
        [
            {
                "sample_type": "heart_rate",
                "channel": 1,
                "start_ns": 0,
                "times_ns": [0, 900_000_000, 1_700_000_000],
                "raw": bpm,
            }
        ],
        custom_types=custom,
    )
    with pytest.raises(BadInputError, match="custom type: describe it with the custom_types option"):
        open_source(tmp_path / "hr.resd")
    src = open_source(tmp_path / "hr.resd", custom_types=custom)
    assert src.channels == ("bpm",) and src.units == ("bpm",)
    np.testing.assert_allclose(src.sample_at([0.5, 1.0, 2.0])[:, 0], [72.0, 75.5, 80.25])
    with pytest.raises(BadInputError, match="outside the Custom range"):
        open_source(tmp_path / "hr.resd", custom_types={"0x0042": {"name": "x"}})


def test_cli_inspector_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from simcore.sources.__main__ import main

    write_wav(tmp_path / "a.wav", np.zeros(160, np.int16), 16000)
    assert main([str(tmp_path / "a.wav"), "end=loop"]) == 0
    assert '"rate_hz": 16000.0' in capsys.readouterr().out
    (tmp_path / "b.wav").write_bytes((tmp_path / "a.wav").read_bytes()[:30])
    assert main([str(tmp_path / "b.wav")]) == 2
    err = capsys.readouterr().err
    assert "b.wav" in err and "Traceback" not in err
