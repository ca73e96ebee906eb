"""nRF52840 NVMC (Product Specification v1.7, section 4.3): writing and erasing the flash and the UICR.

The flash is read-only to plain stores; with ``CONFIG.WEN`` = 1 (Wen) a 32-bit store to a flash
or UICR word programs it: bits can only go from 1 to 0 (the new word is old AND written; a
write that tries to set a 0 bit is reported as a firmware error, erase first), and ``READY`` is
0 for the write time t_WRITE = 41 us. With ``CONFIG.WEN`` = 2 (Een), ``ERASEPAGE`` (a page
address), ``ERASEALL`` and ``ERASEUICR`` (write 1) set the page, the whole flash and UICR, or
the UICR to 0xFF, with ``READY`` 0 for t_ERASEPAGE = 85 ms or t_ERASEALL = 169 ms;
``ERASEPAGEPARTIAL`` erases in steps of ``ERASEPAGEPARTIALCFG`` ms (the PS's maximum times).
Stores to flash with ``CONFIG.WEN`` = 0, byte and halfword stores, and erases in the wrong mode are
refused: the store faults as before (a write to read-only memory), the others are reported.

Not modelled: the instruction cache counters (``IHIT``/``IMISS``); code rewritten in flash while
simcore has it translated keeps running as it was (firmware that updates itself is rare).
"""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel
from simcore.peripherals.nrf52.common import PART
from simcore.regfile import NEVER

PAGE = 0x1000
FLASH = (0x00000000, 0x00100000)  # 256 pages of 4 KiB (FICR CODEPAGESIZE, CODESIZE)
UICR = (0x10001000, 0x10002000)
US = FS_PER_SECOND // 1_000_000
T_WRITE = 41 * US
T_ERASEPAGE = 85_000 * US
T_ERASEALL = 169_000 * US
REN, WEN, EEN = 0, 1, 2


