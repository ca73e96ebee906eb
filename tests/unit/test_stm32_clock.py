"""STM32 RCC, PWR and FLASH models driven through their registers on a fake clock (RM0090, RM0432)."""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost, peripheral

US = FS_PER_SECOND // 1_000_000
MS = FS_PER_SECOND // 1000
F4_RCC, L4_RCC = 0x40023800, 0x40021000


def _part(family: str, **rcc_options: Any) -> tuple[FakeHost, Any, Any, Any]:
    """RCC, PWR and FLASH of one part on a fake host, attached as the machine attaches them."""
    host = FakeHost(mhz=16)
    base = F4_RCC if family == "f4" else L4_RCC
    rcc = model_for(f"stm32{family}_rcc")(peripheral("rcc", f"stm32{family}_rcc", base, 5, **rcc_options), host)
    pwr = model_for(f"stm32{family}_pwr")(peripheral("pwr", f"stm32{family}_pwr", 0x40007000, None), host)
    flash = model_for(f"stm32{family}_flash")(peripheral("flash", f"stm32{family}_flash", 0x40023C00, None), host)
    host.peripherals.update({"rcc": rcc, "pwr": pwr, "flash": flash})
    host.clock_tree_changed(rcc)
    return host, rcc, pwr, flash


def _rd(model: Any, off: int) -> int:
    return model.read(off, 4)


def _wr(model: Any, off: int, value: int) -> None:
    model.write(off, 4, value)


def test_f4_reset_state_is_hsi_16mhz() -> None:
    host, rcc, _pwr, _flash = _part("f4")
    assert _rd(rcc, 0x00) == 0x83  # HSION, HSIRDY, HSITRIM 16 (RM0090 7.3.1)
    assert _rd(rcc, 0x04) == 0x24003010
    assert _rd(rcc, 0x08) & 0xC == 0  # SWS = HSI
    assert _rd(rcc, 0x74) == 0x0E000000  # power-on reset flags
    assert host.cycles_per_second() == 16e6 and host.clock_hz("PCLK1") == 16e6


def test_f4_hse_ready_after_its_start_up_time() -> None:
    host, rcc, _pwr, _flash = _part("f4", hse_hz=8e6)
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 1 << 16)
    assert _rd(rcc, 0x00) & (1 << 17) == 0
    host.advance_fs(2 * MS - 100 * US)
    assert _rd(rcc, 0x00) & (1 << 17) == 0
    host.advance_fs(100 * US)
    assert _rd(rcc, 0x00) & (1 << 17)
    assert host.clock_hz("HSE") == 8e6


def test_f4_hse_without_a_crystal_never_becomes_ready() -> None:
    host, rcc, _pwr, _flash = _part("f4", hse_hz=0)
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 1 << 16)
    host.advance_fs(FS_PER_SECOND)
    assert _rd(rcc, 0x00) & (1 << 17) == 0
    assert host.queue.next_cycle() is None  # nothing scheduled: a poll on HSERDY can never end


def _f4_to_168(host: FakeHost, rcc: Any, flash: Any, latency: int = 5) -> None:
    _wr(flash, 0x00, 0x700 | latency)
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 1 << 16)
    host.advance_fs(3 * MS)
    _wr(rcc, 0x08, (5 << 10) | (4 << 13))  # APB1 /4, APB2 /2
    _wr(rcc, 0x04, 8 | 336 << 6 | 0 << 16 | 1 << 22 | 7 << 24)
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 1 << 24)
    host.advance_fs(200 * US)
    assert _rd(rcc, 0x00) & (1 << 25)
    _wr(rcc, 0x08, _rd(rcc, 0x08) | 2)


