"""STM32 power control (PWR): voltage scaling, backup-domain access, the low-power mode of deep sleep.

- Voltage scaling decides the highest HCLK and the flash wait states it needs (the FLASH model
  asks ``voltage_range()``). F405/407: ``CR.VOS`` scale 1 (reset, up to 168 MHz) or scale 2 (up to
  144 MHz), ``CSR.VOSRDY`` reads ready. L4+: ``CR1.VOS`` range 1 (reset) or range 2 (26 MHz),
  ``CR5.R1MODE`` 0 = range 1 boost (up to 120 MHz), 1 = normal (80 MHz, the reset value);
  ``SR2.VOSF`` is set while the regulator settles after a change (tVOST, 20 us typical in
  DS12023) on virtual time, so a firmware polling it is fast-forwarded.
- ``DBP`` opens the backup domain (RCC BDCR, RTC) to writes.
- What ``wfi``/``wfe`` with ``SCB.SCR.SLEEPDEEP`` does (``deep_sleep_mode()``, carried out by
  simcore/lowpower.py): F4 ``CR.PDDS`` 0 = Stop (``CR.LPDS``: low-power regulator), 1 = Standby;
  L4 ``CR1.LPMS`` 0-2 = Stop 0/1/2, 3 = Standby, 4+ = Shutdown. Stop keeps RAM and registers and
  wakes on an EXTI line (RTC wake-up, alarm...); Standby and Shutdown lose them: the wake-up is a
  reset with ``SBF`` set (F4 ``CSR.SBF``, L4 ``SR1.SBF``).

RM0090 section 5 (F405/407; ``VOS``/``VOSRDY`` are bit 14 of CR/CSR, which the vendor SVD omits
from CR) and RM0432 section 6 (L4R5; ``CR5`` at 0x80 is not in the vendor SVD either).
"""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, Register
from simcore.peripherals.stm32.common import Stm32Model

US = FS_PER_SECOND // 1_000_000


class Stm32Pwr(Stm32Model):
    """What the F4 and L4 PWR blocks share."""

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.standby_flag = False  # set by a wake-up from Standby (the machine's reset keeps it)
        self.wakeup_flag = False  # a wake-up event (RTC, WKUP pin) woke the part from Standby
        super().__init__(config, host, registers)

    def _flash_check(self) -> None:
        flash = self.host.peripheral("flash")
        if flash is not None and hasattr(flash, "check"):
            flash.check()

    def note_standby_wakeup(self, by_event: bool = False) -> None:
        """The part wakes from Standby (a reset): SBF reads 1 until cleared; ``by_event``: a wake-up event (RTC,
        WKUP pin; not a watchdog or NRST reset) also sets the wake-up flag (F4 CSR.WUF, L4 SR1.WUFI)."""
        self.standby_flag = True
        self.wakeup_flag = self.wakeup_flag or by_event

    def deep_sleep_mode(self) -> str:
        raise NotImplementedError


@register_model
class Stm32F4Pwr(Stm32Pwr):
    """STM32F405/407 PWR (RM0090 section 5.4)."""

    TYPE = "stm32f4_pwr"
    PART = "stm32f407vg"
    REGISTERS = (
        Register("CR", 0x00, reset=0x00004000, implemented=0x000043FF),
        Register("CSR", 0x04, implemented=0x0000430F),
    )

    def reset(self) -> None:
        super().reset()
        self._show_csr()

    def _show_csr(self) -> None:
        v = self.values["CSR"] & 0x0300  # EWUP, BRE
        v |= 1 << 14  # VOSRDY
        if getattr(self, "standby_flag", False):
            v |= 1 << 1
        if getattr(self, "wakeup_flag", False):
            v |= 1 << 0
        self.values["CSR"] = v

    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        return False, None

    def voltage_range(self) -> str:
        return "scale 1" if self.values["CR"] >> 14 & 1 else "scale 2"

    def backup_access(self) -> bool:
        return bool(self.values["CR"] >> 8 & 1)

    def deep_sleep_mode(self) -> str:
        """CR.PDDS: Standby; else Stop with the main regulator, or with the low-power one (CR.LPDS)."""
        if self.values["CR"] >> 1 & 1:
            return "standby"
        return "stop_lp" if self.values["CR"] & 1 else "stop"

    def write_CR(self, value: int) -> None:
        old = self.values["CR"]
        if value & (1 << 3):  # CSBF: clear the standby flag
            self.standby_flag = False
        if value & (1 << 2):  # CWUF: clear the wake-up flag
            self.wakeup_flag = False
        self.values["CR"] = value & ~0xC  # CWUF/CSBF read 0
        self._show_csr()
        if (value ^ old) & (1 << 14):
            self._flash_check()

    def write_CSR(self, value: int) -> None:
        self.values["CSR"] = value & 0x0300
        self._show_csr()


