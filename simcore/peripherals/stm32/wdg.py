"""STM32 independent and window watchdogs (IWDG, WWDG): a firmware that stops feeding them is reset.

The reset is the machine's system reset (``host.request_reset``): the image boots again from
its vector table with RAM as it was, the counts go on, ``RCC.CSR`` shows ``IWDGRSTF`` /
``WWDGRSTF`` and the run's report lists every reset with its time and where the firmware was.

IWDG (RM0090 section 21, RM0432 section 46): started by ``KR = 0xCCCC`` (nothing stops it but a
reset), reloaded by ``0xAAAA``; ``0x5555`` opens PR/RLR (and WINR on the L4) to writes. A 12-bit
down-counter on the LSI (32 kHz nominal; the part's LSI is 17-47 kHz) divided by 4 << PR
resets the part when it reaches 0: ``(RLR + 1) * (4 << PR) / 32 kHz`` after the last reload.
``SR.PVU``/``RVU`` are set while a new PR/RLR value crosses into the LSI domain (5 LSI periods,
RM0090 21.4.4; firmware polls them). On the L4 a reload while the counter is above ``WINR`` is
a reset too (window option, RM0432 46.3.5).

WWDG (RM0090 section 22, RM0432 section 47): enabled by ``CR.WDGA`` (cleared only by a reset),
a 7-bit down-counter ``T`` on PCLK1 / 4096 / 2^WDGTB. It resets the part when T6 goes from 1
to 0 (the counter passes 0x40 -> 0x3F) or when the firmware reloads it while the counter is
still above the window ``CFR.W``; ``CFR.EWI`` raises the WWDG interrupt at 0x40.
"""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND, DomainClock
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, Register
from simcore.peripherals.stm32.common import Stm32Model

LSI_HZ = 32_000


class Stm32Iwdg(Stm32Model):
    """IWDG of the F4 and L4 (the L4 adds WINR and SR.WVU)."""

    SIZE = 0x400
    HAS_WINDOW = False
    REGISTERS = (
        Register("KR", 0x00, access="w", implemented=0xFFFF),
        Register("PR", 0x04, implemented=0x7),
        Register("RLR", 0x08, reset=0x0FFF, implemented=0xFFF),
        Register("SR", 0x0C, access="r"),
    )

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.running = False
        self._event: Any = None
        self._busy: Any = None
        self._reload_fs = 0
        self._unlocked = False
        super().__init__(config, host, registers)

    def reset(self) -> None:
        for ev in (getattr(self, "_event", None), getattr(self, "_busy", None)):
            if ev is not None:
                self.host.cancel(ev)
        self._event = self._busy = None
        self.running = False
        self._unlocked = False
        super().reset()

    def reset_armed(self) -> bool:
        """A reset will come unless the firmware acts (the machine does not call a loop idle then)."""
        return self.running

    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        return self._busy is not None, None

    # --- the counter ---------------------------------------------------------------------------
    def _tick_fs(self) -> int:
        return (4 << min(self.values["PR"] & 7, 6)) * FS_PER_SECOND // LSI_HZ

    def _count_now(self) -> int:
        """The counter: RLR at the last reload, one down per prescaled LSI tick."""
        elapsed = (self.host.now_fs() - self._reload_fs) // self._tick_fs()
        return max((self.values["RLR"] & 0xFFF) - elapsed, 0)

    def _reload(self) -> None:
        if self.HAS_WINDOW and self.running:
            win = self.values["WINR"] & 0xFFF
            count = self._count_now()
            if win < 0xFFF and count > win:
                self._bite(f"reloaded with the counter at {count:#05x}, above the window WINR = {win:#05x}")
                return
        self._reload_fs = self.host.now_fs()
        if self._event is not None:
            self.host.cancel(self._event)
        timeout = ((self.values["RLR"] & 0xFFF) + 1) * self._tick_fs()
        self._event = self.host.schedule_at_fs(self._reload_fs + timeout, self._timeout, "IWDG timeout")

    def _timeout(self) -> None:
        self._event = None
        ms = ((self.values["RLR"] & 0xFFF) + 1) * self._tick_fs() / 1e12
        self._bite(f"not reloaded for {ms:g} ms (RLR = {self.values['RLR'] & 0xFFF:#05x}, prescaler "
                   f"/{4 << min(self.values['PR'] & 7, 6)} on the 32 kHz LSI)")

    def _bite(self, why: str) -> None:
        self.host.request_reset("iwdg", f"IWDG: {why}")

    def _updating(self, flag: int) -> None:
        """PVU/RVU/WVU while the new value crosses into the LSI domain (5 LSI periods)."""
        self.values["SR"] |= flag
        if self._busy is not None:
            self.host.cancel(self._busy)
        self._busy = self.host.schedule_at_fs(self.host.now_fs() + 5 * FS_PER_SECOND // LSI_HZ, self._updated,
                                              "IWDG update")

    def _updated(self) -> None:
        self._busy = None
        self.values["SR"] = 0

    def _protected(self, reg: str, value: int, flag: int) -> None:
        if not self._unlocked:
            self.guest_error(self.where_field(reg), "written without the 0x5555 key in KR: ignored (RM0090 21.3.5)")
            return
        self.values[reg] = value
        self._updating(flag)

    # --- registers ---------------------------------------------------------------------------------
    def write_KR(self, value: int) -> None:
        key = value & 0xFFFF
        if key == 0xCCCC:
            self._unlocked = False
            if not self.running:
                self.running = True
                lsi = self.host.peripheral("rcc")
                if lsi is not None and hasattr(lsi, "force_lsi"):
                    lsi.force_lsi()
            self._reload()
        elif key == 0xAAAA:
            self._unlocked = False
            if self.running:
                self._reload()
        elif key == 0x5555:
            self._unlocked = True
        else:
            self._unlocked = False

    def write_PR(self, value: int) -> None:
        self._protected("PR", value & 7, 1)

    def write_RLR(self, value: int) -> None:
        self._protected("RLR", value & 0xFFF, 2)


