"""The alias-aware memory map: one answer to "what is at this address" for boot, exceptions, diagnosis."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from elftools.elf.elffile import ELFFile

import simcore.api as sc
from simcore.board import load_board
from simcore.boot import plan_boot
from simcore.elf import load_elf
from simcore.layout import check_fit
from simcore.memmap import MemoryMap, RegionKind

ROOT = Path(__file__).resolve().parents[2]
MPS2_PERIPH = ROOT / "firmware" / "bin" / "mps2-an386" / "mps2_periph.elf"


def test_windows_aliases_and_queries_on_mps2() -> None:
    mm = load_board("mps2-an386").memory_map
    assert [w.name for w in mm.windows[:4]] == ["ssram1", "ssram23", "psram", "blockram"]  # bases first
    mirror = mm.region_for(0x20400010, 4)
    assert mirror is not None and mirror.alias and mirror.memory.name == "ssram23" and mirror.is_ram
    assert mirror.canonical(0x20400010) == 0x20000010 == mm.resolve(0x20400010)
    assert mm.is_ram(0x20400000, 0x20) and mm.is_ram(0x0100C000, 4)  # block RAM's third mirror
    assert not mm.is_ram(0x203FFFFC, 8)  # straddles the end of ssram23 and its mirror: two windows
    assert mm.resolve(0x21000000) == 0x21000000 and mm.memory_for(0x21000000).name == "psram"
    assert mm.stack_in_ram(0x20800000) and mm.stack_in_ram(0x22000000) and not mm.stack_in_ram(0x22000001)
    assert mm.region_for(0x40004000).kind is RegionKind.PERIPHERAL  # no device map given
    assert mm.region_for(0xE000ED00).kind is RegionKind.PPB and mm.region_for(0x30000000) is None


def test_stm32_flash_alias_at_zero_and_device_windows() -> None:
    board = load_board("stm32f407vg")
    mm = board.memory_map.with_devices([("usart2", 0x40004400, 0x400)])
    assert mm.memory_for(0x100, 4).kind == "flash" and mm.resolve(0x100) == 0x08000100
    assert board.memory_at(0x100, 4) is not None  # Board.memory_at derives from the map
    dev = mm.region_for(0x40004404, 4)
    assert dev is not None and dev.kind is RegionKind.DEVICE and dev.name == "usart2" and mm.device(0x40004800) is None
    assert MemoryMap.execute_never(0x40000000) and MemoryMap.execute_never(0xE000ED00)
    assert not MemoryMap.execute_never(0x08000000)


def _with_initial_sp(src: Path, dst: Path, sp: int) -> None:
    """Copy an ELF with the vector table's first word (the initial SP) replaced."""
    shutil.copy(src, dst)
    with open(src, "rb") as f:
        elf = ELFFile(f)
        seg = next(s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_paddr"] == 0)
        offset = seg["p_offset"]
    data = bytearray(dst.read_bytes())
    data[offset:offset + 4] = struct.pack("<I", sp)
    dst.write_bytes(bytes(data))


def test_a_stack_in_the_mps2_ssram_mirror_is_accepted_and_runs(tmp_path: Path) -> None:
    """A vector table whose SP is in the SSRAM2/3 mirror at 0x20400000: boot accepts it, exceptions stack there."""
    board = load_board("mps2-an386")
    fw = load_elf(MPS2_PERIPH)
    plain = plan_boot(board, fw, check_fit(fw, board))
    mirrored = tmp_path / MPS2_PERIPH.name  # the same name: it is the firmware's argv[0]
    _with_initial_sp(MPS2_PERIPH, mirrored, plain.sp + 0x400000)
    fw2 = load_elf(mirrored)
    plan = plan_boot(board, fw2, check_fit(fw2, board))
    assert plan.sp == plain.sp + 0x400000 and 0x20400000 < plan.sp <= 0x20800000
    ref = sc.run(MPS2_PERIPH, "mps2-an386")
    m = sc.prepare(mirrored, "mps2-an386")
    got = sc.run_machine(m)
    assert ref.exit_status == 0 and got.exit_status == 0, got.stop.message
    assert got.text == ref.text and got.instructions == ref.instructions and got.cycles == ref.cycles
    assert m.hot.state.sp_low >= 0x20400000  # it really ran (and took its interrupts) on the mirror
    assert got.stack_used == ref.stack_used > 0  # figures in the memory's own addresses
