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


@pytest.mark.parametrize("name", ["hello", "bench_cpp"])
def test_lookups_agree_with_the_symbol_list(name: str) -> None:
    """symbol(), function_at() and function_extents() (kept as columns, made on demand) give what a plain walk
    of the symbol list gives: the first symbol of a name, functions by address (ties in file order)."""
    fw = load_elf(elf("cortex-m4", name))
    first: dict[str, tuple[object, ...]] = {}
    for s in fw.symbols:
        first.setdefault(s.name, tuple(s))
    assert {n: tuple(fw.symbol(n)) for n in first} == first  # type: ignore[arg-type]
    assert fw.symbol("no such symbol") is None
    funcs = sorted((s for s in fw.symbols if s.kind == "func"), key=lambda s: s.addr)
    assert fw.function_extents() == ([s.addr for s in funcs], [s.size for s in funcs])
    for s in funcs[:: max(1, len(funcs) // 500)]:
        at = fw.function_at(s.addr + 1)  # a Thumb address inside it
        assert at is not None and at.addr == s.addr and (at.size == 0 or s.addr < at.addr + at.size)
    assert fw.function_at(funcs[0].addr - 2) is None or funcs[0].addr - 2 < 0


def test_suffix_shared_and_mapping_names(tmp_path: Path) -> None:
    """A symbol whose name starts inside another string of the table (a linker's suffix sharing) reads that
    string's tail; one whose name is a mapping symbol's ($t) is a mapping symbol, not a symbol."""
    raw = bytearray(HELLO.read_bytes())
    fw = load_elf(HELLO)
    shoff, shentsize, shnum = struct.unpack_from("<I", raw, 0x20)[0], *struct.unpack_from("<HH", raw, 0x2E)
    heads = [struct.unpack_from("<10I", raw, shoff + i * shentsize) for i in range(shnum)]
    symtab = next(h for h in heads if h[1] == 2)
    strtab = heads[symtab[6]]
    names = bytes(raw[strtab[4] : strtab[4] + strtab[5]])
    main_at, t_at = names.index(b"\0main\0") + 1, names.index(b"\0$t\0") + 1
    entries = {struct.unpack_from("<I", raw, at)[0]: at for at in range(symtab[4], symtab[4] + symtab[5], 16)}
    struct.pack_into("<I", raw, entries[main_at], main_at + 1)  # main's name read from "ain"
    other = fw.symbol("_exit") or next(s for s in fw.symbols if s.name != "main" and s.kind == "func")
    at = entries[names.index(other.name.encode() + b"\0")]
    struct.pack_into("<I", raw, at, t_at)
    value = struct.unpack_from("<I", raw, at + 4)[0]
    p = tmp_path / "shared.elf"
    p.write_bytes(bytes(raw))
    bent = load_elf(p)
    assert bent.symbol("main") is None and bent.symbol("ain") == fw.symbol("main")._replace(name="ain")
    assert bent.symbol(other.name) is None and len(bent.symbols) == len(fw.symbols) - 1
    assert bent.mapping == sorted([*fw.mapping, (value, "t")])


def _columns(fw: Firmware) -> tuple[object, ...]:
    t = fw.symbol_table
    return t.names, t.addrs, t.sizes, t.kinds, t.funcs


def test_large_symbol_tables_kept_in_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large image's parsed symbols are kept in the cache directory by content and read back the same; a
    damaged file is parsed again and rewritten; small images and SIMCORE_NO_CACHE=1 leave no file."""
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path))
    big = elf("cortex-m4", "bench_cpp")
    fresh = load_elf(big)
    (kept,) = (tmp_path / "elf").glob("*.symbols")
    assert kept.name.startswith(fresh.sha256.hex()[:40])
    again = load_elf(big)
    assert _columns(again) == _columns(fresh) and again.symbols == fresh.symbols
    assert again.symbol_table.names is not fresh.symbol_table.names  # read back, not the same process' lists
    monkeypatch.setattr("simcore.elf._symbols", lambda *_: pytest.fail("parsed although the cache holds it"))
    assert _columns(load_elf(big)) == _columns(fresh)
    monkeypatch.undo()
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path))
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0x55
    kept.write_bytes(bytes(data))
    assert _columns(load_elf(big)) == _columns(fresh)  # the CRC failed: parsed again ...
    assert kept.read_bytes() != bytes(data)  # ... and written again
    load_elf(HELLO)
    assert len(list((tmp_path / "elf").glob("*.symbols"))) == 1  # hello's 300 symbols are parsed each time
    monkeypatch.setenv("SIMCORE_NO_CACHE", "1")
    kept.unlink()
    assert _columns(load_elf(big)) == _columns(fresh) and not kept.exists()
