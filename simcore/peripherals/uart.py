"""Console UARTs of the real parts; transmitted bytes go to the console.

The STM32 and nRF52 models take their registers from the part's SVD table (docs/registers.md,
"Models of SVD peripherals"): the registers they implement are named below, every other
register of the peripheral is generic and reported. Transmission is instantaneous (the
transmitter is always ready): firmware that polls the status flags sees them set at once.
Receive paths are not modelled (reads return no data).
"""

from __future__ import annotations

from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel, Register


@register_model
class Stm32F4Usart(PeripheralModel):
    """STM32F4 USART (RM0090 section 30.6): the SVD's USART registers; SR, DR behave, CR1-3/BRR/GTPR store."""

    TYPE = "stm32f4_usart"
    CONSOLE = True  # may be a board's [console] peripheral (simcore.validate)
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    SVD = "USART"
    PARTS = ("stm32f407vg",)
    PLAIN = ("BRR", "CR1", "CR2", "CR3", "GTPR")
    UE = 1 << 13
    TE = 1 << 3

    def read_SR(self) -> int:
        return self.values["SR"] | 0x00C0  # TXE (bit 7) and TC (bit 6): transmission is instant

    def write_SR(self, value: int) -> None:
        # rc_w0 bits: software clears by writing 0; TXE/TC stay set because TX is instant
        self.values["SR"] = (self.values["SR"] & value) | 0x00C0

    def write_DR(self, value: int) -> None:
        self.values["DR"] = value & 0x1FF
        if self.values["CR1"] & self.UE and self.values["CR1"] & self.TE:
            self.host.console_write(bytes([value & 0xFF]), self.name)
        else:
            self.guest_error(self.where("DR"), "write while USART disabled (CR1.UE/TE clear): dropped")


@register_model
class Stm32L4Usart(PeripheralModel):
    """STM32L4/L4+ USART and LPUART (RM0432 sections 50.8 and 51.7): the SVD's registers; ISR, TDR behave."""

    TYPE = "stm32l4_usart"
    CONSOLE = True  # may be a board's [console] peripheral (simcore.validate)
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    SVD = "USART"  # the group of USARTx, UARTx and LPUART1
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("CR1", "CR2", "CR3", "BRR")
    REGISTERS = (Register("PRESC", 0x2C, implemented=0xF),)  # L4+ (RM0432 50.8.12); not in the SVD
    UE = 1 << 0
    RE = 1 << 2
    TE = 1 << 3

    def read_ISR(self) -> int:
        cr1 = self.values["CR1"]
        teack = (1 << 21) if cr1 & self.TE else 0
        reack = (1 << 22) if cr1 & self.RE else 0
        return 0x000000C0 | teack | reack  # TXE, TC, TEACK, REACK

    def write_TDR(self, value: int) -> None:
        self.values["TDR"] = value & 0x1FF
        if self.values["CR1"] & self.UE and self.values["CR1"] & self.TE:
            self.host.console_write(bytes([value & 0xFF]), self.name)
        else:
            self.guest_error(self.where("TDR"), "write while USART disabled (CR1.UE/TE clear): dropped")


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

    def read_DATA(self) -> int:
        return 0  # receive path not modelled

    def write_DATA(self, value: int) -> None:
        if self.values["CTRL"] & self.TX_EN:
            self.host.console_write(bytes([value & 0xFF]), self.name)
        else:
            self.guest_error(f"{self.name}.DATA", "write while CTRL.TXEN is clear: dropped (as on hardware)")

    def write_INTSTATUS(self, value: int) -> None:
        self.values["INTSTATUS"] &= ~value  # write-one-to-clear (INTCLEAR)
