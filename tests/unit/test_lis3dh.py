"""LIS3DH through its registers on I2C and SPI on a fake clock: scaling per mode and range, data ready,
BDU, the FIFO's modes, watermark and overrun; expected values computed in numpy from the recording."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.devices.base import DeviceConfig
from simcore.devices.bus import I2CBus, Line, SpiBus
from simcore.devices.lis3dh import Lis3dh
from simcore.devices.testing import I2CMaster, SpiMaster, s16
from simcore.errors import BadInputError
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

ADDR = 0x19
RATE = 100.0
PERIOD = 100_000  # cycles per sample at 10 MHz and 100 Hz


def _recording(n: int = 300, seed: int = 3) -> tuple[ArraySource, np.ndarray]:
    data = np.random.default_rng(seed).uniform(-2.5, 2.5, size=(n, 3))
    return ArraySource("walk.csv", data, channels=("ax", "ay", "az"), units=("g",) * 3, rate_hz=RATE), data


def _expected(data: np.ndarray, sens_mg: float, bits: int) -> np.ndarray:
    """The datasheet's conversion in numpy: mg / sensitivity, saturated to ``bits``, left-justified."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.rint(data * 1000.0 / sens_mg), lo, hi).astype(np.int64) << (16 - bits)


def _setup(**opts: object) -> tuple[FakeHost, Lis3dh, I2CMaster, np.ndarray]:
    host = FakeHost(mhz=10)
    dev = Lis3dh(DeviceConfig("acc", "lis3dh", address=ADDR, options=dict(opts)), host)
    src, data = _recording()
    dev.attach(src)
    bus = I2CBus("i2c1")
    bus.attach(dev, ADDR)
    return host, dev, I2CMaster(bus), data


def _sample(m: I2CMaster) -> list[int]:
    b = m.read(ADDR, 0x28 | 0x80, 6)
    return [s16(b[i], b[i + 1]) for i in (0, 2, 4)]


@pytest.mark.parametrize(("ctrl1", "ctrl4", "sens", "bits"), [
    (0x57, 0x08, 1.0, 12),    # high resolution, +-2 g
    (0x57, 0x38, 12.0, 12),   # high resolution, +-16 g
    (0x57, 0x10, 8.0, 10),    # normal, +-4 g
    (0x5F, 0x20, 64.0, 8),    # low power, +-8 g
])
def test_output_equals_recording_scaled(ctrl1: int, ctrl4: int, sens: float, bits: int) -> None:
    host, dev, m, data = _setup()
    assert m.read(ADDR, 0x0F) == [0x33]
    m.write(ADDR, 0x23, ctrl4)
    m.write(ADDR, 0x20, ctrl1)
    exp = _expected(data, sens, bits)
    for k in (0, 1, 57, 299):
        host.advance_to(PERIOD * (k + 1) + 17)
        assert _sample(m) == exp[k].tolist()


def test_data_ready_interrupt_on_int1_at_each_sample() -> None:
    host, dev, m, data = _setup()
    rises: list[int] = []
    dev.lines["INT1"].connect(lambda level: rises.append(host.cycles) if level else None)
    m.write(ADDR, 0x22, 0x10)  # I1_ZYXDA
    m.write(ADDR, 0x20, 0x57)
    host.advance_to(PERIOD - 1)
    assert rises == [] and m.read(ADDR, 0x27) == [0x00]
    host.advance_to(PERIOD)
    assert rises == [PERIOD] and m.read(ADDR, 0x27)[0] & 0x08
    _sample(m)
    assert dev.lines["INT1"].level is False and m.read(ADDR, 0x27)[0] & 0x08 == 0
    host.advance_to(4 * PERIOD)  # samples 1..3 arrive unread: overrun flags, line high since the 2nd
    assert rises == [PERIOD, 2 * PERIOD]
    assert m.read(ADDR, 0x27) == [0xFF]
    m.write(ADDR, 0x25, 0x02)  # INT_POLARITY: active low
    assert dev.lines["INT1"].level is False


def test_block_data_update_keeps_an_axis_together() -> None:
    host, dev, m, data = _setup()
    m.write(ADDR, 0x23, 0x88)  # BDU, HR
    m.write(ADDR, 0x20, 0x57)
    exp = _expected(data, 1.0, 12)
    host.advance_to(PERIOD + 5)
    lo = m.read(ADDR, 0x28)[0]
    host.advance_to(2 * PERIOD + 5)  # a new sample arrives between the low and the high byte
    hi = m.read(ADDR, 0x29)[0]
    assert s16(lo, hi) == exp[0, 0]
    assert _sample(m)[0] == exp[1, 0]


def test_fifo_stream_watermark_interrupt_and_burst_read() -> None:
    host, dev, m, data = _setup()
    m.write(ADDR, 0x23, 0x08)
    m.write(ADDR, 0x24, 0x40)  # FIFO_EN
    m.write(ADDR, 0x2E, 0x80 | 10)  # stream mode, FTH 10
    m.write(ADDR, 0x22, 0x04)  # I1_WTM
    m.write(ADDR, 0x20, 0x57)
    host.advance_to(10 * PERIOD - 1)
    assert dev.lines["INT1"].level is False
    host.advance_to(10 * PERIOD)
    assert dev.lines["INT1"].level is True
    src = m.read(ADDR, 0x2F)[0]
    assert src & 0x80 and src & 0x1F == 10 and not src & 0x40
    b = m.read(ADDR, 0x28 | 0x80, 6 * 10)  # one burst: wraps from OUT_Z_H to OUT_X_L
    got = [[s16(b[6 * j + i], b[6 * j + i + 1]) for i in (0, 2, 4)] for j in range(10)]
    assert got == _expected(data, 1.0, 12)[:10].tolist()
    assert m.read(ADDR, 0x2F) == [0x20] and dev.lines["INT1"].level is False  # empty
    assert [t for _, t in host.fired] == ["acc.wake"]  # one event for ten samples


