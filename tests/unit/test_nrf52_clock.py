"""nRF52840 CLOCK and POWER (PS v1.7 5.4, 5.3) through their registers on a fake clock."""

from __future__ import annotations

import pytest

from simcore.runtypes import StopKind
from tests.unit.nrf52_fakes import CYCLES_PER_US, Part

HFCLKSTART, HFCLKSTOP, LFCLKSTART, LFCLKSTOP, CAL, CTSTART, CTSTOP = 0x000, 0x004, 0x008, 0x00C, 0x010, 0x014, 0x018
EV_HFCLKSTARTED, EV_LFCLKSTARTED, EV_DONE, EV_CTTO = 0x100, 0x104, 0x10C, 0x110
HFCLKRUN, HFCLKSTAT, LFCLKRUN, LFCLKSTAT, LFCLKSRCCOPY, LFCLKSRC = 0x408, 0x40C, 0x414, 0x418, 0x41C, 0x518
HFXODEBOUNCE, CTIV = 0x528, 0x538
RESETREAS, SYSTEMOFF, GPREGRET = 0x400, 0x500, 0x51C


def _cycle_of_event(part: Part, offset: int) -> int:
    while not part.read("clock", offset):
        nxt = part.host.next_event_cycle()
        assert nxt is not None, "the event never comes"
        part.host.advance_to(nxt)
    return part.host.cycles


@pytest.mark.parametrize("debounce", [0x10, 0x40])
def test_hfxo_starts_after_its_debounce_time(debounce: int) -> None:
    part = Part()
    part.write("clock", HFXODEBOUNCE, debounce)
    assert part.read("clock", HFCLKSTAT) == 1 << 16  # running from HFINT (SRC = 0)
    part.write("clock", HFCLKSTART, 1)
    assert part.read("clock", HFCLKRUN) == 1
    at = _cycle_of_event(part, EV_HFCLKSTARTED)
    assert at == debounce * 16 * CYCLES_PER_US  # HFXODEBOUNCE x 16 us: 256 us (0x10), 1024 us (0x40)
    assert part.read("clock", HFCLKSTAT) == (1 << 16) | 1  # STATE running, SRC Xtal
    assert [s.source for s in part.host.clocks.timeline.changes()] == ["HFINT", "HFXO"]
    part.write("clock", HFCLKSTOP, 1)
    assert part.read("clock", HFCLKSTAT) == 1 << 16 and part.read("clock", HFCLKRUN) == 0


@pytest.mark.parametrize(("src", "us"), [(0, 600), (1, 250_000), (2, 1000)])
def test_lfclk_starts_from_each_source_after_its_start_up_time(src: int, us: int) -> None:
    part = Part()
    assert part.host.clock_hz("LFCLK") == 0.0
    part.write("clock", LFCLKSRC, src)
    part.write("clock", LFCLKSTART, 1)
    assert part.read("clock", LFCLKRUN) == 1 and part.read("clock", LFCLKSRCCOPY) == src
    assert part.read("clock", LFCLKSTAT) == 0
    assert _cycle_of_event(part, EV_LFCLKSTARTED) == us * CYCLES_PER_US
    assert part.read("clock", LFCLKSTAT) == (1 << 16) | src
    assert part.host.clock_hz("LFCLK") == 32768.0
    part.write("clock", LFCLKSTOP, 1)
    assert part.host.clock_hz("LFCLK") == 0.0 and part.read("clock", LFCLKSTAT) == 0


def test_clock_tree_and_interrupt() -> None:
    part = Part()
    assert part.host.clock_hz("HCLK") == 64e6 and part.host.clock_hz("PCLK16M") == 16e6
    assert part.host.clock_hz("PCLK1M") == 1e6
    part.write("clock", 0x304, 0b11)  # INTENSET HFCLKSTARTED | LFCLKSTARTED
    part.write("clock", HFCLKSTART, 1)
    _cycle_of_event(part, EV_HFCLKSTARTED)
    assert part.host.irq_levels[0] is True  # POWER_CLOCK_IRQn
    part.write("clock", EV_HFCLKSTARTED, 0)
    assert part.host.irq_levels[0] is False


def test_calibration_timer_and_calibration() -> None:
    part = Part()
    part.write("clock", CTIV, 4)  # 4 x 0.25 s
    part.write("clock", CTSTART, 1)
    assert _cycle_of_event(part, EV_CTTO) == 64_000_000  # 1 s
    part.write("clock", CAL, 1)  # LFCLK not running from the LFRC: a firmware error
    assert part.read("clock", EV_DONE) == 0 and "CLOCK.TASKS_CAL" in part.host.unmodelled
    part.start_lfclk(0)
    part.write("clock", CAL, 1)
    assert part.read("clock", EV_DONE) == 1


def test_power_registers() -> None:
    part = Part({"clock": {"resetreas": 0x2}})  # DOG: the run starts after a watchdog reset
    assert part.read("clock", RESETREAS) == 0x2
    part.write("clock", RESETREAS, 0x2)  # write 1 to clear
    assert part.read("clock", RESETREAS) == 0
    part.write("clock", GPREGRET, 0xB1)
    assert part.read("clock", GPREGRET) == 0xB1
    assert part.read("clock", 0x640) == 0  # MAINREGSTATUS: normal voltage mode
    assert part.host.stops == []
    part.write("clock", SYSTEMOFF, 1)
    assert [s.kind for s in part.host.stops] == [StopKind.SLEEPING]
    assert "System OFF" in part.host.stops[0].message
