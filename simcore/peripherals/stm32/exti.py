"""STM32 SYSCFG (EXTI line sources) and EXTI (edge detection, pending bits, interrupts).

RM0090 sections 9 (SYSCFG) and 12 (EXTI) for the STM32F4, RM0432 sections 9 and 14 for the
STM32L4+. Lines 0-15 watch one GPIO pin each: pin ``n`` of the port that ``SYSCFG_EXTICR``
selects for line ``n`` (port A at reset). A rising edge with the line's ``RTSR`` bit set, or a
falling edge with its ``FTSR`` bit set, sets the line's pending bit when the line is unmasked
(``IMR``; RM0090 Figure 41: the mask gates the pending request register); a 1 written to
``SWIER`` does the same from software. A pending line asserts its NVIC interrupt until the
firmware writes 1 to its ``PR`` bit (EXTI0..EXTI4, EXTI9_5, EXTI15_10, as the SVD names them).
Lines above 15 come from other peripherals (``line_event``); the event mask (``EMR``, wake-up
from ``wfe``) is not modelled and stays a generic register.
"""

from __future__ import annotations

from typing import Any, ClassVar

from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel


@register_model
class Stm32F4Syscfg(PeripheralModel):
    """SYSCFG of the STM32F4 (RM0090 section 9.2): EXTICR1-4 select the port of each EXTI line."""

    TYPE = "stm32f4_syscfg"
    SVD = "SYSCFG"
    PARTS = ("stm32f407vg",)
    PLAIN = ("EXTICR1", "EXTICR2", "EXTICR3", "EXTICR4")

    def port_of_line(self, line: int) -> int:
        """The port (0 = A) whose pin ``line`` feeds EXTI line ``line`` (0-15)."""
        return self.values[f"EXTICR{line // 4 + 1}"] >> (4 * (line % 4)) & 0xF


@register_model
class Stm32L4Syscfg(Stm32F4Syscfg):
    """SYSCFG of the STM32L4+ (RM0432 section 9.2.3-9.2.6): the same EXTICR1-4."""

    TYPE = "stm32l4_syscfg"
    PARTS = ("stm32l4r5zi",)


