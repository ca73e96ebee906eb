"""The run's cycle error bar: in the summary and JSON, equal in both hot paths, and covering --flash-data exact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simcore.api import prepare, run, run_machine
from tests.integration.test_i2c_stream_in_c import CSV
from tests.integration.test_sensors_audio import WAV

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "firmware" / "bin"


def test_error_bar_is_identical_in_both_hot_paths() -> None:
    bars = [run(BIN / "stm32f407vg" / "hello.elf", "stm32f407vg", mhz=168, native=n).extra["cycles_error_bar"]
            for n in (True, False)]
    assert bars[0] == bars[1]
    assert bars[0]["minus"] > 0 and bars[0]["plus"] > bars[0]["minus"]
    assert set(bars[0]["terms"]) >= {"refill", "unaligned_wide", "flash_data", "flash_prefetch"}


def test_flash_data_term_identical_in_both_hot_paths_when_the_firmware_programs_the_wait_states() -> None:
    """The Discovery's audio_events starts at reset's 0 wait states and writes FLASH.ACR (5) in main: the blocks
    that ran before are not probed in either hot path (the twin once judged by the board's figure, 40 cycles more)."""
    runs = [prepare(BIN / "stm32f4-discovery" / "audio_events.elf", "stm32f4-discovery", native=n,
                    sensors={"mic": WAV}, cmdline="audio_events.elf windows=1") for n in (True, False)]
    assert [m.hot.state.wait_states for m in runs] == [0, 0]  # reset: FLASH.ACR LATENCY 0
    results = [run_machine(m) for m in runs]
    assert [m.hot.state.wait_states for m in runs] == [5, 5]
    bars = [r.extra["cycles_error_bar"] for r in results]
    assert bars[0]["terms"]["flash_data"]["plus"] > 0
    assert bars[0] == bars[1]
    assert results[0].cycles == results[1].cycles


def test_literal_flash_data_bar_covers_the_exact_charge() -> None:
    """kws_demo reads its weights from flash: literal mode undercharges; the bar's upper side must reach exact."""
    elf = BIN / "stm32f407vg" / "kws_demo.elf"
    lit = run(elf, "stm32f407vg", mhz=168)
    exact = run(elf, "stm32f407vg", mhz=168, flash_data="exact")
    bar = lit.extra["cycles_error_bar"]
    undercharge = exact.cycles - lit.cycles
    assert undercharge > 0.05 * lit.cycles  # weights stream from flash at 5 wait states
    assert bar["terms"]["flash_data"]["plus"] >= undercharge
    assert bar["cycles_low"] <= lit.cycles <= exact.cycles <= bar["cycles_high"]
    assert "flash_data" not in exact.extra["cycles_error_bar"]["terms"]


def test_no_flash_data_term_without_flash_reads_or_wait_states() -> None:
    compute = run(BIN / "cortex-m4" / "compute.elf", "cortex-m4").extra["cycles_error_bar"]
    assert "flash_data" not in compute["terms"]  # the generic board has no wait states
    cpi1 = run(BIN / "cortex-m4" / "hello.elf", "cortex-m4", cycle_model="instructions")
    assert "cycles_error_bar" not in cpi1.extra  # CPI 1 is not a cycle estimate


def test_summary_and_json_carry_the_error_bar(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "simcore", "run", str(BIN / "stm32f407vg" / "hello.elf"), "--board",
                        "stm32f407vg", "--mhz", "168", "-q", "--json", str(out)], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stderr.splitlines() if x.startswith("error bar"))
    d = json.loads(out.read_text())
    bar = d["cycles_error_bar"]
    assert f"({bar['seconds_low'] * 1e3:.3f} to {bar['seconds_high'] * 1e3:.3f} ms;" in line
    assert f"{bar['percent'][0]:+.1f}% / {bar['percent'][1]:+.1f}%" in line
    assert bar["cycles_low"] < d["cycles"] < bar["cycles_high"]
    assert abs(bar["seconds_high"] - bar["cycles_high"] / 168e6) < 1e-12


def test_flash_terms_use_the_wait_states_the_firmware_set() -> None:
    """The Discovery's imu_steps_bus stays on the reset clock (16 MHz HSI, FLASH.ACR LATENCY 0): no flash wait state
    is charged, so the bar has no flash-data term, though the board's table gives 5 wait states at its top clock."""
    m = prepare(BIN / "stm32f4-discovery" / "imu_steps_bus.elf", "stm32f4-discovery",
                sensors={"accel": (CSV, {"end": "hold"})}, cmdline="imu_steps_bus.elf frames=50")
    r = run_machine(m)
    assert m.analyzer.flash.wait_states == 5 and m.hot.flash_ws_variable
    assert m.flash_ws_high == 0 and r.extra["flash_wait_cycles"] == 0
    assert "flash_data" not in r.extra["cycles_error_bar"]["terms"]
