"""Peripherals are register tables (simcore/registers.py), one object per instance on the board.

A model subclasses :class:`PeripheralModel`, lists its :class:`~simcore.registers.Register`
entries in ``REGISTERS`` (datasheet names, offsets from the instance's base) and implements
``read_<NAME>`` / ``write_<NAME>`` methods or field ``on_write`` callbacks only where a
register has behaviour; plain registers store what is written. Accesses that no register
covers, bits the model does not implement and writes the firmware should not make are
reported through the host (``report``), by ``<instance>.<REGISTER>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from simcore.registers import Field, Register, RegisterBlock, ReportHost

if TYPE_CHECKING:
    from simcore.board import Peripheral

__all__ = ["Field", "Host", "PeripheralModel", "Register"]


class Host(ReportHost, Protocol):
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


class PeripheralModel(RegisterBlock):
    """Base for every memory-mapped peripheral: its board entry, its window and its register table."""

    TYPE: ClassVar[str] = ""
    SIZE: ClassVar[int] = 0x400  # bytes of address space the instance decodes
    CONSOLE: ClassVar[bool] = False  # a UART whose output can be the board's console

    def __init__(self, config: Peripheral, host: Host, registers: Sequence[Register] | None = None) -> None:
        self.config = config
        self.base = config.base
        self.irq = config.irq
        self.host: Host = host
        super().__init__(host, config.name, registers)

    def register(self, name: str) -> Register:
        return self._table.by_name[name]

    def native_irq_event(self) -> Any:
        """The machine event that asserts this peripheral's interrupt next, when that event does nothing
        else, so the native hot path may take the interrupt itself at the event's cycle (hp_source); None
        when there is no such event. The default: never (every event runs in Python)."""
        return None

    def native_irq_fired(self) -> None:
        """The hot path took the interrupt of :meth:`native_irq_event` at that event's cycle: do what the
        event would have done (the exception is already active)."""
        raise NotImplementedError(f"{self.TYPE} has no native interrupt event")

    def describe(self) -> dict[str, Any]:
        """Register values for reports and debugging."""
        return {"name": self.name, "type": self.TYPE, "base": self.base, "registers": dict(self.values)}
