"""simcore test's warm workers: a run after other ELFs in the same process equals a fresh process's run
(no state leaks between ELFs), the longest recorded runs start first, and the board tag is read as
pyelftools reads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from simcore import suite
from simcore.batch import Batch
from tests.conftest import FIRMWARE, ROOT, elf

# different boards and different state: the STM32 clock tree and flash wait states (clock_max), timers and
# interrupts (tim_irq), semihosting files and the data-RAM heap (rdimon_layout), the nRF52840's peripherals
# and console (hello), a fault (faults) and the MPU (mpu) on the board of the first ELF
WARM = [("stm32f407vg", "clock_max"), ("stm32f407vg", "tim_irq"), ("mps2-an386", "rdimon_layout"),
        ("nrf52840", "hello"), ("stm32f407vg", "faults"), ("stm32f407vg", "mpu")]
FRESH = [("stm32f407vg", "clock_max"), ("mps2-an386", "rdimon_layout"), ("stm32f407vg", "mpu")]


def _figures(d: dict) -> dict:
    """A run's JSON without its host wall time (the only field that may differ between equal runs)."""
    return {k: v for k, v in d.items() if k != "wall_seconds"}


def _fresh(board: str, app: str, tmp: Path) -> dict:
    """The run's JSON from a new ``simcore run`` process (nothing run before it in that interpreter)."""
    out = tmp / f"{board}-{app}.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-m", "simcore", "run", str(elf(board, app)), "--board", board, "-q",
                    "--json", str(out)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300)
    return json.loads(out.read_text())


def test_a_warm_batch_runs_each_elf_as_a_fresh_process_does(tmp_path: Path) -> None:
    """Every ELF run twice in one Batch, after the others (boards, peripherals, clocks, semihosting, block caches
    and parsed ELFs kept by the batch): both runs give the same JSON, and it is a fresh process's JSON."""
    batch = Batch()
    rounds = [[_figures(batch.run(elf(b, a), b, echo=None).to_dict()) for b, a in WARM] for _ in range(2)]
    for (b, a), first, second in zip(WARM, *rounds, strict=True):
        assert first == second, f"{a}[{b}]: the second run in the warm batch differs from the first"
    assert {r["exit_status"] for r in rounds[0]} >= {0, 8}  # runs that exit and a fault: not all alike
    by_name = dict(zip(WARM, rounds[1], strict=True))
    for b, a in FRESH:
        assert by_name[(b, a)] == _figures(_fresh(b, a, tmp_path)), f"{a}[{b}]: warm worker != fresh process"


def test_longest_recorded_runs_start_first_and_unrecorded_before_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path))
    specs = [suite.TestSpec(str(elf("stm32f407vg", a)), "stm32f407vg") for a in ("hello", "compute", "tim_irq")]
    assert suite.schedule(specs) == sorted(range(3), key=lambda i: -os.path.getsize(specs[i].elf))  # nothing known
    suite.record_durations(specs, [{"wall_seconds": 0.05}, {"wall_seconds": 1.5}, {"wall_seconds": 0.2}])
    assert suite.schedule(specs) == [1, 2, 0]
    new = suite.TestSpec(str(elf("stm32f407vg", "nested")), "stm32f407vg")
    assert suite.schedule([*specs, new]) == [3, 1, 2, 0]  # never run: may be long, starts first
    other_clock = suite.TestSpec(specs[1].elf, "stm32f407vg", mhz=168)
    assert suite.duration_key(other_clock) != suite.duration_key(specs[1])  # the clock changes a run's length
    monkeypatch.setenv("SIMCORE_NO_CACHE", "1")
    assert suite.read_durations() == {}


def test_simcore_test_records_each_runs_wall_time(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIMCORE_CACHE_DIR", str(tmp_path))
    apps = [elf("stm32f407vg", "hello"), elf("mps2-an386", "semihost_exit")]
    res = cli("test", *apps, "-j", "2", "--json", tmp_path / "s.json")
    assert res.status == 0, res.err
    runs = json.loads((tmp_path / "s.json").read_text())["runs"]
    known = suite.read_durations()
    for path, run in zip(apps, runs, strict=True):
        assert known[suite.duration_key(suite.TestSpec(str(path), path.parent.name))] == \
            pytest.approx(run["wall_seconds"], abs=1e-4)


@pytest.mark.parametrize("board", sorted(p.name for p in FIRMWARE.iterdir() if p.is_dir()))
def test_board_tag_reads_what_pyelftools_reads(board: str) -> None:
    for path in sorted((FIRMWARE / board).glob("*.elf")):
        with open(path, "rb") as f:
            sec = ELFFile(f).get_section_by_name(suite.BOARD_SECTION)
            want = None if sec is None else sec.data().split(b"\0", 1)[0].decode("utf-8", "replace").strip() or None
        assert suite.board_tag(path) == want, path
