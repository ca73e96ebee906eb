"""Busy-waits on timer flags and counters fast-forward to the moment they change, with the counts of every poll
executed (simcore/poll.py; the STM32 TIM model's poll_hint, the nRF52 TIMER/RTC events): poll_wait's timer modes."""

from __future__ import annotations

from pathlib import Path

import pytest

import simcore.api as sc
from simcore import machine, poll

BIN = Path(__file__).resolve().parents[2] / "firmware" / "bin"
LFRC_START_S = 600e-6  # nRF52840 PS v1.7 LFRC start-up (typical), the CLOCK model's figure
# (board, mode, register polled, the wait in seconds from the datasheets' clocks)
CASES = [
    ("stm32f407vg", "tim2 10", "TIM2.SR", 10 / 1000),  # RM0090 18.3: 10 counts of a 1 kHz counter, one pulse
    ("stm32f407vg", "tim6 10", "TIM6.SR", 10 * 2 / 2000),  # RM0090 20.3: 10 updates of 2 counts at 2 kHz
    ("stm32f407vg", "cnt 10", "TIM2.CNT", 10 / 1000),  # CNT reaches 10 at 1 kHz
    ("nrf52840", "timer 5", "TIMER1.EVENTS_COMPARE[0]", 5000 / 1e6),  # PS 6.30: CC[0] = 5000 at 1 MHz
    ("nrf52840", "rtc 5", "RTC1.EVENTS_COMPARE[0]", LFRC_START_S + -(-32768 * 5 // 1000) / 32768),  # PS 6.22
    ("nrf52840", "rtctick 2", "RTC1.EVENTS_TICK", LFRC_START_S + 2 * 328 / 32768),  # PRESCALER 327: 328 per tick
]
HZ = {"stm32f407vg": 16e6, "nrf52840": 64e6}  # the reset clocks (HSI; HCLK64M)
SETUP_CYCLES = 2000  # the firmware's own set-up between its DWT start and the wait (measured: 300-400)


def _run(board: str, mode: str) -> sc.RunResult:
    return sc.run(BIN / board / "poll_wait.elf", board, cmdline=f"poll_wait.elf {mode}")


@pytest.mark.parametrize(("board", "mode", "register", "seconds"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_timer_wait_fast_forwards_with_the_counts_of_every_poll(board: str, mode: str, register: str, seconds: float,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _run(board, mode)
    assert fast.exit_status == 0, fast.stop.message
    cycles = int(fast.text.split(": ")[1].split()[0])  # the firmware's DWT count around the wait
    want = seconds * HZ[board]
    assert want <= cycles < want + SETUP_CYCLES, (fast.text, want)
    pol = fast.extra["polling"]
    assert pol["places"].get(f"{register} in main", 0) >= 1, pol["places"]
    assert pol["cycles_skipped"] > 0.9 * want  # nearly all of the wait was skipped, not executed
    monkeypatch.setattr(poll.PollWatch, "on_read", lambda *a, **k: None)  # every poll executed
    monkeypatch.setattr(machine, "POLL_THRESHOLD", 0)
    slow = _run(board, mode)
    assert slow.extra["polling"]["fast_forwards"] == 0
    assert (slow.instructions, slow.cycles, slow.text) == (fast.instructions, fast.cycles, fast.text)


def test_counter_poll_moves_one_counter_tick_at_a_time() -> None:
    """`while (TIM2->CNT < 10)` on a 1 kHz counter: CNT changes at each counter tick with no event, so each
    fast-forward ends at the next tick (poll_hint's cycle), never past it: one per tick."""
    r = _run("stm32f407vg", "cnt 10")
    assert r.extra["polling"]["places"]["TIM2.CNT in main"] == 10
