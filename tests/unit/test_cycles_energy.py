"""Energy, average power and duty-cycle figures (simcore.energy) from cycles and board power figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simcore.board import Power
from simcore.cli import main
from simcore.energy import CR2032_MAH, CR2032_VOLTS, duty, estimate

BIN = Path(__file__).resolve().parents[2] / "firmware" / "bin"


def test_estimate_splits_active_and_sleep() -> None:
    p = Power(run_points=((1.0, 100.0), (100.0, 10000.0)), sleep_points=((1.0, 10.0),), voltage=3.0)
    e = estimate(p, mhz=50.0, cycles=150_000_000, sleep_cycles=100_000_000)  # 1 s active, 2 s asleep
    assert e.active_seconds == pytest.approx(1.0) and e.sleep_seconds == pytest.approx(2.0)
    assert e.run_current_a == pytest.approx(5e-3)  # 100 uA/MHz x 50 MHz
    assert e.active_joules == pytest.approx(3.0 * 5e-3 * 1.0)
    assert e.sleep_joules == pytest.approx(3.0 * 10e-6 * 2.0)
    assert e.average_watts == pytest.approx(e.joules / 3.0)


def test_currents_interpolate_between_datasheet_points_and_hold_outside() -> None:
    p = Power(run_points=((2.0, 2000.0), (16.0, 5000.0), (168.0, 40000.0)), sleep_points=((16.0, 2000.0),))
    assert p.run_ua(9.0) == pytest.approx(2000.0 + 3000.0 * 7 / 14)  # linear between 2 and 16 MHz
    assert p.run_ua(1.0) == 2000.0 and p.run_ua(200.0) == 40000.0  # flat outside the table
    assert p.sleep_ua(1.0) == p.sleep_ua(168.0) == 2000.0


def test_energy_uses_the_sleep_current_at_the_clock() -> None:
    from simcore.board import load_board

    pw = load_board("stm32f407vg").power
    slow, fast = estimate(pw, 16.0, 16_000_000, 16_000_000), estimate(pw, 168.0, 168_000_000, 168_000_000)
    assert slow.sleep_current_a == pytest.approx(2e-3) and fast.sleep_current_a == pytest.approx(12e-3)


def test_duty_cycle_average_power_and_coin_cell() -> None:
    p = Power(run_points=((1.0, 50.0), (64.0, 3200.0)), sleep_points=((1.0, 2.0),), voltage=3.0)
    e = estimate(p, mhz=64.0, cycles=640_000, sleep_cycles=0)  # 10 ms active at 3.2 mA
    d = duty(e, rate=1.0)
    assert d.busy_fraction == pytest.approx(0.01)
    assert d.average_current_a == pytest.approx(3.2e-3 * 0.01 + 2e-6 * 0.99)
    assert d.average_watts == pytest.approx(d.average_current_a * 3.0)
    assert d.under_1mw and d.keeps_up
    joules = CR2032_MAH * 1e-3 * 3600 * CR2032_VOLTS
    assert d.cr2032_hours == pytest.approx(joules / d.average_watts / 3600)
    busy = duty(e, rate=200.0)  # 2 s of work per second
    assert not busy.keeps_up and not busy.under_1mw and "cannot keep up" in busy.describe()
    with pytest.raises(ValueError):
        duty(e, rate=0)


def test_cli_summary_and_json_carry_cpi_flash_share_energy_and_duty(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    status = main(["run", "-q", str(BIN / "stm32f407vg" / "hello.elf"), "--board", "stm32f407vg", "--mhz", "168",
                   "--duty", "2", "--json", str(out)])
    assert status == 0
    err = capsys.readouterr().err
    assert "CPI" in err and "flash wait" in err and "energy" in err and "at 2/s" in err
    data = json.loads(out.read_text())
    assert data["cycle_model"] == "cortex-m4" and data["flash_wait_states"] == 5
    assert 0 < data["flash_wait_cycles"] < data["cycles"]
    assert data["energy"]["joules"] > 0 and data["duty"]["rate"] == 2.0
