"""The MPS2's CMSDK console UART; transmitted bytes go to the console.

The STM32 USARTs are in simcore/peripherals/stm32/usart.py, the nRF52 UARTE in
simcore/peripherals/nrf52/uarte.py. Transmission is instantaneous (the transmitter is always
ready): firmware that polls the status flags sees them set at once. Receive paths are not
modelled (reads return no data). While the transmitter is on, DATA writes and STATE reads are
served by the register file in C (simcore/peripherals/console.py), so printing costs no Python
per byte.
"""

from __future__ import annotations

from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel, Register
from simcore.peripherals.console import ConsoleInC


@register_model
class CmsdkUart(ConsoleInC, PeripheralModel):
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

    def console_ready(self) -> bool:
        return bool(self.values["CTRL"] & self.TX_EN)

    def console_status(self) -> int:
        return int(self.values["STATE"])

    def reset(self) -> None:
        super().reset()
        self.console_reset()

    def read_DATA(self) -> int:
        return 0  # receive path not modelled

    def write_DATA(self, value: int) -> None:
        if self.values["CTRL"] & self.TX_EN:
            self.host.console_write(bytes([value & 0xFF]), self.name)
        else:
            self.guest_error(f"{self.name}.DATA", "write while CTRL.TXEN is clear: dropped (as on hardware)")

    def write_INTSTATUS(self, value: int) -> None:
        self.values["INTSTATUS"] &= ~value  # write-one-to-clear (INTCLEAR)
