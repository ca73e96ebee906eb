"""STM32F4 DCMI (RM0090 section 15) with an OV7670 and the F4 DMA model, on a fake clock.

The frames are an NPY recording written here; the bytes the camera sends are computed in numpy
from it (BT.601 full-range YUYV, the OV7670's reset output range) and compared with what the DMA
wrote to RAM. Times come from the OV7670 datasheet's frame timing: at F = 4 MHz (CLKRC 2) with 16
dummy pixels and 115 dummy lines a line lasts 1600 clocks (400 us) and a frame 625 lines (250 ms);
output line j of QQVGA is in VGA line 20 + 4j, and the port sends one byte per clock from HREF's rise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.board import Device
from simcore.clock import FS_PER_SECOND
from simcore.devices.ov7670 import Ov7670
from simcore.runtypes import ReportChannel
from simcore.sources import open_source
from tests.unit.stm32_bus import BusHost

DCMI, DMA2, RAM = 0x50050000, 0x40026400, 0x20000000
CR, SR, RIS, IER, MIS, ICR, ESCR, ESUR, CWSTRT, CWSIZE, DR = 0, 4, 8, 0xC, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24, 0x28
CAPTURE, CM, CROP, JPEG, ESS, PCKPOL, HSPOL, VSPOL, ENABLE = 1, 2, 4, 8, 16, 32, 64, 128, 1 << 14
FRAME, OVR, ERR, VSYNC, LINE = 1, 2, 4, 8, 16
IRQ = 78  # DCMI (the F407's SVD)
LINE_S, FRAME_S = 400e-6, 0.25
OV_SYNC = PCKPOL | VSPOL  # what an OV7670 at reset needs: PCLK rising, VSYNC high between frames, HREF high on data


def _recording(tmp_path: Path, n: int = 4) -> tuple[np.ndarray, object]:
    rgb = np.random.default_rng(7).integers(0, 256, (n, 120, 160, 3)).astype(np.uint8)
    path = tmp_path / "frames.npy"
    np.save(path, rgb)
    return rgb, open_source(path, fps=4)


def _yuyv_full(rgb: np.ndarray) -> np.ndarray:
    """BT.601 full range (JFIF) YUV 4:2:2 as the port sends it: Y0 U Y1 V, chroma of each pixel pair's mean."""
    f = rgb.astype(np.float64)
    y = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    u = 128 - 0.168736 * f[..., 0] - 0.331264 * f[..., 1] + 0.5 * f[..., 2]
    v = 128 + 0.5 * f[..., 0] - 0.418688 * f[..., 1] - 0.081312 * f[..., 2]
    out = np.empty(f.shape[:2] + (2,))
    out[..., 0] = y
    out[:, 0::2, 1] = (u[:, 0::2] + u[:, 1::2]) / 2
    out[:, 1::2, 1] = (v[:, 0::2] + v[:, 1::2]) / 2
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(f.shape[0], -1)


def _setup(tmp_path: Path, n: int = 4, com1: int = 0) -> tuple[BusHost, object, Ov7670, np.ndarray]:
    host = BusHost()
    host.f4_clocks()
    dcmi = host.add("dcmi", "stm32f4_dcmi", DCMI)
    host.add("dma2", "stm32f4_dma", DMA2)
    cam = Ov7670(Device("camera", "ov7670", "i2c1", address=0x21), host)
    rgb, src = _recording(tmp_path, n)
    cam.attach(src)
    for reg, value in ((0x12, 0x10), (0x0C, 0x04), (0x72, 0x11), (0x11, 0x02), (0x2B, 16), (0x2D, 115), (0x04, com1)):
        cam.write(reg, 1, value)  # QVGA YUV, DCW /2 (QQVGA), F = 4 MHz, 800 x 625: 4 fps
    dcmi.attach_camera(cam)
    return host, dcmi, cam, rgb


def _dma(host: BusHost, words: int, stream: int = 1, circ: bool = False, addr: int = RAM) -> None:
    """DMA2 stream 1 (or 7), channel 1 = DCMI (RM0090 Table 43): words from DR to RAM."""
    dma = host.peripherals["dma2"]
    base = 0x10 + 0x18 * stream
    dma.write(base + 0x04, 4, words)
    dma.write(base + 0x08, 4, DCMI + DR)
    dma.write(base + 0x0C, 4, addr)
    dma.write(base, 4, 1 << 25 | 2 << 13 | 2 << 11 | 1 << 10 | (1 << 8 if circ else 0) | 1 << 4 | 1)


