"""ELF loader: loadable segments by physical address, symbols, ARM mapping symbols, sections.

Everything the machine and the reports need from a firmware file, read once with
pyelftools and checked so that bad input becomes one clear paragraph (BadInputError).
"""

from __future__ import annotations

import bisect
import io
import os
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

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
    except (ELFError, ValueError, KeyError, IndexError, OSError, AssertionError) as exc:
        raise _fail(path, f"truncated or corrupt ELF ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - pyelftools raises assorted errors on corrupt input
        raise _fail(path, f"truncated or corrupt ELF ({type(exc).__name__}: {exc})") from None


def _parse(path: Path, raw: bytes) -> Firmware:
    elf = ELFFile(io.BytesIO(raw))
    segments: list[Segment] = []
    for n, seg in enumerate(elf.iter_segments()):
        if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0 and seg["p_filesz"] == 0:
            continue
        off, filesz, memsz = seg["p_offset"], seg["p_filesz"], seg["p_memsz"]
        what = f"loadable segment {n} (paddr {seg['p_paddr']:#010x}, vaddr {seg['p_vaddr']:#010x})"
        if off + filesz > len(raw):
            raise _fail(path, f"truncated ELF: {what} ends at file offset {off + filesz}, "
                        f"beyond the file's {len(raw)} bytes")
        if filesz > memsz:
            raise _fail(path, f"corrupt ELF: {what} has more bytes in the file ({filesz}) than in memory "
                        f"({memsz}); p_filesz must not exceed p_memsz")
        for addr, size, kind in ((seg["p_paddr"], filesz, "load"), (seg["p_vaddr"], memsz, "run")):
            if addr + size > ADDRESS_SPACE:
                raise _fail(path, f"corrupt ELF: {what} of {size:,} bytes wraps past the end of the 4 GiB "
                            f"address space ({kind} address {addr:#010x})")
        segments.append(Segment(seg["p_paddr"], seg["p_vaddr"], raw[off : off + filesz], memsz,
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
        # Elf32_Sym read with struct: pyelftools' per-symbol parsing costs ~170 us a symbol (0.12 s for
        # kws_demo's 733, seconds for a C++ image with thousands)
        strtab = elf.get_section(symtab["sh_link"]).data()
        data = symtab.data()
        for name_off, value, size, info, _other, _shndx in struct.iter_unpack("<IIIBBH", data[: len(data) // 16 * 16]):
            end = strtab.find(b"\0", name_off)
            name = strtab[name_off : end if end >= 0 else len(strtab)].decode("utf-8", "replace")
            stype = info & 0xF
            if name.startswith("$") and len(name) >= 2 and name[1] in "tda" and (len(name) == 2 or name[2] == "."):
                mapping.append((value, name[1]))
                continue
            if not name or stype in (STT_SECTION, STT_FILE):
                continue
            kind = "func" if stype == STT_FUNC else "object" if stype == STT_OBJECT else "other"
            addr = value & ~1 if kind == "func" else value
            symbols.append(Symbol(name, addr, size, kind))
    mapping.sort()
    from_segments = not sections
    if from_segments:  # no section headers (stripped with them): the segments stand in for the sections
        sections = _segment_sections(segments)
    return Firmware(
        path=path,
        entry=elf.header["e_entry"],
        segments=segments,
        sections=sections,
        symbols=symbols,
        mapping=mapping,
        has_dwarf=elf.has_dwarf_info(),
        sections_from_segments=from_segments,
    )


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
