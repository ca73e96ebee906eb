"""BMI270 through its registers: the configuration-file handshake (init_ok / init_err), data scaling with
LSB shadowing, header-mode FIFO frames, watermark on INT1, FIFO overrun, SPI's dummy byte."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from simcore.devices.base import DeviceConfig
from simcore.devices.bmi270 import Bmi270
from simcore.devices.bus import I2CBus, Line, SpiBus
from simcore.devices.testing import I2CMaster, SpiMaster, s16
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

ADDR = 0x68
MHZ = 10.0
PERIOD = 100_000  # 100 Hz at 10 MHz
CONFIG = bytes((i * 7 + 3) & 0xFF for i in range(8192))  # a stand-in for Bosch's file (its content is not checked)


def _setup(**opts: object) -> tuple[FakeHost, Bmi270, I2CMaster, np.ndarray]:
    host = FakeHost(mhz=MHZ)
    dev = Bmi270(DeviceConfig("imu", "bmi270", address=ADDR, options=dict(opts)), host)
    rng = np.random.default_rng(4)
    data = np.column_stack([rng.uniform(-5, 5, (500, 3)), rng.uniform(-700, 700, (500, 3))])
    dev.attach(ArraySource("imu.csv", data, channels=("ax", "ay", "az", "gx", "gy", "gz"),
                           units=("g",) * 3 + ("dps",) * 3, rate_hz=100.0))
    bus = I2CBus("i2c1")
    bus.attach(dev, ADDR)
    return host, dev, I2CMaster(bus), data


def _load_config(host: FakeHost, m: I2CMaster, config: bytes = CONFIG, chunk: int = 64) -> None:
    """The datasheet's sequence, as the Bosch API performs it."""
    m.write(ADDR, 0x7C, 0x00)  # PWR_CONF: advanced power save off
    host.advance_to(host.cycles + 4500)  # 450 us
    m.write(ADDR, 0x59, 0x00)  # INIT_CTRL = 0
    for index in range(0, len(config), chunk):
        word = index // 2
        m.write(ADDR, 0x5B, word & 0x0F, word >> 4)  # INIT_ADDR_0/1 (auto-increment)
        m.write(ADDR, 0x5E, *config[index:index + chunk])  # burst into INIT_DATA (the address is trapped)
    m.write(ADDR, 0x59, 0x01)


def _acc(data: np.ndarray, g: int) -> np.ndarray:
    return np.clip(np.rint(data[:, :3] / g * 32768), -32768, 32767).astype(np.int64)


def _gyr(data: np.ndarray, dps: int) -> np.ndarray:
    return np.clip(np.rint(data[:, 3:] / dps * 32768), -32768, 32767).astype(np.int64)


def test_configuration_handshake() -> None:
    host, dev, m, _ = _setup(config_sha256=hashlib.sha256(CONFIG).hexdigest())
    assert m.read(ADDR, 0x00) == [0x24] and m.read(ADDR, 0x21) == [0x00]
    _load_config(host, m)
    start = host.cycles
    host.advance_to(start + 199_999)
    assert m.read(ADDR, 0x21) == [0x00]
    host.advance_to(start + 200_000)  # 20 ms
    assert m.read(ADDR, 0x21) == [0x01]
    assert dev.stats()["config_loaded"] is True


def test_incomplete_or_wrong_configuration_is_init_err() -> None:
    host, dev, m, _ = _setup()
    _load_config(host, m, CONFIG[:4096])
    host.advance_to(host.cycles + 200_000)
    assert m.read(ADDR, 0x21) == [0x02]
    assert "4096 of 8192 bytes" in dev.stats()["events"][0]["what"]
    host2, dev2, m2, _ = _setup(config_sha256="00" * 32)
    _load_config(host2, m2)
    host2.advance_to(host2.cycles + 200_000)
    assert m2.read(ADDR, 0x21) == [0x02]


def test_upload_with_advanced_power_save_on_is_a_firmware_error() -> None:
    host, dev, m, _ = _setup()
    m.write(ADDR, 0x59, 0x00)
    m.write(ADDR, 0x5E, 1, 2, 3)
    assert "imu.INIT_DATA" in host.unmodelled and "imu.PWR_CONF" in host.unmodelled


