"""Polling loops fast-forwarded in C (hotpath.c hp_poll_read, simcore/poll.py's registered shapes) give the counts
of poll.py's fast-forward in Python and of a run that executes every poll (SIMCORE_POLL_FF=python / 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import simcore.api as sc

BIN = Path(__file__).resolve().parents[2] / "firmware" / "bin"

# (ELF under firmware/bin, board, command line or None): loops on registers the register file serves
CASES = [
    ("nrf52840/nrf_uarte", "nrf52840", None),  # EVENTS_ENDTX while the UARTE's interrupt is off (FIT entries)
    ("nrf52840/nrf_clock", "nrf52840", None),  # CLOCK.EVENTS_*STARTED and the console's ENDTX
    ("nrf52840/poll_wait", "nrf52840", "poll_wait.elf plaintimeout"),  # plain COMP register, timeout on the tick
    ("stm32f407vg/poll_wait", "stm32f407vg", "poll_wait.elf plaintimeout"),  # plain SDIO.STA, the same
    ("stm32f407vg/poll_wait", "stm32f407vg", "poll_wait.elf hal"),  # model registers read by Python
]
# what a fast-forward changes besides the polling figures: how many of the loop's reads and block executions
# were executed rather than skipped (a register's read count, the error bar's per-execution terms)
EXECUTED = ("wall_seconds", "polling", "reports", "cycles_error_bar")


def _run(elf: str, board: str, cmdline: str | None, monkeypatch: pytest.MonkeyPatch, mode: str,
         **kw: Any) -> dict[str, Any]:
    monkeypatch.setenv("SIMCORE_POLL_FF", mode)
    r = sc.run(BIN / f"{elf}.elf", board, **({"cmdline": cmdline} if cmdline else {}), **kw)
    assert r.stop.kind == "exit", r.stop.message
    return r.to_dict()


def _counts(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in EXECUTED}


@pytest.mark.parametrize(("elf", "board", "cmdline"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_c_python_and_no_fast_forward_give_the_same_counts(elf: str, board: str, cmdline: str | None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    c = _run(elf, board, cmdline, monkeypatch, "1")
    py = _run(elf, board, cmdline, monkeypatch, "python")
    off = _run(elf, board, cmdline, monkeypatch, "0")
    assert off["polling"]["fast_forwards"] == 0
    assert py["polling"]["fast_forwards_in_c"] == 0
    assert _counts(c) == _counts(py) == _counts(off)
    if "hal" not in (cmdline or ""):  # the HAL mode's loops read model registers: Python serves every read
        assert c["polling"]["fast_forwards_in_c"] >= 1, c["polling"]
        assert c["polling"]["cycles_skipped"] > 0.5 * py["polling"]["cycles_skipped"]


def test_tick_timeout_on_a_plain_register_is_advanced_in_c(monkeypatch: pytest.MonkeyPatch) -> None:
    """HAL's timeout on a plain register (SDIO.STA, only a write changes it) while SysTick counts the 100 ms in
    RAM: every tick after the first is reached from C (the SysTick C enters itself preempts the loop)."""
    c = _run("stm32f407vg/poll_wait", "stm32f407vg", "poll_wait.elf plaintimeout", monkeypatch, "1")
    pol = c["polling"]
    assert pol["fast_forwards_in_c"] >= 99 and pol["places"]["SDIO.STA in main"] >= 100, pol


def test_the_python_hot_path_gives_the_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _run("nrf52840/nrf_uarte", "nrf52840", None, monkeypatch, "1")
    twin = _run("nrf52840/nrf_uarte", "nrf52840", None, monkeypatch, "1", native=False)
    assert twin["polling"]["fast_forwards_in_c"] == 0 and twin["native_hot_path"] is False
    assert {k: v for k, v in _counts(c).items() if k != "native_hot_path"} == \
        {k: v for k, v in _counts(twin).items() if k != "native_hot_path"}


def test_loops_on_a_timed_entry_are_learnt_in_c(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Discovery's SPI1 SR while the register file streams a transfer (a TIMED schedule, whose reads never
    reach Python's watch): C finds the RXNE loop, Python checks its RAM once, and C advances it at every byte
    after; the counts equal poll.py's and a run with no fast-forward."""
    from tests.integration.test_sensors_imu import CSV

    kw = {"sensors": {"accel": (CSV, {"end": "hold"})}}
    c = _run("stm32f4-discovery/imu_steps_bus", "stm32f4-discovery", "imu_steps_bus.elf frames=300", monkeypatch,
             "1", **kw)
    py = _run("stm32f4-discovery/imu_steps_bus", "stm32f4-discovery", "imu_steps_bus.elf frames=300", monkeypatch,
              "python", **kw)
    off = _run("stm32f4-discovery/imu_steps_bus", "stm32f4-discovery", "imu_steps_bus.elf frames=300", monkeypatch,
               "0", **kw)
    pol = c["polling"]
    assert pol["fast_forwards_in_c"] >= 1000 and pol["places"].get("SPI1.SR in main", 0) >= 1000, pol
    assert pol["loop_shapes_verified"] >= 1 and py["polling"]["fast_forwards_in_c"] == 0
    assert _counts(c) == _counts(py) == _counts(off)