def test_f4_pll_168mhz_and_the_bus_clocks() -> None:
    host, rcc, _pwr, flash = _part("f4", hse_hz=8e6)
    _f4_to_168(host, rcc, flash)
    assert _rd(rcc, 0x08) >> 2 & 3 == 2  # SWS = PLL
    assert host.cycles_per_second() == 168e6
    assert (host.clock_hz("PCLK1"), host.clock_hz("PCLK2")) == (42e6, 84e6)
    assert (host.clock_hz("TIMCLK1"), host.clock_hz("TIMCLK2")) == (84e6, 168e6)  # doubled: APBx divides
    assert host.clock_hz("PLL48CLK") == 48e6
    assert host.flash == (5, 1, True)  # ACR feeds the cycle model
    assert [s.source for s in host.clocks.timeline.changes()] == ["HSI", "PLL"]
    assert not host.unmodelled


def test_f4_switch_waits_for_the_source() -> None:
    host, rcc, _pwr, flash = _part("f4", hse_hz=8e6)
    _wr(flash, 0x00, 5)
    _wr(rcc, 0x08, 1)  # SW = HSE before HSE runs
    assert _rd(rcc, 0x08) >> 2 & 3 == 0 and host.cycles_per_second() == 16e6
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 1 << 16)
    host.advance_fs(3 * MS)
    assert _rd(rcc, 0x08) >> 2 & 3 == 1 and host.cycles_per_second() == 8e6


def test_f4_clock_driving_sysclk_cannot_stop_and_bad_pll_is_reported() -> None:
    host, rcc, _pwr, flash = _part("f4", hse_hz=8e6)
    _f4_to_168(host, rcc, flash)
    _wr(rcc, 0x00, _rd(rcc, 0x00) & ~(1 << 16))  # HSE feeds the PLL that drives SYSCLK
    assert _rd(rcc, 0x00) & (1 << 16) and "RCC.CR.HSEON" in host.unmodelled
    host2, rcc2, _p, _f = _part("f4", hse_hz=8e6)
    _wr(rcc2, 0x04, 4 | 100 << 6)  # VCO input 4 MHz, VCO 400 MHz, P /2 = 200 MHz from HSI
    _wr(rcc2, 0x00, _rd(rcc2, 0x00) | 1 << 24)
    detail = host2.unmodelled["RCC.PLLCFGR"]
    assert "VCO input 4 MHz" in detail and "PLL output 200 MHz" in detail


def test_f4_ready_interrupt_flags() -> None:
    host, rcc, _pwr, _flash = _part("f4", hse_hz=8e6)
    _wr(rcc, 0x0C, 1 << 11)  # HSERDYIE
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 1 << 16)
    host.advance_fs(3 * MS)
    assert _rd(rcc, 0x0C) & (1 << 3) and host.pends and host.pends[-1][1] == 5
    _wr(rcc, 0x0C, (1 << 11) | (1 << 19))  # HSERDYC
    assert _rd(rcc, 0x0C) == 1 << 11


def test_f4_too_low_latency_is_a_guest_error_at_the_switch() -> None:
    host, rcc, _pwr, flash = _part("f4", hse_hz=8e6)
    _f4_to_168(host, rcc, flash, latency=0)
    assert "needs 5" in host.unmodelled["FLASH.ACR.LATENCY"]
    assert host.flash == (0, 1, True)  # charged as written


def test_f4_reset_flags_and_backup_domain() -> None:
    host, rcc, pwr, _flash = _part("f4", lse_hz=32768)
    rcc.note_reset("iwdg")
    rcc.reset()  # the machine's system reset keeps CSR's flags
    assert _rd(rcc, 0x74) & (1 << 29) and _rd(rcc, 0x74) & (1 << 27)
    _wr(rcc, 0x74, 1 << 24)  # RMVF
    assert _rd(rcc, 0x74) & 0xFF000000 == 0
    _wr(rcc, 0x70, 1)  # LSEON without PWR_CR.DBP: ignored
    assert _rd(rcc, 0x70) == 0 and "RCC.BDCR" in host.unmodelled
    _wr(pwr, 0x00, _rd(pwr, 0x00) | 1 << 8)
    _wr(rcc, 0x70, 1 | 1 << 8 | 1 << 15)  # LSEON, RTCSEL = LSE, RTCEN
    host.advance_fs(2 * FS_PER_SECOND + MS)
    assert _rd(rcc, 0x70) & 2 and host.clock_hz("RTCCLK") == 32768
    rcc.reset()
    assert _rd(rcc, 0x70) & 2  # the backup domain survives a system reset


