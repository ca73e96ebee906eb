"""Bus transactions as firmware performs them, for tests of the device models (no controller, no CPU).

``I2CMaster`` and ``SpiMaster`` do what a driver's register read/write functions do on the
wire: a write is START, address+W, sub-address, data, STOP; a read is START, address+W,
sub-address, repeated START, address+R, data bytes, STOP. The controller models' tests use the
same devices through real registers.
"""

from __future__ import annotations

from simcore.devices.bus import I2CBus, Line, SpiBus


class I2CMaster:
    """Register reads and writes on an :class:`I2CBus`, as an I2C driver does them."""

    def __init__(self, bus: I2CBus) -> None:
        self.bus = bus

    def write(self, address: int, sub: int, *data: int) -> bool:
        """START, address+W, sub-address, data bytes, STOP: True if every byte was acknowledged."""
        ok = self.bus.start(address, False) and self.bus.write(sub)
        for b in data:
            ok = ok and self.bus.write(b)
        self.bus.stop()
        return ok

    def read(self, address: int, sub: int, n: int = 1) -> list[int]:
        """START, address+W, sub-address, repeated START, address+R, ``n`` bytes, STOP."""
        if not (self.bus.start(address, False) and self.bus.write(sub) and self.bus.start(address, True)):
            self.bus.stop()
            raise AssertionError(f"no acknowledge from {address:#04x}")
        out = [self.bus.read() for _ in range(n)]
        self.bus.stop()
        return out


class SpiMaster:
    """Register reads and writes on a :class:`SpiBus` through one chip-select line (active low)."""

    def __init__(self, bus: SpiBus, cs: Line, mode: int = 3) -> None:
        self.bus, self.cs, self.mode = bus, cs, mode

    def frame(self, *mosi: int) -> list[int]:
        self.cs.set(False)
        out = [self.bus.transfer(b, self.mode) for b in mosi]
        self.cs.set(True)
        return out

    def write(self, command: int, *data: int) -> None:
        self.frame(command, *data)

    def read(self, command: int, n: int = 1, dummy: int = 0) -> list[int]:
        """Command byte (with the chip's read bit already set), ``dummy`` ignored bytes, then ``n`` data bytes."""
        return self.frame(command, *([0] * (dummy + n)))[1 + dummy:]


def s16(lo: int, hi: int) -> int:
    """A little-endian 16-bit two's-complement value from its bytes."""
    v = lo | hi << 8
    return v - 0x10000 if v & 0x8000 else v
