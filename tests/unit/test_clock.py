"""The time base (simcore/clock.py): timeline, clock service, domain clocks, events at virtual times."""

from __future__ import annotations

import math
import random

import pytest

from simcore.clock import FS_PER_SECOND, Clocks, DomainClock, Timeline
from simcore.peripherals.testing import FakeHost

MS = FS_PER_SECOND // 1000


def test_one_segment_is_cycles_over_hz() -> None:
    t = Timeline(168e6, "HSI")
    for c in (0, 1, 168, 8_508_200, 10**12 + 7):
        assert t.seconds_at(c) == c / 168e6  # bit for bit what a fixed clock gave before
    assert t.fs_at(168_000) == MS
    assert t.cycle_at(MS) == 168_000
    assert t.cycle_at(MS + 1) == 168_001  # the first cycle at or after the time


def test_switch_integrates_time_over_clocks() -> None:
    t = Timeline(16e6, "HSI")
    t.switch(16_000, 168e6, "PLL")  # 1 ms at 16 MHz
    assert t.fs_at(16_000) == MS
    assert t.fs_at(16_000 + 168_000) == 2 * MS  # then 1 ms at 168 MHz
    assert t.seconds_at(16_000 + 168_000) == pytest.approx(2e-3, abs=1e-15)
    assert t.cycle_at(2 * MS) == 184_000
    assert t.cycle_at(MS // 2) == 8_000  # a time in the past: the cycle it was at
    assert [s.source for s in t.changes()] == ["HSI", "PLL"]


def test_switch_before_anything_ran_replaces_the_segment() -> None:
    t = Timeline(16e6, "HSI")
    t.switch(0, 4e6, "MSI")
    assert len(t.segments) == 1 and t.current.hz == 4e6
    t.switch(400, 16e6, "HSI")
    t.switch(400, 80e6, "PLL")  # two changes at the same cycle: the last one counts
    assert [(s.cycle, s.hz) for s in t.segments] == [(0, 4e6), (400, 80e6)]


def test_stop_gap_passes_time_without_cycles() -> None:
    t = Timeline(16e6, "HSI")
    t.stop(16_000, 11 * MS)  # stopped from 1 ms to 11 ms
    assert t.fs_at(16_000) == 11 * MS  # after the gap
    assert t.cycle_at(5 * MS) == 16_000  # inside the gap: the cycle the core stopped at
    assert t.cycle_at(12 * MS) == 32_000
    spans = t.spans(32_000, 0)
    assert [(seg.kind, cycles) for seg, cycles, _sl, _s in spans] == [("run", 16_000), ("stop", 0), ("run", 16_000)]
    assert spans[1][3] == pytest.approx(10e-3)


def test_override_keeps_the_core_and_scales_the_buses() -> None:
    c = Clocks(100e6, override_hz=100e6)
    c.model = object()  # type: ignore[assignment]
    changed, warning = c.update({"HCLK": 168e6, "PCLK1": 42e6, "LSE": 32768.0}, "PLL")
    assert not changed and c.core_hz == 100e6
    assert warning is not None and "168 MHz" in warning and "--mhz 100" in warning
    assert c.hz("PCLK1") == pytest.approx(25e6)  # HCLK/4 as the firmware set it, of the overriding clock
    assert c.hz("LSE") == 32768.0  # oscillators do not scale
    assert c.update({"HCLK": 168e6, "PCLK1": 42e6}, "PLL")[1] is None  # warned once
    with pytest.raises(KeyError, match="PCLK1"):
        c.hz("PCLK9")


def test_events_at_a_time_keep_it_across_a_clock_switch() -> None:
    host = FakeHost(mhz=16)
    fired: list[tuple[int, int]] = []
    host.schedule_at_fs(2 * MS, lambda: fired.append((host.cycles, host.now_fs())), "2 ms")
    host.schedule(32_000, lambda: fired.append((host.cycles, -1)), "cycle 32000")  # a core-cycle event
    host.advance_to(16_000)  # 1 ms at 16 MHz
    host.set_clocks(HCLK=168e6, source="PLL")
    host.advance_to(10**6)
    assert fired[0] == (32_000, -1)  # core-cycle events stay at their cycle
    assert fired[1] == (16_000 + 168_000, 2 * MS)  # the 2 ms event moved with the clock


def test_domain_clock_counts_across_prescaler_and_clock_changes() -> None:
    host = FakeHost(mhz=16)
    host.set_clocks(PCLK1=16e6)
    tim = DomainClock(host, "PCLK1", divider=16)  # 1 MHz ticks
    ticks: list[int] = []
    tim.schedule_tick(3000, lambda: ticks.append(host.now_fs()), "tick 3000")
    host.advance_fs(1 * MS)
    assert tim.ticks() == 1000
    host.set_clocks(HCLK=168e6, PCLK1=42e6, source="PLL")  # now 2.625 MHz ticks
    host.advance_fs(MS // 2)
    assert tim.ticks() == 1000 + 1312
    assert ticks == []
    host.advance_fs(MS)
    # 2000 ticks after the switch at 2.625 MHz: 761.904... us after the 1 ms mark, at the next core cycle
    late = ticks[0] - (MS + 2000 * FS_PER_SECOND * 16 // 42_000_000)
    assert 0 <= late <= FS_PER_SECOND / 168e6 + 1  # events fire at a core cycle: at most one late
    tim.set_divider(1)
    before = tim.ticks()
    host.advance_fs(1_000_000_000)  # 1 us at 42 MHz
    assert tim.ticks() - before == 42


def test_domain_clock_off_waits() -> None:
    host = FakeHost(mhz=16)
    host.set_clocks(LSE=0.0)
    rtc = DomainClock(host, "LSE")
    fired: list[int] = []
    rtc.schedule_tick(32768, lambda: fired.append(host.now_fs()), "1 s")
    host.advance_fs(2 * FS_PER_SECOND)
    assert fired == [] and rtc.ticks() == 0
    host.set_clocks(LSE=32768.0)  # the crystal starts at 2 s
    host.advance_fs(2 * FS_PER_SECOND)
    assert fired and abs(fired[0] - 3 * FS_PER_SECOND) <= 1


def test_cancelled_domain_event_does_not_fire() -> None:
    host = FakeHost(mhz=8)
    d = DomainClock(host, "HCLK")
    fired: list[str] = []
    h = d.schedule_tick(100, lambda: fired.append("x"))
    d.cancel(h)
    host.set_clocks(HCLK=16e6)
    host.advance_to(10_000)
    assert fired == []


def test_integer_conversions_equal_the_exact_fractions() -> None:
    """fs_at and cycle_at in integers give what the exact rational formulas give (Fraction of the float Hz),
    on clocks whose Hz is no whole number of anything, across switches and a Stop gap, and before the start."""
    import bisect
    import random
    from fractions import Fraction

    rng = random.Random(16)
    for hz in (16e6, 168e6, 4e6, 32768.0, 1e6 / 3, 47.999e6, 12345.678):
        t = Timeline(hz, "A")
        t.switch(1000, hz * 1.5, "B")
        t.stop(5000, t.fs_at(5000) + 10**12)
        t.switch(9000, hz / 7, "C")
        starts = [s.cycle for s in t.segments]
        for _ in range(3000):
            c = rng.choice((rng.randrange(-50, 20_000), rng.randrange(0, 10**13)))
            seg = t.segments[bisect.bisect_right(starts, c) - 1] if c >= 0 else t.segments[0]
            want = seg.fs if not seg.hz else seg.fs + int(Fraction(c - seg.cycle) * FS_PER_SECOND / Fraction(seg.hz))
            assert t.fs_at(c) == want
            fs = rng.randrange(0, 10**18)
            cur = t.current
            if fs > cur.fs and cur.hz:
                x = Fraction(fs - cur.fs) * Fraction(cur.hz) / FS_PER_SECOND
                assert t.cycle_at(fs) == cur.cycle + -(-x.numerator // x.denominator)  # the ceiling


def test_domain_clock_ticks_in_integers_equal_the_exact_count() -> None:
    """ticks() (integers) is the whole part of the exact rational count and fs_of_tick() the exact time rounded
    up, across divider and clock changes, on clocks whose Hz is no whole number (Fractions computed here)."""
    import random
    from fractions import Fraction

    rng = random.Random(12)
    host = FakeHost(mhz=16)
    host.set_clocks(PCLK1=16e6)
    tim = DomainClock(host, "PCLK1", divider=3)
    anchor_fs, anchor, hz, div = host.now_fs(), Fraction(0), 16e6, 3
    for _ in range(2000):
        host.advance_fs(rng.randrange(0, 10**10))
        if rng.random() < 0.05:  # re-anchor as the clock does: the exact count so far, then the new rate
            now = host.now_fs()
            anchor += Fraction(now - anchor_fs) * Fraction(hz) / (FS_PER_SECOND * div)
            anchor_fs = now
            if rng.random() < 0.5:
                div = rng.randrange(1, 65537)
                tim.set_divider(div)
            else:
                hz = rng.choice((16e6, 42e6, 84e6 / 9, 32768.0, 1e6 / 3))
                host.set_clocks(PCLK1=hz)
        exact = anchor + Fraction(host.now_fs() - anchor_fs) * Fraction(hz) / (FS_PER_SECOND * div)
        assert tim.ticks() == int(exact)
        tick = int(exact) + rng.randrange(-3, 10**6)  # the time it is reached: rounded up, never in the past
        at = anchor_fs + (tick - anchor) * FS_PER_SECOND * div / Fraction(hz)
        assert tim.fs_of_tick(tick) == max(-(-at.numerator // at.denominator), host.now_fs())


def test_timeline_forgets_its_last_answer_when_its_segments_change() -> None:
    """fs_at keeps its last answer (Machine.now_fs reads it without a call): a segment replaced at that cycle (a
    switch before anything ran) or appended there (a Stop gap) must give the new time, not the kept one."""
    t = Timeline(16e6, "HSI")
    assert t.fs_at(1000) == 1000 * FS_PER_SECOND // 16_000_000  # kept: (1000, 62.5 us)
    t.switch(0, 4e6, "MSI")  # nothing ran on the first segment: replaced, the same cycle now 4x later
    assert t.fs_at(1000) == 1000 * FS_PER_SECOND // 4_000_000
    t.stop(1000, 10 * MS)  # from cycle 1000 the core is stopped until 10 ms
    assert t.fs_at(1000) == 10 * MS
    assert t.fs_at(1000 + 4000) == 11 * MS and t.cycle_at(11 * MS) == 5000


class _GeneralTimeline(Timeline):
    """A timeline whose conversions all take the general path (the current segment's terms never kept)."""

    def _keep_current(self) -> None:
        self._c0 = self._f0 = math.inf
        self._num, self._dfs = 0, 1


@pytest.mark.parametrize("seed", range(4))
def test_the_kept_current_segment_converts_as_the_segments_do(seed: int) -> None:
    """fs_at and cycle_at read the current segment's terms from the timeline itself (_keep_current): after every
    switch (a new segment, or one replaced before anything ran on it, a core clock of 0 Hz included) and Stop gap,
    each conversion of the present, the past and the future equals the general path's over the segments."""
    rng = random.Random(seed)
    kept, general = Timeline(16e6, "HSI"), _GeneralTimeline(16e6, "HSI")
    cycle = 0
    for _ in range(60):
        step = rng.random()
        if step < 0.3:
            hz = rng.choice((16e6, 64e6, 84e6 / 9, 32768.0, 1e6 / 3, 0.0))
            same = rng.random() < 0.3  # at the cycle the segment began: replaced
            at = kept.current.cycle if same and kept.current.kind == "run" else cycle
            for t in (kept, general):
                t.switch(at, hz, "X")
        elif step < 0.45:
            until = kept.fs_at(cycle) + rng.randrange(1, 10 * MS)
            for t in (kept, general):
                t.stop(cycle, until)
        cycle += rng.randrange(0, 10**7)
        for c in (cycle, cycle - rng.randrange(0, 10**6), rng.randrange(0, cycle + 1), cycle + rng.randrange(10**6)):
            assert kept.fs_at(c) == general.fs_at(c), (seed, c)
        now = kept.fs_at(cycle)
        for fs in (now, now + 1, now + rng.randrange(10**12), rng.randrange(0, now + 1), max(now - 1, 0)):
            assert kept.cycle_at(fs) == general.cycle_at(fs), (seed, fs)
