"""tm runtime cross-compiled for Cortex-M4 and run on simcore's emulated part.

For a few models of ``models/``, builds an ELF from ``firmware/common`` (startup, console,
semihosting), ``firmware/runtime`` and ``tests/ml/fw/tm_model_main.c`` with the model and
its input vectors linked in, runs it with ``python -m simcore run`` on the generic
``cortex-m4`` board, and compares every printed output with the TFLM host interpreter,
byte for byte, for the reference and the ``TM_OPTIMIZED=1`` (SMLAD) kernels. The
optimized build must also execute fewer instructions.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
FW = ROOT / "firmware"
RT = FW / "runtime"
BOARD = "cortex-m4"
ARCH = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
# int8 models only: float SOFTMAX/LOGISTIC/TANH call newlib's expf/tanhf on the target,
# which need not round like glibc's (the TFLM reference runs on the host).
MODELS = ["kws_dscnn", "conv2d_variants", "depthwise_conv", "fully_connected", "activations",
          "add_mul", "pooling", "reshape_mean", "concat_pad", "requantize"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@pytest.fixture(scope="session")
def board_files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tm_fw_board")
    for cmd in ([sys.executable, str(FW / "tools" / "boardgen.py"), "header", BOARD, str(d / "board.h")],
                [sys.executable, "-m", "simcore.ldgen", BOARD, str(d / "memory.ld")],
                [sys.executable, str(FW / "tools" / "boardgen.py"), "mk", BOARD, str(d / "boards.mk")]):
        p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT)
        if p.returncode:
            pytest.skip(f"board files could not be generated: {p.stderr.strip()[-300:]}")
    return d


def _console_kind(board_dir: Path) -> str:
    for line in (board_dir / "boards.mk").read_text().splitlines():
        if line.startswith(f"CONSOLE_KIND.{BOARD}"):
            return line.split(":=")[1].strip()
    raise AssertionError("no console kind for " + BOARD)


CFLAGS = [*ARCH, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections"]
_OBJ_CACHE: dict[tuple[Path, bool], list[Path]] = {}


def _objects(board_dir: Path, optimized: bool) -> list[Path]:
    """Startup, console, runtime and test main compiled once per session and kernel set."""
    key = (board_dir, optimized)
    if key not in _OBJ_CACHE:
        od = board_dir / ("obj_opt" if optimized else "obj_ref")
        od.mkdir(exist_ok=True)
        srcs = [FW / "common" / f for f in ("startup.c", "syscalls.c", "semihosting.c",
                                            f"console_{_console_kind(board_dir)}.c")]
        srcs += sorted(RT.glob("tm_*.c")) + [ROOT / "tests" / "ml" / "fw" / "tm_model_main.c"]
        objs = []
        for src in srcs:
            obj = od / (src.stem + ".o")
            p = subprocess.run(["arm-none-eabi-gcc", *CFLAGS, f"-DTM_OPTIMIZED={int(optimized)}",
                                f"-I{board_dir}", f"-I{FW / 'common'}", f"-I{RT}", "-c", str(src), "-o", str(obj)],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            objs.append(obj)
        _OBJ_CACHE[key] = objs
    return _OBJ_CACHE[key]


def _build(board_dir: Path, out: Path, model: Path, inputs: Path, optimized: bool) -> Path:
    asm = out / "model.S"
    asm.write_text(
        '.section .rodata.tm_model,"a"\n.balign 16\n'
        ".global tm_model, tm_model_end, tm_inputs, tm_inputs_end\n"
        f'tm_model:\n.incbin "{model}"\ntm_model_end:\n.balign 16\n'
        f'tm_inputs:\n.incbin "{inputs}"\ntm_inputs_end:\n')
    elf = out / ("fw_opt.elf" if optimized else "fw_ref.elf")
    cmd = ["arm-none-eabi-gcc", *ARCH, "--specs=nano.specs", "-nostartfiles", "-Wl,--gc-sections",
           "-T", str(FW / "common" / "cortex-m4.ld"), f"-L{board_dir}", "-o", str(elf),
           *map(str, _objects(board_dir, optimized)), str(asm), "-lm"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return elf


def _run(elf: Path, out: Path) -> dict:
    js = out / (elf.stem + ".json")
    p = subprocess.run([sys.executable, "-m", "simcore", "run", "--board", BOARD, "-q",
                        "--max-instructions", "2000000000", "--json", str(js), str(elf)],
                       capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=900)
    assert js.exists(), p.stdout + p.stderr
    return json.loads(js.read_text())


def _console_text(result: dict) -> str:
    c = result["console"]
    return c if isinstance(c, str) else "".join(c) if isinstance(c, list) else json.dumps(c)


@pytest.mark.parametrize("name", MODELS)
def test_firmware_outputs_match_tflm(board_files, tmp_path, name):
    model = ROOT / "models" / f"{name}.tflite"
    if not model.exists():
        pytest.skip(f"{model.name} not generated")
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        pytest.skip("tflite-micro not installed")
    interp = runtime.Interpreter.from_bytes(model.read_bytes(), arena_size=4 << 20)
    det = interp.get_input_details(0)
    shape, dtype = tuple(det["shape"]), np.dtype(det["dtype"])
    vecs = np.load(ROOT / "models" / f"{name}.inputs.npy").reshape((-1,) + shape).astype(dtype)
    rng = np.random.default_rng(7)
    vecs = np.concatenate([vecs, rng.integers(-128, 128, size=(2,) + shape).astype(dtype)])
    expected = []
    for v in vecs:
        interp.set_input(v, 0)
        interp.invoke()
        expected.append(np.ascontiguousarray(interp.get_output(0)).tobytes().hex())
    inputs = tmp_path / "inputs.bin"
    vecs.tofile(inputs)

    counts = {}
    for optimized in (False, True):
        elf = _build(board_files, tmp_path, model, inputs, optimized)
        res = _run(elf, tmp_path)
        text = _console_text(res)
        assert res.get("exit_status") == 0, text[-2000:]
        got = [line.split(" ", 1)[1].strip() for line in text.splitlines() if line.startswith("TM_OUT ")]
        assert got == expected, f"{name} optimized={optimized}: firmware outputs differ from TFLM"
        counts[optimized] = res["instructions"]
    if name in ("kws_dscnn", "conv2d_variants", "fully_connected"):
        assert counts[True] < counts[False], counts


def _op_codes(data: bytes) -> list[int]:
    """Builtin code of every operator of subgraph 0, read with the schema's field ids."""
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))
    from test_tm_runtime import _fb_field, _fb_table, _fb_vector

    model = _fb_table(data, 0)
    oc_start, oc_count = _fb_vector(data, model, 1)
    codes = []
    for i in range(oc_count):
        t = _fb_table(data, oc_start + 4 * i)
        dep, new = _fb_field(data, t, 0), _fb_field(data, t, 3)
        codes.append(max(struct.unpack_from("<b", data, dep)[0] if dep else 0,
                         struct.unpack_from("<i", data, new)[0] if new else 0))
    sg_start, _ = _fb_vector(data, model, 2)
    sg = _fb_table(data, sg_start)
    op_start, op_count = _fb_vector(data, sg, 3)
    out = []
    for i in range(op_count):
        p = _fb_field(data, _fb_table(data, op_start + 4 * i), 0)
        out.append(codes[struct.unpack_from("<I", data, p)[0] if p else 0])
    return out


