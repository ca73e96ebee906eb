"""A fake host whose bus reaches the models too (what a DMA needs), for the STM32 peripheral tests."""

from __future__ import annotations

from typing import Any

from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost, peripheral


class BusHost(FakeHost):
    """FakeHost plus a bus: ``mem_read``/``mem_write`` reach RAM and the models added with ``add``."""

    def add(self, name: str, type_: str, base: int, irq: int | None = None, **options: Any) -> Any:
        model = model_for(type_)(peripheral(name, type_, base, irq, **options), self)
        self.peripherals[name] = model
        return model

    def _model_at(self, addr: int) -> Any:
        for m in self.peripherals.values():
            if m.base <= addr < m.base + m.SIZE:
                return m
        return None

    def mem_read(self, addr: int, size: int) -> bytes:
        m = self._model_at(addr)
        if m is None:
            return super().mem_read(addr, size)
        return (m.read(addr - m.base, size) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def mem_write(self, addr: int, data: bytes) -> None:
        m = self._model_at(addr)
        if m is None:
            super().mem_write(addr, data)
            return
        m.write(addr - m.base, len(data), int.from_bytes(data, "little"))

    def f4_clocks(self, hclk: float = 168e6) -> None:
        """The F407 at ``hclk`` with APB1 /4 and APB2 /2 (timer clocks doubled)."""
        self.set_clocks(HCLK=hclk, PCLK1=hclk / 4, PCLK2=hclk / 2, TIMCLK1=hclk / 2, TIMCLK2=hclk)

    def ram_bytes(self, addr: int, n: int) -> bytes:
        return bytes(self.ram[addr - self.ram_base: addr - self.ram_base + n])
