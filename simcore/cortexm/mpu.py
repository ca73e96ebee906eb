"""The ARMv7-M MPU (PMSAv7, ARM ARM B3.5): registers, the access check, and page protections.

Registers (B3.5.5-B3.5.10): MPU_TYPE (8 data regions, unified, as the Cortex-M4), MPU_CTRL
(ENABLE, HFNMIENA, PRIVDEFENA), MPU_RNR, MPU_RBAR/MPU_RASR and their aliases A1-A3.

The check (B3.5.2-B3.5.4, B3.5.9 Table B3-15): the highest-numbered enabled region holding
the address (a disabled sub-region does not hold it) gives the access permissions (AP) for
privileged and unprivileged code and execute-never (XN); no region: privileged code uses
the default memory map when PRIVDEFENA is set, anything else faults. The MPU is bypassed
when disabled, for the PPB, and at negative execution priority (HardFault, NMI, FAULTMASK)
unless HFNMIENA is set.

Cost: nothing while the MPU is off. When it is on, its decision is mapped onto Unicorn's page
protections (1 KiB pages) for the current privilege, recomputed only when the regions change or
the privilege does (exception entry and return, MSR CONTROL). A page that a region boundary
splits gets the permissions common to all its bytes, so only the accesses its parts disagree on
trap; the trap decides exactly: a MemManage fault, or one instruction stepped with the page
opened (about 15 us, so sub-page regions cost that per access on their page).
Not modelled: MPU checks of exception stacking (MSTKERR/MUNSTKERR), of peripheral (MMIO) and
PPB accesses; the memory attributes (TEX/S/C/B) are stored only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import unicorn

from simcore.cortexm.nvic import SCS_BASE
from simcore.registers import Register, RegisterBlock, ReportHost

DREGION = 8  # Cortex-M4 TRM 4.5: eight regions (Zephyr reads MPU_TYPE.DREGION)
PAGE = 0x400  # Unicorn's ARM page size: the granularity of its protections
R, W, X = unicorn.UC_PROT_READ, unicorn.UC_PROT_WRITE, unicorn.UC_PROT_EXEC
CTRL_ENABLE, CTRL_HFNMIENA, CTRL_PRIVDEFENA = 1, 2, 4
PPB = (0xE0000000, 0xE0100000)
# AP (B3.5.9 Table B3-15) -> (privileged, unprivileged) data permissions; 0b100 is reserved (no access)
_AP = {0: (0, 0), 1: (R | W, 0), 2: (R | W, R), 3: (R | W, R | W), 4: (0, 0), 5: (R, 0), 6: (R, R), 7: (R, R)}
RASR_BITS = 0x173FFF3F  # XN, AP, TEX, S, C, B, SRD, SIZE, ENABLE


@dataclass(frozen=True)
class Region:
    """One MPU region as programmed (RBAR address, RASR fields)."""

    number: int
    base: int
    size_log2: int  # region size 2**size_log2 bytes (RASR.SIZE + 1, at least 5)
    srd: int
    ap: int
    xn: bool

    @property
    def end(self) -> int:
        return self.base + (1 << self.size_log2)

    def holds(self, addr: int) -> bool:
        if not self.base <= addr < self.end:
            return False
        if self.size_log2 >= 8 and self.srd:  # eight sub-regions for regions of 256 bytes or more
            sub = (addr - self.base) >> (self.size_log2 - 3)
            return not self.srd >> sub & 1
        return True

    def edges(self) -> list[int]:
        """Addresses at which this region's effect may change (its bounds and sub-region bounds)."""
        if self.size_log2 >= 8 and self.srd:
            step = 1 << (self.size_log2 - 3)
            return [self.base + i * step for i in range(9)]
        return [self.base, self.end]

    def perms(self, privileged: bool) -> int:
        data = _AP[self.ap][0 if privileged else 1]
        return data | (X if data & R and not self.xn else 0)


