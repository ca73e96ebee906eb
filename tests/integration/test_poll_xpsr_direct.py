"""The polling fast-forward in C (hotpath.c hp_poll_read) makes xPSR from the engine's flag words and exception number
(``HotPath._cpu_xpsr``, checked at start against uc_reg_read) instead of a uc_reg_read call per polled read, and looks
at the shape the last read matched first (docs/performance.md, "Twelfth round"). The value must be uc_reg_read's in
states the firmware's own instructions make, and the runs must equal those that read xPSR through uc_reg_read (the path
off) and the Python hot path's (the twin, which fast-forwards in poll.py), whole reports but for which path served the
work."""

from __future__ import annotations

import ctypes
import struct
from typing import Any

import pytest
import unicorn
from unicorn import arm_const as A

from simcore import hotpath
from simcore.abi import HotState
from simcore.api import prepare, run_machine
from simcore.machine import Machine
from tests.conftest import ROOT, elf
from tests.conftest import figures as report_figures

IOT, DISCO = "b-l475e-iot01a", "stm32f4-discovery"
WALK = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
CASES = {IOT: {"imu": (WALK, {"end": "hold", "resample": True})}, DISCO: {"accel": (WALK, {"end": "hold"})}}
TWIN_PATH = ("native_hot_path", "polling")  # which path served the work: the twin fast-forwards in Python


def _run(board: str, **kw: Any) -> Any:
    """imu_steps_bus for 200 frames: the IoT node's I2C2 flag waits, the Discovery's SPI1 waits."""
    return prepare(elf(board, "imu_steps_bus"), board, sensors=CASES[board], cmdline="imu_steps_bus.elf frames=200",
                   **kw)


def _c_fast_forwards(m: Any) -> int:
    """The polling loops C fast-forwarded (hp_poll_stats over the shapes it holds)."""
    lib, p = m.polls.native.lib, m.polls.native.p
    out, total, i = (ctypes.c_uint64 * 3)(), 0, 0
    while lib.hp_poll_stats(p, i, out) == 0:
        total += out[0]
        i += 1
    return total


@pytest.mark.parametrize("board", [IOT, DISCO])
def test_xpsr_from_the_cpu_state_equals_uc_reg_read_and_the_twin(monkeypatch: pytest.MonkeyPatch, board: str) -> None:
    lib = hotpath.native_library()
    assert lib is not None
    seen: list[tuple[int, int]] = []
    own = Machine.guard_access

    def checked(self: Machine, fn: Any) -> Any:  # each Python access: the firmware's state at one of its loads/stores
        seen.append((lib.hp_xpsr_of(ctypes.byref(self.hot.state)), self.uc.reg_read(A.UC_ARM_REG_XPSR)))
        return own(self, fn)

    monkeypatch.setattr(Machine, "guard_access", checked)
    m = _run(board)
    assert m.hot.state.ps_flags and m.hot.state.ps_exc  # the layout check passed: hp_poll_read makes xPSR there
    fast = run_machine(m)
    monkeypatch.undo()
    assert "done: " in fast.text and fast.exit_status == 0
    assert len(seen) > 50 and all(direct == read for direct, read in seen)  # IoT node: 96 since ISR is held
    assert len({read for _, read in seen}) > 1  # more than one state was compared
    assert _c_fast_forwards(m) > 100  # the waits were fast-forwarded in C, from those reads
    monkeypatch.setattr(hotpath, "_cpu_xpsr", lambda uc, state, lib: (0, 0))  # the path off: xPSR by uc_reg_read
    off_m = _run(board)
    assert not off_m.hot.state.ps_flags and off_m.hot.state.dv_env
    off = run_machine(off_m)
    assert _c_fast_forwards(off_m) == _c_fast_forwards(m)
    assert report_figures(off, ()) == report_figures(fast, ())
    monkeypatch.undo()
    assert report_figures(run_machine(_run(board, native=False)), TWIN_PATH) == report_figures(fast, TWIN_PATH)


def test_xpsr_made_from_the_flag_words_after_flag_setting_instructions() -> None:
    """N, Z, C, V from CMP, Q from a saturating QADD, GE from SADD8 (ARMv7-M A7.7): hotpath.c's xPSR from the CPU state
    equals uc_reg_read's after each, and with an exception number written; the check restores xPSR."""
    lib = hotpath.native_library()
    assert lib is not None
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(0, 0x1000)
    state = HotState()
    state.dv_env = hotpath._cpu_regs(uc) or None
    before = uc.reg_read(A.UC_ARM_REG_XPSR)
    flags, exc = hotpath._cpu_xpsr(uc, state, lib)
    assert flags and exc and uc.reg_read(A.UC_ARM_REG_XPSR) == before
    state.ps_flags, state.ps_exc = flags, exc
    code = {"cmp r0, r1": (0x4288,), "qadd r2, r0, r1": (0xFA81, 0xF280), "sadd8 r2, r0, r1": (0xFA80, 0xF201)}
    cases = [("cmp r0, r1", 5, 5), ("cmp r0, r1", 1, 2), ("cmp r0, r1", 0x8000_0000, 1), ("cmp r0, r1", 7, 3),
             ("qadd r2, r0, r1", 0x7FFF_FFFF, 1), ("sadd8 r2, r0, r1", 0x01FF_01FF, 0x0101_0101)]
    seen = set()
    for name, r0, r1 in cases:
        halves = code[name]
        uc.mem_write(0x100, struct.pack(f"<{len(halves)}H", *halves))
        uc.reg_write(A.UC_ARM_REG_R0, r0)
        uc.reg_write(A.UC_ARM_REG_R1, r1)
        uc.emu_start(0x101, 0x100 + 2 * len(halves))
        read = uc.reg_read(A.UC_ARM_REG_XPSR)
        assert lib.hp_xpsr_of(ctypes.byref(state)) == read, name
        seen.add(read)
    assert any(x & 1 << 27 for x in seen) and any(x & 0xF << 16 for x in seen)  # Q and GE were set
    assert {x >> 28 for x in seen} >= {0b0110, 0b1000, 0b0010}  # Z and C; N; C alone
    uc.reg_write(A.UC_ARM_REG_XPSR, 0x0100_0000 | 27)  # IPSR: IRQ 11
    assert lib.hp_xpsr_of(ctypes.byref(state)) == uc.reg_read(A.UC_ARM_REG_XPSR)
    assert uc.reg_read(A.UC_ARM_REG_IPSR) == 27
