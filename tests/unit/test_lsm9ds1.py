"""LSM9DS1 driven as the Arduino library drives it (Nano 33 BLE Sense Rev1): identity at 6Bh/1Eh, 119 Hz,
continuous FIFO read by 6-byte bursts, gyroscope and magnetometer scaling, FIFO overrun."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.devices.base import DeviceConfig
from simcore.devices.bus import I2CBus
from simcore.devices.lsm9ds1 import Lsm9ds1, Lsm9ds1Mag
from simcore.devices.testing import I2CMaster, s16
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

AG, MAG = 0x6B, 0x1E
MHZ = 11.9
PERIOD = 100_000  # 119 Hz at 11.9 MHz


def _setup(mag_resample: bool = True) -> tuple[FakeHost, Lsm9ds1, Lsm9ds1Mag, I2CMaster, np.ndarray]:
    host = FakeHost(mhz=MHZ)
    rng = np.random.default_rng(21)
    data = np.column_stack([rng.uniform(-3.5, 3.5, (300, 3)), rng.uniform(-1800, 1800, (300, 3)),
                            rng.uniform(-300, 300, (300, 3))])
    src = ArraySource("imu.csv", data, channels=("ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz"),
                      units=("g",) * 3 + ("dps",) * 3 + ("uT",) * 3, rate_hz=119.0)
    ag = Lsm9ds1(DeviceConfig("imu", "lsm9ds1", address=AG), host)
    mag = Lsm9ds1Mag(DeviceConfig("mag", "lsm9ds1_mag", address=MAG, options={"resample": mag_resample}), host)
    ag.attach(src)
    mag.attach(src)
    bus = I2CBus("twim1")
    bus.attach(ag, AG)
    bus.attach(mag, MAG)
    return host, ag, mag, I2CMaster(bus), data


def _triple(b: list[int]) -> list[int]:
    return [s16(b[i], b[i + 1]) for i in (0, 2, 4)]


def _scaled(values: np.ndarray, sens: float) -> list[int]:
    return np.clip(np.rint(values / sens), -32768, 32767).astype(int).tolist()


def _arduino_begin(m: I2CMaster) -> None:
    """What Arduino_LSM9DS1's begin() and setContinuousMode() write."""
    m.write(AG, 0x22, 0x05)  # CTRL_REG8: SW_RESET, IF_ADD_INC
    m.write(MAG, 0x21, 0x0C)  # CTRL_REG2_M: REBOOT, SOFT_RST
    assert m.read(AG, 0x0F) == [0x68] and m.read(MAG, 0x0F) == [0x3D]
    m.write(AG, 0x10, 0x78)  # 119 Hz, 2000 dps
    m.write(AG, 0x20, 0x70)  # 119 Hz, 4 g
    m.write(MAG, 0x20, 0xB4)  # temperature compensation, medium performance, 20 Hz
    m.write(MAG, 0x21, 0x00)  # 4 gauss
    m.write(MAG, 0x22, 0x00)  # continuous
    m.write(AG, 0x23, 0x02)  # FIFO_EN
    m.write(AG, 0x2E, 0xC0)  # continuous mode


def test_arduino_continuous_mode_reads_every_sample_in_order() -> None:
    host, ag, mag, m, data = _setup()
    _arduino_begin(m)
    got = []
    for step in range(1, 40):
        host.advance_to(step * 3 * PERIOD + 7)  # the sketch polls every ~25 ms
        while m.read(AG, 0x2F)[0] & 63:  # accelerationAvailable(): FSS
            got.append(_triple(m.read(AG, 0x80 | 0x28, 6)))  # readAcceleration(): 0x80 | OUT_X_XL, 6 bytes
    assert len(got) == 117
    assert got == [_scaled(row, 0.122) for row in data[:117, :3] * 1000]
    assert ag.stats()["overruns"] == 0


