"""LIS3DSH over SPI as the STM32F4 Discovery drives it: identity, scaling per full scale, DRDY on INT1
(active low by default), ADD_INC, FIFO watermark/overrun on INT1, state machines reported."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.devices.base import DeviceConfig
from simcore.devices.bus import Line, SpiBus
from simcore.devices.lis3dsh import Lis3dsh
from simcore.devices.testing import SpiMaster, s16
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

PERIOD = 62_500  # 100 Hz at 6.25 MHz
SENS = (0.06, 0.12, 0.18, 0.24, 0.73)


def _setup() -> tuple[FakeHost, Lis3dsh, SpiMaster, np.ndarray]:
    host = FakeHost(mhz=6.25)
    dev = Lis3dsh(DeviceConfig("acc", "lis3dsh"), host)
    data = np.random.default_rng(5).uniform(-3, 3, size=(200, 3))
    dev.attach(ArraySource("a.csv", data, channels=("ax", "ay", "az"), units=("g",) * 3, rate_hz=100.0))
    bus, cs = SpiBus("spi1"), Line("PE3", True)
    bus.attach(dev, cs)
    return host, dev, SpiMaster(bus, cs, mode=3), data


def _xyz(spi: SpiMaster) -> list[int]:
    b = spi.read(0x80 | 0x28, 6)
    return [s16(b[i], b[i + 1]) for i in (0, 2, 4)]


def _expected(data: np.ndarray, fs: int) -> np.ndarray:
    return np.clip(np.rint(data * 1000 / SENS[fs]), -32768, 32767).astype(np.int64)


def test_identity_and_reset_values() -> None:
    _, dev, spi, _ = _setup()
    assert spi.read(0x80 | 0x0D, 3) == [0x21, 0x00, 0x3F]  # INFO1, INFO2, WHO_AM_I with ADD_INC
    assert spi.read(0x80 | 0x20) == [0x07] and spi.read(0x80 | 0x25) == [0x10]


@pytest.mark.parametrize("fs", range(5))
def test_output_scaled_by_full_scale(fs: int) -> None:
    host, dev, spi, data = _setup()
    spi.write(0x24, fs << 3)
    spi.write(0x20, 0x67)  # 100 Hz, XYZ
    exp = _expected(data, fs)
    for k in (0, 9, 150):
        host.advance_to(PERIOD * (k + 1) + 3)
        assert _xyz(spi) == exp[k].tolist()


def test_drdy_on_int1_polarity_and_stat() -> None:
    host, dev, spi, data = _setup()
    assert dev.lines["INT1"].level is True  # IEA = 0: active low, idle high
    spi.write(0x23, 0xC8)  # DR_EN, IEA (active high), INT1_EN: the Discovery examples' setting
    spi.write(0x20, 0x67)
    host.advance_to(PERIOD)
    assert dev.lines["INT1"].level is True and spi.read(0x80 | 0x18)[0] & 1
    _xyz(spi)
    assert dev.lines["INT1"].level is False and spi.read(0x80 | 0x18)[0] == 0
    host.advance_to(3 * PERIOD)
    assert spi.read(0x80 | 0x18)[0] == 0x03  # DRDY and DOR


def test_add_inc_off_reads_one_register() -> None:
    host, dev, spi, data = _setup()
    spi.write(0x25, 0x00)
    spi.write(0x20, 0x67)
    host.advance_to(PERIOD + 1)
    b = spi.read(0x80 | 0x28, 3)
    assert b[0] == b[1] == b[2] == _expected(data, 0)[0, 0] & 0xFF


def test_fifo_watermark_and_overrun_on_int1() -> None:
    host, dev, spi, data = _setup()
    spi.write(0x2E, 0x40 | 8)  # stream, WTMP 8
    spi.write(0x25, 0x10 | 0x40 | 0x20 | 0x04)  # ADD_INC, FIFO_EN, WTM_EN, P1_WTM
    spi.write(0x23, 0x48)  # IEA, INT1_EN
    spi.write(0x20, 0x67)
    host.advance_to(8 * PERIOD - 1)
    assert dev.lines["INT1"].level is False
    host.advance_to(8 * PERIOD)
    assert dev.lines["INT1"].level is True and spi.read(0x80 | 0x2F)[0] == 0x80 | 8
    got = [_xyz(spi) for _ in range(8)]
    assert got == _expected(data, 0)[:8].tolist()
    assert dev.lines["INT1"].level is False
    spi.write(0x25, 0x10 | 0x40 | 0x02)  # P1_OVERRUN instead
    host.advance_to(60 * PERIOD)
    assert dev.lines["INT1"].level is True and spi.read(0x80 | 0x2F)[0] & 0x40
    st = dev.stats()
    assert st["overruns"] == 1 and st["events"][0]["cycle"] == 41 * PERIOD  # 8 read, 32 more fit, the 41st lost


def test_state_machine_use_is_reported() -> None:
    host, dev, spi, _ = _setup()
    spi.write(0x21, 0x01)  # SM1_EN
    spi.write(0x40, 0x05)
    assert "acc.CTRL_REG1" in host.unmodelled and "acc.ST1_1" in host.unmodelled


def _drain_ready(int1: int = 0x48, ctrl6: int = 0x10 | 0x40 | 0x20 | 0x04) -> tuple[FakeHost, Lis3dsh, SpiMaster,
                                                                                    np.ndarray]:
    host, dev, spi, data = _setup()
    spi.write(0x2E, 0x40 | 25)  # stream, WTMP 25
    spi.write(0x25, ctrl6)  # ADD_INC, FIFO_EN, WTM_EN, P1_WTM
    spi.write(0x23, int1)  # IEA (active high), INT1_EN
    spi.write(0x20, 0x67)
    host.advance_to(30 * PERIOD + 5)
    return host, dev, spi, data


def test_a_previewed_fifo_drain_equals_its_transfers() -> None:
    """spi_preview_repeat tells the bytes of transfers that each read one sample (0xA8, 6 bytes) as long as the FIFO
    holds samples (numpy from the recording), and spi_commit_repeat leaves the chip as those transfers do: FIFO level,
    samples read, INT1 (down below the watermark) and the reads after it."""
    _, dev, _, data = _drain_ready()
    _, ref, ref_spi, _ = _drain_ready()
    dev.catch_up()
    assert dev.lines["INT1"].level is True and dev.fifo.level == 30
    dev.spi_select(True)
    got = dev.spi_preview_repeat(0xA8, 3, 7, 100)
    exp = _expected(data, 0)
    want: list[int] = []
    for k in range(30):
        want += [0, *(int(b) for b in exp[k].astype("<i2").tobytes())]
    assert got == want  # every sample the FIFO holds, nothing changed meanwhile
    assert dev.fifo.level == 30 and dev.lines["INT1"].level is True
    dev.spi_commit_repeat(0xA8, 3, 7, 10)
    for _ in range(10):
        ref_spi.read(0x80 | 0x28, 6)
    assert dev.fifo.level == ref.fifo.level == 20
    assert dev.stats()["samples_read"] == ref.stats()["samples_read"] == 10
    assert dev.lines["INT1"].level is ref.lines["INT1"].level is False
    assert [dev.out_byte(i) for i in range(6)] == [ref.out_byte(i) for i in range(6)]
    assert dev.stats()["samples_read"] == ref.stats()["samples_read"] == 11


@pytest.mark.parametrize("int1, ctrl6", [(0x08, 0x74), (0x48, 0x7C)], ids=["active-low", "p1-empty"])
def test_no_drain_preview_when_int1_could_rise(int1: int, ctrl6: int) -> None:
    """INT1 active low, or P1_EMPTY routed: reading the FIFO could raise the line, so no transfers are previewed at once
    (their line changes are applied only when the controller settles)."""
    _, dev, _, _ = _drain_ready(int1, ctrl6)
    dev.spi_select(True)
    assert dev.spi_preview_repeat(0xA8, 3, 7, 100) == []
    dev.spi_select(False)
    _, ok, _, _ = _drain_ready()
    ok.spi_select(True)
    assert len(ok.spi_preview_repeat(0xA8, 3, 7, 100)) == 7 * 30
