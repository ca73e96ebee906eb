"""The nRF52840's peripheral models as the board file places them, on a fake host (no CPU)."""

from __future__ import annotations

from typing import Any

from simcore.board import Peripheral, load_board
from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost
from simcore.runtypes import Stop

CYCLES_PER_US = 64  # the nRF52840's core clock: 64 MHz


class NrfHost(FakeHost):
    """FakeHost with what the nRF52 models ask of a machine beyond the Host protocol: stops and resets."""

    def __init__(self) -> None:
        super().__init__(mhz=64.0)
        self.stops: list[Stop] = []
        self.resets: list[tuple[int, str, str]] = []  # (cycle, source, why)
        self.protected_write: Any = None  # NVMC installs its flash writer here

    def request_stop(self, stop: Stop) -> None:
        self.stops.append(stop)

    def request_reset(self, source: str, why: str) -> None:
        self.resets.append((self.cycles, source, why))

    def pc(self) -> int:
        return 0


class Part:
    """Models of the ``nrf52840`` board's nRF52 peripherals by board name: ``part["timer0"]``."""

    def __init__(self, options: dict[str, dict[str, Any]] | None = None, ram_base: int = 0x20000000) -> None:
        self.host = NrfHost()
        if ram_base != 0x20000000:
            self.host.ram_base = ram_base
            self.host.ram = bytearray(0x20000000 + 256 * 1024 - ram_base if ram_base < 0x20000000 else 256 * 1024)
        self.models: dict[str, Any] = {}
        for p in load_board("nrf52840").peripherals:
            if not p.type.startswith("nrf52_") or p.type in ("nrf52_pdm", "nrf52_ficr", "nrf52_uicr"):
                continue
            opts = {**p.options, **(options or {}).get(p.name, {})}
            model = model_for(p.type)(Peripheral(p.name, p.type, p.base, p.irq, opts), self.host)
            self.models[p.name] = model
            self.host.peripherals[p.name] = model
        self.host.clock_tree_changed(self.models["clock"])

    def __getitem__(self, name: str) -> Any:
        return self.models[name]

    def write(self, name: str, offset: int, value: int) -> None:
        self.models[name].write(offset, 4, value)

    def read(self, name: str, offset: int) -> int:
        return self.models[name].read(offset, 4)

    def advance_us(self, us: float) -> None:
        self.host.advance_to(self.host.cycles + round(us * CYCLES_PER_US))

    def start_lfclk(self, source: int = 1) -> None:
        """LFCLKSRC = source, TASKS_LFCLKSTART, and wait for LFCLKSTARTED (as start-up code does)."""
        self.write("clock", 0x518, source)
        self.write("clock", 0x008, 1)
        while not self.read("clock", 0x104):
            self.host.advance_to(self.host.next_event_cycle())
        self.write("clock", 0x104, 0)
