"""A part's register map from its vendor SVD file, as converted by ``tools/svd2table.py``.

``load_table("stm32f407vg")`` reads ``simcore/data/svd/stm32f407vg.json`` (the format is in
docs/svd-tables.md) into frozen dataclasses: every peripheral with its base, size, interrupts
and registers, every register with offset, width, access, reset value and fields. Tables are
facts from the vendor file (named with its version and SHA-256 in ``source``), with the
reset values that the reference manual corrects listed in ``errata``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from simcore.errors import BadInputError

TABLE_DIR = Path(__file__).resolve().parent.parent / "data" / "svd"
FORMAT = "simcore-svd-table 1"
READABLE = frozenset({"rw", "r", "rw1"})
WRITABLE = frozenset({"rw", "w", "w1", "rw1"})


@dataclass(frozen=True)
class SvdField:
    """One bit field: name, lowest bit, width, access, write side effect (``w1c``...), read action."""

    name: str
    lsb: int
    width: int
    access: str
    write: str = ""  # "" plain, "w1c" write one to clear, "w1s", "w1t", "w0c", "w0s", "wc", "ws"
    read: str = ""  # "" or the SVD readAction ("clear", "set", "modify", "modifyExternal")

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class SvdRegister:
    """One register at ``offset`` bytes into its peripheral, ``size`` bits wide."""

    name: str
    offset: int
    size: int
    access: str
    reset: int
    fields: tuple[SvdField, ...] = ()
    alternate: str = ""  # alternateRegister: another view of the same storage

    @property
    def mask(self) -> int:
        return (1 << self.size) - 1

    def _bits(self, pred: Any) -> int:
        if not self.fields:
            return self.mask if pred(self.access, "") else 0
        out = 0
        for f in self.fields:
            if pred(f.access, f.write):
                out |= f.mask
        return out & self.mask

    @property
    def write_mask(self) -> int:
        """Bits a plain write stores (writable fields without a write side effect)."""
        return self._bits(lambda a, w: a in WRITABLE and w == "")

    @property
    def w1c_mask(self) -> int:
        """Bits a written 1 clears (``modifiedWriteValues`` oneToClear)."""
        return self._bits(lambda a, w: w == "w1c")

    @property
    def read_mask(self) -> int:
        """Bits that read back what they hold (write-only fields read as 0)."""
        if not self.fields:
            return self.mask if self.access in READABLE else 0
        uncovered = self.mask & ~self._bits(lambda a, w: True) if self.access in READABLE else 0
        return self._bits(lambda a, w: a in READABLE) | uncovered

    def fields_in(self, bits: int) -> list[str]:
        """Names of the fields that ``bits`` touches (for reports: which fields a write changed)."""
        return [f.name for f in self.fields if f.mask & bits]


class _Layouts:
    """The table's register layouts, each parsed and turned into SvdRegisters on first use.

    A part has 1,000-3,500 registers: parsing and building them all took 10-150 ms, so a run
    reads only the layouts of the peripherals it touches (``simcore run hello``: its console's).
    The converter writes one layout header (``    "NAME": [``) and one register per line
    (tools/svd2table.py), which is what lets a layout be found without parsing the others.
    """

    def __init__(self, text: str, spans: dict[str, tuple[int, int]] | None = None,
                 rows: dict[str, list[list[Any]]] | None = None) -> None:
        self._text = text
        self._spans = spans or {}  # layout -> [start, end) of its JSON array in text
        self._rows = rows or {}  # layouts already parsed (the whole file, when it was parsed at once)
        self._built: dict[str, tuple[SvdRegister, ...]] = {}

    def names(self) -> set[str]:
        return set(self._spans) | set(self._rows)

    def rows(self, name: str) -> list[list[Any]]:
        rows = self._rows.get(name)
        if rows is None:
            start, end = self._spans[name]
            rows = self._rows[name] = json.loads(self._text[start:end])
        return rows

    def get(self, name: str) -> tuple[SvdRegister, ...]:
        regs = self._built.get(name)
        if regs is None:
            regs = self._built[name] = tuple(_register(r) for r in self.rows(name))
        return regs


_LAYOUTS_LINE = '\n  "layouts": {\n'


def _split(text: str) -> tuple[dict[str, Any], _Layouts] | None:
    """Parse the header and peripherals of a table, and only locate its layouts (None: not the
    converter's line format, parse it whole)."""
    cut = text.find(_LAYOUTS_LINE)
    if cut < 0:
        return None
    try:
        data = json.loads(text[:cut] + '\n  "layouts": {}\n}')
    except ValueError:
        return None
    spans: dict[str, tuple[int, int]] = {}
    pos = cut + len(_LAYOUTS_LINE)
    while True:
        if not text.startswith('    "', pos):
            break
        colon = text.find('": [\n', pos)
        close = text.find("\n    ]", colon)
        if colon < 0 or close < 0:
            return None
        spans[json.loads(text[pos + 4:colon + 1])] = (colon + 3, close + 6)
        pos = text.find("\n", close + 6) + 1
    return data, _Layouts(text, spans)


@dataclass(frozen=True)
class SvdPeripheral:
    name: str
    base: int
    size: int
    group: str
    layout: str
    interrupts: tuple[tuple[str, int], ...] = ()
    description: str = ""
    _layouts: _Layouts | None = field(default=None, repr=False, compare=False)

    @cached_property
    def registers(self) -> tuple[SvdRegister, ...]:
        """Every register, in the SVD's order (built when first asked for)."""
        return self._layouts.get(self.layout) if self._layouts is not None else ()

    @property
    def end(self) -> int:
        return self.base + self.size

    def register(self, name: str) -> SvdRegister:
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(f"{self.name} has no register {name}")

    def at(self, offset: int) -> SvdRegister | None:
        """The register holding byte ``offset`` (the first declared of alternates sharing it)."""
        for reg in self.registers:
            if reg.offset <= offset < reg.offset + reg.size // 8:
                return reg
        return None


@dataclass(frozen=True)
class RegisterTable:
    """All peripherals of one part, by name and by address."""

    part: str
    source: dict[str, Any]
    errata: tuple[dict[str, Any], ...]
    peripherals: tuple[SvdPeripheral, ...]
    cpu: dict[str, Any]

    def peripheral(self, name: str) -> SvdPeripheral:
        for p in self.peripherals:
            if p.name == name:
                return p
        raise KeyError(f"{self.part} has no peripheral {name}")

    def at(self, addr: int) -> list[SvdPeripheral]:
        """Peripherals whose window holds ``addr`` (several on nRF52, where instances share an ID)."""
        return [p for p in self.peripherals if p.base <= addr < p.end]

    def register(self, dotted: str) -> tuple[SvdPeripheral, SvdRegister]:
        """``"RCC.CR"`` -> (RCC, CR); cluster registers keep their dots (``"UARTE0.PSEL.TXD"``)."""
        periph, _, reg = dotted.partition(".")
        p = self.peripheral(periph)
        return p, p.register(reg)

    def describe(self) -> str:
        s = self.source
        return f"{s['file']} ({s['device']} version {s['version']}, sha256 {s['sha256'][:12]}...)"


def available_tables() -> list[str]:
    return sorted(p.stem for p in TABLE_DIR.glob("*.json"))


def _register(row: list[Any]) -> SvdRegister:
    name, offset, size, access, reset, fields = row[:6]
    return SvdRegister(name, offset, size, access, reset,
                       tuple(SvdField(*f) for f in fields), row[6] if len(row) > 6 else "")


@cache
def load_table(part: str) -> RegisterTable:
    """The register table of ``part`` (cached: boards of the same part share it)."""
    path = TABLE_DIR / f"{part}.json"
    if not path.is_file():
        raise BadInputError(f"no register table named {part!r}; the tables are: {', '.join(available_tables())} "
                            "(made by tools/svd2table.py from the vendors' SVD files)")
    text = path.read_text()
    split = _split(text)
    if split is not None:
        data, layouts = split
    else:
        data = json.loads(text)
        layouts = _Layouts(text, rows=data.get("layouts", {}))
    if data.get("format") != FORMAT:
        raise BadInputError(f"{path}: not a {FORMAT} file (format {data.get('format')!r})")
    missing = {p["layout"] for p in data["peripherals"]} - layouts.names()
    if missing:
        raise BadInputError(f"{path}: peripherals name layouts the table lacks: {', '.join(sorted(missing))}")
    periphs = tuple(
        SvdPeripheral(p["name"], p["base"], p["size"], p["group"], p["layout"],
                      tuple((n, v) for n, v in p["interrupts"]), p.get("description", ""), layouts)
        for p in data["peripherals"])
    return RegisterTable(data["part"], data["source"], tuple(data["errata"]), periphs, data.get("cpu", {}))