class Mpu(RegisterBlock):
    """MPU_TYPE .. MPU_RASR_A3 (B3.5.5-B3.5.10); ``on_change`` runs after anything that moves the map."""

    NAME = "MPU"
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    BASE = SCS_BASE
    REGISTERS = (
        Register("TYPE", 0xD90, access="r", reset=DREGION << 8, doc="DREGION 8, IREGION 0, unified"),
        Register("CTRL", 0xD94, implemented=0x7),
        Register("RNR", 0xD98, implemented=0xFF),
        Register("RBAR", 0xD9C),
        Register("RASR", 0xDA0, implemented=RASR_BITS),
        Register("RBAR_A1", 0xDA4), Register("RASR_A1", 0xDA8, implemented=RASR_BITS),
        Register("RBAR_A2", 0xDAC), Register("RASR_A2", 0xDB0, implemented=RASR_BITS),
        Register("RBAR_A3", 0xDB4), Register("RASR_A3", 0xDB8, implemented=RASR_BITS),
    )

    def __init__(self, host: ReportHost, on_change: Callable[[], None] = lambda: None) -> None:
        self.on_change = on_change
        self.rbar = [0] * DREGION
        self.rasr = [0] * DREGION
        super().__init__(host)

    def reset(self) -> None:
        super().reset()
        self.rbar = [0] * DREGION
        self.rasr = [0] * DREGION

    # --- state --------------------------------------------------------------------------
    @property
    def ctrl(self) -> int:
        return self.get("CTRL")

    @property
    def enabled(self) -> bool:
        return bool(self.values["CTRL"] & CTRL_ENABLE)  # (CTRL's stored value: asked at every arming of C)

    def regions(self) -> list[Region]:
        """The enabled regions, lowest number first (the highest number wins where they overlap)."""
        out = []
        for n in range(DREGION):
            rasr = self.rasr[n]
            if not rasr & 1:
                continue
            size_log2 = max(((rasr >> 1) & 0x1F) + 1, 5)
            base = self.rbar[n] & ~((1 << size_log2) - 1) & 0xFFFFFFFF
            out.append(Region(n, base, size_log2, (rasr >> 8) & 0xFF, (rasr >> 24) & 7, bool(rasr >> 28 & 1)))
        return out

    def bypassed(self, negative_priority: bool) -> bool:
        """The default memory map applies to everything (B3.5.1)."""
        return not self.enabled or (negative_priority and not self.ctrl & CTRL_HFNMIENA)

    def perms_at(self, addr: int, privileged: bool, negative_priority: bool = False,
                 regions: list[Region] | None = None) -> int:
        """R/W/X permissions of the byte at ``addr`` (Unicorn's UC_PROT bits); the memory's own apply on top."""
        if self.bypassed(negative_priority) or PPB[0] <= addr < PPB[1]:
            return R | W | X
        for region in reversed(self.regions() if regions is None else regions):
            if region.holds(addr):
                return region.perms(privileged)
        if privileged and self.ctrl & CTRL_PRIVDEFENA:
            return R | W | X
        return 0

    def allows(self, addr: int, size: int, need: int, privileged: bool, negative_priority: bool = False) -> bool:
        regions = self.regions()
        return all(self.perms_at(a, privileged, negative_priority, regions) & need == need
                   for a in {addr, addr + size - 1})

    # --- registers ----------------------------------------------------------------------
    def _region_number(self) -> int:
        return self.get("RNR") % DREGION

    def write_CTRL(self, value: int, mask: int) -> None:
        new = self.merge("CTRL", 0, value, mask & 7)
        if new & CTRL_HFNMIENA and not new & CTRL_ENABLE:
            self.guest_error("MPU.CTRL", "HFNMIENA set with the MPU disabled (UNPREDICTABLE, B3.5.6)")
        self.on_change()

    def write_RNR(self, value: int, mask: int) -> None:
        new = self.merge("RNR", 0, value, mask & 0xFF)
        if new >= DREGION:
            self.guest_error("MPU.RNR", f"region {new} written; the MPU has {DREGION} (UNPREDICTABLE)")

    def _read_rbar(self) -> int:
        n = self._region_number()
        return (self.rbar[n] & 0xFFFFFFE0) | n

    def _write_rbar(self, value: int, mask: int) -> None:
        if mask & 0x10 and value & 0x10:  # VALID: REGION[3:0] selects the region and updates RNR
            self.set("RNR", value & 0xF)
            if value & 0xF >= DREGION:
                self.guest_error("MPU.RBAR", f"region {value & 0xF} selected; the MPU has {DREGION}")
        n = self._region_number()
        self.rbar[n] = (self.rbar[n] & ~mask | value & mask) & 0xFFFFFFE0
        self.on_change()

    def _write_rasr(self, value: int, mask: int) -> None:
        n = self._region_number()
        self.rasr[n] = (self.rasr[n] & ~mask | value & mask) & RASR_BITS
        if self.rasr[n] & 1 and (self.rasr[n] >> 1) & 0x1F < 4:
            self.guest_error("MPU.RASR", f"region {n} SIZE {(self.rasr[n] >> 1) & 0x1F} is below 32 "
                             "bytes (UNPREDICTABLE, B3.5.9); treated as 32 bytes")
        self.on_change()

    def read_RBAR(self) -> int:
        return self._read_rbar()

    def read_RASR(self) -> int:
        return self.rasr[self._region_number()]

    def write_RBAR(self, value: int, mask: int) -> None:
        self._write_rbar(value & mask, mask)

    def write_RASR(self, value: int, mask: int) -> None:
        self._write_rasr(value & mask, mask)

    # the aliases (B3.5.5): the same registers at +8, +0x10, +0x18
    read_RBAR_A1 = read_RBAR_A2 = read_RBAR_A3 = read_RBAR
    read_RASR_A1 = read_RASR_A2 = read_RASR_A3 = read_RASR
    write_RBAR_A1 = write_RBAR_A2 = write_RBAR_A3 = write_RBAR
    write_RASR_A1 = write_RASR_A2 = write_RASR_A3 = write_RASR


