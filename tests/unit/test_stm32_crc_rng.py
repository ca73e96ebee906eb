"""CRC and RNG models on a fake clock (RM0090 sections 4 and 24, RM0432 sections 17 and RNG).

Expected CRCs are published check values (CRC-32/MPEG-2 of "123456789": 0x0376E6E7; zlib's
CRC-32: 0xCBF43926; CRC-8/SMBUS: 0xF4; CRC-7/MMC: 0x75), zlib itself, and the vector of ST's
16-bit CRC-CCITT reversal example (0x5043); RNG timing is RM0090 24.4.3's 40 RNG clock periods.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost, peripheral

DR, IDR, CR, INIT, POL = 0x00, 0x04, 0x08, 0x10, 0x14


def _crc(family: str) -> tuple[FakeHost, Any]:
    host = FakeHost(mhz=16)
    return host, model_for(f"stm32{family}_crc")(peripheral("crc", f"stm32{family}_crc", 0x40023000, None), host)


def _rev32(x: int) -> int:
    return int(f"{x:032b}"[::-1], 2)


def _mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 (the F4 unit, bytes in order) from zlib's reflected CRC-32 of the bit-reversed bytes."""
    rev = bytes(int(f"{b:08b}"[::-1], 2) for b in data)
    return _rev32(zlib.crc32(rev) ^ 0xFFFFFFFF)


def test_f4_crc32_of_words_and_reset() -> None:
    host, crc = _crc("f4")
    assert crc.read(DR, 4) == 0xFFFFFFFF
    data = bytes(range(1, 41))
    for i in range(0, len(data), 4):
        crc.write(DR, 4, int.from_bytes(data[i:i + 4], "big"))  # the word's most significant byte first
    assert crc.read(DR, 4) == _mpeg2(data)
    crc.write(IDR, 4, 0x1A5)
    assert crc.read(IDR, 4) == 0xA5  # 8 bits of storage
    crc.write(CR, 4, 1)
    assert crc.read(DR, 4) == 0xFFFFFFFF and crc.read(IDR, 4) == 0xA5  # RESET leaves IDR
    crc.write(DR, 4, 0x31323334)
    crc.write(DR, 4, 0x35363738)
    assert crc.read(DR, 4) == _mpeg2(b"12345678")
    assert not host.unmodelled


def test_f4_crc_narrow_write_is_reported() -> None:
    host, crc = _crc("f4")
    crc.write(DR, 1, 0x31)
    assert "CRC.DR" in host.unmodelled and "32-bit words" in host.unmodelled["CRC.DR"]


def test_l4_crc32_bytes_and_reversal() -> None:
    host, crc = _crc("l4")
    assert crc.read(POL, 4) == 0x04C11DB7 and crc.read(INIT, 4) == 0xFFFFFFFF  # RM0432 17.4 reset values
    for b in b"123456789":
        crc.write(DR, 1, b)
    assert crc.read(DR, 4) == 0x0376E6E7  # CRC-32/MPEG-2 check value
    crc.write(CR, 4, 1 << 5 | 1 << 7 | 1)  # REV_IN by byte, REV_OUT, RESET
    assert crc.read(CR, 4) == 0xA0  # RESET reads 0
    crc.write(DR, 4, int.from_bytes(b"1234", "big"))  # four bytes, each reversed, the first one first
    for b in b"56789":
        crc.write(DR, 1, b)
    assert crc.read(DR, 4) ^ 0xFFFFFFFF == 0xCBF43926 == zlib.crc32(b"123456789")
    crc.write(CR, 4, 3 << 5 | 1 << 7 | 1)  # REV_IN by word: a little-endian word from memory, as zlib's CRC
    data = bytes(range(200, 240))
    for i in range(0, len(data), 4):
        crc.write(DR, 4, int.from_bytes(data[i:i + 4], "little"))
    assert crc.read(DR, 4) ^ 0xFFFFFFFF == zlib.crc32(data)
    assert not host.unmodelled


def test_l4_crc16_ccitt_reversal_example() -> None:
    """ST's example: POL 0x1021, 16 bits, INIT 0x5ABE, input reversed by word, output reversed."""
    _, crc = _crc("l4")
    crc.write(POL, 4, 0x1021)
    crc.write(CR, 4, 1 << 3 | 3 << 5 | 1 << 7)
    crc.write(INIT, 4, 0x5ABE)  # loads the CRC: no RESET needed
    data = bytes([0x4D, 0x3C, 0x2B, 0x1A, 0xBE, 0x71, 0xC9, 0x8A, 0x5E])
    crc.write(DR, 4, int.from_bytes(data[0:4], "big"))
    crc.write(DR, 4, int.from_bytes(data[4:8], "big"))
    crc.write(DR, 1, data[8])  # a byte: only it is reversed
    assert crc.read(DR, 4) == 0x5043
    # the same CRC without reversal from the reversed input: 0xC20A, the 16-bit reversal of 0x5043
    crc.write(CR, 4, 1 << 3)
    crc.write(INIT, 4, 0x5ABE)
    check = bytes([0x58, 0xD4, 0x3C, 0xB2, 0x51, 0x93, 0x8E, 0x7D, 0x7A])
    crc.write(DR, 2, int.from_bytes(check[0:2], "big"))  # half-words are 16 bits, MSB first
    crc.write(DR, 2, int.from_bytes(check[2:4], "big"))
    crc.write(DR, 4, int.from_bytes(check[4:8], "big"))
    crc.write(DR, 1, check[8])
    assert crc.read(DR, 4) == 0xC20A


