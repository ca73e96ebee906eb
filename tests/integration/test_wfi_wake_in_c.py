"""A wfi woken in C (hotpath.c hp_wfi_hook): the Nano 33 BLE Sense's RTC1 COMPARE0 tick.

The imu_steps_bus firmware on the Rev1 sleeps in ``wfi`` (PRIMASK set) until RTC1's COMPARE0, every 4096 ticks of
32,768 Hz (125 ms). When that compare is the next machine event, C sleeps to its cycle, sets EVENTS_COMPARE[0] in the
register file and RTC1's line in its NVIC view, and the core goes on after the ``wfi`` without a run-loop stop; the
RTC model's event runs at Python's next sync as of that cycle (Machine.settle_wake). The guest must see exactly what
it sees when every sleep is Python's (no wfi hooks) and with the Python hot path (``native=False``): console,
instructions, cycles, sleep cycles, exceptions, reports, the chips' figures; and a pause and snapshot taken right
after a wake settled, restored and run on, must end the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from simcore.api import cycle_figures, prepare, run_machine
from simcore.debug import Pause
from simcore.machine import Machine
from simcore.snapshot import Snapshot
from tests.conftest import ROOT, elf

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths

CSV = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
REV1 = "arduino-nano-33-ble-sense"
TICK_S = 4096 / 32768  # the firmware's RTC1 CC[0] step (common/nano_imu.h: 4096 ticks at PRESCALER 0)


def _machine(frames: int, **kw: Any) -> Machine:
    return prepare(elf(REV1, "imu_steps_bus"), REV1, sensors={"imu": (CSV, {"end": "hold", "resample": True})},
                   cmdline=f"imu_steps_bus.elf frames={frames}", **kw)


def _seen(m: Machine, r: Any) -> tuple[object, ...]:
    s = m.hot.state
    return (r.text, r.instructions, r.cycles, r.sleep_cycles, r.stop.kind, r.exit_status, m.console_bytes,
            m.system.exc.entries + s.tick_entries, m.reports.to_dict(), r.sensors, cycle_figures(m))


def _run(frames: int, **kw: Any) -> tuple[tuple[object, ...], Machine]:
    m = _machine(frames, **kw)
    r = run_machine(m)
    return _seen(m, r), m


def pause_after_settled(m: Machine, method: str, n: int, what: str, when: Callable[[], bool] | None = None) -> Machine:
    """Run ``m`` until Python's ``method`` (``settle_wake``, ``settle_apply``: what C did on its own, settled at a
    sync; or a planning step such as ``_arm_flight``) ran for the ``n``-th time (counting only the calls after which
    ``when`` holds, if given), and pause there (the next block boundary)."""
    own = getattr(m, method)
    seen = {"n": 0}

    def counted(*args: Any) -> None:
        own(*args)
        if when is not None and not when():
            return
        seen["n"] += 1
        if seen["n"] == n:
            m.request_pause(Pause("interrupt", f"after {what} {n} in C", pc=None))

    setattr(m, method, counted)
    assert m.run().kind == "interrupt"
    setattr(m, method, own)
    return m


def restored_twice_ends_as(m: Machine, plain: tuple[object, ...], progress: Callable[[], int],
                           kept: Callable[[], bool] = lambda: True) -> None:
    """Snapshot the paused ``m``, run it to the end twice, restoring the snapshot after each: each run ends as
    ``plain`` with ``progress`` (a count of C's work) more than 5 past the snapshot's, and each restore brings
    ``progress`` back and leaves ``kept`` true (what was armed at the snapshot); a last run ends as ``plain`` too."""
    snap = Snapshot.take(m)
    at = progress()
    for _ in range(2):
        r = run_machine(m)
        assert _seen(m, r) == plain and progress() > at + 5
        snap.restore(m)
        assert progress() == at and kept()
    assert _seen(m, run_machine(m)) == plain


def _pause_after_wakes(m: Machine, n: int) -> Machine:
    """Run ``m`` until Python settled its ``n``-th wake in C, and pause there (the next block boundary)."""
    return pause_after_settled(m, "settle_wake", n, "wake")


def test_rtc_ticks_wake_wfi_in_c_with_the_counts_of_python_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m = _run(240)
    assert "steps in" in fast[0] and fast[5] == 0
    ticks = int(m.now_seconds() / TICK_S)  # compares the firmware waited for, from the virtual time alone
    assert ticks >= 15
    # every tick but the first (the transfer before it leaves TWIM1 pending at Python's last arming) and the
    # last (the run ends) may be woken in C: at least all but three of them were
    assert ticks - 3 <= m.wakes_in_c <= ticks and m.hot.state.wk_wakes == m.wakes_in_c
    assert m.hot.state.wk_slept > 0 and m.hot.state.wk_slept <= fast[3]
    monkeypatch.setattr(Machine, "_wfi_sites", lambda self: [])  # no hooks: every sleep is on_halt's
    slow, m2 = _run(240)
    assert m2.wakes_in_c == 0 and not m2._wfi_hooks
    assert slow == fast
    monkeypatch.undo()
    twin, m3 = _run(240, native=False)  # the Python hot path has no wfi hook at all
    assert m3.wakes_in_c == 0 and twin == fast


def test_the_hook_wakes_only_with_primask_set_and_the_line_enabled() -> None:
    """hp_wfi_hook called as Unicorn would at a wfi, on a machine paused outside emulation: with the plan armed it
    sleeps to the event (sleep cycles, EVENTS_COMPARE[0] = 1 in the register file, RTC1 pending in C's NVIC view, the
    PC after the wfi); with PRIMASK clear (the interrupt would be taken) or RTC1's enable cleared since the plan
    (an ICER served in C), or the event not the next stop, it leaves everything to Python's on_halt."""
    import ctypes

    from unicorn import arm_const

    m = _pause_after_wakes(_machine(60), 1)
    rtc = m.peripheral("rtc1")
    assert 16 in rtc._held and 16 in rtc._clr_slots
    s = m.hot.state
    lib = m.hot.lib
    lib.hp_wfi_hook.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]
    site = m._wfi_sites()[0]
    store, irq = rtc._held[16], rtc.irq
    w, bit = irq >> 5, 1 << (irq & 31)

    def arm(primask: int) -> tuple[int, int]:
        m.uc.reg_write(arm_const.UC_ARM_REG_PRIMASK, primask)
        m.uc.reg_write(arm_const.UC_ARM_REG_PC, site | 1)
        s.stop_requested = s.py_stop = s.other_cycle = s.c_active = s.fr_done = 0
        for k in range(len(s.nv_pending)):
            s.nv_pending[k] = s.nv_en_clr[k] = 0
        m.bus.rf.set_value(store, 0)
        at = s.cycle_count + 1000
        s.wk_cycle = s.stop_cycle = at
        s.wk_after = at + 500
        s.wk_store, s.wk_irq, s.wk_ev, s.wk_sole = store, irq, rtc._clr_slots[16], 1
        s.stop_insn = s.insn_count + 10**9
        return at, s.cycle_count

    def hook() -> None:
        lib.hp_wfi_hook(m.uc._uch, site, 2, ctypes.addressof(s))

    for primask, disable, late in ((0, False, False), (1, True, False), (1, False, True)):
        at, before = arm(primask)
        if disable:
            s.nv_en_clr[w] |= bit
        if late:
            s.stop_cycle = at - 1  # another event comes first
        wakes = s.wk_wakes
        hook()
        assert s.wk_wakes == wakes and s.cycle_count == before and m.bus.rf.value(store) == 0
        assert m.pc() == site and not s.nv_pending[w] & bit
    at, before = arm(1)
    slept, wakes = s.wk_slept, s.wk_wakes
    hook()
    assert s.wk_wakes == wakes + 1 and s.cycle_count == at and s.wk_at == at and s.wk_slept - slept == at - before
    assert m.bus.rf.value(store) == 1 and s.nv_pending[w] & bit and s.nv_held[w] & bit and s.irq_pending
    assert s.ev_armed[rtc._clr_slots[16]] == 1 and s.fr_done & 8 and s.stop_cycle == at + 500
    assert m.pc() == site + 2 and s.wk_cycle == 0xFFFFFFFFFFFFFFFF


def test_a_pause_and_snapshot_after_a_wake_in_c_end_as_the_plain_run() -> None:
    plain, _ = _run(120)
    m = _pause_after_wakes(_machine(120), 5)
    snap = Snapshot.take(m)
    at_pause = m.hot.state.wk_wakes
    assert at_pause == 5
    r = run_machine(m)
    assert _seen(m, r) == plain and m.hot.state.wk_wakes > at_pause
    snap.restore(m)
    assert m.hot.state.wk_wakes == at_pause
    r2 = run_machine(m)
    assert _seen(m, r2) == plain and m.hot.state.wk_wakes > at_pause
