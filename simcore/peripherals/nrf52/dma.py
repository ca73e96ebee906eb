"""EasyDMA (nRF52840 Product Specification v1.7, section 4.? "EasyDMA"): peripherals read and write RAM directly.

EasyDMA reaches the Data RAM only (0x20000000-0x2003FFFF on the nRF52840); a ``PTR`` elsewhere
(flash, a peripheral) is a firmware error: reported, and the transfer moves nothing (on the
part it may fault or corrupt RAM). Byte counts per peripheral are kept for the summary.
"""

from __future__ import annotations

from typing import Any

DATA_RAM = (0x20000000, 0x20040000)


class EasyDma:
    """The EasyDMA channel of one peripheral: checked reads and writes of guest RAM."""

    def __init__(self, host: Any, owner: Any) -> None:
        self.host = host
        self.owner = owner
        self.read_bytes = 0
        self.written_bytes = 0

    def _ok(self, ptr: int, count: int, what: str) -> bool:
        lo, hi = DATA_RAM
        if lo <= ptr and ptr + count <= hi:
            return True
        self.owner.guest_error(f"{self.owner.svd_name}.{what}", f"EasyDMA pointer {ptr:#010x} (+{count} bytes) is "
                               "not in Data RAM (0x20000000-0x2003FFFF): nothing transferred")
        return False

    def read(self, ptr: int, count: int, what: str) -> bytes:
        if count <= 0 or not self._ok(ptr, count, what):
            return b""
        self.read_bytes += count
        return self.host.mem_read(ptr, count)

    def read_known(self, ptr: int, data: bytes, what: str) -> bytes:
        """read() of ``len(data)`` bytes at ``ptr`` that the caller knows are ``data`` (C checked them at the write it
        took: Nrf52Twim.stretch_read), without reading guest memory."""
        if not data or not self._ok(ptr, len(data), what):
            return b""
        self.read_bytes += len(data)
        return data

    def write(self, ptr: int, data: bytes, what: str) -> bool:
        if not data or not self._ok(ptr, len(data), what):
            return False
        self.written_bytes += len(data)
        self.host.mem_write(ptr, data)
        return True
