"""ADC driven through its registers on a fake host: timer rate, codes, EOC overrun, DMA ring, watchdog."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.errors import BadInputError
from simcore.peripherals.sensors.adc import SimcoreAdc
from simcore.peripherals.sensors.testing import FakeHost, peripheral
from simcore.sources.base import ArraySource

RAM = 0x20000000
IRQ = 12


def _volts(n: int = 3000) -> np.ndarray:
    t = np.arange(n) / 1000.0
    return 1.65 + 1.2 * np.sin(2 * np.pi * 3 * t)


def _adc(host: FakeHost, volts: np.ndarray, rate: float = 1000.0, **opts: object) -> SimcoreAdc:
    adc = SimcoreAdc(peripheral("adc0", "simcore_adc", irq=IRQ, **opts), host)
    adc.attach(ArraySource("trace.csv", volts, channels=("voltage",), units=("V",), rate_hz=rate))
    # 64 MHz / (64 * 1000) = 1 kHz
    adc.write(0x0C, 4, 63)
    adc.write(0x10, 4, 999)
    return adc


def _codes(v: np.ndarray, bits: int = 12, vref: float = 3.3) -> np.ndarray:
    top = (1 << bits) - 1
    return np.clip(np.rint(v / vref * top), 0, top).astype(np.int64)


def test_timer_rate_and_data_register() -> None:
    v = _volts()
    host = FakeHost(mhz=64)
    adc = _adc(host, v)
    adc.write(0x08, 4, 1)  # INTEN EOC
    adc.write(0x00, 4, 1)
    assert adc.rate_hz() == pytest.approx(1000.0)
    host.advance_to(64_000 - 1)
    assert host.irq_rises(IRQ) == []
    host.advance_to(64_000)
    assert host.irq_rises(IRQ) == [64_000]
    assert adc.read(0x14, 4) == _codes(v)[0]
    assert host.irq_levels[IRQ] is False
    host.advance_to(64_000 * 250)
    assert adc.read(0x14, 4) == _codes(v)[249]
    adc.write(0x20, 4, 10)  # RES 10 bits takes effect on the next read
    assert adc.read(0x14, 4) == _codes(v, 10)[249]


def test_eoc_overrun_when_conversions_are_not_read() -> None:
    host = FakeHost(mhz=64)
    adc = _adc(host, _volts())
    adc.write(0x08, 4, 0b11)  # EOC | OVR
    adc.write(0x00, 4, 1)
    host.advance_to(64_000)
    adc.read(0x14, 4)
    host.advance_to(64_000 * 3)  # conversions 1 and 2 complete; 1 was never read
    assert adc.read(0x2C, 4) == 1
    assert [e["cycle"] for e in adc.stats()["events"] if e["kind"] == "overruns"] == [64_000 * 3]
    assert adc.read(0x04, 4) & 0b10


def test_dma_ring_matches_numpy_codes() -> None:
    v = _volts()
    host = FakeHost(mhz=64)
    adc = _adc(host, v)
    adc.write(0x18, 4, RAM)
    adc.write(0x1C, 4, 200)
    adc.write(0x08, 4, 0b1100)  # HT | TC
    adc.write(0x00, 4, 0b11)  # EN | DMA
    host.advance_to(64_000 * 100)
    assert host.irq_rises(IRQ) == [64_000 * 100]
    assert adc.read(0x04, 4) & 0b100
    got = np.frombuffer(host.mem_read(RAM, 200), dtype="<u2")
    np.testing.assert_array_equal(got, _codes(v)[:100])
    adc.write(0x04, 4, 0b100)
    host.advance_to(64_000 * 200)
    got = np.frombuffer(host.mem_read(RAM + 200, 200), dtype="<u2")
    np.testing.assert_array_equal(got, _codes(v)[100:200])
    assert len(host.fired) == 2


def test_analog_watchdog_flags_each_crossing_out_of_the_window() -> None:
    v = _volts()
    host = FakeHost(mhz=64)
    adc = _adc(host, v)
    lo, hi = 1000, 3000
    adc.write(0x24, 4, lo)
    adc.write(0x28, 4, hi)
    adc.write(0x08, 4, 0b10000)  # INTEN AWD
    adc.write(0x00, 4, 0b101)  # EN | AWDEN
    c = _codes(v)
    outside = (c < lo) | (c > hi)
    entering = np.flatnonzero(outside & ~np.concatenate([[False], outside[:-1]]))
    host.advance_to(64_000 * (int(entering[0]) + 1) - 1)
    assert host.irq_rises(IRQ) == []
    host.advance_to(64_000 * (int(entering[0]) + 1))
    assert host.irq_rises(IRQ) == [64_000 * (int(entering[0]) + 1)]
    adc.write(0x04, 4, 0b10000)
    host.advance_to(64_000 * 2999)
    crossings = [e["sample"] for e in adc.stats()["events"] if e["kind"] == "threshold_crossings"]
    assert crossings == entering[entering < 2999].tolist()
    assert len(host.fired) < 40  # events at crossings and look-ahead steps, not per conversion


def test_rate_from_timer_must_match_recording() -> None:
    host = FakeHost(mhz=50)  # 50 MHz / 64000 = 781.25 Hz
    adc = _adc(host, _volts())
    with pytest.raises(BadInputError, match=r"1000 Hz but the peripheral's conversion rate"):
        adc.write(0x00, 4, 1)
