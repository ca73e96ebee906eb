"""ELF loader: loadable segments by physical address, symbols, ARM mapping symbols, sections.

Everything the machine and the reports need from a firmware file, read once with
pyelftools and checked so that bad input becomes one clear paragraph (BadInputError).
"""

from __future__ import annotations

import bisect
import hashlib
import marshal
import os
import stat
import struct
import sys
import tempfile
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate, compress, repeat
from operator import add, and_, itemgetter
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


class SymbolTable:
    """The kept symbols as columns, in file order: names, addresses (Thumb bit cleared for functions), sizes
    and kinds as one character each ("f" func, "o" object, "x" other). (A plain class: a NamedTuple's
    class costs more to create at import than the whole table of a small image costs to read.)"""

    __slots__ = ("names", "addrs", "sizes", "kinds", "funcs")

    def __init__(self, names: list[str], addrs: list[int], sizes: list[int], kinds: str,
                 funcs: list[int] | None = None) -> None:
        self.names, self.addrs, self.sizes, self.kinds = names, addrs, sizes, kinds
        # indices of the functions sorted by address (stable: of two at one address the first in the file)
        self.funcs = funcs if funcs is not None else sorted(compress(range(len(kinds)), map("f".__eq__, kinds)),
                                                            key=addrs.__getitem__)


_KIND_NAMES = {"f": "func", "o": "object", "x": "other"}


