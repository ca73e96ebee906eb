"""LSM6DSL through its registers: accelerometer and gyroscope scaling, data ready on INT1, the FIFO's
word pattern (gyroscope then accelerometer), threshold in words, continuous-mode overrun."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simcore.devices.base import DeviceConfig
from simcore.devices.bus import I2CBus
from simcore.devices.lsm6dsl import Lsm6dsl
from simcore.devices.testing import I2CMaster, s16
from simcore.errors import BadInputError
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

ADDR = 0x6A
MHZ = 10.4
PERIOD = 100_000  # 104 Hz at 10.4 MHz
XL_SENS = {0: 0.061, 1: 0.488, 2: 0.122, 3: 0.244}
G_SENS = {0: 8.75, 1: 17.5, 2: 35.0, 3: 70.0}


def _setup(gyro: bool = True) -> tuple[FakeHost, Lsm6dsl, I2CMaster, np.ndarray]:
    host = FakeHost(mhz=MHZ)
    dev = Lsm6dsl(DeviceConfig("imu", "lsm6dsl", address=ADDR), host)
    rng = np.random.default_rng(9)
    data = np.column_stack([rng.uniform(-3, 3, (400, 3)), rng.uniform(-900, 900, (400, 3))])
    ch = ("ax", "ay", "az", "gx", "gy", "gz") if gyro else ("ax", "ay", "az")
    units = ("g",) * 3 + ("dps",) * 3
    dev.attach(ArraySource("imu.csv", data[:, : len(ch)], channels=ch, units=units[: len(ch)], rate_hz=104.0))
    bus = I2CBus("i2c2")
    bus.attach(dev, ADDR)
    return host, dev, I2CMaster(bus), data


def _words(b: list[int]) -> list[int]:
    return [s16(b[i], b[i + 1]) for i in range(0, len(b), 2)]


def _xl(data: np.ndarray, fs: int) -> np.ndarray:
    return np.clip(np.rint(data[:, :3] * 1000 / XL_SENS[fs]), -32768, 32767).astype(np.int64)


def _g(data: np.ndarray, fs: int) -> np.ndarray:
    return np.clip(np.rint(data[:, 3:] * 1000 / G_SENS[fs]), -32768, 32767).astype(np.int64)


@pytest.mark.parametrize(("fs_xl", "fs_g"), [(0, 0), (1, 3), (2, 1), (3, 2)])
def test_outputs_scaled_by_full_scale(fs_xl: int, fs_g: int) -> None:
    host, dev, m, data = _setup()
    assert m.read(ADDR, 0x0F) == [0x6A] and m.read(ADDR, 0x12) == [0x04]
    m.write(ADDR, 0x10, 0x40 | fs_xl << 2)  # 104 Hz
    m.write(ADDR, 0x11, 0x40 | fs_g << 2)
    for k in (0, 33, 398):
        host.advance_to(PERIOD * (k + 1) + 1)
        out = _words(m.read(ADDR, 0x22, 12))  # gyroscope then accelerometer, IF_INC
        assert out[:3] == _g(data, fs_g)[k].tolist() and out[3:] == _xl(data, fs_xl)[k].tolist()


def test_gyro_125_dps_and_status() -> None:
    host, dev, m, data = _setup()
    m.write(ADDR, 0x11, 0x42)  # FS_125
    m.write(ADDR, 0x10, 0x40)
    host.advance_to(PERIOD)
    assert m.read(ADDR, 0x1E) == [0x03]
    g = _words(m.read(ADDR, 0x22, 6))
    assert g == np.clip(np.rint(data[0, 3:] * 1000 / 4.375), -32768, 32767).astype(int).tolist()
    assert m.read(ADDR, 0x1E) == [0x01]  # reading the gyroscope's high bytes cleared GDA only


def test_drdy_xl_on_int1_active_low() -> None:
    host, dev, m, _ = _setup()
    m.write(ADDR, 0x12, 0x04 | 0x20)  # IF_INC, H_LACTIVE
    m.write(ADDR, 0x0D, 0x01)  # INT1_DRDY_XL
    m.write(ADDR, 0x10, 0x40)
    assert dev.lines["INT1"].level is True
    host.advance_to(PERIOD)
    assert dev.lines["INT1"].level is False
    m.read(ADDR, 0x28, 6)
    assert dev.lines["INT1"].level is True


def test_fifo_pattern_threshold_and_data() -> None:
    host, dev, m, data = _setup()
    m.write(ADDR, 0x10, 0x40)
    m.write(ADDR, 0x11, 0x40)
    m.write(ADDR, 0x06, 60)  # FTH 60 words = 10 samples of 6 words
    m.write(ADDR, 0x08, 0x09)  # no decimation for both
    m.write(ADDR, 0x0D, 0x08)  # INT1_FTH
    m.write(ADDR, 0x0A, (4 << 3) | 6)  # ODR_FIFO 104 Hz, continuous
    host.advance_to(10 * PERIOD - 1)
    assert dev.lines["INT1"].level is False
    host.advance_to(10 * PERIOD)
    assert dev.lines["INT1"].level is True
    s1, s2 = m.read(ADDR, 0x3A, 2)
    assert s1 == 60 and s2 == 0x80
    words = _words(m.read(ADDR, 0x3E, 2 * 8))  # wraps 3Fh -> 3Eh: 8 words
    exp = np.column_stack([_g(data, 0), _xl(data, 0)])[:10].reshape(-1)
    assert words == exp[:8].tolist()
    assert m.read(ADDR, 0x3C) == [2]  # FIFO_PATTERN: third word of the 6-word pattern next
    rest = _words(m.read(ADDR, 0x3E, 2 * 52))
    assert rest == exp[8:60].tolist()
    assert m.read(ADDR, 0x3B)[0] & 0x10 and dev.lines["INT1"].level is False


def test_fifo_accelerometer_only_and_overrun_in_continuous_mode() -> None:
    host, dev, m, data = _setup(gyro=False)
    m.write(ADDR, 0x10, 0x40)
    m.write(ADDR, 0x08, 0x01)  # accelerometer only
    m.write(ADDR, 0x0D, 0x10)  # INT1_FIFO_OVR
    m.write(ADDR, 0x0A, (4 << 3) | 6)
    host.advance_to(700 * PERIOD)
    # 2048 words hold 682 samples of 3 words: the 683rd overwrites the oldest
    assert host.irq_rises(0) == [] and dev.lines["INT1"].level is True
    st = dev.stats()
    assert st["overruns"] == 1 and st["events"][0]["cycle"] == 683 * PERIOD
    assert st["fifo_samples_lost"] == 700 - 682
    s1, s2 = m.read(ADDR, 0x3A, 2)
    assert (s2 & 7) << 8 | s1 == 682 * 3 and s2 & 0x40
    first = _words(m.read(ADDR, 0x3E, 6))
    assert first == _xl(data, 0)[700 - 682].tolist()


def test_recording_rate_checked_against_each_sensor() -> None:
    host, dev, m, _ = _setup()
    with pytest.raises(BadInputError, match="gyro output data rate is 208 Hz"):
        m.write(ADDR, 0x11, 0x50)


def test_embedded_functions_reported() -> None:
    host, dev, m, _ = _setup()
    m.write(ADDR, 0x19, 0x14)  # FUNC_EN | PEDO_EN
    assert "imu.CTRL10_C" in host.unmodelled


def _chip_state(dev: Lsm6dsl) -> tuple[object, ...]:
    f = dev.fifo
    return (dev._ptr, dev._inc, dev._word, [list(r) for r in f.runs], f.level, f.overrun, f._losing,
            dict(dev.stats_.counts), dev.lines["INT1"].level)


@pytest.mark.parametrize("gyro", [True, False], ids=["gyro+accel", "accel"])
@pytest.mark.parametrize("inc", [True, False], ids=["inc", "no-inc"])
def test_fifo_drain_replayed_in_bulk_equals_byte_reads(gyro: bool, inc: bool) -> None:
    """What a streaming controller does (preview_reads, then i2c_replay of the bytes it served: the FIFO words
    without the register dispatch, values prefetched in one numpy step) leaves the chip as the same bytes read one
    by one do: bytes, FIFO, word position, address, counts (samples read, empty reads), INT1. Bursts from L and from
    H, odd lengths (a word half read), past the FIFO's end (empty reads), with and without auto-increment."""
    chips = [_setup(gyro) for _ in range(2)]
    for _host, _dev, m, _data in chips:
        m.write(ADDR, 0x10, 0x40)
        m.write(ADDR, 0x11, 0x40 if gyro else 0x00)
        m.write(ADDR, 0x12, 0x04 if inc else 0x00)  # CTRL3_C IF_INC
        m.write(ADDR, 0x08, 0x09 if gyro else 0x01)
        m.write(ADDR, 0x0D, 0x08)
        m.write(ADDR, 0x06, 30)
        m.write(ADDR, 0x0A, (4 << 3) | 6)
    (h1, d1, m1, _), (h2, d2, _m2, _) = chips
    t = 0
    for sub, n in ((0x3E, 37), (0x3F, 20), (0x3E, 1), (0x3F, 151), (0x3E, 40), (0x3F, 3), (0x3E, 400)):
        t += 17 * PERIOD // 3
        h1.advance_to(t)
        h2.advance_to(t)
        one_by_one = m1.read(ADDR, sub, n)
        d2.i2c_start(ADDR, False)
        d2.i2c_write(sub)
        d2.i2c_start(ADDR, True)
        preview = d2.preview_reads(d2._ptr, d2._inc, n)
        replay = d2.i2c_replay(n)
        d2.i2c_stop()
        assert preview == replay == one_by_one
        assert _chip_state(d2) == _chip_state(d1)
    assert d1.stats_.counts.get("fifo_empty_reads", 0) > 0 and d1.stats_.counts["accel_samples_read"] > 20