def _at(seconds: float) -> int:
    """The first cycle at 168 MHz at which ``seconds`` have passed."""
    return -(-round(seconds * FS_PER_SECOND) * 168 // 10**9)


def _crop(dcmi: object, x: int, y: int, w_bytes: int, h: int) -> None:
    dcmi.write(CWSTRT, 4, y << 16 | x)
    dcmi.write(CWSIZE, 4, (h - 1) << 16 | (w_bytes - 1))


def test_snapshot_of_a_crop_window_moves_the_camera_bytes_and_flags_frame_at_the_window_end(tmp_path: Path) -> None:
    host, dcmi, cam, rgb = _setup(tmp_path)
    _dma(host, 96 * 96 * 2 // 4)
    _crop(dcmi, 2 * 32, 12, 2 * 96, 96)  # 96x96 pixels from (32, 12): 192 pixel clocks per line
    dcmi.write(IER, 4, FRAME)
    dcmi.write(CR, 4, OV_SYNC | CROP | CM | ENABLE)
    dcmi.write(CR, 4, OV_SYNC | CROP | CM | ENABLE | CAPTURE)
    assert dcmi.read(CR, 4) & CAPTURE
    host.advance_to(_at(0.3))
    want = _yuyv_full(rgb[0])[12:108, 64:256]
    assert host.ram_bytes(RAM, want.size) == want.tobytes()
    # the window's last line (107) is VGA line 20 + 4 * 107; its 320 bytes end 80 us after HREF rises
    assert host.irq_rises(IRQ) == [_at((20 + 4 * 107) * LINE_S + 320 / 4e6)]
    assert dcmi.read(RIS, 4) & (FRAME | VSYNC) == FRAME | VSYNC and not dcmi.read(CR, 4) & CAPTURE  # snapshot over
    assert dcmi.read(MIS, 4) == FRAME
    dcmi.write(ICR, 4, FRAME | VSYNC)
    assert dcmi.read(RIS, 4) & FRAME == 0 and host.irq_levels[IRQ] is False
    assert dcmi.frames_captured == 1 and dcmi.overruns == [] and dcmi.words_captured == 96 * 96 // 2


def test_continuous_capture_in_a_circular_buffer_and_frame_rate_control(tmp_path: Path) -> None:
    host, dcmi, cam, rgb = _setup(tmp_path)
    words = 160 * 120 * 2 // 4
    _dma(host, words, stream=7, circ=True)
    dcmi.write(CR, 4, OV_SYNC | ENABLE | CAPTURE)  # continuous, every frame, whole QQVGA frame
    host.advance_to(_at(0.2505))  # frame 0 ends (VSYNC rises) at 250 ms; frame 1 sends its first line at 258 ms
    assert host.ram_bytes(RAM, 4 * words) == _yuyv_full(rgb[0]).tobytes()
    host.advance_to(_at(0.7505))
    assert host.ram_bytes(RAM, 4 * words) == _yuyv_full(rgb[2]).tobytes()  # frame k shows picture k at 4 fps
    assert dcmi.frames_captured == 3 and dcmi.read(CR, 4) & CAPTURE
    dcmi.write(CR, 4, OV_SYNC | ENABLE)  # CAPTURE cleared between frames: stops now
    host.advance_to(_at(1.5))
    assert dcmi.frames_captured == 3
    # FCRC = 01: every other frame
    host2, dcmi2, _, _ = _setup(tmp_path)
    _dma(host2, words, circ=True)
    dcmi2.write(CR, 4, OV_SYNC | 1 << 8 | ENABLE | CAPTURE)
    host2.advance_to(_at(1.01))
    assert dcmi2.frames_captured == 2  # frames 0 and 2 of 0..3


def test_without_dma_the_fifo_overruns_and_the_frame_is_lost(tmp_path: Path) -> None:
    host, dcmi, cam, _ = _setup(tmp_path)
    dcmi.write(IER, 4, OVR | FRAME)
    dcmi.write(CR, 4, OV_SYNC | ENABLE | CAPTURE)
    host.advance_to(_at(0.2))
    ris = dcmi.read(RIS, 4)
    assert ris & OVR and not ris & FRAME  # 80 words per line, 8 fit in the FIFO
    ninth_word = 20 * LINE_S + 9 * 4 / 4e6  # the 9th word of the first line finds the FIFO full
    assert host.irq_rises(IRQ) == [_at(ninth_word)]
    assert len(dcmi.overruns) == 1 and dcmi.overruns[0]["time_s"] == pytest.approx(ninth_word, abs=1e-9)
    assert cam.stats()["overruns"] == 1
    host.advance_to(_at(0.45))
    assert len(dcmi.overruns) == 2 and dcmi.overruns[1]["frame"] == 1  # capture resumed with the next frame
    # a DMA stream too short for the frame stops; the words after it overrun the FIFO
    host2, dcmi2, cam2, rgb = _setup(tmp_path)
    _dma(host2, 100)
    dcmi2.write(CR, 4, OV_SYNC | ENABLE | CAPTURE)
    host2.advance_to(_at(0.3))
    assert dcmi2.read(RIS, 4) & OVR and dcmi2.frames_captured == 0
    assert host2.ram_bytes(RAM, 400) == _yuyv_full(rgb[0]).tobytes()[:400]


def test_the_cpu_reads_dr_as_words_arrive_and_sr_follows_the_sync_signals(tmp_path: Path) -> None:
    host, dcmi, cam, rgb = _setup(tmp_path)
    _crop(dcmi, 8, 0, 4, 3)  # one word per line, lines 0..2
    dcmi.write(CR, 4, OV_SYNC | CROP | CM | ENABLE | CAPTURE)
    assert dcmi.read(SR, 4) == 3  # VSYNC pulse: between frames, between lines
    yuyv = _yuyv_full(rgb[0])
    for j in range(3):
        start = (20 + 4 * j) * LINE_S
        host.advance_to(_at(start + 5 / 4e6))  # 5 bytes into line j: the word (bytes 8..11) is not complete
        assert dcmi.read(SR, 4) == 0  # data valid, FIFO empty
        host.advance_to(_at(start + 12 / 4e6))
        assert dcmi.read(SR, 4) == 4  # FNE
        assert dcmi.read(DR, 4) == int.from_bytes(yuyv[j, 8:12].tobytes(), "little")  # first byte in bits 7:0
        host.advance_to(_at(start + 330 / 4e6))
        assert dcmi.read(SR, 4) == 1  # HSYNC: between lines
    host.advance_to(_at(0.26))
    assert dcmi.read(RIS, 4) & FRAME and not dcmi.read(RIS, 4) & OVR


def test_extended_data_mode_and_jpeg(tmp_path: Path) -> None:
    host, dcmi, cam, rgb = _setup(tmp_path)
    _dma(host, 160 * 2 * 2 * 2 // 4)
    _crop(dcmi, 0, 0, 160 * 2, 2)
    dcmi.write(CR, 4, OV_SYNC | 1 << 10 | CROP | CM | ENABLE | CAPTURE)  # EDM 10-bit: 16-bit items, D[7:0] wired
    host.advance_to(_at(0.3))
    items = np.frombuffer(host.ram_bytes(RAM, 160 * 2 * 2 * 2), "<u2").reshape(2, 320)
    assert np.array_equal(items, _yuyv_full(rgb[0])[:2].astype(np.uint16))
    host2, dcmi2, cam2, rgb2 = _setup(tmp_path)
    _dma(host2, 160 * 120 * 2 // 4)
    dcmi2.write(CR, 4, OV_SYNC | JPEG | CROP | CM | ENABLE | CAPTURE)  # JPEG: the crop does not apply
    host2.advance_to(_at(0.3))
    assert host2.ram_bytes(RAM, 160 * 120 * 2) == _yuyv_full(rgb2[0]).tobytes()
    assert any("JPEG" in d for d in host2.unmodelled.values())


def test_wrong_polarities_capture_nothing_with_a_guest_error(tmp_path: Path) -> None:
    host, dcmi, _, _ = _setup(tmp_path)
    _dma(host, 9600)
    dcmi.write(CR, 4, PCKPOL | HSPOL | VSPOL | ENABLE | CAPTURE)  # HSPOL 1: HREF high would mean "not valid"
    host.advance_to(_at(0.6))
    assert dcmi.frames_captured == 0 and dcmi.words_captured == 0
    assert host.channels["DCMI.CR.HSPOL"] == ReportChannel.GUEST_ERROR
    assert dcmi.read(RIS, 4) & VSYNC  # the frames still come and go


def test_embedded_synchronisation_with_bt656_codes(tmp_path: Path) -> None:
    host, dcmi, _, rgb = _setup(tmp_path, com1=0x40)  # COM1.CCIR656
    _dma(host, 160 * 120 * 2 // 4)
    dcmi.write(ESCR, 4, 0xFF << 24 | 0x9D << 16 | 0x80 << 8 | 0xFF)  # RM0090 mode 1: FS FF, FE FF, LS SAV, LE EAV
    dcmi.write(ESUR, 4, 0xFFFFFFFF)
    dcmi.write(CR, 4, ESS | CM | ENABLE | CAPTURE)
    host.advance_to(_at(0.3))
    assert dcmi.frames_captured == 1 and host.ram_bytes(RAM, 160 * 120 * 2) == _yuyv_full(rgb[0]).tobytes()
    host2, dcmi2, _, _ = _setup(tmp_path, com1=0x40)
    dcmi2.write(ESCR, 4, 0xFF << 24 | 0x9D << 16 | 0x80 << 8 | 0xFF)
    dcmi2.write(ESUR, 4, 0xFFFF00FF)  # line start unmasked nowhere: every code is a line start
    dcmi2.write(CR, 4, ESS | CM | ENABLE | CAPTURE)
    host2.advance_to(_at(0.3))
    assert dcmi2.read(RIS, 4) & ERR and dcmi2.frames_captured == 0
    host3, dcmi3, _, _ = _setup(tmp_path)  # no CCIR656: nothing to synchronise on
    dcmi3.write(CR, 4, ESS | CM | ENABLE | CAPTURE)
    host3.advance_to(_at(0.3))
    assert dcmi3.frames_captured == 0 and "DCMI.CR.ESS" in host3.unmodelled
    assert not dcmi3.read(RIS, 4) & VSYNC  # with ESS, VSYNC_RIS only while capturing... and nothing is found
