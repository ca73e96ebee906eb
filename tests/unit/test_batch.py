"""simcore.batch: many ELFs in one process give what separate runs give."""

from __future__ import annotations

from pathlib import Path

from simcore.api import run
from simcore.batch import Batch

BIN = Path(__file__).resolve().parents[2] / "firmware" / "bin"


def test_batch_runs_equal_single_runs() -> None:
    batch = Batch()
    cases = [("cortex-m4", "hello"), ("stm32f407vg", "fpu"), ("cortex-m4", "it_blocks"), ("cortex-m4", "hello")]
    for board, app in cases:
        elf = BIN / board / f"{app}.elf"
        got, want = batch.run(elf, board), run(elf, board)
        assert (got.instructions, got.cycles, got.text, got.exit_status) == \
            (want.instructions, want.cycles, want.text, want.exit_status)
    assert len(batch._boards) == 2 and len(batch._elfs) == 3  # loaded and parsed once each
