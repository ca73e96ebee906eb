"""IMU driven through its registers on a fake host: scaling by range, data-ready, FIFO watermark, overrun."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
from simcore.peripherals.sensors.common import SampleClock
from simcore.peripherals.sensors.imu import SimcoreImu
from simcore.peripherals.sensors.testing import FakeHost, peripheral
from simcore.sources import open_source
from simcore.sources.base import ArraySource

IRQ = 9
CH = ("ax", "ay", "az", "gx", "gy", "gz")


def _s16(v: int) -> int:
    v &= 0xFFFF
    return v - 0x10000 if v & 0x8000 else v


def _source(n: int = 500, rate: float = 100.0) -> tuple[ArraySource, np.ndarray]:
    rng = np.random.default_rng(11)
    data = np.column_stack([rng.uniform(-3, 3, size=(n, 3)), rng.uniform(-600, 600, size=(n, 3))])
    units = ("g",) * 3 + ("dps",) * 3
    return ArraySource("walk.csv", data, channels=CH, units=units, rate_hz=rate), data


def _expected(data: np.ndarray, g_range: float, dps_range: float) -> np.ndarray:
    scaled = np.column_stack([data[:, :3] / g_range, data[:, 3:] / dps_range]) * 32768
    return np.clip(np.rint(scaled), -32768, 32767).astype(np.int64)


def _imu(host: FakeHost, **opts: object) -> SimcoreImu:
    return SimcoreImu(peripheral("imu0", "simcore_imu", irq=IRQ, **opts), host)


def test_output_registers_scale_by_range_and_drdy() -> None:
    src, data = _source()
    host = FakeHost(mhz=10)  # 100 Hz: 100000 cycles per sample
    imu = _imu(host)
    imu.attach(src)
    imu.write(0x10, 4, 2)  # ACCEL_RANGE +-8 g
    imu.write(0x14, 4, 3)  # GYRO_RANGE +-1000 dps
    imu.write(0x08, 4, 1)  # INTEN DRDY
    imu.write(0x00, 4, 1)  # EN
    host.advance_to(99_999)
    assert host.irq_rises(IRQ) == [] and imu.read(0x04, 4) & 1 == 0
    host.advance_to(100_000)
    assert host.irq_rises(IRQ) == [100_000]
    exp = _expected(data, 8, 1000)
    got = [_s16(imu.read(0x18 + 4 * i, 4)) for i in range(6)]
    assert got == exp[0].tolist()
    assert imu.read(0x04, 4) & 1 == 0 and host.irq_levels[IRQ] is False  # reading cleared DRDY
    host.advance_to(100_000 * 37 + 5)
    assert [_s16(imu.read(0x18 + 4 * i, 4)) for i in range(6)] == exp[36].tolist()
    assert imu.read(0x44, 4) == 37


def test_saturation_at_small_range() -> None:
    data = np.array([[2.5, -2.5, 1.0, 0, 0, 0]] * 4)
    host = FakeHost(mhz=1)
    imu = _imu(host)
    imu.attach(ArraySource("m", data, channels=CH, units=("g",) * 3 + ("dps",) * 3, rate_hz=100.0))
    imu.write(0x00, 4, 1)  # +-2 g default
    host.advance_to(10_000)
    assert [_s16(imu.read(0x18 + 4 * i, 4)) for i in range(3)] == [32767, -32768, 16384]


def test_fifo_watermark_irq_and_frame_order() -> None:
    src, data = _source()
    host = FakeHost(mhz=10)
    imu = _imu(host, fifo_depth=32)
    imu.attach(src)
    imu.write(0x38, 4, 10)  # FIFO_WM 10 frames
    imu.write(0x08, 4, 0b110)  # INTEN WM | OVR
    imu.write(0x00, 4, 0b11)  # EN | FIFO_EN
    host.advance_to(10 * 100_000 - 1)
    assert host.irq_rises(IRQ) == []
    host.advance_to(10 * 100_000)
    assert host.irq_rises(IRQ) == [1_000_000]
    assert imu.read(0x34, 4) == 10
    exp = _expected(data, 2, 125)
    words = [_s16(imu.read(0x30, 4)) for _ in range(60)]
    assert words == exp[:10].reshape(-1).tolist()
    assert host.irq_levels[IRQ] is False
    # events only at the watermark (and overflow), never per sample
    assert len(host.fired) == 1


def test_fifo_overrun_counted_with_timestamp() -> None:
    src, _ = _source()
    host = FakeHost(mhz=10)
    imu = _imu(host, fifo_depth=8)
    imu.attach(src)
    imu.write(0x08, 4, 0b100)  # INTEN OVR
    imu.write(0x00, 4, 0b11)
    host.advance_to(2_000_000)  # 20 samples into 8 slots
    assert host.irq_rises(IRQ) == [900_000]  # sample 8 (the 9th) is the first that does not fit
    assert imu.read(0x3C, 4) == 1
    st = imu.stats()
    assert st["overruns"] == 1 and st["frames_lost"] == 12
    assert st["events"][0]["cycle"] == 900_000 and st["events"][0]["time_s"] == pytest.approx(0.09)


def test_odr_must_match_recording_unless_resampled(tmp_path: Path) -> None:
    src, _ = _source(rate=100.0)
    imu = _imu(FakeHost())
    imu.attach(src)
    imu.write(0x0C, 4, 208)
    with pytest.raises(BadInputError, match="100 Hz but the peripheral's output data rate is 208 Hz"):
        imu.write(0x00, 4, 1)
    imu2 = _imu(FakeHost(), resample="linear")
    imu2.attach(src)
    imu2.write(0x0C, 4, 200)
    imu2.write(0x00, 4, 1)
    assert imu2.binding is not None and imu2.binding.source.rate_hz == 200


def test_missing_accel_channels_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("t,temp\n0,20\n0.01,21\n")
    imu = _imu(FakeHost())
    imu.attach(open_source(tmp_path / "t.csv"))
    with pytest.raises(BadInputError, match="no acceleration channel"):
        imu.write(0x00, 4, 1)


def test_resd_acceleration_in_g_feeds_the_imu(tmp_path: Path) -> None:
    from simcore.sources.resd import write_resd

    raw = np.array([[1_000_000, -500_000, 250_000]] * 5)
    write_resd(
        tmp_path / "a.resd", [{"sample_type": "acceleration", "channel": 0, "period_ns": 10_000_000, "raw": raw}]
    )
    host = FakeHost(mhz=1)
    imu = _imu(host)
    imu.attach(open_source(tmp_path / "a.resd"))
    imu.write(0x00, 4, 1)
    host.advance_to(10_000)
    assert [_s16(imu.read(0x18 + 4 * i, 4)) for i in range(6)] == [16384, -8192, 4096, 0, 0, 0]


def test_watermark_service_latency_and_late_drain() -> None:
    src, _ = _source()
    host = FakeHost(mhz=10)
    imu = _imu(host, fifo_depth=12)
    imu.attach(src)
    imu.write(0x38, 4, 4)  # WM 4 frames
    imu.write(0x08, 4, 0b110)
    imu.write(0x00, 4, 0b11)
    host.advance_to(400_000)  # WM reached at sample 3 -> cycle 400000
    host.advance_to(450_000)
    for _ in range(6 * 4):
        imu.read(0x30, 4)
    lat = imu.stats()["service_latency_cycles"]
    assert lat["count"] == 1 and lat["max"] == 50_000
    host.advance_to(800_000)  # samples 4..7: WM again at 800000; sample 16 would not fit -> 1700000
    host.advance_to(1_800_000)
    for _ in range(6 * 12):
        imu.read(0x30, 4)
    late = [e for e in imu.stats()["events"] if e["kind"] == "late_services"]
    assert [(e["raised_cycle"], e["deadline_cycle"], e["cycle"]) for e in late] == [(800_000, 1_700_000, 1_800_000)]
    assert imu.stats()["overruns"] == 1


def _count_by(clock: SampleClock, cycle: int) -> int:
    """count_by's formula, computed afresh (no remembered answer)."""
    return max(0, math.floor(cycle * clock.rate_hz / clock.cps + 1e-9))


