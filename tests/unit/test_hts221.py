"""HTS221 through its registers: the firmware's calibration interpolation (datasheet section 8) applied to
the registers it reads recovers the recorded temperature and humidity within one output step."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.devices.base import DeviceConfig
from simcore.devices.bus import I2CBus
from simcore.devices.hts221 import Hts221
from simcore.devices.testing import I2CMaster, s16
from simcore.errors import BadInputError
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

ADDR = 0x5F
MHZ = 1.0


def _setup(**opts: object) -> tuple[FakeHost, Hts221, I2CMaster, np.ndarray]:
    host = FakeHost(mhz=MHZ)
    dev = Hts221(DeviceConfig("env", "hts221", address=ADDR, options=dict(opts)), host)
    t = np.arange(600) / 10.0
    data = np.column_stack([21.0 + 4.0 * np.sin(t / 7.0), 45.0 + 20.0 * np.cos(t / 11.0)])
    dev.attach(ArraySource("env.csv", data, channels=("temperature", "humidity"), units=("C", "%"), rate_hz=10.0))
    bus = I2CBus("i2c2")
    bus.attach(dev, ADDR)
    return host, dev, I2CMaster(bus), data


def _firmware_calibration(m: I2CMaster) -> dict[str, float]:
    """What a driver reads from 30h-3Fh (one auto-increment burst) and derives, as the datasheet says."""
    b = m.read(ADDR, 0x80 | 0x30, 16)
    msb = b[5]
    return {"H0": b[0] / 2, "H1": b[1] / 2, "T0": (b[2] | (msb & 3) << 8) / 8, "T1": (b[3] | (msb & 0xC) << 6) / 8,
            "H0_OUT": s16(b[6], b[7]), "H1_OUT": s16(b[10], b[11]), "T0_OUT": s16(b[12], b[13]),
            "T1_OUT": s16(b[14], b[15])}


def _convert(m: I2CMaster, cal: dict[str, float]) -> tuple[float, float, float, float]:
    b = m.read(ADDR, 0x80 | 0x28, 4)
    h_out, t_out = s16(b[0], b[1]), s16(b[2], b[3])
    temp = cal["T0"] + (t_out - cal["T0_OUT"]) * (cal["T1"] - cal["T0"]) / (cal["T1_OUT"] - cal["T0_OUT"])
    hum = cal["H0"] + (h_out - cal["H0_OUT"]) * (cal["H1"] - cal["H0"]) / (cal["H1_OUT"] - cal["H0_OUT"])
    t_step = (cal["T1"] - cal["T0"]) / (cal["T1_OUT"] - cal["T0_OUT"])
    h_step = (cal["H1"] - cal["H0"]) / (cal["H1_OUT"] - cal["H0_OUT"])
    return temp, hum, t_step, h_step


def test_identity_and_calibration_registers() -> None:
    _, dev, m, _ = _setup()
    assert m.read(ADDR, 0x0F) == [0xBC] and m.read(ADDR, 0x10) == [0x1B]
    cal = _firmware_calibration(m)
    assert cal["T0"] == 20.0 and cal["T1"] == 35.0 and cal["H0"] == 33.5 and cal["H1"] == 73.5


@pytest.mark.parametrize("calibration", [{}, {"T0_degC": 18.5, "T1_degC": 42.25, "T0_OUT": -400, "T1_OUT": 900,
                                              "H0_T0_OUT": 1000, "H1_T0_OUT": -9000}])
def test_continuous_measurements_recover_the_recording(calibration: dict[str, float]) -> None:
    host, dev, m, data = _setup(calibration=calibration)
    cal = _firmware_calibration(m)
    m.write(ADDR, 0x20, 0x80 | 0x04 | 0x02)  # PD, BDU, 7 Hz
    for k in range(0, 300, 37):
        at = -(-(k + 1) * 10**6 // 7)  # measurement k completes at (k + 1) / 7 s
        host.advance_to(at)
        assert m.read(ADDR, 0x27) == [0x03]
        temp, hum, t_step, h_step = _convert(m, cal)
        i = int(np.floor((k + 1) / 7 * 10 + 1e-9))  # the recording sample in effect then (10 Hz)
        assert abs(temp - data[i, 0]) <= abs(t_step) / 2 + 1e-9
        assert abs(hum - data[i, 1]) <= abs(h_step) / 2 + 1e-9
        assert m.read(ADDR, 0x27) == [0x00]


def test_one_shot_and_drdy_line() -> None:
    host, dev, m, data = _setup(conversion_ms=5.0)
    cal = _firmware_calibration(m)
    m.write(ADDR, 0x22, 0x04)  # DRDY enabled, active high
    m.write(ADDR, 0x20, 0x80)  # PD, one-shot mode
    host.advance_to(2_000_000)
    m.write(ADDR, 0x21, 0x01)  # ONE_SHOT
    assert m.read(ADDR, 0x21) == [0x01] and dev.lines["DRDY"].level is False
    host.advance_to(2_005_000)
    assert dev.lines["DRDY"].level is True and m.read(ADDR, 0x21) == [0x00]
    temp, hum, t_step, _ = _convert(m, cal)
    assert abs(temp - data[20, 0]) <= t_step / 2 + 1e-9  # 2.005 s: recording sample 20
    assert dev.lines["DRDY"].level is False


def test_recording_needs_both_channels() -> None:
    dev = Hts221(DeviceConfig("env", "hts221"), FakeHost())
    with pytest.raises(BadInputError, match="no channel 'humidity'"):
        dev.attach(ArraySource("t.csv", np.zeros((3, 1)), channels=("temperature",), units=("C",), rate_hz=1.0))
    with pytest.raises(BadInputError, match="is in g, not temperature in C"):
        dev.attach(ArraySource("t.csv", np.zeros((3, 2)), channels=("temperature", "humidity"), units=("g", "%"),
                               rate_hz=1.0))