@register_model
class Stm32F4Iwdg(Stm32Iwdg):
    TYPE = "stm32f4_iwdg"
    PART = "stm32f407vg"


@register_model
class Stm32L4Iwdg(Stm32Iwdg):
    TYPE = "stm32l4_iwdg"
    PART = "stm32l4r5zi"
    HAS_WINDOW = True
    REGISTERS = (*Stm32Iwdg.REGISTERS, Register("WINR", 0x10, reset=0x0FFF, implemented=0xFFF))

    def write_WINR(self, value: int) -> None:
        """Writing WINR also reloads the counter (RM0432 46.3.5)."""
        self._protected("WINR", value & 0xFFF, 4)
        if self._unlocked and self.running:
            self._reload_fs = self.host.now_fs()
            self._reload()


class Stm32Wwdg(Stm32Model):
    """WWDG (the same registers on the F4 and the L4)."""

    SIZE = 0x400
    REGISTERS = (
        Register("CR", 0x00, reset=0x7F, implemented=0xFF),
        Register("CFR", 0x04, reset=0x7F, implemented=0x3FF),
        Register("SR", 0x08, implemented=0x1),
    )

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.clock: DomainClock | None = None
        self._events: list[Any] = []
        self._base_tick = 0
        self._base_count = 0x7F
        super().__init__(config, host, registers)

    def reset(self) -> None:
        for ev in getattr(self, "_events", []):
            if self.clock is not None:
                self.clock.cancel(ev)
        self._events = []
        super().reset()

    @property
    def enabled(self) -> bool:
        return bool(self.values["CR"] & 0x80)

    def reset_armed(self) -> bool:
        return self.enabled

    def _divider(self) -> int:
        return 4096 << ((self.values["CFR"] >> 7) & 3)

    def _counter(self) -> int:
        if not self.enabled or self.clock is None:
            return self.values["CR"] & 0x7F
        return max(self._base_count - (self.clock.ticks() - self._base_tick), 0x3F)

    def _arm(self) -> None:
        if self.clock is None:
            self.clock = DomainClock(self.host, "PCLK1")
        for ev in self._events:
            self.clock.cancel(ev)
        self._events = []
        self.clock.set_divider(self._divider())
        self._base_tick = self.clock.ticks()
        self._base_count = self.values["CR"] & 0x7F
        if self._base_count >= 0x40:
            if self.values["CFR"] & (1 << 9) and self._base_count > 0x40:
                self._events.append(self.clock.schedule_tick(self._base_tick + self._base_count - 0x40,
                                                             self._early_warning, "WWDG early wake-up"))
            self._events.append(self.clock.schedule_tick(self._base_tick + self._base_count - 0x3F, self._timeout,
                                                         "WWDG timeout"))
        else:
            self.host.request_reset("wwdg", f"WWDG: enabled with T = {self._base_count:#04x} (T6 clear)")

    def _early_warning(self) -> None:
        self.values["SR"] |= 1
        if self.irq is not None:
            self.host.pend_irq(self.irq)

    def _timeout(self) -> None:
        self.host.request_reset("wwdg", "WWDG: the counter passed 0x40 without a reload (T6 cleared)")

    def read_CR(self) -> int:
        return (self.values["CR"] & 0x80) | self._counter()

    def write_CR(self, value: int) -> None:
        was = self.enabled
        if was:
            count = self._counter()
            window = self.values["CFR"] & 0x7F
            if count > window:
                self.host.request_reset("wwdg", f"WWDG: reloaded with the counter at {count:#04x}, above the "
                                                f"window W = {window:#04x}")
                return
        self.values["CR"] = (value & 0xFF) | (0x80 if was else 0)
        if self.enabled:
            self._arm()

    def write_CFR(self, value: int) -> None:
        self.values["CFR"] = value & 0x3FF
        if self.enabled:
            count = self._counter()
            self.values["CR"] = 0x80 | count
            self._arm()

    def write_SR(self, value: int) -> None:
        self.values["SR"] &= value & 1  # EWIF: cleared by writing 0

    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        return True, None


@register_model
class Stm32F4Wwdg(Stm32Wwdg):
    TYPE = "stm32f4_wwdg"
    PART = "stm32f407vg"


@register_model
class Stm32L4Wwdg(Stm32Wwdg):
    TYPE = "stm32l4_wwdg"
    PART = "stm32l4r5zi"