def test_gyroscope_and_magnetometer_outputs() -> None:
    host, ag, mag, m, data = _setup()
    m.write(AG, 0x10, 0x78)
    m.write(AG, 0x20, 0x70)
    m.write(MAG, 0x21, 0x40)  # 12 gauss
    m.write(MAG, 0x22, 0x00)
    host.advance_to(10 * PERIOD + 1)
    assert m.read(AG, 0x17)[0] & 0x03 == 0x03
    assert _triple(m.read(AG, 0x18, 6)) == _scaled(data[9, 3:6] * 1000, 70.0)
    assert m.read(MAG, 0x27) == [0x00]  # 10 Hz (DO after reset): its first sample completes at 100 ms
    host.advance_to(round(0.1 * MHZ * 1e6))
    assert m.read(MAG, 0x27) == [0x0F]  # resampled from the 119 Hz recording: data ready, no overrun yet


def test_magnetometer_rate_must_match_unless_resampling() -> None:
    host, ag, mag, m, data = _setup(mag_resample=False)
    from simcore.errors import BadInputError

    m.write(MAG, 0x20, 0x14)  # DO = 20 Hz, still in power-down
    with pytest.raises(BadInputError, match="119 Hz but the peripheral's mag output data rate is 20 Hz"):
        m.write(MAG, 0x22, 0x00)


def test_magnetometer_scaling_with_a_matching_recording() -> None:
    host = FakeHost(mhz=8.0)
    data = np.random.default_rng(2).uniform(-900, 900, (50, 3))  # uT
    mag = Lsm9ds1Mag(DeviceConfig("mag", "lsm9ds1_mag", address=MAG), host)
    mag.attach(ArraySource("m.csv", data, channels=("mx", "my", "mz"), units=("uT",) * 3, rate_hz=20.0))
    bus = I2CBus("i2c")
    bus.attach(mag, MAG)
    m = I2CMaster(bus)
    m.write(MAG, 0x20, 0x14)  # 20 Hz
    m.write(MAG, 0x21, 0x60)  # 16 gauss
    m.write(MAG, 0x22, 0x00)
    host.advance_to(400_000 * 5)
    assert m.read(MAG, 0x27)[0] == 0xFF  # data ready and overrun on every axis
    assert _triple(m.read(MAG, 0x80 | 0x28, 6)) == _scaled(data[4] * 10, 0.58)
    assert m.read(MAG, 0x27)[0] == 0x00
    m.write(MAG, 0x22, 0x01)  # single conversion
    host.advance_to(400_000 * 20)
    assert m.read(MAG, 0x22)[0] & 3 == 3  # back in power-down after it
    assert _triple(m.read(MAG, 0x80 | 0x28, 6)) == _scaled(data[5] * 10, 0.58)


def test_fifo_mode_with_stop_on_threshold_and_int1() -> None:
    host, ag, mag, m, data = _setup()
    m.write(AG, 0x10, 0x78)
    m.write(AG, 0x20, 0x70)
    m.write(AG, 0x0C, 0x10)  # INT1_OVR
    m.write(AG, 0x23, 0x03)  # FIFO_EN, STOP_ON_FTH
    m.write(AG, 0x2E, 0x20 | 15)  # FIFO mode, FTH 15: depth 16
    host.advance_to(30 * PERIOD)
    assert ag.lines["INT1"].level is True
    assert m.read(AG, 0x2F)[0] == 0x80 | 0x40 | 16
    st = ag.stats()
    assert st["overruns"] == 1 and st["events"][0]["cycle"] == 17 * PERIOD
    frames = []
    for _ in range(16):
        g = _triple(m.read(AG, 0x18, 6))
        a = _triple(m.read(AG, 0x28, 6))
        frames.append(g + a)
    exp = [_scaled(r[3:6] * 1000, 70.0) + _scaled(r[:3] * 1000, 0.122) for r in data[:16]]
    assert frames == exp


