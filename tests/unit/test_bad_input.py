"""Every kind of bad input: one clear paragraph on stderr, exit status 2, no traceback, no files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from simcore.elf import load_elf
from tests.conftest import elf, run_cli

HELLO = elf("cortex-m4", "hello")


def _check_refused(tmp_path: Path, *args: object, expect: str) -> str:
    out = tmp_path / "report.json"
    res = run_cli("run", *args, "--json", out)
    assert res.status == 2, res.err
    assert "Traceback" not in res.err
    assert res.err.startswith("simcore: error:")
    assert expect.lower() in res.err.lower().replace("\n", " ")
    assert not out.exists()
    assert len([p for p in res.err.split("\n\n") if p.strip()]) == 1
    return res.err


def _patched(tmp_path: Path, name: str, edit) -> Path:
    data = bytearray(HELLO.read_bytes())
    edit(data)
    p = tmp_path / name
    p.write_bytes(bytes(data))
    return p


def test_not_an_elf(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello world\n")
    _check_refused(tmp_path, p, expect="not an ELF file")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.elf"
    p.write_bytes(b"")
    _check_refused(tmp_path, p, expect="not an ELF")


def test_missing_file(tmp_path: Path) -> None:
    _check_refused(tmp_path, tmp_path / "nope.elf", expect="no such file")


@pytest.mark.parametrize("cut", [40, 300, 2000])
def test_truncated_elf(tmp_path: Path, cut: int) -> None:
    p = tmp_path / "cut.elf"
    p.write_bytes(HELLO.read_bytes()[:cut])
    _check_refused(tmp_path, p, expect="truncated")


def test_x86_64_elf(tmp_path: Path) -> None:
    host_binary = Path("/bin/true") if Path("/bin/true").exists() else Path("/usr/bin/true")
    _check_refused(tmp_path, host_binary, expect="x86-64")


def _elf64_header(machine: int) -> bytes:
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x400000, 64, 0, 0, 64, 56, 0, 64, 0, 0)


def test_aarch64_elf(tmp_path: Path) -> None:
    p = tmp_path / "a64.elf"
    p.write_bytes(_elf64_header(183) + bytes(256))
    _check_refused(tmp_path, p, expect="AArch64")


def test_riscv_elf(tmp_path: Path) -> None:
    p = _patched(tmp_path, "rv.elf", lambda d: d.__setitem__(slice(18, 20), struct.pack("<H", 243)))
    _check_refused(tmp_path, p, expect="RISC-V")


def test_big_endian_arm(tmp_path: Path) -> None:
    p = _patched(tmp_path, "be.elf", lambda d: d.__setitem__(5, 2))
    _check_refused(tmp_path, p, expect="big-endian")


def test_no_loadable_segments(tmp_path: Path) -> None:
    def drop_phdrs(d: bytearray) -> None:
        d[44:46] = struct.pack("<H", 0)  # e_phnum = 0

    p = _patched(tmp_path, "nophdr.elf", drop_phdrs)
    _check_refused(tmp_path, p, expect="no loadable segments")


def _vector_file_offset() -> int:
    fw = load_elf(HELLO)
    raw = HELLO.read_bytes()
    seg0 = fw.segments[0]
    return raw.index(seg0.data[:16])


def test_initial_sp_not_in_ram(tmp_path: Path) -> None:
    off = _vector_file_offset()
    p = _patched(tmp_path, "badsp.elf", lambda d: d.__setitem__(slice(off, off + 4), struct.pack("<I", 0x30000000)))
    _check_refused(tmp_path, p, expect="initial stack pointer of 0x30000000")


def test_reset_vector_not_thumb(tmp_path: Path) -> None:
    off = _vector_file_offset() + 4

    def even(d: bytearray) -> None:
        (pc,) = struct.unpack_from("<I", d, off)
        d[off : off + 4] = struct.pack("<I", pc & ~1)

    p = _patched(tmp_path, "arm.elf", even)
    _check_refused(tmp_path, p, expect="Thumb")


def test_reset_vector_outside_flash(tmp_path: Path) -> None:
    off = _vector_file_offset() + 4
    p = _patched(tmp_path, "ram.elf", lambda d: d.__setitem__(slice(off, off + 4), struct.pack("<I", 0x20000101)))
    _check_refused(tmp_path, p, expect="not in code the image loads")


def _small_board(tmp_path: Path, flash: str = "1M", ram: str = "512K") -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(
        'extends = "cortex-m4"\nname = "tiny"\n'
        f'[[memory]]\nname = "flash"\nkind = "flash"\nbase = 0\nsize = "{flash}"\n'
        f'[[memory]]\nname = "ram"\nkind = "ram"\nbase = 0x20000000\nsize = "{ram}"\n'
    )
    return p


def test_image_larger_than_flash(tmp_path: Path) -> None:
    board = _small_board(tmp_path, flash="4K")
    err = _check_refused(tmp_path, HELLO, "--board", board, expect="does not fit tiny")
    assert ".text" in err and "beyond the end of flash" in err.replace("\n", " ")


def test_data_bss_larger_than_ram(tmp_path: Path) -> None:
    board = _small_board(tmp_path, ram="8K")
    err = _check_refused(tmp_path, elf("cortex-m4", "compute"), "--board", board, expect="does not fit tiny")
    assert ".bss" in err


def test_elf_for_another_memory_map(tmp_path: Path) -> None:
    _check_refused(tmp_path, elf("stm32f407vg", "hello"), "--board", "cortex-m4", expect="outside every memory")


def test_unknown_board_lists_known(tmp_path: Path) -> None:
    err = _check_refused(tmp_path, HELLO, "--board", "stm32f999", expect="unknown board 'stm32f999'")
    for known in ("stm32f407vg", "nrf52840", "cortex-m4"):
        assert known in err


def test_size_refuses_when_it_does_not_fit(tmp_path: Path) -> None:
    res = run_cli("size", HELLO, "--board", _small_board(tmp_path, flash="4K"))
    assert res.status == 2 and "does not fit" in res.err


def test_bad_board_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.toml"
    p.write_text("[[memory]\nname=")
    _check_refused(tmp_path, HELLO, "--board", p, expect="not valid TOML")


def test_board_with_unknown_peripheral_type(tmp_path: Path) -> None:
    p = tmp_path / "odd.toml"
    p.write_text('extends = "cortex-m4"\n[[peripheral]]\nname = "x"\ntype = "flux_capacitor"\nbase = 0x40010000\n')
    _check_refused(tmp_path, HELLO, "--board", p, expect="unknown peripheral type 'flux_capacitor'")
