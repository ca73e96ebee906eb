"""STM32 I2C and SPI masters through their registers, with chips of simcore.devices on their buses (RM0090 27-28,
RM0432 48 and 52); an empty bus NACKs every address."""

from __future__ import annotations

from typing import Any

from simcore.devices.base import DeviceConfig
from simcore.devices.hts221 import Hts221
from simcore.devices.lis3dsh import Lis3dsh
from tests.unit.stm32_bus import BusHost

# F4 I2C (RM0090 27.6)
CR1, CR2, DR, SR1, SR2, CCR = 0x00, 0x04, 0x10, 0x14, 0x18, 0x1C
SB, ADDR, BTF, RXNE, TXE, AF = 1, 2, 4, 64, 128, 1024
# L4 I2C (RM0432 48.9)
L4_CR1, L4_CR2, TIMINGR, ISR, ICR, RXDR, TXDR = 0x00, 0x04, 0x10, 0x18, 0x1C, 0x24, 0x28
HTS221 = 0x5F


def _run(host: BusHost, until: Any, limit: int = 100_000) -> None:
    """Advance event by event until ``until()`` holds (what a polling driver waits for)."""
    for _ in range(limit):
        if until():
            return
        nxt = host.next_event_cycle()
        assert nxt is not None, "nothing scheduled and the condition does not hold"
        host.advance_to(nxt)
    raise AssertionError("condition never held")


def _f4_i2c(host: BusHost) -> Any:
    i2c = host.add("i2c1", "stm32f4_i2c", 0x40005400)
    i2c.write(CR2, 4, 42)  # FREQ = 42 MHz
    i2c.write(CCR, 4, 210)  # standard mode 100 kHz: 42 MHz / (2 x 210)
    i2c.write(CR1, 4, 1)  # PE
    return i2c


def _f4_read_regs(host: BusHost, i2c: Any, address: int, sub: int, n: int) -> list[int]:
    """The RM0090 27.3.3 master sequences: write the sub-address, repeated START, read n bytes."""
    i2c.write(CR1, 4, 1 | 1 << 8)  # START
    _run(host, lambda: i2c.read(SR1, 4) & SB)
    i2c.write(DR, 4, address << 1)
    _run(host, lambda: i2c.read(SR1, 4) & (ADDR | AF))
    assert not i2c.read(SR1, 4) & AF
    i2c.read(SR2, 4)
    i2c.write(DR, 4, sub)
    _run(host, lambda: i2c.read(SR1, 4) & BTF)
    i2c.write(CR1, 4, 1 | 1 << 10 | 1 << 8)  # ACK, repeated START
    _run(host, lambda: i2c.read(SR1, 4) & SB)
    i2c.write(DR, 4, address << 1 | 1)
    _run(host, lambda: i2c.read(SR1, 4) & ADDR)
    out = []
    if n == 1:
        i2c.write(CR1, 4, 1)  # NACK the only byte
        i2c.read(SR1, 4)
        i2c.read(SR2, 4)
        i2c.write(CR1, 4, 1 | 1 << 9)  # STOP
        _run(host, lambda: i2c.read(SR1, 4) & RXNE)
        return [i2c.read(DR, 4)]
    i2c.read(SR1, 4)
    i2c.read(SR2, 4)
    while n > 3:
        _run(host, lambda: i2c.read(SR1, 4) & RXNE)
        out.append(i2c.read(DR, 4))
        n -= 1
    _run(host, lambda: i2c.read(SR1, 4) & BTF)  # byte N-2 in DR, N-1 in the shift register
    i2c.write(CR1, 4, 1)  # NACK the last
    out.append(i2c.read(DR, 4))
    _run(host, lambda: i2c.read(SR1, 4) & BTF)
    i2c.write(CR1, 4, 1 | 1 << 9)  # STOP
    out.append(i2c.read(DR, 4))
    out.append(i2c.read(DR, 4))
    return out


