"""CPACR, DEMCR, DWT_CTRL and CYCCNT accesses and IABR reads served by the native hot path (hp_sc_read, hp_sc_write)
equal the register models' (the Python twin, and the native path with ``SystemBlock.SERVED_IN_C`` off).

Word accesses to CPACR (ARMv7-M B3.2.20), DEMCR (C1.6.5), DWT_CTRL (C1.8.7) and writes of CYCCNT (C1.8.8) are served
from values C keeps (given by SystemBlock.publish_served, taken back at the next sync), and IABR reads (B3.4.7) from
C's view of the active exceptions. These tests drive the PPB with stores and loads through Unicorn (``uc.mem_write``
and ``uc.mem_read`` reach the same MMIO callbacks a guest access does) on the three paths and compare what the models
hold and what the firmware reads; then they run ELFs whose start-up makes these accesses.
"""

from __future__ import annotations

import pytest

from simcore.api import prepare, run_machine
from simcore.cortexm.system import SystemBlock
from tests.conftest import elf, figures, load, started, store

CPACR, DEMCR, DWT_CTRL, CYCCNT = 0xE000ED88, 0xE000EDFC, 0xE0001000, 0xE0001004
TRCENA, CP10_CP11 = 1 << 24, 0x00F00000
PATHS = (("C", True, True), ("twin", False, True), ("models", True, False))  # (name, native, SERVED_IN_C)


def machine(native: bool, served: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(SystemBlock, "SERVED_IN_C", served)
    return started("nrf52840", "nested", native)


def models(m: object) -> tuple[int, int, int, int | None, int, int]:
    """What the register models hold after Python's sync (a hook's guard or the run loop's): CPACR, DEMCR, DWT_CTRL,
    CYCCNT's origin and frozen value, and CYCCNT now."""
    if m.hot.native and m.hot.state.fr_done:
        m.system.sync_native()
    sy = m.system
    return (sy.scb.get("CPACR"), sy.coredebug.get("DEMCR"), sy.dwt.read_CTRL(), sy.dwt.origin, sy.dwt.frozen,
            sy.dwt.cyccnt())


def test_a_cpacr_write_served_in_c_is_the_models_and_reads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The FPU start-up's read-modify-write of CPACR (CP10, CP11 full access) is served in C and reaches Scb's CPACR
    (the FPU always executes: CPACR is stored, and every Python path reads it from Scb); a write setting bits CPACR
    does not implement is the model's, which reports it, as on the twin."""
    seen = []
    for _name, native, served in PATHS:
        m = machine(native, served, monkeypatch)
        s = m.hot.state
        before = load(m, CPACR)
        store(m, CPACR, before | CP10_CP11)
        if native and served:
            assert s.sc_reads == 1 and s.sc_writes == 1 and s.sc_changed & 1 and s.fr_done & 4
            assert m.system.scb.get("CPACR") == before  # Python has not looked yet
        after = models(m)
        assert after[0] == CP10_CP11 and m.system.read(CPACR, 4) == CP10_CP11  # the model's value, read by Python
        assert load(m, CPACR) == CP10_CP11
        store(m, CPACR, CP10_CP11 | 1)  # bit 0 is not implemented: the model stores and reports it
        if native and served:
            assert s.sc_writes == 1  # left to Python
        seen.append((before, after, models(m), load(m, CPACR), m.reports.to_dict()))
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][3] == CP10_CP11 | 1 and "SCB.CPACR" in str(seen[0][4])