def test_fifo_mode_stops_when_full_and_reports_the_overrun_time() -> None:
    host, dev, m, data = _setup()
    m.write(ADDR, 0x23, 0x08)
    m.write(ADDR, 0x24, 0x40)
    m.write(ADDR, 0x2E, 0x40)  # FIFO mode
    m.write(ADDR, 0x22, 0x02)  # I1_OVERRUN
    m.write(ADDR, 0x20, 0x57)
    host.advance_to(40 * PERIOD)
    rise = [c for c, tag in host.fired]
    assert rise == [33 * PERIOD]  # the 33rd sample is the first that does not fit
    assert dev.lines["INT1"].level is True
    assert m.read(ADDR, 0x2F)[0] == 0x40 | 31
    b = m.read(ADDR, 0x28 | 0x80, 6 * 32)
    got = [[s16(b[6 * j + i], b[6 * j + i + 1]) for i in (0, 2, 4)] for j in range(32)]
    assert got == _expected(data, 1.0, 12)[:32].tolist()  # the first 32 samples, the later ones are lost
    host.advance_to(60 * PERIOD)
    assert m.read(ADDR, 0x2F)[0] & 0x20  # stopped: nothing new until reset through bypass
    st = dev.stats()
    assert st["overruns"] == 1 and st["samples_lost"] == 60 - 32
    ev = st["events"][0]
    assert ev["kind"] == "overruns" and ev["time_s"] == pytest.approx(0.33) and ev["cycle"] == 33 * PERIOD
    m.write(ADDR, 0x2E, 0x00)  # bypass resets it
    m.write(ADDR, 0x2E, 0x40)
    host.advance_to(62 * PERIOD)
    assert m.read(ADDR, 0x2F)[0] & 0x1F == 2
    assert _sample(m) == _expected(data, 1.0, 12)[60].tolist()


def test_stream_mode_keeps_the_newest_32() -> None:
    host, dev, m, data = _setup()
    m.write(ADDR, 0x23, 0x08)
    m.write(ADDR, 0x24, 0x40)
    m.write(ADDR, 0x2E, 0x80)
    m.write(ADDR, 0x20, 0x57)
    host.advance_to(50 * PERIOD + 1)
    assert m.read(ADDR, 0x2F)[0] == 0x40 | 31
    b = m.read(ADDR, 0x28 | 0x80, 6 * 32)
    got = [[s16(b[6 * j + i], b[6 * j + i + 1]) for i in (0, 2, 4)] for j in range(32)]
    assert got == _expected(data, 1.0, 12)[18:50].tolist()
    st = dev.stats()
    assert st["overruns"] == 1 and st["samples_lost"] == 18 and st["events"][0]["cycle"] == 33 * PERIOD


def test_spi_frames_with_ms_bit() -> None:
    host = FakeHost(mhz=10)
    dev = Lis3dh(DeviceConfig("acc", "lis3dh"), host)
    src, data = _recording()
    dev.attach(src)
    bus, cs = SpiBus("spi1"), Line("cs", True)
    bus.attach(dev, cs)
    spi = SpiMaster(bus, cs, mode=3)
    assert spi.read(0x80 | 0x0F) == [0x33]
    spi.write(0x40 | 0x22, 0x00, 0x08)  # CTRL_REG3, CTRL_REG4 (HR) with MS
    spi.write(0x20, 0x57)
    host.advance_to(PERIOD + 1)
    b = spi.read(0xC0 | 0x28, 6)
    assert [s16(b[i], b[i + 1]) for i in (0, 2, 4)] == _expected(data, 1.0, 12)[0].tolist()


def test_rate_mismatch_refused_unless_resampling() -> None:
    host, dev, m, _ = _setup()
    with pytest.raises(BadInputError, match="100 Hz but the peripheral's accel output data rate is 200 Hz"):
        m.write(ADDR, 0x20, 0x67)
    host2, dev2, m2, data = _setup(resample=True)
    m2.write(ADDR, 0x23, 0x08)
    m2.write(ADDR, 0x20, 0x67)  # 200 Hz from a 100 Hz recording, interpolated
    host2.advance_to(2 * 50_000 + 1)  # sample 1 at 200 Hz: halfway between recording samples 0 and 1
    assert _sample(m2)[0] == pytest.approx(np.mean(data[:2, 0]) * 1000 * 16, abs=2 * 16 + 1)


def test_bad_units_refused_at_attach() -> None:
    dev = Lis3dh(DeviceConfig("acc", "lis3dh"), FakeHost())
    src = ArraySource("w.csv", np.zeros((3, 3)), channels=("ax", "ay", "az"), units=("V",) * 3, rate_hz=RATE)
    with pytest.raises(BadInputError, match="gives acceleration in V; use one of g, mg, m/s2"):
        dev.attach(src)
