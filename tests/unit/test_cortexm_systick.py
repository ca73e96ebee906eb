"""SysTick driven through its registers on a fake clock: VAL, COUNTFLAG and exact interrupt cycles."""

from __future__ import annotations

from simcore.cortexm.systick import SysTick
from tests.unit.cortexm_fakes import FakeHost

BASE = 0xE000E000
CTRL, LOAD, VAL, CALIB = BASE + 0x10, BASE + 0x14, BASE + 0x18, BASE + 0x1C


def _systick(host: FakeHost) -> tuple[SysTick, list[int]]:
    fired: list[int] = []
    st = SysTick(host, lambda: fired.append(host.now))
    return st, fired


def test_val_counts_down_from_load_on_the_core_clock() -> None:
    host = FakeHost()
    st, _ = _systick(host)
    st.write(LOAD, 4, 999)
    st.write(VAL, 4, 123)  # any write clears it
    host.now = 100
    st.write(CTRL, 4, 0b101)  # CLKSOURCE | ENABLE, no interrupt
    assert st.read(VAL, 4) == 0
    host.now = 101
    assert st.read(VAL, 4) == 999  # reloads on the first clock
    host.now = 600
    assert st.read(VAL, 4) == 500
    host.now = 1100
    assert st.read(VAL, 4) == 0
    host.now = 1101
    assert st.read(VAL, 4) == 999
    host.now = 1100 + 1000 * 7 + 250
    assert st.read(VAL, 4) == 750


def test_countflag_sets_on_wrap_and_clears_on_read() -> None:
    host = FakeHost()
    st, _ = _systick(host)
    st.write(LOAD, 4, 99)
    st.write(CTRL, 4, 0b101)
    host.now = 99
    assert not st.read(CTRL, 4) & (1 << 16)
    host.now = 100
    assert st.read(CTRL, 4) & (1 << 16)
    assert not st.read(CTRL, 4) & (1 << 16)  # cleared by the read
    host.now = 350
    assert st.read(CTRL, 4) & (1 << 16)
    st.write(VAL, 4, 0)
    host.now = 360
    assert not st.read(CTRL, 4) & (1 << 16)


def test_interrupt_is_scheduled_at_the_exact_wrap_cycles() -> None:
    host = FakeHost()
    st, fired = _systick(host)
    st.write(LOAD, 4, 1000 - 1)
    st.write(VAL, 4, 0)
    host.now = 50
    st.write(CTRL, 4, 0b111)
    host.advance(5000)
    assert fired == [1050, 2050, 3050, 4050]
    st.write(CTRL, 4, 0b101)  # TICKINT off: no more interrupts
    host.advance(10000)
    assert fired == [1050, 2050, 3050, 4050]


def test_new_load_applies_from_the_next_reload() -> None:
    host = FakeHost()
    st, fired = _systick(host)
    st.write(LOAD, 4, 99)
    st.write(CTRL, 4, 0b111)
    host.advance(150)
    assert fired == [100]
    st.write(LOAD, 4, 9)  # counter is at 49: reaches 0 at 200, then every 10
    host.advance(225)
    assert fired == [100, 200, 210, 220]


def test_reference_clock_is_core_clock_divided_by_eight() -> None:
    host = FakeHost(mhz=80)
    st, fired = _systick(host)
    st.write(LOAD, 4, 9)
    st.write(CTRL, 4, 0b011)  # CLKSOURCE = 0: reference clock
    host.advance(200)
    assert fired == [80, 160]
    host.now = 200
    assert st.read(VAL, 4) == 5  # tick 25: 5 ticks after the wrap at tick 20
    assert st.read(CALIB, 4) & 0xFFFFFF == 80_000_000 // 8 // 100 - 1


def test_disabled_counter_holds_its_value() -> None:
    host = FakeHost()
    st, fired = _systick(host)
    st.write(LOAD, 4, 999)
    st.write(CTRL, 4, 0b101)
    host.now = 301
    assert st.read(VAL, 4) == 699  # 999 at cycle 1, then 300 clocks
    st.write(CTRL, 4, 0b100)
    host.now = 5000
    assert st.read(VAL, 4) == 699
    st.write(CTRL, 4, 0b101)
    host.now = 5100
    assert st.read(VAL, 4) == 599
    assert fired == []
