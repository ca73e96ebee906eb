"""Calibration: simcore's cycle counts for hand-timed sequences equal the hand computation.

The sequences (firmware/apps/calib_*/*.S) read the cycle counter before and after, and
print "calib <name> <cycles>". The hand computations from the Cortex-M4 TRM tables sit in
comments next to each sequence and in calib.toml, which these tests read. Both hot-path
implementations (native C and the Python twin) must give the same figures.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from simcore.api import run
from simcore.elf import load_elf

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "firmware" / "apps"
BIN = ROOT / "firmware" / "bin"


def _table(app: str) -> dict:
    return tomllib.loads((APPS / app / "calib.toml").read_text())


def _measure(elf: Path, board: str | Path, native: bool, mhz: float | None = None,
             flash_data: str = "literal") -> dict[str, int]:
    res = run(elf, board, native=native, mhz=mhz, flash_data=flash_data)
    assert res.stop.kind == "exit" and res.exit_status == 0, res.stop.message
    assert "calib done" in res.text
    return {m[1]: int(m[2]) for m in re.finditer(r"^calib (\w+) (\d+)$", res.text, re.M)}


PAGE = 1024  # Unicorn ends a translated block at a target page boundary (1 KiB on Arm)
BKPT_SEMIHOST = b"\xab\xbe"  # bkpt 0xab, little-endian


@pytest.mark.parametrize("app", ["calib_core", "calib_fpu", "calib_flash", "calib_div"])
def test_timed_regions_do_not_cross_a_page(app: str) -> None:
    """A page boundary would split a sequence into two blocks (no pipelining across them)."""
    board = _table(app)["board"]
    fw = load_elf(BIN / board / f"{app}.elf")
    names = re.findall(r"X\((\w+)\)", (APPS / app / "main.c").read_text())
    assert names
    for name in names:
        sym = fw.symbol(f"calib_{name}")
        assert sym is not None and sym.size, name
        code = fw.read_loaded(sym.addr & ~1, sym.size)
        if code is None:  # .ramfunc: read it at its load address
            sec = next(s for s in fw.sections if s.vma <= sym.addr & ~1 < s.vma + s.size)
            code = fw.read_loaded(sec.lma + (sym.addr & ~1) - sec.vma, sym.size)
        first = code.index(BKPT_SEMIHOST) + 2
        second = code.index(BKPT_SEMIHOST, first)
        start, end = (sym.addr & ~1) + first, (sym.addr & ~1) + second
        assert start // PAGE == end // PAGE, f"calib_{name}: timed region {start:#x}-{end:#x} crosses a page"


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
@pytest.mark.parametrize("app", ["calib_core", "calib_fpu", "calib_div"])
def test_core_and_fpu_sequences_match_hand_timing(app: str, native: bool) -> None:
    table = _table(app)
    got = _measure(BIN / table["board"] / f"{app}.elf", table["board"], native)
    assert got == table["cycles"]


NO_ART = """\
extends = "stm32f407vg"
name = "stm32f407vg-noart"
[flash_timing]
accelerator = "none"
"""


@pytest.mark.parametrize("flash_data", ["literal", "exact"])
@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
@pytest.mark.parametrize("case,mhz", [("ws0", 24), ("art5", 168), ("none5", 168)])
def test_flash_sequences_match_hand_timing(case: str, mhz: float, native: bool, flash_data: str,
                                           tmp_path: Path) -> None:
    """The sequences read flash data only through their literal: both flash-data modes agree."""
    table = _table("calib_flash")
    board: str | Path = table["board"]
    if case == "none5":
        board = tmp_path / "noart.toml"
        board.write_text(NO_ART)
    got = _measure(BIN / table["board"] / "calib_flash.elf", board, native, mhz, flash_data)
    assert got == table["cycles"][case]


def test_flash_wait_states_are_reported_separately() -> None:
    slow = run(BIN / "stm32f407vg" / "hello.elf", "stm32f407vg", mhz=168)
    fast = run(BIN / "stm32f407vg" / "hello.elf", "stm32f407vg", mhz=24)
    assert slow.instructions == fast.instructions
    assert fast.extra["flash_wait_cycles"] == 0
    assert slow.extra["flash_wait_states"] == 5
    assert slow.cycles - fast.cycles == slow.extra["flash_wait_cycles"] > 0


def test_instruction_model_is_cpi_one() -> None:
    """One cycle per instruction; IT-conditional instructions that fail still take theirs."""
    res = run(BIN / "cortex-m4" / "calib_core.elf", "cortex-m4", cycle_model="instructions")
    assert res.instructions <= res.cycles < res.instructions * 1.05
    assert "calib loop10 24\n" in res.text  # 21 instructions + 3 harness, no refills


def test_exact_flash_data_charges_const_reads_identically_in_both_hot_paths() -> None:
    elf = BIN / "stm32f407vg" / "hello.elf"
    lit = run(elf, "stm32f407vg", mhz=168)
    exact = [run(elf, "stm32f407vg", mhz=168, flash_data="exact", native=n) for n in (True, False)]
    assert exact[0].cycles == exact[1].cycles
    assert exact[0].extra["flash_wait_cycles"] == exact[1].extra["flash_wait_cycles"]
    assert exact[0].extra["flash_wait_cycles"] > lit.extra["flash_wait_cycles"]  # rodata reads charged too
