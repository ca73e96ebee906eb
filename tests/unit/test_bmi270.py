"""BMI270 through its registers: the configuration-file handshake (init_ok / init_err), data scaling with
LSB shadowing, header-mode FIFO frames, watermark on INT1, FIFO overrun, SPI's dummy byte."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from simcore.devices.base import DeviceConfig
from simcore.devices.bmi270 import Bmi270
from simcore.devices.bus import I2CBus, Line, SpiBus
from simcore.devices.testing import I2CMaster, SpiMaster, s16
from simcore.peripherals.sensors.testing import FakeHost
from simcore.sources.base import ArraySource

ADDR = 0x68
MHZ = 10.0
PERIOD = 100_000  # 100 Hz at 10 MHz
CONFIG = bytes((i * 7 + 3) & 0xFF for i in range(8192))  # a stand-in for Bosch's file (its content is not checked)


def _setup(**opts: object) -> tuple[FakeHost, Bmi270, I2CMaster, np.ndarray]:
    host = FakeHost(mhz=MHZ)
    dev = Bmi270(DeviceConfig("imu", "bmi270", address=ADDR, options=dict(opts)), host)
    rng = np.random.default_rng(4)
    data = np.column_stack([rng.uniform(-5, 5, (500, 3)), rng.uniform(-700, 700, (500, 3))])
    dev.attach(ArraySource("imu.csv", data, channels=("ax", "ay", "az", "gx", "gy", "gz"),
                           units=("g",) * 3 + ("dps",) * 3, rate_hz=100.0))
    bus = I2CBus("i2c1")
    bus.attach(dev, ADDR)
    return host, dev, I2CMaster(bus), data


def _load_config(host: FakeHost, m: I2CMaster, config: bytes = CONFIG, chunk: int = 64) -> None:
    """The datasheet's sequence, as the Bosch API performs it."""
    m.write(ADDR, 0x7C, 0x00)  # PWR_CONF: advanced power save off
    host.advance_to(host.cycles + 4500)  # 450 us
    m.write(ADDR, 0x59, 0x00)  # INIT_CTRL = 0
    for index in range(0, len(config), chunk):
        word = index // 2
        m.write(ADDR, 0x5B, word & 0x0F, word >> 4)  # INIT_ADDR_0/1 (auto-increment)
        m.write(ADDR, 0x5E, *config[index:index + chunk])  # burst into INIT_DATA (the address is trapped)
    m.write(ADDR, 0x59, 0x01)


def _acc(data: np.ndarray, g: int) -> np.ndarray:
    return np.clip(np.rint(data[:, :3] / g * 32768), -32768, 32767).astype(np.int64)


def _gyr(data: np.ndarray, dps: int) -> np.ndarray:
    return np.clip(np.rint(data[:, 3:] / dps * 32768), -32768, 32767).astype(np.int64)


def test_configuration_handshake() -> None:
    host, dev, m, _ = _setup(config_sha256=hashlib.sha256(CONFIG).hexdigest())
    assert m.read(ADDR, 0x00) == [0x24] and m.read(ADDR, 0x21) == [0x00]
    _load_config(host, m)
    start = host.cycles
    host.advance_to(start + 199_999)
    assert m.read(ADDR, 0x21) == [0x00]
    host.advance_to(start + 200_000)  # 20 ms
    assert m.read(ADDR, 0x21) == [0x01]
    assert dev.stats()["config_loaded"] is True


def test_incomplete_or_wrong_configuration_is_init_err() -> None:
    host, dev, m, _ = _setup()
    _load_config(host, m, CONFIG[:4096])
    host.advance_to(host.cycles + 200_000)
    assert m.read(ADDR, 0x21) == [0x02]
    assert "4096 of 8192 bytes" in dev.stats()["events"][0]["what"]
    host2, dev2, m2, _ = _setup(config_sha256="00" * 32)
    _load_config(host2, m2)
    host2.advance_to(host2.cycles + 200_000)
    assert m2.read(ADDR, 0x21) == [0x02]


def test_upload_with_advanced_power_save_on_is_a_firmware_error() -> None:
    host, dev, m, _ = _setup()
    m.write(ADDR, 0x59, 0x00)
    m.write(ADDR, 0x5E, 1, 2, 3)
    assert "imu.INIT_DATA" in host.unmodelled and "imu.PWR_CONF" in host.unmodelled


