"""IWDG and WWDG models on a fake clock (RM0090 sections 21-22, RM0432 sections 46-47)."""

from __future__ import annotations

from typing import Any

from simcore.clock import FS_PER_SECOND
from simcore.peripherals import model_for
from simcore.peripherals.testing import FakeHost, peripheral

MS = FS_PER_SECOND // 1000


def _iwdg(family: str = "f4") -> tuple[FakeHost, Any]:
    host = FakeHost(mhz=16)
    return host, model_for(f"stm32{family}_iwdg")(peripheral("iwdg", f"stm32{family}_iwdg", 0x40003000, None), host)


def test_iwdg_resets_after_its_timeout_unless_reloaded() -> None:
    host, w = _iwdg()
    w.write(0x00, 4, 0xCCCC)
    w.write(0x00, 4, 0x5555)
    w.write(0x04, 4, 0)  # /4: 8 kHz
    w.write(0x08, 4, 80)  # (80 + 1) / 8 kHz = 10.125 ms
    assert w.read(0x0C, 4) == 3  # PVU, RVU while the values cross into the LSI domain
    host.advance_fs(MS)
    assert w.read(0x0C, 4) == 0
    w.write(0x00, 4, 0xAAAA)
    host.advance_fs(10 * MS)
    w.write(0x00, 4, 0xAAAA)  # fed in time
    host.advance_fs(10 * MS)
    assert host.resets == []
    host.advance_fs(MS)  # 11 ms since the last reload
    assert len(host.resets) == 1 and host.resets[0][1] == "iwdg" and "10.125 ms" in host.resets[0][2]
    assert host.resets[0][0] == 338_000  # 10.125 ms after the reload at 11 ms, at 16 MHz


def test_iwdg_timeout_is_exact_in_virtual_time() -> None:
    host, w = _iwdg()
    w.write(0x00, 4, 0xCCCC)  # RLR 0xFFF, /4: 512 ms
    host.advance_fs(FS_PER_SECOND)
    (cycle, cause, _why), = host.resets
    assert cause == "iwdg" and cycle == 512 * 16_000  # 0.512 s at 16 MHz


def test_iwdg_registers_need_the_key() -> None:
    host, w = _iwdg()
    w.write(0x08, 4, 10)
    assert w.read(0x08, 4) == 0xFFF and "IWDG.RLR" in host.unmodelled


def test_l4_iwdg_window() -> None:
    host, w = _iwdg("l4")
    w.write(0x00, 4, 0xCCCC)
    w.write(0x00, 4, 0x5555)
    w.write(0x10, 4, 0x800)  # reloads allowed only once the counter is at or below 0x800
    host.advance_fs(MS)
    w.write(0x00, 4, 0xAAAA)  # counter near 0xFF7: too early
    assert host.resets and "above the window" in host.resets[0][2]


def _wwdg() -> tuple[FakeHost, Any]:
    host = FakeHost(mhz=16)
    host.set_clocks(PCLK1=16e6)
    return host, model_for("stm32f4_wwdg")(peripheral("wwdg", "stm32f4_wwdg", 0x40002C00, 0), host)


def test_wwdg_counts_on_pclk1_and_resets_at_0x3f() -> None:
    host, w = _wwdg()
    w.write(0x04, 4, 0x7F | 1 << 9)  # window 0x7F (any time), EWI
    w.write(0x00, 4, 0x80 | 0x7F)
    host.advance_to(4096 * 10)
    assert w.read(0x00, 4) == 0x80 | (0x7F - 10)
    host.advance_to(4096 * (0x7F - 0x40))
    assert host.pends and host.pends[-1] == (4096 * (0x7F - 0x40), 0) and w.read(0x08, 4) == 1  # EWIF
    assert host.resets == []
    host.advance_to(4096 * (0x7F - 0x3F))
    assert host.resets and host.resets[0][0] == 4096 * 0x40 and host.resets[0][1] == "wwdg"


def test_wwdg_reload_above_the_window_resets() -> None:
    host, w = _wwdg()
    w.write(0x04, 4, 0x50)
    w.write(0x00, 4, 0x80 | 0x7F)
    w.write(0x00, 4, 0x7F)
    assert host.resets and "above the window W = 0x50" in host.resets[0][2]


def test_wwdg_follows_a_pclk1_change() -> None:
    host, w = _wwdg()
    w.write(0x00, 4, 0x80 | 0x7F)
    host.advance_to(4096 * 16)  # 16 ticks at 16 MHz
    host.set_clocks(PCLK1=8e6)  # half the rate from here
    host.advance_to(4096 * 16 + 4096 * 2 * 8)
    assert w.read(0x00, 4) & 0x7F == 0x7F - 24