@pytest.mark.parametrize(("rate", "mhz"), [(100.0, 80.0), (104.0, 80.0), (119.0, 64.0), (16_000.0, 168.0)])
def test_sample_clock_remembered_answers_are_the_formulas(rate: float, mhz: float) -> None:
    """SampleClock keeps its last count_by and its arrivals: every answer, asked in any order and again, equals the
    formula's, and arrival(k) is the first cycle at which count_by reaches k + 1 (a stale answer would break either;
    a run of more arrivals than it keeps starts over)."""
    clock = SampleClock(rate, mhz * 1e6)
    rng = np.random.default_rng(5)
    ks = [int(k) for k in rng.integers(0, 5000, size=300)] + list(range(40)) + [3, 3, 7, 3]
    for k in ks:
        c = clock.arrival(k)
        assert _count_by(clock, c) == k + 1 and (c == 0 or _count_by(clock, c - 1) < k + 1)
        assert clock.count_by(c) == k + 1 and clock.count_by(c - 1 if c else 0) == _count_by(clock, c - 1 if c else 0)
        assert clock.count_by(c) == k + 1  # the same cycle again: the kept answer
    cycles = [int(x) for x in rng.integers(0, 10**9, size=200)]
    for cy in cycles + cycles[::-1]:
        assert clock.count_by(cy) == _count_by(clock, cy)
    clock.ARRIVALS_KEPT = 8
    for k in range(10_000, 10_020):  # not asked before: each is made and kept
        assert clock.arrival(k) == SampleClock(rate, mhz * 1e6).arrival(k)
    assert len(clock._arrivals) <= 8


def test_a_new_enable_at_another_odr_takes_a_new_clock() -> None:
    """The IMU's sample clock (whose answers are kept) is made at each enable: re-enabled at another ODR, the FIFO
    fills at the new rate, not the old clock's."""
    src, _data = _source(rate=100.0)
    host = FakeHost(mhz=10)
    imu = _imu(host, resample=True)
    imu.attach(src)
    imu.write(0x00, 4, 3)  # EN, FIFO_EN at 100 Hz: a sample every 100,000 cycles
    host.advance_to(1_000_000)
    assert imu.read(0x34, 4) == 10  # FIFO_LEVEL
    first = imu.clock
    imu.write(0x00, 4, 0)
    imu.write(0x0C, 4, 50)  # ODR 50 Hz: a sample every 200,000 cycles
    imu.write(0x00, 4, 3)
    assert imu.clock is not first and imu.clock.arrival(imu.fifo.next_k) == _count_by_arrival(imu.clock,
                                                                                              imu.fifo.next_k)
    level = imu.read(0x34, 4)
    host.advance_to(1_000_000 + 1_000_000)
    assert imu.read(0x34, 4) - level == 5


def _count_by_arrival(clock: SampleClock, k: int) -> int:
    """The first cycle at which the formula's count reaches k + 1 (a search, no remembered answer)."""
    c = max(0, math.ceil((k + 1) * clock.cps / clock.rate_hz) - 1)
    while c > 0 and _count_by(clock, c - 1) >= k + 1:
        c -= 1
    while _count_by(clock, c) < k + 1:
        c += 1
    return c