def test_f4_i2c_empty_bus_nacks_the_address() -> None:
    host = BusHost()
    host.f4_clocks()
    i2c = _f4_i2c(host)
    i2c.write(CR2, 4, 42 | 1 << 8)  # ITERREN
    i2c.write(CR1, 4, 1 | 1 << 8)
    _run(host, lambda: i2c.read(SR1, 4) & SB)
    assert host.cycles == 1680  # one SCL period at 100 kHz, 168 MHz core
    i2c.write(DR, 4, 0x3C << 1)
    _run(host, lambda: i2c.read(SR1, 4) & AF)
    assert host.cycles == 1680 * 10 and host.irq_levels[32]  # 9 SCL for the address; I2C1_ER
    assert i2c.bus.nacked == {0x3C: 1}


def test_f4_i2c_reads_and_writes_a_chip() -> None:
    host = BusHost()
    host.f4_clocks()
    i2c = _f4_i2c(host)
    hts = Hts221(DeviceConfig("hts", "hts221", address=HTS221), host)
    i2c.bus.attach(hts, HTS221)
    assert _f4_read_regs(host, i2c, HTS221, 0x0F, 1) == [0xBC]  # WHO_AM_I
    # write AV_CONF (0x10) = 0x24, then read it and its neighbours back with auto-increment
    i2c.write(CR1, 4, 1 | 1 << 8)
    _run(host, lambda: i2c.read(SR1, 4) & SB)
    i2c.write(DR, 4, HTS221 << 1)
    _run(host, lambda: i2c.read(SR1, 4) & ADDR)
    i2c.read(SR2, 4)
    for byte in (0x10, 0x24):
        _run(host, lambda: i2c.read(SR1, 4) & TXE)
        i2c.write(DR, 4, byte)
    _run(host, lambda: i2c.read(SR1, 4) & BTF)
    i2c.write(CR1, 4, 1 | 1 << 9)
    got = _f4_read_regs(host, i2c, HTS221, 0x80 | 0x10, 4)
    assert got[0] == 0x24 and len(got) == 4
    assert i2c.bus.transactions == 5


def test_l4_i2c_transfers_with_autoend_and_nack() -> None:
    host = BusHost()
    host.set_clocks(HCLK=120e6, PCLK1=120e6)
    i2c = host.add("i2c1", "stm32l4_i2c", 0x40005400)
    hts = Hts221(DeviceConfig("hts", "hts221", address=HTS221), host)
    i2c.bus.attach(hts, HTS221)
    i2c.write(TIMINGR, 4, 0xB << 28 | 0x13 | 0xF << 8)  # PRESC 11: 10 MHz; SCLL 20 + SCLH 16 periods: 270 kHz
    i2c.write(L4_CR1, 4, 1)
    i2c.write(L4_CR2, 4, HTS221 << 1 | 1 << 16 | 1 << 13)  # write 1 byte (sub-address), software end
    _run(host, lambda: i2c.read(ISR, 4) & 2)  # TXIS
    i2c.write(TXDR, 4, 0x0F)
    _run(host, lambda: i2c.read(ISR, 4) & 64)  # TC
    i2c.write(L4_CR2, 4, HTS221 << 1 | 1 << 10 | 1 << 16 | 1 << 25 | 1 << 13)  # read 1, AUTOEND, restart
    _run(host, lambda: i2c.read(ISR, 4) & 4)
    assert i2c.read(RXDR, 4) == 0xBC
    _run(host, lambda: i2c.read(ISR, 4) & 32)  # STOPF
    i2c.write(ICR, 4, 32)
    i2c.write(L4_CR2, 4, 0x44 << 1 | 1 << 16 | 1 << 25 | 1 << 13)  # nobody at 0x44
    _run(host, lambda: i2c.read(ISR, 4) & 32)
    assert i2c.read(ISR, 4) & 16 and i2c.bus.nacked == {0x44: 1}  # NACKF, then STOP