class Stm32Exti(PeripheralModel):
    """What the F4 and L4 EXTI share: lines, edges, pending bits and their NVIC lines."""

    SVD = "EXTI"
    NLINES: ClassVar[int] = 23
    SUFFIX: ClassVar[str] = ""  # "1" on the L4: IMR1, PR1...
    # NVIC lines of EXTI lines above 15 (RM0090 Table 61 / RM0432 Table 62), where simcore knows them
    OTHER_LINES: ClassVar[dict[int, str]] = {}
    # ... and those the SVD lists under the RTC, by number (vector tables: RM0090 Table 61, RM0432 section 13)
    FIXED_LINES: ClassVar[dict[int, int]] = {}

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        super().__init__(config, host, registers)
        irqs = dict(self.svd.interrupts) if self.svd is not None else {}
        self.irq_of_line: dict[int, int] = {}
        for line in range(16):
            name = f"EXTI{line}" if line < 5 else ("EXTI9_5" if line < 10 else "EXTI15_10")
            if name in irqs:
                self.irq_of_line[line] = irqs[name]
        for line, name in self.OTHER_LINES.items():
            if name in irqs:
                self.irq_of_line[line] = irqs[name]
        for line, irq in self.FIXED_LINES.items():
            self.irq_of_line.setdefault(line, irq)
        self.edges = 0  # edges that set a pending bit (for reports and tests)
        self._levels: dict[int, bool] = {}
        self._pr_store: int | None = None  # the register file's value of PR, which serves its reads (_serve_pr)
        self._pr_tried = False
        self._lines_of: dict[int, int] = {}  # NVIC line -> the PR bits of the EXTI lines that raise it
        for line, irq in self.irq_of_line.items():
            self._lines_of[irq] = self._lines_of.get(irq, 0) | 1 << line
        self._clear_slot: int | None = None  # the C slot of PR's write-1-to-clear (SystemBlock.event_clear_slot)
        self._clear_tried = False
        self._syscfg: Any = None  # the SYSCFG model whose EXTICR select each line's port (False: none), at first use

    def reset(self) -> None:
        super().reset()
        if getattr(self, "_pr_store", None) is not None:
            self._pr_changed()
        if getattr(self, "_clear_slot", None) is not None:
            self._arm_clear()

    def _serve_pr(self) -> None:
        """Let the register file answer PR's reads (flag FIT, write masks 0: every write but of 0 still reaches
        ``_write_pr``, which lowers the NVIC lines): a driver's wait for a pending line reads it in C. The model gives
        it PR's value at each change (``_pr_changed``)."""
        self._pr_tried = True
        bus = getattr(self.host, "bus", None)
        if bus is None or not hasattr(bus, "serve_in_c"):
            return
        got = bus.serve_in_c(self.base + self.register(self._reg("PR")).offset, True, (0, 0, 0, 0xFFFFFFFF))
        if got is not None:
            self._pr_store = got[1]

    def _pr_changed(self) -> None:
        """PR changed: the register file, which serves its reads, holds the new value."""
        if self._pr_store is None and not self._pr_tried:
            self._serve_pr()
        if self._pr_store is not None:
            self.host.bus.rf.set_value(self._pr_store, self.values[self._reg("PR")])  # type: ignore[attr-defined]

    def _reg(self, name: str) -> str:
        return f"{name}{self.SUFFIX}"

    def _line_mask(self) -> int:
        return (1 << min(self.NLINES, 32)) - 1

    # --- inputs -------------------------------------------------------------------------------
    def gpio_edge(self, port: int, pin: int, level: int) -> None:
        """A GPIO pin changed level (called by every port; the line listens to one port)."""
        syscfg = self._syscfg
        if syscfg is None:  # looked up once: the board's models do not change during a run
            found = self.host.peripheral("syscfg")
            syscfg = self._syscfg = found if found is not None and hasattr(found, "port_of_line") else False
        selected = syscfg.port_of_line(pin) if syscfg else 0
        if selected != port:
            return
        bit = 1 << pin
        edge = self.values[self._reg("RTSR")] if level else self.values[self._reg("FTSR")]
        if edge & bit:
            self._pend(bit)

    def line_event(self, line: int) -> None:
        """Another peripheral's rising event on EXTI line ``line`` (RTC alarm, PVD...): pend it if the line is
        unmasked and its rising edge chosen (RTSR: these lines are configurable, RM0090 12.3.6)."""
        if line < 32 and self.values[self._reg("RTSR")] >> line & 1:
            self._pend(1 << line)

    def _pend(self, bits: int) -> None:
        bits &= self.values[self._reg("IMR")]
        if not bits:
            return
        self.edges += 1
        self.values[self._reg("PR")] |= bits
        self._pr_changed()
        self._irqs()

    def _irqs(self) -> None:
        pr = self.values[self._reg("PR")]
        for irq, lines in self._lines_of.items():  # (in irq_of_line's order of first appearance, as it was built)
            level = bool(pr & lines)
            if self._levels.get(irq, False) != level:
                self._levels[irq] = level
                self.host.set_irq(irq, level)
        if self._clear_slot is not None:
            self._arm_clear()

    # --- PR's clears served in C (SystemBlock.event_clear_slot, hotpath.c hp_ack) ---------------------------------
    def _clears_in_c(self) -> None:
        """After a PR write through Python: give PR's next writes a C slot (write 1 to clear, RM0432 14.5.6 / RM0090
        12.3.6) when the register file holds PR (``_serve_pr``) and the part's hot path can serve them. A driver's
        clear of the pending bit that woke it (a FIFO watermark's EXTI line, once per drain) then costs no Python call;
        the model applies it at the next sync (:meth:`w1c_cleared_in_c`)."""
        self._clear_tried = True
        system = getattr(self.host, "system", None)
        slot = getattr(system, "event_clear_slot", None)
        if slot is None or self._pr_store is None or not self._lines_of:
            return
        first = next(iter(self._lines_of))
        k = slot(self, 0, self.base + self.register(self._reg("PR")).offset, self._pr_store, self._line_mask(), first)
        if k is not None:
            self._clear_slot = k
            self._arm_clear()

    def _arm_clear(self) -> None:
        """Arm PR's C slot while exactly one of the EXTI's NVIC lines is high: a write of bits within the EXTI's lines
        that clears every pending bit holding that line (and so lowers it) is then served in C, the line falling
        there. Two lines high, or none: the write is the model's."""
        assert self._clear_slot is not None
        system: Any = self.host.system  # type: ignore[attr-defined]
        high = [irq for irq, level in self._levels.items() if level]
        need = self.values[self._reg("PR")] & self._lines_of.get(high[0], 0) if len(high) == 1 else 0
        if need:
            system.event_clear_armed(self._clear_slot, True, need, high[0])
        else:
            system.event_clear_armed(self._clear_slot, False)

    def w1c_cleared_in_c(self, _index: int, value: int, _cycle: int) -> None:
        """C served the firmware's PR write ``value`` (SystemBlock.sync_native, hotpath.c hp_ack): what ``_write_pr``
        does (the pending bits and SWIER cleared, the line low; a clear does not depend on the time)."""
        self._write_pr(value)

    # --- registers (handlers named per part below) --------------------------------------------
    def _write_pr(self, value: int) -> None:
        reg = self._reg("PR")
        self.values[reg] &= ~value
        self.values[self._reg("SWIER")] &= ~value  # RM0090 12.3.5: clearing PR clears SWIER
        self._pr_changed()
        self._irqs()
        if not self._clear_tried:
            self._clears_in_c()

    def _write_swier(self, value: int) -> None:
        reg = self._reg("SWIER")
        rising = value & ~self.values[reg] & self._line_mask()
        self.values[reg] = value & self._line_mask()
        self._pend(rising)

    def _write_imr(self, value: int) -> None:
        self.values[self._reg("IMR")] = value
        self._irqs()