def test_fifo_drain_replay_reuses_only_a_preview_that_still_holds() -> None:
    """The replay reuses the preview's bytes only for the drain it told (Lsm6dsl._drain_key): a shorter replay (the
    transfer taken back early), one after a sample arrived, and one after the full scale changed are computed
    afresh, and every replay leaves the chip as the same bytes read one by one do (bytes, FIFO, counts, INT1)."""
    chips = [_setup(True) for _ in range(2)]
    for _host, _dev, m, _data in chips:
        m.write(ADDR, 0x10, 0x40)
        m.write(ADDR, 0x11, 0x40)
        m.write(ADDR, 0x12, 0x04)  # CTRL3_C IF_INC
        m.write(ADDR, 0x08, 0x09)
        m.write(ADDR, 0x0D, 0x08)
        m.write(ADDR, 0x06, 30)
        m.write(ADDR, 0x0A, (4 << 3) | 6)
    (h1, d1, m1, _), (h2, d2, m2, _) = chips
    t = 0
    reused = []
    computed: list[int] = []  # _fifo_bytes calls of d2: its replays that did not reuse the preview
    fifo_bytes = d2._fifo_bytes

    def counted(*args: Any) -> Any:
        computed.append(1)
        return fifo_bytes(*args)

    d2._fifo_bytes = counted  # type: ignore[method-assign]
    # (bytes previewed, bytes replayed, time advanced between them in periods, CTRL1_XL written between them)
    for n, got, late, fs in ((60, 60, 0, None), (60, 25, 0, None), (48, 48, 1, None), (36, 36, 0, 0x48),
                             (24, 24, 0, None)):
        t += 7 * PERIOD
        h1.advance_to(t)
        h2.advance_to(t)
        d2.i2c_start(ADDR, False)
        d2.i2c_write(0x3E)
        d2.i2c_start(ADDR, True)
        preview = d2.preview_reads(d2._ptr, d2._inc, n)
        assert d2._drain_plan is not None
        if fs is not None:  # the full scale behind the preview's values changes (only a test can do this mid-read)
            d2.values["CTRL1_XL"] = fs
            m1.write(ADDR, 0x10, fs)
        t += late * PERIOD
        h1.advance_to(t)
        h2.advance_to(t)
        before = len(computed)
        replay = d2.i2c_replay(got)
        d2.i2c_stop()
        reused.append(len(computed) == before)
        assert replay == m1.read(ADDR, 0x3E, got)
        assert (replay == preview[:got]) is (fs is None) and d2._drain_plan is None
        assert _chip_state(d2) == _chip_state(d1)
    assert reused == [True, False, False, False, True]
    assert d1.stats_.counts["accel_samples_read"] >= 15 and d1.stats_.counts["gyro_samples_read"] >= 15


