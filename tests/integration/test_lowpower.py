"""Sleep, Stop and Standby on the STM32 parts (simcore/lowpower.py): virtual time, clocks and energy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import simcore.api as sc
from simcore.board import Peripheral
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel
from simcore.registers import Register

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "firmware" / "bin"
MS = 10**12  # femtoseconds
WAKEUP_BASE = 0x50070000  # no peripheral of either part's SVD is there


@register_model
class WakeupStandIn(PeripheralModel):
    """Tests only: a stand-in for the RTC wake-up timer until the RTC model is on main. A write of N to ARM
    asserts the interrupt N ms of virtual time later (scheduled at a virtual time, as on the LSE domain)."""

    TYPE = "test_wakeup_timer"
    SIZE = 0x400
    REGISTERS = (Register("ARM", 0x00),)

    def __init__(self, config: Peripheral, host: Any, registers: Any = None) -> None:
        self.fired_at: list[float] = []
        super().__init__(config, host, registers)

    def write_ARM(self, value: int) -> None:
        self.values["ARM"] = value
        self.host.schedule_at_fs(self.host.now_fs() + value * MS, self._fire, "wake-up stand-in")

    def _fire(self) -> None:
        self.fired_at.append(self.host.now_seconds())
        assert self.irq is not None
        self.host.pend_irq(self.irq)


def _board_with_wakeup(tmp_path: Path, part: str) -> Path:
    board = tmp_path / f"{part}-wakeup.toml"
    board.write_text(f'extends = "{part}"\nname = "{part}-wakeup"\n\n[[peripheral]]\nname = "wkup"\n'
                     f'type = "test_wakeup_timer"\nbase = {WAKEUP_BASE:#x}\nirq = 3\n')
    return board


@pytest.mark.parametrize("board", ["stm32f407vg", "stm32l4r5zi"])
def test_sleep_stop_and_standby_across_boots(board: str) -> None:
    r = sc.run(BIN / board / "lowpower.elf", board)
    assert r.exit_status == 0, r.stop.message
    f4 = board == "stm32f407vg"
    stop = "stop_lp" if f4 else "stop2"
    lines = r.text.splitlines()
    assert lines[0] == "lowpower: power-on; Sleep for 100 SysTick periods of 1 ms"
    hz = 16e6 if f4 else 4e6
    cycles = int(lines[1].split()[4])
    assert lines[1].startswith("lowpower: 100 ticks in ") and abs(cycles - 0.1 * hz) < 100
    assert lines[2] == f"lowpower: {'Stop (low-power regulator)' if f4 else 'Stop 2'} with the IWDG at 50 ms"
    assert lines[3].startswith("lowpower: reset by the IWDG, which ran in Stop")
    assert lines[4].startswith("lowpower: woke from Standby (SBF set, wake-up flag 0")
    assert lines[5] == "lowpower: SBF cleared: 0"
    lp = r.to_dict()["low_power"]
    assert lp["entries"] == {stop: 1, "standby": 1}
    for mode in (stop, "standby"):  # the IWDG: 400 ticks of the 8 kHz prescaled LSI, counted in Stop too
        assert 0.0499 < lp["seconds"][mode] <= 0.0500
    assert [w["woke_by"] for w in lp["wakeups"]] == ["reset", "reset"]
    assert [x["cause"] for x in r.resets] == ["iwdg", "iwdg"]
    kinds = [seg["kind"] for seg in r.clock["timeline"]]
    assert kinds == ["run", stop, "run", "standby", "run"]
    # virtual time: 100 ms asleep in Sleep, 2 x 50 ms stopped, a few ms of code at the reset clock
    assert 0.200 < r.seconds < 0.210
    e = r.to_dict()["energy"]
    power = sc.prepare(BIN / board / "lowpower.elf", board).board.power
    for mode in (stop, "standby"):
        d = e["deep_sleep"][mode]
        assert d["current_a"] == pytest.approx(power.deep_sleep_ua(mode) * 1e-6) and d["current_a"] > 0
        assert d["joules"] == pytest.approx(power.voltage * d["current_a"] * d["seconds"])
    assert e["joules"] == pytest.approx(e["active_joules"] + e["sleep_joules"] + e["stop_joules"])
    assert e["sleep_seconds"] == pytest.approx(0.1, abs=2e-3)  # Sleep: wfi with SLEEPDEEP clear
    assert abs(r.sleep_cycles - 0.1 * hz) < 0.002 * hz  # kept across the two resets


@pytest.mark.parametrize(("part", "args", "before", "after"), [
    ("stm32f407vg", "", "HSE", "HSI"),  # RM0090 5.3.4: HSI after Stop, whatever ran before
    ("stm32l4r5zi", "", "MSI", "MSI"),  # RM0432 6.3.6: STOPWUCK = 0, the MSI at its range (16 MHz)
    ("stm32l4r5zi", " hsi", "MSI", "HSI16"),  # STOPWUCK = 1
])
def test_stop_wakes_on_an_interrupt_on_the_wakeup_clock(tmp_path: Path, part: str, args: str, before: str,
                                                         after: str) -> None:
    r = sc.run(BIN / part / "lowpower.elf", _board_with_wakeup(tmp_path, part),
               cmdline=f"lowpower.elf resume {WAKEUP_BASE:#x} 20{args}")
    assert r.exit_status == 0, r.stop.message
    assert r.text.splitlines() == [f"lowpower: before Stop on {before}",
                                   f"lowpower: woken by 1 interrupt(s), running on {after}"]
    lp = r.to_dict()["low_power"]
    mode = "stop_lp" if part == "stm32f407vg" else "stop2"
    assert lp["entries"] == {mode: 1}
    assert 0.0199 < lp["seconds"][mode] <= 0.020  # armed a few instructions before the wfi
    assert lp["wakeups"][0]["woke_by"] == "interrupt"
    timeline = [(seg["kind"], seg["mhz"], seg["source"]) for seg in r.clock["timeline"]]
    want_mhz = {"HSI": 16, "HSI16": 16, "MSI": 16}[after]
    assert timeline[-2][0] == mode and timeline[-1] == ("run", want_mhz, "HSI" if after != "MSI" else "MSI")


def test_stop_with_nothing_to_wake_it_is_sleeping_forever(tmp_path: Path) -> None:
    r = sc.run(BIN / "stm32f407vg" / "lowpower.elf", "stm32f407vg",
               cmdline=f"lowpower.elf resume {WAKEUP_BASE:#x} 20")  # no wake-up source on this board
    assert r.exit_status == 125 and r.stop.kind == "sleeping"
    assert "sleeps in stop_lp mode" in r.stop.message and "sleeping forever" in r.stop.message


def test_unknown_deep_sleep_mode_in_a_board_file_is_bad_input(tmp_path: Path) -> None:
    board = tmp_path / "bad.toml"
    board.write_text('extends = "stm32f407vg"\nname = "bad"\n\n[power]\ndeep_sleep_ua = { nap = 1.0 }\n')
    with pytest.raises(BadInputError, match="deep_sleep_ua .* a table of currents in uA keyed by stop, stop_lp"):
        sc.run(BIN / "stm32f407vg" / "hello.elf", board)