def test_itm_op_markers(board_files, tmp_path):
    """Every op is bracketed by ITM port 1 / port 2 writes of index | builtin_code << 16."""
    model = ROOT / "models" / "kws_dscnn.tflite"
    if not model.exists():
        pytest.skip("models/kws_dscnn.tflite not generated")
    from simcore import api

    vecs = np.load(ROOT / "models" / "kws_dscnn.inputs.npy").astype(np.int8)
    inputs = tmp_path / "inputs.bin"
    vecs.tofile(inputs)
    elf = _build(board_files, tmp_path, model, inputs, optimized=True)
    m = api.prepare(elf, BOARD)
    writes: list[tuple[int, int, int]] = []
    m.system.itm.on_write(lambda port, value, cycle: writes.append((port, value, cycle)))
    res = api.run_machine(m)
    assert b"TM_DONE" in res.console
    codes = _op_codes(model.read_bytes())
    expected = [(port, i | code << 16) for _ in range(len(vecs))
                for i, code in enumerate(codes) for port in (1, 2)]
    assert [(p, v) for p, v, _ in writes if p in (1, 2)] == expected
    begin_end = [c for p, _, c in writes if p in (1, 2)]
    assert all(b < e for b, e in zip(begin_end[::2], begin_end[1::2], strict=True))
