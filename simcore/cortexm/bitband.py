"""Bit-banding: a word alias for every bit of the first megabyte of the SRAM and peripheral regions.

Cortex-M4 TRM (ARM DDI 0439B) section 3.7 and ARMv7-M ARM (DDI 0403E) section B3.1 (the
bit-band regions are implementation defined; PM0214 section 2.2.5 for the STM32F4 and L4+ parts):
each bit of 0x20000000-0x200FFFFF has a word at ``0x22000000 + byte_offset*32 + bit*4``, each bit
of 0x40000000-0x400FFFFF one at ``0x42000000 + ...``. A read of an alias word returns the bit in
bit 0; a write sets the bit to bit 0 of the value, as a read-modify-write of the memory (the core
makes it atomic). The access to the bit-band region has the size of the access to the alias, so
a byte access changes the byte, a word access the word holding the bit (that is what w1c flags
see: the 1s read back are written back). The low two bits of an alias address are ignored.
STM32 HAL code for the F4 uses the aliases to set and clear RCC and PWR bits (``RCC_CR_PLLON_BB``).

A board turns it on with ``[cpu] bitband = true``; the nRF52840 has none (its Product
Specification's CPU configuration table). The machine serves the SRAM alias
(:class:`SramAlias`) and the peripheral bus the peripheral alias (simcore/bus.py), both through
:func:`access`.
"""

from __future__ import annotations

from collections.abc import Callable

REGION_BYTES = 0x100000  # the bit-banded megabyte of each region
ALIAS_BYTES = REGION_BYTES * 32
SRAM_ALIAS, SRAM_BASE = 0x22000000, 0x20000000
PERIPH_ALIAS, PERIPH_BASE = 0x42000000, 0x40000000


def in_alias(addr: int) -> bool:
    """Is ``addr`` in one of the two 32 MB alias regions?"""
    return SRAM_ALIAS <= addr < SRAM_ALIAS + ALIAS_BYTES or PERIPH_ALIAS <= addr < PERIPH_ALIAS + ALIAS_BYTES


def target(addr: int, size: int = 4) -> tuple[int, int]:
    """(address of the ``size``-byte unit holding the bit, bit number in that unit) for the alias ``addr``."""
    alias, base = (SRAM_ALIAS, SRAM_BASE) if addr < PERIPH_ALIAS else (PERIPH_ALIAS, PERIPH_BASE)
    offset = (addr - alias) >> 2  # bit number within the region
    byte, bit = offset >> 3, offset & 7
    unit = byte & ~(size - 1)
    return base + unit, bit + 8 * (byte - unit)


def access(addr: int, size: int, write: bool, value: int, read: Callable[[int, int], int],
           write_mem: Callable[[int, int, int], None]) -> int:
    """One access of ``size`` bytes to the alias ``addr``: the bit (0 or 1) for a read, a read-modify-write
    of the unit holding it for a write (``read(addr, size)``, ``write_mem(addr, size, value)`` reach the memory
    or peripheral behind the alias)."""
    unit, bit = target(addr, size)
    current = read(unit, size)
    if not write:
        return current >> bit & 1
    new = (current | 1 << bit) if value & 1 else (current & ~(1 << bit))
    write_mem(unit, size, new & ((1 << (8 * size)) - 1))
    return 0


def sram_alias_bytes(ram_end: int) -> int:
    """Size of the SRAM alias to map for RAM contiguous from 0x20000000 to ``ram_end`` (beyond it nothing
    answers, as for the RAM itself: the access faults)."""
    return (min(ram_end, SRAM_BASE + REGION_BYTES) - SRAM_BASE) * 32
