"""The mps2-an386 board file, --memory overrides, and the CMSDK/MPS2 peripheral models on a fake clock.

Expected memory map and IDs: Arm AN386 and QEMU 7.2 hw/arm/mps2.c (mps2-an386).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simcore.board import Peripheral, builtin_boards, load_board, memory_overrides
from simcore.errors import BadInputError
from simcore.ldgen import memory_ld
from simcore.peripherals.cmsdk import CmsdkDualTimer, CmsdkTimer, DownCounter, Mps2FpgaIo, Mps2Scc
from simcore.peripherals.sensors.testing import FakeHost as SensorTestHost

ROOT = Path(__file__).resolve().parents[2]


def test_mps2_an386_memory_map_and_peripherals() -> None:
    b = load_board("mps2-an386")
    mems = {m.name: m for m in b.memories}
    assert (mems["ssram1"].base, mems["ssram1"].size, mems["ssram1"].kind) == (0, 4 << 20, "ram")
    assert mems["ssram1"].executable and mems["ssram1"].aliases == (0x00400000,)
    assert (mems["ssram23"].base, mems["ssram23"].size) == (0x20000000, 4 << 20)
    assert (mems["psram"].base, mems["psram"].size) == (0x21000000, 16 << 20)
    assert not b.flash
    assert b.default_mhz == 25 and b.reset_vtor == 0 and b.num_irq == 32 and b.console == "uart0"
    uarts = [(p.base, p.irq, p.options["tx_irq"]) for p in b.peripherals if p.type == "cmsdk_uart"]
    assert uarts == [(0x40004000, 0, 1), (0x40005000, 2, 3), (0x40006000, 4, 5), (0x40007000, 18, 19),
                     (0x40009000, 20, 21)]
    by_name = {p.name: p for p in b.peripherals}
    assert (by_name["timer0"].base, by_name["timer0"].irq) == (0x40000000, 8)
    assert (by_name["timer1"].base, by_name["timer1"].irq) == (0x40001000, 9)
    assert (by_name["dualtimer"].base, by_name["dualtimer"].irq) == (0x40002000, 10)
    assert by_name["fpgaio"].base == 0x40028000 and by_name["scc"].base == 0x4002F000
    assert by_name["scc"].options["id"] == 0x41043860


def test_ldgen_uses_the_linker_region_names_of_the_board() -> None:
    text = memory_ld(load_board("mps2-an386"))
    assert "FLASH  (rwx) : ORIGIN = 0x00000000, LENGTH = 0x400000" in text
    assert "RAM    (rwx) : ORIGIN = 0x20000000, LENGTH = 0x400000" in text
    assert "PSRAM" in text


def test_reference_board_file_loads_and_is_not_listed() -> None:
    ref = load_board(ROOT / "simcore" / "boards" / "reference.toml")
    assert ref.name == "reference"
    assert "reference" not in builtin_boards() and "mps2-an386" in builtin_boards()


def test_memory_overrides_change_size_and_base() -> None:
    b = load_board("cortex-m4", memory_overrides(["ram=256K", "flash=0x1000:64K"]))
    mems = {m.name: m for m in b.memories}
    assert mems["ram"].size == 256 * 1024 and mems["ram"].base == 0x20000000 and mems["ram"].kind == "ram"
    assert (mems["flash"].base, mems["flash"].size) == (0x1000, 64 * 1024)


@pytest.mark.parametrize("spec", ["ram", "ram=", "=4K", "ram=lots", "ram=0"])
def test_bad_memory_override_is_bad_input(spec: str) -> None:
    with pytest.raises(BadInputError):
        load_board("cortex-m4", memory_overrides([spec]))


def test_override_of_an_unknown_memory_names_the_real_ones() -> None:
    with pytest.raises(BadInputError, match="no memory named 'sram'.*flash, ram"):
        load_board("cortex-m4", memory_overrides(["sram=4K"]))


def test_cli_memory_override_makes_the_fit_check_fail(cli: Any) -> None:
    elf = ROOT / "firmware" / "bin" / "cortex-m4" / "hello.elf"
    ok = cli("size", elf, "--memory", "ram=64K")
    assert ok.status == 0 and "64.0 KiB" in ok.out
    res = cli("run", elf, "--memory", "flash=2K", "-q")
    assert res.status == 2 and "does not fit" in res.err


# --- models on a fake clock ------------------------------------------------------------------
class FakeHost(SensorTestHost):
    """The shared fake clock (simcore.peripherals.sensors.testing) at the MPS2's 25 MHz."""

    def __init__(self, hz: float = 25e6) -> None:
        super().__init__(mhz=hz / 1e6)

    @property
    def irqs(self) -> dict[int, bool]:
        return self.irq_levels

    def run_until(self, cycle: int) -> None:
        self.advance_to(cycle)


def model(cls: type, name: str, irq: int | None = None, **options: Any) -> tuple[Any, FakeHost]:
    host = FakeHost()
    return cls(Peripheral(name, cls.TYPE, 0x40000000, irq, options), host), host


