"""nRF52840 RTC (PS v1.7 6.22) through its registers on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.peripherals.nrf52.rtc import Nrf52Rtc
from tests.unit.nrf52_fakes import Part

START, STOP, CLEAR, TRIGOVRFLW = 0x000, 0x004, 0x008, 0x00C
TICK, OVRFLW, COMPARE = 0x100, 0x104, 0x140
INTENSET, EVTEN, EVTENSET, EVTENCLR = 0x304, 0x340, 0x344, 0x348
COUNTER, PRESCALER, CC = 0x504, 0x508, 0x540
FS = 10**15


def _cycle_at(seconds_fs: int) -> int:
    """The first 64 MHz cycle at or after a virtual time in femtoseconds."""
    return -(-seconds_fs * 64_000_000 // FS)


def test_the_counter_needs_the_lfclk() -> None:
    part = Part()
    part.write("rtc0", START, 1)
    part.advance_us(10_000)
    assert part.read("rtc0", COUNTER) == 0  # LFCLK not started: the RTC does not count


@pytest.mark.parametrize("prescaler", [0, 1, 327, 4095])
def test_counter_counts_32768_hz_over_prescaler_plus_1(prescaler: int) -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc1", PRESCALER, prescaler)
    part.write("rtc1", START, 1)
    t0 = part.host.now_fs()
    part.advance_us(1_234_567)
    elapsed = part.host.now_fs() - t0
    assert part.read("rtc1", COUNTER) == elapsed * 32768 // (FS * (prescaler + 1))


def test_compare_wakes_at_its_count() -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc0", CC + 8, 32768)  # CC[2]: 1 s
    part.write("rtc0", INTENSET, 1 << 18)
    part.write("rtc0", START, 1)
    t0 = part.host.now_fs()
    part.host.advance_to(part.host.next_event_cycle())
    assert part.read("rtc0", COMPARE + 8) == 1
    assert part.host.irq_rises(11) == [_cycle_at(t0 + FS)]  # exactly 1 s of LFCLK later
    part.write("rtc0", CC + 12, 5)  # RTC0 has three CC registers
    assert "RTC0.CC[3]" in part.host.unmodelled


def test_tick_and_overflow_only_when_enabled() -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc2", START, 1)
    part.advance_us(1000)
    assert part.read("rtc2", TICK) == 0  # not enabled in INTEN or EVTEN: not generated
    part.write("rtc2", EVTENSET, 1)  # TICK routed to the PPI: generated from now on
    assert part.read("rtc2", EVTEN) == 1 == part.read("rtc2", EVTENCLR)
    part.advance_us(100)
    assert part.read("rtc2", TICK) == 1
    part.write("rtc2", EVTENCLR, 1)
    part.write("rtc2", TICK, 0)
    part.advance_us(100)
    assert part.read("rtc2", TICK) == 0
    part.write("rtc2", TRIGOVRFLW, 1)
    assert part.read("rtc2", COUNTER) == 0xFFFFF0
    part.write("rtc2", INTENSET, 2)  # OVRFLW
    part.advance_us(16 * 1e6 / 32768 + 1)
    assert part.read("rtc2", OVRFLW) == 1 and part.read("rtc2", COUNTER) == 0


def test_stop_clear_and_prescaler_rules() -> None:
    part = Part()
    part.start_lfclk()
    part.write("rtc1", START, 1)
    part.advance_us(100_000)
    n = part.read("rtc1", COUNTER)
    part.write("rtc1", STOP, 1)
    part.advance_us(100_000)
    assert part.read("rtc1", COUNTER) == n
    part.write("rtc1", CLEAR, 1)
    assert part.read("rtc1", COUNTER) == 0
    part.write("rtc1", START, 1)
    part.write("rtc1", PRESCALER, 7)  # read-only while running
    assert part.read("rtc1", PRESCALER) == 0 and "RTC1.PRESCALER" in part.host.unmodelled


def test_a_compare_moved_on_at_each_match_fires_every_step() -> None:
    """CC[0] += step after each COMPARE[0] (the Nano firmware's 125 ms tick): the compares come at counts step, 2 step,
    3 step, each raising the line once, and before each the counter's event is COMPARE[0] alone, quiet until the
    count after it that the reschedule would take: with CC[0] not yet moved, the wrap to 0, where CC[1..3] (0) are."""
    part = Part()
    part.start_lfclk()
    step = 4096
    part.write("rtc1", CC, step)
    part.write("rtc1", INTENSET, 1 << 16)
    part.write("rtc1", START, 1)
    rtc = part["rtc1"]
    t0 = rtc._t0
    for k in (1, 2, 3):
        assert rtc._compare_alone() == (16, rtc._clk.fs_of_tick(t0 + (1 << 24)))
        part.host.advance_to(part.host.next_event_cycle())
        assert part.read("rtc1", COMPARE) == 1 and part.read("rtc1", COUNTER) == k * step
        assert len(part.host.irq_rises(17)) == k
        part.write("rtc1", COMPARE, 0)
        part.write("rtc1", CC, (part.read("rtc1", CC) + step) & 0xFFFFFF)


def _planned(part: Part, rtc: Any) -> tuple[object, ...]:
    """What the counter's event is planned as now: _compare_alone, the wake plan and the compare move plan (its first
    four fields; CC[0..3] given register-file slots for the call, this fake having no register file)."""
    plain, rtc._c_plain = rtc._c_plain, {key: n for n, key in enumerate(rtc._cc_keys)}
    try:
        move = rtc._move_plan()
    finally:
        rtc._c_plain = plain
        rtc._move_cache = None  # (_on_tick would look in the register file C made the write in)
    return rtc._compare_alone(), rtc._wake_plan(), move[:4] if move is not None else None


def _tick_script(part: Part) -> list[object]:
    """The Nano's tick (COMPARE[0], then CC[0] += step) with what else a firmware may do mid-run: another CC nearer than
    the step, PRESCALER rewritten while stopped, TASKS_CLEAR, OVRFLW on at the wrap, TICK on, two CC at one count.
    Returns the plans before every event and the counter, events and line after it."""
    part.start_lfclk()
    rtc = part["rtc1"]
    trace: list[object] = []
    step = 4096

    def ticks(k: int) -> None:
        for _ in range(k):
            trace.append(_planned(part, rtc))
            part.host.advance_to(part.host.next_event_cycle())
            trace.append((part.read("rtc1", COUNTER), [part.read("rtc1", COMPARE + 4 * n) for n in range(4)],
                          part.read("rtc1", OVRFLW), part.read("rtc1", TICK), len(part.host.irq_rises(17))))
            for n in range(4):
                part.write("rtc1", COMPARE + 4 * n, 0)
            part.write("rtc1", CC, (part.read("rtc1", CC) + step) & 0xFFFFFF)

    part.write("rtc1", CC, step)
    part.write("rtc1", INTENSET, 1 << 16)
    part.write("rtc1", START, 1)
    ticks(3)
    part.write("rtc1", CC + 4, (part.read("rtc1", COUNTER) + 1000) & 0xFFFFFF)  # CC[1] before CC[0]'s next
    ticks(3)
    part.write("rtc1", STOP, 1)
    part.write("rtc1", PRESCALER, 3)
    part.write("rtc1", START, 1)
    ticks(2)
    part.write("rtc1", CLEAR, 1)
    part.write("rtc1", CC, step)
    ticks(2)
    part.write("rtc1", INTENSET, 2)  # OVRFLW, then the counter near the wrap
    part.write("rtc1", TRIGOVRFLW, 1)
    part.write("rtc1", CC, 0)
    ticks(2)
    part.write("rtc1", CC + 8, (part.read("rtc1", CC)) & 0xFFFFFF)  # CC[2] at CC[0]'s count: not alone
    ticks(1)
    part.write("rtc1", EVTENSET, 1)  # TICK: every count
    ticks(2)
    return trace


def test_the_plan_counted_once_gives_what_the_recount_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nrf52Rtc._counts (PLAN_CACHED: the targets counted once for the wake and the move plan) against the recount
    (_compare_recount, _next_distance with CC[n] moved), through a script with CC, PRESCALER, TASKS_CLEAR, OVRFLW
    and TICK changes mid-run; and its distance against _next_distance for steps around it."""
    cached = _tick_script(Part())
    monkeypatch.setattr(Nrf52Rtc, "PLAN_CACHED", False)
    recounted = _tick_script(Part())
    assert cached == recounted
    plans = [p for p in cached if isinstance(p, tuple) and len(p) == 3]
    assert sum(p[2] is not None for p in plans) >= 10 and sum(p[0] is None for p in plans) >= 3
    monkeypatch.undo()
    part = Part()
    part.start_lfclk()
    rtc = part["rtc1"]
    part.write("rtc1", CC, 5000)
    part.write("rtc1", CC + 4, 9000)
    part.write("rtc1", INTENSET, (1 << 16) | 2)
    part.write("rtc1", START, 1)
    got, others = rtc._counts()
    assert got is not None and others == 4000
    values = rtc.values
    for step in (1, 3999, 4000, 4001, 0xFFFFFF):
        values["CC0"] = (5000 + step) & 0xFFFFFF
        assert rtc._next_distance(5000) == min(step, others)
    values["CC0"] = 5000
