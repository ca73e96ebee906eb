"""DWT CYCCNT reads served by the native hot path (hp_dwt_mmio_read) equal the Python model's.

CYCCNT counts the core clock while DWT_CTRL.CYCCNTENA and DEMCR.TRCENA are both set, and a write sets it
(ARMv7-M ARM C1.8.8, C1.6.5). The Dwt model publishes its state to C at every change; C answers word reads of
CYCCNT from the same clock. These tests drive the registers with stores and loads (``uc.mem_write`` /
``uc.mem_read`` reach the same MMIO callbacks a guest access does) on a machine with the native hot path and on
its Python twin and check both against a reference counter kept here; then they run firmware that times itself
with CYCCNT with the reads served in C and with them left to Python.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

from simcore.api import prepare, run_machine
from tests.conftest import ROOT, elf, load, started, store

DWT_CTRL, CYCCNT, DEMCR = 0xE0001000, 0xE0001004, 0xE000EDFC
TRCENA = 1 << 24


class Reference:
    """CYCCNT as C1.8.8 describes it, kept by this test: it counts the cycles that pass while both enables are
    set, and a write sets it; 32 bits, wrapping."""

    def __init__(self) -> None:
        self.value = 0
        self.cyccntena = False
        self.trcena = False

    def advance(self, cycles: int) -> None:
        if self.cyccntena and self.trcena:
            self.value = (self.value + cycles) & 0xFFFFFFFF


@pytest.mark.parametrize("seed", range(4))
def test_random_enables_writes_and_reads_equal_the_reference_and_the_python_twin(seed: int) -> None:
    """Random clock steps (some past 2^32 cycles), CYCCNTENA and TRCENA toggles and CYCCNT writes (some larger
    than the clock, so C's origin wraps below 0): every read equals the reference, the native hot path serves
    every read while the model counts or holds its value, and the twin's reads go through the model."""
    rng = random.Random(seed)
    native, twin = (started("stm32f407vg", "poll_wait", n, arm=False) for n in (True, False))
    ref = Reference()
    reads = 0
    writes = [m.polls.writes_now() for m in (native, twin)]
    for _ in range(400):
        r = rng.random()
        if r < 0.3:
            step = rng.choice((1, rng.randrange(1, 5000), rng.randrange(1, 1 << 34)))
            for m in (native, twin):
                m.hot.state.cycle_count += step
            ref.advance(step)
        elif r < 0.45:
            ref.cyccntena = rng.random() < 0.7
            for m in (native, twin):
                store(m, DWT_CTRL, int(ref.cyccntena))
        elif r < 0.55:
            ref.trcena = rng.random() < 0.7
            for m in (native, twin):
                store(m, DEMCR, TRCENA if ref.trcena else 0)
        elif r < 0.65:
            ref.value = rng.getrandbits(32)
            for m in (native, twin):
                store(m, CYCCNT, ref.value)
        else:
            reads += 1
            assert load(native, CYCCNT) == load(twin, CYCCNT) == ref.value
    s = native.hot.state
    assert s.dwt_reads == reads and twin.hot.state.dwt_reads == 0
    native.system.sync_native()
    stores = twin.polls.writes_now() - writes[1]  # the twin's polling watch counts the stores (PollWatch.on_write)
    assert native.polls.writes_now() - writes[0] == stores + reads  # and the reads it did not see: a new place after


def test_reads_go_to_python_while_the_polling_watch_looks_and_other_registers_always() -> None:
    m = started("stm32f407vg", "poll_wait", True, arm=False)
    s = m.hot.state
    store(m, DEMCR, TRCENA)
    store(m, DWT_CTRL, 1)
    s.cycle_count += 100
    assert load(m, CYCCNT) == 100 and s.dwt_reads == 1
    s.dwt_on |= 2  # PollWatch._start_watch: the watch must see every read
    s.cycle_count += 5
    assert load(m, CYCCNT) == 105 and s.dwt_reads == 1
    s.dwt_on &= ~2
    assert load(m, CYCCNT) == 105 and s.dwt_reads == 2
    assert load(m, DWT_CTRL) & 1 and s.dwt_reads == 2  # CTRL: the model's


def counts(m: Any) -> tuple[Any, ...]:
    r = run_machine(m)
    return (r.instructions, r.cycles, r.text, r.stop.kind, r.stop.exit_code, r.sleep_cycles,
            m.system.exc.entries, m.polls.stats.to_dict())


def test_camera_persons_delay_loop_reads_cyccnt_in_c_with_the_counts_of_python_reads() -> None:
    """The OV7670 board's camera_person waits in delay_ms on CYCCNT (2,632 reads a 2-frame run): served in C,
    the run's counts, console and polling figures equal those of the same run with every read through the
    Python model."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import cmdline_of, inputs_of  # the recordings and run bound the tests and benchmarks use

    path = Path(elf("stm32f407-ov7670", "camera_person"))
    sensors = {k: api for k, (_cli, api) in inputs_of(path).sensors.items()}
    runs = []
    for in_c in (True, False):
        m = prepare(path, "stm32f407-ov7670", sensors=sensors, cmdline=cmdline_of(path))
        if not in_c:
            m.system.dwt._native = None
            m.hot.state.dwt_on = 0
        runs.append(counts(m))
        assert (m.hot.state.dwt_reads > 2000) == in_c
    assert runs[0] == runs[1]
    assert runs[0][4] == 0


@pytest.mark.parametrize(("board", "app"), [("stm32f407vg", "poll_wait"), ("stm32f407vg", "lowpower")])
def test_firmware_timing_itself_equals_the_python_twin(board: str, app: str) -> None:
    """Apps that time a wait with CYCCNT (and zero it first): served in C, their counts and console equal the
    pure-Python twin's (SIMCORE_NO_NATIVE's path)."""
    native, twin = (prepare(elf(board, app), board, native=n) for n in (True, False))
    a, b = counts(native), counts(twin)
    assert native.hot.state.dwt_reads >= 1
    assert a[:7] == b[:7]
