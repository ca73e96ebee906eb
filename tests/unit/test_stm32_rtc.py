"""RTC model on a fake clock (RM0090 section 26, RM0432 section 39): write protection, initialisation,
the BCD calendar on virtual time, the wake-up timer and alarm A through the EXTI to the NVIC.

Expected values are calendar facts (2024 is a leap year; 2024-02-28 is a Wednesday) and the
manuals' formulas (ck_spre = RTCCLK / 128 / 256; WUTF every WUTR + 1 ck_wut periods).
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost, peripheral

TR, DR, CR, ISR, PRER, WUTR, ALRMAR, WPR, SSR, BKP0R = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x1C, 0x24, 0x28, 0x50
INIT, INITF, RSF, INITS, ALRAF, WUTF = 1 << 7, 1 << 6, 1 << 5, 1 << 4, 1 << 8, 1 << 10
WUTE, ALRAE, ALRAIE, WUTIE, FMT = 1 << 10, 1 << 8, 1 << 12, 1 << 14, 1 << 6
S = FS_PER_SECOND
LINES = {"f4": (17, 22), "l4": (18, 20)}  # EXTI lines of alarm A and the wake-up timer


def _rtc(family: str = "f4", rtcclk: float = 32768.0) -> tuple[FakeHost, Any, Any]:
    host = FakeHost(mhz=16)
    host.set_clocks(RTCCLK=rtcclk)
    exti = model_for(f"stm32{family}_exti")(peripheral("exti", f"stm32{family}_exti", 0x40013C00 if family == "f4"
                                                       else 0x40010400, None), host)
    host.peripherals["exti"] = exti
    rtc = model_for(f"stm32{family}_rtc")(peripheral("rtc", f"stm32{family}_rtc", 0x40002800, None), host)
    return host, rtc, exti


def _unlock(rtc: Any) -> None:
    rtc.write(WPR, 4, 0xCA)
    rtc.write(WPR, 4, 0x53)


def _set(host: FakeHost, rtc: Any, tr: int, dr: int, cr: int = 0) -> None:
    _unlock(rtc)
    rtc.write(ISR, 4, INIT)
    host.advance_fs(S // 1000)
    assert rtc.read(ISR, 4) & INITF
    if cr:
        rtc.write(CR, 4, cr)
    rtc.write(TR, 4, tr)
    rtc.write(DR, 4, dr)
    rtc.write(ISR, 4, 0)


def _exti_irq(host: FakeHost, exti: Any, family: str, line: int) -> None:
    r = "1" if family == "l4" else ""
    exti.write(exti.register(f"IMR{r}").offset, 4, 1 << line)
    exti.write(exti.register(f"RTSR{r}").offset, 4, 1 << line)


def test_write_protection_and_initialisation() -> None:
    host, rtc, _ = _rtc()
    assert rtc.read(ISR, 4) == 0x7  # ALRAWF, ALRBWF, WUTWF: RM0090 26.6.4 reset value
    assert rtc.read(DR, 4) == 0x2101  # 2000-01-01 with week day 1: the reset value (the part never checks it)
    rtc.write(ISR, 4, INIT)
    assert not rtc.read(ISR, 4) & INIT and "RTC.ISR" in host.unmodelled  # locked
    _unlock(rtc)
    rtc.write(ISR, 4, INIT)
    assert rtc.read(ISR, 4) & (INIT | INITF) == INIT
    rtc.write(TR, 4, 0x123456)
    assert "RTC.TR" in host.unmodelled and rtc.read(TR, 4) == 0  # INITF not yet: ignored
    host.advance_fs(2 * S // 32768 + 1)  # two RTCCLK periods
    assert rtc.read(ISR, 4) & INITF
    rtc.write(TR, 4, 0x123456)
    rtc.write(DR, 4, 0x246228)  # 2024-02-28, Wednesday (WDU 3)
    host.advance_fs(10 * S)
    assert rtc.read(TR, 4) == 0x123456  # stopped while INIT
    rtc.write(ISR, 4, 0)  # exit init: counting starts
    assert rtc.read(ISR, 4) & INITS  # the year is not 00
    rtc.write(WPR, 4, 0xFF)  # lock again
    rtc.write(TR, 4, 0)
    host.advance_fs(S)
    assert rtc.read(TR, 4) == 0x123457
    rtc.write(BKP0R, 4, 0xDEADBEEF)  # backup registers are never write-protected
    assert rtc.read(BKP0R, 4) == 0xDEADBEEF


def test_calendar_rolls_over_a_leap_day_and_counts_sub_seconds() -> None:
    host, rtc, _ = _rtc()
    _set(host, rtc, 0x235950, 0x246228)  # 2024-02-28 Wed 23:59:50
    host.advance_fs(15 * S)
    assert rtc.read(TR, 4) == 0x000005
    assert rtc.read(DR, 4) == 0x248229  # 2024-02-29, Thursday (4 << 13 = 0x8000)
    host.advance_fs(DAY_S * S)
    assert rtc.read(TR, 4) == 0x000005 and rtc.read(DR, 4) == 0x24A301  # 2024-03-01, Friday
    host.advance_fs(S // 2)
    assert rtc.read(SSR, 4) == 255 - 128  # ck_apre at 256 Hz: half a second is 128 ticks
    # reading TR freezes DR until DR is read (the shadow registers)
    host.advance_fs((DAY_S - 6) * S)  # 23:59:59.5
    assert rtc.read(TR, 4) == 0x235959
    host.advance_fs(S)
    assert rtc.read(DR, 4) == 0x24A301  # the date as it was when TR was read
    assert rtc.read(DR, 4) == 0x24C302  # 2024-03-02, Saturday


DAY_S = 86400


def test_twelve_hour_format() -> None:
    host, rtc, _ = _rtc()
    _set(host, rtc, 1 << 22 | 0x115959, 0x246228, cr=FMT)  # 11:59:59 PM
    host.advance_fs(S)
    assert rtc.read(TR, 4) == 0x120000  # 12:00:00 AM of the next day
    assert rtc.read(DR, 4) == 0x248229


@pytest.mark.parametrize("family", ["f4", "l4"])
def test_wakeup_timer_on_ck_spre_and_rtcclk_16(family: str) -> None:
    host, rtc, exti = _rtc(family)
    alarm_line, wake_line = LINES[family]
    _exti_irq(host, exti, family, wake_line)
    _set(host, rtc, 0x120000, 0x246228)
    rtc.write(WUTR, 4, 4)
    rtc.write(CR, 4, 0b100)  # WUCKSEL: ck_spre
    start = host.now_fs()
    rtc.write(CR, 4, 0b100 | WUTE | WUTIE)
    assert not rtc.read(ISR, 4) & 0x4  # WUTWF clear while it runs
    rtc.write(WUTR, 4, 9)
    assert "RTC.WUTR" in host.unmodelled
    host.advance_fs(16 * S)
    assert rtc.wakeups == 3 and rtc.read(ISR, 4) & WUTF  # every 5 s: at 5, 10, 15 s
    fired = [c for c, tag in host.fired if tag == "RTC wakeup"]
    assert [host.clocks.timeline.fs_at(c) - start for c in fired] == [5 * S, 10 * S, 15 * S]
    assert host.irq_rises(3) == [fired[0]]  # RTC_WKUP through the EXTI line, pending until cleared
    rtc.write(ISR, 4, ~(WUTF | INIT) & 0xFFFFFFFF)  # 0 clears a flag; INIT stays 0
    assert not rtc.read(ISR, 4) & WUTF
    # RTCCLK/16 with WUTR 2047: 2048 x 16 / 32768 = 1 s
    rtc.write(CR, 4, 0)  # WUTE and WUCKSEL at once: WUCKSEL may change only once WUTE is clear
    assert rtc.read(CR, 4) == 0b100 and "RTC.CR.WUCKSEL" in host.unmodelled
    rtc.write(CR, 4, 0)
    rtc.write(WUTR, 4, 2047)
    rtc.write(CR, 4, WUTE)
    n = rtc.wakeups
    host.advance_fs(3 * S + S // 10)
    assert rtc.wakeups == n + 3


@pytest.mark.parametrize("family", ["f4", "l4"])
def test_alarm_a_on_seconds_and_on_a_date(family: str) -> None:
    host, rtc, exti = _rtc(family)
    alarm_line, _ = LINES[family]
    _exti_irq(host, exti, family, alarm_line)
    _set(host, rtc, 0x120040, 0x246228)  # 12:00:40
    rtc.write(ALRMAR, 4, 1 << 31 | 1 << 23 | 1 << 15 | 0x30)  # every minute at :30
    rtc.write(CR, 4, ALRAE | ALRAIE)
    rtc.write(ALRMAR, 4, 0)
    assert "RTC.ALRMAR" in host.unmodelled  # ALRAWF clear: ignored
    host.advance_fs(49 * S)
    assert rtc.alarms == 0
    host.advance_fs(S)  # 12:01:30
    assert rtc.alarms == 1 and rtc.read(ISR, 4) & ALRAF and rtc.read(TR, 4) == 0x120130
    assert len(host.irq_rises(41)) == 1
    host.advance_fs(60 * S)
    assert rtc.alarms == 2
    # the first of the month at 00:00:10: from 2024-02-28 12:02:30 that is 2024-03-01, 1 day 11:57:40 later
    rtc.write(CR, 4, 0)
    rtc.write(ALRMAR, 4, 0x01000010)
    rtc.write(CR, 4, ALRAE)
    host.advance_fs((DAY_S + 11 * 3600 + 57 * 60 + 39) * S)
    assert rtc.alarms == 2
    host.advance_fs(S)
    assert rtc.alarms == 3 and rtc.read(TR, 4) == 0x000010 and rtc.read(DR, 4) == 0x24A301


def test_no_rtcclk_no_initf() -> None:
    host, rtc, _ = _rtc(rtcclk=0.0)
    _unlock(rtc)
    rtc.write(ISR, 4, INIT)
    assert host.next_event_cycle() is None  # INITF never comes: the firmware's wait can be named
    host.advance_fs(S)
    assert not rtc.read(ISR, 4) & INITF


def test_rsf_after_it_is_cleared() -> None:
    host, rtc, _ = _rtc()
    _set(host, rtc, 0x120000, 0x246228)
    rtc.write(ISR, 4, ~(RSF | INIT) & 0xFFFF)
    assert not rtc.read(ISR, 4) & RSF
    host.advance_fs(2 * S // 32768 + 1)
    assert rtc.read(ISR, 4) & RSF


def test_system_reset_keeps_the_calendar_and_rearms() -> None:
    host, rtc, exti = _rtc()
    _exti_irq(host, exti, "f4", 22)
    _set(host, rtc, 0x120000, 0x246228)
    rtc.write(WUTR, 4, 0)
    rtc.write(CR, 4, 0b100 | WUTE | WUTIE)  # every second
    host.advance_fs(2 * S + S // 2)
    for ev in list(host.queue.heap):  # the machine drops every event at a reset
        ev.cancelled = True
    rtc.system_reset()
    host.advance_fs(S)
    assert rtc.read(TR, 4) == 0x120003 and rtc.wakeups == 3
