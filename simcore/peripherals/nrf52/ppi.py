"""nRF52840 PPI (Product Specification v1.7, section 6.16): events of one peripheral trigger tasks of another.

Channel n (0-19) connects the event register at ``CH[n].EEP`` to the task register at
``CH[n].TEP``, and to ``FORK[n].TEP`` as well; channels 20-31 are pre-programmed (their
addresses are fixed, table "Pre-programmed channels": TIMER0 and RTC0 to the RADIO, AAR, CCM and
TIMER0). ``CHEN`` enables channels (``CHENSET``/``CHENCLR``); ``CHG[g]`` lists the channels of
group g, and ``TASKS_CHG[g].EN``/``.DIS`` enable or disable them all (tasks the PPI itself can
trigger). The routes go to the part's :class:`~simcore.peripherals.nrf52.common.Fabric`: a
peripheral publishing an event triggers the routed tasks at the same moment (the PS's
one-cycle PPI delay is below what simcore times). A TEP naming a task simcore does not model is
reported when its channel is enabled.
"""

from __future__ import annotations

from typing import Any

from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.registers import Register

N_CONFIGURABLE = 20
N_GROUPS = 6
TIMER0, RTC0, RADIO, AAR_CCM = 0x40008000, 0x4000B000, 0x40001000, 0x4000F000
# PS 6.16, "Pre-programmed channels": channel -> (event address, task address)
FIXED = {
    20: (TIMER0 + 0x140, RADIO + 0x000),  # TIMER0 COMPARE[0] -> RADIO TXEN
    21: (TIMER0 + 0x140, RADIO + 0x004),  # TIMER0 COMPARE[0] -> RADIO RXEN
    22: (TIMER0 + 0x144, RADIO + 0x010),  # TIMER0 COMPARE[1] -> RADIO DISABLE
    23: (RADIO + 0x128, AAR_CCM + 0x000),  # RADIO BCMATCH -> AAR START
    24: (RADIO + 0x100, AAR_CCM + 0x000),  # RADIO READY -> CCM KSGEN
    25: (RADIO + 0x104, AAR_CCM + 0x004),  # RADIO ADDRESS -> CCM CRYPT
    26: (RADIO + 0x104, TIMER0 + 0x044),  # RADIO ADDRESS -> TIMER0 CAPTURE[1]
    27: (RADIO + 0x10C, TIMER0 + 0x048),  # RADIO END -> TIMER0 CAPTURE[2]
    28: (RTC0 + 0x140, RADIO + 0x000),  # RTC0 COMPARE[0] -> RADIO TXEN
    29: (RTC0 + 0x140, RADIO + 0x004),  # RTC0 COMPARE[0] -> RADIO RXEN
    30: (RTC0 + 0x140, TIMER0 + 0x00C),  # RTC0 COMPARE[0] -> TIMER0 CLEAR
    31: (RTC0 + 0x140, TIMER0 + 0x000),  # RTC0 COMPARE[0] -> TIMER0 START
}


@register_model
class Nrf52Ppi(NordicPeripheral):
    """The PPI of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_ppi"
    SVD = "PPI"
    REGISTERS = NordicPeripheral.REGISTERS + (
        Register("CHEN", 0x500), Register("CHENSET", 0x504), Register("CHENCLR", 0x508),
        Register("CH_EEP", 0x510, count=N_CONFIGURABLE, stride=8),
        Register("CH_TEP", 0x514, count=N_CONFIGURABLE, stride=8),
        Register("CHG", 0x800, count=N_GROUPS),
        Register("FORK_TEP", 0x910, count=32),
    )

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self._reported: set[tuple[int, int]] = set()
        super().__init__(config, host, registers)

    def reg_name(self, reg: Register, index: int = 0) -> str:
        names = {"CH_EEP": f"CH[{index}].EEP", "CH_TEP": f"CH[{index}].TEP", "FORK_TEP": f"FORK[{index}].TEP"}
        if reg.name in names:
            return f"PPI.{names[reg.name]}"
        return super().reg_name(reg, index)

    # --- routes --------------------------------------------------------------------------------------
    def channel(self, n: int) -> tuple[int, int, int]:
        """(event address, task address, fork task address) of channel ``n`` (0 where none)."""
        if n in FIXED:
            eep, tep = FIXED[n]
        else:
            eep, tep = self.values[f"CH_EEP{n}"], self.values[f"CH_TEP{n}"]
        return eep, tep, self.values[f"FORK_TEP{n}"]

    def _rebuild(self) -> None:
        routes: dict[int, list[int]] = {}
        chen = self.values["CHEN"]
        for n in range(32):
            if not chen >> n & 1:
                continue
            eep, tep, fork = self.channel(n)
            if not eep:
                continue
            for i, task in enumerate((tep, fork)):
                if not task:
                    continue
                routes.setdefault(eep, []).append(task)
                if self.fabric.task_name(task) is None and (n, i) not in self._reported and n < N_CONFIGURABLE:
                    self._reported.add((n, i))
                    where = self.reg_name(self.register("FORK_TEP" if i else "CH_TEP"), n)
                    self.unimplemented(where, f"task register {task:#010x} is not one simcore models; the channel "
                                       "triggers nothing there")
        self.fabric.routes = {k: tuple(v) for k, v in routes.items()}

    def write_CHEN(self, value: int) -> None:
        self.values["CHEN"] = value
        self._rebuild()

    def read_CHENSET(self) -> int:
        return self.values["CHEN"]

    read_CHENCLR = read_CHENSET

    def write_CHENSET(self, value: int) -> None:
        self.write_CHEN(self.values["CHEN"] | value)

    def write_CHENCLR(self, value: int) -> None:
        self.write_CHEN(self.values["CHEN"] & ~value)

    def write_CH_EEP(self, n: int, value: int) -> None:
        self.values[f"CH_EEP{n}"] = value
        self._rebuild()

    def write_CH_TEP(self, n: int, value: int) -> None:
        self.values[f"CH_TEP{n}"] = value
        self._rebuild()

    def write_FORK_TEP(self, n: int, value: int) -> None:
        self.values[f"FORK_TEP{n}"] = value
        self._rebuild()

    # --- groups ---------------------------------------------------------------------------------
    def task_CHG_EN(self, g: int) -> None:
        self.write_CHEN(self.values["CHEN"] | self.values[f"CHG{g}"])

    def task_CHG_DIS(self, g: int) -> None:
        self.write_CHEN(self.values["CHEN"] & ~self.values[f"CHG{g}"])

    def sensor_stats(self) -> dict[str, Any] | None:
        if not self.values["CHEN"]:
            return None
        return {"name": self.name, "type": self.TYPE, "channels_enabled": bin(self.values["CHEN"]).count("1"),
                "tasks_triggered": self.fabric.triggered}
