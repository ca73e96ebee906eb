"""A board's chips wired as its ``[[device]]`` entries say: to their bus controllers, chip selects and pins.

What the board file gives (docs/bus-devices.md, docs/board-format.md)::

    [[device]]
    name = "accel"
    type = "lis3dsh"
    bus = "spi1"                  # the controller peripheral it hangs on
    cs = "PE3"                    # SPI: the GPIO output driving its chip select (active low)
    pins = { INT1 = "PE0" }       # its outputs -> GPIO inputs

    [[device]]
    name = "imu"
    type = "lsm6dsl"
    bus = "i2c2"
    address = 0x6A                # I2C: its 7-bit address

Pins are ``PE3`` (an STM32 port letter and pin: peripheral ``gpioe``) or ``NAME.N`` (peripheral
``NAME``, pin ``N``: ``p0.11`` on the nRF52840). What the models must offer: an I2C or SPI
controller an attribute ``bus`` (:class:`~simcore.devices.bus.I2CBus` / ``SpiBus``), an audio
input ``attach_microphone(mic)``, a GPIO port ``line(pin)`` and ``connect_input(pin, line)``.
A camera's parallel port goes to a camera interface (option ``port = "dcmi"``: a model with
``attach_camera(chip)``). A board naming a controller simcore does not model that way is refused
before the run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from simcore.devices import device_for
from simcore.devices.bus import I2CBus, SpiBus
from simcore.errors import BadInputError

if TYPE_CHECKING:
    from simcore.board import Board, Device

_STM32_PIN = re.compile(r"^P([A-K])(\d{1,2})$", re.IGNORECASE)
_NAMED_PIN = re.compile(r"^([A-Za-z_][\w]*)\.(\d{1,2})$")
MICROPHONES = ("mp45dt02", "mp34dt01", "mp34dt05")


def resolve_pin(board: Board, text: str, where: str) -> tuple[str, int]:
    """``PE3`` -> ("gpioe", 3); ``p0.11`` -> ("p0", 11): a GPIO peripheral of the board and a pin number."""
    names = {p.name.lower(): p.name for p in board.peripherals}
    m = _STM32_PIN.match(text)
    if m:
        port, pin = f"gpio{m.group(1).lower()}", int(m.group(2))
    else:
        n = _NAMED_PIN.match(text)
        if not n:
            raise BadInputError(f"{where}: pin {text!r} is not a pin name (PE3, or PERIPHERAL.N such as p0.11)")
        port, pin = n.group(1).lower(), int(n.group(2))
    if port not in names:
        raise BadInputError(f"{where}: pin {text!r} is on {port}, which board {board.name} does not have")
    if not 0 <= pin < 32:
        raise BadInputError(f"{where}: pin {text!r}: pin numbers are 0-31")
    return names[port], pin


def check_devices(board: Board) -> None:
    """Relations of the [[device]] entries to the board: names, controllers, addresses, pins (BadInputError)."""
    taken = {p.name for p in board.peripherals}
    for d in board.devices:
        where = f"board {board.name} device '{d.name}'"
        if d.name in taken:
            raise BadInputError(f"{where}: the name is already used by a peripheral or another device")
        taken.add(d.name)
        cls: Any = device_for(d.type)
        if board.peripheral(d.bus) is None:
            raise BadInputError(f"{where}: bus = {d.bus!r} is not a peripheral of the board")
        if d.type in MICROPHONES:
            if d.address is not None or d.cs is not None:
                raise BadInputError(f"{where}: a PDM microphone has no address or chip select")
        elif (d.address is None) == (d.cs is None):
            raise BadInputError(f"{where}: give address = (on I2C) or cs = (on SPI), one of them")
        if d.address is not None and cls.I2C_ADDRESSES and d.address not in cls.I2C_ADDRESSES:
            have = ", ".join(f"{a:#04x}" for a in cls.I2C_ADDRESSES)
            raise BadInputError(f"{where}: address {d.address:#04x}; a {d.type}'s address pin selects {have}")
        if d.cs is not None:
            if not cls.SPI_MODES:
                raise BadInputError(f"{where}: a {d.type} has no SPI interface")
            resolve_pin(board, d.cs, where)
        port = d.options.get("port")
        if port is not None and board.peripheral(str(port)) is None:
            raise BadInputError(f"{where}: port = {port!r} is not a peripheral of the board")
        for out, pin in d.pins.items():
            if out not in cls.LINES:
                raise BadInputError(f"{where}: a {d.type} has no output {out!r} (its outputs: "
                                    f"{', '.join(cls.LINES) or 'none'})")
            resolve_pin(board, pin, where)


def _controller(models: dict[str, Any], d: Device, want: type, what: str) -> Any:
    ctrl = models[d.bus]
    bus = getattr(ctrl, "bus", None)
    if not isinstance(bus, want):
        kind = getattr(ctrl, "TYPE", type(ctrl).__name__)
        raise BadInputError(f"device {d.name} ({d.type}) is on {d.bus}, but simcore has no {what} controller model for "
                            f"{d.bus} ({kind}): the board cannot carry the chip yet")
    return bus


def _gpio(board: Board, models: dict[str, Any], pin: str, where: str, need: str) -> tuple[Any, int]:
    port, n = resolve_pin(board, pin, where)
    gpio = models[port]
    if not callable(getattr(gpio, need, None)):
        raise BadInputError(f"{where}: pin {pin} is on {port} ({getattr(gpio, 'TYPE', '?')}), which simcore does not "
                            "model as a GPIO port with external signals")
    return gpio, n


def build_devices(board: Board, devices: tuple[Device, ...], models: list[Any], host: Any) -> list[Any]:
    """Build the chips and wire them to the already built peripheral models."""
    import simcore.peripherals.sensors.common  # noqa: F401 - the run summary lists sensors once this is loaded
    by_name = {m.name: m for m in models}
    out = []
    for d in devices:
        where = f"device {d.name} ({d.type})"
        chip = device_for(d.type)(d, host)
        if d.type in MICROPHONES:
            ctrl = by_name[d.bus]
            if not callable(getattr(ctrl, "attach_microphone", None)):
                raise BadInputError(f"{where} is on {d.bus}, but simcore has no audio input model for {d.bus} "
                                    f"({getattr(ctrl, 'TYPE', '?')}): the board cannot carry the microphone yet")
            ctrl.attach_microphone(chip)
        elif d.address is not None:
            _controller(by_name, d, I2CBus, "I2C").attach(chip, d.address)
        else:
            assert d.cs is not None
            gpio, n = _gpio(board, by_name, d.cs, where, "line")
            _controller(by_name, d, SpiBus, "SPI").attach(chip, gpio.line(n))
        port = d.options.get("port")
        if port is not None:
            iface = by_name[str(port)]
            if not callable(getattr(iface, "attach_camera", None)):
                raise BadInputError(f"{where}: port = {port!r} is {getattr(iface, 'TYPE', '?')}, which simcore does "
                                    "not model as a camera interface")
            iface.attach_camera(chip)
        for out_pin, pin in d.pins.items():
            gpio, n = _gpio(board, by_name, pin, where, "connect_input")
            gpio.connect_input(n, chip.lines[out_pin])
        out.append(chip)
    return out


def devices_of(models: list[Any]) -> list[Any]:
    """The chips reachable from the peripheral models: on their buses and audio inputs."""
    out: list[Any] = []
    for m in models:
        bus = getattr(m, "bus", None)
        if isinstance(bus, I2CBus):
            out.extend(bus.targets.values())
        elif isinstance(bus, SpiBus):
            out.extend(bus.targets)
        out.extend(getattr(m, "microphones", []))
    return out
