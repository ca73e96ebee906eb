"""STM32 CRC calculation unit: the CRC of the data written to ``DR``, read back from ``DR``.

STM32F4 (RM0090 section 4): CRC-32 with the fixed polynomial 0x04C11DB7, data taken 32 bits at a
time most significant bit first, no reflection, no final XOR; ``CR.RESET`` loads 0xFFFFFFFF.
``IDR`` is 8 bits of storage.

STM32L4/L4+ (RM0432 section 17): the polynomial (``POL``) and its size (``CR.POLYSIZE``: 32, 16,
8 or 7 bits) and the initial value (``INIT``) are programmable; ``DR`` takes 8-, 16- or 32-bit
writes, each processed as that many bits, most significant first. ``CR.REV_IN`` bit-reverses the
input by byte, half-word or word (on a narrower write only the data written is reversed);
``CR.REV_OUT`` reads the CRC bit-reversed over the polynomial size (ST's 16-bit CRC-CCITT
example: 0xC20A reads 0x5043). ``CR.RESET`` and a write of ``INIT`` load ``INIT`` into the CRC
(ST's example accumulates straight after configuring ``INIT``). The unit computes in 4 AHB cycles
per word; the model has the result at once (the core cannot read it sooner).
"""

from __future__ import annotations

from typing import Any

from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.stm32.common import Stm32Model

POLY32 = 0x04C11DB7
SIZES = {0: 32, 1: 16, 2: 8, 3: 7}  # CR.POLYSIZE


def reverse_bits(value: int, width: int) -> int:
    """``value``'s low ``width`` bits in the opposite order."""
    out = 0
    for _ in range(width):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


def crc_update(crc: int, data: int, nbits: int, poly: int, width: int) -> int:
    """Shift ``nbits`` of ``data`` (most significant first) through a ``width``-bit CRC register."""
    top = 1 << (width - 1)
    mask = (1 << width) - 1
    poly &= mask
    for i in range(nbits - 1, -1, -1):
        feedback = bool(crc & top) ^ bool(data >> i & 1)
        crc = (crc << 1) & mask
        if feedback:
            crc ^= poly
    return crc


def _data(value: int, mask: int) -> tuple[int, int]:
    """(data, bytes) of a write of the lanes ``mask`` of a 32-bit register."""
    shift = (mask & -mask).bit_length() - 1
    return (value & mask) >> shift, bin(mask).count("1") // 8


class Stm32Crc(Stm32Model):
    """What the F4 and L4 CRC units share: the CRC register and its reset."""

    SVD = "CRC"
    PLAIN = ("IDR",)

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.crc = 0xFFFFFFFF
        self.words = 0  # data writes (for tests and stats)
        super().__init__(config, host, registers)

    def reset(self) -> None:
        super().reset()
        self.crc = self.initial()
        self.words = 0

    def initial(self) -> int:
        return 0xFFFFFFFF


@register_model
class Stm32F4Crc(Stm32Crc):
    """CRC of the STM32F4 (RM0090 section 4.4): CRC-32/MPEG-2 of 32-bit words."""

    TYPE = "stm32f4_crc"
    PART = "stm32f407vg"
    PARTS = ("stm32f407vg",)

    def read_DR(self) -> int:
        return self.crc

    def write_DR(self, value: int, mask: int) -> None:
        data, nbytes = _data(value, mask)
        if nbytes != 4:
            self.guest_error(self.where_field("DR"), f"{8 * nbytes}-bit write: the F4 CRC unit takes 32-bit words "
                             "(RM0090 4.3); processed as a word")
        self.crc = crc_update(self.crc, data, 32, POLY32, 32)
        self.words += 1

    def write_CR(self, value: int) -> None:
        if value & 1:
            self.crc = 0xFFFFFFFF


@register_model
class Stm32L4Crc(Stm32Crc):
    """CRC of the STM32L4+ (RM0432 section 17.4): programmable polynomial, size, initial value, reversal."""

    TYPE = "stm32l4_crc"
    PART = "stm32l4r5zi"
    PARTS = ("stm32l4r5zi",)

    def initial(self) -> int:
        return self.values["INIT"] & self._mask()

    def _width(self) -> int:
        return SIZES[self.values["CR"] >> 3 & 3]

    def _mask(self) -> int:
        return (1 << self._width()) - 1

    def read_DR(self) -> int:
        width = self._width()
        crc = self.crc & self._mask()
        return reverse_bits(crc, width) if self.values["CR"] & 1 << 7 else crc

    def write_DR(self, value: int, mask: int) -> None:
        data, nbytes = _data(value, mask)
        nbits = 8 * nbytes
        rev = self.values["CR"] >> 5 & 3
        if rev:
            unit = min(8 << (rev - 1), nbits)  # by byte, half-word or word: within what was written
            data = sum(reverse_bits(data >> s & ((1 << unit) - 1), unit) << s for s in range(0, nbits, unit))
        self.crc = crc_update(self.crc, data, nbits, self.values["POL"], self._width())
        self.words += 1

    def write_CR(self, value: int) -> None:
        self.values["CR"] = value & 0xF8  # RESET reads 0
        if value & 1:
            self.crc = self.initial()

    def write_INIT(self, value: int) -> None:
        self.values["INIT"] = value
        self.crc = self.initial()

    def write_POL(self, value: int) -> None:
        if not value & 1:
            self.guest_error(self.where_field("POL"), f"even polynomial {value:#x}: RM0432 17.4.1 supports only "
                             "odd polynomials; used as written")
        self.values["POL"] = value
