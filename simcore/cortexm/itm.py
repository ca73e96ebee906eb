"""ITM (ARMv7-M C1.7): stimulus ports delivered to Python listeners, port 0 optionally to the console.

``system.itm.on_write(listener)`` registers ``listener(port, value, cycle)`` called for every
write to STIM0-31 (whatever the enables: simcore has no trace port to configure, so profiling
firmware needs no ITM set-up). Like a real SWO viewer, bytes written to port 0 while
TCR.ITMENA and TER bit 0 are set also go to the console (source "itm"), so printf-over-ITM
firmware shows its output. Stimulus reads return 1 (FIFO ready).
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.cortexm.systick import ClockHost
from simcore.registers import Register, RegisterBlock

ITM_BASE = 0xE0000000
Listener = Callable[[int, int, int], None]


class ConsoleHost(ClockHost):
    def console_write(self, data: bytes, source: str) -> None: ...


class Itm(RegisterBlock):
    NAME = "ITM"
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    BASE = ITM_BASE
    REGISTERS = (
        Register("STIM", 0x000, count=32, doc="stimulus ports: the width of a write is the width of the data"),
        Register("TER", 0xE00),
        Register("TPR", 0xE40, implemented=0xF),
        Register("TCR", 0xE80, implemented=0x00FF3F0F, doc="ITMENA modelled; the rest stored"),
        Register("LAR", 0xFB0, access="w"),
        Register("LSR", 0xFB4, access="r"),
    )

    def __init__(self, host: ConsoleHost) -> None:
        self.clock = host
        self.listeners: list[Listener] = []
        super().__init__(host)

    def on_write(self, listener: Listener) -> None:
        """Call ``listener(port, value, cycle)`` on every stimulus-port write."""
        self.listeners.append(listener)

    def read_STIM(self, _port: int) -> int:
        return 1

    def write_STIM(self, port: int, value: int, mask: int) -> None:
        shift = (mask & -mask).bit_length() - 1
        value = (value & mask) >> shift
        cycle = self.clock.now_cycles()
        for listener in self.listeners:
            listener(port, value, cycle)
        if port == 0 and self.get("TCR") & 1 and self.get("TER") & 1:
            nbytes = bin(mask).count("1") // 8
            self.clock.console_write(value.to_bytes(nbytes, "little"), "itm")
