"""STM32 USART/LPUART and DMA models through their registers on a fake clock (RM0090 10 and 30, RM0432 11, 12, 50)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simcore.errors import BadInputError
from tests.unit.stm32_bus import BusHost

# F4 USART (RM0090 30.6) and L4 USART (RM0432 50.8) register offsets
SR, DR, BRR, CR1, CR2, CR3 = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14
L4_CR1, L4_CR3, L4_BRR, L4_ISR, L4_ICR, L4_RDR, L4_TDR = 0x00, 0x08, 0x0C, 0x1C, 0x20, 0x24, 0x28
UE, TE, RE, TXEIE, TCIE, RXNEIE = 1 << 13, 1 << 3, 1 << 2, 1 << 7, 1 << 6, 1 << 5
TXE, TC, RXNE, ORE, IDLE = 1 << 7, 1 << 6, 1 << 5, 1 << 3, 1 << 4
USART2, DMA1, DMA2, RAM = 0x40004400, 0x40026000, 0x40026400, 0x20000000


def _f4_usart(host: BusHost, baud: int = 115200, **options: object) -> object:
    u = host.add("usart2", "stm32f4_usart", USART2, 38, **options)
    u.write(BRR, 4, round(42e6 / baud))  # PCLK1 = 42 MHz
    return u


def _frame_cycles(baud: int, bits: int = 10, hclk: float = 168e6) -> float:
    return bits * hclk / baud


def test_transmit_is_paced_at_the_baud_rate_and_reaches_the_console() -> None:
    host = BusHost()
    host.f4_clocks()
    u = _f4_usart(host)
    u.write(CR1, 4, UE | TE)
    u.write(DR, 4, ord("h"))
    assert u.read(SR, 4) & (TXE | TC) == TXE  # the byte went to the shift register at once
    u.write(DR, 4, ord("i"))
    assert u.read(SR, 4) & (TXE | TC) == 0
    frame = _frame_cycles(round(42e6 / round(42e6 / 115200)))
    host.advance_to(int(frame) + 1)
    assert u.read(SR, 4) & (TXE | TC) == TXE
    host.advance_to(int(2 * frame) + 2)
    assert u.read(SR, 4) & (TXE | TC) == TXE | TC
    assert b"".join(d for d, _ in host.console) == b"hi"
    u.write(SR, 4, ~TC & 0x3FF)  # rc_w0
    assert not u.read(SR, 4) & TC


def test_writes_with_the_transmitter_off_are_dropped_and_reported() -> None:
    host = BusHost()
    host.f4_clocks()
    u = _f4_usart(host)
    u.write(DR, 4, ord("x"))
    assert host.console == [] and "USART2.DR" in host.unmodelled


def test_transmit_interrupts_txe_then_tc() -> None:
    host = BusHost()
    host.f4_clocks()
    u = _f4_usart(host, baud=1_000_000)  # BRR 42: 10 us per frame
    u.write(CR1, 4, UE | TE | TXEIE)
    assert host.irq_levels[38]  # TXE set, interrupt enabled
    u.write(DR, 4, 0x41)
    u.write(DR, 4, 0x42)
    assert not host.irq_levels[38]
    host.advance_to(1680)
    assert host.irq_levels[38]
    u.write(CR1, 4, UE | TE | TCIE)
    assert not host.irq_levels[38]
    host.advance_to(3360)
    assert host.irq_levels[38]  # TC after the second frame


def test_receive_from_a_file_with_overrun_and_idle(tmp_path: Path) -> None:
    data = tmp_path / "rx.bin"
    data.write_bytes(b"abc")
    host = BusHost()
    host.f4_clocks()
    u = _f4_usart(host, baud=1_000_000, input=str(data))
    u.write(CR1, 4, UE | RE | RXNEIE)
    host.advance_to(1680)  # one frame: 'a'
    assert u.read(SR, 4) & RXNE and host.irq_levels[38]
    assert u.read(DR, 4) == ord("a") and not host.irq_levels[38]
    host.advance_to(3 * 1680)  # 'b' and 'c': 'c' finds 'b' unread
    assert u.read(SR, 4) & (RXNE | ORE) == RXNE | ORE
    assert u.read(DR, 4) == ord("b")
    host.advance_to(4 * 1680)
    assert u.read(SR, 4) & IDLE
    assert u.stats["rx_overruns"] == 1 and u.stats["rx_bytes"] == 2


def test_a_missing_input_file_is_refused(tmp_path: Path) -> None:
    host = BusHost()
    with pytest.raises(BadInputError, match="does not exist"):
        _f4_usart(host, input=str(tmp_path / "nope.txt"))


def _f4_stream(host: BusHost, dma: object, s: int, cr: int, ndtr: int, par: int, m0: int, m1: int = 0,
               fcr: int | None = None) -> None:
    base = 0x10 + 0x18 * s
    dma.write(base + 0x04, 4, ndtr)
    dma.write(base + 0x08, 4, par)
    dma.write(base + 0x0C, 4, m0)
    dma.write(base + 0x10, 4, m1)
    if fcr is not None:
        dma.write(base + 0x14, 4, fcr)
    dma.write(base, 4, cr)


def test_f4_dma_memory_to_usart_paced_by_txe_with_half_and_complete_interrupts() -> None:
    host = BusHost()
    host.f4_clocks()
    dma = host.add("dma1", "stm32f4_dma", DMA1)
    u = _f4_usart(host, baud=1_000_000)
    host.ram[0:6] = b"hello!"
    u.write(CR1, 4, UE | TE)
    # stream 6 channel 4 = USART2_TX (RM0090 Table 42): memory to peripheral, MINC, TCIE, HTIE
    cr = 4 << 25 | 1 << 10 | 1 << 6 | 1 << 4 | 1 << 3 | 1
    _f4_stream(host, dma, 6, cr, 6, USART2 + DR, RAM)
    assert host.console == []  # DMAT still clear: no request
    u.write(CR3, 4, 1 << 7)  # DMAT
    assert b"".join(d for d, _ in host.console) == b"h"
    assert dma.read(0x10 + 0x18 * 6 + 4, 4) == 4  # 'h' shifting, 'e' waiting in DR
    host.advance_to(2 * 1680)
    assert dma.read(0x04, 4) & (1 << 20)  # HISR HTIF6 after 3 items
    assert host.irq_levels[17]  # DMA1_Stream6
    host.advance_to(5 * 1680)
    assert dma.read(0x04, 4) & (1 << 21)  # TCIF6: all six moved
    assert not dma.read(0x10 + 0x18 * 6, 4) & 1  # EN cleared at the end
    dma.write(0x0C, 4, 0x3D << 16)  # HIFCR: clear stream 6
    assert dma.read(0x04, 4) == 0 and not host.irq_levels[17]
    host.advance_to(6 * 1680 + 1)
    assert b"".join(d for d, _ in host.console) == b"hello!" and u.read(SR, 4) & TC


def test_f4_dma_usart_receive_fifo_packs_bytes_into_words(tmp_path: Path) -> None:
    data = tmp_path / "rx.bin"
    data.write_bytes(bytes(range(1, 9)))
    host = BusHost()
    host.f4_clocks()
    dma = host.add("dma1", "stm32f4_dma", DMA1)
    u = _f4_usart(host, baud=1_000_000, input=str(data))
    # stream 5 channel 4 = USART2_RX: peripheral to memory, byte reads, word writes through the FIFO (FTH 1/2)
    cr = 4 << 25 | 2 << 13 | 1 << 10 | 1
    _f4_stream(host, dma, 5, cr, 8, USART2 + DR, RAM + 0x100, fcr=1 << 2 | 1)
    u.write(CR3, 4, 1 << 6)  # DMAR
    u.write(CR1, 4, UE | RE)
    host.advance_to(4 * 1680)
    assert host.ram_bytes(RAM + 0x100, 8) == bytes(8)  # four bytes in the FIFO, below the 8-byte threshold
    assert dma.read(0x10 + 0x18 * 5 + 0x14, 4) >> 3 & 7 == 1  # FS: 1/4 <= level < 1/2 (RM0090 10.5.10)
    host.advance_to(8 * 1680)
    assert host.ram_bytes(RAM + 0x100, 8) == bytes(range(1, 9))
    assert dma.read(0x04, 4) & (1 << 11)  # HISR TCIF5 (stream 5: bits 6-11)
    assert u.stats["rx_overruns"] == 0


def test_f4_double_buffer_and_memory_to_memory() -> None:
    host = BusHost()
    host.f4_clocks()
    dma2 = host.add("dma2", "stm32f4_dma", DMA2)
    host.ram[0:8] = bytes(range(10, 18))
    # memory to memory on DMA2 stream 0: PAR is the source (RM0090 10.3.6), words, both incrementing
    cr = 2 << 13 | 2 << 11 | 1 << 10 | 1 << 9 | 2 << 6 | 1 << 4 | 1
    _f4_stream(host, dma2, 0, cr, 2, RAM, RAM + 0x40)
    assert host.ram_bytes(RAM + 0x40, 8) == bytes(range(10, 18))
    assert dma2.read(0x00, 4) & (1 << 5) and not dma2.read(0x10, 4) & 1
    dma = host.add("dma1", "stm32f4_dma", DMA1)
    assert dma.svd_name == "DMA1"
    _f4_stream(host, dma, 0, 2 << 6 | 1, 1, RAM, RAM + 0x80)
    assert "DMA1.S0CR" in host.unmodelled  # memory to memory on DMA1 is refused


def test_l4_dma_with_dmamux_to_lpuart() -> None:
    host = BusHost()
    host.set_clocks(HCLK=120e6, PCLK1=120e6, PCLK2=120e6)
    mux = host.add("dmamux1", "stm32l4_dmamux", 0x40020800)
    dma = host.add("dma1", "stm32l4_dma", 0x40020000)
    lp = host.add("lpuart1", "stm32l4_usart", 0x40008000, 70)
    assert lp.svd_name == "LPUART1"
    lp.write(L4_BRR, 4, round(256 * 120e6 / 115200))
    lp.write(L4_CR1, 4, 1 | 1 << 3)
    host.ram[0:4] = b"ok\r\n"
    mux.write(4 * 2, 4, 35)  # DMAMUX channel 2 -> DMA1 channel 3: LPUART1_TX (request 35, RM0432 Table 54)
    dma.write(0x08 + 20 * 2 + 4, 4, 4)  # CNDTR3
    dma.write(0x08 + 20 * 2 + 8, 4, 0x40008000 + L4_TDR)
    dma.write(0x08 + 20 * 2 + 12, 4, RAM)
    dma.write(0x08 + 20 * 2, 4, 1 << 7 | 1 << 4 | 1 << 1 | 1)  # MINC, DIR from memory, TCIE, EN
    lp.write(L4_CR3, 4, 1 << 7)
    frame = 10 * 120e6 / (256 * 120e6 / round(256 * 120e6 / 115200))
    host.advance_to(int(4 * frame) + 2)
    assert b"".join(d for d, _ in host.console) == b"ok\r\n"
    assert dma.read(0x00, 4) & (1 << 9) and host.irq_levels[13]  # TCIF3, DMA1_CH3
    assert lp.read(L4_ISR, 4) & TC
    lp.write(L4_ICR, 4, 1 << 6)
    assert not lp.read(L4_ISR, 4) & TC
