"""STM32 random number generator: 32-bit numbers at the pace of the RNG clock, seeded so runs repeat.

RM0090 section 24 (STM32F4) and RM0432's RNG section (STM32L4+, the RM0351 RNG with ``CR.CED``):
with ``CR.RNGEN`` set, ``SR.DRDY`` rises when a number is in ``DR``; reading ``DR`` clears it and
the next number is ready after 40 periods of the RNG clock (RM0090 24.4.3: "a maximum time of 40
periods", taken here as exactly 40, the first number too). The RNG clock is the F4's PLL48CLK
(the main PLL's Q output) and the L4's 48 MHz clock chosen by ``RCC_CCIPR.CLK48SEL`` (HSI48,
PLLSAI1 Q, PLL Q or MSI; simcore's RCC has no PLLSAI1 output, so that choice reads as no
clock). A clock slower than HCLK/16, or none (the usual mistake: the 48 MHz clock never
started), is a clock error: ``SR.CECS`` while it lasts, ``SR.CEIS`` until the
firmware writes it 0, and no numbers (on the L4 unless ``CR.CED`` disables the check; with no
clock at all nothing comes either way, and that is reported as a firmware error). ``CR.IE``
raises the RNG interrupt on DRDY, CEIS or SEIS. Seed errors (SECS/SEIS) never happen here.

The numbers come from a generator seeded by the board option ``seed`` (default 0): the same
firmware and inputs give the same numbers and counts on every run.
"""

from __future__ import annotations

import random
from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.stm32.common import Stm32Model

RNGEN, IE, CED = 1 << 2, 1 << 3, 1 << 5
DRDY, CECS, SECS, CEIS, SEIS = 1 << 0, 1 << 1, 1 << 2, 1 << 5, 1 << 6
PERIODS = 40  # RNG clock periods per number


class Stm32Rng(Stm32Model):
    """What the F4 and L4 RNGs share (see the module docstring)."""

    SVD = "RNG"
    OPTIONS = {"seed": "seed of the number sequence (default 0)"}

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.random = random.Random(int(config.options.get("seed", 0)))
        self._event: Any = None
        self._level = False
        self.numbers = 0
        super().__init__(config, host, registers)
        host.on_clock_change(self._clock_changed)

    def reset(self) -> None:
        ev = getattr(self, "_event", None)
        if ev is not None:
            self.host.cancel(ev)
        self._event = None
        super().reset()

    # --- the RNG clock ---------------------------------------------------------------------------
    def clock(self, name: str) -> float:
        """A clock of the part in Hz; 0.0 when the clock model has no such clock."""
        try:
            return self.host.clock_hz(name)
        except KeyError:
            return 0.0

    def rng_clock_hz(self) -> float:
        raise NotImplementedError

    def clock_source(self) -> str:
        """The RNG clock's name, for reports."""
        raise NotImplementedError

    def _clock_error(self) -> bool:
        hz = self.rng_clock_hz()
        return hz <= 0 or hz < self.clock("HCLK") / 16

    def _check_clock(self) -> None:
        """CECS follows the clock; CEIS latches a clock error."""
        if self._clock_error():
            self.values["SR"] |= CECS | CEIS
        else:
            self.values["SR"] &= ~CECS
        self._update()

    def _clock_changed(self) -> None:
        if self.clock("HCLK") <= 0:
            return  # Stop mode: the bus clock and the clock checker stand still
        if self.values["CR"] & RNGEN:
            self._check_clock()
            self._schedule()

    def _blocked(self) -> bool:
        """No numbers now: the RNG is off, the clock is missing, or a detected clock error stops it."""
        if not self.values["CR"] & RNGEN or self.rng_clock_hz() <= 0:
            return True
        return bool(self.values["SR"] & CECS) and not self.values["CR"] & CED

    def _schedule(self) -> None:
        if self._event is not None or self.values["SR"] & DRDY or self._blocked():
            return
        period = PERIODS * FS_PER_SECOND / self.rng_clock_hz()
        self._event = self.host.schedule_at_fs(self.host.now_fs() + round(period), self._ready, f"{self.name} number")

    def _ready(self) -> None:
        self._event = None
        if self._blocked():
            return
        self.values["DR"] = self.random.getrandbits(32)
        self.values["SR"] |= DRDY
        self.numbers += 1
        self._update()

    def _update(self) -> None:
        level = bool(self.values["CR"] & IE) and bool(self.values["SR"] & (DRDY | CEIS | SEIS))
        if level != self._level and self.irq is not None:
            self._level = level
            self.host.set_irq(self.irq, level)

    # --- registers -----------------------------------------------------------------------------
    def write_CR(self, value: int) -> None:
        old = self.values["CR"]
        self.values["CR"] = value & (RNGEN | IE | CED)
        if value & RNGEN and not old & RNGEN:
            if self.rng_clock_hz() <= 0:
                self.guest_error(self.where_field("CR", "RNGEN"), f"RNG enabled with its clock ({self.clock_source()}) "
                                 "off: no number will come")
            self._check_clock()
            self._schedule()
        elif not value & RNGEN and self._event is not None:
            self.host.cancel(self._event)
            self._event = None
        self._update()

    def write_SR(self, value: int) -> None:
        """CEIS and SEIS are cleared by writing 0; the rest is read-only."""
        self.values["SR"] &= value | ~(CEIS | SEIS)
        self._update()

    def read_DR(self) -> int:
        if not self.values["SR"] & DRDY:
            self.guest_error(self.where_field("DR"), "read with SR.DRDY clear: no valid number (reads 0)",
                             access=None)
            return 0
        value = self.values["DR"]
        self.values["DR"] = 0
        self.values["SR"] &= ~DRDY
        self._update()
        self._schedule()
        return value

    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        """DRDY rises only at the scheduled number; CECS changes with a clock change (an event too)."""
        return True, None


@register_model
class Stm32F4Rng(Stm32Rng):
    """RNG of the STM32F4 (RM0090 section 24), clocked by PLL48CLK; interrupt HASH_RNG (IRQ 80)."""

    TYPE = "stm32f4_rng"
    PART = "stm32f407vg"
    PARTS = ("stm32f407vg",)

    def rng_clock_hz(self) -> float:
        return self.clock("PLL48CLK")

    def clock_source(self) -> str:
        return "PLL48CLK, the main PLL's Q output"


@register_model
class Stm32L4Rng(Stm32Rng):
    """RNG of the STM32L4+ (clock from RCC_CCIPR.CLK48SEL; CR.CED disables the clock check)."""

    TYPE = "stm32l4_rng"
    PART = "stm32l4r5zi"
    PARTS = ("stm32l4r5zi",)
    CLK48 = ("HSI48", "PLLSAI1_Q", "PLL48M1CLK", "MSI")  # CCIPR.CLK48SEL 0-3 (RM0432 6.4.30)

    def _sel(self) -> int:
        rcc = self.host.peripheral("rcc")
        values = getattr(rcc, "values", {})
        return values.get("CCIPR", 0) >> 26 & 3

    def rng_clock_hz(self) -> float:
        return self.clock(self.CLK48[self._sel()])

    def clock_source(self) -> str:
        return f"CLK48 = {self.CLK48[self._sel()]} (RCC_CCIPR.CLK48SEL = {self._sel()})"
