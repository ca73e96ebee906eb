"""STM32 RTC: BCD calendar, wake-up timer and alarms on virtual time, clocked by RTCCLK.

RM0090 section 26 (STM32F4) and RM0432 section 39 (STM32L4+); the registers come from the part's
SVD. RTCCLK is the RCC model's ``RTCCLK`` (LSE, LSI or HSE/x by ``BDCR.RTCSEL``; the RTC runs
while ``BDCR.RTCEN`` is set). It is divided by ``PRER.PREDIV_A + 1`` into ck_apre, which counts
the sub-seconds (``SSR`` counts down from ``PREDIV_S``), and by ``PREDIV_S + 1`` more into
ck_spre, the calendar's 1 Hz with the reset prescalers and a 32.768 kHz LSE.

- Write protection (26.3.5 / 39.3.8): after a backup-domain reset every register but the ISR
  flags and the backup registers ignores writes until ``WPR`` gets 0xCA then 0x53 (reported as
  a firmware error); any other key locks it again.
- Initialisation (26.3.7 / 39.3.9): ``ISR.INIT`` stops the calendar, ``ISR.INITF`` follows two
  RTCCLK periods later; only then may ``TR``, ``DR`` and ``PRER`` be written. Clearing ``INIT``
  starts counting from what was written. ``INITS`` says the year is not 0. ``RSF`` is set two
  RTCCLK periods after the firmware clears it (the shadow registers' copy).
- ``TR``/``DR`` read the calendar now, in BCD (24-hour, or 12-hour with ``PM`` when ``CR.FMT``);
  reading ``TR`` freezes ``DR`` until ``DR`` is read, as the shadow registers do. Years 00-99
  with a leap year every fourth; the week day (1-7, Monday 1) counts on with the days.
- Wake-up timer (26.3.6 / 39.3.7): with ``CR.WUTE``, ``ISR.WUTF`` is set every ``WUTR + 1``
  periods of ck_wut (RTCCLK/16, /8, /4, /2 by ``CR.WUCKSEL``, or ck_spre, + 2^16 periods for
  WUCKSEL 11x); ``WUTR`` and ``WUCKSEL`` may change only while ``ISR.WUTWF`` (WUTE clear).
- Alarms A and B (26.3.4 / 39.3.6): with ``CR.ALRxE``, ``ISR.ALRxF`` is set at the second the
  calendar matches the unmasked fields of ``ALRMxR`` (seconds, minutes, hours with PM, date or
  week day by ``WDSEL``); ``ALRMxR`` may change only while ``ISR.ALRxWF`` (ALRxE clear) or in
  initialisation. Sub-second alarm matching (``ALRMxSSR.MASKSS`` not 0) is not modelled
  (reported).
- Interrupts go through the EXTI as on the parts: a flag set with its ``CR`` enable (ALRAIE,
  ALRBIE, WUTIE) is an event on the EXTI line (F4: alarms 17, wake-up 22; L4+: 18 and 20), which
  pends RTC_Alarm / RTC_WKUP when the firmware unmasked the line and chose its rising edge.

The RTC is in the backup domain: a system reset (a watchdog) keeps the calendar, flags and
backup registers, and re-arms its events. Not modelled: smooth and coarse calibration
(``CALR``/``CALIBR`` store), ``SHIFTR``, time-stamp and tamper, the RTC outputs, ``BYPSHAD``.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.stm32.common import Stm32Model

EPOCH = datetime.date(2000, 1, 1)
DAY = 86400
# ISR bits
ALRAWF, ALRBWF, WUTWF, INITS, RSF, INITF, INIT = 1 << 0, 1 << 1, 1 << 2, 1 << 4, 1 << 5, 1 << 6, 1 << 7
ALRAF, ALRBF, WUTF = 1 << 8, 1 << 9, 1 << 10
# CR bits
FMT, ALRAE, ALRBE, WUTE, ALRAIE, ALRBIE, WUTIE = 1 << 6, 1 << 8, 1 << 9, 1 << 10, 1 << 12, 1 << 13, 1 << 14
MILLI = 1000  # RTCCLK kept in mHz: tick times are exact integers


def bcd(value: int) -> int:
    return (value // 10) << 4 | value % 10


def unbcd(value: int) -> int:
    return (value >> 4) * 10 + (value & 0xF)


class Stm32Rtc(Stm32Model):
    """What the F4 and L4+ RTCs share (see the module docstring)."""

    SVD = "RTC"
    PLAIN = ("CALR",)
    ALARM_LINE: ClassVar[int] = 17
    WAKEUP_LINE: ClassVar[int] = 22
    FLAGS_W0: ClassVar[int] = 0x3F20  # rc_w0 flags of ISR: RSF, ALRAF..TAMP2F
    UNPROTECTED_FLAGS: ClassVar[int] = 0x3F00  # ISR[13:8]: clearable while write-protected

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._built = False
        self._events: dict[str, Any] = {}
        super().__init__(config, host, registers)
        self._built = True
        host.on_clock_change(self._clock_changed)

    # --- reset -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Backup-domain reset: the calendar at 2000-01-01 (a Saturday, DR's reset 0x2101), locked."""
        for ev in getattr(self, "_events", {}).values():
            self.host.cancel(ev)
        self._events = {}
        super().reset()
        self.locked = True
        self._key = 0
        self._frozen_dr: int | None = None
        self.wakeups = 0
        self.alarms = 0
        # the calendar: state at the anchor (virtual time), running or stopped
        self._days = 0
        self._sod = 0
        self._wdu = (self.values["DR"] >> 13) & 7
        self._sub = 0  # ck_apre ticks into the second
        self._anchor_fs = 0
        self._hz = 0  # RTCCLK in mHz at the anchor
        self._wut_fs = 0  # when the wake-up timer's period started (RTCCLK/x clocks)
        self._wut_second = 0  # ... or the ck_spre count it started at
        if self._built:
            self._reanchor()

    def system_reset(self) -> None:
        """A system reset leaves the backup domain: the RTC goes on; its events come back (the machine
        dropped every event)."""
        self._events = {}
        self._frozen_dr = None
        if self.running():
            self._reanchor()
            self._arm_all()

    # --- clocks ----------------------------------------------------------------------------------
    def rtcclk_hz(self) -> float:
        """RTCCLK while the RCC enables the RTC (BDCR.RTCEN, bit 15), else 0."""
        rcc = self.host.peripheral("rcc")
        values = getattr(rcc, "values", None)
        if values is not None and "BDCR" in values and not values["BDCR"] >> 15 & 1:
            return 0.0
        try:
            return float(self.host.clock_hz("RTCCLK"))
        except KeyError:
            return 0.0

    def _prer(self) -> tuple[int, int]:
        p = self.values["PRER"]
        return (p >> 16 & 0x7F) + 1, (p & 0x7FFF) + 1

    def running(self) -> bool:
        return not self.values["ISR"] & INIT and self._hz > 0

    def _apre_ticks(self, dt_fs: int) -> int:
        """ck_apre ticks in ``dt_fs`` at the anchor's clock."""
        a, _ = self._prer()
        return dt_fs * self._hz // (a * FS_PER_SECOND * MILLI)

    def _fs_of_apre(self, ticks: int) -> int:
        """Virtual time of the ``ticks``-th ck_apre tick after the anchor (rounded up to a femtosecond)."""
        a, _ = self._prer()
        return self._anchor_fs - (-ticks * a * FS_PER_SECOND * MILLI // self._hz)

    def _now(self) -> tuple[int, int, int, int]:
        """(days since 2000-01-01, second of the day, week day, sub-second ticks) now."""
        if not self.running():
            return self._days, self._sod, self._wdu, self._sub
        _, s = self._prer()
        total = self._sub + self._apre_ticks(self.host.now_fs() - self._anchor_fs)
        secs, sub = divmod(total, s)
        days, sod = divmod(self._sod + secs, DAY)
        return self._days + days, sod, (self._wdu - 1 + days) % 7 + 1, sub

    def _reanchor(self) -> None:
        """Fold the time counted so far into the anchor and take the clock and prescalers now."""
        self._days, self._sod, self._wdu, self._sub = self._now()
        self._anchor_fs = self.host.now_fs()
        self._hz = round(self.rtcclk_hz() * MILLI)

    def _clock_changed(self) -> None:
        if round(self.rtcclk_hz() * MILLI) == self._hz:
            return
        self._reanchor()
        self._arm_all()

    def read(self, offset: int, size: int) -> int:
        self._clock_changed()  # BDCR.RTCEN is no clock-tree change: look at every access
        return super().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        self._clock_changed()
        super().write(offset, size, value)

    def _second_edge_fs(self, k: int) -> int:
        """Virtual time of the k-th ck_spre edge from now (k >= 1): the calendar's next seconds."""
        _, s = self._prer()
        total = self._sub + self._apre_ticks(self.host.now_fs() - self._anchor_fs)
        target = (total // s + k) * s
        return self._fs_of_apre(target - self._sub)

    def _rtcclk_periods_fs(self, n: int) -> int | None:
        hz = self.rtcclk_hz()
        return round(n * FS_PER_SECOND / hz) if hz > 0 else None

    # --- events ----------------------------------------------------------------------------------
    def _schedule(self, key: str, at_fs: int | None, fn: Any) -> None:
        old = self._events.pop(key, None)
        if old is not None:
            self.host.cancel(old)
        if at_fs is not None:
            self._events[key] = self.host.schedule_at_fs(at_fs, lambda: self._fire(key, fn), f"RTC {key}")

    def _fire(self, key: str, fn: Any) -> None:
        self._events.pop(key, None)
        fn()

    def _arm_all(self) -> None:
        self._arm_wakeup(restart=False)
        for which in "AB":
            self._arm_alarm(which)

    def _line(self, line: int) -> None:
        exti = self.host.peripheral("exti")
        if exti is not None and hasattr(exti, "line_event"):
            exti.line_event(line)

    # --- wake-up timer -----------------------------------------------------------------------------
    def _wut_period(self) -> tuple[int, bool]:
        """(ck_wut periods per wake-up, whether ck_wut is ck_spre)."""
        sel = self.values["CR"] & 7
        wut = self.values["WUTR"] & 0xFFFF
        if sel < 4:
            return wut + 1, False
        return wut + 1 + (0x10000 if sel >= 6 else 0), True

    def _arm_wakeup(self, restart: bool) -> None:
        if not self.values["CR"] & WUTE or not self.running():
            self._schedule("wakeup", None, None)
            return
        n, spre = self._wut_period()
        if spre:
            if restart or "wakeup" not in self._events:
                self._schedule("wakeup", self._second_edge_fs(n), self._wakeup)
            return
        div = 16 >> (self.values["CR"] & 3)
        if restart or "wakeup" not in self._events:
            if restart:
                self._wut_fs = self.host.now_fs()
            period = self._rtcclk_periods_fs(n * div)
            self._schedule("wakeup", None if period is None else self._wut_fs + period, self._wakeup)

    def _wakeup(self) -> None:
        self.values["ISR"] |= WUTF
        self.wakeups += 1
        if self.values["CR"] & WUTIE:
            self._line(self.WAKEUP_LINE)
        self._arm_wakeup(restart=True)

    # --- alarms ------------------------------------------------------------------------------------
    def _next_alarm(self, reg: int) -> int | None:
        """Seconds from now (>= 1) to the next calendar second matching ``reg``, within 62 days."""
        days, sod, wdu, _ = self._now()
        secs = range(60) if reg >> 7 & 1 else [unbcd(reg & 0x7F)]
        mins = range(60) if reg >> 15 & 1 else [unbcd(reg >> 8 & 0x7F)]
        hours: Any = range(24)
        if not reg >> 23 & 1:
            h = unbcd(reg >> 16 & 0x3F)
            hours = [h % 12 + (12 if reg >> 22 & 1 else 0)] if self.values["CR"] & FMT else [h]
        for d in range(63):
            if not reg >> 31 & 1:
                field = reg >> 24 & 0x3F
                if reg >> 30 & 1:
                    if (field & 0xF) != (wdu - 1 + d) % 7 + 1:
                        continue
                elif unbcd(field) != (EPOCH + datetime.timedelta(days=days + d)).day:
                    continue
            for h in hours:
                for m in mins:
                    for sec in secs:
                        t = h * 3600 + m * 60 + sec
                        if d or t > sod:
                            return d * DAY + t - sod
        return None

    def _arm_alarm(self, which: str) -> None:
        enable = ALRAE if which == "A" else ALRBE
        if not self.values["CR"] & enable or not self.running():
            self._schedule(f"alarm {which}", None, None)
            return
        if self.values[f"ALRM{which}SSR"] >> 24 & 0xF:
            self.unimplemented(self.where_field(f"ALRM{which}SSR", "MASKSS"), "sub-second alarm matching is not "
                               "modelled: the alarm fires on the whole-second fields only")
        k = self._next_alarm(self.values[f"ALRM{which}R"])
        at = None if k is None else self._second_edge_fs(k)
        self._schedule(f"alarm {which}", at, lambda: self._alarm(which))

    def _alarm(self, which: str) -> None:
        self.values["ISR"] |= ALRAF if which == "A" else ALRBF
        self.alarms += 1
        if self.values["CR"] & (ALRAIE if which == "A" else ALRBIE):
            self._line(self.ALARM_LINE)
        self._arm_alarm(which)

    # --- write protection --------------------------------------------------------------------------
    def _protected(self, reg: str) -> bool:
        """True (and a firmware-error report) when ``reg`` is write-protected now."""
        if self.locked:
            self.guest_error(self.where_field(reg), "written while the RTC is write-protected (WPR needs 0xCA then "
                             "0x53 first): ignored")
        return self.locked

    def _in_init(self, reg: str) -> bool:
        if not self.values["ISR"] & INITF:
            self.guest_error(self.where_field(reg), "written outside initialisation mode (ISR.INIT set and INITF "
                             "seen first): ignored")
            return False
        return True

    def write_WPR(self, value: int) -> None:
        key = value & 0xFF
        if key == 0xCA:
            self._key = 1
        elif key == 0x53 and self._key == 1:
            self.locked = False
            self._key = 0
        else:
            self.locked = True
            self._key = 0

    # --- calendar registers ------------------------------------------------------------------------
    def read_TR(self) -> int:
        days, sod, wdu, _ = self._now()
        self._frozen_dr = self._encode_dr(days, wdu)
        h, rest = divmod(sod, 3600)
        m, s = divmod(rest, 60)
        pm = 0
        if self.values["CR"] & FMT:
            pm = int(h >= 12)
            h = h % 12 or 12
        return pm << 22 | bcd(h) << 16 | bcd(m) << 8 | bcd(s)

    def _encode_dr(self, days: int, wdu: int) -> int:
        d = EPOCH + datetime.timedelta(days=days)
        return bcd(d.year % 100) << 16 | wdu << 13 | bcd(d.month) << 8 | bcd(d.day)

    def read_DR(self) -> int:
        if self._frozen_dr is not None:
            value, self._frozen_dr = self._frozen_dr, None
            return value
        days, _, wdu, _ = self._now()
        return self._encode_dr(days, wdu)

    def read_SSR(self) -> int:
        _, s = self._prer()
        return (s - 1) - self._now()[3]

    def write_TR(self, value: int) -> None:
        if self._protected("TR") or not self._in_init("TR"):
            return
        h = unbcd(value >> 16 & 0x3F)
        if self.values["CR"] & FMT:
            h = h % 12 + (12 if value >> 22 & 1 else 0)
        m, s = unbcd(value >> 8 & 0x7F), unbcd(value & 0x7F)
        if h > 23 or m > 59 or s > 59:
            self.guest_error(self.where_field("TR"), f"time {h}:{m}:{s} is not a time of day: ignored")
            return
        self._sod = h * 3600 + m * 60 + s
        self._sub = 0

    def write_DR(self, value: int) -> None:
        if self._protected("DR") or not self._in_init("DR"):
            return
        try:
            d = datetime.date(2000 + unbcd(value >> 16 & 0xFF), unbcd(value >> 8 & 0x1F), unbcd(value & 0x3F))
        except ValueError:
            self.guest_error(self.where_field("DR"), f"{value:#010x} is not a date: ignored")
            return
        self._days = (d - EPOCH).days
        self._wdu = (value >> 13 & 7) or 1
        self._sub = 0

    def write_PRER(self, value: int) -> None:
        if self._protected("PRER") or not self._in_init("PRER"):
            return
        self.values["PRER"] = value & 0x7F7FFF

    # --- status and control ------------------------------------------------------------------------
    def read_ISR(self) -> int:
        isr = self.values["ISR"] & ~(ALRAWF | ALRBWF | WUTWF | INITS)
        cr = self.values["CR"]
        isr |= (0 if cr & ALRAE else ALRAWF) | (0 if cr & ALRBE else ALRBWF) | (0 if cr & WUTE else WUTWF)
        if self._now()[0] >= 366:  # the year is not 00 (2000 has 366 days)
            isr |= INITS
        return isr

    def write_ISR(self, value: int) -> None:
        isr = self.values["ISR"]
        if self.locked:
            if (value ^ isr) & INIT or ~value & isr & self.FLAGS_W0 & ~self.UNPROTECTED_FLAGS:
                self._protected("ISR")
            isr &= value | ~self.UNPROTECTED_FLAGS
            self.values["ISR"] = isr
            return
        isr &= value | ~self.FLAGS_W0
        if value & INIT and not isr & INIT:
            self._reanchor()
            isr |= INIT
            self.values["ISR"] = isr
            self._arm_all()  # stopped: no wake-ups or alarms
            self._schedule("initf", self._rtcclk_periods_fs(2), self._initf)
        elif not value & INIT and isr & INIT:
            isr &= ~(INIT | INITF)
            self.values["ISR"] = isr
            self._schedule("initf", None, None)
            self._anchor_fs = self.host.now_fs()
            self._hz = round(self.rtcclk_hz() * MILLI)
            self._wut_fs = self._anchor_fs
            self._arm_wakeup(restart=True)
            for which in "AB":
                self._arm_alarm(which)
        else:
            self.values["ISR"] = isr
        if not value & RSF and self.values["ISR"] & INIT == 0:
            self._schedule("rsf", self._rtcclk_periods_fs(2), self._rsf)

    def _initf(self) -> None:
        self.values["ISR"] |= INITF

    def _rsf(self) -> None:
        self.values["ISR"] |= RSF

    def write_CR(self, value: int) -> None:
        if self._protected("CR"):
            return
        old = self.values["CR"]
        if (old ^ value) & 7 and old & WUTE:
            self.guest_error(self.where_field("CR", "WUCKSEL"), "changed while the wake-up timer runs (WUTE set): "
                             "ignored")
            value = (value & ~7) | (old & 7)
        self.values["CR"] = value
        if (old ^ value) & WUTE:
            self._wut_fs = self.host.now_fs()
            self._arm_wakeup(restart=True)
        for which, bit in (("A", ALRAE), ("B", ALRBE)):
            if (old ^ value) & bit:
                self._arm_alarm(which)

    def write_WUTR(self, value: int) -> None:
        if self._protected("WUTR"):
            return
        if self.values["CR"] & WUTE:
            self.guest_error(self.where_field("WUTR"), "written while the wake-up timer runs (ISR.WUTWF clear): "
                             "ignored")
            return
        self.values["WUTR"] = value & 0xFFFF

    def _write_alarm(self, which: str, reg: str, value: int) -> None:
        if self._protected(reg):
            return
        if self.values["CR"] & (ALRAE if which == "A" else ALRBE) and not self.values["ISR"] & INITF:
            self.guest_error(self.where_field(reg), f"written while alarm {which} is enabled (ISR.ALR{which}WF "
                             "clear): ignored")
            return
        self.values[reg] = value

    def write_ALRMAR(self, value: int) -> None:
        self._write_alarm("A", "ALRMAR", value)

    def write_ALRMBR(self, value: int) -> None:
        self._write_alarm("B", "ALRMBR", value)

    def write_ALRMASSR(self, value: int) -> None:
        self._write_alarm("A", "ALRMASSR", value & 0x0F007FFF)

    def write_ALRMBSSR(self, value: int) -> None:
        self._write_alarm("B", "ALRMBSSR", value & 0x0F007FFF)

    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        """Flags change at events; TR/DR/SSR change with time (at every read, as a counter)."""
        return True, None


def _backup_names(n: int) -> tuple[str, ...]:
    return tuple(f"BKP{i}R" for i in range(n))


@register_model
class Stm32F4Rtc(Stm32Rtc):
    """RTC of the STM32F4 (RM0090 section 26): EXTI line 17 for the alarms, 22 for the wake-up timer."""

    TYPE = "stm32f4_rtc"
    PART = "stm32f407vg"
    PARTS = ("stm32f407vg",)
    PLAIN = ("CALR", "CALIBR", "TAFCR", *_backup_names(20))


@register_model
class Stm32L4Rtc(Stm32Rtc):
    """RTC of the STM32L4+ (RM0432 section 39): EXTI line 18 for the alarms, 20 for the wake-up timer."""

    TYPE = "stm32l4_rtc"
    PART = "stm32l4r5zi"
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("CALR", "TAMPCR", "OR", *_backup_names(32))
    ALARM_LINE = 18
    WAKEUP_LINE = 20
    FLAGS_W0 = 0x2FF20  # RSF, ALRAF..TAMP3F, ITSF (bit 17)
    UNPROTECTED_FLAGS = 0x2FF00