@register_model
class Stm32F4Exti(Stm32Exti):
    """EXTI of the STM32F4 (RM0090 section 12.3): 23 lines, IMR/RTSR/FTSR/SWIER/PR."""

    TYPE = "stm32f4_exti"
    PARTS = ("stm32f407vg",)
    PLAIN = ("RTSR", "FTSR")
    OTHER_LINES = {16: "PVD", 21: "TAMP_STAMP", 22: "RTC_WKUP"}
    FIXED_LINES = {17: 41, 21: 2, 22: 3}  # RTC_Alarm, TAMP_STAMP, RTC_WKUP

    def write_IMR(self, value: int) -> None:
        self._write_imr(value & self._line_mask())

    def write_SWIER(self, value: int) -> None:
        self._write_swier(value)

    def write_PR(self, value: int) -> None:
        self._write_pr(value)


@register_model
class Stm32L4Exti(Stm32Exti):
    """EXTI of the STM32L4+ (RM0432 section 14.5): lines 0-31 in the ...1 registers (IMR1, PR1...)."""

    TYPE = "stm32l4_exti"
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("RTSR1", "FTSR1")
    NLINES = 32
    SUFFIX = "1"
    OTHER_LINES = {16: "PVD_PVM"}
    FIXED_LINES = {18: 41, 20: 3}  # RTC_ALARM, RTC_WKUP

    def write_IMR1(self, value: int) -> None:
        self._write_imr(value)

    def write_SWIER1(self, value: int) -> None:
        self._write_swier(value)

    def write_PR1(self, value: int) -> None:
        self._write_pr(value)
