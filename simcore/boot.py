"""Boot policy: where the core starts (SP, PC, VTOR) and the SYS_HEAPINFO answer, checked before anything runs.

ARMv7-M B1.5.5 (reset behaviour) plus QEMU's rule for bare images:

1. A vector table at the board's reset VTOR (through an alias too) gives SP and PC; both
   are checked (SP in RAM, PC odd and in code the image loads or in flash).
2. Nothing loaded there, but the image's lowest loaded address starts with a vector table
   whose reset vector is the ELF entry point: that table (VTOR is moved there).
3. Otherwise (e.g. a ``--specs=rdimon.specs`` program linked at 0x8000): start at the ELF
   entry point with SP = the stack base of the SYS_HEAPINFO answer, as QEMU starts such
   images; the C start-up code then asks HEAPINFO itself.

Pure functions of the board, the image and its layout: no emulator needed. Addresses are
judged through the board's alias-aware memory map (simcore/memmap.py), so a stack placed
in a memory's mirror (the MPS2 SSRAM aliases) is RAM like the memory itself.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simcore.errors import BadInputError

if TYPE_CHECKING:
    from simcore.board import Board
    from simcore.elf import Firmware
    from simcore.layout import Layout

HeapInfo = tuple[int, int, int, int]  # heap base, heap limit, stack base (initial SP), stack limit


@dataclass(frozen=True)
class BootPlan:
    """Where the core starts: PC (Thumb bit clear), SP, the VTOR in effect, and which rule gave them."""

    pc: int
    sp: int
    vtor: int
    rule: str


# simcore's linker script (firmware/common/cortex-m4.ld) and CMSIS-style scripts name the heap and stack
_LAYOUT_SYMBOLS = ("__HeapBase", "__HeapLimit", "__StackTop", "__StackLimit", "_estack")


def qemu_heapinfo(board: Board, fw: Firmware) -> HeapInfo:
    """QEMU's SYS_HEAPINFO answer (semihosting/arm-compat-semi.c, common_semi_find_bases, QEMU 7.2).

    The largest writable RAM range of the machine (a memory or one of its mirrors; the lowest
    address among equals), and in it the largest gap the loaded image leaves (the ELF's
    segments, by load address): heap base and limit are the gap's ends, the stack base is its
    end and the stack limit its start. On mps2-an386 that is the 16 MiB PSRAM at 0x21000000:
    stack and heap in the data RAM, not in the code SSRAM holding the image.
    """
    ranges = sorted((base, mem.size) for mem in board.memories if mem.kind == "ram"
                    for base in (mem.base, *mem.aliases))
    base, size = max(ranges, key=lambda r: (r[1], -r[0]))
    end = base + size
    blobs = sorted((max(seg.paddr, base), min(seg.paddr + len(seg.data), end)) for seg in fw.segments
                   if seg.data and seg.paddr < end and seg.paddr + len(seg.data) > base)
    best, cur = (base, base), base
    for lo, hi in [*blobs, (end, end)]:
        if lo - cur > best[1] - best[0]:
            best = (cur, lo)
        cur = max(cur, hi)
    return best[0], best[1], best[1], best[0]


def heapinfo(board: Board, fw: Firmware, layout: Layout) -> HeapInfo:
    """The SYS_HEAPINFO answer (heap base, heap limit, stack base = initial SP, stack limit).

    An image linked without heap and stack symbols (a ``--specs=rdimon.specs`` program, say)
    gets QEMU's answer (:func:`qemu_heapinfo`), so it runs with the stack and heap where QEMU
    puts them. Otherwise symbols win (``__HeapBase``/``end``, ``__HeapLimit``, the stack symbols
    of simcore/layout.py). Otherwise the heap starts after the image's writable data and
    the stack sits at the top of the same memory, with the heap below it, so a C
    library that trusts the answer never gets a heap spanning unmapped gaps.
    """
    if not any(fw.symbol(name) for name in _LAYOUT_SYMBOLS):
        return qemu_heapinfo(board, fw)
    mm = board.memory_map
    rams = board.ram
    largest = max(rams, key=lambda m: m.size)
    writable_end = max((s.vma + s.size for s in fw.sections
                        if s.writable and any(m.contains(mm.resolve(s.vma)) for m in rams)), default=None)
    base_sym = fw.symbol("__HeapBase") or fw.symbol("end")
    if base_sym is not None:
        heap_base = base_sym.addr
    elif writable_end is not None:
        heap_base = (writable_end + 7) & ~7
    else:
        heap_base = largest.base
    home = mm.memory_for(mm.resolve(heap_base), 1) or largest
    stack_top = layout.stack_top or home.end
    limit_sym = fw.symbol("__HeapLimit")
    if limit_sym is not None:
        heap_limit = limit_sym.addr
    elif layout.stack_limit is not None:
        heap_limit = layout.stack_limit
    elif home.base < stack_top <= home.end:
        room = max(stack_top - heap_base, 0)
        heap_limit = stack_top - min(0x10000, room // 2)  # 64 KiB (or half the room) kept for the stack
    else:
        heap_limit = home.end
    stack_limit = layout.stack_limit or heap_limit
    return heap_base, heap_limit, stack_top, stack_limit


def plan_boot(board: Board, fw: Firmware, layout: Layout) -> BootPlan:
    """SP, PC and VTOR at reset by the rules of the module docstring; BadInputError when they are unusable."""
    mm = board.memory_map
    vtor = mm.resolve(board.reset_vtor)
    words = _loaded_words(board, fw, vtor)
    if words is None:
        low = min((mm.resolve(seg.paddr) for seg in fw.segments if seg.data), default=None)
        low_words = _loaded_words(board, fw, low) if low is not None else None
        if low is not None and low_words is not None and \
                struct.unpack("<II", low_words)[1] | 1 == fw.entry | 1 and fw.entry & 1:
            vtor, words = low, low_words
    if words is None:
        pc, sp = fw.entry, heapinfo(board, fw, layout)[2]
        _check_entry(board, fw, pc)
        return BootPlan(pc & ~1, sp, vtor, f"no vector table at {vtor:#010x}: started at the ELF entry point "
                                          f"{pc:#010x} with SP {sp:#010x} from HEAPINFO")
    sp, pc = struct.unpack("<II", words)
    _check_vector_table(board, fw, vtor, sp, pc)
    return BootPlan(pc & ~1, sp, vtor, f"vector table at {vtor:#010x}")


def _loaded_words(board: Board, fw: Firmware, addr: int) -> bytes | None:
    """The first two words the image loads at ``addr`` (also when linked at an alias), or None."""
    words = fw.read_loaded(addr, 8)
    if words is None:
        for seg in fw.segments:
            if board.memory_map.resolve(seg.paddr) == addr and len(seg.data) >= 8:
                return bytes(seg.data[:8])
    return words


def runs_image_code(board: Board, fw: Firmware, pc: int) -> bool:
    """Is ``pc`` in executable memory, on bytes the image loads (not erased flash it never wrote)?"""
    mm = board.memory_map
    addr = mm.resolve(pc & ~1)
    target = mm.memory_for(addr, 2)
    if target is None or not target.executable:
        return False
    return any(mm.resolve(seg.paddr) <= addr and addr + 2 <= mm.resolve(seg.paddr) + len(seg.data)
               for seg in fw.segments if seg.data)


def _check_entry(board: Board, fw: Firmware, pc: int) -> None:
    if not pc & 1 or not runs_image_code(board, fw, pc):
        why = "an even (ARM-state) address; Cortex-M runs Thumb code only" if not pc & 1 else (
            "not in code the image loads into executable memory")
        raise BadInputError(
            f"{fw.path}: no vector table at {board.reset_vtor:#010x} and the ELF entry point "
            f"{pc:#010x} is {why}. Link the firmware for {board.name} (vector table at "
            f"{board.reset_vtor:#010x}) or give it a Thumb entry point in its code."
        )


def _check_vector_table(board: Board, fw: Firmware, vtor: int, sp: int, pc: int) -> None:
    if not board.memory_map.stack_in_ram(sp):
        regions = ", ".join(f"{m.name} {m.base:#010x}-{m.end:#010x}" for m in board.ram)
        raise BadInputError(
            f"{fw.path}: the vector table at {vtor:#010x} gives an initial stack pointer of {sp:#010x}, "
            f"which is not in the RAM of {board.name} ({regions}). Was the firmware linked for "
            "another part, or is the first word of the image not a vector table?"
        )
    if not pc & 1 or not runs_image_code(board, fw, pc):
        why = "an even (ARM-state) address; Cortex-M runs Thumb code only" if not pc & 1 else (
            "not in code the image loads into executable memory")
        raise BadInputError(
            f"{fw.path}: the reset vector at {vtor + 4:#010x} is {pc:#010x}: {why}. The second word of "
            "the vector table must be the odd (Thumb) address of Reset_Handler in the code the image "
            "loads into flash (or, on boards without flash such as mps2-an386, into its code memory)."
        )
