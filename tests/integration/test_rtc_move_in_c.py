"""RTC1's compare moved on in C after the wfi wake at its match (hotpath.c hp_cc_move; Machine._plan_move,
settle_move; Nrf52Rtc._move_plan).

The Nano 33 BLE Sense (Rev1) imu_steps_bus waits for RTC1 COMPARE0 in ``wfi`` (C wakes it: test_wfi_wake_in_c.py),
clears the event and its pending line, then writes ``CC[0] += 4096`` (common/nano_imu.h nano_tick_wait). With the
wake planned, Python plans that write too: the exact next value (the last write's step), before the counter's next
tick, after that wake. C stores it in the register file and makes the moved compare's cycle the next stop at the
latest; the RTC model's write runs at Python's next sync as of the write's cycle. The guest must see exactly what it
sees with the plan off (every CC write through Python) and with the Python hot path (``native=False``): the whole run
JSON but wall times; and a snapshot taken with a C-moved compare pending, restored twice, must end the same each time.
"""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from simcore.abi import NEVER
from simcore.api import prepare, run_machine
from simcore.machine import Machine
from simcore.snapshot import Snapshot
from tests.conftest import ROOT, elf, figures
from tests.integration.test_wfi_wake_in_c import pause_after_settled

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths

CSV = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
REV1 = "arduino-nano-33-ble-sense"
RTC1_CC0 = 0x40011000 + 0x540  # RTC1 (PS v1.7 6.22.10: base 0x40011000), CC[0]


def _prepare(app: str, frames: int, **kw: Any) -> Machine:
    return prepare(elf(REV1, app), REV1, sensors={"imu": (CSV, {"end": "hold", "resample": True})},
                   cmdline=f"{app}.elf frames={frames}", **kw)


def _run(app: str, frames: int, **kw: Any) -> tuple[dict[str, Any], Machine]:
    m = _prepare(app, frames, **kw)
    return figures(run_machine(m), drop=()), m


@pytest.mark.parametrize(("app", "frames"), [("imu_steps_bus", 240), ("imu_gestures", 120)])
def test_compares_moved_in_c_keep_every_figure(app: str, frames: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m = _run(app, frames)
    assert fast["stop"]["kind"] == "exit" and fast["exit_status"] == 0
    # every tick C woke is followed by the firmware's CC[0] write, and all but the first (no step known yet) in C
    assert m.wakes_in_c >= 5 and m.wakes_in_c - 1 <= m.moves_in_c <= m.wakes_in_c
    assert m.hot.state.mv_done == m.moves_in_c
    assert m.peripheral("rtc1").values["CC0"] == m.bus.rf.value(m.peripheral("rtc1")._c_plain["CC0"])
    monkeypatch.setattr(Machine, "_plan_move", lambda self, top: None)  # every CC write Python's
    slow, m2 = _run(app, frames)
    assert m2.moves_in_c == 0 and m2.hot.state.mv_done == 0 and m2.wakes_in_c >= 5
    assert slow == fast
    monkeypatch.undo()
    twin, m3 = _run(app, frames, native=False)  # the Python hot path: no wake, no move in C
    assert m3.moves_in_c == 0
    own = ("native_hot_path", "polling", "cycles_error_bar")  # how each path got there, not what the guest saw
    assert {k: v for k, v in twin.items() if k not in own} == {k: v for k, v in fast.items() if k not in own}


def test_a_snapshot_with_a_moved_compare_pending_restored_twice_ends_as_the_plain_run() -> None:
    plain, _ = _run("imu_steps_bus", 240)
    m = pause_after_settled(_prepare("imu_steps_bus", 240), "settle_move", 3, "compare move")
    rtc = m.peripheral("rtc1")
    at_pause = m.moves_in_c
    cc = rtc.values["CC0"]
    # the moved compare is the RTC's pending event: CC[0] ticks after the count now, within one step
    assert at_pause == 3 and rtc._event is not None and rtc._event[3] is not None and not rtc._event[3].cancelled
    assert 0 < (cc - rtc.counter()) % (1 << 24) <= rtc._cc_step[0] == 4096
    snap = Snapshot.take(m)
    assert figures(run_machine(m), drop=()) == plain and m.moves_in_c > at_pause
    for _ in range(2):
        snap.restore(m)
        assert m.moves_in_c == at_pause and rtc.values["CC0"] == cc
        assert figures(run_machine(m), drop=()) == plain and m.moves_in_c > at_pause


def test_hp_ack_serves_only_the_planned_write_after_the_wake() -> None:
    """hp_cc_move through hp_ack on a machine paused outside emulation, with a hand-made plan: another value, another
    register, no C wake before it, or the moved compare's cycle reached, and the write is Python's (0); the planned one
    is stored in the register file, brings the next stop to the moved compare and asks Python's settle (fr_done 64)."""
    m = pause_after_settled(_prepare("imu_steps_bus", 240), "settle_move", 2, "compare move")
    s = m.hot.state
    lib = m.hot.lib
    lib.hp_ack.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64]
    lib.hp_ack.restype = ctypes.c_int
    store = m.peripheral("rtc1")._c_plain["CC0"]
    before = m.bus.rf.value(store)

    def arm(woke: bool = True, by: int = 5000) -> None:
        s.stop_requested = s.py_stop = 0
        s.fr_done = 8 if woke else 0
        s.wk_at = s.cycle_count - 10
        s.wk_cycle = NEVER
        s.mv_from = s.wk_at
        s.mv_cycle = s.cycle_count + by
        s.stop_cycle = s.cycle_count + 9000
        s.mv_addr, s.mv_value, s.mv_store = RTC1_CC0, 0x123456, store
        s.ev_bus = m.bus.rf.bus

    for addr, value, woke, by in ((RTC1_CC0, 0x123457, True, 5000), (RTC1_CC0 + 4, 0x123456, True, 5000),
                                  (RTC1_CC0, 0x123456, False, 5000), (RTC1_CC0, 0x123456, True, 0)):
        arm(woke, by)
        done = s.mv_done
        assert lib.hp_ack(ctypes.addressof(s), addr, 4, value) == 0
        assert s.mv_done == done and m.bus.rf.value(store) == before and s.stop_cycle == s.cycle_count + 9000
    arm()
    done = s.mv_done
    assert lib.hp_ack(ctypes.addressof(s), RTC1_CC0, 4, 0x123456) == 1
    assert s.mv_done == done + 1 and m.bus.rf.value(store) == 0x123456 and s.mv_at == s.cycle_count
    assert s.stop_cycle == s.cycle_count + 5000 and s.fr_done & 64 and s.mv_addr == 0  # once
    assert lib.hp_ack(ctypes.addressof(s), RTC1_CC0, 4, 0x123456) == 0
    m.bus.rf.set_value(store, before)
    s.fr_done = 0
    s.mv_done = done  # (the hand-made write is no firmware's: nothing for Python to settle)