@pytest.mark.parametrize(("acc_range", "gyr_range"), [(0, 0), (1, 4), (2, 2), (3, 3)])
def test_data_registers_scaled_by_range(acc_range: int, gyr_range: int) -> None:
    host, dev, m, data = _setup()
    _load_config(host, m)
    host.advance_to(host.cycles + 200_000)
    m.write(ADDR, 0x40, 0xA8)  # ACC_CONF 100 Hz
    m.write(ADDR, 0x41, acc_range)
    m.write(ADDR, 0x42, 0xA8)  # GYR_CONF 100 Hz
    m.write(ADDR, 0x43, gyr_range)
    m.write(ADDR, 0x7D, 0x0E)  # PWR_CTRL acc, gyr, temp
    start = host.cycles
    for k in (0, 1, 90):
        host.advance_to(start + (k + 1) * PERIOD)
        assert m.read(ADDR, 0x03)[0] & 0xC0 == 0xC0
        b = m.read(ADDR, 0x0C, 12)
        got = [s16(b[i], b[i + 1]) for i in range(0, 12, 2)]
        k_abs = (start + (k + 1) * PERIOD) // PERIOD - 1
        assert got[:3] == _acc(data, (2, 4, 8, 16)[acc_range])[k_abs].tolist()
        assert got[3:] == _gyr(data, (2000, 1000, 500, 250, 125)[gyr_range])[k_abs].tolist()
        assert m.read(ADDR, 0x03)[0] & 0xC0 == 0


def test_fifo_header_frames_watermark_and_over_read() -> None:
    host, dev, m, data = _setup()
    _load_config(host, m)
    host.advance_to(host.cycles + 200_000)
    m.write(ADDR, 0x53, 0x0A)  # INT1: output enabled, active high
    m.write(ADDR, 0x58, 0x02)  # fwm -> INT1
    m.write(ADDR, 0x46, 130, 0)  # watermark 130 bytes = 10 frames of 13
    m.write(ADDR, 0x49, 0xD0)  # gyr, acc, header
    m.write(ADDR, 0x40, 0xA8)
    m.write(ADDR, 0x42, 0xA8)
    m.write(ADDR, 0x7D, 0x06)
    start = host.cycles
    first = start // PERIOD  # index of the first sample after enabling
    host.advance_to((first + 10) * PERIOD - 1)
    assert dev.lines["INT1"].level is False
    host.advance_to((first + 10) * PERIOD)
    assert dev.lines["INT1"].level is True
    lo, hi = m.read(ADDR, 0x24, 2)
    assert lo | hi << 8 == 130
    raw = m.read(ADDR, 0x26, 130 + 5)  # 10 frames, then a sensor-time frame and an over-read
    for j in range(10):
        frame = raw[13 * j: 13 * (j + 1)]
        assert frame[0] == 0x8C
        vals = [s16(frame[1 + i], frame[2 + i]) for i in range(0, 12, 2)]
        assert vals[:3] == _gyr(data, 2000)[first + j].tolist() and vals[3:] == _acc(data, 8)[first + j].tolist()
    assert raw[130] == 0x44 and raw[134] == 0x80
    assert m.read(ADDR, 0x1D)[0] & 0x02 and m.read(ADDR, 0x1D) == [0x00]  # cleared by reading
    assert dev.lines["INT1"].level is False


def test_fifo_overrun_stop_on_full() -> None:
    host, dev, m, data = _setup()
    _load_config(host, m)
    host.advance_to(host.cycles + 200_000)
    m.write(ADDR, 0x48, 0x01)  # stop on full, no sensor time
    m.write(ADDR, 0x49, 0x40)  # acc only, headerless
    m.write(ADDR, 0x40, 0xA8)
    m.write(ADDR, 0x7D, 0x04)
    start = host.cycles
    first = start // PERIOD
    host.advance_to((first + 400) * PERIOD)
    st = dev.stats()
    assert st["overruns"] == 1 and st["fifo_frames_lost"] == 400 - 341  # 2048 // 6 frames fit
    assert st["events"][-1]["cycle"] == (first + 342) * PERIOD
    raw = m.read(ADDR, 0x26, 12)
    assert [s16(raw[i], raw[i + 1]) for i in range(0, 12, 2)] == _acc(data, 8)[first:first + 2].reshape(-1).tolist()


def test_spi_reads_have_a_dummy_byte() -> None:
    host = FakeHost(mhz=MHZ)
    dev = Bmi270(DeviceConfig("imu", "bmi270"), host)
    bus, cs = SpiBus("spi1"), Line("cs", True)
    bus.attach(dev, cs)
    spi = SpiMaster(bus, cs, mode=0)
    assert spi.read(0x80, 1, dummy=1) == [0x24]
    spi.write(0x7C, 0x00)
    assert spi.read(0x80 | 0x7C, 1, dummy=1) == [0x00]


