"""camera_person on the stm32f407-ov7670 board: an OV7670 configured over SCCB (I2C2), frames captured by the
DCMI (continuous, crop window) and DMA2 (double buffer), the person model on the Y plane.

The recording is the demo recording (models/trained/person_demo.npy, 96x96 gray) placed in a 160x120 QQVGA
frame at (32, 12), the window the firmware crops. The firmware's per-frame scores and events equal the Python
twin's (which equals the generic board's camera_person, tests/integration/test_tinyml_apps.py); the bytes it
received (a per-frame sum, and the two DMA buffers after the run) equal the recording's pixels after the
camera's conversion, computed here in numpy (BT.601 full-range YUYV: Y = gray level, U = V = 128).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.tinyml import TRAINED, twins
from simcore.api import prepare, run_machine
from tests.conftest import elf, run_cli

BOARD = "stm32f407-ov7670"
APP = elf(BOARD, "camera_person")
DEMO = TRAINED / "person_demo.npy"
X0, Y0 = 32, 12  # the firmware's crop window (pixels)
FRAME_RE = re.compile(r"^frame (\d+) at (\d+) ms: scores (-?\d+) (-?\d+): (\w+), (\d+) cycles, bytes sum (\d+)$")
EVENT_RE = re.compile(r"^(PERSON|nobody) at (\d+) ms \(frame (\d+)\), reported at (\d+) ms$")


def qqvga_recording(path: Path, fill: int = 40) -> np.ndarray:
    """The demo frames in 160x120 frames (the rest a flat gray), saved as NPY; returns them."""
    demo = np.load(DEMO)
    frames = np.full((len(demo), 120, 160), fill, np.uint8)
    frames[:, Y0: Y0 + 96, X0: X0 + 96] = demo
    np.save(path, frames)
    return frames


def yuyv_crop(gray: np.ndarray) -> bytes:
    """What the DCMI window receives of a gray picture: Y0 U Y1 V with Y = gray, U = V = 128 (full range)."""
    win = gray[Y0: Y0 + 96, X0: X0 + 96].astype(np.uint8)
    out = np.full((96, 96, 2), 128, np.uint8)
    out[..., 0] = win
    return out.tobytes()


@pytest.mark.slow
def test_detections_equal_the_twin_and_the_bytes_equal_the_recording(tmp_path: Path) -> None:
    rec = tmp_path / "person_qqvga.npy"
    frames = qqvga_recording(rec)
    m = prepare(APP, BOARD, sensors={"camera": (str(rec), {"fps": 4})})
    res = run_machine(m)
    assert res.exit_status == 0, res.text[-3000:]
    assert "OV7670 over SCCB: PID 76 VER 73" in res.text
    infs, events = twins.person_pipeline(DEMO)
    got = [m_ for m_ in map(FRAME_RE.match, res.text.splitlines()) if m_]
    assert [twins.Inference(int(g[1]), int(g[2]), int(g[2]), (int(g[3]), int(g[4]))) for g in got] == infs
    assert len(got) == len(frames)
    got_events = [(e[1].lower(), int(e[2]), int(e[3])) for e in map(EVENT_RE.match, res.text.splitlines()) if e]
    assert got_events == [(e.label if e.label == "nobody" else "person", e.at_ms, e.inference) for e in events]
    # the bytes of every frame: the sum the firmware printed, and the DMA buffer holding the last frame (frame k
    # lands in buffer k & 1; the other one already holds the start of the frame after the recording)
    assert [int(g[7]) for g in got] == [sum(yuyv_crop(f)) for f in frames]
    sym = m.fw.symbol("frames")
    assert sym is not None
    last = len(frames) - 1
    assert m.mem_read(sym.addr + (last & 1) * 96 * 96 * 2, 96 * 96 * 2) == yuyv_crop(frames[last])
    assert "done: 32 frames" in res.text and " 0 lost" in res.text
    cam = res.sensors["camera"]  # the DCMI's count: 32 frames, perhaps the start of the next
    assert cam["frames_delivered"] in (32, 33) and cam.get("overruns", 0) == 0
    assert res.reports == {"unimplemented": [], "guest_errors": []}  # every register the firmware uses is modelled


def test_a_recording_the_camera_cannot_send_is_refused_before_the_run(tmp_path: Path) -> None:
    res = run_cli("run", str(APP), "--board", BOARD, "-q", "--sensor", f"camera={DEMO}:fps=4")
    assert res.status == 2 and "96x96 frames, a size an OV7670 cannot send" in res.err
    assert "Traceback" not in res.err and "camera_person on" not in res.out
    bad = tmp_path / "broken.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    res = run_cli("run", str(APP), "--board", BOARD, "-q", "--sensor", f"camera={bad}:fps=4")
    assert res.status == 2 and "broken.npy" in res.err and "Traceback" not in res.err


def test_frames_of_another_size_than_the_firmware_configures_stop_the_run_as_bad_input(tmp_path: Path) -> None:
    qcif = tmp_path / "qcif.npy"
    np.save(qcif, np.zeros((4, 144, 176), np.uint8))  # QCIF: a size the camera can send, not the one configured
    res = run_cli("run", str(APP), "--board", BOARD, "-q", "--sensor", f"camera={qcif}:fps=4", "--", "frames=2")
    assert res.status == 2
    assert "176x144" in res.err and "160x120" in res.err and "internal error" not in res.err


@pytest.mark.parametrize(("port", "message"), [
    ("dcmi9", "port = 'dcmi9' is not a peripheral of the board"),
    ("usart1", "port = 'usart1' is stm32f4_usart, which simcore does not model as a camera interface"),
])
def test_a_camera_port_the_board_cannot_carry_is_refused_before_the_run(tmp_path: Path, port: str,
                                                                         message: str) -> None:
    board = tmp_path / "cam.toml"
    board.write_text(f'extends = "stm32f407vg"\nname = "cam"\n\n[[device]]\nname = "camera"\ntype = "ov7670"\n'
                     f'bus = "i2c2"\naddress = 0x21\nport = "{port}"\n')
    res = run_cli("run", str(elf("stm32f407vg", "hello")), "--board", str(board), "-q")
    assert res.status == 2 and message in " ".join(res.err.split()) and "Traceback" not in res.err


def test_sccb_flag_waits_are_served_by_the_register_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The firmware's SCCB set-up waits on I2C2 SR1 (SB, ADDR, TXE, BTF, RXNE) in a loop with its own timeout
    counter: no fast-forward applies, every iteration reads SR1. The register file answers those reads (the
    model gives them back while ADDR is set); the run up to the first frame equals the one where every read is
    the model's, in C and in the Python twin, and only a few dozen SR1 reads reach the model."""
    from simcore.peripherals.held import HeldRead
    from simcore.peripherals.stm32.i2c import Stm32F4I2c
    from tests.integration.test_i2c_stream_in_c import figures  # every field but wall time and polling figures

    rec = tmp_path / "person_qqvga.npy"
    qqvga_recording(rec)
    model_sr1: list[bool] = []
    own_read = Stm32F4I2c.read

    def counted(self: Stm32F4I2c, offset: int, size: int) -> int:
        model_sr1.append(offset == 0x14)
        return own_read(self, offset, size)

    monkeypatch.setattr(Stm32F4I2c, "read", counted)
    kw: dict[str, Any] = {"sensors": {"camera": (str(rec), {"fps": 4})}, "max_instructions": 3_000_000,
                          "cmdline": "camera_person.elf frames=1"}

    def sccb(native: bool) -> tuple[Any, int, int]:
        model_sr1.clear()
        m = prepare(APP, BOARD, native=native, **kw)
        res = run_machine(m)
        return res, sum(model_sr1), m.bus.counts("I2C2.SR1")[0]

    in_c, py_c, all_c = sccb(True)
    twin, py_twin, all_twin = sccb(False)
    monkeypatch.setattr(HeldRead, "start", lambda self, value, in_c=True: None)  # no register is handed over
    own, py_own, all_own = sccb(True)
    assert "OV7670 over SCCB: PID 76 VER 73" in in_c.text and in_c.sensors["camera"]["frames_delivered"] == 1
    assert figures(in_c) == figures(own) == figures(twin)
    assert all_c == all_twin == all_own > 10_000  # every SR1 read, counted by the register file in all three
    assert py_own == all_own  # without the hand-over each one is the model's
    # with it: the first read and those while ADDR is set (one address phase per transaction, two for a read)
    assert py_c == py_twin <= 2 * in_c.sensors["i2c2"]["transactions"]
