"""The C block analysis (simcore/native/thumb.c) equals the Python twin (simcore.blocks over capstone).

Every committed ELF: each block Unicorn translates in a run (up to 1 M instructions), field by
field and cycle by cycle. Each distinct program (the cortex-m4 and mps2-an386 builds; the
other boards build the same sources) also has its whole Thumb code compared, in blocks cut
where Unicorn cuts them, so code no run reaches is covered too. The instruction-count model
and exact flash-data charging are compared on a few ELFs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.native_analysis import check_elf

ROOT = Path(__file__).resolve().parents[2]
ELFS = sorted((ROOT / "firmware" / "bin").glob("*/*.elf"))
SWEPT = {"cortex-m4", "mps2-an386"}


@pytest.mark.parametrize("path", ELFS, ids=[f"{p.parent.name}/{p.stem}" for p in ELFS])
def test_c_analysis_equals_python_analysis(path: Path) -> None:
    board = path.parent.name
    mismatches = check_elf(path, board, budget=1_000_000, sweep=board in SWEPT)
    assert not mismatches, "\n".join(f"{x.addr:#x}+{x.size} {x.field}: C {x.c} Python {x.py} | {x.text[-200:]}"
                                     for x in mismatches[:10])


@pytest.mark.parametrize(("board", "app", "kw"), [
    ("cortex-m4", "calib_core", {"cycle_model": "instructions"}),
    ("stm32f407vg", "kws_demo", {"cycle_model": "instructions"}),
    ("stm32f407vg", "calib_flash", {"flash_data": "exact"}),
    ("nrf52840", "hello", {"flash_data": "exact"}),
])
def test_other_models_equal_too(board: str, app: str, kw: dict[str, str]) -> None:
    path = ROOT / "firmware" / "bin" / board / f"{app}.elf"
    mismatches = check_elf(path, board, budget=1_000_000, sweep=True, **kw)
    assert not mismatches, [(hex(x.addr), x.field, x.c, x.py) for x in mismatches[:10]]