def _lis3dsh_on_spi(host: BusHost, family: str) -> tuple[Any, Any, Any]:
    spi = host.add("spi1", f"stm32{family}_spi", 0x40013000, 35)
    gpioe = host.add("gpioe", f"stm32{family}_gpio", 0x40021000 if family == "f4" else 0x48001000)
    gpioe.write(0x00, 4, 1 << 6)  # PE3 output
    gpioe.write(0x18, 4, 1 << 3)  # high: deselected
    acc = Lis3dsh(DeviceConfig("acc", "lis3dsh", bus="spi1", cs="PE3"), host)
    spi.bus.attach(acc, gpioe.line(3))
    return spi, gpioe, acc


def _spi_xfer(host: BusHost, spi: Any, byte: int, width: int = 4) -> int:
    spi.write(0x0C, width, byte)
    _run(host, lambda: spi.read(0x08, 4) & 1)
    return spi.read(0x0C, width)


def test_f4_spi_reads_a_chip_selected_by_a_gpio_line() -> None:
    host = BusHost()
    host.f4_clocks()
    spi, gpioe, _acc = _lis3dsh_on_spi(host, "f4")
    spi.write(0x00, 4, 3 | 1 << 2 | 4 << 3 | 1 << 6 | 1 << 8 | 1 << 9)  # mode 3, master, /32, SPE, SSM, SSI
    assert _spi_xfer(host, spi, 0x8F) == 0xFF  # not selected: MISO floats high
    gpioe.write(0x18, 4, 1 << 19)  # PE3 low: select
    t0 = host.cycles
    _spi_xfer(host, spi, 0x8F)  # read WHO_AM_I
    assert host.cycles - t0 == 8 * 64  # 8 bits at 84 MHz / 32 = 2.625 MHz, 64 core cycles each
    assert _spi_xfer(host, spi, 0x00) == 0x3F
    gpioe.write(0x18, 4, 1 << 3)
    assert spi.frames == 3


def test_f4_spi_mode_fault_and_overrun() -> None:
    host = BusHost()
    host.f4_clocks()
    spi, _gpioe, _acc = _lis3dsh_on_spi(host, "f4")
    spi.write(0x00, 4, 1 << 2 | 1 << 6 | 1 << 9)  # master, SSM, SSI = 0: NSS low
    assert spi.read(0x08, 4) & 1 << 5 and not spi.read(0x00, 4) & 1 << 6  # MODF, SPE cleared
    spi.write(0x00, 4, 1 << 2 | 1 << 6 | 1 << 8 | 1 << 9)  # MODF cleared by SR read then CR1 write
    assert not spi.read(0x08, 4) & 1 << 5
    spi.write(0x0C, 4, 1)
    _run(host, lambda: not spi.read(0x08, 4) & 1 << 7)
    spi.write(0x0C, 4, 2)
    _run(host, lambda: not spi.read(0x08, 4) & 1 << 7)
    assert spi.read(0x08, 4) & 1 << 6  # OVR: the first frame was not read
    spi.read(0x0C, 4)
    spi.read(0x08, 4)
    assert not spi.read(0x08, 4) & 1 << 6


def test_l4_spi_fifo_packing_and_8bit_reads() -> None:
    host = BusHost()
    host.set_clocks(HCLK=120e6, PCLK2=120e6)
    spi, gpioe, _acc = _lis3dsh_on_spi(host, "l4")
    spi.write(0x04, 4, 7 << 8 | 1 << 12)  # DS = 8 bits, FRXTH
    spi.write(0x00, 4, 3 | 1 << 2 | 2 << 3 | 1 << 6 | 1 << 8 | 1 << 9)
    gpioe.write(0x18, 4, 1 << 19)
    spi.write(0x0C, 2, 0x00 << 8 | 0x8F)  # a 16-bit write: two 8-bit frames, 0x8F first
    _run(host, lambda: spi.read(0x08, 4) >> 9 & 3 == 2)  # FRLVL: two bytes received
    assert spi.read(0x0C, 1) == 0x00  # MISO during the command byte
    assert spi.read(0x0C, 1) == 0x3F  # WHO_AM_I


