"""nRF52840 WDT (Product Specification v1.7, section 6.36): a watchdog that resets the part when starved.

``TASKS_START`` starts a down-counter on the 32.768 kHz clock (the WDT runs the LFRC itself if
the LFCLK is off) from ``CRV``: timeout after (``CRV`` + 1) / 32768 s. Writing 0x6E524635 to
every reload register enabled in ``RREN`` (``RR[n]``) reloads it (``REQSTATUS`` shows those still to
write). At the timeout ``EVENTS_TIMEOUT`` (with its interrupt) and, two 32.768 kHz cycles later, a
reset of the part: the image boots again with ``POWER.RESETREAS.DOG`` set, and the summary and
``--json`` list the reset with its cause. Once running, ``CRV``, ``RREN`` and ``CONFIG`` are
write-protected (a write is reported and ignored). ``CONFIG.SLEEP`` = 0 (pause while the CPU
sleeps) and ``CONFIG.HALT`` are stored but not modelled: the counter always runs.
"""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.registers import Register

RELOAD = 0x6E524635
EV_TIMEOUT = 0
LF_HZ = 32768


@register_model
class Nrf52Wdt(NordicPeripheral):
    """WDT of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_wdt"
    SVD = "WDT"
    REGISTERS = NordicPeripheral.REGISTERS + (Register("RR", 0x600, count=8, access="w"),)

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.running = False
        self._event: Any = None
        self._pending_rr = 0
        self.reloads = 0
        super().__init__(config, host, registers)

    def _timeout_fs(self) -> int:
        return (self.values["CRV"] + 1) * FS_PER_SECOND // LF_HZ

    def _arm(self) -> None:
        if self._event is not None:
            self.host.cancel(self._event)
        self._started_fs = self.host.now_fs()
        self._event = self.host.schedule_at_fs(self._started_fs + self._timeout_fs(), self._timeout,
                                               f"{self.svd_name} timeout")
        self._pending_rr = self.values["RREN"] & 0xFF

    def task_START(self) -> None:
        if self.running:
            return
        self.running = True
        self._arm()

    def _timeout(self) -> None:
        self.fire(EV_TIMEOUT)
        self._event = self.host.schedule_at_fs(self.host.now_fs() + 2 * FS_PER_SECOND // LF_HZ, self._reset,
                                               f"{self.svd_name} reset")

    def _reset(self) -> None:
        self._event = None
        secs = self._timeout_fs() / FS_PER_SECOND
        why = (f"the watchdog was not reloaded within CRV + 1 = {self.values['CRV'] + 1} cycles of 32.768 kHz "
               f"({secs:.6g} s); reload registers still to write: {self._pending_rr:#04x} (RREN "
               f"{self.values['RREN'] & 0xFF:#04x}), {self.reloads} reloads before")
        reset = getattr(self.host, "request_reset", None)
        if reset is not None:
            reset("wdt", why)
        self.running = False

    def reset_armed(self) -> bool:
        """A reset will come unless the firmware reloads (idle loops fast-forward to it)."""
        return self.running

    def reset(self) -> None:
        if getattr(self, "_event", None) is not None:
            self.host.cancel(self._event)
        self._event = None
        self.running = False
        self._pending_rr = 0
        super().reset()

    def write_RR(self, n: int, value: int) -> None:
        if value != RELOAD or not self.running:
            return
        self._pending_rr &= ~(1 << n)
        if self._pending_rr == 0 and self.values["RREN"] & 0xFF:
            self.reloads += 1
            self._arm()

    def read_RUNSTATUS(self) -> int:
        return int(self.running)

    def read_REQSTATUS(self) -> int:
        return self._pending_rr if self.running else self.values["RREN"] & 0xFF

    def _protected(self, name: str, value: int) -> None:
        if self.running:
            if value != self.values[name]:
                self.guest_error(self.where(name), "write-protected while the watchdog runs (ignored)")
            return
        self.values[name] = value

    def write_CRV(self, value: int) -> None:
        if not self.running and value < 0xF:
            self.guest_error(self.where("CRV"), f"CRV {value:#x} is below the minimum 0xF (PS 6.36.?): stored")
        self._protected("CRV", value)

    def write_RREN(self, value: int) -> None:
        self._protected("RREN", value & 0xFF)

    def write_CONFIG(self, value: int) -> None:
        if not value & 1 and not self.running:
            self.unimplemented(self.where("CONFIG") + ".SLEEP", "pausing the watchdog while the CPU sleeps is not "
                               "modelled: it keeps counting")
        self._protected("CONFIG", value & 0x9)

    def sensor_stats(self) -> dict[str, Any] | None:
        if not self.running:
            return None  # a reset it caused is in the run's resets
        return {"name": self.name, "type": self.TYPE, "running": self.running, "reloads": self.reloads,
                "timeout_s": self._timeout_fs() / FS_PER_SECOND}
