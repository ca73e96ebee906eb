"""nRF52840 TEMP (Product Specification v1.7, section 6.28): the die temperature sensor.

``TASKS_START`` starts a measurement: ``EVENTS_DATARDY`` t_TEMP = 36 us later (the PS's typical
time) with ``TEMP`` in steps of 0.25 degrees C (signed), the board option ``celsius`` (default 25),
rounded to the step. ``TASKS_STOP`` cancels a measurement under way. The calibration registers
``A0``-``A5``, ``B0``-``B5`` and ``T0``-``T4`` (which the MDK's ``SystemInit`` copies from FICR for
anomaly 66) are storage: simcore's sensor reads exactly, whatever they hold.
"""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral

T_TEMP_FS = 36 * FS_PER_SECOND // 1_000_000
EV_DATARDY = 0


@register_model
class Nrf52Temp(NordicPeripheral):
    """TEMP of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_temp"
    SVD = "TEMP"
    PLAIN = tuple(f"{c}{i}" for c, n in (("A", 6), ("B", 6), ("T", 5)) for i in range(n))
    OPTIONS = {"celsius": "the die temperature the sensor measures (default 25.0)"}

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.celsius = float(config.options.get("celsius", 25.0))
        self._event: Any = None
        self.measurements = 0
        super().__init__(config, host, registers)

    def task_START(self) -> None:
        if self._event is None:
            self._event = self.host.schedule_at_fs(self.host.now_fs() + T_TEMP_FS, self._ready,
                                                   f"{self.svd_name} DATARDY")

    def task_STOP(self) -> None:
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None

    def _ready(self) -> None:
        self._event = None
        self.values["TEMP"] = round(self.celsius * 4) & 0xFFFFFFFF
        self.measurements += 1
        self.fire(EV_DATARDY)

    def read_TEMP(self) -> int:
        return self.values["TEMP"]

    def reset(self) -> None:
        if getattr(self, "_event", None) is not None:
            self.host.cancel(self._event)
        self._event = None
        super().reset()
