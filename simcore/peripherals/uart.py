"""The MPS2's CMSDK console UART; transmitted bytes go to the console.

The STM32 USARTs are in simcore/peripherals/stm32/usart.py, the nRF52 UARTE in
simcore/peripherals/nrf52/uarte.py. Transmission is instantaneous (the transmitter is always
ready): firmware that polls the status flags sees them set at once. Receive paths are not
modelled (reads return no data). While the transmitter is on, DATA writes and STATE reads are
served by the register file in C (RF_CONSOLE: the byte goes to a buffer the machine puts on the
console; STATE reads its value), so printing costs no Python per byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel, Register


@register_model
class CmsdkUart(PeripheralModel):
    """Arm CMSDK APB UART (CMSDK TRM DDI 0479, section 4.3), as on MPS2 boards."""

    TYPE = "cmsdk_uart"
    CONSOLE = True  # may be a board's [console] peripheral (simcore.validate)
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    SIZE = 0x1000
    REGISTERS = (
        Register("DATA", 0x000, implemented=0xFF),
        Register("STATE", 0x004, implemented=0xF),
        Register("CTRL", 0x008, implemented=0x7F),
        Register("INTSTATUS", 0x00C, implemented=0xF),
        Register("BAUDDIV", 0x010, implemented=0xFFFFF),
        Register("PID4", 0xFD0, access="r", reset=0x04),
        Register("PID5", 0xFD4, access="r"),
        Register("PID6", 0xFD8, access="r"),
        Register("PID7", 0xFDC, access="r"),
        Register("PID0", 0xFE0, access="r", reset=0x21),
        Register("PID1", 0xFE4, access="r", reset=0xB8),
        Register("PID2", 0xFE8, access="r", reset=0x1B),
        Register("PID3", 0xFEC, access="r"),
        Register("CID0", 0xFF0, access="r", reset=0x0D),
        Register("CID1", 0xFF4, access="r", reset=0xF0),
        Register("CID2", 0xFF8, access="r", reset=0x05),
        Register("CID3", 0xFFC, access="r", reset=0xB1),
    )
    TX_EN = 1 << 0
    _in_c = False

    def console_check(self) -> None:
        """Ask the machine whether the register file may serve DATA and STATE (after each register write)."""
        fn = getattr(self.host, "console_in_c", None)
        if fn is not None:
            fn(self, bool(self.values["CTRL"] & self.TX_EN))

    def console_regs_in_c(self, bus: Any, on: bool, flush: Callable[[], None], eager: bool) -> bool:
        """Hand DATA writes (bytes that fit, TXEN set) and STATE reads to the register file, or take them back."""
        if not on and not self._in_c:
            return False
        self._in_c = bus.console_in_c(self.base, self.base + 4, self.values["STATE"], on, flush, eager)
        return self._in_c

    def write(self, offset: int, size: int, value: int) -> None:
        super().write(offset, size, value)
        self.console_check()  # CTRL.TXEN or STATE may have changed

    def reset(self) -> None:
        super().reset()
        if self._in_c:  # a reset of the part clears CTRL: the model serves DATA again
            self.console_check()

    def read_DATA(self) -> int:
        return 0  # receive path not modelled

    def write_DATA(self, value: int) -> None:
        if self.values["CTRL"] & self.TX_EN:
            self.host.console_write(bytes([value & 0xFF]), self.name)
        else:
            self.guest_error(f"{self.name}.DATA", "write while CTRL.TXEN is clear: dropped (as on hardware)")

    def write_INTSTATUS(self, value: int) -> None:
        self.values["INTSTATUS"] &= ~value  # write-one-to-clear (INTCLEAR)