@dataclass
class Firmware:
    """A loaded ELF image.

    Its symbols are kept as columns in file order (names, addresses, sizes, kinds: what the loader reads
    with whole-table operations) and made :class:`Symbol` tuples when asked for: a start-up looks up a few
    names and the functions' extents, and a C++ image has 16,000 symbols.
    """

    path: Path
    entry: int
    segments: list[Segment]
    sections: list[Section]
    symbol_table: SymbolTable
    symtab_bytes: tuple[bytes, bytes] = field(repr=False)  # the symbol table and its string table, as read
    has_dwarf: bool
    sections_from_segments: bool = False  # no section headers: one pseudo-section per segment part
    sha256: bytes = b""  # of the file's bytes as read: the key of what the cache directory keeps for this image
    _symbols: list[Symbol] | None = field(default=None, repr=False)
    _mapping: list[tuple[int, str]] | None = field(default=None, repr=False)
    _funcs: list[int] = field(default_factory=list, repr=False)  # indices of the functions, by address
    _func_starts: list[int] = field(default_factory=list, repr=False)
    _by_name: dict[str, int] = field(default_factory=dict, repr=False)  # name -> index of its first symbol

    def __post_init__(self) -> None:
        t = self.symbol_table
        self._funcs = t.funcs
        self._func_starts = list(map(t.addrs.__getitem__, self._funcs))
        n = len(t.names)  # the first symbol of a name wins: the reversed pairs let it be written last
        self._by_name = dict(zip(reversed(t.names), range(n - 1, -1, -1)))

    def _symbol(self, i: int) -> Symbol:
        t = self.symbol_table
        return Symbol(t.names[i], t.addrs[i], t.sizes[i], _KIND_NAMES[t.kinds[i]])

    @property
    def symbols(self) -> list[Symbol]:
        """Every symbol but the mapping, section and file ones, in file order (made on first use)."""
        if self._symbols is None:
            t = self.symbol_table
            self._symbols = list(map(Symbol, t.names, t.addrs, t.sizes, map(_KIND_NAMES.__getitem__, t.kinds)))
        return self._symbols

    @property
    def mapping(self) -> list[tuple[int, str]]:
        """Sorted (address, "t" | "d" | "a") from the $t/$d/$a mapping symbols (read on first use)."""
        if self._mapping is None:
            self._mapping = _mapping_symbols(*self.symtab_bytes)
        return self._mapping

    def symbol(self, name: str) -> Symbol | None:
        i = self._by_name.get(name)
        return None if i is None else self._symbol(i)

    def function_extents(self) -> tuple[list[int], list[int]]:
        """Start addresses (sorted) and sizes of the functions: what the native hot path bisects."""
        return self._func_starts, list(map(self.symbol_table.sizes.__getitem__, self._funcs))

    def function_at(self, addr: int) -> Symbol | None:
        """The function containing ``addr`` (by symbol size; the nearest preceding if size is 0)."""
        addr &= ~1
        i = bisect.bisect_right(self._func_starts, addr) - 1
        if i < 0:
            return None
        sym = self._symbol(self._funcs[i])
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
    digest = hashlib.sha256(raw).digest()
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
    symbols = SymbolTable([], [], [], "")
    symtab_bytes = (b"", b"")
    symtab = next((h for h in headers if h[1] == SHT_SYMTAB), None)
    if symtab is not None:
        data = _section_bytes(path, raw, symtab[0] or "(symbol table)", symtab[4], symtab[5])
        link = symtab[6]
        if link >= len(headers):
            raise _fail(path, f"corrupt ELF: the symbol table names string table section {link}, but the ELF "
                        f"has {len(headers)} sections")
        strtab = _section_bytes(path, raw, headers[link][0] or "(symbol names)", headers[link][4], headers[link][5])
        symbols, symtab_bytes = _cached_symbols(digest, data, strtab), (data, strtab)
    from_segments = not sections
    if from_segments:  # no section headers (stripped with them): the segments stand in for the sections
        sections = _segment_sections(segments)
    names = {h[0] for h in headers}
    return Firmware(
        path=path,
        entry=entry,
        segments=segments,
        sections=sections,
        symbol_table=symbols,
        symtab_bytes=symtab_bytes,
        has_dwarf=any(n in names for n in DWARF_SECTIONS),
        sections_from_segments=from_segments,
        sha256=digest,
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


# st_info's type (its low nibble: STT_NOTYPE 0, OBJECT 1, FUNC 2, SECTION 3, FILE 4, others) -> the kind kept
# ("f" func, "o" object, "x" other) or "s" for the section and file symbols that are dropped; as translate tables
_TYPE_KIND = b"xofssxxxxxxxxxxx" * 16
_TYPE_DROPPED = b"\0\0\0\1\1\0\0\0\0\0\0\0\0\0\0\0" * 16  # 1: a section or file symbol
_NOT = b"\1\0" + bytes(254)  # 0 -> 1, 1 -> 0
_THUMB_MASK = {ord("f"): 0xFFFFFFFE, ord("o"): 0xFFFFFFFF, ord("x"): 0xFFFFFFFF}  # by kind code
# a name's first three characters -> the mapping symbol it is ($t, $d, $a, alone or with a "." suffix)
_MAPPING = {f"${c}{tail}": c for c in "tda" for tail in ("", ".")}
_DROPPED_NAMES = frozenset([*_MAPPING, ""])  # ... and the empty name: neither is a symbol kept
_FIRST3 = itemgetter(slice(0, 3))


def _names(strtab: bytes, offsets: list[int]) -> tuple[list[str], list[bool]]:
    """Each symbol's name and whether the name makes it dropped (a mapping symbol, no name).

    ASCII tables (the usual case) are split at their NULs once and each offset looked up among the
    strings' starts; names that start inside another string (a linker's suffix sharing) are read alone.
    """
    if not strtab.isascii():
        names = [_c_string(strtab, off) for off in offsets]
        return names, list(map(_DROPPED_NAMES.__contains__, map(_FIRST3, names)))
    text = strtab.decode("ascii")
    parts = text.split("\0")
    starts = [0, *accumulate(map(add, map(len, parts), repeat(1)))]
    names = list(map(dict(zip(starts, parts)).get, offsets))
    dropped_at = set(compress(starts, map(_DROPPED_NAMES.__contains__, map(_FIRST3, parts))))
    dropped = list(map(dropped_at.__contains__, offsets))
    i = -1
    for _ in range(names.count(None)):
        i = names.index(None, i + 1)
        end = text.find("\0", offsets[i])
        name = names[i] = text[offsets[i] : end if end >= 0 else len(text)]
        dropped[i] = name[:3] in _DROPPED_NAMES
    return names, dropped  # type: ignore[return-value]  # no None left


def _entries(data: bytes) -> tuple[array[int], bytes]:
    """The symbol table's words (st_name, st_value, st_size, then st_info/st_other/st_shndx per entry) and
    each entry's st_info."""
    n = len(data) // 16
    words = array("I", data[: n * 16])
    if sys.byteorder == "big":
        words.byteswap()
    return words, data[12 : n * 16 : 16]


def _symbols(data: bytes, strtab: bytes) -> SymbolTable:
    """Symbols (Thumb bit cleared for functions) without the mapping, section and file symbols.

    Whole-column operations (array slices, ``map`` over C functions, ``compress``), no Python statement per
    symbol: a C++ image's 39,000 entries took 25 ms in a loop over ``struct.iter_unpack``.
    """
    words, info = _entries(data)
    n = len(info)
    names, dropped = _names(strtab, words[0::4].tolist())
    # kept: neither its name nor its type drops it (the two 0/1 columns OR-ed as integers)
    either = int.from_bytes(bytes(dropped), "little") | int.from_bytes(info.translate(_TYPE_DROPPED), "little")
    keep = either.to_bytes(n, "little").translate(_NOT)
    kinds = bytes(compress(info.translate(_TYPE_KIND), keep))
    addrs = list(map(and_, compress(words[1::4], keep), map(_THUMB_MASK.__getitem__, kinds)))
    return SymbolTable(list(compress(names, keep)), addrs, list(compress(words[2::4], keep)), kinds.decode("ascii"))


SYMBOL_CACHE_MIN = 4096  # symbol table entries from which the parsed table is kept in the cache directory
_SYMBOL_MAGIC = b"SCSYMS1\n"
_CRC = struct.Struct("<I")


def _symbol_cache_path(digest: bytes) -> Path | None:
    """Where the parsed symbols of the image with SHA-256 ``digest`` are kept (None: SIMCORE_NO_CACHE=1)."""
    if os.environ.get("SIMCORE_NO_CACHE") == "1":
        return None
    from simcore.paths import cache_dir

    try:
        return cache_dir("elf") / f"{digest.hex()[:40]}.symbols"
    except OSError:  # no usable cache directory: parsed every time
        return None


def _read_symbol_cache(path: Path) -> SymbolTable | None:
    """The table a file holds if its magic, CRC-32 and shape check (else None: it is parsed again)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_SYMBOL_MAGIC) + _CRC.size
    if data[: len(_SYMBOL_MAGIC)] != _SYMBOL_MAGIC or len(data) < head \
            or _CRC.unpack_from(data, len(_SYMBOL_MAGIC))[0] != zlib.crc32(memoryview(data)[head:]):
        return None
    try:
        names, addrs, sizes, kinds, funcs = marshal.loads(memoryview(data)[head:])
    except (EOFError, ValueError, TypeError):
        return None
    n = len(kinds) if isinstance(kinds, str) else -1
    if not all(isinstance(c, list) and len(c) == n for c in (names, addrs, sizes)) or not isinstance(funcs, list):
        return None
    return SymbolTable(names, addrs, sizes, kinds, funcs)


def _cached_symbols(digest: bytes, data: bytes, strtab: bytes) -> SymbolTable:
    """:func:`_symbols` of a large table from the cache directory when an earlier load of the same image
    (by content) left it there, else parsed and left there.

    A C++ image's 39,000 entries: ``load_elf`` was 196 M instructions (valgrind) parsing them, sorting the
    functions and making the lists on the way, 74 M reading the file instead (names, addresses, sizes,
    kinds and function order in marshal's format, 0.4 MB; 40 M of the 74 are the SHA-256 of the image,
    which the block cache needs anyway). Written under a unique temporary name and renamed (atomic on
    POSIX, as the block cache's files); a file whose magic, CRC-32 or shape does not check is ignored.
    Small tables are parsed: reading a file costs more than they do.
    """
    path = _symbol_cache_path(digest) if len(data) >= 16 * SYMBOL_CACHE_MIN else None
    if path is not None:
        table = _read_symbol_cache(path)
        if table is not None:
            return table
    table = _symbols(data, strtab)
    if path is not None:
        payload = marshal.dumps((table.names, table.addrs, table.sizes, table.kinds, table.funcs))
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(_SYMBOL_MAGIC + _CRC.pack(zlib.crc32(payload)) + payload)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full cache directory: the next load parses again
    return table


def _mapping_symbols(data: bytes, strtab: bytes) -> list[tuple[int, str]]:
    """The ARM mapping symbols ($t, $d, $a: AAELF 4.5.5) as sorted (address, "t" | "d" | "a")."""
    words, _info = _entries(data)
    names, _dropped = _names(strtab, words[0::4].tolist())
    marks = list(map(_MAPPING.get, map(_FIRST3, names)))
    return sorted(zip(compress(words[1::4], marks), compress(marks, marks)))


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