@pytest.mark.parametrize(("polysize", "poly", "check"), [(2, 0x07, 0xF4), (3, 0x09, 0x75)])
def test_l4_crc8_and_crc7(polysize: int, poly: int, check: int) -> None:
    _, crc = _crc("l4")
    crc.write(POL, 4, poly)
    crc.write(CR, 4, polysize << 3)
    crc.write(INIT, 4, 0)
    for b in b"123456789":
        crc.write(DR, 1, b)
    assert crc.read(DR, 4) == check  # CRC-8/SMBUS, CRC-7/MMC check values


# --- RNG ------------------------------------------------------------------------------------
RNG_CR, RNG_SR, RNG_DR = 0x00, 0x04, 0x08


def _rng(family: str, seed: int = 0, **clocks: float) -> tuple[FakeHost, Any]:
    host = FakeHost(mhz=168 if family == "f4" else 120)
    host.set_clocks(HCLK=host.hz, **clocks)
    rng = model_for(f"stm32{family}_rng")(peripheral("rng", f"stm32{family}_rng", 0x50060800, 80, seed=seed), host)
    return host, rng


def _numbers(host: FakeHost, rng: Any, n: int) -> tuple[list[int], list[int]]:
    """n numbers read as soon as DRDY is set; (numbers, cycles at which each became ready)."""
    got, at = [], []
    for _ in range(n):
        host.advance_to(host.next_event_cycle())
        assert rng.read(RNG_SR, 4) & 1
        at.append(host.cycles)
        got.append(rng.read(RNG_DR, 4))
        assert rng.read(RNG_SR, 4) & 1 == 0
    return got, at


def test_f4_rng_paced_by_pll48clk_and_deterministic() -> None:
    host, rng = _rng("f4", PLL48CLK=48e6)
    assert rng.read(RNG_SR, 4) == 0
    rng.write(RNG_CR, 4, 1 << 2 | 1 << 3)  # RNGEN, IE
    got, at = _numbers(host, rng, 5)
    # 40 periods of 48 MHz = 833.3 ns = 140 cycles at 168 MHz, from enable and from each read
    assert at == [140, 280, 420, 560, 700]
    assert len(set(got)) == 5 and host.irq_rises(80) == at
    host2, rng2 = _rng("f4", PLL48CLK=48e6)
    rng2.write(RNG_CR, 4, 1 << 2)
    assert _numbers(host2, rng2, 5)[0] == got  # same seed, same numbers
    host3, rng3 = _rng("f4", seed=7, PLL48CLK=48e6)
    rng3.write(RNG_CR, 4, 1 << 2)
    assert _numbers(host3, rng3, 5)[0] != got
    assert not host.unmodelled


def test_rng_without_its_clock_is_a_clock_error() -> None:
    host, rng = _rng("f4", PLL48CLK=0.0)
    rng.write(RNG_CR, 4, 1 << 2 | 1 << 3)
    assert rng.read(RNG_SR, 4) == 0b100010  # CECS, CEIS
    assert host.next_event_cycle() is None  # no number will come
    assert "RNG.CR.RNGEN" in host.unmodelled and "PLL48CLK" in host.unmodelled["RNG.CR.RNGEN"]
    assert host.irq_rises(80) == [0]  # CEIS with IE
    assert rng.read(RNG_DR, 4) == 0 and "RNG.DR" in host.unmodelled
    host.set_clocks(PLL48CLK=48e6)  # the firmware starts the PLL: CECS clears, CEIS stays until written 0
    assert rng.read(RNG_SR, 4) == 0b100000
    rng.write(RNG_SR, 4, 0)
    assert rng.read(RNG_SR, 4) == 0 and host.irq_levels[80] is False
    host.advance_to(host.next_event_cycle())
    assert rng.read(RNG_SR, 4) == 1


def test_rng_clock_slower_than_hclk_over_16() -> None:
    host, rng = _rng("f4", PLL48CLK=8e6)  # 8 MHz < 168 MHz / 16
    rng.write(RNG_CR, 4, 1 << 2)
    assert rng.read(RNG_SR, 4) & 0b10 and host.next_event_cycle() is None


def test_l4_rng_clock_from_clk48sel() -> None:
    host, rng = _rng("l4", HSI48=0.0, MSI=48e6, PLL48M1CLK=0.0)

    class Rcc:
        values = {"CCIPR": 0}

    host.peripherals["rcc"] = Rcc()
    rng.write(RNG_CR, 4, 1 << 2)  # CLK48SEL = 0: HSI48, off
    assert rng.read(RNG_SR, 4) & 0b10 and "HSI48" in host.unmodelled["RNG.CR.RNGEN"]
    rng.write(RNG_CR, 4, 0)
    Rcc.values["CCIPR"] = 3 << 26  # MSI at 48 MHz
    rng.write(RNG_SR, 4, 0)
    rng.write(RNG_CR, 4, 1 << 2)
    _, at = _numbers(host, rng, 2)
    assert at == [100, 200]  # 40 periods of 48 MHz at 120 MHz
    assert host.now_fs() // 1000 == 2 * 40 * FS_PER_SECOND // 48_000_000 // 1000  # 1.6667 us
