"""The polling fast-forward in C (hotpath.c hp_poll_read) reads the PC, R0-R12, SP and LR of each polled register read
from the engine's CPU state (``HotPath._cpu_regs``: Unicorn's regs[16], checked at start) and xPSR alone through
uc_reg_read; the EXTI finds SYSCFG once and raises its NVIC lines from their masks; the timeline keeps its last
``fs_at`` (docs/performance.md, "Eleventh round"). The runs must equal those that read every register through
uc_reg_read (the path off: no CPU state), and the Python hot path's (the twin, which fast-forwards in poll.py), whole
reports but for which path served the work; a snapshot taken inside a FIFO drain restores to the same run twice."""

from __future__ import annotations

import ctypes
import os
import struct
from typing import Any

import pytest
import unicorn
from unicorn import arm_const as A

from simcore import hotpath
from simcore.api import prepare, result_of, run_machine
from simcore.clock import Timeline
from simcore.peripherals.stm32.i2c import Stm32L4I2c
from tests.conftest import ROOT, elf
from tests.conftest import figures as report_figures

IOT, DISCO = "b-l475e-iot01a", "stm32f4-discovery"
WALK = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
CASES = {IOT: {"imu": (WALK, {"end": "hold", "resample": True})}, DISCO: {"accel": (WALK, {"end": "hold"})}}
TWIN_PATH = ("native_hot_path", "polling")  # which path served the work: the twin fast-forwards in Python


def _run(board: str, **kw: Any) -> Any:
    """imu_steps_bus for 200 frames: the IoT node's I2C2 flag waits (RXNE between the LSM6DSL's bytes), the
    Discovery's SPI1 waits."""
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
def test_poll_reads_from_the_cpu_state_equal_uc_reg_read_and_the_twin(monkeypatch: pytest.MonkeyPatch,
                                                                       board: str) -> None:
    m = _run(board)
    assert m.hot.state.dv_env  # the layout check passed: hp_poll_read reads the registers there
    fast = run_machine(m)
    assert "done: " in fast.text and fast.exit_status == 0
    assert _c_fast_forwards(m) > 100  # the waits were fast-forwarded in C, from those reads
    monkeypatch.setattr(hotpath, "_cpu_regs", lambda uc: 0)  # the path off: every register through uc_reg_read
    off_m = _run(board)
    assert not off_m.hot.state.dv_env
    off = run_machine(off_m)
    assert _c_fast_forwards(off_m) == _c_fast_forwards(m)
    assert report_figures(off, ()) == report_figures(fast, ())
    monkeypatch.undo()
    assert report_figures(run_machine(_run(board, native=False)), TWIN_PATH) == report_figures(fast, TWIN_PATH)


def test_the_cpu_state_holds_sp_lr_and_pc_where_uc_reg_read_finds_them() -> None:
    """What hp_poll_read takes from the CPU state is what uc_reg_read returns: R0-R12, SP, LR and the PC (regs[16])."""
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(0x0800_0000, 0x1000)
    uc.reg_write(A.UC_ARM_REG_PC, 0x0800_0101)
    env = hotpath._cpu_regs(uc)
    assert env
    ids = [A.UC_ARM_REG_R0 + i for i in range(13)] + [A.UC_ARM_REG_SP, A.UC_ARM_REG_LR, A.UC_ARM_REG_PC]
    for i, rid in enumerate(ids[:15]):
        uc.reg_write(rid, 0x2000_0000 + 0x44 * i)
    fd = os.open("/proc/self/mem", os.O_RDONLY)
    try:
        assert list(struct.unpack("<16I", os.pread(fd, 64, env))) == [uc.reg_read(r) for r in ids]
    finally:
        os.close(fd)
    assert uc.reg_read(A.UC_ARM_REG_PC) == 0x0800_0100  # _cpu_regs left the PC (and the Thumb state) alone


def test_the_timeline_keeps_its_last_time_only_for_the_same_segment() -> None:
    """``fs_at`` answers again from its last call at the same cycle on the same segment; a stop or a clock switch at
    that cycle makes a new segment, whose time it computes."""
    t = Timeline(8e6, "HSI")
    assert t.fs_at(800) == 800 * 10**15 // 8_000_000 == t.fs_at(800)
    t.stop(800, 10**12)  # the core clock stops at cycle 800 until 1 ms
    assert t.fs_at(800) == 10**12
    t.switch(800, 16e6, "PLL")
    assert t.fs_at(800) == 10**12 and t.fs_at(1600) == 10**12 + 800 * 10**15 // 16_000_000
    assert t.fs_at(400) == 400 * 10**15 // 8_000_000  # the past: its own segment


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_a_snapshot_inside_a_drain_restores_twice(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    """A snapshot taken at the 9th read START on I2C2 (the 4th drain's FIFO read: the polling shapes learnt, the
    timeline's last time and the EXTI's SYSCFG held) restores to the counts, console and chip figures of a plain run,
    twice."""
    from simcore.debug import Debugger, Pause
    from simcore.snapshot import Snapshot
    from tests.integration.test_debug import figures as run_figures

    plain = run_machine(_run(IOT, native=native))
    m = _run(IOT, native=native)
    d = Debugger(m)
    seen = [0]
    own = Stm32L4I2c._try_read

    def counted(self: Stm32L4I2c) -> None:
        own(self)
        seen[0] += 1
        if seen[0] == 9 + 1:  # WHO_AM_I's read came first, then two a drain (FIFO_STATUS, FIFO_DATA_OUT)
            m.request_pause(Pause("interrupt", "read START", pc=None))

    monkeypatch.setattr(Stm32L4I2c, "_try_read", counted)
    assert d.cont().kind == "interrupt"
    monkeypatch.undo()
    assert m.clocks.timeline._last_cycle is not None and m.peripheral("exti")._syscfg
    snap = Snapshot.take(m)
    d.cont()
    ref = run_figures(m), result_of(m, m.stop, 0.0).sensors
    assert ref[0]["instructions"] == plain.instructions and ref[0]["console"] == plain.console
    for _ in range(2):
        snap.restore(m)
        d.cont()
        assert (run_figures(m), result_of(m, m.stop, 0.0).sensors) == ref
