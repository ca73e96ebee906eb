"""A planned event and its model's next ones applied in C, one after the other (hotpath.c hp_apply_chain;
Machine._plan_apply_chain, settle_apply; Nrf52Rng._apply_plan).

nrf_nvmc reads 8 bytes from the nRF52840's RNG: each VALRDY was applied in C (test_events_applied_in_c.py), but each
VALUE read after it entered Python (~35 us: the model's settle of the byte, the read, a full re-arm). With VALUE held
by the register file and the next bytes drawn ahead, C sets VALUE and EVENTS_VALRDY for each byte at the cycle the run
loop would have stopped at, and Python settles them all at its next entry (TASKS_STOP). The guest must see what it sees
without chains, with VALUE's reads through the model, and with the Python hot path: the whole run JSON but wall times.
"""

from __future__ import annotations

import ctypes
import random
from typing import Any

import pytest

from simcore.abi import AP_STORE, NEVER
from simcore.api import prepare, run_machine
from simcore.bus import PeripheralBus
from simcore.machine import Machine
from simcore.peripherals.nrf52.rng import Nrf52Rng
from tests.conftest import elf, figures
from tests.integration.test_wfi_wake_in_c import pause_after_settled

BOARD = "nrf52840"
VALUE = 0x4000D508  # RNG.VALUE
BYTES = "nrf_nvmc: RNG bytes d8 62 c2 e3 6b 0a 42 f7 in 61462 cycles"


