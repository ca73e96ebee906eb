"""Counts do not depend on the symbol table or the section headers (issue 11, item 2).

Each firmware runs three times: as built, with its symbol table hidden (no function symbols,
no $t/$d mapping symbols) and with no section headers at all (segments only). Exit status,
instructions and cycles must be equal. Not in the list: `stackoverflow`, whose stop depends on
the `__StackLimit` symbol by design (README: Stack).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from simcore.api import run
from tests.conftest import elf

CASES = [("stm32f407vg", "kws_demo"), ("cortex-m4", "fpu"), ("cortex-m4", "calib_flash"),
         ("cortex-m4", "scheduler"), ("cortex-m4", "nested"), ("cortex-m4", "faults"),
         ("nrf52840", "systick"), ("mps2-an386", "spin_tick")]


def hide_symbols(src: Path, dst: Path) -> Path:
    """Rename .symtab in the section-name table and make its section SHT_NULL, so that no reader finds the
    symbols, by name or by type (ELF gABI section header: sh_type at offset 4)."""
    data = bytearray(src.read_bytes())
    i = data.index(b"\0.symtab\0")
    data[i + 1 : i + 8] = b".nosymt"
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    for k in range(shnum):
        if struct.unpack_from("<I", data, shoff + k * shentsize + 4)[0] == 2:  # SHT_SYMTAB
            struct.pack_into("<I", data, shoff + k * shentsize + 4, 0)  # SHT_NULL
    dst.write_bytes(bytes(data))
    return dst


def drop_section_headers(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    struct.pack_into("<I", data, 0x20, 0)  # e_shoff
    struct.pack_into("<HH", data, 0x30, 0, 0)  # e_shnum, e_shstrndx
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.slow
@pytest.mark.parametrize(("board", "app"), CASES)
def test_counts_without_symbols_or_sections(tmp_path: Path, board: str, app: str) -> None:
    src = elf(board, app)
    for d in ("nosym", "nosh"):
        (tmp_path / d).mkdir()
    # same file name: the firmware's command line (semihosting GET_CMDLINE) starts with it
    variants = [src, hide_symbols(src, tmp_path / "nosym" / src.name),
                drop_section_headers(src, tmp_path / "nosh" / src.name)]
    results = [run(p, board) for p in variants]
    assert results[0].layout.stack_top is not None  # found through __StackTop ...
    assert results[1].layout.stack_top is None and results[2].layout.stack_top is None  # ... and really gone
    figures = [(r.exit_status, r.instructions, r.cycles) for r in results]
    assert figures[0] == figures[1] == figures[2], figures
