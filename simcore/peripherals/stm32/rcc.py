"""STM32 reset and clock control (RCC): oscillators, PLLs, the system clock switch, bus prescalers.

The part's clock model (simcore/clock.py, docs/clocks.md): it computes every named clock from
its registers and tells the machine when they change (``host.clock_tree_changed``), so the
core clock, SysTick, DWT, peripheral timing, flash wait states and energy follow what the
firmware programs.

- Oscillators and PLLs: an ``ON`` bit starts one; its ``RDY`` flag is set after the start-up
  time of the datasheet (typical figures, in virtual time: a scheduled event, so a firmware
  polling the flag is fast-forwarded to it). A crystal the board does not have (``hse_hz = 0``
  in the board file's ``rcc`` entry) never becomes ready. Turning off a clock that drives
  SYSCLK (directly or through the PLL) is refused, as on the part.
- System clock switch: ``CFGR.SW`` selects the source; ``SWS`` follows when the source is ready
  (at once, or when it becomes ready).
- AHB/APB prescalers; the APB timer clocks (``TIMCLKx``: PCLKx, doubled when APBx divides).
- Ready interrupt flags and enables (F4 ``CIR``; L4 ``CIER``/``CIFR``/``CICR``) on the RCC IRQ.
- Peripheral clock enables are storage the other models may consult (``clock_enabled``); a
  peripheral reset bit set by the firmware resets that peripheral's model.
- ``CSR`` reset flags: power-on flags at start, ``IWDGRSTF``/``WWDGRSTF``/``SFTRSTF``/``LPWRRSTF``
  after a reset of that cause (the machine's reset keeps them), ``RMVF`` clears them.
- ``BDCR`` (LSE, RTC clock selection) is in the backup domain: writes need ``PWR.CR.DBP`` (F4) /
  ``PWR.CR1.DBP`` (L4), and a system reset leaves it as it was.

STM32F405/407: RM0090 Rev 19 section 7; STM32L4R5: RM0432 Rev 9 section 6. Start-up times:
DS8626 (F407) and DS12023 (L4R5), typical values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, Register
from simcore.peripherals.stm32.common import Stm32Model

US = FS_PER_SECOND // 1_000_000
MS = FS_PER_SECOND // 1000

AHB_DIV = {8: 2, 9: 4, 10: 8, 11: 16, 12: 64, 13: 128, 14: 256, 15: 512}  # HPRE codes 0xxx: /1
APB_DIV = {4: 2, 5: 4, 6: 8, 7: 16}  # PPREx codes 0xx: /1


@dataclass
class Osc:
    """One oscillator or PLL: where its ON/RDY bits are, how long it takes, its state."""

    name: str
    reg: str
    on_bit: int
    rdy_bit: int
    startup_fs: int
    irq_bit: int | None = None  # its bit in the ready-interrupt flag/enable registers
    on: bool = False
    ready: bool = False
    event: Any = None


class Stm32Rcc(Stm32Model):
    """What the F4 and L4 RCCs share; the subclasses give the register layout and the clock tree."""

    SIZE = 0x400
    OSCS: ClassVar[tuple[tuple[str, str, int, int, int, int | None], ...]] = ()  # name, reg, on, rdy, fs, irq
    SW_SOURCES: ClassVar[dict[int, str]] = {}
    RESET_SOURCE: ClassVar[str] = ""
    PPRE1: ClassVar[tuple[int, int]] = (0, 0)  # (lsb, width)
    PPRE2: ClassVar[tuple[int, int]] = (0, 0)
    RESET_FLAGS: ClassVar[dict[str, int]] = {}  # cause -> CSR bit
    RMVF: ClassVar[int] = 0
    POWER_ON_FLAGS: ClassVar[int] = 0
    PART: ClassVar[str] = ""
    ENABLE_REGS: ClassVar[tuple[str, ...]] = ()
    RESET_REGS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_HSE_HZ: ClassVar[float] = 0.0

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        opts = config.options
        self.hse_hz = float(opts.get("hse_hz", self.DEFAULT_HSE_HZ))  # the board's crystal; 0: none fitted
        self.lse_hz = float(opts.get("lse_hz", 32768.0))
        self._live = False
        self._tree: dict[str, float] = {}
        self._pending_sw: int | None = None
        self.oscs: dict[str, Osc] = {}
        self.stopped = False  # in Stop mode (enter_stop / exit_stop)
        super().__init__(config, host, registers)
        self._live = True

    # --- life cycle --------------------------------------------------------------------------
    def reset(self) -> None:
        """System reset: every register to its reset value except the backup domain (BDCR) and CSR's flags."""
        keep_bdcr = self.values.get("BDCR") if self._live else None
        keep_csr = self.values.get("CSR") if self._live else None
        for osc in self.oscs.values():
            if osc.event is not None:
                self.host.cancel(osc.event)
        self.stopped = False
        super().reset()
        self.oscs = {o[0]: Osc(*o) for o in self.OSCS}
        self._pending_sw = None
        reset_on = self.reset_oscillators()
        for name in reset_on:
            self.oscs[name].on = self.oscs[name].ready = True
        if keep_bdcr is not None:
            self.values["BDCR"] = keep_bdcr
            lse = self.oscs["LSE"]
            lse.on = lse.ready = bool(keep_bdcr & 1) and self.lse_hz > 0
        if keep_csr is not None:
            self.values["CSR"] = (self.values["CSR"] & ~self._flag_mask()) | (keep_csr & self._flag_mask())
        for osc in self.oscs.values():
            self._show(osc)
        self._update_tree()

    def reset_oscillators(self) -> tuple[str, ...]:
        """The oscillators running after a reset (the reset clock)."""
        return (self.RESET_SOURCE,)

    def _flag_mask(self) -> int:
        return sum(1 << b for b in self.RESET_FLAGS.values())

    def note_reset(self, cause: str) -> None:
        """The machine reset the part for ``cause`` ("iwdg", "wwdg", "software", "lowpower"): set its CSR flag."""
        bit = self.RESET_FLAGS.get(cause)
        if bit is not None:
            self.values["CSR"] |= 1 << bit

    # --- oscillators ---------------------------------------------------------------------------
    def _show(self, osc: Osc) -> None:
        """Mirror an oscillator's state into its register's ON and RDY bits."""
        v = self.values[osc.reg]
        v = (v | 1 << osc.on_bit) if osc.on else (v & ~(1 << osc.on_bit))
        v = (v | 1 << osc.rdy_bit) if osc.ready else (v & ~(1 << osc.rdy_bit))
        self.values[osc.reg] = v

    def osc_hz(self, name: str) -> float:
        """The oscillator's (or PLL's VCO-derived system output's) frequency when running; 0 when not ready."""
        osc = self.oscs.get(name)
        if osc is None or not osc.ready:
            return 0.0
        return self.nominal_hz(name)

    def nominal_hz(self, name: str) -> float:
        raise NotImplementedError

    def can_start(self, name: str) -> bool:
        """Can this oscillator ever become ready (a crystal the board has, a PLL with an input)?"""
        if name == "HSE":
            return self.hse_hz > 0
        if name == "LSE":
            return self.lse_hz > 0
        return True

    def _set_on(self, osc: Osc, on: bool) -> None:
        if on == osc.on:
            return
        if not on and self._drives_sysclk(osc.name):
            self.guest_error(f"{self.svd_or_name()}.{osc.reg}.{osc.name}ON", f"{osc.name} drives SYSCLK: it "
                             "cannot be turned off (the write is ignored, as on the part)")
            return
        osc.on = on
        if osc.event is not None:
            self.host.cancel(osc.event)
            osc.event = None
        if on:
            if osc.name.startswith("PLL"):
                self.check_pll(osc.name)
            if self.can_start(osc.name) and self.pll_input_ok(osc.name):
                osc.event = self.host.schedule_at_fs(self.host.now_fs() + osc.startup_fs,
                                                     lambda o=osc: self._became_ready(o), f"RCC {osc.name} ready")
        else:
            osc.ready = False
        self._show(osc)

    def pll_input_ok(self, name: str) -> bool:
        return True

    def _became_ready(self, osc: Osc) -> None:
        osc.event = None
        if not osc.on:
            return
        if osc.name.startswith("PLL") and not self.pll_input_ok(osc.name):
            return
        osc.ready = True
        self._show(osc)
        if osc.irq_bit is not None and self.ready_irq_enabled(osc.irq_bit):
            self.set_ready_flag(osc.irq_bit)
            if self.irq is not None:
                self.host.pend_irq(self.irq)
        self._try_switch()
        self._update_tree()
        for other in self.oscs.values():  # a PLL waiting for its input
            if other.name.startswith("PLL") and other.on and not other.ready and other.event is None \
                    and self.pll_input_ok(other.name):
                other.event = self.host.schedule_at_fs(self.host.now_fs() + other.startup_fs,
                                                       lambda o=other: self._became_ready(o), f"RCC {other.name} ready")

    def ready_irq_enabled(self, bit: int) -> bool:
        raise NotImplementedError

    def set_ready_flag(self, bit: int) -> None:
        raise NotImplementedError

    def write_osc_bits(self, reg: str, value: int) -> None:
        """A write to a register holding ON/RDY bits: the ON bits start/stop, the RDY bits are the hardware's."""
        mine = [o for o in self.oscs.values() if o.reg == reg]
        rdy = sum(1 << o.rdy_bit for o in mine)
        onb = sum(1 << o.on_bit for o in mine)
        self.values[reg] = (self.values[reg] & (rdy | onb)) | (value & ~(rdy | onb))
        for osc in mine:
            self._set_on(osc, bool(value >> osc.on_bit & 1))
        self._update_tree()

    def force_lsi(self) -> None:
        """The IWDG started: the LSI is forced on (RM0090 7.2.5)."""
        lsi = self.oscs["LSI"]
        if not lsi.on:
            self._set_on(lsi, True)

    # --- the system clock switch ---------------------------------------------------------------
    def sysclk_source(self) -> str:
        """What drives SYSCLK now (SWS)."""
        return self.SW_SOURCES[(self.values["CFGR"] >> 2) & 3]

    def _drives_sysclk(self, name: str) -> bool:
        src = self.sysclk_source()
        if src == name:
            return True
        return src == "PLL" and name == self.pll_source("PLL")

    def pll_source(self, pll: str) -> str | None:
        raise NotImplementedError

    def write_sw(self, sw: int) -> None:
        if sw not in self.SW_SOURCES:
            self.guest_error(f"{self.svd_or_name()}.CFGR.SW", f"SW = {sw} selects no clock (not allowed)")
            return
        self._pending_sw = sw
        self._try_switch()

    def _try_switch(self) -> None:
        sw = self._pending_sw
        if sw is None:
            return
        if self.osc_hz(self.SW_SOURCES[sw]) > 0:
            self.values["CFGR"] = (self.values["CFGR"] & ~0xC) | (sw << 2)
            self._pending_sw = None

    # --- Stop mode (RM0090 5.3.4, RM0432 6.3.6) ---------------------------------------------------
    STOP_OFF: ClassVar[tuple[str, ...]] = ()  # the oscillators and PLLs Stop turns off

    def stop_wakeup_clock(self) -> str:
        """The oscillator SYSCLK restarts on after Stop."""
        return self.RESET_SOURCE

    def enter_stop(self) -> None:
        """Stop: the 1.2 V domain's clocks stop (SYSCLK, HCLK, the APB clocks and the high-speed oscillators);
        the LSE, the LSI and what runs on them (RTC, IWDG) go on."""
        self.stopped = True
        self._update_tree()

    def exit_stop(self) -> str:
        """The wake-up from Stop: the PLLs and high-speed oscillators are off, SYSCLK runs on the wake-up clock
        (already stable: the datasheets' wake-up times are not modelled). Returns that clock's name."""
        self.stopped = False
        wake = self.stop_wakeup_clock()
        for osc in self.oscs.values():
            if osc.name in self.STOP_OFF:
                if osc.event is not None:
                    self.host.cancel(osc.event)
                    osc.event = None
                osc.on = osc.ready = osc.name == wake
                self._show(osc)
        code = next(k for k, v in self.SW_SOURCES.items() if v == wake)
        self.values["CFGR"] = (self.values["CFGR"] & ~0xF) | code | code << 2
        self._pending_sw = None
        self._update_tree()
        return wake

    # --- the clock tree ------------------------------------------------------------------------
    def sysclk_hz(self) -> float:
        return self.osc_hz(self.sysclk_source())

    def _field(self, reg: str, lsb: int, width: int) -> int:
        return (self.values[reg] >> lsb) & ((1 << width) - 1)

    def compute_tree(self) -> dict[str, float]:
        sysclk = self.sysclk_hz()
        hclk = sysclk / AHB_DIV.get(self._field("CFGR", 4, 4), 1)
        d1 = APB_DIV.get(self._field("CFGR", *self.PPRE1), 1)
        d2 = APB_DIV.get(self._field("CFGR", *self.PPRE2), 1)
        tree = {"SYSCLK": sysclk, "HCLK": hclk, "FCLK": hclk, "PCLK1": hclk / d1, "PCLK2": hclk / d2,
                "TIMCLK1": hclk / d1 * (1 if d1 == 1 else 2), "TIMCLK2": hclk / d2 * (1 if d2 == 1 else 2),
                "LSE": self.osc_hz("LSE"), "LSI": self.osc_hz("LSI"), "HSE": self.osc_hz("HSE"),
                "HSI": self.osc_hz("HSI")}
        tree["RTCCLK"] = self.rtcclk_hz(tree)
        if getattr(self, "stopped", False):
            for name in ("SYSCLK", "HCLK", "FCLK", "PCLK1", "PCLK2", "TIMCLK1", "TIMCLK2", *self.STOP_OFF):
                if name in tree:
                    tree[name] = 0.0
        return tree

    def rtcclk_hz(self, tree: dict[str, float]) -> float:
        sel = self._field("BDCR", 8, 2)
        return {0: 0.0, 1: tree["LSE"], 2: tree["LSI"], 3: self.hse_rtc_hz(tree)}[sel]

    def hse_rtc_hz(self, tree: dict[str, float]) -> float:
        return 0.0

    def _update_tree(self) -> None:
        tree = self.compute_tree()
        if tree == self._tree:
            return
        self._tree = tree
        if self._live:
            self.host.clock_tree_changed(self)

    # ClockModel (simcore/clock.py)
    def clock_tree(self) -> dict[str, float]:
        if not self._tree:
            self._tree = self.compute_tree()
        return dict(self._tree)

    def core_source(self) -> str:
        return self.sysclk_source()

    # --- polling (simcore/poll.py) ---------------------------------------------------------------
    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        """Flags here change only when an oscillator or PLL becomes ready (a scheduled event)."""
        return any(o.event is not None for o in self.oscs.values()), None

    def poll_explain(self, offset: int, value: int) -> str | None:
        """Why a flag the firmware waits for will never come."""
        slot = self._table.decode.get(offset)
        reg = slot.reg.name if slot is not None else ""
        for o in self.oscs.values():
            if o.reg != reg and reg != "CFGR":
                continue
            if o.on and not o.ready and o.event is None:
                if not self.can_start(o.name):
                    key = "hse_hz" if o.name == "HSE" else "lse_hz"
                    return (f"{o.name} is on, but the board has no {o.name} crystal or clock: {key} = 0 in its "
                            f"{self.name} entry")
                src = self.pll_source(o.name) if o.name.startswith("PLL") else None
                return f"{o.name} is on, but its input {src or 'clock'} is not running"
        if reg == "CFGR" and self._pending_sw is not None:
            return f"SYSCLK switch to {self.SW_SOURCES[self._pending_sw]} waits for it, and it is not starting"
        if reg == "CFGR" or any(o.reg == reg for o in self.oscs.values()):
            off = [o.name for o in self.oscs.values() if o.reg == reg and not o.on]
            if off:
                return f"{', '.join(off)} off"
        return None

    # --- peripheral enables and resets -----------------------------------------------------------
    def svd_or_name(self) -> str:
        return self.periph_name

    def _svd_fields(self, reg: str) -> list[tuple[str, int]]:
        """(field name, bit) of a one-bit-per-peripheral register (enables, resets)."""
        return [(name, (mask & -mask).bit_length() - 1) for name, mask in self.svd_fields(reg)]

    def clock_enabled(self, peripheral: str) -> bool | None:
        """Is ``peripheral``'s bus clock enabled (``USART2`` -> APB1ENR.USART2EN)? None if RCC has no such bit."""
        want = f"{peripheral.upper()}EN"
        for reg in self.ENABLE_REGS:
            for name, bit in self._svd_fields(reg):
                if name == want:
                    return bool(self.values[reg] >> bit & 1)
        return None

    def write_reset_register(self, reg: str, value: int) -> None:
        """xxxRSTR: a bit going to 1 resets that peripheral's model (``USART2RST`` -> the board's ``usart2``)."""
        old = self.values[reg]
        self.values[reg] = value
        rising = value & ~old
        if not rising:
            return
        for name, bit in self._svd_fields(reg):
            if rising >> bit & 1 and name.endswith("RST"):
                target = self.host.peripheral(name[:-3])
                if target is None and name.startswith("UART"):  # the F407 SVD names USART2RST "UART2RST"
                    target = self.host.peripheral("US" + name[1:-3])
                if target is not None and target is not self and hasattr(target, "reset"):
                    target.reset()

    def backup_writable(self) -> bool:
        pwr = self.host.peripheral("pwr")
        return True if pwr is None or not hasattr(pwr, "backup_access") else bool(pwr.backup_access())

    def write_backup(self, value: int) -> bool:
        if not self.backup_writable():
            self.guest_error(f"{self.svd_or_name()}.BDCR", "write with the backup domain write-protected "
                             "(PWR DBP clear): ignored, as on the part")
            return False
        if value & (1 << 16):  # BDRST: the backup domain to its reset state
            lse = self.oscs["LSE"]
            if lse.event is not None:
                self.host.cancel(lse.event)
                lse.event = None
            lse.on = lse.ready = False
            self.values["BDCR"] = 1 << 16
            rtc = self.host.peripheral("rtc")
            if rtc is not None and hasattr(rtc, "backup_reset"):
                rtc.backup_reset()
            self._update_tree()
            return False
        return True

    def write_csr_flags(self, value: int) -> int:
        """CSR: RMVF clears the reset flags; the flags themselves are the hardware's."""
        flags = self.values["CSR"] & self._flag_mask()
        if value & (1 << self.RMVF):
            flags = 0
        return (value & ~self._flag_mask() & ~(1 << self.RMVF)) | flags


