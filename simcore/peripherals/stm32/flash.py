"""STM32 flash interface (FLASH): ACR latency, prefetch and caches feed the cycle model.

``FLASH.ACR`` as the firmware writes it decides the wait states the hot path charges on flash
fetches and literal loads, and the accelerator (the ART: instruction/data caches, prefetch)
that hides them (simcore/cycles.py): ``host.flash_timing``. A latency below what the
reference manual requires for the current HCLK and voltage range is a firmware bug
(reads would return garbage on the part): it is reported on the guest-error channel as
``FLASH.ACR.LATENCY`` with the PC of the access that made it so (the ACR write, the SYSCLK
switch or the prescaler change), and the run carries on with the latency written.

Required wait states: RM0090 Table 10 (STM32F405/407, VDD 2.7-3.6 V: one per 30 MHz; the
board file's ``flash_timing`` is that column) and RM0432 Table 12 / the L4+ HAL's figures
(range 1, boost or normal: one per 20 MHz; range 2: 0 WS up to 8 MHz, 1 to 16, 2 to 26).
Programming and erase (KEYR, CR, SR, OPTCR) are not modelled: those registers keep what is
written and are reported.
"""

from __future__ import annotations

from typing import Any, ClassVar

from simcore.peripherals import register_model
from simcore.peripherals.base import Host, Register
from simcore.peripherals.stm32.common import Stm32Model

PRFTEN, ICEN, DCEN = 1 << 8, 1 << 9, 1 << 10


class Stm32Flash(Stm32Model):
    """What the F4 and L4 flash interfaces share."""

    LATENCY_BITS: ClassVar[int] = 4
    ACR_RESET: ClassVar[int] = 0

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._live = False
        self._complaint: tuple[int, float, str] | None = None
        super().__init__(config, host, registers)
        host.on_clock_change(self.check)
        self._live = True
        self._apply()

    def reset(self) -> None:
        super().reset()
        if self._live:
            self._apply()

    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        return False, None

    @property
    def latency(self) -> int:
        return self.values["ACR"] & ((1 << self.LATENCY_BITS) - 1)

    def _apply(self) -> None:
        acr = self.values["ACR"]
        art = 1 if acr & (ICEN | DCEN) else 0
        self.host.flash_timing(self.latency, art, bool(acr & PRFTEN))
        self.check()

    def voltage_range(self) -> str:
        pwr = self.host.peripheral("pwr")
        return pwr.voltage_range() if pwr is not None and hasattr(pwr, "voltage_range") else self.DEFAULT_RANGE

    DEFAULT_RANGE: ClassVar[str] = ""

    def required(self, hclk_mhz: float, vrange: str) -> tuple[int, float]:
        """(wait states needed at ``hclk_mhz``, the range's maximum HCLK in MHz)."""
        raise NotImplementedError

    def check(self) -> None:
        """Latency against HCLK and the voltage range now: a guest error when too low (once per situation).

        Only when the clock follows the firmware: with ``--mhz`` the board file's wait states apply."""
        if not self.host.clock_follows_firmware():
            return
        hclk = self.host.clock_hz("HCLK") / 1e6
        vrange = self.voltage_range()
        need, top = self.required(hclk, vrange)
        if hclk > top * 1.0001:
            self.guest_error(self.where_field("ACR", "LATENCY"),
                             f"HCLK {hclk:g} MHz is above the {top:g} MHz maximum of voltage {vrange} "
                             f"({self.MANUAL})")
        if self.latency < need:
            situation = (self.latency, hclk, vrange)
            if situation != self._complaint:
                self._complaint = situation
                self.guest_error(self.where_field("ACR", "LATENCY"),
                                 f"flash latency {self.latency} WS is too low for HCLK {hclk:g} MHz at voltage "
                                 f"{vrange}: {self.MANUAL} needs {need} (flash reads would fail on the part; "
                                 f"simcore charges {self.latency})")

    MANUAL: ClassVar[str] = ""

    def store_acr(self, value: int) -> None:
        self.values["ACR"] = value
        self._apply()


@register_model
class Stm32F4Flash(Stm32Flash):
    """STM32F405/407 flash interface registers (RM0090 section 3.9)."""

    TYPE = "stm32f4_flash"
    PART = "stm32f407vg"
    LATENCY_BITS = 3
    DEFAULT_RANGE = "scale 1"
    MANUAL = "RM0090 Table 10"
    REGISTERS = (
        Register("ACR", 0x00, implemented=0x1F07),
        Register("KEYR", 0x04, access="w", modelled=False),
        Register("OPTKEYR", 0x08, access="w", modelled=False),
        Register("SR", 0x0C, modelled=False),
        Register("CR", 0x10, reset=0x80000000, modelled=False),
        Register("OPTCR", 0x14, reset=0x0FFFAAED, modelled=False),
    )

    def write_ACR(self, value: int) -> None:
        # ICRST/DCRST reset the caches; ICRST is write-only, DCRST keeps its value (RM0090 3.9.1)
        self.store_acr(value & ~(1 << 11))

    def required(self, hclk_mhz: float, vrange: str) -> tuple[int, float]:
        need = 0
        while hclk_mhz > 30 * (need + 1) + 1e-9:
            need += 1
        return need, (144.0 if vrange == "scale 2" else 168.0)


@register_model
class Stm32L4Flash(Stm32Flash):
    """STM32L4+ flash interface registers (RM0432 section 3.7)."""

    TYPE = "stm32l4_flash"
    PART = "stm32l4r5zi"
    LATENCY_BITS = 4
    DEFAULT_RANGE = "range 1"
    MANUAL = "RM0432 3.3.3"
    REGISTERS = (
        Register("ACR", 0x00, reset=0x00000600, implemented=0x7F0F),
        Register("PDKEYR", 0x04, access="w", modelled=False),
        Register("KEYR", 0x08, access="w", modelled=False),
        Register("OPTKEYR", 0x0C, access="w", modelled=False),
        Register("SR", 0x10, modelled=False),
        Register("CR", 0x14, reset=0xC0000000, modelled=False),
        Register("ECCR", 0x18, modelled=False),
        Register("OPTR", 0x20, reset=0xF0000000, modelled=False),
    )

    def write_ACR(self, value: int) -> None:
        self.store_acr(value)

    def required(self, hclk_mhz: float, vrange: str) -> tuple[int, float]:
        if vrange == "range 2":
            for ws, top in enumerate((8.0, 16.0, 26.0)):
                if hclk_mhz <= top + 1e-9:
                    return ws, 26.0
            return 3, 26.0
        need = 0
        while hclk_mhz > 20 * (need + 1) + 1e-9:
            need += 1
        return need, (120.0 if vrange == "range 1 boost" else 80.0)
