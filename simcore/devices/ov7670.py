"""OmniVision OV7670 camera (datasheet v1.4 and its implementation guide): the SCCB register file and the
frames its parallel port sends, for a DCMI model to capture.

SCCB (I2C-like, 7-bit address 21h; firmware writes 42h/43h): PID 76h, VER 73h, MIDH 7Fh,
MIDL A2h; a write is sub-address + data, a read is a sub-address write, STOP, then a one-byte
read. COM7 (12h) selects the output size (VGA 640x480, CIF 352x288, QVGA 320x240, QCIF
176x144) and format (YUV 4:2:2, RGB, raw Bayer; bit 7 resets every register); COM15 (40h) the
RGB layout (RGB565 / RGB555, else RGB444 with RGB444 (8Ch)); COM3 (0Ch) DCW enable with
SCALING_DCWCTR (72h) down-sampling by 2, 4 or 8 per direction (QQVGA 160x120 is QVGA / 2);
CLKRC (11h) and DBLV (6Bh) the internal clock: F = XCLK x PLL / (2 x (CLKRC[5:0] + 1)), or
XCLK when CLKRC bit 6 is set. A frame is 510 lines of 784 pixel times, two clocks per pixel
(datasheet "VGA frame timing"): 30 frames per second at F = 24 MHz.

The frame source: ``geometry()``, ``frame_period_fs()``, ``frame_bytes(k)`` (frame ``k`` as
the port sends it, line by line: RGB565/555/444 high byte first, YUYV, or one byte per pixel
of a BGGR Bayer mosaic) and ``frame_done_at(k)`` (frame ``k`` is complete at ``(k + 1)``
periods after streaming started). Frames come from an image recording (PNG/JPEG/NPY), the
picture in effect when the frame starts, converted from gray or colour, and must have the
configured size unless the option ``resize`` is set. The image-tuning registers (gain,
exposure, white balance, gamma, colour matrix) are stored only: frames are delivered as recorded.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from simcore.devices import register_device
from simcore.devices.base import FS_PER_SECOND, BusDevice, DeviceConfig, DeviceHost
from simcore.errors import BadInputError
from simcore.registers import Field, Register

SIZES = {"VGA": (640, 480), "CIF": (352, 288), "QVGA": (320, 240), "QCIF": (176, 144)}
PLL = (1, 4, 6, 8)
LINE_PIXELS, FRAME_LINES = 784, 510
NAMED = {
    0x00: "GAIN", 0x01: "BLUE", 0x02: "RED", 0x03: "VREF", 0x04: "COM1", 0x05: "BAVE", 0x06: "GbAVE",
    0x07: "AECHH", 0x08: "RAVE", 0x09: "COM2", 0x0D: "COM4", 0x0E: "COM5", 0x0F: "COM6", 0x10: "AECH",
    0x13: "COM8", 0x14: "COM9", 0x15: "COM10", 0x17: "HSTART", 0x18: "HSTOP", 0x19: "VSTRT", 0x1A: "VSTOP",
    0x1B: "PSHFT", 0x1E: "MVFP", 0x1F: "LAEC", 0x24: "AEW", 0x25: "AEB", 0x26: "VPT", 0x2A: "EXHCH",
    0x2B: "EXHCL", 0x2D: "ADVFL", 0x2E: "ADVFH", 0x2F: "YAVE", 0x30: "HSYST", 0x31: "HSYEN", 0x32: "HREF",
    0x3A: "TSLB", 0x3B: "COM11", 0x3C: "COM12", 0x3D: "COM13", 0x3E: "COM14", 0x3F: "EDGE", 0x41: "COM16",
    0x42: "COM17", 0x55: "BRIGHT", 0x56: "CONTRAS", 0x69: "GFIX", 0x6A: "GGAIN", 0x70: "SCALING_XSC",
    0x71: "SCALING_YSC", 0x73: "SCALING_PCLK_DIV", 0xA2: "SCALING_PCLK_DELAY", 0xC9: "SATCTR",
    **{0x4F + i: f"MTX{i + 1}" for i in range(6)}, **{0x7B + i: f"GAM{i + 1}" for i in range(15)},
}
RESETS = {0x00: 0x00, 0x01: 0x80, 0x02: 0x80, 0x13: 0x8F, 0x14: 0x4A, 0x17: 0x11, 0x18: 0x61, 0x19: 0x03,
          0x1A: 0x7B, 0x1B: 0x80, 0x24: 0x75, 0x25: 0x63, 0x26: 0xD4, 0x32: 0x80, 0x3A: 0x0D, 0x3D: 0x88,
          0x3E: 0x0E, 0x56: 0x40, 0x70: 0x3A, 0x71: 0x35, 0x73: 0x08, 0xA2: 0x02}
SPECIAL = {0x0A, 0x0B, 0x0C, 0x11, 0x12, 0x1C, 0x1D, 0x40, 0x6B, 0x72, 0x8C}


def _reg(name: str, offset: int, **kw: object) -> Register:
    return Register(name, offset, width=8, **kw)  # type: ignore[arg-type]


def _tuning_registers() -> tuple[Register, ...]:
    return tuple(_reg(NAMED.get(a, f"REG{a:02X}"), a, reset=RESETS.get(a, 0)) for a in range(0xCA) if a not in SPECIAL)


@register_device
class Ov7670(BusDevice):
    """OV7670: SCCB registers and the frames of its parallel port."""

    TYPE = "ov7670"
    LINES: ClassVar[tuple[str, ...]] = ()
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x21,)
    ADDRESS_MASK: ClassVar[int] = 0xFF
    OPTIONS: ClassVar[dict[str, str]] = {
        "xclk_hz": "the clock the board gives the camera's XCLK pin (default 24 MHz)",
        "resize": "scale recorded frames to the configured size (nearest neighbour; default false)",
        "fps": "frame rate of a folder of images (the images' own timing)",
    }
    REGISTERS = (
        _reg("PID", 0x0A, access="r", reset=0x76), _reg("VER", 0x0B, access="r", reset=0x73),
        _reg("COM3", 0x0C, fields=(Field("DCW", 2), Field("SCALE", 3), Field("TRISTATE", 4), Field("SWAP", 6))),
        _reg("CLKRC", 0x11, reset=0x80, fields=(Field("PRESCALE", 0, 6), Field("EXT", 6), Field("RSVD7", 7))),
        _reg("COM7", 0x12, fields=(Field("RAW", 0), Field("COLORBAR", 1, implemented=False), Field("RGB", 2),
                                   Field("QCIF", 3), Field("QVGA", 4), Field("CIF", 5), Field("RESET", 7,
                                                                                             on_write="_reset"))),
        _reg("MIDH", 0x1C, access="r", reset=0x7F), _reg("MIDL", 0x1D, access="r", reset=0xA2),
        _reg("COM15", 0x40, reset=0xC0, fields=(Field("RGB", 4, 2), Field("RANGE", 6, 2))),
        _reg("DBLV", 0x6B, reset=0x0A, fields=(Field("REG", 0, 6), Field("PLL", 6, 2))),
        _reg("SCALING_DCWCTR", 0x72, reset=0x11, fields=(Field("HDOWN", 0, 2), Field("HAVG", 2),
                                                         Field("VDOWN", 4, 2), Field("VAVG", 6))),
        _reg("RGB444", 0x8C, fields=(Field("WORD", 0), Field("EN", 1))),
        *_tuning_registers(),
    )

    def __init__(self, config: DeviceConfig, host: DeviceHost) -> None:
        self.xclk_hz = float(config.options.get("xclk_hz", 24e6))
        if not self.xclk_hz > 0:
            raise BadInputError(f"device {config.name} (ov7670): option xclk_hz = {self.xclk_hz!r}; give the XCLK "
                                "frequency in Hz")
        super().__init__(config, host)
        self._inc = False
        self.stream_start = 0  # virtual time at which frame 0 started (the DCMI sets it when capture starts)

    def check_recording(self) -> None:
        src = self.source
        assert src is not None
        if len(src.sample_shape) != 3:
            raise BadInputError(f"{self.where()}: the recording {src.path} holds {len(src.channels)}-channel samples, "
                                "not image frames; give the camera PNG/JPEG frames or an (n, h, w) NPY array")

    def _reset(self, old: int, new: int) -> None:
        if new:
            self.reset()

    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte, False  # SCCB: one register per transfer

    # --- output configuration ------------------------------------------------------------------
    def geometry(self) -> tuple[int, int, str]:
        """(width, height, format) of the frames now: format YUV422, RGB565, RGB555, RGB444 or RAW."""
        c7 = self.values["COM7"]
        size = "CIF" if c7 & 0x20 else "QVGA" if c7 & 0x10 else "QCIF" if c7 & 0x08 else "VGA"
        w, h = SIZES[size]
        if self.values["COM3"] & 0x04:
            d = self.values["SCALING_DCWCTR"]
            w >>= d & 3
            h >>= (d >> 4) & 3
        if c7 & 0x04 and not c7 & 0x01:
            rgb = (self.values["COM15"] >> 4) & 3
            fmt = "RGB565" if rgb == 1 else "RGB555" if rgb == 3 else "RGB444"
        elif c7 & 0x01:
            fmt = "RAW"
        else:
            fmt = "YUV422"
        return w, h, fmt

    def bytes_per_pixel(self) -> int:
        return 1 if self.geometry()[2] == "RAW" else 2

    def internal_clock_hz(self) -> float:
        clkrc = self.values["CLKRC"]
        if clkrc & 0x40:
            return self.xclk_hz
        return self.xclk_hz * PLL[self.values["DBLV"] >> 6] / (2 * ((clkrc & 0x3F) + 1))

    def frame_period_fs(self) -> int:
        clocks = FRAME_LINES * LINE_PIXELS * 2  # two clocks per pixel time
        return round(clocks * FS_PER_SECOND / self.internal_clock_hz())

    def frame_done_at(self, k: int) -> int:
        return self.stream_start + (k + 1) * self.frame_period_fs()

    # --- frames --------------------------------------------------------------------------------
    def _picture(self, k: int) -> np.ndarray:
        src = self.require_source()
        t = (self.stream_start + k * self.frame_period_fs()) / FS_PER_SECOND
        frame = src.sample_at(t)[0]
        w, h, _ = self.geometry()
        fh, fw = frame.shape[:2]
        if (fw, fh) != (w, h):
            if not self.option("resize", False):
                raise BadInputError(f"{self.where()}: frames are {fw}x{fh} but the camera is configured for {w}x{h}; "
                                    "record at that size or set option resize = true")
            rows = np.arange(h) * fh // h
            cols = np.arange(w) * fw // w
            frame = frame[rows][:, cols]
        if frame.shape[2] == 1:
            frame = np.repeat(frame, 3, axis=2)
        return frame.astype(np.int64)

    def frame_bytes(self, k: int) -> bytes:
        """Frame ``k`` as the parallel port sends it, line by line."""
        rgb = self._picture(k)
        _, _, fmt = self.geometry()
        self.stats_.count("frames")
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        if fmt == "RGB565":
            word = (r >> 3) << 11 | (g >> 2) << 5 | b >> 3
        elif fmt == "RGB555":
            word = (r >> 3) << 10 | (g >> 3) << 5 | b >> 3
        elif fmt == "RGB444":
            word = (r >> 4) << 8 | (g >> 4) << 4 | b >> 4
        elif fmt == "RAW":  # BGGR mosaic
            raw = np.empty(r.shape, dtype=np.int64)
            raw[0::2, 0::2], raw[0::2, 1::2] = b[0::2, 0::2], g[0::2, 1::2]
            raw[1::2, 0::2], raw[1::2, 1::2] = g[1::2, 0::2], r[1::2, 1::2]
            return raw.astype(np.uint8).tobytes()
        else:
            return yuyv(rgb).tobytes()
        return word.astype(">u2").tobytes()  # high byte first on the port

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        w, h, fmt = self.geometry()
        out.update(width=w, height=h, format=fmt, fps=FS_PER_SECOND / self.frame_period_fs())
        return out


def yuyv(rgb: np.ndarray) -> np.ndarray:
    """RGB (h, w, 3) to YUV 4:2:2 bytes Y0 U Y1 V (BT.601, studio range), U and V from each pixel pair's mean."""
    f = rgb.astype(np.float64)
    y = 16 + (65.481 * f[..., 0] + 128.553 * f[..., 1] + 24.966 * f[..., 2]) / 255
    u = 128 + (-37.797 * f[..., 0] - 74.203 * f[..., 1] + 112.0 * f[..., 2]) / 255
    v = 128 + (112.0 * f[..., 0] - 93.786 * f[..., 1] - 18.214 * f[..., 2]) / 255
    out = np.empty(f.shape[:2] + (2,), dtype=np.float64)
    out[..., 0] = y
    out[:, 0::2, 1] = (u[:, 0::2] + u[:, 1::2]) / 2
    out[:, 1::2, 1] = (v[:, 0::2] + v[:, 1::2]) / 2
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(f.shape[0], -1)
