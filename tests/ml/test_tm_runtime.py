"""tm runtime (firmware/runtime) on the host: bit-exact against TFLM, refusals, fuzzing.

Builds ``firmware/runtime/host`` with plain gcc into a temporary folder (reference
kernels, ``-DTM_OPTIMIZED=1`` DSP kernels on portable intrinsics, and ASan/UBSan
variants of both), runs every ``models/*.tflite`` through ``tm_host_runner`` and
compares the raw output bytes with the TFLM host interpreter (PyPI ``tflite-micro``)
on the committed ``models/<name>.inputs.npy`` vectors plus seeded random vectors
that sweep the whole int8 range.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "firmware" / "runtime" / "host"
# models/ (models/generate.py) plus tests/ml/data/extra_* (make_extra_models.py: dilation,
# grouped conv), each with <name>.inputs.npy beside it.
MODELS = sorted((ROOT / "models").glob("*.tflite"))
EXTRA = sorted((Path(__file__).parent / "data").glob("*.tflite"))
BUILDS = ["tm_host_runner", "tm_host_runner_opt"]
ASAN_BUILDS = ["tm_host_runner_asan", "tm_host_runner_opt_asan"]
EXTRA_RANDOM_VECTORS = 6


def _have_toolchain() -> bool:
    return shutil.which("gcc") is not None and shutil.which("make") is not None


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    if not _have_toolchain():
        pytest.skip("gcc/make not found: the tm host runner cannot be built")
    out = tmp_path_factory.mktemp("tm_build")
    proc = subprocess.run(
        ["make", "-C", str(HOST), f"BUILD={out}", "CC=gcc", "all", "asan"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _tflm():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        pytest.skip("tflite-micro not installed (pip install -e '.[test]')")
    return runtime


def _model_ids(models=None):
    return [m.stem for m in (MODELS if models is None else models)]


def _vectors(model: Path, interp) -> np.ndarray:
    """Committed input vectors plus seeded random ones covering the input type's range."""
    det = interp.get_input_details(0)
    shape, dtype = tuple(det["shape"]), np.dtype(det["dtype"])
    given = np.load(model.with_suffix("").with_suffix(".inputs.npy"))
    given = given.reshape((-1,) + shape).astype(dtype)
    rng = np.random.default_rng(20261125)
    if dtype == np.int8:
        extra = rng.integers(-128, 128, size=(EXTRA_RANDOM_VECTORS,) + shape)
    else:
        std = float(np.std(given)) or 1.0
        extra = rng.standard_normal((EXTRA_RANDOM_VECTORS,) + shape) * std * 1.5
    return np.concatenate([given, extra.astype(dtype)])


def _tflm_outputs(model: Path, vectors: np.ndarray) -> bytes:
    runtime = _tflm()
    interp = runtime.Interpreter.from_bytes(model.read_bytes(), arena_size=4 << 20)
    out = []
    for v in vectors:
        interp.set_input(v, 0)
        interp.invoke()
        out.append(np.ascontiguousarray(interp.get_output(0)).tobytes())
    return b"".join(out)


def _run(exe: Path, *args, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="session")
def references(tmp_path_factory):
    """model stem -> (inputs.bin path, TFLM output bytes), computed once."""
    runtime = _tflm()
    d = tmp_path_factory.mktemp("tm_ref")
    cache = {}

    def get(model: Path):
        if model.stem not in cache:
            interp = runtime.Interpreter.from_bytes(model.read_bytes(), arena_size=4 << 20)
            vecs = _vectors(model, interp)
            inp = d / f"{model.stem}.in.bin"
            vecs.tofile(inp)
            cache[model.stem] = (inp, _tflm_outputs(model, vecs), len(vecs))
        return cache[model.stem]

    return get


pytestmark = [pytest.mark.slow, pytest.mark.skipif(not MODELS, reason="no models/*.tflite yet (models/generate.py)")]


@pytest.mark.parametrize("build", BUILDS + ASAN_BUILDS)
@pytest.mark.parametrize("model", MODELS + EXTRA, ids=_model_ids(MODELS + EXTRA))
def test_bit_exact_vs_tflm(build_dir, references, model, build, tmp_path):
    inp, expected, n = references(model)
    out = tmp_path / "out.bin"
    _run(build_dir / build, model, inp, out)
    got = out.read_bytes()
    assert len(got) == len(expected)
    if got != expected:
        g, e = np.frombuffer(got, np.int8), np.frombuffer(expected, np.int8)
        bad = np.flatnonzero(g != e)
        pytest.fail(f"{model.stem} ({build}): {bad.size} of {g.size} output bytes differ "
                    f"over {n} vectors, first at byte {bad[0]}")


