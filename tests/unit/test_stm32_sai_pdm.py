"""STM32L4R5 SAI1 with its PDM interface (RM0432 section 46) on a fake clock: two microphones on data line D1
(left on the rising edge, right on the falling edge) received by block A in 8-bit TDM slots, read by DMA1
through DMAMUX1 (request 36, SAI1_A, RM0432 Table 54) or from the FIFO. Expected bytes are the microphones'
bit streams packed 8 at a time by numpy (first bit highest); times from the bit clock the clock generator
gives (RM0432 46.3.8) divided by the two microphones."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.board import Device
from simcore.devices import device_for
from simcore.devices.pdm import PdmStream
from simcore.sources.base import ArraySource
from tests.unit.stm32_bus import BusHost

SAI1, DMA1, DMAMUX1, RAM = 0x40015400, 0x40020000, 0x40020800, 0x20000000
ACR1, ACR2, AFRCR, ASLOTR, AIM, ASR, ACLRFR, ADR, PDMCR = 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x44
KER = 16.384e6  # kernel clock: NODIV, MCKDIV 8 -> bit clock 2.048 MHz -> microphones at 1.024 MHz
MASTER_RX, DS8, SAIEN, DMAEN, NODIV = 1, 2 << 5, 1 << 16, 1 << 17, 1 << 19
IRQ_SAI1, IRQ_DMA1_CH1 = 74, 11
RATE = 16000


def _tone(hz: float) -> ArraySource:
    t = np.arange(RATE // 4) / RATE
    pcm = np.rint(0.5 * np.sin(2 * np.pi * hz * t) * 32767).astype(np.int16)[:, None]
    return ArraySource(f"tone{hz:g}.wav", pcm, channels=("ch0",), units=("FS",), rate_hz=RATE, full_scale=32768.0)


def _sai(mckdiv: int = 8, nodiv: bool = True) -> tuple[BusHost, Any, list[Any]]:
    host = BusHost(mhz=64)
    host.set_clocks(PLLSAI3CLK=KER, HCLK=64e6, PCLK1=64e6, PCLK2=64e6)
    sai = host.add("sai1", "stm32l4_sai", SAI1, IRQ_SAI1)
    mics = []
    for lr, hz in (("rising", 1000.0), ("falling", 2500.0)):
        mic = device_for("mp34dt01")(Device(f"mic_{lr}", "mp34dt01", "sai1", options={"input": 1, "lr": lr}), host)
        mic.attach(_tone(hz))
        sai.attach_microphone(mic)
        mics.append(mic)
    sai.write(PDMCR, 4, 1 | 0 << 4 | 1 << 8)  # PDMEN, MICNBR 0 (two microphones), CKEN1
    sai.write(AFRCR, 4, 15)  # FRL 15: 16 bit clocks per frame, one 8-bit slot per microphone
    sai.write(ASLOTR, 4, 1 << 8 | 3 << 16)  # NBSLOT 1 (two slots), slots 0 and 1 enabled
    return host, sai, mics


def _expected(mics: list[Any], nframes: int) -> np.ndarray:
    """Slot order: D1 left byte, D1 right byte, frame after frame."""
    left, right = (np.packbits(PdmStream(m.source, 0, 1.024e6).bits(0, 8 * nframes)) for m in mics)
    return np.stack([left, right], axis=1).reshape(-1)


def _cycle(frames: int) -> int:
    """Core cycle (64 MHz) at which ``frames`` frames of 8 microphone clocks (1.024 MHz) are complete."""
    return frames * 8 * 64_000_000 // 1_024_000


def test_pdm_bytes_by_circular_dma_with_half_and_complete_flags_on_time() -> None:
    host, sai, mics = _sai()
    mux = host.add("dmamux1", "stm32l4_dmamux", DMAMUX1)
    dma = host.add("dma1", "stm32l4_dma", DMA1)
    mux.write(0x00, 4, 36)  # DMAMUX channel 0 -> DMA1 channel 1: SAI1_A
    dma.write(0x0C, 4, 64)  # CNDTR1
    dma.write(0x10, 4, SAI1 + ADR)  # CPAR1
    dma.write(0x14, 4, RAM)  # CMAR1
    dma.write(0x08, 4, 1 << 7 | 1 << 5 | 1 << 2 | 1 << 1 | 1)  # bytes, MINC, CIRC, HTIE, TCIE, EN
    sai.write(ACR1, 4, MASTER_RX | DS8 | NODIV | 8 << 20 | DMAEN | SAIEN)
    assert host.unmodelled == {}
    host.advance_to(_cycle(16) - 1)
    assert dma.read(0x00, 4) == 0
    host.advance_to(_cycle(16))  # byte 31 (frame 15) completes the first half
    assert dma.read(0x00, 4) & 0b101 == 0b101 and host.irq_rises(IRQ_DMA1_CH1) == [_cycle(16)]
    host.advance_to(_cycle(48))  # three halves: the first half holds frames 32..47 now
    want = _expected(mics, 48)
    assert np.array_equal(np.frombuffer(bytes(host.ram[0:32]), np.uint8), want[64:96])
    assert np.array_equal(np.frombuffer(bytes(host.ram[32:64]), np.uint8), want[32:64])
    assert dma.read(0x0C, 4) == 32 and sai.bytes_received == 96
    st = mics[0].stats()
    assert st["samples_by_dma"] == 48 and st["dma_blocks"] == 3 and st["pdm_clocks_hz"] == [1_024_000]
    host.advance_to(_cycle(48) + _cycle(5) // 2)  # a count read between flags: frames 48..49 moved by now
    assert dma.read(0x0C, 4) == 28
    assert np.array_equal(np.frombuffer(bytes(host.ram[32:36]), np.uint8), _expected(mics, 50)[96:100])


def test_fifo_threshold_interrupt_and_overrun_without_dma() -> None:
    host, sai, mics = _sai()
    sai.write(ACR2, 4, 0)  # FTH 0: FREQ while the FIFO is not empty
    sai.write(AIM, 4, 1 << 3 | 1)  # FREQIE, OVRUDRIE
    sai.write(ACR1, 4, MASTER_RX | DS8 | NODIV | 8 << 20 | SAIEN)
    host.advance_to(_cycle(1))
    assert host.irq_rises(IRQ_SAI1) == [_cycle(1)] and sai.read(ASR, 4) == 1 << 3 | 1 << 16  # FREQ, FLVL 1/4
    want = _expected(mics, 6)
    assert [sai.read(ADR, 4), sai.read(ADR, 4)] == [int(want[0]), int(want[1])]
    assert sai.read(ASR, 4) == 0 and not host.irq_levels[IRQ_SAI1]
    host.advance_to(_cycle(6))  # frames 1..5: 10 bytes for 8 words
    assert sai.read(ASR, 4) == 1 | 1 << 3 | 5 << 16  # OVRUDR, FREQ, FLVL full
    assert [sai.read(ADR, 4) for _ in range(8)] == [int(v) for v in want[2:10]]
    sai.write(ACLRFR, 4, 1)
    assert sai.read(ASR, 4) == 0 and len(sai.overruns) == 2


def test_bit_clock_from_the_clock_generator_and_misconfigurations() -> None:
    host, sai, mics = _sai()
    # NODIV 0: SCK = ker x (FRL + 1) / (MCKDIV x 256) = 16.384 MHz x 16 / 512 = 512 kHz, microphones at 256 kHz
    sai.write(ACR1, 4, MASTER_RX | DS8 | 2 << 20 | SAIEN)
    host.advance_to(8 * 64_000_000 // 256_000)
    assert sai.bytes_received == 2 and mics[0].stats()["pdm_clocks_hz"] == [256_000]
    sai.write(ACR1, 4, 0)
    host2, sai2, _ = _sai()
    sai2.write(AFRCR, 4, 31)  # a 32-bit frame for two microphones
    sai2.write(ACR1, 4, MASTER_RX | DS8 | NODIV | 8 << 20 | SAIEN)
    assert any("FRL = 15" in v for v in host2.unmodelled.values())
    host3, sai3, _ = _sai()
    sai3.write(ACR1, 4, 0 | DS8 | NODIV | SAIEN)  # master transmit
    assert any("master receive" in v for v in host3.unmodelled.values())


def test_a_board_wires_microphones_to_the_data_lines(tmp_path) -> None:
    import pytest

    from simcore.api import prepare
    from simcore.errors import BadInputError
    from tests.conftest import ROOT

    board = tmp_path / "mics.toml"
    text = ('extends = "stm32l4r5zi"\nname = "mics"\n[[device]]\nname = "mic"\ntype = "mp34dt01"\nbus = "sai1"\n'
            'input = {line}\nlr = "falling"\n')
    board.write_text(text.format(line=2))
    m = prepare(ROOT / "firmware/bin/stm32l4r5zi/hello.elf", str(board),
                sensors={"mic": ROOT / "examples/data/audio_events_16k.wav"})
    sai = next(p for p in m.peripherals if p.name == "sai1")
    assert [(mic.name, mic.config.options["input"], mic.edge) for mic in sai.microphones] == [("mic", 2, "falling")]
    board.write_text(text.format(line=9))
    with pytest.raises(BadInputError, match="D1-D4"):
        prepare(ROOT / "firmware/bin/stm32l4r5zi/hello.elf", str(board))


def test_the_recording_end_stops_the_run_after_the_last_half_holding_some_of_it() -> None:
    """The tones last 0.25 s (end=stop): 256,000 clocks at 1.024 MHz, 32,000 frames, 2,000 halves of 16 frames; the
    run is asked to stop (StopKind.END_OF_DATA) when the half after the last one would complete, and no byte of it
    is delivered."""
    host, sai, mics = _sai()
    stops: list[Any] = []
    host.request_stop = stops.append  # type: ignore[attr-defined]
    mux = host.add("dmamux1", "stm32l4_dmamux", DMAMUX1)
    dma = host.add("dma1", "stm32l4_dma", DMA1)
    mux.write(0x00, 4, 36)
    dma.write(0x0C, 4, 64)
    dma.write(0x10, 4, SAI1 + ADR)
    dma.write(0x14, 4, RAM)
    dma.write(0x08, 4, 1 << 7 | 1 << 5 | 1 << 2 | 1 << 1 | 1)
    sai.write(ACR1, 4, MASTER_RX | DS8 | NODIV | 8 << 20 | DMAEN | SAIEN)
    frames = RATE // 4 * 1_024_000 // RATE // 8
    host.advance_to(_cycle(frames))
    assert stops == [] and sai.bytes_received == 2 * frames
    host.advance_to(_cycle(frames + 16))
    assert [s.kind for s in stops] == ["end_of_data"] and sai.bytes_received == 2 * frames
    assert "SAI1_A's next DMA half would begin after it" in stops[0].message
    assert mics[0].stats()["samples_by_dma"] == frames