@dataclass(frozen=True)
class Window:
    """A mapped memory range (a board memory or one of its aliases) with its own permissions."""

    base: int
    end: int
    perms: int


def page_map(mpu: Mpu, windows: list[Window], privileged: bool, negative_priority: bool = False
             ) -> list[tuple[int, int, int, bool]]:
    """(start, end, perms, trap) runs covering every window: the permissions Unicorn should enforce.

    ``trap`` marks pages that a region boundary splits: their permissions are what all their
    bytes share, and an access that is refused there must be decided exactly (``Mpu.allows``).
    """
    regions = mpu.regions()
    edges = sorted({e for r in regions for e in r.edges()})
    out: list[tuple[int, int, int, bool]] = []

    def add(start: int, end: int, perms: int, trap: bool) -> None:
        if out and out[-1][1] == start and out[-1][2] == perms and out[-1][3] == trap:
            out[-1] = (out[-1][0], end, perms, trap)
        else:
            out.append((start, end, perms, trap))

    for w in windows:
        cuts = [w.base] + [e for e in edges if w.base < e < w.end] + [w.end]
        spans = [(a, b, mpu.perms_at(a, privileged, negative_priority, regions) & w.perms)
                 for a, b in zip(cuts, cuts[1:])]
        page = w.base
        i = 0
        while page < w.end:
            nxt = min(page + PAGE, w.end)
            while spans[i][1] <= page:
                i += 1
            a, b, perms = spans[i]
            if b >= nxt:  # the whole page in one span: jump to the span's last whole page
                last = b if b == w.end else b & ~(PAGE - 1)
                if last > page:
                    add(page, last, perms, False)
                    page = last
                    continue
            common, j = R | W | X, i
            while j < len(spans) and spans[j][0] < nxt:
                common &= spans[j][2]
                j += 1
            add(page, nxt, common, True)
            page = nxt
    return out


class MpuPages:
    """Keeps Unicorn's page protections equal to the MPU's decision for the current privilege."""

    def __init__(self, uc: unicorn.Uc, windows: list[Window]) -> None:
        self.uc = uc
        self.windows = windows
        self.applied: list[tuple[int, int, int, bool]] = [(w.base, w.end, w.perms, False) for w in windows]
        self.key: tuple[object, ...] | None = None
        self.protect_calls = 0

    def sync(self, mpu: Mpu, privileged: bool, negative_priority: bool) -> bool:
        """Apply the map for this privilege if it is not the applied one (cheap when nothing changed).

        Returns whether any protection changed.
        """
        bypass = mpu.bypassed(negative_priority)
        key = ("off",) if bypass else (privileged, mpu.ctrl, tuple(mpu.rbar), tuple(mpu.rasr))
        if key == self.key:
            return False
        self.key = key
        calls = self.protect_calls
        runs = [(w.base, w.end, w.perms, False) for w in self.windows] if bypass else \
            page_map(mpu, self.windows, privileged, negative_priority)
        old = {(a, b, p) for a, b, p, _t in self.applied}
        for a, b, p, _t in runs:
            if (a, b, p) not in old:
                self.uc.mem_protect(a, b - a, p)
                self.protect_calls += 1
        self.applied = runs
        return self.protect_calls != calls

    def perms_at(self, addr: int) -> int:
        return next((p for a, b, p, _t in self.applied if a <= addr < b), self.window_perms(addr))

    def trap_at(self, addr: int) -> bool:
        return any(a <= addr < b and trap for a, b, _p, trap in self.applied)

    def window_perms(self, addr: int) -> int:
        for w in self.windows:
            if w.base <= addr < w.end:
                return w.perms
        return 0

    def open_page(self, addr: int) -> tuple[int, int]:
        """Give the page at ``addr`` its memory's own permissions (to step one allowed access); returns
        (page, permissions to restore)."""
        page = addr & ~(PAGE - 1)
        restore = self.perms_at(page)
        self.uc.mem_protect(page, PAGE, self.window_perms(page))
        return page, restore