@pytest.mark.parametrize("model", MODELS, ids=_model_ids())
def test_info_lists_ops_and_arena(build_dir, model):
    proc = _run(build_dir / "tm_host_runner", "--info", model)
    ops = re.findall(r"^op \d+: (\w+) \(code (\d+)\)", proc.stdout, re.M)
    assert ops, proc.stdout
    assert all(name != "UNKNOWN" for name, _ in ops)
    arena = int(re.search(r"^arena bytes: (\d+)$", proc.stdout, re.M).group(1))
    assert 0 < arena < 1 << 20


def test_arena_too_small_reports_exact_need(build_dir, tmp_path):
    model = next(m for m in MODELS if m.stem == "kws_dscnn") if any(
        m.stem == "kws_dscnn" for m in MODELS) else MODELS[0]
    info = _run(build_dir / "tm_host_runner", "--info", model).stdout
    need = int(re.search(r"^arena bytes: (\d+)$", info, re.M).group(1))
    small = _run(build_dir / "tm_host_runner", "--arena", need - 16, "--info", model, check=False)
    assert small.returncode == 2
    m = re.search(r"arena too small: needs (\d+) bytes, has (\d+)", small.stderr)
    assert m, small.stderr
    assert int(m.group(1)) == need and int(m.group(2)) == need - 16
    exact = _run(build_dir / "tm_host_runner", "--arena", need, "--info", model)
    assert f"arena bytes: {need}" in exact.stdout


@pytest.mark.parametrize("cut", [0, 7, 16, 100, 0.5, 0.9, -1])
def test_truncated_model_is_refused(build_dir, tmp_path, cut):
    data = MODELS[0].read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else (len(data) + cut if cut < 0 else cut)
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(data[:n])
    for exe in ("tm_host_runner", "tm_host_runner_asan"):
        proc = _run(build_dir / exe, "--info", bad, check=False)
        assert proc.returncode == 2, proc.stderr  # refused, not crashed (< 0) nor accepted
        assert "tm_init failed" in proc.stderr and proc.stderr.strip().split(": ", 1)[1]


def _fb_table(buf: bytes, at: int) -> tuple[int, int, int]:
    """(table pos, vtable pos, vtable size) of the table the uoffset at `at` points to."""
    pos = at + struct.unpack_from("<I", buf, at)[0]
    vt = pos - struct.unpack_from("<i", buf, pos)[0]
    return pos, vt, struct.unpack_from("<H", buf, vt)[0]


def _fb_field(buf: bytes, table, fid: int) -> int | None:
    pos, vt, vsize = table
    slot = 4 + 2 * fid
    if slot + 2 > vsize:
        return None
    off = struct.unpack_from("<H", buf, vt + slot)[0]
    return pos + off if off else None


def _fb_vector(buf: bytes, table, fid: int) -> tuple[int, int]:
    p = _fb_field(buf, table, fid)
    v = p + struct.unpack_from("<I", buf, p)[0]
    return v + 4, struct.unpack_from("<I", buf, v)[0]


def _patch_first_opcode(data: bytes, code: int) -> bytes:
    """Rewrites operator_codes[0] (both deprecated_builtin_code and builtin_code)."""
    buf = bytearray(data)
    model = _fb_table(buf, 0)
    start, count = _fb_vector(buf, model, 1)
    assert count >= 1
    oc = _fb_table(buf, start)
    dep, new = _fb_field(buf, oc, 0), _fb_field(buf, oc, 3)
    assert dep is not None or new is not None, "opcode fields are defaulted; pick another model"
    if dep is not None:
        buf[dep] = min(code, 127)
    if new is not None:
        struct.pack_into("<i", buf, new, code)
    return bytes(buf)


