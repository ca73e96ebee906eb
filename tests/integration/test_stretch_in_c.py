"""The Nano 33 BLE Sense (Rev1) tick run in C for many ticks (issue 12, seventeenth round: hotpath.c hp_ks,
Machine._plan_stretch and settle_stretch).

After the FIFO_SRC read Python serves, C runs the following ticks itself -- the FIFO_SRC read and the drain taken and
woken at STOPPED with the chip's answers from its preview (Lsm9ds1.fifo_preview), RTC1's compare woken and the CC write
served along its chain (Nrf52Rtc.compare_chain), the console's transfers -- and the next sync replays them tick by tick
as the per-tick syncs did. The guest must see what it sees with the stretch off (Machine.STRETCH) and with the Python
hot path; the models must be the same at every Python entry the stretch leaves; a wrong answer in C's tables must be
caught at the settle; a snapshot taken at a pause inside a stretch, restored twice, must end as the plain run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from simcore.api import run_machine
from simcore.debug import Pause
from simcore.devices.lsm9ds1 import Lsm9ds1
from simcore.errors import InternalError
from simcore.machine import Machine
from simcore.peripherals.nrf52.rtc import Nrf52Rtc
from simcore.peripherals.nrf52.serial import Nrf52Twim
from tests.integration.test_tick_settle_lean import _rtc, _twim
from tests.integration.test_twim_read_in_c import _run
from tests.integration.test_wfi_wake_in_c import TICK_S, _machine, restored_twice_ends_as


def _chip(m: Machine) -> Lsm9ds1:
    return next(t for t in m.peripheral("twim1").bus.targets.values() if isinstance(t, Lsm9ds1))  # type: ignore[union-attr]


def _models(m: Machine) -> tuple[object, ...]:
    """The TWIM's, the RTC's and the chip's state, the NVIC's pending set and the sleep so far."""
    chip = _chip(m)
    fifo = chip.fifo
    twim, rtc = m.peripheral("twim1"), m.peripheral("rtc1")
    assert isinstance(twim, Nrf52Twim) and isinstance(rtc, Nrf52Rtc)
    return (_twim(twim), _rtc(rtc), tuple(map(tuple, fifo.runs)), fifo.level, fifo.next_k, fifo.overrun,
            dict(chip.stats_.counts), chip._ptr, chip._phase, sorted(m.system.exc.pending),
            sorted(m.system.exc.lines_high), m.system.sleep_cycles)


def _entries(monkeypatch: pytest.MonkeyPatch, frames: int) -> tuple[tuple[object, ...], Machine, dict[int, Any]]:
    """_run with the models recorded at every model access Python serves (inside its guard: after the sync), by the
    cycle of the access."""
    at: dict[int, Any] = {}
    own = Machine.guard_access

    def traced(self: Machine, fn: Callable[[], Any]) -> Any:
        def inside() -> Any:
            at[self.hot.state.cycle_count] = _models(self)
            return fn()

        return own(self, inside)

    monkeypatch.setattr(Machine, "guard_access", traced)
    seen, m, _ = _run(frames)
    monkeypatch.undo()
    return seen, m, at


def test_ticks_run_in_c_give_what_the_per_tick_paths_give(monkeypatch: pytest.MonkeyPatch) -> None:
    _run(240)  # (the block cache filled first: a cold one's first executions of divide blocks stop too)
    fast, m, on = _entries(monkeypatch, 240)
    assert "steps in" in fast[0] and fast[5] == 0
    ticks = int(m.now_seconds() / TICK_S)
    assert ticks >= 15
    # all ticks but the first two of a stretch (Python's FIFO_SRC read, the per-tick paths' tick after it) in C
    assert m.stretches_in_c >= 1 and m.stretch_ticks_in_c >= ticks - 3 * m.stretches_in_c
    monkeypatch.setattr(Machine, "STRETCH", False)
    per_tick, m1, off = _entries(monkeypatch, 240)
    assert m1.stretches_in_c == 0 and per_tick == fast
    assert len(on) < len(off) - ticks // 2  # a Python entry (the FIFO_SRC read) saved a tick
    assert set(on) <= set(off)
    assert all(on[c] == off[c] for c in on)  # the models at every entry the stretch leaves
    assert _models(m) == _models(m1)
    twin, m2, _ = _run(240, native=False)  # the Python hot path: no stretch, every access through the models
    assert m2._ks is None and twin == fast


def test_a_wrong_answer_in_the_preview_is_caught_at_the_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """FIFO_SRC's byte for every level made wrong in C's table (its lowest bit flipped) after each plan: the firmware
    reads it, and the settle's chip read differs from it: the run ends with an internal error, it does not go on."""
    own = Machine._plan_stretch

    def wrong(self: Machine, fl: Any) -> None:
        own(self, fl)
        ks = self._ks
        if ks is not None and ks.on:
            for level in range(ks.depth + 1):
                ks.src[level] ^= 1

    monkeypatch.setattr(Machine, "_plan_stretch", wrong)
    with pytest.raises(InternalError, match="differs from the preview"):
        run_machine(_machine(240))


def test_a_wrong_compare_in_the_chain_is_caught_at_the_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain's compares after its first one cycle early in C (the first is the per-tick paths' planned compare,
    which C's stop holds to): the first CC write C served then moves the compare to another cycle than the model's
    move, and C wakes the ticks after it before the model's events: the settle says so at the first."""
    own = Machine._plan_stretch

    def early(self: Machine, fl: Any) -> None:
        own(self, fl)
        ks = self._ks
        if ks is not None and ks.on:
            for i in range(1, ks.cc_n):
                ks.cc_cycle[i] -= 1

    monkeypatch.setattr(Machine, "_plan_stretch", early)
    with pytest.raises(InternalError, match="is not the model's move|C woke the tick at cycle"):
        run_machine(_machine(240))


def test_a_snapshot_paused_inside_a_stretch_restored_twice_ends_as_the_plain_run() -> None:
    """A pause asked for inside a stretch (at the polling watch's look at a new streak's first read, which C's register
    file hands to Python without a sync: PollWatch.first_poll) stops C at the next block boundary: the sync settles
    the ticks so far, the snapshot is taken there, and each run from it ends as the plain run."""
    plain, _, _ = _run(240)
    m = _machine(240)
    polls = m.polls
    own = polls.first_poll
    seen = {"n": 0}

    def first(poll: Any) -> Any:
        ks = m._ks
        if ks is not None and ks.n >= 3 and not seen["n"]:
            seen["n"] = ks.n
            m.request_pause(Pause("interrupt", "inside a stretch", pc=None))
        return own(poll)

    polls.first_poll = first  # type: ignore[method-assign]
    assert m.run().kind == "interrupt"
    polls.first_poll = own  # type: ignore[method-assign]
    assert seen["n"] >= 3 and m._ks is not None and m._ks.n == 0 and m.stretch_ticks_in_c >= 3
    restored_twice_ends_as(m, plain, lambda: m.stretch_ticks_in_c)
