"""Bit-band aliases (Cortex-M4 TRM 3.7): the address mapping, and the peripheral alias through the bus.

Expected mappings are the TRM's own examples (3.7.1); register values are the reference manual's
reset values and the bits written, not the code's.
"""

from __future__ import annotations

import pytest

from simcore.board import Peripheral
from simcore.bus import PeripheralBus
from simcore.cortexm import bitband
from simcore.peripherals.stm32.gpio import Stm32F4Gpio
from simcore.regfile import regfile_library
from tests.unit.test_bus import FakeMachine, unimplemented

NATIVE = [False, True] if regfile_library() is not None else [False]


@pytest.mark.parametrize(("alias", "byte", "bit"), [
    (0x23FFFFE0, 0x200FFFFF, 0),  # TRM 3.7.1: the alias word at 0x23FFFFE0 is bit 0 of the byte at 0x200FFFFF
    (0x23FFFFEC, 0x200FFFFF, 3),
    (0x23FFFFFC, 0x200FFFFF, 7),
    (0x22000000, 0x20000000, 0),
    (0x2200001C, 0x20000000, 7),
    (0x42000000 + 0x23800 * 32 + 16 * 4, 0x40023802, 0),  # RCC_CR bit 16 (HSEON) is bit 0 of its byte 2
])
def test_alias_addresses_map_to_the_trm_bits(alias: int, byte: int, bit: int) -> None:
    assert bitband.in_alias(alias)
    assert bitband.target(alias, 1) == (byte, bit)
    word, wbit = bitband.target(alias, 4)
    assert word == byte & ~3 and wbit == bit + 8 * (byte & 3)
    half, hbit = bitband.target(alias, 2)
    assert half == byte & ~1 and hbit == bit + 8 * (byte & 1)
    assert bitband.target(alias + 3, 1) == (byte, bit)  # the low two bits of the alias address are ignored


def test_outside_the_aliases() -> None:
    assert not bitband.in_alias(0x21FFFFFC) and not bitband.in_alias(0x24000000)
    assert not bitband.in_alias(0x41FFFFFC) and not bitband.in_alias(0x44000000)
    assert bitband.sram_alias_bytes(0x20020000) == 128 * 1024 * 32  # F407: 128 KiB of SRAM -> 4 MiB of alias
    assert bitband.sram_alias_bytes(0x30000000) == bitband.ALIAS_BYTES  # only the first megabyte is banded


def test_access_is_a_read_modify_write_of_the_access_size() -> None:
    mem = bytearray(8)
    mem[0:4] = (0x80000001).to_bytes(4, "little")
    sizes: list[int] = []

    def read(addr: int, size: int) -> int:
        sizes.append(size)
        return int.from_bytes(mem[addr - 0x20000000:addr - 0x20000000 + size], "little")

    def write(addr: int, size: int, value: int) -> None:
        mem[addr - 0x20000000:addr - 0x20000000 + size] = value.to_bytes(size, "little")

    a = bitband.SRAM_ALIAS
    assert bitband.access(a + 31 * 4, 4, False, 0, read, write) == 1  # bit 31
    assert bitband.access(a + 30 * 4, 4, False, 0, read, write) == 0
    bitband.access(a + 9 * 4, 2, True, 0xFFFFFFFE, read, write)  # bit 0 of the value: 0 -> clear (already)
    bitband.access(a + 9 * 4, 2, True, 3, read, write)  # set bit 9 by a halfword read-modify-write
    bitband.access(a + 0, 1, True, 0, read, write)  # clear bit 0 by a byte access
    assert int.from_bytes(mem[0:4], "little") == 0x80000200
    bitband.access(a + 32 * 4 + 5 * 4, 4, True, 1, read, write)  # bit 5 of the next word
    assert mem[4] == 0x20
    assert sizes == [4, 4, 2, 2, 1, 4]


def _bus(native: bool, on: bool) -> tuple[PeripheralBus, FakeMachine]:
    m = FakeMachine()
    gpiod = Stm32F4Gpio(Peripheral("gpiod", Stm32F4Gpio.TYPE, 0x40020C00, part="stm32f407vg"), m)
    return PeripheralBus(m, [gpiod], "stm32f407vg", native=native, bitband=on), m


def alias(addr: int, bit: int) -> int:
    return bitband.PERIPH_ALIAS + (addr - bitband.PERIPH_BASE) * 32 + bit * 4


@pytest.mark.parametrize("native", NATIVE)
def test_peripheral_alias_reaches_plain_registers_and_models(native: bool) -> None:
    bus, m = _bus(native, True)
    rcc_cr = 0x40023800
    assert [bus.rf.read(alias(rcc_cr, b), 4) for b in range(3)] == [1, 1, 0]  # RM0090 7.3.1 reset 0x83
    bus.rf.write(alias(rcc_cr, 16), 4, 1)  # HSEON
    assert bus.rf.read(rcc_cr, 4) == 0x00010083
    bus.rf.write(alias(rcc_cr, 0), 1, 0)  # HSION off by a byte access
    assert bus.rf.read(rcc_cr, 4) == 0x00010082
    odr = 0x40020C14  # GPIOD ODR through the GPIO model
    bus.rf.write(alias(odr, 12), 4, 1)
    bus.rf.write(alias(odr, 15), 4, 1)
    assert bus.rf.read(odr, 4) == 0x9000 and bus.rf.read(alias(odr, 15), 4) == 1
    bus.rf.write(alias(odr, 12), 4, 0)
    assert bus.rf.read(odr, 4) == 0x8000
    assert bus.rf.read(alias(odr, 12), 2) == 0
    assert not any(k.startswith("0x42") for k in unimplemented(m))


@pytest.mark.parametrize("native", NATIVE)
def test_without_bitband_the_alias_is_nothing(native: bool) -> None:
    bus, m = _bus(native, False)
    rcc_cr = 0x40023800
    bus.rf.write(alias(rcc_cr, 16), 4, 1)
    assert bus.rf.read(rcc_cr, 4) == 0x83
    assert bus.rf.read(alias(rcc_cr, 0), 4) == 0
    assert f"{alias(rcc_cr, 16):#010x}" in unimplemented(m)
