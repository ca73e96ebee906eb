"""STM32F4 SPI2 in I2S master receive with the Discovery's MP45DT02 (RM0090 28.4), on a fake clock with the
F4 DMA model: the words in RAM are the microphone's bit stream 16 bits at a time (computed here from the
stream), the DMA's half/complete interrupts come at the exact end of the word that completes each half,
CK follows PLLI2S / (2 * I2SDIV + ODD), and a word not read in time is lost with OVR."""

from __future__ import annotations

import numpy as np

from simcore.board import Device
from simcore.clock import FS_PER_SECOND
from simcore.devices import device_for
from simcore.devices.pdm import PdmStream
from simcore.sources.base import ArraySource
from tests.unit.stm32_bus import BusHost

SPI2, DMA1, RAM = 0x40003800, 0x40026000, 0x20000000
CR2, SR, DR, I2SCFGR, I2SPR = 0x04, 0x08, 0x0C, 0x1C, 0x20
I2SMOD, I2SE, MASTER_RX = 1 << 11, 1 << 10, 3 << 8
RATE = 16000


def _recording() -> ArraySource:
    t = np.arange(RATE // 4) / RATE
    pcm = np.rint(0.5 * np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)[:, None]
    return ArraySource("tone.wav", pcm, channels=("ch0",), units=("FS",), rate_hz=RATE, full_scale=32768.0)


def _setup(lr: str = "rising") -> tuple[BusHost, object, object]:
    host = BusHost()
    host.f4_clocks()
    host.set_clocks(PLLI2SCLK=51.2e6)  # PLLI2S: VCO 256 MHz / R 5
    spi = host.add("spi2", "stm32f4_spi_i2s", SPI2, 36)
    mic = device_for("mp45dt02")(Device("mic", "mp45dt02", "spi2", options={"lr": lr}), host)
    mic.attach(_recording())
    spi.attach_microphone(mic)
    return host, spi, mic


def test_dma_words_are_the_stream_and_flags_come_at_the_word_ends() -> None:
    host, spi, mic = _setup()
    dma = host.add("dma1", "stm32f4_dma", DMA1)
    n = 64  # words in the circular buffer
    base = 0x10 + 0x18 * 3  # stream 3, channel 0 = SPI2_RX (RM0090 Table 42)
    dma.write(base + 0x04, 4, n)
    dma.write(base + 0x08, 4, SPI2 + DR)
    dma.write(base + 0x0C, 4, RAM)
    # peripheral to memory, half-words both sides, MINC, CIRC, HTIE, TCIE, EN
    dma.write(base, 4, 1 << 13 | 1 << 11 | 1 << 10 | 1 << 8 | 1 << 4 | 1 << 3 | 1)
    spi.write(CR2, 4, 1)  # RXDMAEN
    spi.write(I2SPR, 4, 25)  # I2SDIV 25, ODD 0: CK = 51.2 MHz / 50 = 1.024 MHz
    spi.write(I2SCFGR, 4, I2SMOD | MASTER_RX | I2SE)  # Philips, 16-bit data in 16-bit channels, CKPOL 0
    host.advance_to(168_000 * 3)  # 3 ms: 192 words, three buffers
    words = np.frombuffer(bytes(host.ram[0: 2 * n]), dtype="<u2")
    stream = PdmStream(mic.source, 0, 1.024e6)
    assert np.array_equal(words, stream.words(128, 128 + n))  # the third pass over the buffer
    # DMA1_Stream3 (IRQ 14) rises at word 31's end (half) then word 63's (complete): 16 bits of 1/1.024 MHz
    rise = host.irq_rises(14)[0]
    assert rise == -(-(32 * 16 * FS_PER_SECOND // 1_024_000) * 168 // 10**9)  # ceil to the cycle
    assert dma.read(0x00, 4) & (1 << 26)  # LISR HTIF3
    assert spi.words_received >= 192 and spi.overruns == []
    assert mic.stats()["pdm_clocks_hz"] == [1_024_000]


def test_without_a_reader_words_are_lost_with_ovr_and_read_back_with_chside() -> None:
    host, spi, mic = _setup()
    spi.write(I2SPR, 4, 25)
    spi.write(I2SCFGR, 4, I2SMOD | MASTER_RX | I2SE)
    word_cycles = 16 * 168 / 1.024
    host.advance_to(round(word_cycles * 1.5))
    sr = spi.read(SR, 4)
    assert sr & 1 and not sr & 1 << 2  # RXNE, left channel (CHSIDE 0)
    first = spi.read(DR, 4)
    assert first == int(PdmStream(mic.source, 0, 1.024e6).words(0, 1)[0])
    host.advance_to(round(word_cycles * 2.5))
    assert spi.read(SR, 4) & 1 << 2  # the second word is the right channel's
    host.advance_to(round(word_cycles * 4.5))
    assert spi.read(SR, 4) & 1 << 6 and spi.overruns  # OVR: words 3 and 4 arrived while word 2 sat in DR
    assert mic.stats()["overruns"] == len(spi.overruns) == 2
    spi.read(DR, 4)
    assert spi.read(SR, 4) & 1 << 6  # this SR read still shows OVR, and clears it (a DR read came first)
    assert not spi.read(SR, 4) & 1 << 6


def test_clock_polarity_and_configuration_errors_are_reported() -> None:
    host, spi, _mic = _setup(lr="falling")
    spi.write(I2SPR, 4, 25)
    spi.write(I2SCFGR, 4, I2SMOD | MASTER_RX | I2SE)  # CKPOL 0 samples the rising edge: nobody drives it
    assert any("no microphone" in v for v in host.unmodelled.values())
    host2, spi2, _ = _setup()
    spi2.write(I2SPR, 4, 1)  # I2SDIV 1 is forbidden
    spi2.write(I2SCFGR, 4, I2SMOD | MASTER_RX | I2SE)
    assert any("forbidden" in v for v in host2.unmodelled.values())
    host3, spi3, _ = _setup()
    spi3.write(I2SCFGR, 4, I2SMOD | 2 << 8 | I2SE)  # master transmit
    assert any("master receive" in v for v in host3.unmodelled.values())


def test_mckoe_and_odd_divide_the_clock_as_rm0090_says() -> None:
    host, spi, mic = _setup()
    spi.write(I2SPR, 4, 1 << 9 | 1 << 8 | 3)  # MCKOE, ODD, I2SDIV 3: MCK = 51.2 MHz / 7, CK = MCK / 8
    spi.write(I2SCFGR, 4, I2SMOD | MASTER_RX | I2SE)
    assert mic.stats()["pdm_clocks_hz"] == [round(51.2e6 / 7 / 8)]


def test_dma_blocks_and_a_count_read_between_flags() -> None:
    """The stream reads DR in direct mode: each batch up to a flag is one block; an NDTR read in between sees
    the words complete by then (RM0090 10.5.6), and a stream disabled mid-buffer leaves the rest to DR (OVR)."""
    host, spi, mic = _setup()
    dma = host.add("dma1", "stm32f4_dma", DMA1)
    n, base = 64, 0x10 + 0x18 * 3
    dma.write(base + 0x04, 4, n)
    dma.write(base + 0x08, 4, SPI2 + DR)
    dma.write(base + 0x0C, 4, RAM)
    dma.write(base, 4, 1 << 13 | 1 << 11 | 1 << 10 | 1 << 8 | 1 << 4 | 1 << 3 | 1)
    spi.write(CR2, 4, 1)
    spi.write(I2SPR, 4, 25)
    spi.write(I2SCFGR, 4, I2SMOD | MASTER_RX | I2SE)
    word_fs = 16 * FS_PER_SECOND // 1_024_000

    def cycle(k: int) -> int:  # the cycle at which word k is complete (168 MHz)
        return -(-((k + 1) * word_fs) * 168 // 10**9)

    stream = PdmStream(mic.source, 0, 1.024e6)
    host.advance_to(cycle(9))
    assert dma.read(base + 0x04, 4) == n - 10  # NDTR: words 0..9 moved
    assert np.array_equal(np.frombuffer(bytes(host.ram[0:20]), "<u2"), stream.words(0, 10))
    assert bytes(host.ram[20:22]) == bytes(2)
    host.advance_to(cycle(95))  # half and complete flags, then half again
    assert np.array_equal(np.frombuffer(bytes(host.ram[0:2 * n]), "<u2")[:32], stream.words(64, 96))
    st = mic.stats()
    assert st["samples_by_dma"] == st["samples_delivered"] == 96 and st["dma_blocks"] == 4  # 10, 22, 32, 32
    dma.write(base, 4, 1 << 13 | 1 << 11 | 1 << 10 | 1 << 8 | 1 << 4 | 1 << 3)  # EN = 0 at word 95
    host.advance_to(cycle(99))
    assert spi.read(SR, 4) & (1 << 6 | 1 << 0) == 1 << 6 | 1 << 0  # RXNE (word 96 waits) and OVR (97..99 lost)
    assert spi.read(DR, 4) == int(stream.words(96, 97)[0]) and len(spi.overruns) == 3