@pytest.mark.parametrize(("gyro", "chunk"), [(False, 256), (False, 5), (True, 256)])
def test_burst_reads_equal_byte_reads(gyro: bool, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """I2CBus.read_block (the TWIM's EasyDMA burst) gives the bytes, FIFO state, counters and INT1 that the same
    number of single reads give, on two chips fed the same recording: continuous FIFO with losses (overrun),
    drains longer than the FIFO (empty reads), bursts that are not whole samples, the gyroscope on or off."""
    monkeypatch.setattr(Lsm9ds1, "XL_CHUNK", chunk)  # bursts across the converted chunks' ends
    twins = []
    for _ in range(2):
        host, ag, mag, m, data = _setup()
        m.write(AG, 0x10, 0x78 if gyro else 0x00)  # 119 Hz with the gyroscope, else power-down
        m.write(AG, 0x20, 0x70)  # 119 Hz, 4 g
        m.write(AG, 0x0C, 0x08)  # INT1_FTH
        m.write(AG, 0x23, 0x02)  # FIFO_EN
        m.write(AG, 0x2E, 0xC0 | 10)  # continuous, FTH 10
        twins.append((host, ag, m))
    sizes = [6 * 3, 6 * 40, 7, 6 * 5, 6 * 32, 6 * 12 + 1, 6 * 20]
    t = 0
    for step, n in enumerate(sizes):
        t += (5 + 9 * step) * PERIOD + 13  # up to 59 samples between drains: the 32 levels overflow
        got = []
        for i, (host, _ag, m) in enumerate(twins):
            host.advance_to(t)
            assert m.bus.start(AG, False) and m.bus.write(0x28) and m.bus.start(AG, True)
            got.append(list(m.bus.read_block(n)) if i == 0 else [m.bus.read() for _ in range(n)])
            m.bus.stop()
        assert got[0] == got[1]
        (_, a, _), (_, b, _) = twins
        assert a.fifo.level == b.fifo.level and list(a.fifo.runs) == list(b.fifo.runs)
        assert a.lines["INT1"].level == b.lines["INT1"].level
        assert a.stats() == b.stats()
    assert twins[0][1].stats()["overruns"] > 0
    if not gyro:  # (with the gyroscope on, a drain from OUT_X_L_XL rolls on to the gyroscope's registers)
        assert twins[0][1].stats()["fifo_empty_reads"] > 0 and twins[0][1].stats()["accel_samples_read"] > 50


def test_update_without_routing_equals_the_general_update(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lsm9ds1.update's shortcut for no routed interrupt source (the Nano's wiring) leaves lines, planned wake-up,
    FIFO and counters as FifoDevice.update does, through active-low polarity, a routing switched on (then the
    general path plans INT1's watermark) and off again, bursts and single reads."""
    from simcore.devices.base import FifoDevice

    twins = []
    for general in (False, True):
        host, ag, _mag, m, _data = _setup()
        if general:
            monkeypatch.setattr(ag, "update", lambda ag=ag: FifoDevice.update(ag))
        m.write(AG, 0x20, 0x70)  # 119 Hz, 4 g
        m.write(AG, 0x23, 0x02)  # FIFO_EN
        m.write(AG, 0x2E, 0xC0 | 20)  # continuous, FTH 20
        twins.append((host, ag, m))
    # (register, value) writes a register then reads FIFO_SRC, (None, n) drains n samples; then periods to the next
    steps = [(None, 4, 9), (0x22, 0x24, 20), (None, 7, 30), (None, 32, 1), (0x0C, 0x08, 2), (None, 3, 1),
             (0x0C, 0x00, 1), (None, 40, 25), (0x0C, 0x08, 3), (None, 32, 30), (0x22, 0x04, 1)]
    t = 0
    planned = []
    for reg, value, periods in steps:
        t += periods * PERIOD + 5
        seen = []
        for host, ag, m in twins:
            host.advance_to(t)
            if reg is not None:
                m.write(AG, reg, value)  # CTRL_REG8 H_LACTIVE on/off, INT1_CTRL FTH on/off
                got = m.read(AG, 0x2F)
            else:
                assert m.bus.start(AG, False) and m.bus.write(0x28) and m.bus.start(AG, True)
                got = list(m.bus.read_block(6 * value))
                m.bus.stop()
            wake = ag._wake.at_cycle if ag._wake is not None else None
            seen.append((got, ag.lines["INT1"].level, ag.lines["INT2"].level, wake, ag.fifo.level, ag.stats()))
        assert seen[0] == seen[1]
        planned.append(seen[0][3])
    assert twins[0][1].lines["INT1"].changes > 0  # the polarity switch moved the idle level
    assert planned[4] is not None and planned[5] is not None and planned[6] is None  # INT1_FTH routed, then not
