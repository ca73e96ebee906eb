"""The generic SVD-backed peripheral: a part's registers as its SVD table gives them, without behaviour.

A register that no behavioural model implements reads its reset value and keeps what is
written, as far as the SVD's access types allow: read-only fields keep their value, write-only
fields read 0, fields marked write-one-to-clear/-set clear/set. On the nRF52, ``XSET`` and
``XCLR`` registers are write-one-to-set/-clear views of one value (``INTENSET``/``INTENCLR``
of ``INTEN``, ``OUTSET``/``OUTCLR`` of ``OUT``; nRF52840 PS v1.7, "Peripheral interface").
Every such register is reported as not implemented by simcore (``RCC.PLLCFGR``, with the fields
writes changed) at its first access; the register file (simcore/regfile.py) serves the rest.

:func:`plain_registers` lists them for a set of SVD peripherals; :func:`dsl_register` turns an
SVD register into a register of the DSL (simcore/registers.py) for a behavioural model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from simcore.peripherals.svd import SvdField, SvdPeripheral, SvdRegister
from simcore.registers import Access, Field, Register

_INDEX = re.compile(r"\[(\d+)\]")


def dsl_name(svd_name: str) -> str:
    """The DSL (and Python method) name of an SVD register: ``PSEL.TXD`` -> ``PSEL_TXD``,
    ``CH[3].EEP`` -> ``CH3_EEP``, ``PIN_CNF[7]`` -> ``PIN_CNF7``."""
    if "[" in svd_name:  # (most names have no index: no regex call, 681 per nRF52840 start-up)
        svd_name = _INDEX.sub(r"\1", svd_name)
    return svd_name.replace(".", "_")


@dataclass(frozen=True)
class PlainRegister:
    """One register served by the register file: where, its SVD description and its masks."""

    peripheral: str  # SVD peripheral name ("RCC")
    svd: SvdRegister
    addr: int
    write_mask: int
    w1c_mask: int
    w1s_mask: int
    read_mask: int
    view_of: str = ""  # the register whose value this one shares (nRF52 XSET/XCLR), "" for its own

    @property
    def name(self) -> str:
        return f"{self.peripheral}.{self.svd.name}"

    def fields(self, bits: int) -> list[str]:
        """Names of the fields ``bits`` touches, or the bits themselves where no field covers them."""
        names = self.svd.fields_in(bits)
        rest = bits & ~sum(f.mask for f in self.svd.fields)
        if rest:
            names.append(f"bits {rest:#x}")
        return names


def _w1s_mask(reg: SvdRegister) -> int:
    return sum(f.mask for f in reg.fields if f.write == "w1s") & reg.mask


# plain_registers' answers by peripherals (ids, kept alive with the answer) and the words ``taken`` among theirs:
# a part's table lives as long as the process (svd.load_table), so a second machine of the part (a benchmark's
# repeat, a test suite's next ELF) gets a peripheral's registers without working out their masks again
_PLAIN: dict[tuple[tuple[int, ...], frozenset[int]], tuple[tuple[SvdPeripheral, ...], tuple[PlainRegister, ...]]] = {}


def plain_registers(peripherals: Iterable[SvdPeripheral],
                    taken: Callable[[int], bool] = lambda addr: False) -> list[PlainRegister]:
    """The registers of ``peripherals`` (in order: the first to claim a word keeps it) on words not ``taken``.

    Peripherals sharing an address (nRF52 instances sharing an ID, such as UART0 and UARTE0)
    give the union of their registers; alternate registers (SVD ``alternateRegister``) are
    views of the same word, so the first declared names it.
    """
    group = tuple(peripherals)
    words = frozenset(a for p in group for r in p.registers if taken(a := p.base + r.offset))
    key = (tuple(id(p) for p in group), words)
    hit = _PLAIN.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], group, strict=True)):
        return list(hit[1])
    out = _plain_registers(group, words.__contains__)
    if len(_PLAIN) >= 512:  # peripherals that are not a part table's (made per machine): keep it bounded
        _PLAIN.clear()
    _PLAIN[key] = (group, tuple(out))
    return out


def _plain_registers(peripherals: tuple[SvdPeripheral, ...], taken: Callable[[int], bool]) -> list[PlainRegister]:
    """:func:`plain_registers`, worked out."""
    out: list[PlainRegister] = []
    claimed: set[int] = set()
    for p in peripherals:
        names = {r.name for r in p.registers}
        for reg in p.registers:
            addr = p.base + reg.offset
            if addr in claimed or taken(addr) or reg.size != 32 or addr % 4:
                continue
            claimed.add(addr)
            write, w1c, w1s = reg.write_mask, reg.w1c_mask, _w1s_mask(reg)
            view = ""
            stem = reg.name[:-3]
            if reg.name.endswith(("SET", "CLR")) and {stem + "SET", stem + "CLR"} <= names:
                view = stem if stem in names else stem + "SET"
                if reg.name.endswith("SET"):
                    w1s, write = w1s | write, 0
                else:
                    w1c, write = w1c | write, 0
                if view == reg.name:
                    view = ""
            out.append(PlainRegister(p.name, reg, addr, write, w1c, w1s, reg.read_mask, view))
    return out


def _gaps(reg: SvdRegister) -> Iterable[tuple[int, int]]:
    """(lsb, width) of each run of bits that no field covers."""
    covered = sum(f.mask for f in reg.fields)
    bit = 0
    while bit < reg.size:
        if covered >> bit & 1:
            bit += 1
            continue
        start = bit
        while bit < reg.size and not covered >> bit & 1:
            bit += 1
        yield start, bit - start


def _field_access(f: SvdField) -> Access:
    if f.read == "clear":
        return Access.RC
    if f.write == "w1c":
        return Access.W1C
    if f.write == "w1s":
        return Access.W1S
    if f.access == "r":
        return Access.RO
    if f.access in ("w", "w1"):
        return Access.W
    return Access.RW


def dsl_register(reg: SvdRegister, offset: int | None = None, on_write: Mapping[str, str] | None = None,
                 unimplemented: Iterable[str] = ()) -> Register:
    """The DSL register for an SVD register: its name (``dsl_name``), offset, reset value and fields.

    Read-only fields keep their value and a write to them is not reported (drivers write back what
    they read, and zeros); bits no field covers are reserved (they keep their reset value, quietly
    too). A register that is read-only as a whole stays ``r``: a write to it is a firmware error.
    ``on_write`` maps field names to the model's callbacks; ``unimplemented`` names fields simcore
    stores but does not act on (a write setting one is reported).
    """
    on_write = dict(on_write or {})
    skip = set(unimplemented)
    fields: list[Field] = []
    for f in reg.fields:
        fields.append(Field(f.name, f.lsb, f.width, _field_access(f), implemented=f.name not in skip,
                            on_write=on_write.pop(f.name, None)))
    if reg.fields:
        for lsb, width in _gaps(reg):
            fields.append(Field(f"_reserved{lsb}", lsb, width, Access.RO))
    if on_write:
        raise TypeError(f"register {reg.name} has no field {', '.join(sorted(on_write))}; its fields are "
                        f"{', '.join(f.name for f in reg.fields) or 'none'}")
    access = {"r": Access.R, "w": Access.W}.get(reg.access, Access.RW)
    return Register(dsl_name(reg.name), reg.offset if offset is None else offset, reg.size, access, reg.reset,
                    fields=tuple(fields), doc=reg.name)
