"""A sensor block's DMA halves delivered in C at the firmware's wfis (hotpath.c hp_chain_wake; Machine._plan_chain,
settle_chain; SimcoreAdc.dma_chain).

cortex-m4 adc_monitor and machine_monitor sleep in wfi until simcore's ADC has filled a half of their DMA ring,
read STATUS, work on the half and clear its flag. Python plans up to CH_MAX halves ahead (their bytes, cycles, the
STATUS bit each sets); C sleeps to each half's cycle at the wfi that waits for it, writes the half into guest RAM,
sets STATUS and the line, and logs the firmware's flag clears, which Python settles in cycle order at its next
sync. The guest must see exactly what it sees when every half is the run loop's (planning off) and with the
Python hot path (``native=False``): the whole run JSON but wall times; and a snapshot taken inside a chain, right
after a settle, restored twice and run on, must end the same each time.
"""

from __future__ import annotations

import ctypes
from typing import Any

import pytest
from unicorn import arm_const

from simcore.abi import EV_SLOTS, NEVER
from simcore.api import prepare, run_machine
from simcore.machine import Machine
from simcore.snapshot import Snapshot
from tests.conftest import ROOT, elf, figures
from tests.integration.test_wfi_wake_in_c import pause_after_settled

BOARD = "cortex-m4"
SENSORS: dict[str, dict[str, Any]] = {
    "adc_monitor": {"adc": str(ROOT / "examples" / "data" / "adc_trace_1k.csv")},
    "machine_monitor": {"adc": (str(ROOT / "models" / "trained" / "machine_demo.npy"), {"rate_hz": 4000})},
}


def _figures(r: Any) -> dict[str, Any]:
    """The run JSON without its wall times (``simcore run --json``: what counts must not change)."""
    return figures(r, drop=())


def _prepare(app: str, **kw: Any) -> Machine:
    return prepare(elf(BOARD, app), BOARD, sensors=SENSORS[app], **kw)


def _run(app: str, **kw: Any) -> tuple[dict[str, Any], Machine]:
    m = _prepare(app, **kw)
    return _figures(run_machine(m)), m


@pytest.mark.parametrize(("app", "halves"), [("adc_monitor", 60), ("machine_monitor", 218)])
def test_halves_in_c_keep_every_figure(app: str, halves: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m = _run(app)
    assert fast["stop"]["kind"] == "exit" and fast["exit_status"] == 0
    assert m.peripheral("adc").stats_.counts["dma_halves"] == halves
    # all but the first halves (before the firmware's first STATUS read and clear through Python) and those a
    # Python entry in between takes (the GPIO writes, the recording's end) are delivered in C
    assert m.chain_halves_in_c >= halves - 8 and m.hot.state.ch_done == m.chain_halves_in_c
    monkeypatch.setattr(Machine, "_plan_chain", lambda self, top: None)  # every half the run loop's
    slow, m2 = _run(app)
    assert m2.chain_halves_in_c == 0 and m2.hot.state.ch_done == 0
    assert slow == fast
    monkeypatch.undo()
    twin, m3 = _run(app, native=False)  # the Python hot path delivers nothing in C
    assert m3.chain_halves_in_c == 0
    # its own figures of how it got there (fast-forwards in Python, block executions) are not the native path's
    own = ("native_hot_path", "polling", "cycles_error_bar")
    assert {k: v for k, v in twin.items() if k not in own} == {k: v for k, v in fast.items() if k not in own}


def test_a_snapshot_inside_a_chain_restored_twice_ends_as_the_plain_run() -> None:
    plain, _ = _run("adc_monitor")
    m = pause_after_settled(_prepare("adc_monitor"), "settle_chain", 2, "chain settle")
    at_pause = m.chain_halves_in_c
    ring = m.peripheral("adc").ring
    assert at_pause > 0 and ring.running and ring.done < 60  # between two chains: halves in C before and after
    snap = Snapshot.take(m)
    assert _figures(run_machine(m)) == plain and m.chain_halves_in_c > at_pause
    for _ in range(2):
        snap.restore(m)
        assert m.chain_halves_in_c == at_pause
        assert _figures(run_machine(m)) == plain and m.chain_halves_in_c > at_pause


def test_the_wfi_hook_delivers_a_half_only_with_status_clear() -> None:
    """hp_chain_wake through hp_wfi_hook on a machine paused outside emulation, with a hand-made chain of one half:
    with the model's STATUS not clear (the firmware still owns the other half: an overrun is Python's) or another
    stop asked for first, nothing; with STATUS clear, the half's bytes in guest RAM, STATUS set, the line held and
    pending, the next stop at the event after the chain, Python's settle due (fr_done bit 32)."""
    m = pause_after_settled(_prepare("adc_monitor"), "settle_chain", 1, "chain settle")
    adc = m.peripheral("adc")
    s = m.hot.state
    lib = m.hot.lib
    lib.hp_wfi_hook.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]
    lib.hp_wfi_hook.restype = None
    store, irq, dst = adc._held.store, adc.irq, adc.ring.addr
    data = bytes(range(100))
    pc = m.pc()
    saved_ram = m.mem_read(dst, 100)

    def arm(status: int, stop_first: bool = False) -> int:
        s.stop_requested = s.py_stop = s.other_cycle = s.fr_done = 0
        s.wp_irq = 0
        s.wk_cycle = NEVER
        for w in range(len(s.nv_pending)):
            s.nv_pending[w] = s.nv_held[w] = 0
        m.bus.rf.set_value(store, status)
        at = s.cycle_count + 1000
        s.ch_cycle[0], s.ch_cycle[1], s.ch_after = at, at + 5000, at + 9000
        s.stop_cycle = at - 1 if stop_first else at
        s.ch_value[0], s.ch_dst[0], s.ch_store, s.ch_irq, s.ch_ev = 4, dst, store, irq, adc._clear_slot
        s.ch_bytes, s.ch_data = 100, ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
        s.ch_i, s.ch_n = 0, 1
        s.stop_insn = s.insn_count + 10**9
        return at

    m.uc.reg_write(arm_const.UC_ARM_REG_PRIMASK, 1)  # (cpsid i before the firmware's loop: B1.5.19's masked wake)
    for status, first in ((8, False), (0, True)):
        arm(status, first)
        done = s.ch_done
        lib.hp_wfi_hook(m.uc._uch, pc, 2, ctypes.addressof(s))
        assert s.ch_done == done and s.ch_i == 0 and m.bus.rf.value(store) == status
        assert m.mem_read(dst, 100) == saved_ram
    at = arm(0)
    done = s.ch_done
    lib.hp_wfi_hook(m.uc._uch, pc, 2, ctypes.addressof(s))
    assert s.ch_done == done + 1 and s.ch_i == 1 and s.cycle_count == at and s.fr_done & 32
    assert m.mem_read(dst, 100) == data and m.bus.rf.value(store) == 4
    assert s.nv_pending[irq >> 5] >> (irq & 31) & 1 and s.nv_held[irq >> 5] >> (irq & 31) & 1
    assert s.stop_cycle == at + 5000 and s.wp_irq == irq + 1 and s.ev_armed[adc._clear_slot] == 1
    assert m.hot.state.ch_ev < EV_SLOTS
