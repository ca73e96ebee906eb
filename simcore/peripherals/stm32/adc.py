"""STM32 ADC regular conversions on a software or timer trigger, fed from a recording, with DMA.

RM0090 section 13 (STM32F4 ADC1-3 with the common ``CCR`` prescaler) and RM0432 section 21
(STM32L4+ ADC with its enable, regulator and calibration sequence). A conversion takes its
sampling time (``SMPRx``) plus the resolution's conversion cycles of the ADC clock (F4: PCLK2
divided by ``ADCPRE``; L4: HCLK/1, /2, /4 by ``CKMODE``, or the asynchronous clock), on
virtual time. What it reads is the recording given with ``--sensor adc1=trace.csv`` at that
moment (zero-order hold): the column named after the channel (``IN5``, ``ch5``, ``5``), or the
only column for every channel; volts converted against ``vref`` (3.3 V by default, option
``vref``), or raw codes. The internal channels read their datasheet typical values (VREFINT
1.21 V, the temperature sensor at 25 C). A channel with no data reads 0 and is reported once.

Regular sequences of ``L + 1`` channels (scan), single or continuous, started by software
(``SWSTART``; L4: ``ADSTART``) or by a timer's trigger output or compare event (``EXTSEL``/
``EXTEN``, RM0090 Table 69, RM0432 Table 133): ``EOC`` per conversion (F4 ``EOCS`` = 0: per
sequence), the L4's ``EOS``, interrupts, the ``ADC1`` DMA request, and ``OVR`` when a result
is not read (or taken by the DMA) before the next. Not modelled (reported when used):
injected conversions, the analog watchdogs, discontinuous mode, oversampling, dual modes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from simcore.clock import FS_PER_SECOND
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel
from simcore.peripherals.stm32.signals import DmaRequester

F4_SAMPLE = (3, 15, 28, 56, 84, 112, 144, 480)  # RM0090 13.13.4 SMPx codes, ADC clock cycles
L4_SAMPLE = (2.5, 6.5, 12.5, 24.5, 47.5, 92.5, 247.5, 640.5)  # RM0432 21.7.6
RES_BITS = (12, 10, 8, 6)
# RM0090 Table 69 (EXTSEL for regular channels) and RM0432 Table 133: trigger -> (timer, output)
F4_EXTSEL = ("TIM1_CC1", "TIM1_CC2", "TIM1_CC3", "TIM2_CC2", "TIM2_CC3", "TIM2_CC4", "TIM2_TRGO", "TIM3_CC1",
             "TIM3_TRGO", "TIM4_CC4", "TIM5_CC1", "TIM5_CC2", "TIM5_CC3", "TIM8_CC1", "TIM8_TRGO", "EXTI11")
L4_EXTSEL = ("TIM1_CC1", "TIM1_CC2", "TIM1_CC3", "TIM2_CC2", "TIM3_TRGO", "TIM4_CC4", "EXTI11", "TIM8_TRGO",
             "TIM8_TRGO2", "TIM1_TRGO", "TIM1_TRGO2", "TIM2_TRGO", "TIM4_TRGO", "TIM6_TRGO", "TIM15_TRGO",
             "TIM3_CC4")


class AdcInput:
    """Volts (or codes) per channel over virtual time, from a recording."""

    def __init__(self, where: str, path: str, options: dict[str, Any], units: str = "V") -> None:
        from simcore.sources import open_source

        if units not in ("V", "codes"):
            raise BadInputError(f"{where}: option units = {units!r}; use 'V' (volts) or 'codes' (12-bit codes)")
        self.source = open_source(Path(path), **options)
        if len(self.source.sample_shape) != 1:
            raise BadInputError(f"{where}: the recording {path} holds frames; an ADC needs a signal (CSV, NPY, WAV)")
        if len(self.source) == 0:
            raise BadInputError(f"{where}: the recording {path} has no samples")
        self.columns: dict[int, int] = {}
        for col, name in enumerate(self.source.channels):
            key = name.strip().upper()
            for prefix in ("IN", "CH", "ADC_IN", ""):
                rest = key[len(prefix):] if key.startswith(prefix) else ""
                if rest.isdigit():
                    self.columns[int(rest)] = col
                    break
        self.single = len(self.source.channels) == 1
        if not self.columns and not self.single:
            raise BadInputError(f"{where}: the recording {path} has columns {', '.join(self.source.channels)}; name "
                                "them after the ADC channels (IN0, IN5, ...) or give one column for every channel")
        bad = set(self.source.units) - {"", "V"}
        if bad:
            raise BadInputError(f"{where}: the recording {path} is in {', '.join(sorted(bad))}, not volts or codes")
        self.volts = units == "V"

    def value(self, channel: int, seconds: float) -> float | None:
        col = self.columns.get(channel, 0 if self.single else None)
        if col is None:
            return None
        row = self.source.sample_at(seconds)
        return float(row[0, col])


class Stm32Adc(DmaRequester, PeripheralModel):
    """The conversion engine the F4 and L4 ADCs share; the subclasses map their registers onto it."""

    SIZE = 0x100  # ADC1, ADC2, ADC3 and the common registers are 0x100 apart

    OPTIONS = {
        "source": "recording of the analog inputs (columns IN<n>, or one column for all), volts or codes",
        "source_options": "table of options for open_source (end, rate_hz, columns, ...)",
        "vref": "reference voltage in volts (default 3.3)",
        "units": "'V' (default: the recording holds volts) or 'codes' (12-bit conversion results)",
    }
    EXTSEL: ClassVar[tuple[str, ...]] = ()
    CONV_EXTRA: ClassVar[float] = 0.0  # ADC clock cycles of a conversion beyond sampling and the resolution
    INTERNAL: ClassVar[dict[int, float]] = {}  # channel -> volts

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._event: Any = None
        self._irq_level = False
        self._trigger: tuple[Any, str, Any] | None = None
        super().__init__(config, host, registers)
        self.request = "ADC1" if self.svd_name in ("ADC", "ADC1") else self.svd_name
        self.vref = float(config.options.get("vref", 3.3))
        source = config.options.get("source")
        self.input = AdcInput(f"sensor {self.name}", str(source), dict(config.options.get("source_options", {})),
                              str(config.options.get("units", "V"))) if source is not None else None
        self.conversions = 0
        self.overruns = 0
        self._unfed: set[int] = set()

    def reset(self) -> None:
        if getattr(self, "_event", None) is not None:
            self.host.cancel(self._event)
            self._event = None
        self._unsubscribe()
        super().reset()
        self.flags = 0  # normalised: 1 EOC, 2 EOS, 4 OVR, 8 ADRDY, 16 EOSMP
        self.dr = 0
        self.seq_pos = 0
        self.converting = False
        self._conv_fs = 0  # when the last conversion ended (the next of a sequence follows it exactly)
        self._chained = False
        self._dma_waiting = False
        self._dma_stopped = False

    # --- what subclasses define ---------------------------------------------------------------
    def sequence(self) -> list[int]:
        raise NotImplementedError

    def adc_hz(self) -> float:
        raise NotImplementedError

    def sample_cycles(self, channel: int) -> float:
        raise NotImplementedError

    def resolution(self) -> int:
        raise NotImplementedError

    def continuous(self) -> bool:
        raise NotImplementedError

    def dma_enabled(self) -> bool:
        raise NotImplementedError

    def eoc_each(self) -> bool:
        """EOC after each conversion (True) or at the end of the sequence (F4 EOCS = 0)."""
        return True

    def ext_trigger(self) -> tuple[int, int]:
        """(EXTSEL, EXTEN) for regular conversions."""
        raise NotImplementedError

    def irq_enables(self) -> int:
        raise NotImplementedError

    def left_aligned(self) -> bool:
        raise NotImplementedError

    def sequence_done(self) -> None:
        """The last conversion of a sequence ended (L4: ADSTART cleared in single mode)."""

    def overrun_keeps_old(self) -> bool:
        return True

    # --- conversions --------------------------------------------------------------------------
    def start_sequence(self) -> None:
        if self.converting:
            return
        seq = self.sequence()
        if not seq:
            return
        self.seq_pos = 0
        self.converting = True
        self._schedule_conversion()

    def _schedule_conversion(self) -> None:
        hz = self.adc_hz()
        if not hz > 0:
            self.converting = False
            self.guest_error(self.where(self.start_register()), "conversion started with no ADC clock "
                             "(its kernel clock is off or not selected)")
            return
        ch = self.sequence()[self.seq_pos]
        cycles = self.sample_cycles(ch) + self.resolution() + self.CONV_EXTRA
        start = self._conv_fs if self.seq_pos or self._chained else max(self.host.now_fs(), self._conv_fs)
        self._conv_fs = start + int(round(cycles * FS_PER_SECOND / hz))
        at = self._conv_fs
        self._event = self.host.schedule_at_fs(at, self._convert, f"{self.svd_name} conversion")

    def start_register(self) -> str:
        return "CR2"

    def _code(self, ch: int) -> int:
        bits = self.resolution()
        top = (1 << bits) - 1
        volts = self.INTERNAL.get(ch)
        value = None
        if volts is None and self.input is not None:
            value = self.input.value(ch, self.host.now_seconds())
            if value is not None and self.input.volts:
                volts, value = value, None
        if volts is not None:
            code = round(volts / self.vref * top)
        elif value is not None:
            code = round(value) >> max(12 - bits, 0)
        else:
            if ch not in self._unfed:
                self._unfed.add(ch)
                self.unimplemented(f"{self.svd_name}.IN{ch}", "channel converted with no recording for it "
                                   f"(give one with --sensor {self.name}=FILE): reads 0", None)
            code = 0
        code = min(max(code, 0), top)
        if self.left_aligned():
            code <<= 16 - bits
        return code

    def _convert(self) -> None:
        self._event = None
        seq = self.sequence()
        if not self.converting or not seq:
            self.converting = False
            return
        ch = seq[self.seq_pos % len(seq)]
        code = self._code(ch)
        self.conversions += 1
        unread = self.flags & 1 if not self.dma_enabled() else self._dma_waiting
        if unread:
            self.flags |= 4  # OVR: the previous result was not read
            self.overruns += 1
            if self.dma_enabled():
                self._dma_stopped = True
            if not self.overrun_keeps_old():
                self.dr = code
        else:
            self.dr = code
        last = self.seq_pos + 1 >= len(seq)
        if self.eoc_each() or last:
            self.flags |= 1
        if last:
            self.flags |= 2
        if self.dma_enabled() and not self._dma_stopped and not unread:
            self._dma_waiting = True
            self.dma_request(self.request)
        self._irqs()
        if last:
            self.seq_pos = 0
            if self.continuous() and self.converting:
                self._chained = True  # continuous mode: the next sequence starts at this one's exact end
                self._schedule_conversion()
                self._chained = False
            else:
                self.converting = False
                self.sequence_done()
        else:
            self.seq_pos += 1
            self._schedule_conversion()

    def stop(self) -> None:
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None
        self.converting = False

    def read_data(self) -> int:
        self.flags &= ~1
        self._dma_waiting = False
        self._irqs()
        return self.dr

    def dma_pending(self, request: str) -> bool:
        return self._dma_waiting and self.dma_enabled() and not self._dma_stopped

    def dma_ack(self, request: str) -> None:
        pass  # the DMA read DR (read_data cleared the request)

    def _irqs(self) -> None:
        level = bool(self.flags & self.irq_enables())
        if self.irq is not None and level != self._irq_level:
            self._irq_level = level
            self.host.set_irq(self.irq, level)

    # --- external triggers --------------------------------------------------------------------
    def _unsubscribe(self) -> None:
        if self._trigger is not None:
            timer, output, cb = self._trigger
            timer.unsubscribe_trigger(output, cb)
            self._trigger = None

    def arm_trigger(self, armed: bool) -> None:
        """Listen to the timer output EXTSEL selects while external triggering is armed."""
        self._unsubscribe()
        extsel, exten = self.ext_trigger()
        if not armed or not exten:
            return
        name = self.EXTSEL[extsel] if extsel < len(self.EXTSEL) else ""
        timer_name, _, output = name.partition("_")
        timer = self.host.peripheral(timer_name.lower()) if timer_name.startswith("TIM") else None
        if timer is None or not hasattr(timer, "subscribe_trigger"):
            self.unimplemented(self.where(self.start_register()), f"external trigger {name or extsel} is not "
                               "modelled on this board: no conversions will start")
            return
        output = {"CC1": "CC1", "CC2": "CC2", "CC3": "CC3", "CC4": "CC4"}.get(output, output)
        if output == "TRGO2":
            self.unimplemented(self.where(self.start_register()), f"trigger {name} (TRGO2) is not modelled")
            return

        def fire() -> None:
            self.start_sequence()

        timer.subscribe_trigger(output, fire)
        self._trigger = (timer, output, fire)

    def sensor_stats(self) -> dict[str, Any] | None:
        if self.input is None and not self.conversions:
            return None
        out: dict[str, Any] = {"name": self.name, "type": self.TYPE, "conversions": self.conversions,
                               "overruns": self.overruns, "events": []}
        if self.input is not None:
            out["source"] = self.input.source.path
        return out


@register_model
class Stm32F4AdcCommon(PeripheralModel):
    """The F4 ADCs' common registers (RM0090 13.13.16): CCR's ADCPRE sets the ADC clock."""

    TYPE = "stm32f4_adc_common"
    SIZE = 0x100
    SVD = "C_ADC"
    PARTS = ("stm32f407vg",)
    PLAIN = ("CCR",)


@register_model
class Stm32F4Adc(Stm32Adc):
    """STM32F4 ADC1-3 (RM0090 section 13.13): SR, CR1, CR2, SMPR1/2, SQR1-3, DR."""

    TYPE = "stm32f4_adc"
    SVD = "ADC"
    PARTS = ("stm32f407vg",)
    PLAIN = ("SMPR1", "SMPR2", "SQR1", "SQR2", "SQR3")
    EXTSEL = F4_EXTSEL
    INTERNAL = {16: 0.76, 17: 1.21}  # DS8626 Table 70 V25, Table 71 VREFINT typical

    def sequence(self) -> list[int]:
        n = (self.values["SQR1"] >> 20 & 0xF) + 1 if self.values["CR1"] & 1 << 8 else 1
        regs = (self.values["SQR3"], self.values["SQR2"], self.values["SQR1"])
        return [regs[i // 6] >> (5 * (i % 6)) & 0x1F for i in range(n)]

    def adc_hz(self) -> float:
        common = self.host.peripheral("adc_common")
        pre = (common.values["CCR"] >> 16 & 3) if common is not None else 0
        return self.host.clock_hz("PCLK2") / (2 * (pre + 1))

    def sample_cycles(self, channel: int) -> float:
        reg = self.values["SMPR2"] if channel < 10 else self.values["SMPR1"]
        return F4_SAMPLE[reg >> (3 * (channel % 10)) & 7]

    def resolution(self) -> int:
        return RES_BITS[self.values["CR1"] >> 24 & 3]

    def continuous(self) -> bool:
        return bool(self.values["CR2"] & 2)

    def dma_enabled(self) -> bool:
        return bool(self.values["CR2"] & 1 << 8)

    def eoc_each(self) -> bool:
        return bool(self.values["CR2"] & 1 << 10)

    def left_aligned(self) -> bool:
        return bool(self.values["CR2"] & 1 << 11)

    def ext_trigger(self) -> tuple[int, int]:
        cr2 = self.values["CR2"]
        return cr2 >> 24 & 0xF, cr2 >> 28 & 3

    def irq_enables(self) -> int:
        cr1 = self.values["CR1"]
        return (1 if cr1 & 1 << 5 else 0) | (4 if cr1 & 1 << 26 else 0)

    def read_SR(self) -> int:
        f = self.flags
        return (2 if f & 1 else 0) | (0x20 if f & 4 else 0) | (0x10 if self.converting else 0) | \
            (self.values["SR"] & 0x1D)

    def write_SR(self, value: int) -> None:
        if not value & 2:
            self.flags &= ~1
        if not value & 0x20:
            self.flags &= ~4
            self._dma_stopped = False
        self.values["SR"] &= value
        self._irqs()

    def write_CR1(self, value: int) -> None:
        self.values["CR1"] = value
        if value & (1 << 6 | 1 << 7 | 1 << 11 | 1 << 12 | 1 << 22 | 1 << 23):
            self.unimplemented(self.where("CR1"), "analog watchdog, injected and discontinuous modes are not "
                               "modelled")
        self._irqs()

    def write_CR2(self, value: int) -> None:
        old = self.values["CR2"]
        self.values["CR2"] = value & ~(1 << 30 | 1 << 22)  # SWSTART and JSWSTART read back 0 here
        if not value & 1:
            self.stop()
            self.arm_trigger(False)
            return
        if value & 1 << 8 and not old & 1 << 8:
            self._dma_stopped = False
        if value & 1 << 22:
            self.unimplemented(self.where("CR2"), "injected conversions (JSWSTART) are not modelled")
        self.arm_trigger(bool(value >> 28 & 3))
        if value & 1 << 30:
            if not old & 1:
                self.guest_error(self.where("CR2"), "SWSTART with ADON set in the same write: the ADC needs "
                                 "tSTAB to power up first (RM0090 13.3.6); converting anyway")
            self.start_sequence()

    def read_DR(self) -> int:
        return self.read_data()


@register_model
class Stm32L4Adc(Stm32Adc):
    """STM32L4+ ADC1 (RM0432 section 21.7): ISR, IER, CR, CFGR, SMPR1/2, SQR1-4, DR."""

    TYPE = "stm32l4_adc"
    SVD = "ADC"
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("SMPR1", "SMPR2", "SQR1", "SQR2", "SQR3", "SQR4", "CFGR2")
    EXTSEL = L4_EXTSEL
    CONV_EXTRA = 0.5  # RM0432 21.4.16: 12-bit conversion = sampling + 12.5 cycles
    INTERNAL = {0: 1.212, 17: 0.76}  # DS12023: VREFINT typical; temperature sensor V30 (close to 25 C)
    CAL_CYCLES = 116  # RM0432 21.4.8: tCAB
    REGULATOR_FS = 20 * FS_PER_SECOND // 1_000_000  # tADCVREG_STUP, DS12023

    def reset(self) -> None:
        super().reset()
        self.values["CR"] = 0x20000000  # DEEPPWD set at reset (RM0432 21.7.3)
        self._regulator_on_fs: int | None = None

    def start_register(self) -> str:
        return "CR"

    def sequence(self) -> list[int]:
        n = (self.values["SQR1"] & 0xF) + 1
        out = []
        for i in range(n):
            k = i + 1  # SQ1 is at SQR1[10:6]
            reg = ("SQR1", "SQR2", "SQR3", "SQR4")[k // 5]
            out.append(self.values[reg] >> (6 * (k % 5)) & 0x1F)
        return out

    def adc_hz(self) -> float:
        common = self.host.peripheral("adc_common")
        ccr = common.values["CCR"] if common is not None else 0
        ckmode = ccr >> 16 & 3
        if ckmode:
            return self.host.clock_hz("HCLK") / (1, 1, 2, 4)[ckmode]
        rcc = self.host.peripheral("rcc")
        ccipr = getattr(rcc, "values", {}).get("CCIPR") if rcc is not None else None
        sel = 3 if ccipr is None else ccipr >> 28 & 3  # ADCSEL: 3 = SYSCLK; unknown: take SYSCLK
        if sel == 0:
            return 0.0
        presc = ccr >> 18 & 0xF
        div = (1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256)[presc] if presc < 12 else 256
        try:
            hz = self.host.clock_hz("SYSCLK" if sel == 3 else "PLLSAI1R")
        except KeyError:
            hz = self.host.clock_hz("SYSCLK")
        return hz / div

    def sample_cycles(self, channel: int) -> float:
        reg = self.values["SMPR1"] if channel < 10 else self.values["SMPR2"]
        return L4_SAMPLE[reg >> (3 * (channel % 10)) & 7]

    def resolution(self) -> int:
        return RES_BITS[self.values["CFGR"] >> 3 & 3]

    def continuous(self) -> bool:
        return bool(self.values["CFGR"] & 1 << 13)

    def dma_enabled(self) -> bool:
        return bool(self.values["CFGR"] & 1)

    def left_aligned(self) -> bool:
        return bool(self.values["CFGR"] & 1 << 5)

    def overrun_keeps_old(self) -> bool:
        return not self.values["CFGR"] & 1 << 12  # OVRMOD

    def ext_trigger(self) -> tuple[int, int]:
        cfgr = self.values["CFGR"]
        return cfgr >> 6 & 0xF, cfgr >> 10 & 3

    def irq_enables(self) -> int:
        ier = self.values["IER"]
        return (1 if ier & 4 else 0) | (2 if ier & 8 else 0) | (4 if ier & 0x10 else 0) | (8 if ier & 1 else 0) | \
            (16 if ier & 2 else 0)

    def sequence_done(self) -> None:
        if not self.continuous() and not self.ext_trigger()[1]:
            self.values["CR"] &= ~(1 << 2)  # ADSTART cleared at the end of a software-started sequence

    def read_ISR(self) -> int:
        f = self.flags
        return (4 if f & 1 else 0) | (8 if f & 2 else 0) | (0x10 if f & 4 else 0) | (1 if f & 8 else 0) | \
            (2 if f & 16 else 0)

    def write_ISR(self, value: int) -> None:  # write 1 to clear
        for flag, bit in ((1, 4), (2, 8), (4, 0x10), (8, 1), (16, 2)):
            if value & bit:
                self.flags &= ~flag
                if flag == 4:
                    self._dma_stopped = False
        self._irqs()

    def write_IER(self, value: int) -> None:
        self.values["IER"] = value
        if value & 0x7E0:
            self.unimplemented(self.where("IER"), "injected-conversion and analog watchdog interrupts are not "
                               "modelled")
        self._irqs()

    def write_CFGR(self, value: int) -> None:
        if self.values["CR"] & 1 << 2 and value != self.values["CFGR"]:
            self.guest_error(self.where("CFGR"), "written while a regular conversion is ongoing (ADSTART = 1): "
                             "RM0432 21.7.4 allows it only with ADSTART = 0")
        self.values["CFGR"] = value
        if value & (1 << 16 | 1 << 23):
            self.unimplemented(self.where("CFGR"), "discontinuous mode and the analog watchdog are not modelled")

    def write_CR(self, value: int) -> None:
        cr = self.values["CR"]
        now = self.host.now_fs()
        if value & 1 << 29 != cr & 1 << 29 or value & 1 << 28 != cr & 1 << 28:
            cr = (cr & ~(3 << 28)) | (value & 3 << 28)
            if cr & 1 << 28 and not cr & 1 << 29:
                self._regulator_on_fs = now
            else:
                self._regulator_on_fs = None
        if value & 1 << 31:  # ADCAL
            if cr & 1:
                self.guest_error(self.where("CR"), "ADCAL with the ADC enabled (ADEN = 1): RM0432 21.4.8 needs "
                                 "ADEN = 0")
            elif not self._regulator_ready(now):
                self.guest_error(self.where("CR"), "ADCAL before the voltage regulator is up (DEEPPWD = 0, "
                                 "ADVREGEN = 1, then tADCVREG_STUP = 20 us)")
            else:
                cr |= 1 << 31
                hz = self.adc_hz() or self.host.clock_hz("HCLK")
                self._event = self.host.schedule_at_fs(now + int(self.CAL_CYCLES * FS_PER_SECOND / hz),
                                                       self._calibrated, "ADC calibration")
        if value & 1 and not cr & 1:  # ADEN: ready after tSTAB (a few ADC clock cycles)
            if not self._regulator_ready(now):
                self.guest_error(self.where("CR"), "ADEN before the voltage regulator is up")
            else:
                cr |= 1
                self.flags |= 8
                self._irqs()
        if value & 1 << 1 and cr & 1:  # ADDIS
            self.stop()
            self.arm_trigger(False)
            cr &= ~(1 | 1 << 2)
            self.flags &= ~8
        if value & 1 << 4 and cr & 1 << 2:  # ADSTP
            self.stop()
            self.arm_trigger(False)
            cr &= ~(1 << 2)
        if value & 1 << 3:
            self.unimplemented(self.where("CR"), "injected conversions (JADSTART) are not modelled")
        if value & 1 << 2 and cr & 1 and not cr & 1 << 2:  # ADSTART
            cr |= 1 << 2
            self.values["CR"] = cr
            if self.ext_trigger()[1]:
                self.arm_trigger(True)
            else:
                self.start_sequence()
            return
        self.values["CR"] = cr

    def _regulator_ready(self, now: int) -> bool:
        return self._regulator_on_fs is not None and now - self._regulator_on_fs >= self.REGULATOR_FS

    def _calibrated(self) -> None:
        self._event = None
        self.values["CR"] &= ~(1 << 31)

    def read_DR(self) -> int:
        return self.read_data()


@register_model
class Stm32L4AdcCommon(PeripheralModel):
    """The L4+ ADC common registers (RM0432 21.8): CCR's CKMODE and PRESC set the ADC clock."""

    TYPE = "stm32l4_adc_common"
    SIZE = 0x100
    SVD = "ADC_Common"
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("CCR",)
