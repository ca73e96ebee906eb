"""The bus-device interface: I2C addressing and acknowledges, SPI chip selects and modes, lines, RateClock, the
sample FIFO's catch-up."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest

from simcore.devices import device_for, known_devices
from simcore.devices.base import FS_PER_SECOND, DeviceConfig, RateClock
from simcore.devices.bus import I2CBus, I2CTarget, Line, SpiBus, SpiTarget
from simcore.devices.fifo import FifoMode, SampleFifo
from simcore.devices.testing import I2CMaster, SpiMaster
from simcore.errors import BadInputError
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource


def _lis3dh(host: FakeHost, **opts: object) -> object:
    return device_for("lis3dh")(DeviceConfig("acc", "lis3dh", options=dict(opts)), host)


def test_every_registered_device_satisfies_the_target_protocols() -> None:
    from simcore.devices.pdm import PdmMicrophone

    for name in sorted(known_devices()):
        cls = device_for(name)
        assert cls.TYPE == name
        dev = cls(DeviceConfig(name, name), FakeHost())
        if isinstance(dev, PdmMicrophone):
            continue  # not on a register bus: an audio input clocks it
        assert isinstance(dev, I2CTarget)
        if cls.SPI_MODES:
            assert isinstance(dev, SpiTarget)


def test_empty_bus_and_unknown_address_nack() -> None:
    bus = I2CBus("i2c1")
    assert bus.start(0x19, False) is False
    assert bus.write(0x0F) is False and bus.read() == 0xFF
    bus.attach(_lis3dh(FakeHost()), 0x19)  # type: ignore[arg-type]
    assert bus.start(0x18, True) is False
    assert bus.stats()["nacked_addresses"] == {"0x19": 1, "0x18": 1}
    assert I2CMaster(bus).read(0x19, 0x0F) == [0x33]


def test_address_conflicts_and_reserved_addresses_are_refused() -> None:
    bus = I2CBus("i2c1")
    bus.attach(_lis3dh(FakeHost()), 0x19)  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="both at I2C address 0x19"):
        bus.attach(_lis3dh(FakeHost()), 0x19)  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="reserved"):
        bus.attach(_lis3dh(FakeHost()), 0x78)  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="address pin selects 0x18, 0x19"):
        device_for("lis3dh")(DeviceConfig("acc", "lis3dh", address=0x1A), FakeHost())


def test_repeated_start_keeps_the_register_pointer() -> None:
    bus = I2CBus("i2c1")
    dev = _lis3dh(FakeHost())
    bus.attach(dev, 0x19)  # type: ignore[arg-type]
    m = I2CMaster(bus)
    assert m.write(0x19, 0x24 | 0x80, 0x08, 0x02, 0x5A)  # CTRL_REG5, CTRL_REG6, REFERENCE, auto-increment
    assert m.read(0x19, 0x24 | 0x80, 3) == [0x08, 0x02, 0x5A]
    assert m.read(0x19, 0x26, 3) == [0x5A, 0x5A, 0x5A]  # SUB bit 7 clear: the address stays


def test_spi_chip_select_modes_and_floating_miso() -> None:
    host = FakeHost()
    bus = SpiBus("spi1", report=lambda where, what: host.unmodelled.setdefault(where, what))
    cs = Line("PE3", level=True)
    dev = device_for("lis3dsh")(DeviceConfig("acc", "lis3dsh"), host)
    bus.attach(dev, cs)  # type: ignore[arg-type]
    assert bus.transfer(0x8F) == 0xFF  # not selected: nobody drives MISO
    assert SpiMaster(bus, cs, mode=3).read(0x8F) == [0x3F]
    assert SpiMaster(bus, cs, mode=0).read(0x8F) == [0x3F]
    assert SpiMaster(bus, cs, mode=1).read(0x8F) == [0xFF]
    assert "acc.SPI" in host.unmodelled and "mode 1" in host.unmodelled["acc.SPI"]
    other = Line("PE4", level=False)  # a second device selected at the same time
    bus.attach(device_for("lis3dh")(DeviceConfig("b", "lis3dh"), host), other)  # type: ignore[arg-type]
    SpiMaster(bus, cs).read(0x8F)
    assert "contention" in host.unmodelled["spi1"]


def test_line_listeners_follow_changes_only() -> None:
    seen: list[bool] = []
    line = Line("x")
    line.connect(seen.append)
    line.set(False)
    line.set(True)
    line.set(True)
    line.set(False)
    assert seen == [False, True, False] and line.changes == 2


@pytest.mark.parametrize("rate", [100.0, 119.0, 14.9, 3.125, 1344.0, 1666.0])
def test_rate_clock_is_exact(rate: float) -> None:
    clock = RateClock(rate)
    period = Fraction(FS_PER_SECOND) / Fraction(rate).limit_denominator(1_000_000)
    for k in (0, 1, 7, 10_000, 3_600 * 2000):
        at = clock.arrival(k)
        assert at == (k + 1) * period.numerator // period.denominator  # the femtosecond it completes in
        assert clock.count_by(at) == k + 1 and clock.count_by(at - 1) == k


def test_unknown_option_and_missing_recording() -> None:
    with pytest.raises(BadInputError, match="unknown option"):
        _lis3dh(FakeHost(), odr=100)
    dev = _lis3dh(FakeHost())
    with pytest.raises(BadInputError, match="has no recording"):
        dev.write(0x20, 1, 0x57)  # type: ignore[attr-defined]
    src = ArraySource("t.csv", np.zeros((4, 1)), channels=("temp",), units=("C",), rate_hz=1.0)
    with pytest.raises(BadInputError, match="no acceleration channels ax, ay, az"):
        dev.attach(src)  # type: ignore[attr-defined]


class _NackAfter:
    """An I2C target that acknowledges ``n`` data bytes and NACKs the next (a chip whose buffer is full)."""

    name = "nacker"

    def __init__(self, n: int) -> None:
        self.n, self.got = n, bytearray()

    def i2c_start(self, address: int, read: bool) -> bool:
        return True

    def i2c_write(self, byte: int) -> bool:
        if len(self.got) >= self.n:
            return False
        self.got.append(byte)
        return True

    def i2c_read(self) -> int:
        return 0

    def i2c_stop(self) -> None:
        pass


def test_write_block_stops_at_the_first_nack() -> None:
    """I2CBus.write_block: the bytes acknowledged, nothing sent after a NACK, as ``write`` byte by byte; a chip's
    default ``i2c_write_block`` does the same (a LIS3DH in read phase NACKs the first byte)."""
    bus = I2CBus("i2c1")
    assert bus.write_block(b"\x01\x02") == 0  # no START: nobody listens
    target = _NackAfter(3)
    bus.attach(target, 0x30)  # type: ignore[arg-type]
    assert bus.start(0x30, False) and bus.write_block(b"abcdef") == 3 and bytes(target.got) == b"abc"
    dev = _lis3dh(FakeHost())
    bus.attach(dev, 0x19)  # type: ignore[arg-type]
    assert bus.start(0x19, False) and bus.write_block(bytes([0x24 | 0x80, 0x08, 0x02])) == 3
    assert I2CMaster(bus).read(0x19, 0x24 | 0x80, 2) == [0x08, 0x02]
    assert bus.start(0x19, True) and bus.write_block(b"\x05\x06") == 0  # a read phase takes no data


def _fifo_state(fifo: SampleFifo) -> tuple[object, ...]:
    return ([list(r) for r in fifo.runs], fifo.level, fifo.next_k, fifo.overrun, fifo.stopped, fifo.mode)


@pytest.mark.parametrize("seed", range(4))
def test_fifo_catch_up_before_the_next_arrival_is_the_full_catch_up(seed: int) -> None:
    """SampleFifo.catch_up lets nothing in before ``due`` (the next sample's arrival, kept by the last catch-up):
    fed the same accesses (catch-ups at times on, just before and between arrivals, reads, resets to other rates,
    modes and limits), a FIFO using it and one made to look at its clock every time let in, lose and report the
    same, and no sample arrives before ``due``."""
    rng = random.Random(seed)
    kept = SampleFifo(rng.choice((8, 32)), stop_when_full=rng.random() < 0.5)
    full = SampleFifo(kept.depth, kept.stop_when_full)
    now = 0
    for _ in range(400):
        step = rng.random()
        if step < 0.08 or kept.clock is None:
            clock = RateClock(rng.choice((100.0, 119.0, 1666.0, 3.125)))
            mode = rng.choice(list(FifoMode))
            limit = rng.choice((None, clock.count_by(now) + rng.randrange(0, 60)))
            for f in (kept, full):
                f.reset(mode, clock, clock.count_by(now), limit)
        elif step < 0.25:
            n = rng.randrange(1, 6)
            assert kept.pop_runs(n) == full.pop_runs(n)
        else:
            clock = kept.clock
            k = clock.count_by(now)
            now = rng.choice((now, clock.arrival(k) - 1, clock.arrival(k), clock.arrival(k + rng.randrange(40)),
                              now + rng.randrange(10**13)))
            full.due = -1
            got, want = kept.catch_up(now), full.catch_up(now)
            assert (got is None) == (want is None)
            if got is not None and want is not None:
                assert (got.count, got.first_at, got.new_episode) == (want.count, want.first_at, want.new_episode)
            assert clock.count_by(kept.due - 1) <= kept.next_k  # nothing arrives before it
        assert _fifo_state(kept) == _fifo_state(full)
