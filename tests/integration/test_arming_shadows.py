"""The hot path's arming gives C only what changed (issues 12 and 16, thirteenth round).

- ``SystemBlock.arm_native`` gives C again only what changed since it last did: hp_nv_take's permission and stack
  limits (``_arm_take``: SLEEPONEXIT, a debugger, the stack watch), STKALIGN and PendSV's group and vector with the
  interrupts' priorities (``_arm_nvic_priorities``: after a PPB write or a reset), the NVIC words (``_arm_nvic``,
  stored in one copy each). After every arming of a run, an arming made from scratch (every shadow forgotten) must
  leave the hot state byte for byte as it was.
- ``Machine._plan_twim`` writes a TWIM offer's set-up (checks, pointers, events, RAM, interrupt) only when it differs
  from the offer armed before: C's copy must hold the armed offer's whenever C may take it (``tw_on``).
- Accesses to the DWT, the core debug registers and CPACR keep the arming (``Machine.guard_host``): the run must end
  exactly as with a full re-arm after each, with fewer re-arms, and as the Python hot path ends it.
"""

from __future__ import annotations

import ctypes
import random
from typing import Any

import pytest

from simcore.abi import NV_WORDS
from simcore.api import prepare, run_machine
from simcore.cortexm import system as system_module
from simcore.cortexm.system import SystemBlock
from simcore.machine import Machine
from tests.conftest import ROOT, elf, figures

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths

WALK = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
NANOS = ["arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense-rev2"]
OWN = ("native_hot_path", "polling", "cycles_error_bar")  # the Python hot path's own figures of how it got there


def _state_bytes(m: Machine) -> bytes:
    s = m.hot.state
    return ctypes.string_at(ctypes.addressof(s), ctypes.sizeof(s))


def _steps(board: str, **kw: Any) -> Machine:
    """The firmware's whole run (1,000 frames: ~115 armings on the Nano, ~195 on the Rev2)."""
    return prepare(elf(board, "imu_steps_bus"), board, sensors={"imu": (WALK, {"end": "hold", "resample": True})},
                   **kw)


@pytest.mark.parametrize("board", NANOS)
def test_each_arming_equals_one_made_from_scratch(board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    own = SystemBlock.arm_native
    seen = {"armings": 0, "take": 0, "nvic": 0}

    def checked(self: SystemBlock) -> None:
        own(self)
        seen["armings"] += 1
        seen["take"] += self._take_armed is not None
        seen["nvic"] += self._nv_armed is not None
        kept = _state_bytes(self.m)  # type: ignore[arg-type]
        self._take_armed = None  # every shadow forgotten: everything given to C again
        self._nv_armed = None
        self._nv_prio_dirty = self._tick_params_dirty = True
        own(self)
        assert _state_bytes(self.m) == kept, f"arming {seen['armings']}"  # type: ignore[arg-type]

    monkeypatch.setattr(SystemBlock, "arm_native", checked)
    m = _steps(board)
    checked_run = figures(run_machine(m))
    assert seen["armings"] > 60 and seen["take"] == seen["nvic"] == seen["armings"]
    monkeypatch.undo()
    assert figures(run_machine(_steps(board))) == checked_run  # (the checks' second armings change nothing)


@pytest.mark.parametrize("board", NANOS)
def test_a_twim_offer_armed_is_whole_in_c(board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    own = Machine._plan_twim
    seen = {"on": 0}

    def checked(self: Machine, top: Any) -> None:
        own(self, top)
        s, offer = self.hot.state, self._tw_offer
        if not s.tw_on or offer is None or s.tw_miso != offer.miso_addr:
            return
        seen["on"] += 1
        checks = tuple((s.tw_chk_store[k], s.tw_chk_value[k]) for k in range(s.tw_chk_n))
        assert (s.tw_task, s.tw_reg, s.tw_len, s.tw_unit, s.tw_bit_fs) == \
            (offer.task, offer.reg, len(offer.miso), offer.unit, offer.bit_fs)
        assert (s.tw_ram_base, s.tw_ram_size, s.tw_ram or 0, s.tw_irq, s.tw_ev) == (*offer.ram, offer.irq, offer.slot)
        assert checks == offer.checks and (s.tw_txptr, s.tw_rxptr, s.tw_rxcnt) == offer.ptrs
        assert tuple(s.tw_ev_store) == offer.events

    monkeypatch.setattr(Machine, "_plan_twim", checked)
    m = _steps(board)
    run_machine(m)
    assert seen["on"] > 20 and m.twim_reads_in_c > 10


def test_nvic_words_as_word_by_word() -> None:
    """_store_irq_words against the word-by-word reading of ARMv7-M B3.4 (bit n of word w: IRQ 32w + n)."""
    rng = random.Random(13)
    for num_irq in (1, 31, 32, 48, 240, 496, 600):
        n = min((num_irq + 31) // 32, NV_WORDS)
        mask = (1 << min(num_irq, 32 * n)) - 1
        for _ in range(40):
            excs = set(rng.sample(range(1, num_irq + 40), rng.randint(0, 6)))
            want = [0] * n
            for x in excs:
                if 16 <= x < 16 + num_irq and x - 16 < 32 * n:
                    want[(x - 16) >> 5] |= 1 << ((x - 16) & 31)
            words = (ctypes.c_uint32 * NV_WORDS)(*([0xFFFFFFFF] * NV_WORDS))
            system_module._store_irq_words(words, excs, mask, 4 * n)
            assert list(words[:n]) == want and all(w == 0xFFFFFFFF for w in words[n:])


@pytest.mark.parametrize(("board", "app", "fewer"), [("nrf52840", "nrf_nvmc", 5), ("cortex-m4", "nested", 2),
                                                    ("stm32f407vg", "calib_core", 2)])
def test_dwt_coredebug_and_cpacr_accesses_keep_the_arming(board: str, app: str, fewer: int,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The models' path of these accesses (SERVED_IN_C off: with it on C serves them, hp_sc_read / hp_sc_write, and
    they reach Python only under a debugger or the polling watch's RAM check) keeps the arming."""
    armed = [0]
    own = SystemBlock.arm_native

    def counted(self: SystemBlock) -> None:
        armed[0] += 1
        own(self)

    def run(**kw: Any) -> dict[str, Any]:
        return figures(run_machine(prepare(elf(board, app), board, **kw)), drop=())

    monkeypatch.setattr(SystemBlock, "arm_native", counted)
    run()  # (the block cache filled first: a cold cache's fresh analyses re-arm)
    armed[0] = 0
    served = run()
    n_served = armed[0]
    monkeypatch.setattr(SystemBlock, "SERVED_IN_C", False)
    armed[0] = 0
    kept = run()
    assert served == kept and n_served <= armed[0]  # (served in C: no Python entry at all)
    n_kept = armed[0]
    armed[0] = 0
    monkeypatch.setattr("simcore.machine._keeps_arming_ppb", lambda addr: False)  # a full re-arm after each
    full = run()
    assert full == kept
    assert armed[0] - n_kept >= fewer  # CPACR's read and write; DEMCR's and the DWT's where the app times itself
    monkeypatch.undo()
    twin = run(native=False)
    assert {k: v for k, v in twin.items() if k not in OWN} == {k: v for k, v in kept.items() if k not in OWN}
