"""A fake machine for the Cortex-M system-block unit tests: a settable clock and an event list."""

from __future__ import annotations

from typing import Any

import unicorn
from unicorn import arm_const as R

from simcore.cortexm.exceptions import ExceptionModel
from simcore.runtypes import AccessKind, Event, EventQueue, ReportChannel

RAM = 0x20000000
RAM_SIZE = 0x10000
FLASH_SIZE = 0x10000


class FakeHost:
    """Clock, scheduler and report log, as the machine provides them."""

    def __init__(self, mhz: float = 100.0) -> None:
        self.now = 0
        self.mhz = mhz
        self.events = EventQueue()
        self.unmodelled: dict[str, str] = {}  # every report, by place: the first detail
        self.channels: dict[str, ReportChannel] = {}  # ... and its channel
        self.console = bytearray()

    def now_cycles(self) -> int:
        return self.now

    def cycles_per_second(self) -> float:
        return self.mhz * 1e6

    def schedule(self, at_cycle: int, callback: Any, tag: str = "") -> Event:
        return self.events.schedule(at_cycle, callback, tag)

    def cancel(self, handle: Event) -> None:
        self.events.cancel(handle)

    def report(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None = None) -> None:
        self.unmodelled.setdefault(where, detail)
        self.channels.setdefault(where, channel)

    def console_write(self, data: bytes, source: str) -> None:
        self.console += data

    def pending_cycles(self) -> list[int]:
        return [e.at_cycle for e in self.events.live()]

    def advance(self, cycle: int) -> None:
        """Move the clock to ``cycle``, running every event due on the way."""
        while (ev := self.events.pop_due(cycle)) is not None:
            self.now = ev.at_cycle
            ev.callback()
        self.now = cycle


def make_uc() -> unicorn.Uc:
    """A Cortex-M4 Unicorn with flash at 0 and RAM at 0x20000000 (no code is run)."""
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(R.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(0, FLASH_SIZE, unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)
    uc.mem_map(RAM, RAM_SIZE)
    return uc


def make_exceptions(num_irq: int = 32, prio_bits: int = 4) -> ExceptionModel:
    uc = make_uc()
    return ExceptionModel(uc, num_irq, prio_bits, lambda a, n: RAM <= a and a + n <= RAM + RAM_SIZE)
