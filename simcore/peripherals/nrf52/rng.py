"""nRF52840 RNG (Product Specification v1.7, section 6.21): random bytes, seeded so that runs repeat.

``TASKS_START`` produces a byte in ``VALUE`` and ``EVENTS_VALRDY`` every 30 us (120 us with bias
correction, ``CONFIG.DERCEN``: the PS's typical times per byte) until ``TASKS_STOP`` or the
``VALRDY_STOP`` shortcut. The bytes come from a generator seeded by the board option ``seed``
(default 0), so the same firmware and inputs give the same bytes and counts on every run.
"""

from __future__ import annotations

import random
from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral

US = FS_PER_SECOND // 1_000_000
EV_VALRDY = 0


@register_model
class Nrf52Rng(NordicPeripheral):
    """RNG of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_rng"
    SVD = "RNG"
    PLAIN = ("SHORTS", "CONFIG")
    OPTIONS = {"seed": "seed of the byte sequence (default 0)"}

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.random = random.Random(int(config.options.get("seed", 0)))
        self._event: Any = None
        self.bytes = 0
        super().__init__(config, host, registers)

    def _period(self) -> int:
        return (120 if self.values["CONFIG"] & 1 else 30) * US

    def task_START(self) -> None:
        if self._event is None:
            ev = self.host.schedule_at_fs(self.host.now_fs() + self._period(), self._ready, f"{self.svd_name} value")
            if hasattr(ev, "apply"):
                ev.apply = self._apply_plan
            self._event = ev

    def _apply_plan(self) -> tuple[list[tuple[int, int, int]], int, Any] | None:
        """The byte as C may make it ready at its cycle (Event.apply): EVENTS_VALRDY held by the register file with
        nothing else seeing it; VALUE stays the model's (its read comes here, after Machine.settle_apply)."""
        ops = self.apply_ops((EV_VALRDY,))
        return (ops, self._period(), self._ready_applied) if ops is not None else None

    def _ready_applied(self) -> None:
        """:meth:`_ready` after C set EVENTS_VALRDY (Machine.settle_apply, as of that cycle)."""
        self._event = None
        self.values["VALUE"] = self.random.getrandbits(8)
        self.bytes += 1
        self.task_START()
        self.fire_applied(EV_VALRDY)

    def task_STOP(self) -> None:
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None

    def _ready(self) -> None:
        self._event = None
        self.values["VALUE"] = self.random.getrandbits(8)
        self.bytes += 1
        self.task_START()  # the next byte, unless the VALRDY_STOP shortcut stops it below
        self.fire(EV_VALRDY)

    def read_VALUE(self) -> int:
        return self.values["VALUE"]