def test_dwt_ctrl_and_demcr_written_in_c_start_and_stop_cyccnt(monkeypatch: pytest.MonkeyPatch) -> None:
    """DEMCR.TRCENA and DWT_CTRL.CYCCNTENA written in C start and stop CYCCNT as the Dwt model does (C1.8.2: it counts
    with both set), a CYCCNT write sets it counting or not; the firmware's reads and the models after the sync equal
    the twin's and the models' path at each step (the clock moved between steps as the hot path moves it)."""
    steps = (
        (DWT_CTRL, 1),               # CYCCNTENA without TRCENA: CYCCNT does not count
        (DEMCR, TRCENA),             # now it counts
        (CYCCNT, 5),                 # set while counting
        (DWT_CTRL, 0x0D000000),      # the read-only ID bits written back, CYCCNTENA clear: it stops
        (CYCCNT, 0xFFFFFFF0),        # set while stopped
        (DWT_CTRL, 0x0D000001),      # counts again from there (wraps)
        (DEMCR, 0),                  # TRCENA clear: stops
    )
    traces = []
    for _name, native, served in PATHS:
        m = machine(native, served, monkeypatch)
        s = m.hot.state
        trace = []
        for i, (addr, value) in enumerate(steps):
            s.cycle_count += 1000 + 37 * i
            store(m, addr, value)
            s.cycle_count += 250
            trace.append((load(m, CYCCNT), load(m, DWT_CTRL), load(m, DEMCR), models(m)))
        if native and served:
            assert s.sc_writes == len(steps) and s.sc_reads == 2 * len(steps)  # every one served in C
        elif native:
            assert s.sc_writes == s.sc_reads == 0
        traces.append(trace)
    assert traces[0] == traces[1] == traces[2]
    counting = [t[0] for t in traces[0]]
    assert counting[0] == 0 and counting[1] == 250 and counting[2] == 255 and counting[4] == 0xFFFFFFF0
    assert counting[5] == (0xFFFFFFF0 + 250) & 0xFFFFFFFF


def test_served_accesses_are_left_to_python_while_the_polling_watch_looks_at_every_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the polling watch's RAM check on (dwt_on bit 2: it must see every read) and with a debugger attached
    (sc_on 0), the accesses are the models' again."""
    m = machine(True, True, monkeypatch)
    s = m.hot.state
    s.dwt_on |= 2
    store(m, CPACR, CP10_CP11)
    assert load(m, CPACR) == CP10_CP11 and s.sc_reads == s.sc_writes == 0
    s.dwt_on &= ~2
    m.debugger = object()
    m.system.arm_native()
    assert s.sc_on == 0
    store(m, DEMCR, TRCENA)
    assert s.sc_writes == 0 and m.system.coredebug.get("DEMCR") == TRCENA
    m.debugger = None
    m.system.arm_native()
    assert s.sc_on == 7 and load(m, DEMCR) == TRCENA and s.sc_reads == 1  # C's copy was published after Python's


@pytest.mark.parametrize(("board", "app"), [("nrf52840", "nested"), ("cortex-m4", "nested"), ("nrf52840", "nrf_nvmc"),
                                            ("stm32f407vg", "nested"), ("cortex-m4", "fpu_irq")])
def test_runs_equal_the_python_twin_and_the_models_path(board: str, app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole runs whose start-up reads and writes CPACR (and DEMCR, DWT_CTRL, CYCCNT: nrf_nvmc), and nested's IABR
    read inside IRQ1 (C's view: IRQ1 active, entered by C): the report (instructions, cycles, console, stop, ...) and
    the models' end state equal the twin's and those of the run with the paths off."""
    runs, served = [], []
    for _name, native, on in PATHS:
        monkeypatch.setattr(SystemBlock, "SERVED_IN_C", on)
        m = prepare(elf(board, app), board, native=native)
        r = run_machine(m)
        runs.append((figures(r, drop=("native_hot_path", "polling")), models(m)[:5]))
        s = m.hot.state
        served.append((s.sc_reads, s.sc_writes) if native else None)
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][0]["stop"]["kind"] == "exit"
    assert served[2] == (0, 0)
    assert served[0][1] >= 1 and served[0][0] >= 1  # CPACR's read and write at least
    if app == "nested":
        assert "IABR0 0x2" in runs[0][0]["console"]
        assert served[0] == (2, 1)  # CPACR read, IABR read; CPACR write
    if app == "nrf_nvmc":
        assert served[0] == (3, 4)  # CPACR, DEMCR, DWT_CTRL read and written; CYCCNT written
