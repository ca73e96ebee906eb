"""nRF52840 TIMER0-4 (Product Specification v1.7, section 6.30): timer and counter, compare and capture.

In timer mode the counter counts ticks of f_TIMER = 16 MHz / 2^PRESCALER (PCLK16M, or PCLK1M
for PRESCALER >= 4: the same rate); in counter mode (MODE 1 or 2) it counts ``TASKS_COUNT``.
``BITMODE`` sets its width (16, 8, 24 or 32 bits) and it wraps at the top. ``EVENTS_COMPARE[n]``
is generated when the counter reaches ``CC[n]``; ``TASKS_CAPTURE[n]`` copies the counter into
``CC[n]`` (the only way to read it); ``SHORTS`` clear or stop the timer on a compare
(``COMPARE0_CLEAR``: a period of ``CC[0]`` ticks). TIMER0-2 have four CC registers, TIMER3-4
six. ``PRESCALER`` and ``BITMODE`` apply when the timer starts (the PS allows changing them only
while it is stopped; a change while it runs is reported).

Nothing runs per tick: the counter is computed from the clock when captured, and one event is
scheduled at the next compare.
"""

from __future__ import annotations

from typing import Any

from simcore.clock import DomainClock
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.registers import Register

WIDTH_MASK = {0: 0xFFFF, 1: 0xFF, 2: 0xFFFFFF, 3: 0xFFFFFFFF}
EV_COMPARE = 16  # EVENTS_COMPARE[0] at 0x140


@register_model
class Nrf52Timer(NordicPeripheral):
    """TIMER0-4 of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_timer"
    SVD = "TIMER"
    PLAIN = ("SHORTS",)
    INTERNAL_SHORTS = True  # COMPARE[n]_CLEAR and COMPARE[n]_STOP (PS v1.7 6.30.8 SHORTS): the timer's own tasks
    REGISTERS = NordicPeripheral.REGISTERS + (Register("CC", 0x540, count=6),)
    OPTIONS = {"cc": "number of CC registers (default: 4 for TIMER0-2, 6 for TIMER3-4)"}

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.running = False
        self._v0 = 0  # counter value at tick _t0 (or the value while stopped / in counter mode)
        self._t0 = 0
        self._clk: DomainClock | None = None
        self._event: Any = None
        self._mask = 0xFFFF
        super().__init__(config, host, registers)
        default = 6 if self.svd_name in ("TIMER3", "TIMER4") else 4
        self.n_cc = int(config.options.get("cc", default))

    def reset(self) -> None:
        super().reset()
        self.running = False
        self._v0 = 0
        self._mask = WIDTH_MASK[0]

    # --- the counter ---------------------------------------------------------------------------
    @property
    def counter_mode(self) -> bool:
        return self.values["MODE"] & 3 in (1, 2)

    @property
    def tick_hz(self) -> float:
        return 16e6 / (1 << min(self.values["PRESCALER"] & 0xF, 9))

    def _clock(self) -> DomainClock:
        if self._clk is None:
            name = "PCLK16M"
            try:
                self.host.clock_hz(name)
            except KeyError:
                name = "HCLK"  # a board without the nRF52 CLOCK model: 16 MHz from the 64 MHz core clock
            self._clk = DomainClock(self.host, name, 4 if name == "HCLK" else 1)
            self._base_div = self._clk.divider
        return self._clk

    def counter(self) -> int:
        if self.running and not self.counter_mode and self._clk is not None:
            return (self._v0 + self._clk.ticks() - self._t0) & self._mask
        return self._v0

    def _anchor(self, value: int) -> None:
        self._v0 = value & self._mask
        if self._clk is not None:
            self._t0 = self._clk.ticks()

    def _reschedule(self) -> None:
        clk = self._clk
        if self._event is not None and clk is not None:
            clk.cancel(self._event)
            self._event = None
        if not self.running or self.counter_mode or clk is None:
            return
        v = self.counter()
        span = self._mask + 1
        best = None
        for n in range(self.n_cc):
            cc = self.values[f"CC{n}"]
            if cc > self._mask:
                continue  # the counter never reaches it
            d = (cc - v) % span or span
            best = d if best is None else min(best, d)
        if best is not None:
            self._event = clk.schedule_tick(clk.ticks() + best, self._on_compare, f"{self.svd_name} compare",
                                            self._compare_raises)

    def _compare_raises(self) -> frozenset[int] | None:
        """What a compare could raise: the TIMER's line if a COMPARE INTEN bit is set, PPI-routed events aside."""
        return self.raises_of(tuple(range(EV_COMPARE, EV_COMPARE + self.n_cc)))

    def _on_compare(self) -> None:
        self._event = None
        v = self.counter()
        for n in range(self.n_cc):
            if self.values[f"CC{n}"] == v and self.running:
                self.fire(EV_COMPARE + n)  # SHORTS may clear or stop the timer here
        self._reschedule()

    # --- tasks ---------------------------------------------------------------------------------
    def task_START(self) -> None:
        if self.running:
            return
        self._mask = WIDTH_MASK[self.values["BITMODE"] & 3]
        self.running = True
        if not self.counter_mode:
            clk = self._clock()
            clk.set_divider(self._base_div << min(self.values["PRESCALER"] & 0xF, 9))
            self._t0 = clk.ticks()
        self._reschedule()

    def task_STOP(self) -> None:
        if not self.running:
            return
        self._v0 = self.counter()
        self.running = False
        self._reschedule()

    task_SHUTDOWN = task_STOP  # deprecated in the PS: stops the timer

    def task_CLEAR(self) -> None:
        self._anchor(0)
        self._reschedule()

    def task_COUNT(self) -> None:
        if not (self.running and self.counter_mode):
            return
        self._v0 = (self._v0 + 1) & self._mask
        for n in range(self.n_cc):
            if self.values[f"CC{n}"] == self._v0:
                self.fire(EV_COMPARE + n)

    def task_CAPTURE(self, n: int) -> None:
        if n >= self.n_cc:
            self.guest_error(self.reg_name(self.register("TASKS"), 16 + n), f"{self.svd_name} has {self.n_cc} CC "
                             "registers")
            return
        self.values[f"CC{n}"] = self.counter()
        self._reschedule()

    # --- registers -----------------------------------------------------------------------------
    def write_CC(self, n: int, value: int) -> None:
        if n >= self.n_cc:
            self.guest_error(self.reg_name(self.register("CC"), n), f"{self.svd_name} has {self.n_cc} CC registers "
                             "(write ignored)")
            return
        self.values[f"CC{n}"] = value
        self._reschedule()

    def _config_while_running(self, name: str, value: int, mask: int) -> None:
        if self.running and (value & mask) != (self.values[name] & mask):
            self.guest_error(self.where(name), "changed while the timer runs (the PS allows it only while stopped); "
                             "it applies at the next TASKS_START")
        self.values[name] = value & mask

    def write_PRESCALER(self, value: int) -> None:
        self._config_while_running("PRESCALER", value, 0xF)

    def write_BITMODE(self, value: int) -> None:
        self._config_while_running("BITMODE", value, 3)

    def write_MODE(self, value: int) -> None:
        if self.running and (value & 3) != (self.values["MODE"] & 3):
            self._v0 = self.counter()
            self.values["MODE"] = value & 3
            if not self.counter_mode:
                self._t0 = self._clock().ticks()
            self._reschedule()
            return
        self.values["MODE"] = value & 3