# --- bursts a controller moves at once (the nRF52 TWIM's EasyDMA): I2CBus.write_block / read_block ------------------
def _state(dev: Bmi270) -> dict[str, object]:
    """Everything a burst leaves in the chip: counters and events, FIFO, the frame being read, flags, lines, latches,
    the configuration file and the planned wake-up."""
    fifo = dev.fifo
    return {"stats": dev.stats(), "fifo": ([list(r) for r in fifo.runs], fifo.level, fifo.next_k, fifo.overrun,
                                           fifo.stopped, fifo._losing),
            "frame": (list(dev._frame), dev._frame_is_data, dev._time_frame_sent), "int_status": dev._int_status,
            "lines": {p: line.level for p, line in dev.lines.items()},
            "latches": {w: (latch.last_read, None if latch._cache is None else
                            (latch._cache[0], np.asarray(latch._cache[1]).tolist()))
                        for w, latch in dev.latches.items()},
            "config": (bytes(dev._config), bytes(dev._written), dev._init_ptr),
            "wake": getattr(dev._wake, "at_fs", None), "values": dict(dev.values)}


def _twins(**opts: object) -> tuple[tuple[FakeHost, Bmi270, I2CMaster, np.ndarray], ...]:
    return _setup(**opts), _setup(**opts)


def _burst_write(m: I2CMaster, sub: int, data: bytes) -> int:
    """START, address+W, then the sub-address and ``data`` as one block (what the TWIM's TXD buffer holds), STOP."""
    assert m.bus.start(ADDR, False)
    acked = m.bus.write_block(bytes([sub]) + data)
    m.bus.stop()
    return acked


def _burst_read(m: I2CMaster, sub: int, n: int) -> list[int]:
    assert m.bus.start(ADDR, False) and m.bus.write(sub) and m.bus.start(ADDR, True)
    out = list(m.bus.read_block(n))
    m.bus.stop()
    return out