class _SharedWrites:
    """Register handlers the F4 and L4 RCCs share (same names and meaning in RM0090 7.3 and RM0432 6.4);
    a mixin, not a register block, so the DSL binds them in each part's class."""

    values: dict[str, int]
    _pending_sw: int | None
    write_sw: Any
    write_backup: Any
    write_osc_bits: Any
    write_reset_register: Any
    _update_tree: Any

    def write_CFGR(self, value: int) -> None:
        old = self.values["CFGR"]
        self.values["CFGR"] = (value & ~0xC) | (old & 0xC)  # SWS is the hardware's
        if (value ^ old) & 3 or self._pending_sw is not None:
            self.write_sw(value & 3)
        self._update_tree()

    def write_BDCR(self, value: int) -> None:
        if self.write_backup(value):
            self.write_osc_bits("BDCR", value)

    def write_AHB1RSTR(self, value: int) -> None:
        self.write_reset_register("AHB1RSTR", value)

    def write_AHB2RSTR(self, value: int) -> None:
        self.write_reset_register("AHB2RSTR", value)

    def write_AHB3RSTR(self, value: int) -> None:
        self.write_reset_register("AHB3RSTR", value)

    def write_APB2RSTR(self, value: int) -> None:
        self.write_reset_register("APB2RSTR", value)