@pytest.mark.parametrize(("acc_range", "gyr_range"), [(0, 0), (1, 4), (2, 2), (3, 3)])
def test_data_registers_scaled_by_range(acc_range: int, gyr_range: int) -> None:
    host, dev, m, data = _setup()
    _load_config(host, m)
    host.advance_to(host.cycles + 200_000)
    m.write(ADDR, 0x40, 0xA8)  # ACC_CONF 100 Hz
    m.write(ADDR, 0x41, acc_range)
    m.write(ADDR, 0x42, 0xA8)  # GYR_CONF 100 Hz
    m.write(ADDR, 0x43, gyr_range)
    m.write(ADDR, 0x7D, 0x0E)  # PWR_CTRL acc, gyr, temp
    start = host.cycles
    for k in (0, 1, 90):
        host.advance_to(start + (k + 1) * PERIOD)
        assert m.read(ADDR, 0x03)[0] & 0xC0 == 0xC0
        b = m.read(ADDR, 0x0C, 12)
        got = [s16(b[i], b[i + 1]) for i in range(0, 12, 2)]
        k_abs = (start + (k + 1) * PERIOD) // PERIOD - 1
        assert got[:3] == _acc(data, (2, 4, 8, 16)[acc_range])[k_abs].tolist()
        assert got[3:] == _gyr(data, (2000, 1000, 500, 250, 125)[gyr_range])[k_abs].tolist()
        assert m.read(ADDR, 0x03)[0] & 0xC0 == 0


def test_fifo_header_frames_watermark_and_over_read() -> None:
    host, dev, m, data = _setup()
    _load_config(host, m)
    host.advance_to(host.cycles + 200_000)
    m.write(ADDR, 0x53, 0x0A)  # INT1: output enabled, active high
    m.write(ADDR, 0x58, 0x02)  # fwm -> INT1
    m.write(ADDR, 0x46, 130, 0)  # watermark 130 bytes = 10 frames of 13
    m.write(ADDR, 0x49, 0xD0)  # gyr, acc, header
    m.write(ADDR, 0x40, 0xA8)
    m.write(ADDR, 0x42, 0xA8)
    m.write(ADDR, 0x7D, 0x06)
    start = host.cycles
    first = start // PERIOD  # index of the first sample after enabling
    host.advance_to((first + 10) * PERIOD - 1)
    assert dev.lines["INT1"].level is False
    host.advance_to((first + 10) * PERIOD)
    assert dev.lines["INT1"].level is True
    lo, hi = m.read(ADDR, 0x24, 2)
    assert lo | hi << 8 == 130
    raw = m.read(ADDR, 0x26, 130 + 5)  # 10 frames, then a sensor-time frame and an over-read
    for j in range(10):
        frame = raw[13 * j: 13 * (j + 1)]
        assert frame[0] == 0x8C
        vals = [s16(frame[1 + i], frame[2 + i]) for i in range(0, 12, 2)]
        assert vals[:3] == _gyr(data, 2000)[first + j].tolist() and vals[3:] == _acc(data, 8)[first + j].tolist()
    assert raw[130] == 0x44 and raw[134] == 0x80
    assert m.read(ADDR, 0x1D)[0] & 0x02 and m.read(ADDR, 0x1D) == [0x00]  # cleared by reading
    assert dev.lines["INT1"].level is False


def test_fifo_overrun_stop_on_full() -> None:
    host, dev, m, data = _setup()
    _load_config(host, m)
    host.advance_to(host.cycles + 200_000)
    m.write(ADDR, 0x48, 0x01)  # stop on full, no sensor time
    m.write(ADDR, 0x49, 0x40)  # acc only, headerless
    m.write(ADDR, 0x40, 0xA8)
    m.write(ADDR, 0x7D, 0x04)
    start = host.cycles
    first = start // PERIOD
    host.advance_to((first + 400) * PERIOD)
    st = dev.stats()
    assert st["overruns"] == 1 and st["fifo_frames_lost"] == 400 - 341  # 2048 // 6 frames fit
    assert st["events"][-1]["cycle"] == (first + 342) * PERIOD
    raw = m.read(ADDR, 0x26, 12)
    assert [s16(raw[i], raw[i + 1]) for i in range(0, 12, 2)] == _acc(data, 8)[first:first + 2].reshape(-1).tolist()


def test_spi_reads_have_a_dummy_byte() -> None:
    host = FakeHost(mhz=MHZ)
    dev = Bmi270(DeviceConfig("imu", "bmi270"), host)
    bus, cs = SpiBus("spi1"), Line("cs", True)
    bus.attach(dev, cs)
    spi = SpiMaster(bus, cs, mode=0)
    assert spi.read(0x80, 1, dummy=1) == [0x24]
    spi.write(0x7C, 0x00)
    assert spi.read(0x80 | 0x7C, 1, dummy=1) == [0x00]
