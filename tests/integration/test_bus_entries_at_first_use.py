"""A built model's BusEntry objects made at first use (issue 16, eleventh round; ``PeripheralBus.entry_at``).

``PeripheralBus._build`` puts a model's registers and its window's plain SVD registers into the register file at its
first access; their BusEntry objects (~200 in nrf52840 nrf_nvmc, ~140 us a run) are made only when something looks at
one (a Python access report, a poll, a console or FIT setup, inspection). The run must be the same as with all of them
made at build time (``LAZY_ENTRIES = False``): every figure of the run JSON but wall times, the unimplemented-register
reports (``sync_reports`` reads the lazy ones from their layouts), and the entries themselves once all are made.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.bus import PeripheralBus
from simcore.machine import Machine
from simcore.reports import ReportChannel
from tests.conftest import elf, figures

CASES = [("nrf52840", "nrf_nvmc"), ("nrf52840", "svd_probe"), ("nrf52840", "calib_core"),
         ("stm32f407vg", "svd_probe")]


def _run(board: str, app: str, lazy: bool, native: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Machine,
                                                                                                       int]:
    monkeypatch.setattr(PeripheralBus, "LAZY_ENTRIES", lazy)
    m = prepare(elf(board, app), board, native=native)
    out = figures(run_machine(m), drop=())
    made_in_run = len(m.bus._made)  # before ``entries`` makes the rest
    return out, m, made_in_run


def _entries(m: Machine) -> list[tuple[Any, ...]]:
    return [(i, e.name, e.addr, e.store, e.index, type(e.model).__name__, e.plain)
            for i, e in m.bus.entries.items()]


@pytest.mark.parametrize("native", [True, False], ids=["native", "twin"])
@pytest.mark.parametrize(("board", "app"), CASES)
def test_entries_made_at_first_use_leave_the_run_as_it_was(board: str, app: str, native: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    eager, m_eager, made_eager = _run(board, app, False, native, monkeypatch)
    lazy, m_lazy, made_lazy = _run(board, app, True, native, monkeypatch)
    assert lazy == eager
    assert _entries(m_lazy) == _entries(m_eager)
    assert list(m_lazy.bus.entries) == sorted(m_lazy.bus.entries)  # index order, as made at build time
    assert made_eager == len(m_eager.bus.entries) > 50
    assert made_lazy <= made_eager
    if board == "nrf52840":  # its models' windows: most of their entries are never looked at
        assert made_lazy < made_eager // 2


def test_unimplemented_register_reports_are_counted_from_the_lazy_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    """svd_probe touches SVD registers no model implements: their reports' counts come from the register file
    through the layouts of entries never made."""
    eager, _, _ = _run("nrf52840", "svd_probe", False, True, monkeypatch)
    lazy, _, _ = _run("nrf52840", "svd_probe", True, True, monkeypatch)
    reps = [r for r in lazy["reports"]["unimplemented"] if r["reads"] or r["writes"]]
    assert len(reps) > 3 and lazy["reports"]["unimplemented"] == eager["reports"]["unimplemented"]


def test_a_register_by_name_is_the_first_entry_of_that_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """``entry(name)`` makes the lazy entries first: the entry of a name is the one with the lowest index, as when
    all were made at build time."""
    monkeypatch.setattr(PeripheralBus, "LAZY_ENTRIES", True)
    m = prepare(elf("nrf52840", "nrf_nvmc"), "nrf52840")
    run_machine(m)
    e = m.bus.entry("RNG.VALUE")
    assert e.name == "RNG.VALUE" and m.bus.entries[e.index] is e
    assert e.index == min(i for i, x in m.bus.entries.items() if x.name == "RNG.VALUE")
    assert m.bus.entry_at(-1) is None and m.bus.entry_at(10**6) is None


def test_reports_of_entries_never_made_are_synced_from_their_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sync_reports`` gives a report of a plain register its counts from the register file whether or not its
    BusEntry was made (a report under the name of an entry never looked at: made here by hand, with a stale count)."""
    synced = []
    for lazy in (True, False):  # the lazy run picks the register
        monkeypatch.setattr(PeripheralBus, "LAZY_ENTRIES", lazy)
        m = prepare(elf("nrf52840", "nrf_nvmc"), "nrf52840")
        run_machine(m)
        bus = m.bus
        if lazy:  # an entry of a built model's window not made during the run
            first, _end, layout, _store0, _model = bus._lazy[0]
            i = next(i for i, reg in enumerate(layout.plain) if reg is not None and first + i not in bus._made)
            name, index = layout.names[i], first + i
        m.report(ReportChannel.UNIMPLEMENTED, name, "by hand")
        rep = m.reports.get(ReportChannel.UNIMPLEMENTED, name)
        rep.reads, rep.writes = 99, 99
        bus.sync_reports(m.reports)
        synced.append((rep.reads, rep.writes, rep.fields, bus.rf.reg(index)["reads"]))
        if lazy:
            assert index not in bus._made  # read from its layout, not made
    assert synced[0] == synced[1] and synced[1][:2] == (0, 0)
