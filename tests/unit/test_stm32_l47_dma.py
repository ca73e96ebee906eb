"""STM32L475 DMA1/DMA2 with request selection by DMA_CSELR (RM0351 section 11, Tables 41/42), and the DFSDM's
conversions read by DMA (RM0351 24.4.16: RDMAEN) on a fake clock, through the registers. Expected results are
computed in numpy from the microphone's bit stream (Sinc^4 by direct convolution, the data unit as RM0351
24.4.13 gives it); flag times from the conversion times of RM0351 24.4.8."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.board import Device
from simcore.devices import device_for
from simcore.devices.pdm import PdmStream, sinc_decimate
from tests.unit.stm32_bus import BusHost
from tests.unit.test_stm32_dfsdm import _data_unit, _recording

DMA1, DMA2, DFSDM1, USART1, RAM = 0x40020000, 0x40020400, 0x40016000, 0x40013800, 0x20000000
ISR, IFCR, CSELR = 0x00, 0x04, 0xA8


def CCR(n: int) -> int:  # noqa: N802 - RM0351 register names
    return 0x08 + 20 * (n - 1)


def CNDTR(n: int) -> int:  # noqa: N802
    return CCR(n) + 4


def CPAR(n: int) -> int:  # noqa: N802
    return CCR(n) + 8


def CMAR(n: int) -> int:  # noqa: N802
    return CCR(n) + 12


EN, TCIE, HTIE, DIR, CIRC, MINC = 1, 1 << 1, 1 << 2, 1 << 4, 1 << 5, 1 << 7
P32, M32 = 2 << 8, 2 << 10
GIF4, TCIF4, HTIF4 = 1 << 12, 1 << 13, 1 << 14
IRQ_DMA1_CH4 = 14  # RM0351 Table 58
FLT0 = 0x100
RDATAR = DFSDM1 + FLT0 + 0x1C
CLK = 40  # core cycles per CKOUT clock: 80 MHz / 2 MHz
FIRST, PERIOD = 125 * (1 - 1 + 4) + 4, 125  # RM0351 24.4.8, Sinc4, FOSR 125, IOSR 1, fast mode


def _usart_tx(host: BusHost, dma: Any, channel: int, text: bytes) -> Any:
    usart = host.add("usart1", "stm32l4_usart", USART1, 37)
    usart.write(0x0C, 4, round(80e6 / 115200))  # BRR
    usart.write(0x00, 4, 1 | 1 << 3)  # CR1: UE, TE
    host.ram[0: len(text)] = text
    dma.write(CNDTR(channel), 4, len(text))
    dma.write(CPAR(channel), 4, USART1 + 0x28)  # TDR
    dma.write(CMAR(channel), 4, RAM)
    dma.write(CCR(channel), 4, MINC | DIR | TCIE | EN)
    usart.write(0x08, 4, 1 << 7)  # CR3: DMAT
    host.advance_seconds(20 * len(text) / 115200)
    return usart


def test_cselr_selects_the_request_of_the_channel() -> None:
    # RM0351 Table 41: DMA1 channel 4 serves USART1_TX with C4S = 0010 and DFSDM1_FLT0 with 0000
    host = BusHost(mhz=80)
    host.set_clocks(SYSCLK=80e6, HCLK=80e6, PCLK1=80e6, PCLK2=80e6)
    dma = host.add("dma1", "stm32l47_dma", DMA1)
    dma.write(CSELR, 4, 2 << 12)
    assert dma.read(CSELR, 4) == 2 << 12
    _usart_tx(host, dma, 4, b"dma\r\n")
    assert b"".join(d for d, _ in host.console) == b"dma\r\n"
    assert dma.read(ISR, 4) & (TCIF4 | GIF4) == TCIF4 | GIF4 and host.irq_levels[IRQ_DMA1_CH4]
    assert dma.read(CNDTR(4), 4) == 0 and not dma.read(CCR(4), 4) & EN  # normal mode: the channel stops
    dma.write(IFCR, 4, GIF4)
    assert dma.read(ISR, 4) == 0 and not host.irq_levels[IRQ_DMA1_CH4]

    host2 = BusHost(mhz=80)
    host2.set_clocks(SYSCLK=80e6, HCLK=80e6, PCLK1=80e6, PCLK2=80e6)
    dma_b = host2.add("dma1", "stm32l47_dma", DMA1)  # CSELR 0: channel 4 is DFSDM1_FLT0's, not USART1_TX's
    _usart_tx(host2, dma_b, 4, b"dma\r\n")
    assert host2.console == [] and dma_b.read(CNDTR(4), 4) == 5 and dma_b.read(ISR, 4) == 0


def test_dma2_tables_and_reserved_selections() -> None:
    host = BusHost(mhz=80)
    dma2 = host.add("dma2", "stm32l47_dma", DMA2)
    assert dma2.svd_name == "DMA2"
    dma2.write(CSELR, 4, 4 << 20 | 4 << 24 | 2 << 0)  # C6S 4, C7S 4, C1S 2 (RM0351 Table 42)
    assert [dma2.requests_of(i) for i in (5, 6, 0)] == [("LPUART1_TX",), ("LPUART1_RX",), ("UART5_TX",)]
    dma1 = host.add("dma1", "stm32l47_dma", DMA1)
    dma1.write(CSELR, 4, 4 << 24)  # C7S 4: TIM2_CH2 and TIM2_CH4 share channel 7
    assert dma1.requests_of(6) == ("TIM2_CH2", "TIM2_CH4")
    dma1.write(CSELR, 4, 9 << 8)  # C3S 9: not defined
    dma1.write(CNDTR(3), 4, 1)
    dma1.write(CCR(3), 4, EN)
    assert any("C3S = 9" in v for v in host.unmodelled.values()) and dma1.requests_of(2) == ()


def _dfsdm_with_dma(words: int, ccr: int = P32 | M32 | MINC | CIRC | HTIE | TCIE,
                    dma_on: bool = True) -> tuple[BusHost, Any, Any, Any]:
    host = BusHost(mhz=80)
    host.set_clocks(SYSCLK=80e6, HCLK=80e6, PCLK1=80e6, PCLK2=80e6)
    dma = host.add("dma1", "stm32l47_dma", DMA1)
    d = host.add("dfsdm1", "stm32l4_dfsdm", DFSDM1, 61)
    mic = device_for("mp34dt01")(Device("mic", "mp34dt01", "dfsdm1", options={"input": 2, "lr": "rising"}), host)
    mic.attach(_recording())
    d.attach_microphone(mic)
    dma.write(CPAR(4), 4, RDATAR)
    dma.write(CMAR(4), 4, RAM)
    dma.write(CNDTR(4), 4, words)
    if dma_on:
        dma.write(CCR(4), 4, ccr | EN)  # C4S = 0: DFSDM1_FLT0
    d.write(0x44, 4, 8 << 3)  # CH2CFGR2: DTRBS 8
    d.write(0x40, 4, 1 << 7 | 1 << 2)  # CH2CFGR1: CHEN, SPICKSEL CKOUT, rising edge
    d.write(FLT0 + 0x14, 4, 4 << 29 | 124 << 16)  # FLT0FCR: Sinc4, FOSR 125, IOSR 1
    cr1 = 2 << 24 | 1 << 29 | 1 << 21 | 1 << 18 | 1  # RCH 2, FAST, RDMAEN, RCONT, DFEN
    d.write(FLT0, 4, cr1)
    d.write(0x00, 4, 1 << 31 | 39 << 16)  # CH0CFGR1: DFSDMEN, CKOUT = 80 MHz / 40
    d.write(FLT0, 4, cr1 | 1 << 17)  # RSWSTART
    return host, dma, d, mic


def _expected(mic: Any, n: int) -> np.ndarray:
    """FLT0RDATAR words of the first n conversions: Sinc4 by 125 from the first settled output, DTRBS 8."""
    bits = PdmStream(mic.source, 0, 2e6).bits(0, (n + 4) * 125)
    rdata = _data_unit(sinc_decimate(bits, 4, 125)[3: 3 + n], 8)
    return ((rdata & 0xFFFFFF) << 8 | 2).astype(np.uint32)


def _end(j: int) -> int:
    """Core cycle at which conversion j completes."""
    return (FIRST + PERIOD * j) * CLK


def test_dfsdm_results_by_circular_dma_with_half_and_complete_flags_on_time() -> None:
    host, dma, d, mic = _dfsdm_with_dma(128)
    host.advance_to(_end(63) - 1)
    assert dma.read(ISR, 4) == 0 and host.irq_rises(IRQ_DMA1_CH4) == []
    host.advance_to(_end(63))
    assert dma.read(ISR, 4) == HTIF4 | GIF4 and host.irq_rises(IRQ_DMA1_CH4) == [_end(63)]
    want = _expected(mic, 3 * 64)
    assert np.array_equal(np.frombuffer(host.ram_bytes(RAM, 4 * 64), "<u4"), want[:64])
    dma.write(IFCR, 4, HTIF4)
    host.advance_to(_end(127))
    assert dma.read(ISR, 4) == TCIF4 | GIF4 and host.irq_rises(IRQ_DMA1_CH4) == [_end(63), _end(127)]
    assert np.array_equal(np.frombuffer(host.ram_bytes(RAM, 4 * 128), "<u4"), want[:128])
    dma.write(IFCR, 4, GIF4)
    host.advance_to(_end(191))  # circular: the first half again, with conversions 128..191
    assert dma.read(ISR, 4) & HTIF4 and dma.read(CNDTR(4), 4) == 64
    assert np.array_equal(np.frombuffer(host.ram_bytes(RAM, 4 * 64), "<u4"), want[128:192])
    # one event per flag, every result through the DMA, none lost
    assert d.conversions[0] == d.dma_conversions[0] == 192
    st = mic.stats()
    assert st["samples_by_dma"] == st["samples_delivered"] == 192 and st["dma_blocks"] == 3
    assert st["overruns"] == 0 and not d.read(FLT0 + 0x08, 4) & (1 << 1 | 1 << 3)  # no REOCF, no ROVRF


def test_a_count_read_between_flags_sees_the_transfers_made_by_then() -> None:
    host, dma, d, mic = _dfsdm_with_dma(128)
    host.advance_to(_end(10) + 5)
    assert dma.read(CNDTR(4), 4) == 128 - 11  # conversions 0..10 were read by the DMA
    want = _expected(mic, 64)
    assert np.array_equal(np.frombuffer(host.ram_bytes(RAM, 4 * 11), "<u4"), want[:11])
    assert host.ram_bytes(RAM + 44, 4) == bytes(4)  # not yet conversion 11
    host.advance_to(_end(63))
    assert dma.read(ISR, 4) & HTIF4 and host.irq_rises(IRQ_DMA1_CH4) == [_end(63)]
    assert np.array_equal(np.frombuffer(host.ram_bytes(RAM, 4 * 64), "<u4"), want)


def test_stopping_the_channel_hands_the_results_back_to_rdatar() -> None:
    host, dma, d, mic = _dfsdm_with_dma(128)
    host.advance_to(_end(20) + 5)
    dma.write(CCR(4), 4, P32 | M32 | MINC | CIRC)  # EN = 0 after 21 transfers
    assert dma.read(CNDTR(4), 4) == 128 - 21
    host.advance_to(_end(30) + 5)
    want = _expected(mic, 31)
    assert host.ram_bytes(RAM + 4 * 21, 4) == bytes(4)  # nothing more written to memory
    isr = d.read(FLT0 + 0x08, 4)
    assert isr & 1 << 1 and isr & 1 << 3  # REOCF (conversion 21, unread) and ROVRF (22..30 lost)
    assert d.read(FLT0 + 0x1C, 4) == want[21] and d.conversions[0] == 31 and d.dma_conversions[0] == 21
    assert mic.stats()["overruns"] == 9


def test_stopping_the_filter_delivers_what_was_due() -> None:
    host, dma, d, mic = _dfsdm_with_dma(128)
    host.advance_to(_end(40) + 5)
    d.write(FLT0, 4, 0)  # DFEN = 0
    assert dma.read(CNDTR(4), 4) == 128 - 41 and d.dma_conversions[0] == 41
    host.advance_to(_end(80))
    assert dma.read(CNDTR(4), 4) == 128 - 41 and dma.read(ISR, 4) == 0
    want = _expected(mic, 41)
    assert np.array_equal(np.frombuffer(host.ram_bytes(RAM, 4 * 41), "<u4"), want)


def test_a_half_word_read_of_the_upper_rdatar_and_an_end_of_conversion_interrupt() -> None:
    # PSIZE 16 at RDATAR + 2 (RDATA[23:8]) into half-words: the DMA takes the upper half of each result
    host, dma, d, mic = _dfsdm_with_dma(16, dma_on=False)
    dma.write(CPAR(4), 4, RDATAR + 2)
    dma.write(CNDTR(4), 4, 16)
    dma.write(CCR(4), 4, 1 << 8 | 1 << 10 | MINC | TCIE | EN)
    host.advance_to(_end(40))
    want = _expected(mic, 41)
    got = np.frombuffer(host.ram_bytes(RAM, 2 * 16), "<u2")
    assert np.array_equal(got, (want[:16] >> 16).astype(np.uint16))  # normal mode: 16 items, then it stops
    assert dma.read(ISR, 4) & TCIF4 and not dma.read(CCR(4), 4) & EN
    assert d.dma_conversions[0] == 16 and d.conversions[0] == 41
    # with REOCIE the filter interrupts at each result: one conversion per event, the DMA still reads them
    host2, dma2, d2, mic2 = _dfsdm_with_dma(32)
    d2.write(FLT0 + 0x04, 4, 1 << 1)  # REOCIE
    host2.advance_to(_end(40))
    assert d2.conversions[0] == 41 and d2.dma_conversions[0] == 0  # planned again: one event per result
    assert host2.irq_rises(61)[0] == _end(0)  # DFSDM1_FLT0 at the first result (the DMA read clears REOCF)
    assert np.array_equal(np.frombuffer(host2.ram_bytes(RAM, 4 * 32), "<u4")[:9], _expected(mic2, 41)[32:41])