@register_model
class Stm32L4Pwr(Stm32Pwr):
    """STM32L4+ (L4R5) PWR (RM0432 section 6.4)."""

    TYPE = "stm32l4_pwr"
    PART = "stm32l4r5zi"
    VOS_SETTLE_FS = 20 * US  # DS12023 tVOST, typical
    REGISTERS = (
        Register("CR1", 0x00, reset=0x00000200, implemented=0x00004707),
        Register("CR2", 0x04, modelled=False),
        Register("CR3", 0x08, reset=0x00008000, modelled=False),
        Register("CR4", 0x0C, modelled=False),
        Register("SR1", 0x10, access="r"),
        Register("SR2", 0x14, access="r"),
        Register("SCR", 0x18, access="w"),
        Register("CR5", 0x80, reset=0x00000100, implemented=0x00000100),
    )

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._settle: Any = None
        super().__init__(config, host, registers)

    def reset(self) -> None:
        if getattr(self, "_settle", None) is not None:
            self.host.cancel(self._settle)
        self._settle = None
        super().reset()
        if getattr(self, "standby_flag", False):
            self.values["SR1"] |= 1 << 8
        if getattr(self, "wakeup_flag", False):
            self.values["SR1"] |= 1 << 15  # WUFI: the internal wake-up line (RTC)

    def voltage_range(self) -> str:
        vos = self.values["CR1"] >> 9 & 3
        if vos == 2:
            return "range 2"
        return "range 1" if self.values["CR5"] >> 8 & 1 else "range 1 boost"

    def backup_access(self) -> bool:
        return bool(self.values["CR1"] >> 8 & 1)

    def deep_sleep_mode(self) -> str:
        lpms = self.values["CR1"] & 7
        return ("stop0", "stop1", "stop2", "standby")[lpms] if lpms < 4 else "shutdown"

    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        return self._settle is not None, None

    def _settling(self) -> None:
        """VOSF while the regulator settles (RM0432 6.1.5); the FLASH model checks the new range."""
        self.values["SR2"] |= 1 << 10
        if self._settle is not None:
            self.host.cancel(self._settle)
        self._settle = self.host.schedule_at_fs(self.host.now_fs() + self.VOS_SETTLE_FS, self._settled, "PWR VOSF")
        self._flash_check()

    def _settled(self) -> None:
        self._settle = None
        self.values["SR2"] &= ~(1 << 10)

    def write_CR1(self, value: int) -> None:
        old = self.values["CR1"]
        vos = value >> 9 & 3
        if vos not in (1, 2):
            self.guest_error(self.where_field("CR1", "VOS"), f"VOS = {vos} is reserved (01: range 1, 10: range 2)")
            value = (value & ~0x600) | (old & 0x600)
        self.values["CR1"] = value
        if (value ^ old) & 0x600:
            self._settling()

    def write_CR5(self, value: int) -> None:
        old = self.values["CR5"]
        self.values["CR5"] = value & 0x100
        if (value ^ old) & 0x100:
            self._settling()

    def write_SCR(self, value: int) -> None:
        if value & (1 << 8):
            self.standby_flag = False
            self.wakeup_flag = False
            self.values["SR1"] &= ~((1 << 8) | (1 << 15))
        self.values["SR1"] &= ~(value & 0x1F)
