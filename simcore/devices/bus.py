"""The wires between a part's bus controllers and the chips on its board: I2C, SPI and signal lines.

A bus controller model (an STM32 I2C or SPI, an nRF52 TWIM or SPIM) owns one bus object and
turns what the firmware writes into the calls below; the devices on the board (an
accelerometer, a camera's control port) are targets attached to the bus. Neither side knows
the other's registers. docs/bus-devices.md has the contract for both sides.

- :class:`I2CBus`: ``start(address, read) -> ack`` (a START or repeated START and the address
  byte), ``write(byte) -> ack``, ``read() -> byte``, ``stop()``. An address with no target
  is not acknowledged (an empty bus NACKs), as on a real bus with pull-ups.
- :class:`SpiBus`: chip selects are lines (a GPIO output on the board drives them);
  ``transfer(mosi, mode) -> miso`` clocks one byte full duplex with the selected target.
  With no target selected MISO floats high (0xFF); two selected targets are a board or
  firmware error (reported).
- :class:`Line`: one wire with a level and listeners, for chip selects and for the
  interrupt / data-ready outputs of the devices, which a board wires to GPIO/EXTI or GPIOTE
  inputs.

Everything happens at the virtual time of the call: the controller models pace the bus
(bit rate, clock stretching) and call these when each byte is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from simcore.errors import BadInputError

FLOATING = 0xFF  # what a read returns when no target drives the data line (pull-ups)


class Line:
    """A wire: a level (True = high) and the callbacks that follow it, called on every change."""

    __slots__ = ("name", "level", "_listeners", "changes", "source", "rise_plan", "fall_rise_plan")

    def __init__(self, name: str, level: bool = False) -> None:
        self.name = name
        self.level = level
        self._listeners: list[Callable[[bool], None]] = []
        self.changes = 0
        self.source: object = None  # what drives it, where that is a GPIO output: (port model, pin)
        # what the input it drives does when it rises, as C may do it at a wfi (Event.wake's tuple, or None), set by
        # that input (an nRF52 GPIO pin: Nrf52Gpio.rise_plan) and valid while it is the line's one listener
        self.rise_plan: Callable[[], tuple[int, ...] | None] | None = None
        # what the input does when the line, high, falls and later rises again (((value index, value) the fall stores,
        # the rise's Event.wake tuple), or None; Nrf52Gpio.fall_rise_plan), on the same terms
        self.fall_rise_plan: Callable[[], tuple[tuple[int, int], tuple[int, ...]] | None] | None = None

    @property
    def listeners(self) -> int:
        """How many callbacks follow the line."""
        return len(self._listeners)

    def connect(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(level)`` whenever the level changes (and once now, so both ends agree)."""
        self._listeners.append(listener)
        listener(self.level)

    def set(self, level: bool) -> None:
        level = bool(level)
        if level == self.level:
            return
        self.level = level
        self.changes += 1
        for fn in self._listeners:
            fn(level)

    def __repr__(self) -> str:
        return f"Line({self.name!r}, {'high' if self.level else 'low'})"


@runtime_checkable
class I2CTarget(Protocol):
    """What an I2C device offers its bus (7-bit addressing)."""

    name: str

    def i2c_start(self, address: int, read: bool) -> bool:
        """START (or repeated START) with this target's ``address``: True to acknowledge."""
        ...

    def i2c_write(self, byte: int) -> bool:
        """A byte written by the controller: True to acknowledge it (ACK), False for NACK."""
        ...

    def i2c_read(self) -> int:
        """The next byte the target sends (the controller ACKs or NACKs it afterwards)."""
        ...

    def i2c_stop(self) -> None:
        """STOP: the transaction is over."""
        ...


@runtime_checkable
class SpiTarget(Protocol):
    """What a SPI device offers its bus: a chip-select input and a byte exchange."""

    name: str
    SPI_MODES: frozenset[int]  # the modes it can be clocked in (mode = CPOL << 1 | CPHA)

    def spi_select(self, selected: bool) -> None:
        """Chip select asserted (True: a frame starts) or released (the frame ends)."""
        ...

    def spi_transfer(self, mosi: int, mode: int) -> int:
        """One byte in each direction, most significant bit first, in SPI ``mode`` 0-3."""
        ...


