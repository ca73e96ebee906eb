"""camera_motion on the camera: frame statistics and motion checked against numpy.

Expected values computed here from the PNG frames in examples/data/camera_square (read with
Pillow, not simcore's sources): per frame the sum, min and max of the pixels; from the second
frame on, the pixels with |frame - previous| > 40, their count and integer centroid; motion
when more than 64 pixels changed.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from simcore.api import run
from tests.conftest import ROOT, elf, run_cli

Image = pytest.importorskip("PIL.Image")
FRAMES = ROOT / "examples" / "data" / "camera_square"
TRUTH = json.loads((ROOT / "examples" / "data" / "truth.json").read_text())["camera_square"]
APP = elf("cortex-m4", "camera_motion")


def expected() -> list[tuple[int, int, int, int | None, tuple[int, int] | None]]:
    frames = [np.asarray(Image.open(p).convert("L"), dtype=np.int32) for p in sorted(FRAMES.glob("*.png"))]
    out = []
    for i, f in enumerate(frames):
        changed = centroid = None
        if i:
            ys, xs = np.nonzero(np.abs(f - frames[i - 1]) > 40)
            changed = len(xs)
            centroid = (int(xs.sum()) // changed, int(ys.sum()) // changed) if changed > 64 else None
        out.append((int(f.sum()), int(f.min()), int(f.max()), changed, centroid))
    return out


@pytest.fixture(scope="module")
def result():
    return run(APP, "cortex-m4", sensors={"camera": (FRAMES, {"fps": 10})})


def test_frame_statistics_and_motion_match_numpy(result) -> None:
    rows = re.findall(r"^frame (\d+) at (\d+) ms: sum (\d+) min (\d+) max (\d+)(?: changed (\d+))?"
                      r"(?: MOTION at \((\d+), (\d+)\), detected at (\d+) ms)?$", result.text, re.M)
    exp = expected()
    assert len(rows) == len(exp) == 10
    for i, (idx, t, s, lo, hi, changed, cx, cy, det) in enumerate(rows):
        e_sum, e_lo, e_hi, e_changed, e_centroid = exp[i]
        assert (int(idx), int(t)) == (i, 100 * i)
        assert (int(s), int(lo), int(hi)) == (e_sum, e_lo, e_hi)
        assert (int(changed) if changed else None) == e_changed
        assert ((int(cx), int(cy)) if cx else None) == e_centroid
        if det:  # frame i is complete at (i + 1) * 100 ms after the camera was enabled
            assert 100 * (i + 1) <= int(det) <= 100 * (i + 1) + 10


def test_motion_follows_the_square(result) -> None:
    centroids = [int(x) for x in re.findall(r"MOTION at \((\d+), \d+\)", result.text)]
    squares = TRUTH["squares"]
    # the changed pixels are the square's old and new positions: their centre is the midpoint
    want = [(a["x"] + b["x"] + a["size"] - 1) // 2 for a, b in zip(squares, squares[1:], strict=False)]
    assert centroids == want


def test_no_dropped_frames_at_the_default_clock(result) -> None:
    assert result.exit_status == 0
    cam = result.sensors["camera"]
    assert cam["frames_delivered"] == 10 and cam.get("dropped_frames", 0) == 0 and cam.get("late_services", 0) == 0
    assert "done: 10 frames, 9 with motion, 0 dropped" in result.text


def test_cli_frames_need_a_frame_rate() -> None:
    res = run_cli("run", APP, "-q", "--sensor", f"camera={FRAMES}")
    assert res.status == 2 and "fps" in res.err
    res = run_cli("run", APP, "-q", "--sensor", f"camera={FRAMES}:fps=10")
    assert res.status == 0, res.err
    assert re.search(r"^sensor camera \(simcore_camera\) <- camera_square: 10 frames delivered", res.err, re.M)


@pytest.mark.parametrize("hook", [[], ["--python-hook"]])
def test_frames_of_the_wrong_size_stop_the_run_as_bad_input(tmp_path, hook: list[str]) -> None:
    """Raised in the frame event during the run (not in an MMIO hook): still exit 2, not an internal error."""
    frames = tmp_path / "small.npy"
    np.save(frames, np.zeros((10, 64, 64), np.uint8))
    out = tmp_path / "r.json"
    res = run_cli("run", APP, "-q", *hook, "--sensor", f"camera={frames}:fps=10", "--json", out)
    assert res.status == 2
    assert "64x64" in res.err and "96x96" in res.err and "internal error" not in res.err
    assert not out.exists()


def test_camera_flags_are_read_from_the_register_file_with_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """STATUS and FRAME_INDEX change only at frame events and the firmware's writes: the register file answers
    their reads, and holds DMA_ADDR, which the firmware moves to the other buffer at every frame
    (simcore/peripherals/held.py). The run (console, counts, the camera's figures: the frames went to the right
    buffers) equals the one in which every access is the model's, in C and in the Python twin, and only the first
    read and the first DMA_ADDR write reach the model."""
    from simcore.api import prepare, run_machine
    from simcore.peripherals.held import HeldRead, HeldStorage
    from simcore.peripherals.sensors.camera import SimcoreCamera
    from tests.integration.test_i2c_stream_in_c import figures  # every field but wall time and polling figures

    model_reads: list[int] = []
    model_writes: list[int] = []
    own_read, own_write = SimcoreCamera.read, SimcoreCamera.write

    def counted(self: SimcoreCamera, offset: int, size: int) -> int:
        model_reads.append(offset)
        return own_read(self, offset, size)

    def counted_write(self: SimcoreCamera, offset: int, size: int, value: int) -> None:
        model_writes.append(offset)
        own_write(self, offset, size, value)

    monkeypatch.setattr(SimcoreCamera, "read", counted)
    monkeypatch.setattr(SimcoreCamera, "write", counted_write)

    def motion(native: bool) -> tuple[object, int, int, int, int]:
        model_reads.clear()
        model_writes.clear()
        m = prepare(APP, "cortex-m4", native=native, sensors={"camera": (str(FRAMES), {"fps": 10})})
        res = run_machine(m)
        held = sum(m.bus.counts(name)[0] for name in ("camera.STATUS", "camera.FRAME_INDEX"))
        return (res, sum(o in (0x08, 0x34) for o in model_reads), held, model_writes.count(0x20),
                m.bus.counts("camera.DMA_ADDR")[1])

    in_c, py_c, all_c, pyw_c, allw_c = motion(True)
    twin, py_twin, all_twin, pyw_twin, allw_twin = motion(False)
    for held in (HeldRead, HeldStorage):  # no register is handed over
        monkeypatch.setattr(held, "start", lambda self, value, in_c=True: None)
    own, py_own, all_own, pyw_own, allw_own = motion(True)
    assert in_c.exit_status == 0 and "done: 10 frames" in in_c.text
    assert figures(in_c) == figures(own) == figures(twin)
    assert all_c == all_twin == all_own >= 2 * 10  # a STATUS and a FRAME_INDEX read per frame at least
    assert allw_c == allw_twin == allw_own == 1 + 10  # DMA_ADDR: the set-up, then one per frame
    assert py_own == all_own and pyw_own == allw_own  # without the hand-over each access is the model's
    assert py_c == py_twin == 1 and pyw_c == pyw_twin == 1  # with it: the first read, the first write