@register_model
class Nrf52Nvmc(PeripheralModel):
    """NVMC of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_nvmc"
    SVD = "NVMC"
    PARTS = (PART,)
    SIZE = 0x1000
    POLL_SAFE = True
    PLAIN = ("ERASEPAGEPARTIALCFG", "ICACHECNF")

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self._busy: Any = None
        self._ready_t: int | None = None  # READY's schedule in the register file (_ready_in_c), None: none yet
        self._ready_tried = False
        self.writes = 0
        self.erases = 0
        super().__init__(config, host, registers)
        if hasattr(host, "protected_write"):
            host.protected_write = self.cpu_write  # stores to read-only memory come here first

    # --- status -------------------------------------------------------------------------------------
    def read_READY(self) -> int:
        return int(self._busy is None)

    read_READYNEXT = read_READY

    def _occupy(self, fs: int) -> None:
        if self._busy is not None:
            self.host.cancel(self._busy)
        self._busy = ev = self.host.schedule_at_fs(self.host.now_fs() + fs, self._ready, f"{self.svd_name} ready")
        self._ready_in_c(ev.at_cycle)
        if self._ready_t is not None and self.READY_END_IN_C and hasattr(ev, "apply"):
            ev.apply = self._ready_plan

    READY_END_IN_C = True  # False: the busy time's end is a run-loop stop (tests compare both)

    def _ready_plan(self) -> tuple[list[tuple[int, int, int]], int, Any]:
        """The busy time's end as C may do it at its cycle (Event.apply): nothing in the register file (READY's
        schedule there ends at this cycle: its reads are this model's from it on, and Python's guard of such a read
        settles _ready first), so no run-loop stop."""
        return [], 0, self._ready

    def _ready(self) -> None:
        self._busy = None
        self._ready_in_c(None)

    def _ready_in_c(self, busy_until: int | None) -> None:
        """READY's reads while the NVMC is busy served by the register file (a TIMED schedule, docs/peripheral-
        bus.md): 0 before ``busy_until``, the cycle of the event that ends the busy time; from that cycle on (and
        when not busy) the reads are this model's again (read_READY), so a moved event only moves them back here.
        A firmware's wait loop on READY (85 ms of an erase) is then read and fast-forwarded in C."""
        bus = getattr(self.host, "bus", None)
        if self._ready_t is None:
            if self._ready_tried or bus is None or busy_until is None:
                return
            self._ready_tried = True
            self._ready_t = bus.timed_in_c(self.base + self.register("READY").offset)
            if self._ready_t is None:
                return
        bus.rf.timed_set(self._ready_t, 0, 0, NEVER, 0 if busy_until is None else busy_until)

    def write_CONFIG(self, value: int) -> None:
        if value & 3 == 3:
            self.guest_error(self.where("CONFIG"), "WEN = 3 is reserved (read-only kept)")
            value = REN
        self.values["CONFIG"] = value & 3

    # --- writes from the CPU ---------------------------------------------------------------------------
    def cpu_write(self, addr: int, size: int, value: int) -> bool:
        """A store to read-only memory: program a flash or UICR word if CONFIG.WEN allows (True: handled)."""
        if not (FLASH[0] <= addr < FLASH[1] or UICR[0] <= addr < UICR[1]):
            return False
        if self.values["CONFIG"] & 3 != WEN:
            return False  # a plain store to flash: the fault it always was
        if size != 4 or addr % 4:
            self.guest_error(f"{self.svd_name}.CONFIG", f"a {size}-byte store at {addr:#010x} while writing flash: "
                             "only aligned 32-bit words can be written (ignored)")
            return True
        old = int.from_bytes(self.host.mem_read(addr, 4), "little")
        value &= 0xFFFFFFFF
        if value & ~old:
            self.guest_error(f"{self.svd_name}.CONFIG", f"write of {value:#010x} to the flash word at {addr:#010x} "
                             f"holding {old:#010x}: bits at 0 cannot be set back to 1 without an erase")
        self.host.mem_write(addr, (old & value).to_bytes(4, "little"))
        self.writes += 1
        self._occupy(T_WRITE)
        return True

    # --- erases ----------------------------------------------------------------------------------------
    def _erase_mode(self, reg: str) -> bool:
        if self.values["CONFIG"] & 3 == EEN:
            return True
        self.guest_error(self.where(reg), "erase requested while CONFIG.WEN != 2 (Een): ignored")
        return False

    def _fill(self, lo: int, hi: int) -> None:
        self.host.mem_write(lo, b"\xff" * (hi - lo))
        self.erases += 1

    def write_ERASEPAGE(self, value: int) -> None:
        self.values["ERASEPAGE"] = value
        if not self._erase_mode("ERASEPAGE"):
            return
        if not FLASH[0] <= value < FLASH[1] or value % PAGE:
            self.guest_error(self.where("ERASEPAGE"), f"{value:#010x} is not the start of a flash page: ignored")
            return
        self._fill(value, value + PAGE)
        self._occupy(T_ERASEPAGE)

    def write_ERASEPAGEPARTIAL(self, value: int) -> None:
        self.values["ERASEPAGEPARTIAL"] = value
        if not self._erase_mode("ERASEPAGEPARTIAL"):
            return
        if not FLASH[0] <= value < FLASH[1] or value % PAGE:
            self.guest_error(self.where("ERASEPAGEPARTIAL"), f"{value:#010x} is not the start of a flash page: ignored")
            return
        self._fill(value, value + PAGE)  # the page is erased after the last partial step; simcore: at the first
        self._occupy((self.values["ERASEPAGEPARTIALCFG"] & 0x7F) * 1000 * US)

    def write_ERASEALL(self, value: int) -> None:
        if value & 1 and self._erase_mode("ERASEALL"):
            self._fill(*FLASH)
            self._fill(*UICR)
            self._occupy(T_ERASEALL)

    def write_ERASEUICR(self, value: int) -> None:
        if value & 1 and self._erase_mode("ERASEUICR"):
            self._fill(*UICR)
            self._occupy(T_ERASEPAGE)

    def sensor_stats(self) -> dict[str, Any] | None:
        if not self.writes and not self.erases:
            return None
        return {"name": self.name, "type": self.TYPE, "word_writes": self.writes, "erases": self.erases}
