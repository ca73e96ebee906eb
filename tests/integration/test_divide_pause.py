"""A stop right before a divide whose operand hook already ran takes its charge back.

Operand-priced divides (simcore/native/timing.c, tm_div_hook) charge their cycles from a code hook
that runs before the divide executes. A hook added after it (a debugger's breakpoint or step) can
stop emulation there, before the divide runs: on resume the divide runs and its hook charges it
again. HotPath.undo_divide takes the first charge back (hp_state.entries tells the instance).
"""

from __future__ import annotations

import pytest

from simcore.api import prepare
from simcore.debug import Debugger
from tests.conftest import elf


@pytest.mark.parametrize("native", [None, False], ids=["native", "python"])
def test_breakpoints_on_a_hooked_divide_then_stepping_give_the_plain_counts(native: bool | None,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMCORE_NO_CACHE", "1")  # divides hooked lazily, at their first execution
    board = "stm32f407vg"
    plain = prepare(elf(board, "hello"), board, native=native)
    plain.run()
    ref = (plain.instructions, plain.cycles, plain.hot.div_stats.executed, plain.hot.div_stats.extra)
    (site, *_) = sorted(plain.hot._div_hooked)
    m = prepare(elf(board, "hello"), board, native=native)
    d = Debugger(m)
    for _ in range(2):  # the second time, the divide's hook was added before the breakpoint's
        d.add_breakpoint(site)
        d.step()
        while m.pause is None or m.pause.kind != "breakpoint":
            m.run()
        assert m.pc() == site
        d.remove_breakpoint(site)
    while m.stop is None:
        d.step()
    assert (m.instructions, m.cycles, m.hot.div_stats.executed, m.hot.div_stats.extra) == ref
    assert ref[2] > 1
