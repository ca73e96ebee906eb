"""OmniVision OV7670 camera (datasheet v1.4 and its implementation guide): the SCCB register file and the
frames its parallel port sends, for a DCMI model to capture.

SCCB (I2C-like, 7-bit address 21h; firmware writes 42h/43h): PID 76h, VER 73h, MIDH 7Fh,
MIDL A2h; a write is sub-address + data, a read is a sub-address write, STOP, then a one-byte
read. COM7 (12h) selects the output size (VGA 640x480, CIF 352x288, QVGA 320x240, QCIF
176x144) and format (YUV 4:2:2, RGB, raw Bayer; bit 7 resets every register); COM15 (40h) the
RGB layout (RGB565 / RGB555, else RGB444 with RGB444 (8Ch)) and the output range (bits 7:6: 0x
10h-F0h, BT.601 studio levels; 10 01h-FEh; 11, the reset value, 00h-FFh full range); COM3 (0Ch)
DCW enable with SCALING_DCWCTR (72h) down-sampling by 2, 4 or 8 per direction (QQVGA 160x120 is
QVGA / 2); CLKRC (11h) and DBLV (6Bh) the internal clock: F = XCLK x PLL / (2 x (CLKRC[5:0] + 1)),
or XCLK when CLKRC bit 6 is set.

Timing (datasheet "VGA frame timing"): a line is 784 pixel times of two clocks, a frame 510 lines
(VSYNC high for the first 3, HREF lines from line 20): 30 frames per second at F = 24 MHz. Dummy
pixels (EXHCH[7:4]:EXHCL, 2Ah/2Bh) lengthen every line and dummy lines (ADVFH:ADVFL, 2Eh/2Dh) the
frame, as firmware does to set an exact frame rate. The ``h`` output lines of a smaller size are
spread over the 480 HREF lines of the VGA frame (output line ``j`` in VGA line ``20 + j*480//h``);
within its line the port sends one byte per clock of F (one per two clocks in raw Bayer) from HREF's
rise. COM10 (15h) gives the polarities: VSYNC negative (bit 1), HREF reversed (bit 3), PCLK reversed
(bit 4: data then change on the rising edge); COM1 (04h) bit 6 CCIR656 adds ITU-R BT.656 codes
(FF 00 00 XY: SAV 80h / EAV 9Dh on active lines, ABh / B6h in vertical blanking).

The frame source: ``geometry()``, ``frame_period_fs()``, ``frame_start_fs(k)``, ``line_start_fs(k,
j)``, ``byte_period_fs()``, ``frame_bytes(k)`` (frame ``k`` as the port sends it, line by line:
RGB565/555/444 high byte first, YUYV, or one byte per pixel of a BGGR Bayer mosaic) and
``frame_done_at(k)`` (frame ``k`` is complete at ``(k + 1)`` periods after streaming started).
Frames come from an image recording (PNG/JPEG/NPY), the picture in effect when the frame starts,
converted from gray or colour. A recording whose frames have no size the OV7670 can send is
refused when it is attached (before the run); one of another size than the firmware configures
is refused when the first frame is taken; option ``resize`` scales them instead. The
image-tuning registers (gain, exposure, white balance, gamma, colour matrix) are stored only:
frames are delivered as recorded.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from simcore.devices import register_device
from simcore.devices.base import FS_PER_SECOND, BusDevice, DeviceConfig, DeviceHost
from simcore.errors import BadInputError
from simcore.registers import Field, Register

if TYPE_CHECKING:
    import numpy as np

SIZES = {"VGA": (640, 480), "CIF": (352, 288), "QVGA": (320, 240), "QCIF": (176, 144)}
PLL = (1, 4, 6, 8)
LINE_PIXELS, FRAME_LINES = 784, 510
VSYNC_LINES, FIRST_HREF_LINE, HREF_LINES = 3, 20, 480  # datasheet VGA frame timing, in line times
# ITU-R BT.656 codes (the XY byte of FF 00 00 XY) the port adds with COM1.CCIR656
CCIR656_CODES = {"sav_active": 0x80, "eav_active": 0x9D, "sav_blank": 0xAB, "eav_blank": 0xB6}
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
        "port": "the camera interface its parallel port is wired to (a DCMI peripheral of the board, e.g. dcmi)",
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
        self._timing_key: tuple[int, ...] | None = None
        self._timing_now: tuple[tuple[int, int, str], int, int, int] = ((0, 0, ""), 0, 0, 0)
        super().__init__(config, host)
        self._inc = False
        self.stream_start = 0  # virtual time at which frame 0 started (the DCMI sets it when capture starts)

    def check_recording(self) -> None:
        src = self.source
        assert src is not None
        if len(src.sample_shape) != 3:
            raise BadInputError(f"{self.where()}: the recording {src.path} holds {len(src.channels)}-channel samples, "
                                "not image frames; give the camera PNG/JPEG frames or an (n, h, w) NPY array")
        fh, fw = src.sample_shape[:2]
        if (fw, fh) not in output_sizes() and not self.option("resize", False):
            sizes = ", ".join(f"{w}x{h}" for w, h in sorted(output_sizes(), reverse=True))
            raise BadInputError(f"{self.where()}: the recording {src.path} has {fw}x{fh} frames, a size an OV7670 "
                                f"cannot send (VGA, CIF, QVGA or QCIF, down-sampled by 2, 4 or 8: {sizes}); record "
                                "at the size the firmware configures, or set option resize = true to scale them")

    def _reset(self, old: int, new: int) -> None:
        if new:
            self.reset()

    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte, False  # SCCB: one register per transfer

    # --- output configuration ------------------------------------------------------------------
    TIMING_REGS = itemgetter("COM7", "COM3", "SCALING_DCWCTR", "COM15", "CLKRC", "DBLV", "EXHCH", "EXHCL", "ADVFH",
                             "ADVFL")

    def _timing(self) -> tuple[tuple[int, int, str], int, int, int]:
        """(geometry, frame period, line time, byte period) for the registers now: a DCMI asks for them at every
        line and frame event, and they change only when the firmware writes one of TIMING_REGS."""
        key = self.TIMING_REGS(self.values)
        if key != self._timing_key:
            self._timing_key = key
            self._timing_now = (self._geometry(), self._frame_period_fs(), self._line_time_fs(),
                                self._byte_period_fs())
        return self._timing_now

    def geometry(self) -> tuple[int, int, str]:
        """(width, height, format) of the frames now: format YUV422, RGB565, RGB555, RGB444 or RAW."""
        return self._timing()[0]

    def _geometry(self) -> tuple[int, int, str]:
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
        return 1 if self._geometry()[2] == "RAW" else 2

    def internal_clock_hz(self) -> float:
        clkrc = self.values["CLKRC"]
        if clkrc & 0x40:
            return self.xclk_hz
        return self.xclk_hz * PLL[self.values["DBLV"] >> 6] / (2 * ((clkrc & 0x3F) + 1))

    def dummy_pixels(self) -> int:
        """Dummy pixel times added to every line (EXHCH[7:4] high bits, EXHCL low byte)."""
        return (self.values["EXHCH"] >> 4) << 8 | self.values["EXHCL"]

    def dummy_lines(self) -> int:
        """Dummy lines added to every frame (ADVFH high byte, ADVFL low byte)."""
        return self.values["ADVFH"] << 8 | self.values["ADVFL"]

    def line_clocks(self) -> int:
        return 2 * (LINE_PIXELS + self.dummy_pixels())  # two clocks per pixel time

    def frame_period_fs(self) -> int:
        return self._timing()[1]

    def _frame_period_fs(self) -> int:
        clocks = (FRAME_LINES + self.dummy_lines()) * self.line_clocks()
        return round(clocks * FS_PER_SECOND / self.internal_clock_hz())

    def line_time_fs(self) -> int:
        return self._timing()[2]

    def _line_time_fs(self) -> int:
        return round(self.line_clocks() * FS_PER_SECOND / self.internal_clock_hz())

    def frame_start_fs(self, k: int) -> int:
        """Frame ``k`` begins (VSYNC rises) ``k`` periods after streaming started."""
        return self.stream_start + k * self.frame_period_fs()

    def frame_done_at(self, k: int) -> int:
        return self.frame_start_fs(k + 1)

    def vsync_end_fs(self, k: int) -> int:
        """VSYNC of frame ``k`` falls (3 line times after the frame starts): a DCMI starts capturing here."""
        return self.frame_start_fs(k) + VSYNC_LINES * self.line_time_fs()

    def line_start_fs(self, k: int, j: int) -> int:
        """HREF rises for output line ``j`` of frame ``k``."""
        (_w, h, _f), period, line, _byte = self._timing()
        return self.stream_start + k * period + (FIRST_HREF_LINE + j * HREF_LINES // h) * line

    def byte_period_fs(self) -> int:
        """Time between bytes on the port within a line: one clock of F (two in raw Bayer, one byte per pixel)."""
        return self._timing()[3]

    def _byte_period_fs(self) -> int:
        return round(FS_PER_SECOND * (2 // self.bytes_per_pixel()) / self.internal_clock_hz())

    def polarities(self) -> dict[str, bool]:
        """Signal polarities from COM10: VSYNC high during its pulse, HREF high on valid data, data sampled on
        PCLK's rising edge, unless reversed."""
        c10 = self.values["COM10"]
        return {"vsync_high": not c10 & 0x02, "href_high": not c10 & 0x08, "pclk_rising": not c10 & 0x10}

    def ccir656(self) -> bool:
        """COM1 bit 6: BT.656 codes embedded in the data (what a DCMI's embedded synchronisation looks for)."""
        return bool(self.values["COM1"] & 0x40)

    # --- frames --------------------------------------------------------------------------------
    def _picture(self, k: int) -> np.ndarray:
        import numpy as np

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
        import numpy as np

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
            return yuyv(rgb, self.values["COM15"] >> 6).tobytes()
        return word.astype(">u2").tobytes()  # high byte first on the port

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        w, h, fmt = self.geometry()
        out.update(width=w, height=h, format=fmt, fps=FS_PER_SECOND / self.frame_period_fs())
        return out


