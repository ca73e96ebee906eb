"""Camera driven through its registers on a fake host: capture timing, pixels in RAM, drops, formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
from simcore.peripherals.sensors.camera import SimcoreCamera
from simcore.peripherals.sensors.testing import FakeHost, peripheral
from simcore.sources import open_source
from simcore.sources.images import ArrayFrameSource

RAM = 0x20000000
IRQ = 11


def _frames(n: int = 6, h: int = 8, w: int = 10, planes: int = 1) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, size=(n, h, w, planes), dtype=np.uint8)


def _cam(host: FakeHost, frames: np.ndarray, fps: float = 10.0, **opts: object) -> SimcoreCamera:
    cam = SimcoreCamera(peripheral("cam0", "simcore_camera", irq=IRQ, **opts), host)
    cam.attach(ArrayFrameSource("frames.npy", frames, fps=fps))
    cam.write(0x10, 4, frames.shape[2])  # WIDTH
    cam.write(0x14, 4, frames.shape[1])  # HEIGHT
    cam.write(0x1C, 4, int(fps))  # FPS
    cam.write(0x20, 4, RAM)  # DMA_ADDR
    cam.write(0x24, 4, 4096)  # DMA_LEN
    cam.write(0x0C, 4, 0b1101)  # INTEN DONE | DROP | ERR
    return cam


def test_single_capture_lands_at_next_frame_boundary() -> None:
    frames = _frames()
    host = FakeHost(mhz=1)  # 10 fps: 100000 cycles per frame
    cam = _cam(host, frames)
    cam.write(0x00, 4, 1)  # EN
    host.advance_to(150_000)
    cam.write(0x04, 4, 1)  # CAPTURE during frame 1
    assert cam.read(0x08, 4) & 0b10  # BUSY
    host.advance_to(199_999)
    assert host.irq_rises(IRQ) == []
    host.advance_to(200_000)
    assert host.irq_rises(IRQ) == [200_000]
    assert cam.read(0x28, 4) == 80  # FRAME_SIZE GRAY8 10x8
    assert host.mem_read(RAM, 80) == frames[1].tobytes()
    assert cam.read(0x34, 4) == 1 and cam.read(0x2C, 4) == 1
    cam.write(0x08, 4, 1)
    assert host.irq_levels[IRQ] is False
    assert cam.stats()["service_latency_cycles"]["max"] == 0


def test_continuous_mode_drops_unacknowledged_frames() -> None:
    frames = _frames()
    host = FakeHost(mhz=1)
    cam = _cam(host, frames)
    cam.write(0x00, 4, 0b11)  # EN | CONT
    host.advance_to(100_000)
    assert host.mem_read(RAM, 80) == frames[0].tobytes()
    host.advance_to(300_000)  # frames 1 and 2 complete while DONE is still set
    assert cam.read(0x30, 4) == 2  # DROP_COUNT
    assert cam.read(0x08, 4) & 0b100
    drops = [e for e in cam.stats()["events"] if e["kind"] == "dropped_frames"]
    assert [e["cycle"] for e in drops] == [200_000, 300_000]
    cam.write(0x08, 4, 0b101)  # ack DONE and DROP
    host.advance_to(400_000)
    assert host.mem_read(RAM, 80) == frames[3].tobytes()
    assert cam.stats()["dropped_frames"] == 2


def test_rgb565_and_rgb888_pixels() -> None:
    frames = _frames(planes=3)
    host = FakeHost(mhz=1)
    cam = _cam(host, frames)
    cam.write(0x18, 4, 1)  # RGB565
    cam.write(0x00, 4, 1)
    cam.write(0x04, 4, 1)
    host.advance_to(100_000)
    f = frames[0].astype(np.uint16)
    exp = ((f[..., 0] >> 3) << 11) | ((f[..., 1] >> 2) << 5) | (f[..., 2] >> 3)
    assert host.mem_read(RAM, 160) == exp.astype("<u2").tobytes()
    cam.write(0x08, 4, 1)
    cam.write(0x18, 4, 2)  # RGB888
    cam.write(0x04, 4, 1)
    host.advance_to(200_000)
    assert host.mem_read(RAM, 240) == frames[1].tobytes()


def test_format_and_size_mismatch_need_options() -> None:
    frames = _frames(planes=3)
    host = FakeHost(mhz=1)
    cam = _cam(host, frames)
    cam.write(0x00, 4, 1)  # GRAY8 but colour frames
    cam.write(0x04, 4, 1)
    with pytest.raises(BadInputError, match="frames are colour but the camera is configured for GRAY8"):
        host.advance_to(100_000)
    host2 = FakeHost(mhz=1)
    cam2 = _cam(host2, frames, convert=True, resize=True)
    cam2.write(0x10, 4, 5)
    cam2.write(0x14, 4, 4)
    cam2.write(0x00, 4, 1)
    cam2.write(0x04, 4, 1)
    host2.advance_to(100_000)
    small = frames[0][::2, ::2].astype(np.float64)
    luma = np.clip(np.rint(small @ np.array([0.299, 0.587, 0.114])), 0, 255).astype(np.uint8)
    assert host2.mem_read(RAM, 20) == luma.tobytes()


def test_small_dma_buffer_and_fps_mismatch() -> None:
    frames = _frames()
    host = FakeHost(mhz=1)
    cam = _cam(host, frames)
    cam.write(0x24, 4, 79)
    cam.write(0x00, 4, 1)
    cam.write(0x04, 4, 1)
    host.advance_to(100_000)
    assert cam.read(0x08, 4) & 0b1000 and host.irq_rises(IRQ) == [100_000]
    assert host.mem_read(RAM, 80) == bytes(80)
    cam2 = _cam(FakeHost(), frames, fps=5.0)
    cam2.write(0x1C, 4, 30)
    with pytest.raises(BadInputError, match="5 fps but the camera runs at 30 fps"):
        cam2.write(0x00, 4, 1)


def test_png_sequence_through_camera(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    frames = _frames(n=3)
    for i, f in enumerate(frames):
        image.fromarray(f[..., 0], "L").save(tmp_path / f"{i}.png")
    host = FakeHost(mhz=1)
    cam = SimcoreCamera(peripheral("cam0", "simcore_camera", irq=IRQ, width=10, height=8, fps=10), host)
    cam.attach(open_source(tmp_path, fps=10.0))
    cam.write(0x20, 4, RAM)
    cam.write(0x24, 4, 80)
    cam.write(0x00, 4, 0b11)
    host.advance_to(300_000)
    assert host.mem_read(RAM, 80) == frames[0].tobytes()  # later frames dropped: DONE never cleared
    assert cam.read(0x30, 4) == 2
