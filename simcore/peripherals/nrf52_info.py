"""nRF52840 factory and user information (FICR at 0x10000000, UICR at 0x10001000).

Both are flash the firmware only reads (UICR is written through the NVMC, not modelled): the
machine maps each as a read-only page holding its image (``rom_image``), so reads cost no
Python call. FICR values are the nRF52840 Product Specification's (v1.7, 4.4) for a QIAA-D0
part: 4 KiB code pages, 256 of them (1 MiB), 256 KiB RAM, INFO.PART 0x52840; DEVICEID and the
device address are fixed values (a run is deterministic), not a real chip's. The temperature
calibration and NFC tag header come from the SVD table. UICR reads erased (0xFFFFFFFF).
"""

from __future__ import annotations

import hashlib
import struct
from typing import ClassVar

from simcore.board import Peripheral
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel, Register
from simcore.peripherals.svd import load_table

PAGE = 0x1000
_ID = hashlib.sha256(b"simcore nrf52840").digest()  # a fixed, obviously synthetic device identity

FICR_VALUES = {
    "CODEPAGESIZE": 0x1000,  # PS 4.4.1.1: code memory page size 4096 bytes
    "CODESIZE": 256,  # 4.4.1.2: 256 pages
    "DEVICEID[0]": struct.unpack_from("<I", _ID, 0)[0],
    "DEVICEID[1]": struct.unpack_from("<I", _ID, 4)[0],
    "DEVICEADDRTYPE": 0xFFFFFFFF,  # bit 0 = 1: random static address
    "DEVICEADDR[0]": struct.unpack_from("<I", _ID, 8)[0],
    "DEVICEADDR[1]": struct.unpack_from("<I", _ID, 12)[0] | 0xC000,  # static random: top two bits set
    "INFO.PART": 0x52840,
    "INFO.VARIANT": 0x41414430,  # "AAD0"
    "INFO.PACKAGE": 0x2004,  # QI: aQFN73
    "INFO.RAM": 0x100,  # 256 KiB
    "INFO.FLASH": 0x400,  # 1024 KiB
}
for _i in range(4):
    FICR_VALUES[f"ER[{_i}]"] = struct.unpack_from("<I", _ID, 16 + 4 * _i)[0]
    FICR_VALUES[f"IR[{_i}]"] = struct.unpack_from("<I", _ID, 16 + 4 * ((_i + 2) % 4))[0] ^ 0xA5A5A5A5
# Words outside the documented map that Nordic's errata code (nrfx nrf52_erratas.h) reads to
# identify the part (0x08 = nRF52840) and its revision (0x03 = build code D0).
FICR_EXTRA = {0x130: 0x08, 0x134: 0x03}


class _InfoPage(PeripheralModel):
    """A read-only 4 KiB page whose registers come from the SVD table; unlisted words read erased."""

    SIZE = PAGE
    SVD_NAME = ""
    VALUES: ClassVar[dict[str, int]] = {}
    EXTRA: ClassVar[dict[int, int]] = {}
    ERASED = False  # every word reads 0xFFFFFFFF whatever the SVD's reset value

    def __init__(self, config: Peripheral, host: Host) -> None:
        p = load_table("nrf52840").peripheral(self.SVD_NAME)
        registers = tuple(  # per instance: built from the table
            Register(r.name, r.offset, r.size, "r", 0xFFFFFFFF if self.ERASED else self.VALUES.get(r.name, r.reset))
            for r in p.registers)
        super().__init__(config, host, registers)

    def rom_image(self) -> bytes:
        """The page as the firmware reads it (erased flash is 0xFF)."""
        image = bytearray(b"\xff" * PAGE)
        for reg in self.registers:
            struct.pack_into("<I", image, reg.offset, reg.reset & 0xFFFFFFFF)
        for off, value in self.EXTRA.items():
            struct.pack_into("<I", image, off, value)
        return bytes(image)

    def read(self, offset: int, size: int) -> int:
        image = self.rom_image()
        return int.from_bytes(image[offset:offset + size], "little")

    def write(self, offset: int, size: int, value: int) -> None:
        self.unimplemented(f"{self.name}+{offset:#05x}", f"write of {value:#x} to read-only {self.SVD_NAME} "
                           "(UICR is programmed through the NVMC, which is not modelled)")


@register_model
class NrfFicr(_InfoPage):
    """Factory information configuration registers (PS v1.7 4.4)."""

    TYPE = "nrf52_ficr"
    SVD_NAME = "FICR"
    VALUES = FICR_VALUES
    EXTRA = FICR_EXTRA


@register_model
class NrfUicr(_InfoPage):
    """User information configuration registers (PS v1.7 4.5), erased."""

    TYPE = "nrf52_uicr"
    SVD_NAME = "UICR"
    ERASED = True
