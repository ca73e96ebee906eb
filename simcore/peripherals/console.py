"""Console UARTs whose transmitted bytes the register file takes in C (RF_CONSOLE, simcore/native/regfile.c).

A console UART that transmits at once (no pacing, no interrupt or DMA request on its transmit
flags) does nothing on a data-register write but print the byte, and its status register reads
the same value until the model's own registers are written. While that holds the model hands the
data register's writes and the status register's reads to the register file: no Python per byte.
``Machine.console_in_c`` decides whether nothing else needs each byte as it is written (markers,
console listeners) and puts the bytes on the console at its next look, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar


class ConsoleInC:
    """Mixin for a console UART model (before PeripheralModel in the bases)."""

    CONSOLE_DATA: ClassVar[int] = 0  # offset of the transmit data register
    CONSOLE_STATUS: ClassVar[int] = 4  # offset of the status register the driver polls
    _in_c = False
    host: Any
    base: int

    def console_ready(self) -> bool:
        """A data-register write now only prints its byte, and the status register keeps its value."""
        raise NotImplementedError

    def console_status(self) -> int:
        """What the status register reads while the bytes go through the register file."""
        raise NotImplementedError

    def console_taken(self, n: int) -> None:
        """``n`` bytes written in C reached the console (statistics)."""

    def console_check(self) -> None:
        """Ask the machine whether the register file may serve the two registers (after each register write)."""
        fn = getattr(self.host, "console_in_c", None)
        if fn is not None:
            fn(self, self.console_ready())

    def console_regs_in_c(self, bus: Any, on: bool, flush: Callable[[], None], eager: bool) -> bool:
        """Hand the data writes (bytes that fit) and status reads to the register file, or take them back."""
        if not on and not self._in_c:
            return False
        self._in_c = bus.console_in_c(self.base + self.CONSOLE_DATA, self.base + self.CONSOLE_STATUS,
                                      self.console_status() if on else 0, on, flush, eager)
        return self._in_c

    def write(self, offset: int, size: int, value: int) -> None:
        super().write(offset, size, value)  # type: ignore[misc]
        self.console_check()  # the transmitter's state or the status value may have changed

    def console_reset(self) -> None:
        """After the model's reset: a reset of the part turns the transmitter off."""
        if self._in_c:
            self.console_check()