class I2CBus:
    """One I2C bus: targets by 7-bit address, the one addressed since the last START, and counts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.targets: dict[int, I2CTarget] = {}
        self.active: I2CTarget | None = None
        self.nacked: dict[int, int] = {}  # address -> times nobody answered
        self.transactions = 0

    def attach(self, target: I2CTarget, address: int) -> None:
        if not 0x08 <= address <= 0x77:
            raise BadInputError(f"{self.name}: {target.name} at I2C address {address:#04x}; 7-bit device "
                                "addresses are 0x08-0x77 (the others are reserved by the I2C specification)")
        other = self.targets.get(address)
        if other is not None:
            raise BadInputError(f"{self.name}: {target.name} and {other.name} both at I2C address {address:#04x}")
        self.targets[address] = target

    def start(self, address: int, read: bool) -> bool:
        """START or repeated START, then the address byte: whether a target acknowledged it."""
        target = self.targets.get(address & 0x7F)
        if self.active is not None and self.active is not target:
            self.active.i2c_stop()  # a repeated START to another address ends the first target's transfer
        self.active = None
        if target is None or not target.i2c_start(address & 0x7F, read):
            self.nacked[address & 0x7F] = self.nacked.get(address & 0x7F, 0) + 1
            return False
        self.active = target
        self.transactions += 1
        return True

    def write(self, byte: int) -> bool:
        if self.active is None:
            return False
        return self.active.i2c_write(byte & 0xFF)

    def read(self) -> int:
        if self.active is None:
            return FLOATING
        return self.active.i2c_read() & 0xFF

    def write_block(self, data: bytes) -> int:
        """``data`` written at once (a controller that moves a whole transfer at one time: the nRF52 TWIM's EasyDMA),
        as :meth:`write` for each byte until the first NACK: how many bytes were acknowledged (``len(data)``: all;
        else byte ``result`` was NACKed and nothing after it was sent). A target may take them together
        (``i2c_write_block``)."""
        if self.active is None:
            return 0
        block = getattr(self.active, "i2c_write_block", None)
        if block is not None:
            return int(block(data))
        write = self.active.i2c_write
        for k, byte in enumerate(data):
            if not write(byte & 0xFF):
                return k
        return len(data)

    def read_block(self, n: int) -> bytes:
        """``n`` reads at once (a controller that moves a whole transfer at one time: the nRF52 TWIM's EasyDMA);
        the bytes ``n`` calls of :meth:`read` return. A target may serve them together (``i2c_read_block``)."""
        if self.active is None:
            return bytes([FLOATING]) * n
        block = getattr(self.active, "i2c_read_block", None)
        if block is not None:
            return bytes(block(n))
        read = self.active.i2c_read
        return bytes(read() & 0xFF for _ in range(n))

    def stop(self) -> None:
        if self.active is not None:
            self.active.i2c_stop()
        self.active = None

    def stats(self) -> dict[str, object]:
        return {"bus": self.name, "transactions": self.transactions,
                "nacked_addresses": {f"{a:#04x}": n for a, n in sorted(self.nacked.items())}}


class SpiBus:
    """One SPI bus: targets with their chip-select lines (active low), byte exchange with the selected one."""

    def __init__(self, name: str, report: Callable[[str, str], None] | None = None) -> None:
        self.name = name
        self.targets: list[SpiTarget] = []
        self.selected: list[SpiTarget] = []
        self.frames = 0
        self._report = report
        self.before_select: Callable[[], None] | None = None  # the master's stream is settled before a select change
        self.chip_selects: dict[int, Line] = {}  # id(target) -> its chip-select line

    def attach(self, target: SpiTarget, cs: Line) -> None:
        """Wire ``target`` with its chip select ``cs`` (low = selected, as every SPI device here has it)."""
        self.targets.append(target)
        self.chip_selects[id(target)] = cs

        def follow(level: bool) -> None:
            self._chip_select(target, not level)

        cs.connect(follow)

    def _chip_select(self, target: SpiTarget, selected: bool) -> None:
        if self.before_select is not None and selected != (target in self.selected):
            self.before_select()
        if selected and target not in self.selected:
            self.selected.append(target)
            self.frames += 1
            target.spi_select(True)
        elif not selected and target in self.selected:
            self.selected.remove(target)
            target.spi_select(False)

    def transfer(self, mosi: int, mode: int = 0) -> int:
        """Clock one byte: MOSI to every selected target, MISO from it (0xFF when nobody drives it)."""
        if not self.selected:
            return FLOATING
        if len(self.selected) > 1 and self._report is not None:
            names = ", ".join(t.name for t in self.selected)
            self._report(f"{self.name}", f"several chip selects asserted at once ({names}): MISO contention")
        miso = FLOATING
        for target in list(self.selected):
            miso &= target.spi_transfer(mosi & 0xFF, mode & 3) & 0xFF  # contention: the lows win
        return miso