def test_down_counter_arithmetic() -> None:
    c = DownCounter(anchor=0, start=3, reload=4)
    assert [c.value(t) for t in range(10)] == [3, 2, 1, 0, 4, 3, 2, 1, 0, 4]
    assert c.zeros_between(0, 8) == 2 and c.zeros_between(3, 7) == 0
    assert c.next_zero_after(0) == 3 and c.next_zero_after(3) == 8
    one = DownCounter(anchor=10, start=2, oneshot=True, reload=9)
    assert [one.value(t) for t in range(10, 15)] == [2, 1, 0, 0, 0] and one.next_zero_after(12) is None


def test_cmsdk_timer_counts_raises_a_level_irq_and_clears() -> None:
    t, host = model(CmsdkTimer, "timer0", irq=8)
    assert t.read(0xFE0, 4) == 0x22 and t.read(0xFF0, 4) == 0x0D
    t.write(0x08, 4, 999)  # RELOAD
    t.write(0x04, 4, 999)  # VALUE
    t.write(0x00, 4, 0x9)  # ENABLE | IRQEN
    host.run_until(400)
    assert t.read(0x04, 4) == 599 and t.read(0x0C, 4) == 0 and not host.irqs.get(8)
    host.run_until(999)
    assert t.read(0x0C, 4) == 1 and host.irqs[8] is True
    t.write(0x0C, 4, 1)  # INTCLEAR
    assert t.read(0x0C, 4) == 0 and host.irqs[8] is False
    host.run_until(1999)  # the next zero, 1000 ticks later
    assert host.irqs[8] is True


def test_cmsdk_timer_status_without_irq_enable_is_computed_on_read() -> None:
    t, host = model(CmsdkTimer, "timer1", irq=9)
    t.write(0x08, 4, 10)
    t.write(0x04, 4, 10)
    t.write(0x00, 4, 0x1)  # ENABLE only
    assert host.next_event_cycle() is None  # nothing scheduled when the interrupt is off
    host.cycles = 50
    assert t.read(0x0C, 4) == 1 and not host.irqs.get(9)


def test_dual_timer_periodic_and_free_running() -> None:
    d, host = model(CmsdkDualTimer, "dualtimer", irq=10)
    assert d.read(0x04, 4) == 0xFFFFFFFF and d.read(0x08, 4) == 0x20  # reset Value and Control
    d.write(0x00, 4, 100)  # Timer1Load
    d.write(0x08, 4, 0x80 | 0x40 | 0x20 | 0x02)  # enable, periodic, int enable, 32-bit
    host.run_until(50)
    assert d.read(0x04, 4) == 50 and d.read(0x10, 4) == 0
    host.run_until(100)
    assert d.read(0x10, 4) == 1 and d.read(0x14, 4) == 1 and host.irqs[10] is True
    d.write(0x0C, 4, 1)  # Timer1IntClr
    assert d.read(0x14, 4) == 0 and host.irqs[10] is False
    host.run_until(150)
    assert d.read(0x04, 4) == 51  # zero at tick 100, Load (100) again at 101: Load + 1 ticks per period
    d.write(0x28, 4, 0x80 | 0x02 | 0x04)  # Timer2: enable, free-running, 32-bit, prescale /16
    host.run_until(150 + 16 * 3)
    assert d.read(0x24, 4) == 0xFFFFFFFF - 3


def test_fpgaio_counters_follow_virtual_time() -> None:
    f, host = model(Mps2FpgaIo, "fpgaio", prescale_hz=25_000_000)
    host.cycles = int(2.5 * 25e6)
    assert f.read(0x10, 4) == 2 and f.read(0x14, 4) == 250
    f.write(0x10, 4, 100)
    host.cycles += 25_000_000
    assert f.read(0x10, 4) == 101
    f.write(0x1C, 4, 4)  # PRESCALE
    f.write(0x20, 4, 2)  # PSCNTR
    f.write(0x18, 4, 0)  # COUNTER
    host.cycles += 2
    assert (f.read(0x20, 4), f.read(0x18, 4)) == (0, 0)
    host.cycles += 1
    assert (f.read(0x20, 4), f.read(0x18, 4)) == (4, 1)
    host.cycles += 10
    assert (f.read(0x20, 4), f.read(0x18, 4)) == (4, 3)
    f.write(0x00, 4, 3)
    assert f.read(0x00, 4) == 3 and f.leds[-1][1] == 3
    assert f.read(0x28, 4) == 0 and f.read(0x08, 4) == 0


def test_scc_ids_and_oscillator_channel() -> None:
    s, host = model(Mps2Scc, "scc", id=0x41043860, aid=0x00200008, cfg4=2)
    assert s.read(0xFFC, 4) == 0x41043860 and s.read(0xFF8, 4) == 0x00200008 and s.read(0x10, 4) == 2
    assert s.read(0x100, 4) == 0xFFFF0001
    s.write(0xA8, 4, (1 << 31) | (1 << 20) | 2)  # START, function 1 (oscillator), device 2: read
    assert s.read(0xAC, 4) == 1 and s.read(0xA0, 4) == 25_000_000
    s.write(0xA4, 4, 12_345)
    s.write(0xA8, 4, (1 << 31) | (1 << 30) | (1 << 20) | 0)  # write oscillator 0
    s.write(0xA8, 4, (1 << 31) | (1 << 20) | 0)
    assert s.read(0xA0, 4) == 12_345
    s.write(0xA8, 4, (1 << 31) | (7 << 20))  # unknown function: DONE | ERROR
    assert s.read(0xAC, 4) == 3 and "scc.CFGCTRL" in host.unmodelled