@register_model
class Stm32F4Rcc(_SharedWrites, Stm32Rcc):
    """STM32F405/407 RCC (RM0090 section 7.3): HSI 16 MHz, HSE, PLL, PLLI2S, LSI 32 kHz, LSE."""

    TYPE = "stm32f4_rcc"
    PART = "stm32f407vg"
    # name, register, ON bit, RDY bit, start-up (DS8626 typical: tsu(HSI) 2.2 us, tsu(HSE) 2 ms, tLOCK 100 us,
    # tsu(LSI) 15 us, tsu(LSE) 2 s), bit in CIR
    OSCS = (("HSI", "CR", 0, 1, 2200 * US // 1000, 2), ("HSE", "CR", 16, 17, 2 * MS, 3),
            ("PLL", "CR", 24, 25, 100 * US, 4), ("PLLI2S", "CR", 26, 27, 100 * US, 5),
            ("LSI", "CSR", 0, 1, 15 * US, 0), ("LSE", "BDCR", 0, 1, 2000 * MS, 1))
    SW_SOURCES = {0: "HSI", 1: "HSE", 2: "PLL"}
    RESET_SOURCE = "HSI"
    STOP_OFF = ("HSI", "HSE", "PLL", "PLLI2S")  # RM0090 5.3.4: back on HSI after Stop
    PPRE1 = (10, 3)
    PPRE2 = (13, 3)
    RESET_FLAGS = {"bor": 25, "pin": 26, "por": 27, "software": 28, "iwdg": 29, "wwdg": 30, "lowpower": 31}
    RMVF = 24
    ENABLE_REGS = ("AHB1ENR", "AHB2ENR", "AHB3ENR", "APB1ENR", "APB2ENR")
    RESET_REGS = ("AHB1RSTR", "AHB2RSTR", "AHB3RSTR", "APB1RSTR", "APB2RSTR")
    DEFAULT_HSE_HZ = 8e6
    REGISTERS = (
        Register("CR", 0x00, reset=0x00000083, implemented=0x0F0FFFFB),
        Register("PLLCFGR", 0x04, reset=0x24003010, implemented=0x0F437FFF),
        Register("CFGR", 0x08, reset=0x00000000),
        Register("CIR", 0x0C, implemented=0x00BF3FBF),
        Register("AHB1RSTR", 0x10), Register("AHB2RSTR", 0x14), Register("AHB3RSTR", 0x18),
        Register("APB1RSTR", 0x20), Register("APB2RSTR", 0x24),
        Register("AHB1ENR", 0x30, reset=0x00100000), Register("AHB2ENR", 0x34), Register("AHB3ENR", 0x38),
        Register("APB1ENR", 0x40), Register("APB2ENR", 0x44),
        Register("AHB1LPENR", 0x50, reset=0x7E6791FF), Register("AHB2LPENR", 0x54, reset=0x000000F1),
        Register("AHB3LPENR", 0x58, reset=0x00000001), Register("APB1LPENR", 0x60, reset=0x36FEC9FF),
        Register("APB2LPENR", 0x64, reset=0x00075F33),
        Register("BDCR", 0x70, implemented=0x00018307),
        Register("CSR", 0x74, reset=0x0E000000, implemented=0xFF000003),
        Register("SSCGR", 0x80, modelled=False),
        Register("PLLI2SCFGR", 0x84, reset=0x20003000, implemented=0x70007FC0),
    )

    def nominal_hz(self, name: str) -> float:
        if name == "HSI":
            return 16e6
        if name == "HSE":
            return self.hse_hz
        if name == "LSI":
            return 32e3
        if name == "LSE":
            return self.lse_hz
        if name == "PLL":
            vco = self._vco()
            return vco / (2 * (self._field("PLLCFGR", 16, 2) + 1))
        if name == "PLLI2S":
            vco_in = self._pll_in()
            return vco_in * self._field("PLLI2SCFGR", 6, 9) / max(self._field("PLLI2SCFGR", 28, 3), 2)
        return 0.0

    def _pll_in(self) -> float:
        src = self.osc_hz(self.pll_source("PLL") or "")
        m = self._field("PLLCFGR", 0, 6)
        return src / m if m else 0.0

    def _vco(self) -> float:
        return self._pll_in() * self._field("PLLCFGR", 6, 9)

    def pll_source(self, pll: str) -> str | None:
        return "HSE" if self.values["PLLCFGR"] >> 22 & 1 else "HSI"

    def pll_input_ok(self, name: str) -> bool:
        return self.osc_hz(self.pll_source(name) or "") > 0

    def check_pll(self, name: str) -> None:
        """RM0090 7.3.2: 2 <= PLLM <= 63, 50 <= PLLN <= 432, VCO input 1-2 MHz, VCO output 100-432 MHz,
        PLL output at most 168 MHz, PLL48CLK (PLLQ >= 2) at most 48 MHz."""
        if name != "PLL":
            return
        m, n = self._field("PLLCFGR", 0, 6), self._field("PLLCFGR", 6, 9)
        q = self._field("PLLCFGR", 24, 4)
        src = self.nominal_hz(self.pll_source("PLL") or "")
        problems = []
        if not 2 <= m <= 63:
            problems.append(f"PLLM = {m} (2..63)")
        if not 50 <= n <= 432:
            problems.append(f"PLLN = {n} (50..432)")
        if m and src and not 0.95e6 <= src / m <= 2.1e6:
            problems.append(f"VCO input {src / m / 1e6:g} MHz (1..2 MHz)")
        vco = src / m * n if m else 0.0
        if m and src and not 100e6 <= vco <= 432e6:
            problems.append(f"VCO output {vco / 1e6:g} MHz (100..432 MHz)")
        p = 2 * (self._field("PLLCFGR", 16, 2) + 1)
        if vco and vco / p > 168e6:
            problems.append(f"PLL output {vco / p / 1e6:g} MHz (at most 168 MHz)")
        if q < 2:
            problems.append(f"PLLQ = {q} (2..15)")
        elif vco and vco / q > 48e6 * 1.001:
            problems.append(f"PLL48CLK {vco / q / 1e6:g} MHz (at most 48 MHz)")
        if problems:
            self.guest_error(self.where_field("PLLCFGR"), "PLL enabled with " + ", ".join(problems) + " (RM0090 7.3.2)")

    def compute_tree(self) -> dict[str, float]:
        tree = super().compute_tree()
        vco = self._vco() if self.oscs["PLL"].ready else 0.0
        q = self._field("PLLCFGR", 24, 4)
        tree["PLLCLK"] = self.osc_hz("PLL")
        tree["PLL48CLK"] = vco / q if q >= 2 else 0.0
        tree["PLLI2SCLK"] = self.osc_hz("PLLI2S")
        return tree

    def hse_rtc_hz(self, tree: dict[str, float]) -> float:
        pre = self._field("CFGR", 16, 5)
        return tree["HSE"] / pre if pre >= 2 else 0.0

    def ready_irq_enabled(self, bit: int) -> bool:
        return bool(self.values["CIR"] >> (bit + 8) & 1)

    def set_ready_flag(self, bit: int) -> None:
        self.values["CIR"] |= 1 << bit

    # --- registers ---------------------------------------------------------------------------------
    def write_CR(self, value: int) -> None:
        self.write_osc_bits("CR", value)

    def write_PLLCFGR(self, value: int) -> None:
        if self.oscs["PLL"].on and value != self.values["PLLCFGR"]:
            self.guest_error(self.where_field("PLLCFGR"),
                             "written while the PLL is on (PLLON): RM0090 says to change it "
                             "only with the PLL disabled")
        self.values["PLLCFGR"] = value
        self._update_tree()

    def write_PLLI2SCFGR(self, value: int) -> None:
        self.values["PLLI2SCFGR"] = value
        self._update_tree()

    def write_CIR(self, value: int) -> None:
        flags = self.values["CIR"] & 0xBF & ~(value >> 16 & 0xBF)  # xxRDYC: write 1 to clear
        self.values["CIR"] = flags | (value & 0x3F00)

    def write_CSR(self, value: int) -> None:
        self.write_osc_bits("CSR", self.write_csr_flags(value))

    def write_APB1RSTR(self, value: int) -> None:
        self.write_reset_register("APB1RSTR", value)


MSI_HZ = (100e3, 200e3, 400e3, 800e3, 1e6, 2e6, 4e6, 8e6, 16e6, 24e6, 32e6, 48e6)  # RM0432 6.4.1 MSIRANGE


@register_model
class Stm32L4Rcc(_SharedWrites, Stm32Rcc):
    """STM32L4+ (L4R5) RCC (RM0432 section 6.4): MSI 100 kHz-48 MHz, HSI16, HSE, PLL with P/Q/R outputs,
    PLLSAI1/2, LSI, LSE, HSI48."""

    TYPE = "stm32l4_rcc"
    PART = "stm32l4r5zi"
    # start-up (DS12023 typical): MSI ~6 us, HSI16 ~1.2 us (rounded up to 2), HSE 2 ms, PLL lock 15 us... 40 us max
    # (40 taken), LSI 80 us, LSE 2 s, HSI48 2.5 us; bits in CIER/CIFR/CICR
    OSCS = (("MSI", "CR", 0, 1, 6 * US, 2), ("HSI", "CR", 8, 10, 2 * US, 3), ("HSE", "CR", 16, 17, 2 * MS, 4),
            ("PLL", "CR", 24, 25, 40 * US, 5), ("PLLSAI1", "CR", 26, 27, 40 * US, 6),
            ("PLLSAI2", "CR", 28, 29, 40 * US, 7), ("LSI", "CSR", 0, 1, 80 * US, 0),
            ("LSE", "BDCR", 0, 1, 2000 * MS, 1), ("HSI48", "CRRCR", 0, 1, 2500 * US // 1000, 10))
    SW_SOURCES = {0: "MSI", 1: "HSI", 2: "HSE", 3: "PLL"}
    RESET_SOURCE = "MSI"
    STOP_OFF = ("MSI", "HSI", "HSE", "PLL", "PLLSAI1", "PLLSAI2", "HSI48")
    PPRE1 = (8, 3)
    PPRE2 = (11, 3)
    RESET_FLAGS = {"firewall": 24, "option": 25, "pin": 26, "bor": 27, "software": 28, "iwdg": 29, "wwdg": 30,
                   "lowpower": 31}
    RMVF = 23
    ENABLE_REGS = ("AHB1ENR", "AHB2ENR", "AHB3ENR", "APB1ENR1", "APB1ENR2", "APB2ENR")
    RESET_REGS = ("AHB1RSTR", "AHB2RSTR", "AHB3RSTR", "APB1RSTR1", "APB1RSTR2", "APB2RSTR")
    DEFAULT_HSE_HZ = 0.0  # NUCLEO-L4R5ZI: no HSE crystal fitted (the ST-LINK's 8 MHz MCO needs solder bridges)
    REGISTERS = (
        Register("CR", 0x00, reset=0x00000063, implemented=0x3F0F0FFF),
        Register("ICSCR", 0x04, reset=0x40000000),
        Register("CFGR", 0x08, reset=0x00000000, implemented=0x77008FFF),
        Register("PLLCFGR", 0x0C, reset=0x00001000, implemented=0xFF737FF3),
        Register("PLLSAI1CFGR", 0x10, reset=0x00001000, modelled=False),
        Register("PLLSAI2CFGR", 0x14, reset=0x00001000, modelled=False),
        Register("CIER", 0x18, implemented=0x000006FF),
        Register("CIFR", 0x1C, access="r"),
        Register("CICR", 0x20, access="w"),
        Register("AHB1RSTR", 0x28), Register("AHB2RSTR", 0x2C), Register("AHB3RSTR", 0x30),
        Register("APB1RSTR1", 0x38), Register("APB1RSTR2", 0x3C), Register("APB2RSTR", 0x40),
        Register("AHB1ENR", 0x48, reset=0x00000100), Register("AHB2ENR", 0x4C), Register("AHB3ENR", 0x50),
        Register("APB1ENR1", 0x58), Register("APB1ENR2", 0x5C), Register("APB2ENR", 0x60),
        Register("AHB1SMENR", 0x68, reset=0x00011303), Register("AHB2SMENR", 0x6C, reset=0x000532FF),
        Register("AHB3SMENR", 0x70, reset=0x00000101), Register("APB1SMENR1", 0x78, reset=0xF2FECA3F),
        Register("APB1SMENR2", 0x7C, reset=0x00000025), Register("APB2SMENR", 0x80, reset=0x01677C01),
        Register("CCIPR", 0x88),
        Register("BDCR", 0x90, implemented=0x0301837F),
        Register("CSR", 0x94, reset=0x0C000600, implemented=0xFF800F03),
        Register("CRRCR", 0x98),
        Register("CCIPR2", 0x9C),
    )

    def stop_wakeup_clock(self) -> str:
        """RM0432 6.3.6 / 6.4.3: HSI16 when CFGR.STOPWUCK is set, else the MSI at the range it had before Stop."""
        return "HSI" if self.values["CFGR"] >> 15 & 1 else "MSI"

    def msi_range(self) -> int:
        """The MSI range in force: CR.MSIRANGE when MSIRGSEL is set, else CSR.MSISRANGE (RM0432 6.4.1)."""
        if self.values["CR"] >> 3 & 1:
            return self._field("CR", 4, 4)
        return self._field("CSR", 8, 4)

    def nominal_hz(self, name: str) -> float:
        if name == "MSI":
            r = self.msi_range()
            return MSI_HZ[r] if r < len(MSI_HZ) else 0.0
        if name == "HSI":
            return 16e6
        if name == "HSE":
            return self.hse_hz
        if name == "LSI":
            return 32e3
        if name == "LSE":
            return self.lse_hz
        if name == "HSI48":
            return 48e6
        if name == "PLL":
            return self.pll_output("R") if self.values["PLLCFGR"] >> 24 & 1 else 0.0
        return 0.0

    def pll_source(self, pll: str) -> str | None:
        return {0: None, 1: "MSI", 2: "HSI", 3: "HSE"}[self.values["PLLCFGR"] & 3]

    def pll_input_ok(self, name: str) -> bool:
        if name != "PLL":
            return True
        src = self.pll_source(name)
        return src is not None and self.osc_hz(src) > 0

    def _vco(self) -> float:
        src = self.pll_source("PLL")
        hz = self.nominal_hz(src) if src is not None else 0.0
        m = self._field("PLLCFGR", 4, 4) + 1
        return hz / m * self._field("PLLCFGR", 8, 7)

    def pll_output(self, which: str) -> float:
        vco = self._vco()
        if which == "R":
            return vco / (2 * (self._field("PLLCFGR", 25, 2) + 1))
        if which == "Q":
            return vco / (2 * (self._field("PLLCFGR", 21, 2) + 1))
        pdiv = self._field("PLLCFGR", 27, 5)
        return vco / (pdiv if pdiv >= 2 else (17 if self.values["PLLCFGR"] >> 17 & 1 else 7))

    def check_pll(self, name: str) -> None:
        """RM0432 6.4.4: VCO input 2.66-8 MHz, 8 <= PLLN <= 127, VCO output 64-344 MHz, PLLR output at most
        120 MHz."""
        if name != "PLL":
            return
        src = self.pll_source("PLL")
        problems = []
        if src is None:
            problems.append("no input clock (PLLSRC = 0)")
        else:
            hz = self.nominal_hz(src)
            m = self._field("PLLCFGR", 4, 4) + 1
            n = self._field("PLLCFGR", 8, 7)
            if not 8 <= n <= 127:
                problems.append(f"PLLN = {n} (8..127)")
            if hz and not 2.66e6 <= hz / m <= 8e6:
                problems.append(f"VCO input {hz / m / 1e6:g} MHz (2.66..8 MHz)")
            vco = hz / m * n
            if hz and not 64e6 <= vco <= 344e6:
                problems.append(f"VCO output {vco / 1e6:g} MHz (64..344 MHz)")
            if self.values["PLLCFGR"] >> 24 & 1 and self.pll_output("R") > 120e6:
                problems.append(f"PLLCLK (R) {self.pll_output('R') / 1e6:g} MHz (at most 120 MHz)")
        if problems:
            self.guest_error(self.where_field("PLLCFGR"), "PLL enabled with " + ", ".join(problems) + " (RM0432 6.4.4)")

    def compute_tree(self) -> dict[str, float]:
        tree = super().compute_tree()
        ready = self.oscs["PLL"].ready
        cfg = self.values["PLLCFGR"]
        tree["MSI"] = self.osc_hz("MSI")
        tree["HSI48"] = self.osc_hz("HSI48")
        tree["PLLCLK"] = self.osc_hz("PLL")
        tree["PLL48M1CLK"] = self.pll_output("Q") if ready and cfg >> 20 & 1 else 0.0
        tree["PLLSAI3CLK"] = self.pll_output("P") if ready and cfg >> 16 & 1 else 0.0
        return tree

    def ready_irq_enabled(self, bit: int) -> bool:
        return bool(self.values["CIER"] >> bit & 1)

    def set_ready_flag(self, bit: int) -> None:
        self.values["CIFR"] |= 1 << bit

    # --- registers ---------------------------------------------------------------------------------
    def write_CR(self, value: int) -> None:
        old = self.values["CR"]
        msi = self.oscs["MSI"]
        if (value ^ old) & 0xF0 and msi.on and not msi.ready:
            self.guest_error(self.where_field("CR",
                             "MSIRANGE"), "changed while the MSI is starting (MSION set, MSIRDY clear): "
                             "RM0432 allows it only with the MSI off or ready; ignored")
            value = (value & ~0xF0) | (old & 0xF0)
        if (value >> 4 & 0xF) >= len(MSI_HZ):
            self.guest_error(self.where_field("CR", "MSIRANGE"), f"MSIRANGE = {value >> 4 & 0xF} is not allowed "
                             "(0..11, RM0432 6.4.1); ignored")
            value = (value & ~0xF0) | (old & 0xF0)
        value |= old & 0x8  # MSIRGSEL: set by software, cleared only by reset (and Standby)
        self.write_osc_bits("CR", value)

    def write_PLLCFGR(self, value: int) -> None:
        if self.oscs["PLL"].on and (value ^ self.values["PLLCFGR"]) & ~0x01110000:
            self.guest_error(self.where_field("PLLCFGR"),
                             "written while the PLL is on (PLLON): RM0432 allows only the output "
                             "enables (PLLPEN/PLLQEN/PLLREN) then")
        self.values["PLLCFGR"] = value
        self._update_tree()

    def write_CICR(self, value: int) -> None:
        self.values["CIFR"] &= ~value

    def write_CSR(self, value: int) -> None:
        self.write_osc_bits("CSR", self.write_csr_flags(value))
        self._update_tree()

    def write_CRRCR(self, value: int) -> None:
        self.write_osc_bits("CRRCR", value)

    def write_APB1RSTR1(self, value: int) -> None:
        self.write_reset_register("APB1RSTR1", value)

    def write_APB1RSTR2(self, value: int) -> None:
        self.write_reset_register("APB1RSTR2", value)