def output_sizes() -> set[tuple[int, int]]:
    """Every (width, height) the port can send: the four sizes of COM7, down-sampled by 1, 2, 4 or 8 per direction."""
    return {(w >> dx, h >> dy) for w, h in SIZES.values() for dx in range(4) for dy in range(4)}


def yuyv(rgb: np.ndarray, out_range: int = 0) -> np.ndarray:
    """RGB (h, w, 3) to YUV 4:2:2 bytes Y0 U Y1 V (BT.601), U and V from each pixel pair's mean.

    ``out_range`` is COM15[7:6]: 0 or 1 studio levels (Y 16-235, U/V 16-240, clipped to 10h-F0h); 2 full range
    clipped to 01h-FEh; 3 full range 00h-FFh (JPEG/JFIF levels: gray g gives Y = g)."""
    import numpy as np

    f = rgb.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    if out_range >= 2:
        y = 0.299 * r + 0.587 * g + 0.114 * b
        u = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
        v = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
        lo, hi = (1, 254) if out_range == 2 else (0, 255)
    else:
        y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
        u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
        v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
        lo, hi = 16, 240
    out = np.empty(f.shape[:2] + (2,), dtype=np.float64)
    out[..., 0] = y
    out[:, 0::2, 1] = (u[:, 0::2] + u[:, 1::2]) / 2
    out[:, 1::2, 1] = (v[:, 0::2] + v[:, 1::2]) / 2
    return np.clip(np.rint(out), lo, hi).astype(np.uint8).reshape(f.shape[0], -1)