def test_l4_i2c_stream_arrival_cycles_follow_the_clock_timeline() -> None:
    """The arrival cycles of a streamed read's bytes (Stm32L4I2c._cycles_at: evenly spaced wire times carried as a
    quotient and remainder) are clock.Timeline.cycle_at of each, on segments of several rates, and the gap it gives
    is a lower bound of the cycles between two."""
    import random
    from types import SimpleNamespace

    from simcore.clock import Timeline
    from simcore.peripherals.stm32.i2c import Stm32L4I2c

    rng = random.Random(7)
    for hz in (80e6, 4e6, 120e6, 48e6, 16.777216e6, 1e6 / 3):
        line = Timeline(4e6, "MSI")
        line.switch(rng.randrange(1, 10**7), hz, "PLL")
        seg = line.current
        fake = SimpleNamespace(host=SimpleNamespace(clocks=SimpleNamespace(timeline=line), cycle_at_fs=line.cycle_at))
        for _ in range(20):
            step = rng.choice((22_500_000_000, 9 * 10**15 // 1_000_000, rng.randrange(1, 10**11)))
            w0 = seg.fs + rng.randrange(1, 10**13)
            wires = range(w0, w0 + rng.randrange(1, 300) * step, step)
            ats, gap = Stm32L4I2c._cycles_at(fake, wires)  # type: ignore[arg-type]
            assert ats == [line.cycle_at(w) for w in wires]
            assert all(b - a >= gap for a, b in zip(ats, ats[1:]))


def test_l4_i2c_lines_follow_the_enables_and_are_left_alone_without_them(monkeypatch: Any) -> None:
    """``Stm32L4I2c._irqs``: with no interrupt or DMA enable in CR1 and both lines low, a transfer's flag changes
    touch no line (the check is skipped); STOPF with STOPIE raises I2C1_EV, and clearing STOPIE lowers it again
    (CR1, RM0432 48.9.1)."""
    from simcore.peripherals.stm32.i2c import Stm32L4I2c

    host = BusHost()
    host.set_clocks(HCLK=120e6, PCLK1=120e6)
    i2c = host.add("i2c1", "stm32l4_i2c", 0x40005400)
    hts = Hts221(DeviceConfig("hts", "hts221", address=HTS221), host)
    i2c.bus.attach(hts, HTS221)
    calls = []
    own = Stm32L4I2c.set_lines
    monkeypatch.setattr(Stm32L4I2c, "set_lines", lambda self, ev, er: (calls.append((ev, er)), own(self, ev, er)))
    i2c.write(TIMINGR, 4, 0xB << 28 | 0x13 | 0xF << 8)
    i2c.write(L4_CR1, 4, 1)
    i2c.write(L4_CR2, 4, HTS221 << 1 | 2 << 16 | 1 << 25 | 1 << 13)  # write 2 bytes, AUTOEND
    for byte in (0x10, 0x12):  # AV_CONF
        _run(host, lambda: i2c.read(ISR, 4) & 2)  # TXIS
        i2c.write(TXDR, 4, byte)
    _run(host, lambda: i2c.read(ISR, 4) & 32)  # STOPF
    assert calls == [] and not host.irq_levels.get(i2c.ev_irq)
    i2c.write(L4_CR1, 4, 1 | 1 << 5)  # STOPIE with STOPF set: the event line rises
    assert host.irq_levels[i2c.ev_irq] is True
    i2c.write(L4_CR1, 4, 1)  # STOPIE cleared: it falls, though no enable is left
    assert host.irq_levels[i2c.ev_irq] is False
    i2c.write(ICR, 4, 32)
    assert host.irq_levels[i2c.ev_irq] is False and hts.values["AV_CONF"] == 0x12
