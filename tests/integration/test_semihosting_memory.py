"""Semihosting against the real memory map of a board: strings at the end of RAM, flash is
read-only to SYS_READ, pointers into peripherals or unmapped space are EFAULT (issue 10, 11)."""

from __future__ import annotations

import pytest

from simcore.api import prepare
from simcore.semihosting import SYS
from tests.conftest import elf

MINUS1 = 0xFFFFFFFF


@pytest.fixture
def machine():
    return prepare(elf("stm32f407vg", "hello"), "stm32f407vg")


@pytest.mark.parametrize("room", [1, 2, 10, 63, 64, 65])
def test_write0_within_64_bytes_of_the_end_of_ram(machine, room: int) -> None:
    """The old reader fetched 64-byte chunks past the terminator: an internal error near the end."""
    sram = next(m for m in machine.board.memories if m.name == "sram")
    text = b"x" * (room - 1)
    machine.mem_write(sram.end - room, text + b"\0")
    assert machine.semihosting.call(SYS["WRITE0"], sram.end - room) == 0
    assert bytes(machine.console).endswith(text)


def test_write0_running_off_the_end_of_ram_is_efault(machine) -> None:
    sram = next(m for m in machine.board.memories if m.name == "sram")
    machine.mem_write(sram.end - 8, b"no nul!!")
    assert machine.semihosting.call(SYS["WRITE0"], sram.end - 8) == MINUS1
    assert machine.semihosting.call(SYS["ERRNO"], 0) == 14


@pytest.mark.parametrize("addr", [0x08000000, 0x00000100, 0x40004400, 0x60000000, 0xE000E000])
def test_read_into_flash_peripherals_or_unmapped_is_refused(machine, addr: int) -> None:
    sram = next(m for m in machine.board.memories if m.name == "sram")
    machine.semihosting.stdin = b"data"
    block = sram.base + 0x100
    machine.mem_write(block, (0).to_bytes(4, "little") + addr.to_bytes(4, "little") + (4).to_bytes(4, "little"))
    before = machine.mem_read(0x08000000, 16)
    assert machine.semihosting.call(SYS["READ"], block) == 4  # nothing read
    assert machine.semihosting.call(SYS["ERRNO"], 0) == 14
    assert machine.mem_read(0x08000000, 16) == before


def test_heapinfo_into_flash_is_refused(machine) -> None:
    sram = next(m for m in machine.board.memories if m.name == "sram")
    machine.mem_write(sram.base + 0x100, (0x08000000).to_bytes(4, "little"))
    before = machine.mem_read(0x08000000, 16)
    assert machine.semihosting.call(SYS["HEAPINFO"], sram.base + 0x100) == MINUS1
    assert machine.mem_read(0x08000000, 16) == before


@pytest.mark.parametrize(("value", "status"), [("256", 1), ("512", 1), ("-1", 255), ("3", 3), ("0", 0)])
def test_exit_value_outside_a_byte_never_reads_as_success(value: str, status: int) -> None:
    from tests.conftest import run_cli

    res = run_cli("run", elf("cortex-m4", "hostile"), "-q", "--", "exit", value)
    assert res.status == status, res.err
    assert f"firmware exited with code {value}" in res.err
