"""APDS-9960 driven as the Arduino library drives it: identity, colour after the integration time,
proximity with its interrupt, the gesture FIFO (threshold, burst wrap, overflow) and the gesture exit."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.devices.apds9960 import Apds9960
from simcore.devices.base import DeviceConfig
from simcore.devices.bus import I2CBus
from simcore.devices.testing import I2CMaster
from simcore.errors import BadInputError
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

ADDR = 0x39
MHZ = 1.0  # 1 cycle = 1 us
RATE = 100.0


def _scene(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(8)
    colour = rng.integers(0, 5000, (n, 4))
    prox = rng.integers(0, 256, (n, 1))
    gesture = rng.integers(40, 256, (n, 4))
    return np.column_stack([colour, prox, gesture]).astype(np.float64)


def _setup(data: np.ndarray | None = None) -> tuple[FakeHost, Apds9960, I2CMaster, np.ndarray]:
    host = FakeHost(mhz=MHZ)
    dev = Apds9960(DeviceConfig("apds", "apds9960", address=ADDR,
                                options={"gesture_channels": ["u", "d", "l", "right"]}), host)
    data = _scene() if data is None else data
    dev.attach(ArraySource("scene.csv", data, channels=("c", "r", "g", "b", "p", "u", "d", "l", "right"),
                           rate_hz=RATE))
    bus = I2CBus("twim1")
    bus.attach(dev, ADDR)
    return host, dev, I2CMaster(bus), data


def _arduino_begin(m: I2CMaster) -> None:
    assert m.read(ADDR, 0x92) == [0xAB]
    m.write(ADDR, 0x80, 0x00)
    m.write(ADDR, 0x83, 0xFF)
    m.write(ADDR, 0xA6, 0x8F)
    m.write(ADDR, 0x8E, 0x8F)
    m.write(ADDR, 0xAB, m.read(ADDR, 0xAB)[0] | 0x02)  # GIEN
    m.write(ADDR, 0xAB, m.read(ADDR, 0xAB)[0] | 0x01)  # GMODE
    m.write(ADDR, 0x80, m.read(ADDR, 0x80)[0] | 0x01)  # PON
    m.write(ADDR, 0x80, m.read(ADDR, 0x80)[0] | 0x08)  # WEN
    m.write(ADDR, 0x81, 256 - 3)  # ATIME for ~10 ms (the library computes 256 - 10 / 2.78)
    m.write(ADDR, 0x8F, 0x02)


def test_colour_after_one_cycle() -> None:
    host, dev, m, data = _setup()
    _arduino_begin(m)
    m.write(ADDR, 0x80, m.read(ADDR, 0x80)[0] | 0x02)  # enableColor(): AEN
    t0 = host.cycles
    cycle_us = 2780 * 1 + 2780 * 3  # wait (WTIME FFh: 1 step) + integration (3 steps)
    host.advance_to(t0 + cycle_us - 1)
    assert m.read(ADDR, 0x93)[0] & 0x01 == 0
    host.advance_to(t0 + cycle_us)
    assert m.read(ADDR, 0x93)[0] & 0x01
    b = m.read(ADDR, 0x94, 8)
    c, r, g, bl = (b[i] | b[i + 1] << 8 for i in range(0, 8, 2))
    row = data[int((t0 + cycle_us) / 1e6 * RATE)]
    top = 1025 * 3
    assert [c, r, g, bl] == np.clip(row[:4], 0, top).astype(int).tolist()
    m.write(ADDR, 0x80, m.read(ADDR, 0x80)[0] & ~0x02)  # disableColor()
    assert m.read(ADDR, 0x93)[0] & 0x01 == 0


def test_proximity_value_and_interrupt() -> None:
    host, dev, m, data = _setup()
    m.write(ADDR, 0x89, 0)  # PILT
    m.write(ADDR, 0x8B, 100)  # PIHT
    m.write(ADDR, 0x80, 0x01 | 0x04 | 0x20)  # PON, PEN, PIEN
    assert dev.lines["INT"].level is True  # active low, idle high
    host.advance_to(999)
    assert m.read(ADDR, 0x93)[0] & 0x02 == 0
    host.advance_to(1000)
    assert m.read(ADDR, 0x93)[0] & 0x02
    assert m.read(ADDR, 0x9C) == [int(data[0, 4])]
    host.advance_to(200_000)  # 200 cycles of 1 ms: some proximity above 100
    assert m.read(ADDR, 0x93)[0] & 0x20 and dev.lines["INT"].level is False
    m.write(ADDR, 0x8B, 255)  # PIHT: nothing is above it any more
    m.write(ADDR, 0xE5, 0)  # PICLEAR
    assert dev.lines["INT"].level is True
    host.advance_to(300_000)
    assert m.read(ADDR, 0x93)[0] & 0x20 == 0 and dev.lines["INT"].level is True


def test_gesture_fifo_threshold_burst_and_overflow() -> None:
    host, dev, m, data = _setup()
    _arduino_begin(m)
    m.write(ADDR, 0xA2, 0x40)  # GFIFOTH: 4 datasets
    m.write(ADDR, 0x80, m.read(ADDR, 0x80)[0] | 0x40)  # enableGesture(): GEN
    assert m.read(ADDR, 0xAF) == [0x00]
    host.advance_to(40_000 - 1)
    assert dev.lines["INT"].level is True
    host.advance_to(40_000)  # the 4th dataset at 100 Hz
    assert dev.lines["INT"].level is False and m.read(ADDR, 0xAF) == [0x01] and m.read(ADDR, 0xAE) == [4]
    raw = m.read(ADDR, 0xFC, 4 * 4)  # readGFIFO_U(fifo_data, available * 4): wraps FFh -> FCh
    assert np.array(raw).reshape(4, 4).tolist() == data[:4, 5:9].astype(int).tolist()
    assert m.read(ADDR, 0xAE) == [0] and dev.lines["INT"].level is True
    host.advance_to(500_000)  # 46 more datasets: 32 fit
    assert m.read(ADDR, 0xAE) == [32] and m.read(ADDR, 0xAF) == [0x03]
    st = dev.stats()
    assert st["overruns"] == 1 and st["gesture_datasets_lost"] == 46 - 32
    assert st["events"][0]["time_s"] == pytest.approx(0.37)  # dataset 36 completes at 370 ms
    raw = m.read(ADDR, 0xFC, 4)
    assert raw == data[4, 5:9].astype(int).tolist()


def test_gesture_exit_clears_gmode_and_ends_collection() -> None:
    data = _scene()
    data[10:, 5:9] = 5  # the hand leaves after dataset 9
    host, dev, m, _ = _setup(data)
    m.write(ADDR, 0xA1, 20)  # GEXTH
    m.write(ADDR, 0xA2, 0x01)  # GEXPERS: 2 datasets
    m.write(ADDR, 0xAB, 0x01)  # GMODE
    m.write(ADDR, 0x80, 0x41)  # PON, GEN
    host.advance_to(300_000)
    assert m.read(ADDR, 0xAB)[0] & 0x01 == 0
    assert m.read(ADDR, 0xAE) == [12]  # datasets 0..11: the exit happens on the second one below GEXTH


def test_recording_without_any_usable_channel() -> None:
    dev = Apds9960(DeviceConfig("apds", "apds9960"), FakeHost())
    with pytest.raises(BadInputError, match="none of the channels"):
        dev.attach(ArraySource("x.csv", np.zeros((3, 3)), channels=("ax", "ay", "az"), rate_hz=1.0))
