"""ELF loader: loadable segments by physical address, symbols, ARM mapping symbols, sections.

Everything the machine and the reports need from a firmware file, read once with
pyelftools and checked so that bad input becomes one clear paragraph (BadInputError).
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from simcore.errors import BadInputError

EM_ARM = 40
_MACHINES = {3: "x86 (i386)", 62: "x86-64", 183: "AArch64", 243: "RISC-V", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64"}


@dataclass(frozen=True)
class Segment:
    """A PT_LOAD segment: bytes placed at ``paddr`` (LMA), run at ``vaddr`` (VMA)."""

    paddr: int
    vaddr: int
    data: bytes
    memsz: int
    flags: int


@dataclass(frozen=True)
class Section:
    """An allocated section with its run address (VMA) and load address (LMA)."""

    name: str
    vma: int
    lma: int
    size: int
    kind: str  # "progbits" (bytes in the image) | "nobits" (.bss-like)
    executable: bool
    writable: bool


@dataclass(frozen=True)
class Symbol:
    name: str
    addr: int  # Thumb bit cleared for functions
    size: int
    kind: str  # "func" | "object" | "other"


@dataclass
class Firmware:
    """A loaded ELF image."""

    path: Path
    entry: int
    segments: list[Segment]
    sections: list[Section]
    symbols: list[Symbol]
    mapping: list[tuple[int, str]]  # sorted (address, "t" | "d" | "a") from $t/$d/$a symbols
    has_dwarf: bool
    _func_starts: list[int] = field(default_factory=list, repr=False)
    _funcs: list[Symbol] = field(default_factory=list, repr=False)
    _by_name: dict[str, Symbol] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        funcs = sorted((s for s in self.symbols if s.kind == "func"), key=lambda s: s.addr)
        self._funcs = funcs
        self._func_starts = [s.addr for s in funcs]
        for sym in self.symbols:
            self._by_name.setdefault(sym.name, sym)

    def symbol(self, name: str) -> Symbol | None:
        return self._by_name.get(name)

    def function_at(self, addr: int) -> Symbol | None:
        """The function containing ``addr`` (by symbol size; the nearest preceding if size is 0)."""
        addr &= ~1
        i = bisect.bisect_right(self._func_starts, addr) - 1
        if i < 0:
            return None
        sym = self._funcs[i]
        if sym.size and addr >= sym.addr + sym.size:
            return None
        return sym

    def describe(self, addr: int) -> str:
        """``name+0x12`` for an address, or the bare hex address when no symbol covers it."""
        sym = self.function_at(addr)
        if sym is None:
            return f"{addr & ~1:#010x}"
        off = (addr & ~1) - sym.addr
        return f"{sym.name}+{off:#x}" if off else sym.name

    def read_loaded(self, addr: int, length: int) -> bytes | None:
        """Bytes that the image places at physical ``addr`` (None if not all loaded)."""
        for seg in self.segments:
            if seg.paddr <= addr and addr + length <= seg.paddr + len(seg.data):
                off = addr - seg.paddr
                return seg.data[off : off + length]
        return None

    def loadable_bytes(self) -> list[tuple[int, bytes]]:
        return [(s.paddr, s.data) for s in self.segments if s.data]


def _fail(path: Path, why: str) -> BadInputError:
    return BadInputError(f"{path}: {why}")


def load_elf(path: str | Path) -> Firmware:
    """Read and check a firmware ELF; raise BadInputError with one clear paragraph if unusable."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror})") from None
    if raw[:4] != b"\x7fELF":
        what = "an empty file" if not raw else f"starts with {raw[:4]!r}"
        raise _fail(path, f"not an ELF file ({what}). simcore runs ELF executables built for a Cortex-M4.")
    if len(raw) < 52:
        raise _fail(path, f"truncated ELF: only {len(raw)} bytes, shorter than an ELF header")
    if raw[4] != 1:
        machine = int.from_bytes(raw[18:20], "little" if raw[5] == 1 else "big")
        name = _MACHINES.get(machine, f"machine {machine}")
        raise _fail(path, f"a 64-bit ELF for {name}; simcore needs a 32-bit ARM (Cortex-M4, Thumb) ELF")
    if raw[5] != 1:
        raise _fail(path, "a big-endian ELF; Cortex-M4 firmware for simcore must be little-endian ARM")
    machine = int.from_bytes(raw[18:20], "little")
    if machine != EM_ARM:
        name = _MACHINES.get(machine, f"machine {machine}")
        raise _fail(path, f"an ELF for {name}, not for ARM; simcore runs Cortex-M4 (ARM Thumb) firmware")
    try:
        return _parse(path, raw)
    except BadInputError:
        raise
    except (ELFError, ValueError, KeyError, IndexError, OSError, AssertionError) as exc:
        raise _fail(path, f"truncated or corrupt ELF ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - pyelftools raises assorted errors on corrupt input
        raise _fail(path, f"truncated or corrupt ELF ({type(exc).__name__}: {exc})") from None


def _parse(path: Path, raw: bytes) -> Firmware:
    elf = ELFFile(io.BytesIO(raw))
    segments: list[Segment] = []
    for seg in elf.iter_segments():
        if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
            continue
        off, filesz = seg["p_offset"], seg["p_filesz"]
        if off + filesz > len(raw):
            raise _fail(path, f"truncated ELF: a loadable segment ends at file offset {off + filesz}, "
                        f"beyond the file's {len(raw)} bytes")
        segments.append(Segment(seg["p_paddr"], seg["p_vaddr"], raw[off : off + filesz], seg["p_memsz"],
                                seg["p_flags"]))
    if not any(s.data for s in segments):
        raise _fail(path, "the ELF has no loadable segments with contents (nothing to put in flash): "
                    "is it an object file or a stripped placeholder?")
    sections: list[Section] = []
    for sec in elf.iter_sections():
        flags = sec["sh_flags"]
        if not flags & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
            continue
        vma = sec["sh_addr"]
        lma = vma
        for seg in segments:
            if seg.vaddr <= vma < seg.vaddr + max(seg.memsz, 1):
                lma = vma - seg.vaddr + seg.paddr
                break
        sections.append(
            Section(
                name=sec.name,
                vma=vma,
                lma=lma,
                size=sec["sh_size"],
                kind="nobits" if sec["sh_type"] == "SHT_NOBITS" else "progbits",
                executable=bool(flags & SH_FLAGS.SHF_EXECINSTR),
                writable=bool(flags & SH_FLAGS.SHF_WRITE),
            )
        )
    symbols: list[Symbol] = []
    mapping: list[tuple[int, str]] = []
    symtab = elf.get_section_by_name(".symtab")
    if symtab is not None:
        for sym in symtab.iter_symbols():
            name = sym.name
            value = sym["st_value"]
            stype = sym["st_info"]["type"]
            if name.startswith("$") and len(name) >= 2 and name[1] in "tda" and (len(name) == 2 or name[2] == "."):
                mapping.append((value, name[1]))
                continue
            if not name or stype in ("STT_SECTION", "STT_FILE"):
                continue
            kind = "func" if stype == "STT_FUNC" else "object" if stype == "STT_OBJECT" else "other"
            addr = value & ~1 if kind == "func" else value
            symbols.append(Symbol(name, addr, sym["st_size"], kind))
    mapping.sort()
    return Firmware(
        path=path,
        entry=elf.header["e_entry"],
        segments=segments,
        sections=sections,
        symbols=symbols,
        mapping=mapping,
        has_dwarf=elf.has_dwarf_info(),
    )
