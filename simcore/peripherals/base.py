"""Peripherals are register tables: each register is declared once with its datasheet name.

A model subclasses :class:`PeripheralModel`, lists its :class:`Register` entries in
``REGISTERS`` and implements ``read_<NAME>`` / ``write_<NAME>`` methods only for registers
with behaviour; plain registers just store what is written. Accesses to offsets that no
register covers, or to bits outside a register's ``implemented`` mask, are reported once
each through the host (and stop the run in strict mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from simcore.board import Peripheral


@dataclass(frozen=True)
class Register:
    """One register: datasheet mnemonic, byte offset, width in bits, access, reset value."""

    name: str
    offset: int
    width: int = 32
    access: str = "rw"  # "rw" | "r" | "w" | "rc" (read-to-clear, behaviour in read_<NAME>)
    reset: int = 0
    implemented: int = 0xFFFFFFFF  # bits that the model gives meaning to
    doc: str = ""

    @property
    def nbytes(self) -> int:
        return self.width // 8


class Host(Protocol):
    """What a peripheral may ask of the machine it sits in (a fake in unit tests)."""

    def now_cycles(self) -> int: ...
    def cycles_per_second(self) -> float: ...
    def console_write(self, data: bytes, source: str) -> None: ...
    def set_irq(self, irq: int, level: bool) -> None: ...
    def pend_irq(self, irq: int) -> None: ...
    def schedule(self, at_cycle: int, callback: Any, tag: str) -> Any: ...
    def cancel(self, handle: Any) -> None: ...
    def mem_read(self, addr: int, size: int) -> bytes: ...
    def mem_write(self, addr: int, data: bytes) -> None: ...
    def report_unmodelled(self, where: str, detail: str) -> None: ...


class PeripheralModel:
    """Base for every memory-mapped peripheral: register table dispatch plus unmodelled reports."""

    TYPE: ClassVar[str] = ""
    SIZE: ClassVar[int] = 0x400
    CONSOLE: ClassVar[bool] = False  # a UART whose output can be the board's console
    REGISTERS: ClassVar[tuple[Register, ...]] = ()

    def __init__(self, config: Peripheral, host: Host) -> None:
        self.config = config
        self.name = config.name
        self.base = config.base
        self.irq = config.irq
        self.host = host
        self._by_offset: dict[int, Register] = {}
        for reg in self.REGISTERS:
            for b in range(reg.nbytes):
                other = self._by_offset.get(reg.offset + b)
                if other is not None:
                    raise ValueError(f"{type(self).__name__}: register {reg.name} overlaps {other.name}")
                self._by_offset[reg.offset + b] = reg
        self.values: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        self.values = {reg.name: reg.reset for reg in self.REGISTERS}

    def register(self, name: str) -> Register:
        return next(r for r in self.REGISTERS if r.name == name)

    # --- bus access -----------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        reg = self._by_offset.get(offset)
        if reg is None:
            self.host.report_unmodelled(f"{self.name}+{offset:#05x}", f"read of {size} bytes at an unmodelled offset")
            return 0
        shift = (offset - reg.offset) * 8
        if reg.access == "w":
            return 0
        handler = getattr(self, f"read_{reg.name}", None)
        value = handler() if handler is not None else self.values[reg.name]
        mask = (1 << (size * 8)) - 1
        return (value >> shift) & mask

    def write(self, offset: int, size: int, value: int) -> None:
        reg = self._by_offset.get(offset)
        if reg is None:
            self.host.report_unmodelled(f"{self.name}+{offset:#05x}", f"write of {value:#x} at an unmodelled offset")
            return
        shift = (offset - reg.offset) * 8
        if reg.access == "r":
            self.host.report_unmodelled(f"{self.name}.{reg.name}", "write to a read-only register")
            return
        mask = ((1 << (size * 8)) - 1) << shift
        full = (self.values.get(reg.name, 0) & ~mask) | ((value << shift) & mask)
        full &= (1 << reg.width) - 1
        stray = full & ~reg.implemented & mask
        if stray:
            self.host.report_unmodelled(f"{self.name}.{reg.name}", f"bits {stray:#x} written but not modelled")
        handler = getattr(self, f"write_{reg.name}", None)
        if handler is not None:
            handler(full)
        else:
            self.values[reg.name] = full

    # --- helpers for models ------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Register values for reports and debugging."""
        return {"name": self.name, "type": self.TYPE, "base": self.base, "registers": dict(self.values)}