def _accel_chip(end_rule: str, rows: int) -> tuple[FakeHost, Lsm6dsl, np.ndarray]:
    host = FakeHost(mhz=MHZ)
    dev = Lsm6dsl(DeviceConfig("imu", "lsm6dsl", address=ADDR), host)
    data = np.random.default_rng(3).uniform(-3, 3, (rows, 3))
    dev.attach(ArraySource("imu.csv", data, channels=("ax", "ay", "az"), units=("g",) * 3, rate_hz=104.0,
                           end_rule=end_rule))
    I2CMaster(_bus_with(dev)).write(ADDR, 0x10, 0x40)  # CTRL1_XL: 104 Hz, +-2 g: the accelerometer runs
    return host, dev, data


def _bus_with(dev: Lsm6dsl) -> I2CBus:
    bus = I2CBus("i2c2")
    bus.attach(dev, ADDR)
    return bus


@pytest.mark.parametrize(("k0", "n", "cached"), [(5, 25, False), (5, 25, True), (7, 1, True), (7, 1, False),
                                                 (-2, 4, False), (40, 300, False)])
def test_sample_run_counts_and_caches_as_one_call_per_sample(k0: int, n: int, cached: bool) -> None:
    """OutputLatch.sample_run(k0, n) (a drain's replay) leaves the count of samples read and the latch's cache as the
    n calls sample(k0), ..., sample(k0+n-1) do: the first counts nothing when the cache already holds it, samples
    before the first count nothing, and the values cached are the last sample's (numpy from the recording)."""
    chips = [_accel_chip("hold", 400) for _ in range(2)]
    for _host, dev, _data in chips:
        latch = dev.latches["XL"]
        latch.prefetch(list(range(max(k0, 0), max(k0, 0) + 30)))
        if cached:
            latch.sample(k0)
    (_, d1, data), (_, d2, _) = chips
    l1, l2 = d1.latches["XL"], d2.latches["XL"]
    for k in range(k0, k0 + n):
        l1.sample(k)
    l2.sample_run(k0, n)
    assert d1.stats_.counts == d2.stats_.counts
    assert l1._cache is not None and l2._cache is not None and l1._cache[0] == l2._cache[0]
    last = k0 + n - 1
    want = np.clip(np.rint(data[min(last, 399)] * 1000 / XL_SENS[0]), -32768, 32767).astype(np.int64)
    assert l2._cache[1].tolist() == (want.tolist() if last >= 0 else [0, 0, 0])
    # one per sample at or after the first: a priming sample(k0) counted one, and the run's first call then nothing
    assert d2.stats_.counts.get("accel_samples_read", 0) == len([k for k in range(k0, k0 + n) if k >= 0])


