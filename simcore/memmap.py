"""The part's address map, alias-aware: which region holds an address, for every user of the map.

One :class:`MemoryMap` per board (``board.memory_map``) answers "what is at this address"
for the boot checks, the exception model's stacking checks, the diagnosis, the stack
watch, the core-register memory view and the native hot path's windows; the machine adds
its peripherals' windows (:meth:`MemoryMap.with_devices`) for the MMIO dispatch.

Windows: every memory of the part at its base, then at each alias (the same bytes seen at
another address, e.g. STM32 flash at 0 or the MPS2 SSRAM mirrors), in board order. A board
file never lets two windows overlap (``load_board`` refuses it), so at most one window
holds an address. Outside the memories: the ARMv7-M system address map (B3.1), with the
peripheral region (0x40000000-0x5FFFFFFF, device windows inside it) and the Private
Peripheral Bus (0xE0000000-0xE00FFFFF).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simcore.board import Memory

PERIPH_BASE, PERIPH_END = 0x40000000, 0x60000000  # ARMv7-M B3.1 "Peripheral" region
PPB_BASE, PPB_END = 0xE0000000, 0xE0100000  # Private Peripheral Bus: ITM, DWT, SCS, ...
XN_REGIONS = ((0x40000000, 0x60000000), (0xA0000000, 0x100000000))  # Device/System: execute-never (B3.1)
PAGE = 0x1000
NEVER_EXECUTED = 0xFFFFFFFE  # no Thumb code can branch here (System region, XN): emu_start's 'until' never hits


class RegionKind(StrEnum):
    FLASH = "flash"
    RAM = "ram"
    DEVICE = "device"  # a modelled peripheral's register window
    PERIPHERAL = "peripheral"  # the rest of the peripheral region (no model there)
    PPB = "ppb"  # the Private Peripheral Bus (the system block)


@dataclass(frozen=True)
class Region:
    """One address window: a memory (at its base or an alias), a device, or an architectural region."""

    name: str
    base: int
    end: int
    kind: RegionKind
    memory: Memory | None = None
    index: int = -1  # position of the memory in board.memories (its host buffer), or of the device
    alias: bool = False

    @property
    def size(self) -> int:
        return self.end - self.base

    @property
    def is_ram(self) -> bool:
        return self.kind is RegionKind.RAM

    @property
    def executable(self) -> bool:
        return self.memory is not None and self.memory.executable

    def contains(self, addr: int, size: int = 1) -> bool:
        return self.base <= addr and addr + size <= self.end

    def canonical(self, addr: int) -> int:
        """``addr`` seen at the memory's own base (unchanged outside aliases)."""
        return addr - self.base + self.memory.base if self.alias and self.memory is not None else addr


class MemoryMap:
    """The windows of a part's memories (aliases included) and of its devices, with queries."""

    def __init__(self, memories: Sequence[Memory], devices: Iterable[tuple[str, int, int]] = ()) -> None:
        self.memories = tuple(memories)
        bases = [Region(m.name, m.base, m.base + m.size, RegionKind(m.kind), m, i) for i, m in enumerate(memories)]
        aliases = [Region(f"{m.name}@{a:#x}", a, a + m.size, RegionKind(m.kind), m, i, alias=True)
                   for i, m in enumerate(memories) for a in m.aliases]
        # memories at their base first (the hot path's windows are taken in this order)
        self.windows: tuple[Region, ...] = (*bases, *aliases)
        self.devices: tuple[Region, ...] = tuple(
            Region(name, base, base + size, RegionKind.DEVICE, index=i) for i, (name, base, size) in enumerate(devices))
        self._pages: dict[int, list[Region]] = {}
        for dev in self.devices:
            for page in range(dev.base & ~(PAGE - 1), dev.end, PAGE):
                self._pages.setdefault(page, []).append(dev)
        self._periph = Region("peripheral region", PERIPH_BASE, PERIPH_END, RegionKind.PERIPHERAL)
        self._ppb = Region("private peripheral bus", PPB_BASE, PPB_END, RegionKind.PPB)

    def with_devices(self, devices: Iterable[tuple[str, int, int]]) -> MemoryMap:
        """The same memories plus device windows (name, base, size), e.g. the machine's peripherals."""
        return MemoryMap(self.memories, devices)

    # --- queries ----------------------------------------------------------------------------------
    def window(self, addr: int, size: int = 1) -> Region | None:
        """The memory window (base or alias) holding all of [addr, addr+size), else None."""
        end = addr + size
        for w in self.windows:
            if w.base <= addr and end <= w.end:
                return w
        return None

    def device(self, addr: int) -> Region | None:
        """The device window holding ``addr`` (one dictionary lookup and a short scan)."""
        for dev in self._pages.get(addr & ~(PAGE - 1), ()):
            if dev.base <= addr < dev.end:
                return dev
        return None

    def region_for(self, addr: int, size: int = 1) -> Region | None:
        """The most specific region holding [addr, addr+size): a memory window, a device, the
        peripheral region or the PPB; None for unmapped addresses."""
        w = self.window(addr, size)
        if w is not None:
            return w
        dev = self.device(addr)
        if dev is not None and addr + size <= dev.end:
            return dev
        for arch in (self._periph, self._ppb):
            if arch.contains(addr, size):
                return arch
        return None

    def memory_for(self, addr: int, size: int = 1) -> Memory | None:
        w = self.window(addr, size)
        return None if w is None else w.memory

    def is_ram(self, addr: int, size: int) -> bool:
        """Is all of [addr, addr+size) writable RAM (through its base or an alias)?"""
        end = addr + size
        for w in self.windows:
            if w.base <= addr and end <= w.end:
                return w.kind is RegionKind.RAM
        return False

    def resolve(self, addr: int) -> int:
        """Map an address in an alias window onto the memory's own base (others unchanged)."""
        for w in self.windows:
            if w.alias and w.base <= addr < w.end:
                return w.canonical(addr)
        return addr

    def stack_in_ram(self, sp: int) -> bool:
        """Can ``sp`` be a full-descending stack pointer in RAM (the first push lands in RAM)?"""
        w = self.window(sp - 1, 1)
        return w is not None and w.kind is RegionKind.RAM

    @staticmethod
    def execute_never(addr: int) -> bool:
        """Device and System regions are execute-never (ARMv7-M B3.1, table B3-1)."""
        return any(lo <= addr < hi for lo, hi in XN_REGIONS)
