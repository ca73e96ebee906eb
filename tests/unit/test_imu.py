"""IMU driven through its registers on a fake host: scaling by range, data-ready, FIFO watermark, overrun."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
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