def test_rcc_reset_bit_resets_the_peripheral() -> None:
    host, rcc, _pwr, _flash = _part("f4")

    resets: list[str] = []

    class Probe:
        def __init__(self, name: str) -> None:
            self.name = name

        def reset(self) -> None:
            resets.append(self.name)

    host.peripherals.update({"usart2": Probe("usart2"), "tim2": Probe("tim2")})
    _wr(rcc, 0x20, 1 << 17)  # APB1RSTR.USART2RST (the F407 SVD calls the bit UART2RST)
    _wr(rcc, 0x20, 1 << 17)  # held: no second reset
    _wr(rcc, 0x20, 0)
    _wr(rcc, 0x20, 1)  # TIM2RST
    assert resets == ["usart2", "tim2"]
    _wr(rcc, 0x40, 1 << 17)
    assert rcc.clock_enabled("USART2") is True and rcc.clock_enabled("TIM2") is False


def test_l4_reset_is_msi_4mhz_from_csr() -> None:
    host, rcc, _pwr, flash = _part("l4")
    assert _rd(rcc, 0x94) & 0xF00 == 0x600  # MSISRANGE 6 (HAL reads it)
    assert host.cycles_per_second() == 4e6
    assert _rd(flash, 0x00) == 0x600  # ICEN, DCEN
    _wr(flash, 0x00, 0x600 | 2)
    _wr(rcc, 0x00, _rd(rcc, 0x00) & ~0xF0 | 1 << 3 | 11 << 4)  # MSIRGSEL, MSIRANGE 11: 48 MHz
    assert host.cycles_per_second() == 48e6
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 0xF0)  # MSIRANGE 15: not allowed, ignored
    assert host.cycles_per_second() == 48e6 and "RCC.CR.MSIRANGE" in host.unmodelled


def test_l4_pll_120mhz_needs_boost() -> None:
    host, rcc, pwr, flash = _part("l4")
    _wr(flash, 0x00, 0x700 | 5)
    _wr(rcc, 0x0C, 1 | 0 << 4 | 60 << 8 | 0 << 25 | 1 << 24)  # MSI, M 1, N 60, R 2, REN
    _wr(rcc, 0x00, _rd(rcc, 0x00) | 1 << 24)
    host.advance_fs(100 * US)
    assert _rd(rcc, 0x00) & (1 << 25)
    _wr(rcc, 0x08, 3)
    assert host.cycles_per_second() == 120e6
    assert "80 MHz maximum of voltage range 1" in host.unmodelled["FLASH.ACR.LATENCY"]  # R1MODE = 1: normal
    host2, rcc2, pwr2, flash2 = _part("l4")
    _wr(pwr2, 0x80, 0)  # R1MODE = 0: boost; VOSF while the regulator settles
    assert _rd(pwr2, 0x14) & (1 << 10)
    host2.advance_fs(25 * US)
    assert _rd(pwr2, 0x14) & (1 << 10) == 0
    assert pwr2.voltage_range() == "range 1 boost"


def test_l4_range2_latency_table() -> None:
    _host, _rcc, _pwr, flash = _part("l4")
    assert flash.required(8, "range 2") == (0, 26.0)
    assert flash.required(16, "range 2") == (1, 26.0)
    assert flash.required(24, "range 2") == (2, 26.0)
    assert flash.required(120, "range 1 boost") == (5, 120.0)
    assert flash.required(48, "range 1") == (2, 80.0)  # the L4+ HAL: MSI 48 MHz in range 1 -> 2 WS