def test_unsupported_op_named_with_index(build_dir, tmp_path):
    model = next((m for m in MODELS if m.stem == "conv2d_variants"), MODELS[0])
    bad = tmp_path / "sub.tflite"
    bad.write_bytes(_patch_first_opcode(model.read_bytes(), 41))  # SUB
    proc = _run(build_dir / "tm_host_runner", "--info", bad, check=False)
    assert proc.returncode == 2
    assert re.search(r"op 0 \(SUB\): operator not supported", proc.stderr), proc.stderr


@pytest.mark.parametrize("fuzzer", ["tm_fuzz", "tm_fuzz_ref"])
@pytest.mark.parametrize("stem", ["kws_dscnn", "float_elementwise", "concat_pad", "add_mul", "reshape_mean"])
def test_fuzzed_models_never_crash(build_dir, fuzzer, stem):
    model = ROOT / "models" / f"{stem}.tflite"
    if not model.exists():
        pytest.skip(f"{model.name} not generated")
    iterations = 800 if stem == "kws_dscnn" else 2500  # accepted kws models run a full inference
    proc = _run(build_dir / fuzzer, model, iterations, 1 + len(stem), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = re.search(r"fuzz: (\d+) iterations, (\d+) accepted, (\d+) refused, 0 crashes", proc.stdout)
    assert m and int(m.group(1)) == iterations and int(m.group(3)) > 0, proc.stdout


def test_misaligned_model_buffer_is_refused(build_dir):
    proc = _run(build_dir / "tm_host_runner_asan", "--misalign", "--info", MODELS[0], check=False)
    assert proc.returncode == 2
    assert "not 4-byte aligned" in proc.stderr, proc.stderr


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("model", MODELS + EXTRA, ids=_model_ids(MODELS + EXTRA))
def test_arena_plan_is_valid(build_dir, model, build):
    """No two buffers alive at the same op share bytes; offsets are 16-byte aligned."""
    out = _run(build_dir / build, "--info", model).stdout
    bufs = [tuple(map(int, m)) for m in re.findall(
        r"^plan \w+ \d+: offset=(\d+) bytes=(\d+) first=(-?\d+) last=(-?\d+)$", out, re.M)]
    plan = int(re.search(r"^plan bytes: (\d+)$", out, re.M).group(1))
    arena = int(re.search(r"^arena bytes: (\d+)$", out, re.M).group(1))
    assert bufs and plan <= arena
    for i, (off, size, first, last) in enumerate(bufs):
        assert off % 16 == 0 and off + size <= plan and first <= last
        for off2, size2, first2, last2 in bufs[i + 1:]:
            if first <= last2 and first2 <= last:  # lifetimes intersect
                assert off + size <= off2 or off2 + size2 <= off, (bufs[i], (off2, size2, first2, last2))
    assert plan == max((off + size + 15) // 16 * 16 for off, size, _, _ in bufs)


def _patch_second_channel_scale(data: bytes, value: float) -> bytes:
    """Set scale[1] of the first int8 tensor with per-channel scales (only scale[0] used to be checked)."""
    buf = bytearray(data)
    model = _fb_table(buf, 0)
    sg_start, _ = _fb_vector(buf, model, 2)
    sg = _fb_table(buf, sg_start)
    t_start, t_count = _fb_vector(buf, sg, 0)
    for i in range(t_count):
        t = _fb_table(buf, t_start + 4 * i)
        type_at = _fb_field(buf, t, 1)
        if _fb_field(buf, t, 4) is None or type_at is None or buf[type_at] != 9:  # TensorType INT8
            continue
        q = _fb_table(buf, _fb_field(buf, t, 4))
        if _fb_field(buf, q, 2) is None:
            continue
        start, count = _fb_vector(buf, q, 2)
        if count > 1:
            struct.pack_into("<f", buf, start + 4, value)
            return bytes(buf)
    raise AssertionError("no per-channel scales in this model")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0.0])
def test_every_per_channel_scale_is_checked(build_dir, tmp_path, value):
    bad = tmp_path / "scale.tflite"
    bad.write_bytes(_patch_second_channel_scale((ROOT / "models" / "kws_dscnn.tflite").read_bytes(), value))
    for exe in ("tm_host_runner", "tm_host_runner_asan"):  # the asan build aborts on a bad float-to-int
        proc = _run(build_dir / exe, "--info", bad, check=False)
        assert proc.returncode == 2, proc.stderr
        assert re.search(r"scale 1 is not a finite positive number", proc.stderr), proc.stderr
