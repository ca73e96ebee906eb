"""A small register-table class for the System Control Space blocks (ARMv7-M B3.2, C1).

SCS registers differ from ordinary peripheral registers in two ways that matter here:
many are byte-accessible with per-byte meaning (NVIC_IPR, SHPR, CFSR) and many are
write-one-to-set or write-one-to-clear (ISER/ICER, CFSR). So a write handler receives the
written value *and* the mask of bits the access covered, never a merged word.

A block declares its registers once (:class:`Reg`, datasheet mnemonic, offset from the
block's ``BASE``, reset value, implemented bits) and implements ``read_<NAME>(index)`` /
``write_<NAME>(index, value, mask)`` only for registers with behaviour; plain registers
store what is written. ``count`` declares register arrays (ISER0..ISER15) 4 bytes apart.
Accesses to bits or offsets that nothing models are reported once each through the host.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class Reg:
    """One register (or an array of ``count`` registers 4 bytes apart)."""

    name: str
    offset: int
    access: str = "rw"  # "rw" | "r" | "w"
    reset: int = 0
    implemented: int = 0xFFFFFFFF  # bits the model gives meaning to (writes elsewhere are reported)
    count: int = 1
    doc: str = ""


class ReportHost(Protocol):
    def report_unmodelled(self, where: str, detail: str) -> None: ...


class RegisterBlock:
    """Table-driven register access for one SCS/PPB block."""

    NAME: ClassVar[str] = ""
    BASE: ClassVar[int] = 0
    REGS: ClassVar[tuple[Reg, ...]] = ()

    def __init__(self, host: ReportHost) -> None:
        self.host = host
        self._by_addr: dict[int, tuple[Reg, int]] = {}
        for reg in self.REGS:
            for i in range(reg.count):
                word = self.BASE + reg.offset + 4 * i
                for b in range(4):
                    other = self._by_addr.get(word + b)
                    if other is not None:
                        raise ValueError(f"{type(self).__name__}: {reg.name} overlaps {other[0].name}")
                    self._by_addr[word + b] = (reg, i)
        self.values: dict[tuple[str, int], int] = {}
        self.reset()

    def reset(self) -> None:
        """Reset values of the stored registers (blocks with state of their own extend this)."""
        self.values = {(r.name, i): r.reset for r in self.REGS for i in range(r.count)}

    def addresses(self) -> Iterator[int]:
        """Every byte address this block decodes (the system block builds its dispatch map from them)."""
        return iter(self._by_addr)

    def reg_name(self, reg: Reg, index: int) -> str:
        return f"{self.NAME}.{reg.name}{index if reg.count > 1 else ''}"

    # --- bus access -------------------------------------------------------------------
    def read(self, addr: int, size: int) -> int:
        found = self._by_addr.get(addr)
        if found is None:
            self.host.report_unmodelled(f"{addr:#010x}", f"read of {size} bytes in {self.NAME} (not modelled)")
            return 0
        reg, i = found
        shift = (addr - (self.BASE + reg.offset + 4 * i)) * 8
        if reg.access == "w":
            return 0
        handler = getattr(self, f"read_{reg.name}", None)
        value = handler(i) if handler is not None else self.values[(reg.name, i)]
        return (value >> shift) & ((1 << (8 * size)) - 1)

    def write(self, addr: int, size: int, value: int) -> None:
        found = self._by_addr.get(addr)
        if found is None:
            self.host.report_unmodelled(f"{addr:#010x}", f"write of {value:#x} in {self.NAME} (not modelled)")
            return
        reg, i = found
        shift = (addr - (self.BASE + reg.offset + 4 * i)) * 8
        if reg.access == "r":
            self.host.report_unmodelled(self.reg_name(reg, i), "write to a read-only register (ignored)")
            return
        mask = (((1 << (8 * size)) - 1) << shift) & 0xFFFFFFFF
        value = (value << shift) & mask
        stray = value & ~reg.implemented
        if stray:
            self.host.report_unmodelled(self.reg_name(reg, i), f"bits {stray:#x} written but not modelled")
        handler = getattr(self, f"write_{reg.name}", None)
        if handler is not None:
            handler(i, value, mask)
        else:
            key = (reg.name, i)
            self.values[key] = (self.values[key] & ~mask) | value

    # --- helpers ------------------------------------------------------------------------
    def get(self, name: str, index: int = 0) -> int:
        return self.values[(name, index)]

    def set(self, name: str, value: int, index: int = 0) -> None:
        self.values[(name, index)] = value & 0xFFFFFFFF

    def merge(self, name: str, index: int, value: int, mask: int) -> int:
        """Store the written bits of a plain register and return the new value."""
        new = (self.values[(name, index)] & ~mask) | (value & mask)
        self.values[(name, index)] = new
        return new

    def describe(self) -> dict[str, Any]:
        """Stored register values (no read side effects such as clearing COUNTFLAG)."""
        return {f"{self.NAME}.{name}{i if i else ''}": value for (name, i), value in self.values.items()}
