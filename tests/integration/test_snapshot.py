"""simcore.snapshot: boot once, save, restore many times; counts after a restore equal a fresh run."""

from __future__ import annotations

import capstone
import pytest

from simcore.api import prepare
from simcore.debug import Debugger
from simcore.snapshot import Snapshot
from tests.conftest import elf
from tests.integration.test_debug import figures, plain

CASES = [("stm32f407vg", "systick", "SysTick_Handler", {}),
         ("stm32l4r5zi", "scheduler", "PendSV_Handler", {}),
         ("cortex-m4", "audio_events", "main", {"sensors": {"mic": "examples/data/audio_events_16k.wav"}})]


@pytest.mark.parametrize("board,app,func,kw", CASES, ids=[c[1] for c in CASES])
def test_restore_gives_the_counts_of_a_fresh_run(board, app, func, kw):
    ref = plain(board, app, **kw)
    m = prepare(elf(board, app), board, **kw)
    boot = Snapshot.take(m)
    m.run()
    assert figures(m) == ref
    for _ in range(2):
        boot.restore(m)
        assert m.instructions == 0 and m.stop is None and not m.console
        m.run()
        assert figures(m) == ref


@pytest.mark.parametrize("board,app,func,kw", CASES[:2], ids=[c[1] for c in CASES[:2]])
def test_restore_to_a_pause_inside_a_block_continues_exactly(board, app, func, kw):
    ref = plain(board, app, **kw)
    m = prepare(elf(board, app), board, **kw)
    d = Debugger(m)
    sym = m.fw.symbol(func)
    cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    second = list(cs.disasm(m.mem_read(sym.addr, 16), sym.addr))[1].address
    d.add_breakpoint(second)  # the handler's second instruction: a pause inside its first block
    for _ in range(3):
        assert d.cont().kind == "breakpoint"
    here = (m.pc(), m.instructions, m.cycles)
    snap = Snapshot.take(m)
    d.clear()
    d.cont()
    assert figures(m) == ref
    snap.restore(m)
    assert (m.pc(), m.instructions, m.cycles) == here and m.stop is None
    d.cont()
    assert figures(m) == ref


def test_restore_rolls_back_ram_and_peripherals():
    m = prepare(elf("stm32f407vg", "systick"), "stm32f407vg")
    d = Debugger(m)
    d.add_breakpoint(m.fw.symbol("SysTick_Handler").addr)
    d.cont()
    ticks = m.fw.symbol("ticks").addr
    snap = Snapshot.take(m)
    before = (m.mem_read(ticks, 4), m.system.systick.ctrl, len(m.console), m.cycles)
    for _ in range(5):
        d.cont()
    assert m.mem_read(ticks, 4) != before[0]
    snap.restore(m)
    assert (m.mem_read(ticks, 4), m.system.systick.ctrl, len(m.console), m.cycles) == before
