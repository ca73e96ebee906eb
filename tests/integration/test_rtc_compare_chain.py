"""The RTC1 compare chain (Nrf52Rtc.compare_chain): the K next compares a K-tick stretch in C would wake, told by the
model at one compare; the Nano 33 BLE Sense's imu_steps_bus moves CC[0] on by 4096 at each.

Every compare the run then really makes (the model's counter event, the CC value it matches and its cycle) is checked
against each chain told before it: a chain that counted the values, the ticks or the cycles wrong fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import run_machine
from simcore.peripherals.nrf52.rtc import Nrf52Rtc
from tests.integration.test_wfi_wake_in_c import _machine


def _ticks(frames: int, monkeypatch: pytest.MonkeyPatch, k: int) -> tuple[list[tuple[int, int]], list[Any]]:
    """Run imu_steps_bus on the Rev1: every RTC1 compare (cycle, CC[0] then) and the chain of ``k`` told at each
    (with its times as cycles), taken before the model runs that compare."""
    m = _machine(frames)
    seen: list[tuple[int, int]] = []
    chains: list[Any] = []
    own = Nrf52Rtc._on_tick

    def on_tick(self: Nrf52Rtc) -> None:
        if self.svd_name == "RTC1":
            chain = self.compare_chain(k)
            if chain is not None:
                n, values, fs = chain
                chains.append((len(seen), n, values, tuple(m.clocks.timeline.cycle_at(f) for f in fs)))
            seen.append((m.hot.state.cycle_count, self.values["CC0"]))
        own(self)

    monkeypatch.setattr(Nrf52Rtc, "_on_tick", on_tick)
    run_machine(m)
    return seen, chains


def test_the_compares_after_a_chain_are_what_it_tells(monkeypatch: pytest.MonkeyPatch) -> None:
    seen, chains = _ticks(400, monkeypatch, 6)
    assert len(seen) >= 20 and len(chains) >= len(seen) - 2
    checked = 0
    for at, n, values, cycles in chains:
        assert n == 0
        later = seen[at + 1: at + 1 + len(values)]
        for (cycle, cc), value, c in zip(later, values, cycles, strict=False):
            assert (cycle, cc) == (c, value)
            checked += 1
    assert checked >= 6 * (len(chains) - 8)
    steps = {(b[1] - a[1]) & 0xFFFFFF for a, b in zip(seen, seen[1:], strict=False)}
    assert steps == {4096}  # (what the firmware's tick is: the chain's step is the model's, not assumed)


def test_no_chain_where_another_target_comes_within_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """CC[1] set 3 steps past CC[0]'s match: a chain of 2 holds, one of 3 or more would pass it (its COMPARE, or
    its nearer event, would come first): none."""
    m = _machine(40)
    got: list[object] = []
    own = Nrf52Rtc._on_tick

    def on_tick(self: Nrf52Rtc) -> None:
        if self.svd_name == "RTC1" and not got and self.compare_chain(4) is not None:
            v = self.values["CC0"]
            cc1 = self.values["CC1"]
            self.values["CC1"] = (v + 3 * 4096) & 0xFFFFFF
            self._plan_cache = None  # (the cached count is per event: recounted with CC[1] there)
            got.extend([self.compare_chain(2) is not None, self.compare_chain(3), self.compare_chain(4)])
            self.values["CC1"] = cc1
            self._plan_cache = None
        own(self)

    monkeypatch.setattr(Nrf52Rtc, "_on_tick", on_tick)
    run_machine(m)
    assert got == [True, None, None]
