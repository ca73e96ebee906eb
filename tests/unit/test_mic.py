"""Microphones driven through their registers on a fake host: DMA timing, RAM contents, overruns."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simcore.errors import BadInputError
from simcore.peripherals.sensors.mic import Nrf52Pdm, SimcoreMic
from simcore.peripherals.sensors.testing import FakeHost, peripheral
from simcore.sources import open_source
from simcore.sources.base import ArraySource
from simcore.sources.wav import write_wav

RAM = 0x20000000
IRQ = 7


def _wav(tmp_path: Path, n: int = 16000 * 2, rate: int = 16000) -> tuple[Path, np.ndarray]:
    x = np.random.default_rng(7).integers(-32768, 32768, size=n).astype(np.int16)
    write_wav(tmp_path / "speech.wav", x, rate)
    return tmp_path / "speech.wav", x


def _mic(host: FakeHost, path: Path | None = None, **opts: object) -> SimcoreMic:
    if path is not None:
        opts["source"] = str(path)
    return SimcoreMic(peripheral("mic0", "simcore_mic", irq=IRQ, **opts), host)


def _arm(mic: SimcoreMic, length: int = 1024, rate: int = 16000) -> None:
    mic.write(0x0C, 4, rate)  # RATE
    mic.write(0x10, 4, RAM)  # DMA_ADDR
    mic.write(0x14, 4, length)  # DMA_LEN (two halves)
    mic.write(0x08, 4, 0b111)  # INTEN: HT, TC, OVR
    mic.write(0x00, 4, 0b11)  # CTRL: EN | DMA


def _ram_i16(host: FakeHost, addr: int, n: int) -> np.ndarray:
    return np.frombuffer(host.mem_read(addr, 2 * n), dtype="<i2")


def test_dma_half_and_full_transfer_timing_and_data(tmp_path: Path) -> None:
    path, x = _wav(tmp_path)
    host = FakeHost(mhz=64)
    mic = _mic(host, path)
    _arm(mic)
    cps_per_sample = 64e6 / 16000  # 4000 cycles per sample
    ht = round(512 * cps_per_sample)
    host.advance_to(ht - 1)
    assert host.irq_rises(IRQ) == []
    assert mic.read(0x04, 4) & 0b11 == 0
    host.advance_to(ht)
    assert host.irq_rises(IRQ) == [ht]
    assert mic.read(0x04, 4) & 0b11 == 0b01  # HT
    np.testing.assert_array_equal(_ram_i16(host, RAM, 512), x[:512])
    mic.write(0x04, 4, 0b01)  # clear HT: line drops
    assert host.irq_levels[IRQ] is False
    host.advance_to(2 * ht)
    assert host.irq_rises(IRQ) == [ht, 2 * ht]
    assert mic.read(0x04, 4) & 0b11 == 0b10  # TC
    np.testing.assert_array_equal(_ram_i16(host, RAM + 1024, 512), x[512:1024])
    mic.write(0x04, 4, 0b10)
    host.advance_to(3 * ht)  # the ring wraps: third half lands in the first half again
    np.testing.assert_array_equal(_ram_i16(host, RAM, 512), x[1024:1536])
    assert mic.read(0x28, 4) == 0  # OVERRUN_COUNT
    assert mic.read(0x2C, 4) == 1536  # SAMPLE_COUNT
    # events are per half-buffer, never per sample
    assert len([t for _, t in host.fired if t.startswith("mic0")]) == 3
    # DMA_POS is computed from the clock between events
    host.advance_to(3 * ht + round(100 * cps_per_sample))
    assert mic.read(0x18, 4) == (1536 + 100) % 1024


def test_not_rearmed_in_time_is_an_overrun_with_timestamp(tmp_path: Path) -> None:
    path, x = _wav(tmp_path)
    host = FakeHost(mhz=48)
    mic = _mic(host, path)
    _arm(mic, length=512)
    per_half = 256 * 48e6 / 16000
    host.advance_to(math.ceil(3 * per_half))  # HT, TC, HT again: the firmware cleared nothing
    assert mic.read(0x28, 4) == 2
    assert mic.read(0x04, 4) & 0b100
    st = mic.stats()
    assert st["overruns"] == 2
    cycles = [e["cycle"] for e in st["events"] if e["kind"] == "overruns"]
    assert cycles == [round(2 * per_half), round(3 * per_half)]
    assert st["events"][0]["time_s"] == pytest.approx(512 / 16000)
    # a late clear is recorded as a late service
    mic.write(0x04, 4, 0b111)
    assert mic.stats()["late_services"] >= 1


def test_enable_later_sees_the_recording_of_that_moment(tmp_path: Path) -> None:
    path, x = _wav(tmp_path)
    host = FakeHost(mhz=16)
    host.advance_to(1000 * 1000 + 1)  # samples 0..999 are complete; sample 1000 is the first to complete after enable
    mic = _mic(host, path)
    _arm(mic, length=200)
    host.advance_to(host.cycles + 200 * 1000)
    np.testing.assert_array_equal(_ram_i16(host, RAM, 100), x[1000:1100])


def test_rate_mismatch_is_an_error_unless_resampling(tmp_path: Path) -> None:
    path, x = _wav(tmp_path, n=8000, rate=8000)
    host = FakeHost()
    mic = _mic(host, path)
    with pytest.raises(BadInputError, match="8000 Hz but the peripheral's sample rate is 16000 Hz"):
        _arm(mic)
    mic2 = _mic(FakeHost(), path, resample=True)
    _arm(mic2)  # no error: converted once to 16 kHz
    assert mic2.binding is not None and mic2.binding.source.rate_hz == 16000


def test_no_source_attached_is_a_clear_error() -> None:
    mic = _mic(FakeHost())
    with pytest.raises(BadInputError, match="no recording attached"):
        _arm(mic)


def test_fifo_mode_watermark_overrun_and_data() -> None:
    data = (np.arange(1000) * 7 - 3000).astype(np.int16)
    host = FakeHost(mhz=1)  # 1 MHz, 1 kHz: 1000 cycles per sample
    mic = _mic(host, fifo_depth=16)
    mic.attach(ArraySource("mem", data, channels=("mono",), rate_hz=1000.0, full_scale=32768.0))
    mic.write(0x0C, 4, 1000)
    mic.write(0x24, 4, 4)  # FIFO_WM
    mic.write(0x08, 4, 0b1100)  # INTEN: OVR | WM
    mic.write(0x00, 4, 1)  # EN, FIFO mode
    host.advance_to(3999)
    assert host.irq_rises(IRQ) == []
    host.advance_to(4000)
    assert host.irq_rises(IRQ) == [4000]
    assert mic.read(0x20, 4) == 4
    got = [mic.read(0x1C, 4) for _ in range(4)]
    assert [v - (1 << 32) if v & 0x80000000 else v for v in got] == data[:4].tolist()
    assert host.irq_levels[IRQ] is False
    host.advance_to(4000 + 30 * 1000)  # 30 more arrive into 16 slots: 14 lost
    assert mic.read(0x20, 4) == 16
    assert mic.read(0x28, 4) == 1
    st = mic.stats()
    assert st["samples_lost"] == 14
    assert [e["cycle"] for e in st["events"] if e["kind"] == "overruns"] == [4000 + 17 * 1000]
    first = mic.read(0x1C, 4)
    assert (first - (1 << 32) if first & 0x80000000 else first) == int(data[4])


def test_end_of_data_stop_rule(tmp_path: Path) -> None:
    x = np.arange(300, dtype=np.int16)
    write_wav(tmp_path / "short.wav", x, 16000)
    host = FakeHost(mhz=16)
    mic = _mic(host)
    mic.attach(open_source(tmp_path / "short.wav", end="stop"))
    _arm(mic, length=256)
    mic.write(0x08, 4, 0b100111)
    host.advance_to(10**7)
    st = mic.stats()
    assert st["end_of_data"] == 1
    assert mic.read(0x04, 4) & 0b100000
    np.testing.assert_array_equal(_ram_i16(host, RAM, 128), x[256:300].tolist() + x[44:128].tolist())


def test_nrf52_pdm_double_buffering() -> None:
    n = 20000
    data = np.random.default_rng(3).integers(-30000, 30000, size=n).astype(np.int16)
    host = FakeHost(mhz=64)
    pdm = Nrf52Pdm(peripheral("pdm", "nrf52_pdm", base=0x4001D000, irq=29), host)
    pdm.write(0x504, 4, 0x0A000000)  # PDMCLKCTRL 1.280 MHz
    pdm.write(0x520, 4, 1)  # RATIO 80 -> 16 kHz
    pdm.attach(ArraySource("mem", data, channels=("mono",), rate_hz=16000.0, full_scale=32768.0))
    pdm.write(0x508, 4, 1)  # MODE mono
    pdm.write(0x304, 4, 0b101)  # INTENSET STARTED | END
    pdm.write(0x500, 4, 1)  # ENABLE
    pdm.write(0x560, 4, RAM)
    pdm.write(0x564, 4, 256)
    pdm.write(0x000, 4, 1)  # TASKS_START
    assert pdm.read(0x100, 4) == 1 and host.irq_levels[29] is True
    pdm.write(0x100, 4, 0)
    pdm.write(0x560, 4, RAM + 512)  # next buffer
    end1 = round(256 * 4000)
    host.advance_to(end1)
    assert pdm.read(0x108, 4) == 1 and pdm.read(0x100, 4) == 1
    np.testing.assert_array_equal(_ram_i16(host, RAM, 256), data[:256])
    pdm.write(0x108, 4, 0)
    pdm.write(0x100, 4, 0)
    # firmware forgets to hand over a new PTR: the next buffer reuses RAM+512 -> overrun
    host.advance_to(2 * end1)
    np.testing.assert_array_equal(_ram_i16(host, RAM + 512, 256), data[256:512])
    assert pdm.stats()["overruns"] == 1
    assert pdm.stats()["events"][0]["cycle"] == 2 * end1
    pdm.write(0x004, 4, 1)  # TASKS_STOP
    assert pdm.read(0x104, 4) == 1


@pytest.mark.parametrize("rule", ["loop", "hold", "error"])
def test_end_rules_through_the_dma(rule: str) -> None:
    x = (np.arange(300) - 150).astype(np.int16)
    host = FakeHost(mhz=16)
    mic = _mic(host)
    mic.attach(ArraySource("short.wav", x, channels=("mono",), rate_hz=16000.0, full_scale=32768.0, end_rule=rule))
    _arm(mic, length=400)  # halves of 200 samples
    host.advance_to(200 * 1000)
    if rule == "error":
        from simcore.sources import EndOfDataError

        with pytest.raises(EndOfDataError, match="short.wav.*end rule is 'error'"):
            host.advance_to(400 * 1000)
        return
    host.advance_to(400 * 1000)
    second = _ram_i16(host, RAM + 400, 200)
    expect = np.concatenate([x[200:], x[:100]]) if rule == "loop" else np.concatenate([x[200:], np.full(100, x[-1])])
    np.testing.assert_array_equal(second, expect)


def test_align_enable_starts_the_recording_at_enable(tmp_path: Path) -> None:
    path, x = _wav(tmp_path)
    host = FakeHost(mhz=16)
    host.advance_to(5_000_000)
    mic = _mic(host, path, align="enable")
    _arm(mic, length=200)
    host.advance_to(host.cycles + 100 * 1000)
    np.testing.assert_array_equal(_ram_i16(host, RAM, 100), x[:100])


def test_unknown_board_option_is_rejected() -> None:
    with pytest.raises(BadInputError, match="unknown option.*fifo_size"):
        _mic(FakeHost(), fifo_size=3)


def test_nrf52_pdm_stereo_interleaves_left_and_right() -> None:
    rng = np.random.default_rng(9)
    data = rng.integers(-30000, 30000, size=(1000, 2)).astype(np.int16)
    host = FakeHost(mhz=64)
    pdm = Nrf52Pdm(peripheral("pdm", "nrf52_pdm", base=0x4001D000, irq=29), host)
    pdm.attach(ArraySource("st.wav", data, channels=("left", "right"), rate_hz=32e6 / 31 / 64, full_scale=32768.0))
    pdm.write(0x304, 4, 0b100)  # INTENSET END
    pdm.write(0x500, 4, 1)
    pdm.write(0x560, 4, RAM)
    pdm.write(0x564, 4, 200)  # 200 half-words = 100 stereo frames
    pdm.write(0x000, 4, 1)
    end = math.ceil(100 * 64e6 / (32e6 / 31 / 64))
    host.advance_to(end - 1)
    assert pdm.read(0x108, 4) == 0
    host.advance_to(end)
    assert pdm.read(0x108, 4) == 1 and host.irq_rises(29) == [end]
    np.testing.assert_array_equal(_ram_i16(host, RAM, 200), data[:100].reshape(-1))
