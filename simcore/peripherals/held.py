"""A model register whose reads the register file answers from a value the model keeps there.

For a register whose read has no side effect and whose value changes only at the model's own events and at the
firmware's accesses to the model (a status register between byte or frame events, a frame counter): the model
hands it to the register file (``PeripheralBus.serve_in_c``, a FIT entry; writes stay the model's) at its first
read through Python, and puts the value there whenever it changes (:meth:`HeldRead.put`). A read is then served
in C (or by the Python twin of the register file) without calling the model: a driver's wait loop on it, even one
with its own timeout counter that no polling fast-forward can skip, costs no Python per read. A model whose read
does have a side effect in some states gives the reads back for those states (``put(value, in_c=False)``).
"""

from __future__ import annotations

from typing import Any

from simcore.regfile import PY_READ, PY_WRITE


class HeldRead:
    """The register at ``offset`` of ``model`` while the register file holds its value (see the module)."""

    def __init__(self, model: Any, offset: int) -> None:
        self.model = model
        self.offset = offset
        self.entry: int | None = None  # the register file's entry while it serves the register
        self.store = 0  # that entry's value index
        self.py = True  # the reads are the model's now
        self.value: int | None = None  # the value last put in the register file

    def start(self, value: int, in_c: bool = True) -> None:
        """Hand the reads to the register file (at a read through the model, where its entry exists), with the
        value now; nothing without a register file to take them (a unit test's fake host)."""
        rf = self._serve((0, 0, 0, 0xFFFFFFFF))
        if rf is None:
            return
        rf.set_flags(self.entry, rf.flags(self.entry) | PY_WRITE | PY_READ)  # writes are the model's; reads until put()
        self.py = True
        self.put(value, in_c)

    def _serve(self, masks: tuple[int, int, int, int]) -> Any:
        """Make the register a FIT entry with ``masks`` (``serve_in_c``); its register file, or None when there is
        none to take it or it is served already."""
        bus = getattr(self.model.host, "bus", None)
        if self.entry is not None or not hasattr(bus, "serve_in_c"):
            return None
        got = bus.serve_in_c(self.model.base + self.offset, True, masks)
        if got is None:
            return None
        self.entry, self.store = got
        return bus.rf

    def put(self, value: int, in_c: bool = True) -> None:
        """The register's value now; ``in_c`` False: its reads go to the model until a later ``put`` (a state in
        which a read has a side effect)."""
        if self.entry is None:
            return
        if in_c and value == self.value and not self.py:
            return
        rf = self.model.host.bus.rf
        if in_c and value != self.value:
            rf.set_value(self.store, value)
            self.value = value
        if in_c == self.py:
            self.py = not in_c
            flags = rf.flags(self.entry)
            rf.set_flags(self.entry, flags | PY_READ if self.py else flags & ~PY_READ)


class HeldValue:
    """A model's register value (the attribute this is assigned to) whose every assignment is also put in the register
    file by the model's HeldRead in attribute ``held`` (``HeldRead.put``), its reads given back to the model while the
    value has one of ``py_bits`` set (a read's side effect in that state: the STM32F4 I2C's SR1 with ADDR). Only
    ``__set__`` is defined, so a read finds the value in the model's ``__dict__`` without a call (a property's getter
    is a Python call per read; the shared setter costs more than a property's own: docs/performance.md)."""

    def __init__(self, held: str, py_bits: int = 0) -> None:
        self.held = held
        self.py_bits = py_bits
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __set__(self, model: Any, value: int) -> None:
        d = model.__dict__
        d[self.name] = value
        d[self.held].put(value, not value & self.py_bits)


class HeldStorage(HeldRead):
    """A storage register of the model (no write callback: what is written is read back, and the model uses it
    when it next acts, such as a DMA address) the register file holds from the model's first write on: reads
    and whole-word writes are served there, the model takes the value with :meth:`now`. A write the register
    file does not take (a byte or halfword) still reaches the model, which then puts the merged value back."""

    def start(self, value: int, in_c: bool = True) -> None:
        rf = self._serve((0xFFFFFFFF, 0, 0, 0xFFFFFFFF))  # reads and whole-word writes in C
        if rf is not None:
            self.py = False
            rf.set_value(self.store, value)

    def put(self, value: int, in_c: bool = True) -> None:
        if self.entry is not None:
            self.model.host.bus.rf.set_value(self.store, value)

    def now(self, fallback: int) -> int:
        """The value now: the register file's while it holds the register, else ``fallback`` (the model's)."""
        return fallback if self.entry is None else int(self.model.host.bus.rf.value(self.store))
