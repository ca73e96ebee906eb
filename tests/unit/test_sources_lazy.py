"""Recordings open without numpy (issue 16: start-up with recordings attached) and read as numpy reads them.

The WAV, CSV, RESD and plain-NPY readers parse and check with the standard library and defer the array to its first
read. What the firmware gets must not change: the deferred arrays are compared with numpy's own reading of
the same files (np.load, np.loadtxt, the stdlib wave module), and the NPY reader's two paths (plain, np.load)
with each other on good and bad files: the same source or the same one-paragraph error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
from simcore.sources import npy_source, open_source, resd
from simcore.sources.base import regular_rate
from simcore.sources.resd import write_resd
from simcore.sources.wav import write_wav
from tests.conftest import ROOT

RNG = np.random.default_rng(16)

PROBE = """
import json, sys
from simcore.sources import open_source
specs = json.loads(sys.argv[1])
sources = [open_source(path, **opts) for path, opts in specs]
before = "numpy" in sys.modules
meta = [[len(s), s.rate_hz, s.start_s, s.duration_s, list(s.channels), s.dtype_name, s.full_scale] for s in sources]
data = [s.take(0, len(s)).tolist() for s in sources]
print(json.dumps({"numpy_at_open": before, "numpy_after_read": "numpy" in sys.modules, "meta": meta, "data": data}))
"""


def _files(tmp: Path) -> list[tuple[str, dict[str, object]]]:
    """One file of each kind the readers defer, with the options they are opened with."""
    write_wav(tmp / "m16.wav", RNG.integers(-32768, 32768, size=(500, 1)), 16000, "pcm16")
    write_wav(tmp / "s24.wav", RNG.integers(-(1 << 23), 1 << 23, size=(300, 2)), 8000, "pcm24", extensible=True)
    write_wav(tmp / "f32.wav", RNG.uniform(-1, 1, size=(200, 1)), 48000, "float32")
    t = np.arange(120) * 0.02
    acc = RNG.normal(size=(120, 3)).round(6)
    rows = ["t,ax,ay,az"] + [f"{a:.2f},{b},{c},{d}" for a, (b, c, d) in zip(t, acc.tolist(), strict=True)]
    (tmp / "imu.csv").write_text("\n".join(rows) + "\n")
    np.save(tmp / "adc.npy", RNG.integers(0, 4096, size=(64, 2), dtype=np.uint16))
    np.save(tmp / "cam.npy", RNG.integers(0, 256, size=(3, 6, 8), dtype=np.uint8))
    irregular = np.column_stack([np.cumsum(RNG.uniform(0.001, 0.01, size=50)), RNG.normal(size=50)])
    np.save(tmp / "irr.npy", irregular.astype(np.float32))
    return [(str(ROOT / "examples" / "data" / "accel_2s.resd"), {}),
            (str(tmp / "m16.wav"), {}), (str(tmp / "s24.wav"), {}), (str(tmp / "f32.wav"), {}),
            (str(tmp / "imu.csv"), {}), (str(tmp / "adc.npy"), {"rate_hz": 500.0}),
            (str(tmp / "cam.npy"), {"fps": 4.0}), (str(tmp / "irr.npy"), {"time_column": 0})]


def _numpy_reading(path: str, opts: dict[str, object]) -> np.ndarray:
    """The samples as numpy reads the file itself (not through simcore's readers)."""
    p = Path(path)
    if p.suffix == ".resd":  # the blocks numpy decodes (parse_resd), in physical units
        blocks = resd.parse_resd(p)
        return np.concatenate([b.raw for b in blocks]).astype(np.float64) * blocks[0].sample_type.scale
    if p.suffix == ".csv":
        return np.loadtxt(p, delimiter=",", skiprows=1)[:, 1:]
    if p.suffix == ".npy":
        a = np.load(p)
        if a.ndim == 3:
            return a[..., None]
        return a[:, 1:].astype(a.dtype) if "time_column" in opts else a
    if p.name == "f32.wav":  # float32 samples after the 44-byte header, widened
        return np.frombuffer(p.read_bytes()[44:], dtype="<f4").astype(np.float64)[:, None]
    if p.name == "m16.wav":
        with wave.open(str(p)) as w:
            return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")[:, None]
    raw = np.frombuffer(p.read_bytes()[68:], dtype=np.uint8).reshape(-1, 3).astype(np.int32)  # 24-bit in 2 channels
    v = raw[:, 0] | raw[:, 1] << 8 | raw[:, 2] << 16
    return np.where(v >= 1 << 23, v - (1 << 24), v).reshape(-1, 2)


def test_recordings_open_without_numpy_and_read_as_numpy_reads_them(tmp_path: Path) -> None:
    specs = _files(tmp_path)
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(specs)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["numpy_at_open"] is False  # opening (and checking) every file imported no numpy
    assert out["numpy_after_read"] is True
    for (path, opts), meta, data in zip(specs, out["meta"], out["data"], strict=True):
        want = _numpy_reading(path, opts)
        got = np.asarray(data)
        assert got.shape == want.shape, path
        np.testing.assert_array_equal(got, want, err_msg=path)
        src = open_source(path, **opts)  # in this process: the same figures as in the fresh one
        assert meta == [len(src), src.rate_hz, src.start_s, src.duration_s, list(src.channels), src.dtype_name,
                        src.full_scale]
        assert src.take(0, len(src)).dtype == np.dtype(meta[5]) == want.dtype


def _both_paths(path: Path, opts: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """The NPY reader's result (source or error text) through the plain path and through np.load."""
    def attempt() -> object:
        try:
            return open_source(path, **opts)
        except BadInputError as exc:
            return str(exc)

    plain = attempt()
    with monkeypatch.context() as m:
        m.setattr(npy_source, "_read_plain", lambda *a: None)
        loaded = attempt()
    return plain, loaded


NPY_CASES = [
    ("int16 rate", np.arange(30, dtype=np.int16).reshape(10, 3), {"rate_hz": 100.0}),
    ("uint8 1-D", np.arange(9, dtype=np.uint8), {"rate_hz": 3.0}),
    ("int64 time", np.column_stack([np.arange(8) * 2, np.arange(8)]).astype(np.int64), {"time_column": 0}),
    ("f8 regular time", np.column_stack([np.arange(20) / 50, RNG.normal(size=(20, 2))]), {"time_column": 0}),
    ("f4 irregular time, renamed", np.column_stack([np.sort(RNG.uniform(0, 1, 15)), RNG.normal(size=(15, 2))])
     .astype(np.float32), {"time_column": -3, "channels": ["x", "y"]}),
    ("gray frames", RNG.integers(0, 256, size=(2, 4, 5), dtype=np.uint8), {"fps": 2.0}),
    ("rgb frames", RNG.integers(0, 256, size=(2, 4, 5, 3), dtype=np.uint8), {"fps": 2.0, "end": "loop"}),
    ("nan", np.array([[0.0, 1.0], [2.0, np.nan]]), {"rate_hz": 1.0}),
    ("-inf f4", np.array([[0.0, -np.inf]], dtype=np.float32), {"rate_hz": 1.0}),
    ("no rate", np.zeros((3, 2)), {}),
    ("time not increasing", np.array([[0.0, 1], [0.5, 2], [0.5, 3]]), {"time_column": 0}),
    ("time column missing", np.zeros((3, 2)), {"time_column": 5}),
    ("time column by name on plain", np.zeros((3, 2)), {"time_column": "t"}),
    ("only a time column", np.arange(4.0), {"time_column": 0}),
    ("channel count", np.zeros((3, 2)), {"rate_hz": 1.0, "channels": ["a"]}),
    ("empty", np.zeros((0, 3)), {"rate_hz": 1.0}),
    ("frames without fps", np.zeros((2, 3, 3), dtype=np.uint8), {}),
    ("frames of int16", np.zeros((2, 3, 3), dtype=np.int16), {"fps": 1.0}),
    ("two planes", np.zeros((2, 3, 3, 2), dtype=np.uint8), {"fps": 1.0}),
    ("5-D", np.zeros((1, 1, 1, 1, 1), dtype=np.uint8), {"fps": 1.0}),
    ("fortran order", np.asfortranarray(np.arange(12.0).reshape(4, 3)), {"rate_hz": 4.0}),
    ("big-endian", np.arange(6, dtype=">i4").reshape(3, 2), {"rate_hz": 4.0}),
    ("bool", np.array([True, False, True]), {"rate_hz": 1.0}),
]


@pytest.mark.parametrize(("name", "arr", "opts"), NPY_CASES, ids=[c[0] for c in NPY_CASES])
def test_npy_plain_path_equals_np_load_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                            arr: np.ndarray, opts: dict[str, object]) -> None:
    np.save(tmp_path / "x.npy", arr)
    plain, loaded = _both_paths(tmp_path / "x.npy", opts, monkeypatch)
    if isinstance(loaded, str):
        assert plain == loaded
        return
    assert not isinstance(plain, str), plain
    for attr in ("rate_hz", "start_s", "duration_s", "channels", "dtype_name", "sample_shape", "end_rule"):
        assert getattr(plain, attr) == getattr(loaded, attr), attr
    assert len(plain) == len(loaded)  # type: ignore[arg-type]
    a, b = plain.take(0, len(plain)), loaded.take(0, len(loaded))  # type: ignore[attr-defined, arg-type]
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    if plain.rate_hz is None:  # type: ignore[attr-defined]
        np.testing.assert_array_equal(plain.times(), loaded.times())  # type: ignore[attr-defined]


def test_truncated_and_corrupt_npy_give_np_load_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    np.save(tmp_path / "ok.npy", np.arange(10.0))
    good = (tmp_path / "ok.npy").read_bytes()
    for i, blob in enumerate([good[:-9], good[:20], good[:8] + b"{'descr': '<f8'" + good[23:],
                              good.replace(b"'fortran_order': False", b"'fortran_order': 0    ")]):
        (tmp_path / f"b{i}.npy").write_bytes(blob)
        plain, loaded = _both_paths(tmp_path / f"b{i}.npy", {"rate_hz": 1.0}, monkeypatch)
        assert isinstance(plain, str) and plain == loaded, (i, plain, loaded)


@pytest.mark.parametrize("fmt", ["float32", "float64"])
def test_float_wav_with_a_nan_is_refused_at_open(tmp_path: Path, fmt: str) -> None:
    x = RNG.uniform(-1, 1, size=(50, 2))
    x[31, 1] = np.nan
    write_wav(tmp_path / "n.wav", x, 8000, fmt)
    with pytest.raises(BadInputError, match=r"n\.wav: frame 31, channel 1: sample nan is not finite"):
        open_source(tmp_path / "n.wav")
    x[31, 1] = -np.inf
    write_wav(tmp_path / "i.wav", x, 8000, fmt)
    with pytest.raises(BadInputError, match=r"frame 31, channel 1: sample -inf is not finite"):
        open_source(tmp_path / "i.wav")


def test_regular_rate_equals_numpy_median_rule() -> None:
    """The stdlib rate finder against numpy's diff/median/abs/max on regular, jittered and odd/even lengths."""
    def with_numpy(t: np.ndarray) -> float | None:
        dt = np.diff(t)
        med = float(np.median(dt))
        if med <= 0 or np.max(np.abs(dt - med)) > 1e-6 * med + 1e-12:
            return None
        return float(f"{1.0 / med:.9g}")

    for n in (2, 3, 10, 11, 1000):
        for t in (np.arange(n) / 104.0, np.arange(n) * 0.02 + 5.0, np.cumsum(RNG.uniform(0.9, 1.1, n)),
                  np.arange(n) * 1e-3 + RNG.normal(scale=1e-13, size=n)):
            assert regular_rate(t.tolist()) == with_numpy(t)


def test_csv_cells_with_spaces_blank_lines_and_extra_columns(tmp_path: Path) -> None:
    """The bulk conversion keeps the cell-by-cell rules: padded cells, blank lines and unused columns are fine
    (the same values as numpy's reading), and the first bad cell in file order is the one named."""
    text = "t, ax ,ay,note\n\n0.0, 1.5 ,-2,a\n 0.01,3e-1,4 ,b\n\n0.02,5,  6,c\n"
    (tmp_path / "p.csv").write_text(text)
    src = open_source(tmp_path / "p.csv", columns=["ax", "ay"])
    want = np.array([[1.5, -2.0], [0.3, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(src.take(0, 3), want)
    assert src.rate_hz == 100.0 and src.channels == ("ax", "ay")
    (tmp_path / "b.csv").write_text("t,ax\n0,1\n0.01,inf\n0.02,x\n")
    with pytest.raises(BadInputError, match=r"row 3, column 'ax': value 'inf' is not finite"):
        open_source(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("t,ax\n0,1\n0.01,x\n0.02,nan\n")
    with pytest.raises(BadInputError, match=r"row 3, column 'ax': 'x' is not a number"):
        open_source(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text("t,ax,ay\n0,1,2\n0.01,1\n")
    with pytest.raises(BadInputError, match=r"row 3 has 2 fields but the header names 3 columns"):
        open_source(tmp_path / "d.csv")


def _resd_cases(tmp: Path) -> list[tuple[str, dict[str, object]]]:
    """RESD files the plain reader takes or leaves to the numpy path, with the options they are opened with."""
    acc = RNG.integers(-2_000_000, 2_000_000, size=(20, 3))
    temp = RNG.integers(20_000, 30_000, size=(5, 1))
    ts = np.array([0, 7, 20, 21, 50]) * 1_000_000
    pressure = RNG.integers(90_000_000, 110_000_000, size=(6, 1)).astype(np.uint64)
    files = {
        "mixed": [{"sample_type": "acceleration", "channel": 0, "period_ns": 10_000_000, "raw": acc[:10]},
                  {"sample_type": "temperature", "channel": 3, "start_ns": 5_000_000, "times_ns": ts, "raw": temp},
                  {"sample_type": "acceleration", "channel": 0, "period_ns": 10_000_000, "start_ns": 100_000_000,
                   "raw": acc[10:]}],
        "pressure": [{"sample_type": "pressure", "channel": 1, "period_ns": 1_000_000, "start_ns": 3, "raw": pressure}],
        "overlap": [{"sample_type": "voltage", "channel": 0, "period_ns": 5, "raw": np.arange(4)},
                    {"sample_type": "voltage", "channel": 0, "period_ns": 5, "start_ns": 10, "raw": np.arange(4)}],
        "late": [{"sample_type": "humidity", "channel": 0, "start_ns": 2**63, "times_ns": [0, 1], "raw": [[1], [2]]}],
        "not increasing": [{"sample_type": "ecg", "channel": 0, "times_ns": [0, 5, 5], "raw": [[1], [2], [3]]}],
    }
    for name, blocks in files.items():
        write_resd(tmp / f"{name}.resd", blocks)
    good = tmp / "mixed.resd"
    blob = good.read_bytes()
    (tmp / "truncated.resd").write_bytes(blob[:-3])
    (tmp / "version.resd").write_bytes(blob[:4] + b"\x02" + blob[5:])
    return [(str(good), {"sample_type": "acceleration", "channel": 0}), (str(good), {"sample_type": "temperature"}),
            (str(good), {}), (str(good), {"sample_type": "light"}), (str(good), {"sample_type": 8}),
            (str(tmp / "pressure.resd"), {}), (str(tmp / "overlap.resd"), {}), (str(tmp / "late.resd"), {}),
            (str(tmp / "not increasing.resd"), {}), (str(tmp / "truncated.resd"), {}),
            (str(tmp / "version.resd"), {"sample_type": "acceleration"})]


def test_resd_plain_path_equals_numpy_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RESD of standard sample types is read without numpy; the same source (values, times, rate) or the same
    error as the numpy path (parse_resd) on good, overlapping, late (near 2^63 ns), non-increasing and corrupt
    files."""
    plain_used = 0
    def attempt(path: str, opts: dict[str, object]) -> object:
        try:
            return open_source(path, **opts)
        except BadInputError as exc:
            return str(exc)

    for path, opts in _resd_cases(tmp_path):
        plain = attempt(path, opts)
        plain_used += resd._read_plain(path, opts.get("sample_type"), opts.get("channel"), "stop") is not None
        with monkeypatch.context() as m:
            m.setattr(resd, "_read_plain", lambda *a: None)
            loaded = attempt(path, opts)
        if isinstance(loaded, str):
            assert plain == loaded, (path, opts)
            continue
        assert not isinstance(plain, str), (path, opts, plain)
        for attr in ("rate_hz", "start_s", "duration_s", "channels", "units", "dtype_name"):
            assert getattr(plain, attr) == getattr(loaded, attr), (path, attr)
        a, b = plain.take(0, len(plain)), loaded.take(0, len(loaded))  # type: ignore[attr-defined, arg-type]
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(plain.times(), loaded.times())  # type: ignore[attr-defined]
    assert plain_used == 3  # acceleration, temperature, pressure: the others are errors the numpy path names
