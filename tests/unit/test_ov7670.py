"""OV7670: SCCB identity and reset, size/format/clock from its registers, and the bytes of a frame
computed in numpy from the recorded picture (RGB565 high byte first, YUYV, Bayer)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.devices.base import FS_PER_SECOND, DeviceConfig
from simcore.devices.bus import I2CBus
from simcore.devices.ov7670 import Ov7670
from simcore.errors import BadInputError
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.images import ArrayFrameSource

ADDR = 0x21


def _sccb_read(bus: I2CBus, reg: int) -> int:
    """SCCB's two-phase read: write the sub-address, STOP, then read one byte."""
    assert bus.start(ADDR, False) and bus.write(reg)
    bus.stop()
    assert bus.start(ADDR, True)
    value = bus.read()
    bus.stop()
    return value


def _sccb_write(bus: I2CBus, reg: int, value: int) -> None:
    assert bus.start(ADDR, False) and bus.write(reg) and bus.write(value)
    bus.stop()


def _setup(frames: np.ndarray, **opts: object) -> tuple[Ov7670, I2CBus]:
    cam = Ov7670(DeviceConfig("cam", "ov7670", address=ADDR, options=dict(opts)), FakeHost())
    cam.attach(ArrayFrameSource("frames.npy", frames, fps=10.0))
    bus = I2CBus("i2c2")
    bus.attach(cam, ADDR)
    return cam, bus


def _frames(n: int, h: int, w: int) -> np.ndarray:
    return np.random.default_rng(12).integers(0, 256, (n, h, w, 3)).astype(np.uint8)


def test_identity_reset_and_defaults() -> None:
    cam, bus = _setup(_frames(2, 480, 640))
    assert [_sccb_read(bus, r) for r in (0x0A, 0x0B, 0x1C, 0x1D)] == [0x76, 0x73, 0x7F, 0xA2]
    assert cam.geometry() == (640, 480, "YUV422")
    _sccb_write(bus, 0x12, 0x14)
    _sccb_write(bus, 0x55, 0x30)
    _sccb_write(bus, 0x12, 0x80)  # COM7 reset
    assert _sccb_read(bus, 0x12) == 0 and _sccb_read(bus, 0x55) == 0


def test_frame_rate_from_xclk_clkrc_and_pll() -> None:
    cam, bus = _setup(_frames(2, 480, 640))
    _sccb_write(bus, 0x11, 0x01)  # prescale 2
    _sccb_write(bus, 0x6B, 0x4A)  # PLL x4: 24 MHz x 4 / (2 x 2) = 24 MHz
    assert FS_PER_SECOND / cam.frame_period_fs() == pytest.approx(24e6 / (510 * 784 * 2))
    _sccb_write(bus, 0x11, 0x40)  # external clock directly
    assert FS_PER_SECOND / cam.frame_period_fs() == pytest.approx(24e6 / (510 * 784 * 2))


def test_qvga_rgb565_bytes_equal_the_picture() -> None:
    frames = _frames(3, 240, 320)
    cam, bus = _setup(frames)
    _sccb_write(bus, 0x12, 0x14)  # QVGA, RGB
    _sccb_write(bus, 0x40, 0xD0)  # COM15 RGB565
    assert cam.geometry() == (320, 240, "RGB565")
    f = frames[0].astype(np.uint16)
    word = ((f[..., 0] >> 3) << 11) | ((f[..., 1] >> 2) << 5) | (f[..., 2] >> 3)
    assert cam.frame_bytes(0) == word.astype(">u2").tobytes()
    period = cam.frame_period_fs()
    k = int(np.ceil(0.1 * FS_PER_SECOND / period))  # the first frame starting once picture 1 is in effect
    f1 = frames[1].astype(np.uint16)
    first = ((f1[0, 0, 0] >> 3) << 11) | ((f1[0, 0, 1] >> 2) << 5) | (f1[0, 0, 2] >> 3)
    assert cam.frame_bytes(k)[:2] == np.array([first], dtype=">u2").tobytes()
    assert cam.frame_bytes(k - 1)[:2] != cam.frame_bytes(k)[:2]


def test_qqvga_by_down_sampling_yuyv_and_raw() -> None:
    frames = _frames(1, 120, 160)
    cam, bus = _setup(frames)
    _sccb_write(bus, 0x12, 0x10)  # QVGA YUV
    _sccb_write(bus, 0x0C, 0x04)  # DCW enable
    _sccb_write(bus, 0x72, 0x11)  # down-sample by 2 both ways
    _sccb_write(bus, 0x40, 0x00)  # COM15 output range 10h-F0h: BT.601 studio levels
    assert cam.geometry() == (160, 120, "YUV422")
    data = np.frombuffer(cam.frame_bytes(0), dtype=np.uint8).reshape(120, 320)
    px = frames[0, 7, 10:12].astype(np.float64)
    y0 = 16 + (65.481 * px[0, 0] + 128.553 * px[0, 1] + 24.966 * px[0, 2]) / 255
    u = 128 + np.mean([(-37.797 * p[0] - 74.203 * p[1] + 112.0 * p[2]) / 255 for p in px])
    assert data[7, 20] == np.clip(np.rint(y0), 0, 255) and data[7, 21] == np.clip(np.rint(u), 0, 255)
    _sccb_write(bus, 0x12, 0x11)  # raw Bayer
    raw = np.frombuffer(cam.frame_bytes(0), dtype=np.uint8).reshape(120, 160)
    assert raw[0, 0] == frames[0, 0, 0, 2] and raw[1, 1] == frames[0, 1, 1, 0] and raw[0, 1] == frames[0, 0, 1, 1]


