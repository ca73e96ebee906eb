"""ELF loader: loadable segments by physical address, symbols, ARM mapping symbols, sections.

Everything the machine and the reports need from a firmware file, read once with
pyelftools and checked so that bad input becomes one clear paragraph (BadInputError).
"""

from __future__ import annotations

import bisect
import os
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from simcore.errors import BadInputError

EM_ARM = 40
STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE = 1, 2, 3, 4  # ELF symbol types (st_info & 0xf)
ET_NAMES = {0: "ET_NONE", 1: "ET_REL", 2: "ET_EXEC", 3: "ET_DYN", 4: "ET_CORE"}
PF_X, PF_W, PF_R = 1, 2, 4
# The largest ELF file read (debug information included); firmware images are far smaller.
MAX_ELF_BYTES = 256 * 1024 * 1024
ADDRESS_SPACE = 1 << 32
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


class Symbol(NamedTuple):
    """A symbol of the ELF's symbol table (a tuple: a C++ image has 16,000 and they are made at load)."""

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
    sections_from_segments: bool = False  # no section headers: one pseudo-section per segment part
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


def _read_bounded(path: Path) -> bytes:
    """The file's bytes; special files (FIFOs, devices, directories) are refused before reading."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise _fail(path, "is a directory, not an ELF file")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device" if
                stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a socket" if
                stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise _fail(path, f"is {kind}; simcore reads firmware from regular ELF files only")
    if st.st_size > MAX_ELF_BYTES:
        raise _fail(path, f"{st.st_size:,} bytes: larger than the {MAX_ELF_BYTES >> 20} MiB simcore reads "
                    "as a firmware ELF")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_ELF_BYTES + 1)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror})") from None
    if len(raw) > MAX_ELF_BYTES:  # grew while being read
        raise _fail(path, f"larger than the {MAX_ELF_BYTES >> 20} MiB simcore reads as a firmware ELF")
    return raw


def load_elf(path: str | Path) -> Firmware:
    """Read and check a firmware ELF; raise BadInputError with one clear paragraph if unusable."""
    path = Path(path)
    raw = _read_bounded(path)
    if raw[:4] != b"\x7fELF":
        what = "an empty file" if not raw else f"starts with {raw[:4]!r}"
        raise _fail(path, f"not an ELF file ({what}). simcore runs ELF executables built for a Cortex-M4.")
    if len(raw) < 52:
        raise _fail(path, f"truncated ELF: only {len(raw)} bytes, shorter than an ELF header")
    if raw[4] not in (1, 2):
        raise _fail(path, f"corrupt ELF: class byte (EI_CLASS) {raw[4]}, neither 1 (32-bit) nor 2 (64-bit)")
    if raw[5] not in (1, 2):
        raise _fail(path, f"corrupt ELF: data encoding byte (EI_DATA) {raw[5]}, neither 1 (little-endian) "
                    "nor 2 (big-endian)")
    if raw[4] == 2:
        machine = int.from_bytes(raw[18:20], "little" if raw[5] == 1 else "big")
        name = _MACHINES.get(machine, f"machine {machine}")
        raise _fail(path, f"a 64-bit ELF for {name}; simcore needs a 32-bit ARM (Cortex-M4, Thumb) ELF")
    if raw[5] != 1:
        raise _fail(path, "a big-endian ELF; Cortex-M4 firmware for simcore must be little-endian ARM")
    machine = int.from_bytes(raw[18:20], "little")
    if machine != EM_ARM:
        name = _MACHINES.get(machine, f"machine {machine}")
        raise _fail(path, f"an ELF for {name}, not for ARM; simcore runs Cortex-M4 (ARM Thumb) firmware")
    etype = int.from_bytes(raw[16:18], "little")
    if etype != 2:
        what = {1: "a relocatable object file (ET_REL, e.g. a .o): link it into an executable first",
                3: "a shared object or position-independent executable (ET_DYN); simcore runs firmware "
                   "linked at fixed addresses",
                4: "a core dump (ET_CORE), not a program"}.get(etype, f"of ELF type {etype}, not an executable")
        raise _fail(path, f"{what}. simcore runs ELF executables (ET_EXEC) built for a Cortex-M4.")
    phnum = int.from_bytes(raw[44:46], "little")
    if phnum and int.from_bytes(raw[42:44], "little") != 32:
        raise _fail(path, f"corrupt ELF: program header entries of {int.from_bytes(raw[42:44], 'little')} "
                    "bytes (ELF32 has 32)")
    try:
        return _parse(path, raw)
    except BadInputError:
        raise
    except (struct.error, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise _fail(path, f"truncated or corrupt ELF ({type(exc).__name__}: {exc})") from None


# ELF32 little-endian structures (System V gABI, "ELF Header", "Program Header", "Sections", "Symbol Table")
_EHDR = struct.Struct("<16sHHIIIIIHHHHHH")  # e_ident .. e_shstrndx
_PHDR = struct.Struct("<8I")  # p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
_SHDR = struct.Struct("<10I")  # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, ...
PT_LOAD = 1
SHT_SYMTAB, SHT_NOBITS = 2, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
SHN_XINDEX = 0xFFFF
DWARF_SECTIONS = (".debug_info", ".zdebug_info", ".eh_frame")  # what pyelftools' has_dwarf_info() looks for


def _c_string(table: bytes, offset: int) -> str:
    end = table.find(b"\0", offset)
    return table[offset : end if end >= 0 else len(table)].decode("utf-8", "replace")


def _parse(path: Path, raw: bytes) -> Firmware:
    """The image, sections and symbols of a checked ELF32 little-endian ARM executable, read with struct
    (pyelftools cost 25 ms to import and 0.1 s to read a C++ image's 39,000 symbols)."""
    (_ident, _type, _machine, _version, entry, phoff, shoff, _flags, _ehsize, _phentsize, phnum, shentsize,
     shnum, shstrndx) = _EHDR.unpack_from(raw)
    segments: list[Segment] = []
    if phnum and phoff + 32 * phnum > len(raw):
        raise _fail(path, f"truncated ELF: the program headers end at file offset {phoff + 32 * phnum}, "
                    f"beyond the file's {len(raw)} bytes")
    for n in range(phnum):
        ptype, off, vaddr, paddr, filesz, memsz, flags, _align = _PHDR.unpack_from(raw, phoff + 32 * n)
        if ptype != PT_LOAD or memsz == 0 and filesz == 0:
            continue
        what = f"loadable segment {n} (paddr {paddr:#010x}, vaddr {vaddr:#010x})"
        if off + filesz > len(raw):
            raise _fail(path, f"truncated ELF: {what} ends at file offset {off + filesz}, "
                        f"beyond the file's {len(raw)} bytes")
        if filesz > memsz:
            raise _fail(path, f"corrupt ELF: {what} has more bytes in the file ({filesz}) than in memory "
                        f"({memsz}); p_filesz must not exceed p_memsz")
        for addr, size, kind in ((paddr, filesz, "load"), (vaddr, memsz, "run")):
            if addr + size > ADDRESS_SPACE:
                raise _fail(path, f"corrupt ELF: {what} of {size:,} bytes wraps past the end of the 4 GiB "
                            f"address space ({kind} address {addr:#010x})")
        segments.append(Segment(paddr, vaddr, raw[off : off + filesz], memsz, flags))
    if not any(s.data for s in segments):
        raise _fail(path, "the ELF has no loadable segments with contents (nothing to put in flash): "
                    "is it an object file or a stripped placeholder?")
    headers = _section_headers(path, raw, shoff, shentsize, shnum, shstrndx)
    sections: list[Section] = []
    for name, stype, flags, vma, _off, size, _link in headers:
        if not flags & SHF_ALLOC or size == 0:
            continue
        lma = vma
        for seg in segments:
            if seg.vaddr <= vma < seg.vaddr + max(seg.memsz, 1):
                lma = vma - seg.vaddr + seg.paddr
                break
        sections.append(Section(name=name, vma=vma, lma=lma, size=size,
                                kind="nobits" if stype == SHT_NOBITS else "progbits",
                                executable=bool(flags & SHF_EXECINSTR), writable=bool(flags & SHF_WRITE)))
    symbols: list[Symbol] = []
    mapping: list[tuple[int, str]] = []
    symtab = next((h for h in headers if h[1] == SHT_SYMTAB), None)
    if symtab is not None:
        data = _section_bytes(path, raw, symtab[0] or "(symbol table)", symtab[4], symtab[5])
        link = symtab[6]
        if link >= len(headers):
            raise _fail(path, f"corrupt ELF: the symbol table names string table section {link}, but the ELF "
                        f"has {len(headers)} sections")
        strtab = _section_bytes(path, raw, headers[link][0] or "(symbol names)", headers[link][4], headers[link][5])
        symbols, mapping = _symbols(data, strtab)
    from_segments = not sections
    if from_segments:  # no section headers (stripped with them): the segments stand in for the sections
        sections = _segment_sections(segments)
    names = {h[0] for h in headers}
    return Firmware(
        path=path,
        entry=entry,
        segments=segments,
        sections=sections,
        symbols=symbols,
        mapping=mapping,
        has_dwarf=any(n in names for n in DWARF_SECTIONS),
        sections_from_segments=from_segments,
    )


_Header = tuple[str, int, int, int, int, int, int]  # name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link


def _section_headers(path: Path, raw: bytes, shoff: int, shentsize: int, shnum: int,
                     shstrndx: int) -> list[_Header]:
    """Every section header with its name (none when the ELF has no section header table)."""
    if shoff == 0:
        return []
    if shentsize < _SHDR.size:
        raise _fail(path, f"corrupt ELF: section header entries of {shentsize} bytes (ELF32 has {_SHDR.size})")

    def header(n: int) -> tuple[int, ...]:
        at = shoff + n * shentsize
        if at + _SHDR.size > len(raw):
            raise _fail(path, f"truncated ELF: section header {n} ends at file offset {at + _SHDR.size}, "
                        f"beyond the file's {len(raw)} bytes")
        return _SHDR.unpack_from(raw, at)

    if shnum == 0 or shstrndx == SHN_XINDEX:  # extended numbering (gABI): the counts are in section 0
        first = header(0)
        shnum = shnum or first[5]
        shstrndx = first[6] if shstrndx == SHN_XINDEX else shstrndx
    rows = [header(n) for n in range(shnum)]
    names = b""
    if 0 < shstrndx < len(rows):
        names = _section_bytes(path, raw, "of section names", rows[shstrndx][4], rows[shstrndx][5])
    elif shstrndx:
        raise _fail(path, f"corrupt ELF: section names in section {shstrndx}, but the ELF has {len(rows)} sections")
    return [(_c_string(names, r[0]) if r[0] < len(names) else "", r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def _section_bytes(path: Path, raw: bytes, name: str, off: int, size: int) -> bytes:
    if off + size > len(raw):
        raise _fail(path, f"truncated ELF: section {name} ends at file offset {off + size}, "
                    f"beyond the file's {len(raw)} bytes")
    return raw[off : off + size]


def _symbols(data: bytes, strtab: bytes) -> tuple[list[Symbol], list[tuple[int, str]]]:
    """Symbols (Thumb bit cleared for functions) and sorted ARM mapping symbols ($t, $d, $a: AAELF 4.5.5)."""
    symbols: list[Symbol] = []
    mapping: list[tuple[int, str]] = []
    ascii_names = strtab.isascii()  # one decode for all names (else each name decoded on its own)
    text = strtab.decode("ascii") if ascii_names else ""
    for name_off, value, size, info, _other, _shndx in struct.iter_unpack("<IIIBBH", data[: len(data) // 16 * 16]):
        if ascii_names:
            end = text.find("\0", name_off)
            name = text[name_off : end if end >= 0 else len(text)]
        else:
            name = _c_string(strtab, name_off)
        if not name:
            continue
        if name[0] == "$" and len(name) >= 2 and name[1] in "tda" and (len(name) == 2 or name[2] == "."):
            mapping.append((value, name[1]))
            continue
        stype = info & 0xF
        if stype == STT_FUNC:
            symbols.append(Symbol(name, value & ~1, size, "func"))
        elif stype not in (STT_SECTION, STT_FILE):
            symbols.append(Symbol(name, value, size, "object" if stype == STT_OBJECT else "other"))
    mapping.sort()
    return symbols, mapping


def check_overlaps(path: Path, segments: list[Segment], resolve: Callable[[int], int] = int) -> None:
    """Two segments may not claim the same bytes, in the image (LMA) or where they run (VMA).

    ``resolve`` maps an address onto the memory it aliases (the board's alias windows).
    """
    spans = []
    for n, seg in enumerate(segments):
        if seg.data:
            b = resolve(seg.paddr)
            spans.append((b, b + len(seg.data), n, "loaded"))
        b = resolve(seg.vaddr)
        spans.append((b, b + seg.memsz, n, "run"))
    spans.sort()
    for i, (b0, e0, n0, k0) in enumerate(spans):
        for b1, e1, n1, k1 in spans[i + 1 :]:
            if b1 >= e0:
                break
            if n1 != n0:
                raise _fail(path, f"corrupt ELF: loadable segments overlap: segment {n0} is {k0} at "
                            f"{b0:#010x}-{e0:#010x} and segment {n1} is {k1} at {b1:#010x}-{e1:#010x}")


def _segment_sections(segments: list[Segment]) -> list[Section]:
    """Pseudo-sections for an ELF without section headers: each segment's file part and zero-filled rest."""
    out: list[Section] = []
    for n, seg in enumerate(segments):
        flags = "".join(c if seg.flags & bit else "-" for c, bit in (("r", PF_R), ("w", PF_W), ("x", PF_X)))
        name = f"segment{n}({flags})"
        if seg.data:
            out.append(Section(name, seg.vaddr, seg.paddr, len(seg.data), "progbits",
                               executable=bool(seg.flags & PF_X), writable=bool(seg.flags & PF_W)))
        if seg.memsz > len(seg.data):
            out.append(Section(f"{name}.zero", seg.vaddr + len(seg.data), seg.vaddr + len(seg.data),
                               seg.memsz - len(seg.data), "nobits",
                               executable=bool(seg.flags & PF_X), writable=bool(seg.flags & PF_W)))
    return out
