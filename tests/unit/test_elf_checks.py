"""The ELF loader checks what it loads: segments against the part's memories (fit, overlap, wrap,
p_filesz <= p_memsz) with or without section headers, the ELF type and class, the reset vector on
loaded code, and special or oversized files refused before reading (simcore.elf, simcore.layout)."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import pytest

from simcore.elf import MAX_ELF_BYTES, load_elf
from tests.conftest import elf, run_cli

HELLO = elf("cortex-m4", "hello")
PHOFF = 52  # hello.elf: two PT_LOAD entries of 32 bytes from offset 52 (readelf -l)


def _refused(*args: object, expect: str) -> str:
    res = run_cli("run", *args)
    assert res.status == 2, res.err
    assert "Traceback" not in res.err and res.err.startswith("simcore: error:")
    assert expect.lower() in res.err.lower().replace("\n", " "), res.err
    assert len([p for p in res.err.split("\n\n") if p.strip()]) == 1
    return res.err


def _edit(tmp_path: Path, name: str, *edits: tuple[int, str, int], src: Path = HELLO) -> Path:
    """Copy an ELF with struct fields replaced: (offset, format, value)."""
    data = bytearray(src.read_bytes())
    for off, fmt, value in edits:
        struct.pack_into(fmt, data, off, value)
    p = tmp_path / name
    p.write_bytes(bytes(data))
    return p


def _phdr(n: int, field: str) -> int:
    return PHOFF + 32 * n + {"type": 0, "offset": 4, "vaddr": 8, "paddr": 12, "filesz": 16, "memsz": 20}[field]


def _no_section_headers(tmp_path: Path, src: Path = HELLO, name: str = "nosh.elf") -> Path:
    return _edit(tmp_path, name, (0x20, "<I", 0), (0x30, "<H", 0), (0x32, "<H", 0), src=src)


def test_segment_filesz_above_memsz(tmp_path: Path) -> None:
    p = _edit(tmp_path, "f.elf", (_phdr(1, "filesz"), "<I", 0x80))  # memsz is 0x74
    _refused(p, expect="p_filesz must not exceed p_memsz")


def test_segment_wrapping_past_4_gib(tmp_path: Path) -> None:
    p = _edit(tmp_path, "w.elf", (_phdr(1, "vaddr"), "<I", 0xFFFFFFF0))
    _refused(p, expect="wraps past the end of the 4 GiB address space")


def test_overlapping_segments(tmp_path: Path) -> None:
    p = _edit(tmp_path, "o.elf", (_phdr(1, "paddr"), "<I", 0x1000))  # inside segment 0's image
    _refused(p, expect="loadable segments overlap")


def test_segments_overlapping_through_an_alias(tmp_path: Path) -> None:
    # stm32f407vg: flash at 0x08000000 is aliased at 0; segment 1's image moved onto segment 0's through it
    src = elf("stm32f407vg", "hello")
    p = _edit(tmp_path, "a.elf", (_phdr(1, "paddr"), "<I", 0x00000100), src=src)
    _refused(p, "--board", "stm32f407vg", expect="loadable segments overlap")


def test_no_section_headers_runs_with_the_same_counts(tmp_path: Path) -> None:
    p = _no_section_headers(tmp_path)
    fw = load_elf(p)
    assert fw.sections_from_segments and fw.sections
    a, b = run_cli("run", HELLO, "-q"), run_cli("run", p, "-q")
    assert a.status == b.status == 0
    pick = [ln for ln in a.err.splitlines() if ln.startswith(("instructions", "cycles"))]
    assert pick and pick == [ln for ln in b.err.splitlines() if ln.startswith(("instructions", "cycles"))]


def test_no_section_headers_size_reported_from_segments(tmp_path: Path) -> None:
    res = run_cli("size", _no_section_headers(tmp_path), "--json", "-")
    assert res.status == 0, res.err
    import json

    regions = {r["name"]: r["used"] for r in json.loads(res.out)["regions"]}
    assert regions["flash"] == 0x1D7C + 0x68  # both segments' file bytes (readelf -l)
    assert regions["ram"] == 0x74


def test_no_section_headers_too_big_is_refused(tmp_path: Path) -> None:
    board = tmp_path / "tiny.toml"
    board.write_text('extends = "cortex-m4"\nname = "tiny"\n[[memory]]\nname = "flash"\nsize = "4K"\n')
    err = _refused(_no_section_headers(tmp_path), "--board", board, expect="does not fit tiny")
    assert "segment0(r-x)" in err.replace("\n", " ")
    res = run_cli("size", _no_section_headers(tmp_path, name="b.elf"), "--board", board)
    assert res.status == 2 and "does not fit" in res.err.replace("\n", " ")


def test_no_section_headers_outside_every_memory(tmp_path: Path) -> None:
    p = _no_section_headers(tmp_path)
    p = _edit(tmp_path, "far.elf", (_phdr(1, "vaddr"), "<I", 0x30000000), src=p)
    _refused(p, expect="outside every memory")


def test_reset_vector_on_flash_the_image_never_loaded(tmp_path: Path) -> None:
    fw = load_elf(HELLO)
    off = HELLO.read_bytes().index(fw.segments[0].data[:16]) + 4
    p = _edit(tmp_path, "erased.elf", (off, "<I", 0x00080001))  # in the 1 MiB flash, past the image
    _refused(p, expect="not in code the image loads")


@pytest.mark.parametrize(("etype", "expect"), [(1, "relocatable object file (ET_REL"),
                                               (3, "(ET_DYN)"), (4, "core dump (ET_CORE)"), (0, "ELF type 0")])
def test_only_executables_run(tmp_path: Path, etype: int, expect: str) -> None:
    _refused(_edit(tmp_path, "t.elf", (16, "<H", etype)), expect=expect)


def test_invalid_class_byte_is_not_called_64_bit(tmp_path: Path) -> None:
    err = _refused(_edit(tmp_path, "c.elf", (4, "B", 3)), expect="class byte (EI_CLASS) 3")
    assert "a 64-bit ELF" not in err


def test_invalid_data_byte(tmp_path: Path) -> None:
    _refused(_edit(tmp_path, "d.elf", (5, "B", 0)), expect="EI_DATA")


def test_bad_program_header_entry_size(tmp_path: Path) -> None:
    _refused(_edit(tmp_path, "e.elf", (42, "<H", 40)), expect="program header entries of 40 bytes")


def test_named_pipe_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fw.elf"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    _refused(fifo, expect="named pipe (FIFO)")
    assert time.monotonic() - t0 < 10


def test_device_refused() -> None:
    _refused("/dev/zero", expect="is a device")


def test_directory_refused(tmp_path: Path) -> None:
    _refused(tmp_path, expect="is a directory")


def test_oversized_file_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.elf"
    with open(big, "wb") as f:
        f.write(HELLO.read_bytes()[:64])
        f.truncate(MAX_ELF_BYTES + 1)  # sparse: costs no disk
    _refused(big, expect="larger than the 256 MiB")
    res = run_cli("size", big)
    assert res.status == 2 and "256 MiB" in res.err