@pytest.mark.parametrize("case", ["whole", "chunks", "past_end", "power_save_on"])
def test_configuration_burst_equals_byte_writes(case: str) -> None:
    """The configuration file in one block (Bmi270.i2c_write_block) leaves the chip as byte-by-byte writes do: the
    file, which bytes arrived, INIT_DATA's pointer, the reports (bytes past the file's end, power save on) and the
    handshake's outcome 20 ms later."""
    (h1, d1, m1, _), (h2, d2, m2, _) = _twins()
    for host, m in ((h1, m1), (h2, m2)):
        if case != "power_save_on":
            m.write(ADDR, 0x7C, 0x00)
            host.advance_to(host.cycles + 4500)
        m.write(ADDR, 0x59, 0x00)
    data = CONFIG + b"\x11\x22\x33" if case == "past_end" else CONFIG
    parts = [(i, data[i:i + 1000]) for i in range(0, len(data), 1000)] if case == "chunks" else [(0, data)]
    for index, part in parts:
        for m in (m1, m2):
            m.write(ADDR, 0x5B, (index // 2) & 0x0F, (index // 2) >> 4)
        assert _burst_write(m1, 0x5E, part) == len(part) + 1
        assert m2.write(ADDR, 0x5E, *part)
    for host, m in ((h1, m1), (h2, m2)):
        m.write(ADDR, 0x59, 0x01)
        host.advance_to(host.cycles + 200_000)
    assert m1.read(ADDR, 0x21) == m2.read(ADDR, 0x21) == [0x02 if case == "power_save_on" else 0x01]
    assert _state(d1) == _state(d2)
    assert h1.unmodelled == h2.unmodelled
    assert ("imu.INIT_DATA" in h1.unmodelled) == (case in ("past_end", "power_save_on"))


def _fifo_running(host: FakeHost, m: I2CMaster, config1: int, config0: int) -> int:
    _load_config(host, m)
    host.advance_to(host.cycles + 200_000)
    m.write(ADDR, 0x53, 0x0A)  # INT1: output enabled, active high
    m.write(ADDR, 0x58, 0x02)  # fwm -> INT1
    m.write(ADDR, 0x46, 60, 0)  # watermark 60 bytes
    m.write(ADDR, 0x48, config0)
    m.write(ADDR, 0x49, config1)
    m.write(ADDR, 0x40, 0xA8)
    m.write(ADDR, 0x42, 0xA8)
    m.write(ADDR, 0x7D, 0x06)
    return host.cycles // PERIOD


@pytest.mark.parametrize(("config1", "config0"), [(0xC0, 0x00), (0xD0, 0x02), (0x40, 0x02), (0x80, 0x00)])
def test_fifo_burst_equals_byte_reads(config1: int, config0: int) -> None:
    """FIFO_DATA read as one block (Bmi270.i2c_read_block) gives the bytes, and leaves FIFO, frame in progress,
    latches, counters, INT1 and the planned wake-up, as byte-by-byte reads do: bursts that end inside a frame, that
    start in the rest of one, that run past the last frame (a sensor-time frame when fifo_time_en, then 80h), for
    headerless and header frames of both sensors or one. The frames equal the recording's samples (numpy)."""
    (h1, d1, m1, data), (h2, d2, m2, _) = _twins()
    first = _fifo_running(h1, m1, config1, config0)
    assert _fifo_running(h2, m2, config1, config0) == first
    sets = [w for w, bit in (("gyr", 0x80), ("acc", 0x40)) if config1 & bit]
    size = 6 * len(sets) + (1 if config1 & 0x10 else 0)
    expect = []
    for k in range(first, first + 40):  # each frame's bytes from the recording, as the datasheet lays them out
        frame = [0x80 | (0x08 if "gyr" in sets else 0) | (0x04 if "acc" in sets else 0)] if config1 & 0x10 else []
        for w in sets:
            vals = _gyr(data, 2000)[k] if w == "gyr" else _acc(data, 8)[k]
            frame += [b for v in vals.tolist() for b in ((v & 0xFF), (v >> 8) & 0xFF)]
        expect += frame
    got = []
    for at, n in ((12, 7), (12, 2 * size + 3), (25, 4 * size), (25, 1), (40, 60 * size)):
        for host in (h1, h2):
            host.advance_to((first + at) * PERIOD)
        block, single = _burst_read(m1, 0x26, n), m2.read(ADDR, 0x26, n)
        assert block == single
        got += block
        assert _state(d1) == _state(d2)
    for host in (h1, h2):  # one new frame, whose samples a read of the data registers latches first
        host.advance_to((first + 41) * PERIOD)
    assert m1.read(ADDR, 0x0C, 12) == m2.read(ADDR, 0x0C, 12)
    assert _burst_read(m1, 0x26, size) == m2.read(ADDR, 0x26, size)
    assert _state(d1) == _state(d2)
    frames = len(expect) // size
    assert got[:frames * size] == expect[:frames * size]
    assert d1.stats()["fifo_over_reads"] > 0
    if config0 & 0x02:
        assert 0x44 in got[frames * size:]


@pytest.mark.parametrize("config1", [0x40, 0xC0, 0xD0])
def test_read_offer_is_the_next_drain_and_changes_nothing(config1: int) -> None:
    """Bmi270.read_offer (the nRF52 TWIM's drain done in C): only right after a transaction that read FIFO_LENGTH,
    and then the bytes the burst read of FIFO_DATA gives (a shorter read takes whole frames of it), with nothing of
    the chip changed by asking (a twin never asked ends the same); none for header frames. reads_plan_nothing only
    while the watermark routed to INT1 is latched (a read could plan the watermark's wake-up before)."""
    (h1, d1, m1, _), (h2, d2, m2, _) = _twins()
    first = _fifo_running(h1, m1, config1, 0x00)
    assert _fifo_running(h2, m2, config1, 0x00) == first
    size = 6 * bin(config1 & 0xC0).count("1")
    for host in (h1, h2):
        host.advance_to((first + 2) * PERIOD)
    assert not d1.reads_plan_nothing() and d1.read_offer() is None  # below the watermark (60 bytes)
    for host in (h1, h2):
        host.advance_to((first + 14) * PERIOD)
    status = _burst_read(m1, 0x1D, 1)
    assert status == _burst_read(m2, 0x1D, 1) and status[0] & 0x02  # fwm (latched again: the level is above it)
    for host in (h1, h2):
        host.advance_to((first + 25) * PERIOD)
    assert d1.read_offer() is None  # the last transaction read INT_STATUS_1, not FIFO_LENGTH
    length = _burst_read(m1, 0x24, 2)
    assert _burst_read(m2, 0x24, 2) == length
    level = (length[0] | length[1] << 8) // size
    assert level >= 10 and d1.reads_plan_nothing()
    offer = d1.read_offer()
    if config1 & 0x10:
        assert offer is None
        return
    assert offer is not None and offer[0] == 0x26 and offer[2] == size and len(offer[1]) == level * size
    assert _state(d1) == _state(d2)
    got = _burst_read(m1, 0x26, 3 * size)
    assert got == _burst_read(m2, 0x26, 3 * size) == list(offer[1][:3 * size])
    assert _state(d1) == _state(d2)
    assert d1.read_offer() is None  # (the drain read no FIFO_LENGTH)
    rest = _burst_read(m1, 0x24, 2)
    assert rest == _burst_read(m2, 0x24, 2)
    again = d1.read_offer()
    assert again is not None and again[1] == offer[1][3 * size:]
    assert _burst_read(m1, 0x26, len(again[1])) == _burst_read(m2, 0x26, len(again[1])) == list(again[1])
    assert _state(d1) == _state(d2)
