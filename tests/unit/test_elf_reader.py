"""simcore's ELF reader (struct over the gABI's ELF32 structures) reads what pyelftools reads, on every
committed ELF: segments, allocated sections, symbols, mapping symbols, entry point and DWARF presence;
and a cut or bent section header table is refused with one paragraph (simcore.elf)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from simcore.elf import Firmware, load_elf
from simcore.errors import BadInputError
from tests.conftest import FIRMWARE, elf

ELFS = sorted(FIRMWARE.glob("*/*.elf"))


def _reference(path: Path) -> dict[str, object]:
    """What the loader must find, read with pyelftools (the reader simcore used before its own)."""
    e = ELFFile(io.BytesIO(path.read_bytes()))
    segs = [(s["p_paddr"], s["p_vaddr"], s.data(), s["p_memsz"], s["p_flags"]) for s in e.iter_segments()
            if s["p_type"] == "PT_LOAD" and (s["p_memsz"] or s["p_filesz"])]
    secs = [(s.name, s["sh_addr"], s["sh_size"], s["sh_type"] == "SHT_NOBITS",
             bool(s["sh_flags"] & SH_FLAGS.SHF_EXECINSTR), bool(s["sh_flags"] & SH_FLAGS.SHF_WRITE))
            for s in e.iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"]]
    symbols, mapping = [], []
    for sym in e.get_section_by_name(".symtab").iter_symbols():
        name, kind = sym.name, sym["st_info"]["type"]
        if name[:1] == "$" and len(name) >= 2 and name[1] in "tda" and (len(name) == 2 or name[2] == "."):
            mapping.append((sym["st_value"], name[1]))
        elif name and kind not in ("STT_SECTION", "STT_FILE"):
            k = {"STT_FUNC": "func", "STT_OBJECT": "object"}.get(kind, "other")
            symbols.append((name, sym["st_value"] & ~1 if k == "func" else sym["st_value"], sym["st_size"], k))
    return {"entry": e.header["e_entry"], "segments": segs, "sections": secs, "symbols": symbols,
            "mapping": sorted(mapping), "has_dwarf": e.has_dwarf_info()}


def _found(fw: Firmware) -> dict[str, object]:
    return {"entry": fw.entry, "segments": [(s.paddr, s.vaddr, s.data, s.memsz, s.flags) for s in fw.segments],
            "sections": [(s.name, s.vma, s.size, s.kind == "nobits", s.executable, s.writable) for s in fw.sections],
            "symbols": [tuple(s) for s in fw.symbols], "mapping": fw.mapping, "has_dwarf": fw.has_dwarf}


@pytest.mark.parametrize("path", ELFS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_reads_what_pyelftools_reads(path: Path) -> None:
    want = _reference(path)
    got = _found(load_elf(path))
    assert want["symbols"] and want["segments"]
    for key in want:
        assert got[key] == want[key], key


def test_corpus_has_the_large_images() -> None:
    names = {p.stem for p in ELFS}
    assert {"bench_cpp", "bench_runtime", "hello"} <= names and len(ELFS) > 50


HELLO = elf("cortex-m4", "hello")


def _header(field: str) -> tuple[int, str]:
    """File offset and struct format of an ELF32 header field (gABI "ELF Header")."""
    return {"shoff": (0x20, "<I"), "shentsize": (0x2E, "<H"), "shnum": (0x30, "<H"), "shstrndx": (0x32, "<H")}[field]


def _bent(tmp_path: Path, **fields: int) -> Path:
    data = bytearray(HELLO.read_bytes())
    for name, value in fields.items():
        off, fmt = _header(name)
        struct.pack_into(fmt, data, off, value)
    p = tmp_path / "bent.elf"
    p.write_bytes(bytes(data))
    return p


@pytest.mark.parametrize(("fields", "expect"), [
    ({"shoff": 0x7FFFFFF0}, "truncated ELF: section header 0"),
    ({"shentsize": 12}, "section header entries of 12 bytes"),
    ({"shstrndx": 999}, "section names in section 999"),
])
def test_bent_section_headers_refused(tmp_path: Path, fields: dict[str, int], expect: str) -> None:
    with pytest.raises(BadInputError, match=expect):
        load_elf(_bent(tmp_path, **fields))


def test_no_section_name_table_still_finds_the_symbols(tmp_path: Path) -> None:
    """Sections are found by type, not name: without the names the symbol table is still read."""
    fw = load_elf(_bent(tmp_path, shstrndx=0))
    assert fw.symbol("main") == load_elf(HELLO).symbol("main") is not None
    assert not fw.has_dwarf
