"""STM32 USART and LPUART: transmit and receive paced at the programmed baud rate on virtual time.

RM0090 section 30 (STM32F4 USART: SR, DR, BRR, CR1-CR3) and RM0432 sections 50-51 (STM32L4+
USART and LPUART: ISR, ICR, RQR, RDR, TDR, BRR, PRESC). Every transmitted byte goes to the
console (the board's console UART, or the run's console by peripheral name) when it enters
the shift register, so nothing printed is lost however the firmware ends.

Transmit: a byte written to the data register waits in it (``TXE`` = 0) while the shift
register sends the previous one; each frame (start bit, 7-9 data bits, stop bits) lasts
``bits / baud`` seconds of virtual time, the baud rate following from ``BRR`` (``OVER8``,
the L4's ``PRESC``, the LPUART's 256x divider) and the USART's kernel clock (PCLK1, or PCLK2
for USART1/USART6). ``TC`` is set when the last frame ends. ``TXE``/``TC`` interrupts and the
``USARTx_TX`` DMA request (``CR3.DMAT``) follow these flags.

A UART with the option ``paced = false`` (the boards' console UARTs, so that printing costs the
firmware no waiting, as before these models) transmits at once: ``TXE`` and ``TC`` stay set.
Such a UART, enabled, with no receive input and no interrupt or DMA request on ``TXE``/``TC``,
has its data writes and status reads served by the register file in C
(simcore/peripherals/console.py): printing costs no Python per byte.

Receive: bytes given with ``--uart-input [NAME=]FILE`` (``-``: standard input, read to its end
when the receiver is first enabled) arrive back to back at the baud rate from the moment the
receiver is enabled (``UE`` and ``RE``): ``RXNE`` (interrupt, ``USARTx_RX`` DMA request with
``DMAR``), ``ORE`` when a byte arrives before the previous one was read (it is lost), and
``IDLE`` one frame after the last byte. Without an input the receiver stays idle.
Not modelled: parity and framing errors (never set), LIN, IrDA, smartcard, hardware flow
control, the L4+ FIFO mode (``FIFOEN``; reported when set), wake-up from Stop.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from simcore.clock import FS_PER_SECOND
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel, Register
from simcore.peripherals.console import ConsoleInC
from simcore.peripherals.stm32.signals import DmaRequester

APB2_BASE = 0x40010000
L4_PRESC = (1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256)  # RM0432 50.8.12 PRESC codes 0-11


def read_input(where: str, path: str) -> bytes:
    """The bytes a UART receives: a file, or standard input (``-``) read to its end."""
    if path == "-":
        return sys.stdin.buffer.read() if sys.stdin is not None else b""
    p = Path(path)
    if not p.is_file():
        raise BadInputError(f"{where}: UART input file {path} does not exist or is not a regular file")
    return p.read_bytes()


class Stm32Usart(ConsoleInC, DmaRequester, PeripheralModel):
    """Transmitter, receiver, flags, interrupts and DMA requests of an STM32 U(S)ART (see the module docstring)."""

    POLL_SAFE = True  # flags change only when written or at frame events: polling loops fast-forward (poll.py)

    CONSOLE = True  # may be a board's [console] peripheral (simcore.validate)
    OPTIONS = {"input": "file of bytes to receive (--uart-input), '-' for standard input",
               "paced": "transmit at the baud rate (default true; the boards' console UARTs say false: "
                        "bytes leave at once, TXE and TC stay set)"}
    # flag bits as the F4 SR and the L4 ISR both place them (RM0090 30.6.1, RM0432 50.8.8)
    ORE, IDLE, RXNE, TC, TXE = 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7
    LPUART: ClassVar[bool] = False

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._irq_level = False
        self._shift_event: Any = None
        self._rx_event: Any = None
        self.input_path = config.options.get("input")
        self.paced = bool(config.options.get("paced", True))
        self._rx_data: bytes | None = None
        super().__init__(config, host, registers)
        self.periph = self.svd_name
        self.clock_name = str(config.options.get("clock", "PCLK2" if self.base >= APB2_BASE and
                                                 not self.periph.startswith("LPUART") else "PCLK1"))
        if self.input_path is not None and self.input_path != "-":
            self._rx_data = read_input(f"{self.name}", str(self.input_path))  # a bad path: refused before the run
        self.stats = {"tx_bytes": 0, "rx_bytes": 0, "rx_overruns": 0}

    def reset(self) -> None:
        for ev in ("_shift_event", "_rx_event"):
            handle = getattr(self, ev, None)
            if handle is not None:
                self.host.cancel(handle)
                setattr(self, ev, None)
        super().reset()
        self.flags = self.TXE | self.TC  # RM0090 30.6.1: SR resets to 0x00C0
        self.tdr: int | None = None  # data waiting for the shift register
        self.shifting = False
        self._tx_end_fs = 0  # when the last frame sent ends (the next one starts there at the earliest)
        self._rx_next_fs = 0  # when the next received frame ends
        self._rx_chained = False
        self.rdr = 0
        self.rx_pos = 0  # next byte of the input to arrive
        self.rx_on = False
        self.rx_overruns = 0
        if hasattr(self, "periph"):
            self._update()
        self.console_reset()

    # --- the console in C (ConsoleInC) ----------------------------------------------------------
    def console_ready(self) -> bool:
        """Unpaced, enabled, idle, no receive input, nothing requested on TXE/TC: a data write only prints."""
        both = self.TXE | self.TC
        return (not self.paced and self.input_path is None and self.enabled() and self.tx_enabled()
                and self.tdr is None and not self.shifting and self.flags & both == both
                and not self.irq_enables() & both and not self.cr3() & 1 << 7)

    def console_taken(self, n: int) -> None:
        self.stats["tx_bytes"] += n

    # --- what subclasses define ---------------------------------------------------------------
    def cr1(self) -> int:
        return self.values["CR1"]

    def cr3(self) -> int:
        return self.values["CR3"]

    def enabled(self) -> bool:
        raise NotImplementedError

    def tx_enabled(self) -> bool:
        raise NotImplementedError

    def rx_enabled(self) -> bool:
        raise NotImplementedError

    def baud(self) -> float:
        raise NotImplementedError

    def data_bits(self) -> int:
        raise NotImplementedError

    def stop_bits(self) -> float:
        return {0: 1.0, 1: 0.5, 2: 2.0, 3: 1.5}[self.values["CR2"] >> 12 & 3]

    def irq_enables(self) -> int:
        """Flag bits whose interrupt is enabled (CR1 TXEIE/TCIE/RXNEIE/IDLEIE; ORE with RXNEIE)."""
        cr1 = self.cr1()
        out = 0
        for flag, bit in ((self.TXE, 7), (self.TC, 6), (self.RXNE, 5), (self.IDLE, 4)):
            if cr1 >> bit & 1:
                out |= flag
        if cr1 & 1 << 5:
            out |= self.ORE
        return out

    def kernel_hz(self) -> float:
        return self.host.clock_hz(self.clock_name)

    # --- timing -------------------------------------------------------------------------------
    def frame_fs(self) -> int | None:
        """One frame in femtoseconds at the programmed rate, or None when the rate cannot be derived."""
        baud = self.baud()
        if not baud > 0:
            return None
        bits = 1 + self.data_bits() + self.stop_bits()
        return max(int(round(bits * FS_PER_SECOND / baud)), 1)

    def bad_rate(self) -> None:
        self.guest_error(self.where("BRR"), f"no baud rate: BRR = {self.values['BRR']:#x} with a "
                         f"{self.kernel_hz() / 1e6:g} MHz kernel clock; bytes are sent without pacing")

    # --- transmit -----------------------------------------------------------------------------
    def tx_write(self, value: int) -> None:
        if not (self.enabled() and self.tx_enabled()):
            reg = "DR" if "DR" in self._table.by_name else "TDR"
            self.guest_error(self.where(reg), "write while the USART or its transmitter is disabled (UE/TE clear): "
                             "dropped, as on the part")
            return
        if self.tdr is not None:
            self.guest_error(self.where("DR" if "DR" in self._table.by_name else "TDR"),
                             "write while TXE = 0 (the previous byte still waits): it overwrites it")
        self.tdr = value & 0x1FF
        self.flags &= ~(self.TXE | self.TC)
        if not self.shifting:
            self._load_shifter()
        self._update()

    def _load_shifter(self, chained: bool = False) -> None:
        assert self.tdr is not None
        byte, self.tdr = self.tdr, None
        self.flags |= self.TXE
        self.host.console_write(bytes([byte & 0xFF]), self.name)
        self.stats["tx_bytes"] += 1
        frame = self.frame_fs() if self.paced else None
        if frame is None:
            if self.paced:
                self.bad_rate()
            self.shifting = False
            self.flags |= self.TC
            return
        self.shifting = True
        # back-to-back frames follow the previous one's exact end, not the moment its event ran
        # (events run at the end of the translated block that passes their cycle)
        start = self._tx_end_fs if chained else max(self.host.now_fs(), self._tx_end_fs)
        self._tx_end_fs = start + frame
        self._shift_event = self.host.schedule_at_fs(self._tx_end_fs, self._shift_done, f"{self.periph} TX frame")

    def _shift_done(self) -> None:
        self._shift_event = None
        self.shifting = False
        if self.tdr is not None and self.enabled() and self.tx_enabled():
            self._load_shifter(chained=True)
        else:
            self.flags |= self.TC
        self._update()

    # --- receive ------------------------------------------------------------------------------
    def _rx_bytes(self) -> bytes:
        if self._rx_data is None:
            self._rx_data = read_input(self.name, str(self.input_path)) if self.input_path is not None else b""
        return self._rx_data

    def _rx_state(self) -> None:
        """Start or stop the receiver after UE/RE changed."""
        on = self.enabled() and self.rx_enabled()
        if on == self.rx_on:
            return
        self.rx_on = on
        if not on:
            if self._rx_event is not None:
                self.host.cancel(self._rx_event)
                self._rx_event = None
            return
        if self.input_path is not None:
            self._schedule_rx()

    def _schedule_rx(self) -> None:
        data = self._rx_bytes()
        frame = self.frame_fs()
        if frame is None:
            if self.rx_pos < len(data):
                self.bad_rate()
            return
        self._rx_next_fs = (self._rx_next_fs if self._rx_chained else max(self._rx_next_fs, self.host.now_fs())) + frame
        if self.rx_pos < len(data):
            self._rx_event = self.host.schedule_at_fs(self._rx_next_fs, self._rx_arrive, f"{self.periph} RX byte")
        elif self.rx_pos == len(data) and data:
            self.rx_pos += 1  # one idle frame after the last byte: IDLE
            self._rx_event = self.host.schedule_at_fs(self._rx_next_fs, self._rx_idle, f"{self.periph} RX idle")

    def _rx_arrive(self) -> None:
        self._rx_event = None
        data = self._rx_bytes()
        byte = data[self.rx_pos]
        self.rx_pos += 1
        if self.flags & self.RXNE:
            self.flags |= self.ORE  # RM0090 30.6.1: the new byte is lost, RDR keeps the old one
            self.rx_overruns += 1
            self.stats["rx_overruns"] += 1
        else:
            self.rdr = byte
            self.flags |= self.RXNE
            self.stats["rx_bytes"] += 1
        self._update()
        if self.rx_on:
            self._rx_chained = True  # the next byte follows this one's exact end
            self._schedule_rx()
            self._rx_chained = False

    def _rx_idle(self) -> None:
        self._rx_event = None
        self.flags |= self.IDLE
        self._update()

    def rx_read(self) -> int:
        self.flags &= ~self.RXNE
        self._update()
        return self.rdr

    # --- flags, interrupts, DMA ---------------------------------------------------------------
    def _update(self) -> None:
        level = bool(self.flags & self.irq_enables())
        if self.irq is not None and level != self._irq_level:
            self._irq_level = level
            self.host.set_irq(self.irq, level)
        if self.cr3() & 1 << 7 and self.flags & self.TXE:
            self.dma_request(f"{self.periph}_TX")
        if self.cr3() & 1 << 6 and self.flags & self.RXNE:
            self.dma_request(f"{self.periph}_RX")

    def dma_pending(self, request: str) -> bool:
        if request.endswith("_TX"):
            return bool(self.cr3() & 1 << 7 and self.flags & self.TXE and self.enabled() and self.tx_enabled())
        return bool(self.cr3() & 1 << 6 and self.flags & self.RXNE)

    def config_changed(self) -> None:
        self._rx_state()
        self._update()

    def sensor_stats(self) -> dict[str, Any] | None:
        if self.input_path is None:
            return None
        return {"name": self.name, "type": self.TYPE, "source": str(self.input_path),
                "bytes_received": self.stats["rx_bytes"], "overruns": self.stats["rx_overruns"], "events": []}


@register_model
class Stm32F4Usart(Stm32Usart):
    """STM32F4 USART/UART (RM0090 section 30.6): SR, DR, BRR, CR1-CR3, GTPR."""

    TYPE = "stm32f4_usart"
    SVD = "USART"
    PARTS = ("stm32f407vg",)
    PLAIN = ("BRR", "CR2")  # GTPR (smartcard, IrDA; not on UART4/5) stays generic
    CONSOLE_DATA, CONSOLE_STATUS = 0x04, 0x00  # DR, SR

    def console_status(self) -> int:
        return self.read_SR()

    def enabled(self) -> bool:
        return bool(self.cr1() & 1 << 13)

    def tx_enabled(self) -> bool:
        return bool(self.cr1() & 1 << 3)

    def rx_enabled(self) -> bool:
        return bool(self.cr1() & 1 << 2)

    def data_bits(self) -> int:
        return 9 if self.cr1() & 1 << 12 else 8

    def baud(self) -> float:
        brr = self.values["BRR"] & 0xFFFF
        if self.cr1() & 1 << 15:  # OVER8: USARTDIV = mantissa + fraction[2:0] / 8, baud = fck / (8 USARTDIV)
            div = (brr >> 4) * 8 + (brr & 7)
        else:  # baud = fck / (16 USARTDIV) = fck / BRR
            div = brr
        return self.kernel_hz() / div if div else 0.0

    def read_SR(self) -> int:
        return self.flags | (self.values["SR"] & 0x300)

    def write_SR(self, value: int) -> None:
        # rc_w0: CTS, LBD, TC and RXNE are cleared by writing 0 (RM0090 30.6.1); the others are read-only
        for bit in (self.TC, self.RXNE):
            if not value & bit:
                self.flags &= ~bit
        self.values["SR"] &= value | ~0x300
        self._update()

    def read_DR(self) -> int:
        self.flags &= ~(self.ORE | self.IDLE)  # cleared by reading SR then DR
        return self.rx_read()

    def write_DR(self, value: int) -> None:
        self.tx_write(value)

    def write_CR1(self, value: int) -> None:
        self.values["CR1"] = value & 0xFFFF
        self.config_changed()

    def write_CR3(self, value: int) -> None:
        self.values["CR3"] = value & 0xFFF
        if value & 0x3 << 8:
            self.unimplemented(self.where("CR3"), "hardware flow control (RTSE/CTSE) is not modelled")
        self.config_changed()


@register_model
class Stm32L4Usart(Stm32Usart):
    """STM32L4/L4+ USART and LPUART (RM0432 sections 50.8 and 51.7): ISR, ICR, RQR, RDR, TDR.

    ``GTPR`` and ``RTOR`` (guard time, receiver timeout; not on LPUART1) stay generic registers.
    """

    TYPE = "stm32l4_usart"
    SVD = "USART"  # the group of USARTx, UARTx and LPUART1
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("BRR", "CR2")
    REGISTERS = (Register("PRESC", 0x2C, implemented=0xF),)  # L4+ (RM0432 50.8.12); not in the SVD
    CONSOLE_DATA, CONSOLE_STATUS = 0x28, 0x1C  # TDR, ISR

    def console_status(self) -> int:
        return self.read_ISR()

    def enabled(self) -> bool:
        return bool(self.cr1() & 1)

    def tx_enabled(self) -> bool:
        return bool(self.cr1() & 1 << 3)

    def rx_enabled(self) -> bool:
        return bool(self.cr1() & 1 << 2)

    def data_bits(self) -> int:
        m = (self.cr1() >> 27 & 2) | (self.cr1() >> 12 & 1)  # M1:M0 (RM0432 50.8.1)
        return {0: 8, 1: 9, 2: 7}.get(m, 8)

    def kernel_hz(self) -> float:
        code = self.values.get("PRESC", 0) & 0xF
        return super().kernel_hz() / (L4_PRESC[code] if code < len(L4_PRESC) else 256)

    def baud(self) -> float:
        brr = self.values["BRR"]
        fck = self.kernel_hz()
        if self.periph.startswith("LPUART"):  # RM0432 51.4.7: baud = 256 fck / LPUARTDIV
            div = brr & 0xFFFFF
            return 256 * fck / div if div >= 0x300 else 0.0
        brr &= 0xFFFF
        if self.cr1() & 1 << 15:  # OVER8: BRR[2:0] = USARTDIV[3:0] >> 1 (RM0432 50.5.7)
            div = (brr & 0xFFF0) | ((brr & 7) << 1)
            return 2 * fck / div if div >= 16 else 0.0
        return fck / brr if brr >= 16 else 0.0

    def read_ISR(self) -> int:
        cr1 = self.cr1()
        ack = 0
        if cr1 & 1:
            ack = (1 << 21 if cr1 & 1 << 3 else 0) | (1 << 22 if cr1 & 1 << 2 else 0)  # TEACK, REACK
        return self.flags | ack

    def write_ICR(self, value: int) -> None:
        if value & 1 << 3:
            self.flags &= ~self.ORE
        if value & 1 << 4:
            self.flags &= ~self.IDLE
        if value & 1 << 6:
            self.flags &= ~self.TC
        self._update()

    def write_RQR(self, value: int) -> None:
        if value & 1 << 3:  # RXFRQ: discard the received byte
            self.flags &= ~self.RXNE
        if value & 1 << 4:  # TXFRQ (smartcard) / nothing to flush otherwise
            pass
        if value & 0x7:
            self.unimplemented(self.where("RQR"), "auto-baud, break and mute requests are not modelled")
        self._update()

    def read_RDR(self) -> int:
        return self.rx_read()

    def write_TDR(self, value: int) -> None:
        self.tx_write(value)

    def write_CR1(self, value: int) -> None:
        self.values["CR1"] = value
        if value & 1 << 29:
            self.unimplemented(self.where("CR1"), "FIFO mode (FIFOEN) is not modelled: the USART works without FIFO")
        self.config_changed()

    def write_CR3(self, value: int) -> None:
        self.values["CR3"] = value
        if value & 0x3 << 8:
            self.unimplemented(self.where("CR3"), "hardware flow control (RTSE/CTSE) is not modelled")
        self.config_changed()