def _run(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> tuple[dict[str, Any], Machine, list[int], int]:
    """The run JSON without wall times, the machine, the applications each settle took and VALUE's reads that reached
    Python (the register file's calls to the bus)."""
    reads = {"n": 0}
    own_py = PeripheralBus._py

    def py(self: PeripheralBus, addr: int, size: int, value: int, write: int) -> int:
        reads["n"] += addr == VALUE and not write
        return own_py(self, addr, size, value, write)

    monkeypatch.setattr(PeripheralBus, "_py", py)
    m = prepare(elf(BOARD, "nrf_nvmc"), BOARD, **kw)
    settled: list[int] = []
    own_settle = m.settle_apply

    def settle(at: int) -> None:
        before = m.applied_in_c
        own_settle(at)
        settled.append(m.applied_in_c - before)

    m.settle_apply = settle  # type: ignore[method-assign]
    out = figures(run_machine(m), drop=())
    return out, m, settled, reads["n"]


def test_the_rng_bytes_in_one_chain_keep_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m, settled, reads = _run(monkeypatch)
    assert fast["stop"]["kind"] == "exit" and fast["exit_status"] == 0 and BYTES in fast["console"]
    # VALUE is the register file's from the build of the RNG's entries on (test_held_at_build.py): the 8 bytes are
    # made ready in C one after the other and settled together at TASKS_STOP; no VALUE read reaches the model
    assert settled[:1] == [8] and reads == 0
    assert m.hot.state.ap_done == m.applied_in_c and m.hot.state.ac_i == 0
    monkeypatch.setattr(Machine, "APPLY_CHAINS", False)
    unchained, m2, settled2, reads2 = _run(monkeypatch)
    # VALUE still the register file's (set by each applied VALRDY): its reads never reach Python, so the next byte's
    # event is the run loop's, and the one after it C's again
    assert set(settled2) == {1} and reads2 == 0 and m2.applied_in_c < m.applied_in_c
    assert unchained == fast
    monkeypatch.setattr(Nrf52Rng, "VALUE_IN_C", False)
    model, m3, settled3, reads3 = _run(monkeypatch)
    assert settled3[:8] == [1] * 8 and reads3 == 8  # each VALUE read the model's, as before chains
    assert model == fast and m3.applied_in_c == m.applied_in_c
    monkeypatch.undo()
    twin, m4, _, reads4 = _run(monkeypatch, native=False)  # the Python hot path applies nothing in C
    assert m4.applied_in_c == 0 and reads4 == 0  # (VALUE held by the Python register file too)
    own = ("native_hot_path", "polling", "cycles_error_bar")
    assert {k: v for k, v in twin.items() if k not in own} == {k: v for k, v in fast.items() if k not in own}


def test_bytes_drawn_ahead_keep_the_generators_sequence(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes a chain drew ahead and did not use come next, in order: the RNG's sequence is its seed's."""
    _, m, _, _ = _run(monkeypatch)
    rng = m.peripheral("rng")
    assert rng.bytes == 8 and rng._event is None and rng._ahead  # STOP came before the chain's last byte
    ref = random.Random(0)
    made = [ref.getrandbits(8) for _ in range(8)]
    assert " ".join(f"{b:02x}" for b in made) in BYTES
    assert [rng._next_byte() for _ in range(40)] == [ref.getrandbits(8) for _ in range(40)]
    assert m.bus.rf.value(rng._value_store) == made[-1] == rng.values["VALUE"]


def test_a_write_while_a_byte_is_under_way_arms_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """SHORTS' VALRDY_STOP written while a byte is under way: the arming a kept access would leave (the chain, its
    period) is made again, and the plan then declines (the shortcut's task is Python's)."""
    _, m, _, _ = _run(monkeypatch)
    rng = m.peripheral("rng")
    m.hot.state.cycle_count += 1000
    rng.task_START()
    assert rng._event is not None and rng._apply_plan() is not None
    changes = m.arm_changes
    rng.write(0x200, 4, 1)  # SHORTS.VALRDY_STOP
    assert m.arm_changes == changes + 1 and rng._apply_plan() is None
    rng.task_STOP()
    changes = m.arm_changes
    rng.write(0x200, 4, 0)  # nothing under way: nothing to arm again
    assert m.arm_changes == changes


def test_the_hook_chains_while_each_next_comes_before_the_other_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """hp_apply_chain through the block hook, on a paused machine: each application sets the event and the chain's
    value and logs its cycle; the next is planned its period on while that comes before ap_after and the chain has
    more; with Python's other bookkeeping due (fr_done 1) it stops; settle_apply's count is C's."""
    m = pause_after_settled(prepare(elf(BOARD, "nrf_nvmc"), BOARD), "settle_apply", 1, "chain applied")
    rng = m.peripheral("rng")
    ev, value = rng._held[0], rng._value_store
    s = m.hot.state
    lib = m.hot.lib
    lib.hp_block_hook.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]
    pc = m.pc()

    def arm(n: int, after: int) -> int:
        s.stop_requested = s.py_stop = s.other_cycle = s.fr_done = 0
        m.bus.rf.set_value(ev, 0)
        at = s.cycle_count
        s.ap_cycle = s.stop_cycle = at
        s.ap_after, s.ap_period, s.ap_n = at + after, 100, 1
        s.ap_kind[0], s.ap_index[0], s.ap_value[0] = AP_STORE, ev, 1
        s.ac_store, s.ac_n, s.ac_i = value, n, 0
        s.ac_value[:n] = [0x10 + k for k in range(n)]
        s.stop_insn = s.insn_count + 10**9
        s.ev_bus = m.bus.rf.bus
        return at

    def hook_at(cycle: int) -> None:
        s.cycle_count = cycle
        lib.hp_block_hook(m.uc._uch, pc, 2, ctypes.addressof(s))

    at = arm(3, 1000)  # three applications, all before ap_after
    done = s.ap_done
    for k in range(3):
        m.bus.rf.set_value(ev, 0)
        hook_at(at + 100 * k)
        assert s.ap_done == done + k + 1 and s.ac_i == k + 1 and m.bus.rf.value(value) == 0x10 + k
        assert m.bus.rf.value(ev) == 1 and s.ac_at[k] == at + 100 * k
    assert s.ap_cycle == NEVER and s.stop_cycle == at + 300  # the chain's end: the model's next event is Python's
    at = arm(3, 50)  # the second would come after ap_after: C stops there
    hook_at(at)
    assert s.ac_i == 1 and s.ap_cycle == NEVER and s.stop_cycle == at + 50
    at = arm(3, 1000)
    hook_at(at)
    s.fr_done |= 1  # Python's bookkeeping of something else: no application past it
    hook_at(at + 100)
    assert s.ac_i == 1 and m.bus.rf.value(value) == 0x10
    s.fr_done &= ~1
    s.stop_requested = 0  # (the refused application stopped emulation instead)
    hook_at(at + 100)  # 16 alone (the chain's own): on
    assert s.ac_i == 2 and m.bus.rf.value(value) == 0x11
    s.ac_i = 0
    m._applied = None  # the hand-made plan has no model event to settle