def test_prefetched_block_bytes_equal_the_recording_and_stop_at_an_error_end() -> None:
    """A prefetch computes the samples asked for and the next ones (OutputLatch.AHEAD) in one step: block_bytes of
    any run of them equals the recording scaled by the full scale, as little-endian 16-bit words (numpy); on a
    recording whose end rule is ``error`` it never asks past the end (which would raise), and a change of the full
    scale is never served from the old block."""
    _host, dev, data = _accel_chip("error", 120)
    latch = dev.latches["XL"]
    latch.prefetch(list(range(100, 110)))  # AHEAD would reach 356: the recording ends at 120
    counts = np.clip(np.rint(data * 1000 / XL_SENS[0]), -32768, 32767).astype(np.int64)
    assert latch.block_bytes(100, 20) == (counts[100:120] & 0xFFFF).astype("<u2").tobytes()
    assert latch.block_bytes(100, 21) is None and latch.block_bytes(99, 2) is None
    _host, dev, data = _accel_chip("hold", 400)
    latch = dev.latches["XL"]
    latch.prefetch([3, 4, 5])
    counts = np.clip(np.rint(data * 1000 / XL_SENS[0]), -32768, 32767).astype(np.int64)
    assert latch.block_bytes(3, latch.AHEAD) == (counts[3:3 + latch.AHEAD] & 0xFFFF).astype("<u2").tobytes()
    dev.values["CTRL1_XL"] = 0x48  # +-4 g: the block's values are stale
    assert latch.block_bytes(3, 3) is None
    assert latch.sample(4).tolist() == np.clip(np.rint(data[4] * 1000 / XL_SENS[2]), -32768, 32767).tolist()