def test_full_range_yuv_is_the_reset_output_range_and_gray_comes_back_as_y() -> None:
    gray = np.random.default_rng(3).integers(0, 256, (1, 120, 160)).astype(np.uint8)
    cam, bus = _setup(np.repeat(gray[..., None], 3, axis=3))
    _sccb_write(bus, 0x12, 0x10)
    _sccb_write(bus, 0x0C, 0x04)
    assert _sccb_read(bus, 0x40) == 0xC0  # COM15 reset: output range 00h-FFh
    data = np.frombuffer(cam.frame_bytes(0), dtype=np.uint8).reshape(120, 160, 2)
    assert np.array_equal(data[..., 0], gray[0]) and np.all(data[..., 1] == 128)  # Y = gray, U = V = 128
    rgb = _frames(1, 120, 160)
    cam2, bus2 = _setup(rgb)
    _sccb_write(bus2, 0x12, 0x10)
    _sccb_write(bus2, 0x0C, 0x04)
    _sccb_write(bus2, 0x40, 0x80)  # range 01h-FEh
    f = rgb[0].astype(np.float64)
    y = np.clip(np.rint(0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]), 1, 254)
    assert np.array_equal(np.frombuffer(cam2.frame_bytes(0), np.uint8).reshape(120, 160, 2)[..., 0], y)


def test_line_and_frame_timing_with_dummy_pixels_and_lines() -> None:
    cam, bus = _setup(_frames(1, 120, 160))
    _sccb_write(bus, 0x12, 0x10)
    _sccb_write(bus, 0x0C, 0x04)
    _sccb_write(bus, 0x11, 0x02)  # F = 24 MHz / (2 x 3) = 4 MHz
    _sccb_write(bus, 0x2B, 16)  # EXHCL: 16 dummy pixels per line (800 pixel times)
    _sccb_write(bus, 0x2D, 115)  # ADVFL: 115 dummy lines (625 lines)
    assert cam.frame_period_fs() == FS_PER_SECOND // 4  # 625 x 800 x 2 clocks at 4 MHz: exactly 4 fps
    cam.stream_start = 10**12
    line = 1600 * FS_PER_SECOND // 4_000_000
    assert cam.vsync_end_fs(2) == 10**12 + 2 * FS_PER_SECOND // 4 + 3 * line
    assert cam.line_start_fs(1, 5) == 10**12 + FS_PER_SECOND // 4 + (20 + 5 * 4) * line  # 120 lines over 480
    assert cam.byte_period_fs() == FS_PER_SECOND // 4_000_000
    assert cam.frame_done_at(0) == cam.frame_start_fs(1)
    assert cam.polarities() == {"vsync_high": True, "href_high": True, "pclk_rising": True}
    _sccb_write(bus, 0x15, 0x1A)  # COM10: VSYNC negative, HREF reversed, PCLK reversed
    assert cam.polarities() == {"vsync_high": False, "href_high": False, "pclk_rising": False}


def test_timing_follows_every_register_write_after_it_was_asked_for() -> None:
    """The timing is kept between writes (a DCMI asks at every line event); each write that changes it is seen."""
    cam, bus = _setup(_frames(1, 120, 160))
    _sccb_write(bus, 0x11, 0x02)  # F = 4 MHz
    assert cam.frame_period_fs() == round(510 * 784 * 2 * FS_PER_SECOND / 4e6)
    _sccb_write(bus, 0x2D, 115)  # ADVFL: 625 lines
    assert cam.frame_period_fs() == round(625 * 784 * 2 * FS_PER_SECOND / 4e6)
    _sccb_write(bus, 0x2B, 16)  # EXHCL: 800 pixel times per line
    assert cam.frame_period_fs() == FS_PER_SECOND // 4 and cam.line_time_fs() == 1600 * FS_PER_SECOND // 4_000_000
    assert cam.geometry() == (640, 480, "YUV422")
    _sccb_write(bus, 0x12, 0x14)  # COM7: QVGA RGB (COM15 reset: RGB444)
    assert cam.geometry() == (320, 240, "RGB444") and cam.byte_period_fs() == FS_PER_SECOND // 4_000_000
    _sccb_write(bus, 0x12, 0x11)  # QVGA raw Bayer: one byte per pixel, two clocks each
    assert cam.geometry() == (320, 240, "RAW") and cam.byte_period_fs() == 2 * FS_PER_SECOND // 4_000_000
    _sccb_write(bus, 0x11, 0x40)  # XCLK directly: 24 MHz
    assert cam.frame_period_fs() == round(625 * 800 * 2 * FS_PER_SECOND / 24e6)


def test_frames_of_another_size_are_refused_unless_resized() -> None:
    cam, bus = _setup(_frames(1, 120, 160))
    with pytest.raises(BadInputError, match="frames are 160x120 but the camera is configured for 640x480"):
        cam.frame_bytes(0)
    with pytest.raises(BadInputError, match="100x100 frames, a size an OV7670 cannot send"):
        _setup(_frames(1, 100, 100))
    cam2, _ = _setup(_frames(1, 100, 100), resize=True)
    assert len(cam2.frame_bytes(0)) == 640 * 480 * 2


def test_signal_recording_is_refused() -> None:
    from simcore.sources.base import ArraySource

    cam = Ov7670(DeviceConfig("cam", "ov7670"), FakeHost())
    with pytest.raises(BadInputError, match="not image frames"):
        cam.attach(ArraySource("a.csv", np.zeros((3, 3)), channels=("ax", "ay", "az"), rate_hz=1.0))
