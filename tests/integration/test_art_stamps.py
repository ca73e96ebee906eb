"""The ART's generation stamps (hotpath.c hp_flash_hit): a block whose flash lines were all present in the STM32 ART
when the tags' generation was what it is now skips the tag check (no tag changed since, so the check would find
every line and change nothing but the last line fetched). The counts must be those of the check at every block entry,
which the Python twin (``native=False``) still makes: cycles, flash wait cycles, the hidden prefetch misses (the
error bar's), per-block executions. Also where the stamps are forgotten: the generation's wrap and a snapshot
restored (its tags and generation are another timeline's)."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare
from simcore.debug import Debugger
from simcore.snapshot import Snapshot
from tests.conftest import elf
from tests.integration.test_sensors_audio import WAV

DISCO = "stm32f4-discovery"
IOT = "b-l475e-iot01a"


def _figures(m: Any) -> dict[str, object]:
    s = m.hot.state
    return {"instructions": s.insn_count, "cycles": s.cycle_count, "flash_wait": s.flash_wait_cycles,
            "prefetch_hidden": s.prefetch_hidden, "sleep": m.system.sleep_cycles, "console": bytes(m.console),
            "stop": (m.stop.kind, m.stop.exit_code), "executions": m.hot.block_executions()}


def _audio(board: str, windows: int = 12, **kw: Any) -> Any:
    return prepare(elf(board, "audio_events"), board, sensors={"mic": WAV},
                   cmdline=f"audio_events.elf windows={windows}", **kw)


@pytest.mark.parametrize("board", [DISCO, IOT])
def test_stamped_blocks_count_what_the_python_twin_checks(board: str) -> None:
    m = _audio(board)
    m.run()
    fast = _figures(m)
    s = m.hot.state
    assert fast["stop"] == ("exit", 0) and s.wait_states > 0 and s.accel == 1  # the ART at its wait states
    assert fast["flash_wait"] > 0 and s.art_gen > 1  # lines missed: the generation moved
    lib, state = m.hot.lib, m.hot.state
    stamped = [key for key in fast["executions"] if lib.hp_lookup(state, *key).contents.art_gen == s.art_gen]
    assert stamped  # blocks that ran since the last tag change carry the current generation
    twin = _audio(board, native=False)
    twin.run()
    assert _figures(twin) == fast


def test_the_generation_wrap_forgets_every_stamp() -> None:
    """From a generation just below the wrap, the tag changes of the run's first blocks pass 0xFFFF: every stamp is
    forgotten and the generations start again at 1. A stamp of a wrapped generation would read as another's."""
    ref = _audio(DISCO, windows=4)
    ref.run()
    m = _audio(DISCO, windows=4)
    m.hot.state.art_gen = 0xFFF0
    m.run()
    assert _figures(m) == _figures(ref)
    assert 1 <= m.hot.state.art_gen < 0xFFF0  # it wrapped


def test_a_snapshot_restored_mid_run_forgets_the_stamps() -> None:
    """Restored to a pause mid-run, the generation goes back to the snapshot's while the blocks keep the stamps of the
    run that went on: without forgetting them, the generations the restored run reaches again would match stamps
    made under other tags."""
    m = _audio(DISCO, windows=6)
    d = Debugger(m)
    d.add_breakpoint(m.fw.symbol("_write").addr)
    for _ in range(3):  # past the clock set-up (5 wait states from then) and the first lines
        assert d.cont().kind == "breakpoint"
    snap = Snapshot.take(m)
    d.clear()
    d.cont()
    ref = _figures(m)
    assert ref["stop"] == ("exit", 0) and m.hot.state.art_gen > snap.hot["art_gen"]
    for _ in range(2):
        snap.restore(m)
        assert m.hot.state.art_gen == 1  # forgotten: no block carries a stamp now
        assert all(m.hot.lib.hp_lookup(m.hot.state, *key).contents.art_gen == 0 for key in ref["executions"])
        d.cont()
        assert _figures(m) == ref


def test_the_art_switched_off_forgets_the_stamps() -> None:
    """The block hook takes a block's stamp alone for "in flash, its lines checked with the ART on" (hotpath.c
    hp_block_counted looks at no accel): HotPath.set_flash forgets the stamps when the ART goes off, so the blocks run
    from then are charged their lines' wait states as the Python twin charges them; a change that keeps it on keeps
    them."""
    figures = []
    for native in (True, False):
        m = _audio(DISCO, windows=3, native=native)
        d = Debugger(m)
        d.add_breakpoint(m.fw.symbol("_write").addr)
        for _ in range(3):  # past the clock set-up: 5 wait states, the ART on
            assert d.cont().kind == "breakpoint"
        s = m.hot.state
        assert s.wait_states > 0 and s.accel == 1
        if native:
            lib, keys = m.hot.lib, list(m.hot.block_executions())
            m.hot.set_flash(s.wait_states, 1, bool(s.prefetch))
            assert s.art_gen > 1 and any(lib.hp_lookup(s, *key).contents.art_gen == s.art_gen for key in keys)
        m.hot.set_flash(s.wait_states, 0, False)
        if native:
            assert s.art_gen == 1 and all(lib.hp_lookup(s, *key).contents.art_gen == 0 for key in keys)
        d.clear()
        d.cont()
        figures.append(_figures(m))
    assert figures[0]["stop"] == ("exit", 0)
    assert figures[0] == figures[1]
