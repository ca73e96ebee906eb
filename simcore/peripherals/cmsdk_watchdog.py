"""Arm CMSDK APB watchdog (Cortex-M System Design Kit TRM, DDI 0479C, section 4.6; SP805-style).

A 32-bit down counter clocked by WDOGCLK (the peripheral clock: SYSCLK on the MPS2), running
while ``CTRL.INTEN`` is set. When it reaches zero it raises its interrupt (``RIS``) and
reloads from ``LOAD``; if it reaches zero again before the firmware clears the interrupt
(``INTCLR``) and ``CTRL.RESEN`` is set, it resets the part. Writing ``LOAD`` or ``INTCLR``
reloads the counter; enabling ``INTEN`` after it was clear reloads it too. ``LOCK``: writing
0x1ACCE551 opens the other registers to writes, any other value closes them (reads of LOCK
give 1 while closed); a write to a closed register is ignored and reported as a firmware error.

On the MPS2 AN385/AN386 the watchdog sits at 0x40008000 and its interrupt drives NMI (QEMU
hw/arm/mps2.c wires it so): board option ``nmi = true``; otherwise ``irq`` gives an NVIC line.
The reset stops the run as a reset by the watchdog (simcore does not reboot the image), with
the report saying so. Nothing ticks: the value is computed from the virtual clock when read,
and the next zero is one scheduled event.
"""

from __future__ import annotations

from typing import Any

from simcore.peripherals import register_model
from simcore.peripherals.base import Register
from simcore.peripherals.cmsdk import _CID, DownCounter, _Clocked, _id_registers

UNLOCK = 0x1ACCE551


@register_model
class CmsdkWatchdog(_Clocked):
    """CMSDK APB watchdog: LOAD, VALUE, CTRL, INTCLR, RIS, MIS, LOCK (DDI 0479C 4.6)."""

    TYPE = "cmsdk_watchdog"
    SIZE = 0x1000
    REGISTERS = (
        Register("LOAD", 0x000, reset=0xFFFFFFFF),
        Register("VALUE", 0x004, access="r", reset=0xFFFFFFFF),
        Register("CTRL", 0x008, implemented=0x3, doc="bit0 INTEN (counter and interrupt), bit1 RESEN"),
        Register("INTCLR", 0x00C, access="w"),
        Register("RIS", 0x010, access="r", implemented=0x1),
        Register("MIS", 0x014, access="r", implemented=0x1),
        Register("LOCK", 0xC00),
        Register("ITCR", 0xF00, modelled=False, doc="integration test mode (not modelled)"),
        Register("ITOP", 0xF04, access="w", modelled=False),
        *_id_registers({"PID4": 0x04, "PID0": 0x24, "PID1": 0xB8, "PID2": 0x1B, **_CID}),
    )
    INTEN, RESEN = 1 << 0, 1 << 1

    def reset(self) -> None:
        super().reset()
        self.counter = DownCounter(start=0xFFFFFFFF)
        self.frozen = 0xFFFFFFFF  # VALUE while the counter is stopped
        self.ris = 0
        self._level = False  # the interrupt output
        self.locked = False
        self.timeouts = 0  # zeros reached (for reports and tests)
        self.reset_requested = False
        self._synced = 0
        self._event: Any = None

    # --- the counter ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self.values["CTRL"] & self.INTEN)

    def _sync(self) -> int:
        """Bring RIS and the reset up to the current tick; returns it."""
        now = self.tick()
        if self.running:
            zeros = self.counter.zeros_between(self._synced, now)
            if zeros:
                self.timeouts += zeros
                if self.ris or zeros > 1:
                    self._reset_part()
                self.ris = 1
        self._synced = now
        return now

    def _reload(self) -> None:
        now = self._sync()
        load = self.values["LOAD"]
        self.counter = DownCounter(anchor=now, start=load, reload=load)
        self.frozen = load

    def _update(self) -> None:
        """Drive the interrupt (NMI or the IRQ line) and schedule the next zero."""
        level = bool(self.ris and self.running)
        rising, self._level = level and not self._level, level
        if self.config.options.get("nmi"):
            if rising:  # NMI is taken once per assertion; INTCLR lowers the output
                self.host.pend_nmi()
        elif self.irq is not None:
            self.host.set_irq(self.irq, level)
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None
        if self.running and not self.reset_requested and (not self.ris or self.values["CTRL"] & self.RESEN):
            nxt = self.counter.next_zero_after(self._synced)
            if nxt is not None:
                self._event = self.host.schedule(self.cycle_of_tick(nxt), self._fire, f"{self.name} timeout")

    def _fire(self) -> None:
        self._event = None
        self._sync()
        self._update()

    def _reset_part(self) -> None:
        if self.values["CTRL"] & self.RESEN and not self.reset_requested:
            self.reset_requested = True
            self.host.request_reset(self.name, "the watchdog timed out twice without its interrupt being cleared "
                                    f"(LOAD {self.values['LOAD']:#x}, {self.timeouts} timeouts)")

    # --- registers ---------------------------------------------------------------------------
    def _writable(self, reg: str) -> bool:
        if self.locked:
            self.guest_error(f"{self.name}.{reg}", "write while LOCK is closed (ignored; write 0x1ACCE551 to "
                             "LOCK first)")
            return False
        return True

    def write_LOAD(self, value: int) -> None:
        if self._writable("LOAD"):
            self.values["LOAD"] = value
            self._reload()
            self._update()

    def read_VALUE(self) -> int:
        if not self.running:
            return self.frozen
        return self.counter.value(self._sync())

    def write_CTRL(self, value: int) -> None:
        if not self._writable("CTRL"):
            return
        was = self.running
        current = self.read_VALUE()
        self.values["CTRL"] = value & 0x3
        if self.running and not was:
            self._synced = self.tick()
            self._reload()  # re-enabled: the counter restarts from LOAD
        elif not self.running:
            self.frozen = current
        self._update()

    def write_INTCLR(self, value: int) -> None:
        if self._writable("INTCLR"):
            self._sync()
            self.ris = 0
            self._reload()
            self._update()

    def read_RIS(self) -> int:
        self._sync()
        return self.ris

    def read_MIS(self) -> int:
        self._sync()
        return self.ris if self.running else 0

    def read_LOCK(self) -> int:
        return int(self.locked)

    def write_LOCK(self, value: int) -> None:
        self.locked = value != UNLOCK
