"""[[device]] entries of a board: parsed and checked before the run, wired to bus controllers, chip selects
and GPIO inputs, bound to recordings by name or kind; a controller simcore does not model is refused."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from simcore.board import Device, Peripheral, load_board
from simcore.devices.bus import I2CBus, Line, SpiBus
from simcore.devices.testing import I2CMaster, s16
from simcore.devices.wiring import build_devices, devices_of, resolve_pin
from simcore.errors import BadInputError
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sensorbind import build, resolve, sensor_stats
from simcore.sources.base import ArraySource

BOARD = """
extends = "cortex-m4"
name = "devboard"

[[peripheral]]
name = "gpioe"
type = "cmsdk_uart"
base = 0x40010000

{devices}
"""
IMU = """
[[device]]
name = "accel"
type = "lis3dh"
bus = "uart0"
address = 0x19
pins = { INT1 = "PE0" }
resample = true
"""


def _board(tmp_path: Path, devices: str) -> object:
    path = tmp_path / "devboard.toml"
    path.write_text(BOARD.format(devices=devices))
    return load_board(path)


def test_board_parses_devices(tmp_path: Path) -> None:
    board = _board(tmp_path, IMU)
    d = board.device("accel")  # type: ignore[attr-defined]
    assert d == Device("accel", "lis3dh", "uart0", 0x19, None, {"INT1": "PE0"}, {"resample": True})
    assert resolve(board, "accel") is d and resolve(board, "accel").type == "lis3dh"  # type: ignore[arg-type]
    assert resolve_pin(board, "PE0", "x") == ("gpioe", 0)  # type: ignore[arg-type]
    assert resolve_pin(board, "gpioe.12", "x") == ("gpioe", 12)  # type: ignore[arg-type]


@pytest.mark.parametrize(("entry", "message"), [
    ('type = "lis9"\nbus = "uart0"\naddress = 0x19', "unknown device type 'lis9'"),
    ('type = "lis3dh"\nbus = "i2c9"\naddress = 0x19', "bus = 'i2c9' is not a peripheral"),
    ('type = "lis3dh"\nbus = "uart0"', "give address = (on I2C) or cs = (on SPI)"),
    ('type = "lis3dh"\nbus = "uart0"\naddress = 0x30', "address pin selects 0x18, 0x19"),
    ('type = "apds9960"\nbus = "uart0"\ncs = "PE3"', "has no SPI interface"),
    ('type = "lis3dh"\nbus = "uart0"\ncs = "PF3"', "on gpiof, which board devboard does not have"),
    ('type = "lis3dh"\nbus = "uart0"\naddress = 0x19\npins = { INT7 = "PE0" }', "has no output 'INT7'"),
    ('type = "lis3dh"\nbus = "uart0"\naddress = "x"', "not a 7-bit I2C address"),
])
def test_bad_device_entries_are_refused(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(BadInputError, match=re.escape(message)):
        _board(tmp_path, f'[[device]]\nname = "d"\n{entry}\n')


def test_a_name_taken_by_a_peripheral_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="already used"):
        _board(tmp_path, '[[device]]\nname = "imu"\ntype = "lis3dh"\nbus = "uart0"\naddress = 0x19\n')


def test_a_controller_without_a_bus_model_is_refused_before_the_run(tmp_path: Path) -> None:
    board = _board(tmp_path, IMU)
    with pytest.raises(BadInputError, match="no I2C controller model for uart0"):
        build(board, None, FakeHost())  # type: ignore[arg-type]


class FakeController:
    """A bus controller as the wiring sees it: a name and a bus."""

    def __init__(self, name: str, bus: object) -> None:
        self.name, self.bus, self.TYPE = name, bus, "fake"


class FakeGpio:
    """A GPIO port as the wiring sees it: lines for outputs, inputs following lines."""

    TYPE = "fake_gpio"

    def __init__(self, name: str) -> None:
        self.name = name
        self.outputs = {n: Line(f"{name}.{n}", True) for n in range(16)}
        self.inputs: dict[int, bool] = {}

    def line(self, pin: int) -> Line:
        return self.outputs[pin]

    def connect_input(self, pin: int, line: Line) -> None:
        line.connect(lambda level: self.inputs.__setitem__(pin, level))


def test_build_wires_buses_chip_selects_and_interrupt_pins(tmp_path: Path) -> None:
    base = _board(tmp_path, "")
    board = dataclasses.replace(  # type: ignore[type-var]
        base, peripherals=(*base.peripherals,  # type: ignore[attr-defined]
                           Peripheral("i2c1", "fake", 0x40020000), Peripheral("spi1", "fake", 0x40021000)),
        devices=(Device("accel", "lis3dh", "i2c1", 0x18, None, {"INT1": "PE1"}),
                 Device("disco", "lis3dsh", "spi1", None, "PE3", {"INT1": "PE0"})))
    host = FakeHost(mhz=10)
    i2c, spi, gpio = FakeController("i2c1", I2CBus("i2c1")), FakeController("spi1", SpiBus("spi1")), FakeGpio("gpioe")
    chips = build_devices(board, board.devices, [i2c, spi, gpio], host)  # type: ignore[arg-type]
    assert [c.name for c in devices_of([i2c, spi, gpio])] == ["accel", "disco"]
    data = np.random.default_rng(1).uniform(-1, 1, (50, 3))
    chips[0].attach(ArraySource("a.csv", data, channels=("ax", "ay", "az"), units=("g",) * 3, rate_hz=100.0))
    m = I2CMaster(i2c.bus)  # type: ignore[arg-type]
    assert m.read(0x18, 0x0F) == [0x33]
    m.write(0x18, 0x22, 0x10)
    m.write(0x18, 0x23, 0x08)
    m.write(0x18, 0x20, 0x57)
    assert gpio.inputs[1] is False
    host.advance_to(100_000)
    assert gpio.inputs[1] is True  # the LIS3DH's INT1 drives PE1
    b = m.read(0x18, 0xA8, 2)
    assert s16(*b) == int(np.rint(data[0, 0] * 1000)) << 4
    cs = gpio.outputs[3]  # PE3 selects the LIS3DSH
    assert spi.bus.transfer(0x8F, 3) == 0xFF  # type: ignore[attr-defined]
    cs.set(False)
    spi.bus.transfer(0x8F, 3)  # type: ignore[attr-defined]
    assert spi.bus.transfer(0x00, 3) == 0x3F  # type: ignore[attr-defined]
    cs.set(True)
    assert gpio.inputs[0] is True  # LIS3DSH INT1: active low after reset, idle high
    assert sensor_stats([i2c, spi, gpio])["accel"]["odr_hz"] == 100.0  # type: ignore[arg-type]


def test_microphone_goes_to_an_audio_input(tmp_path: Path) -> None:
    base = _board(tmp_path, "")

    class FakeI2s:
        name, TYPE = "spi2", "fake_i2s"

        def __init__(self) -> None:
            self.microphones: list[object] = []

        def attach_microphone(self, mic: object) -> None:
            self.microphones.append(mic)

    board = dataclasses.replace(base, peripherals=(*base.peripherals,  # type: ignore[type-var,attr-defined]
                                                   Peripheral("spi2", "fake", 0x40022000)),
                                devices=(Device("mic", "mp45dt02", "spi2"),))
    i2s = FakeI2s()
    mic, = build_devices(board, board.devices, [i2s], FakeHost())  # type: ignore[arg-type]
    assert i2s.microphones == [mic] and devices_of([i2s]) == [mic]
    wav = ArraySource("w.wav", np.zeros((160, 1), dtype=np.int16), channels=("ch0",), units=("FS",),
                      rate_hz=16000.0, full_scale=32768.0)
    mic.attach(wav)
    assert abs(mic.stream(1.024e6).bits(0, 64_000).mean() - 0.5) < 0.01
    with pytest.raises(BadInputError, match="not audio"):
        mic.attach(ArraySource("a.csv", np.zeros((4, 1)), channels=("ax",), units=("g",), rate_hz=100.0))
