"""Run many ELFs in one process, warm: the runner behind ``simcore test`` (one per worker process) and scripts.

A :class:`Batch` keeps what does not change from one ELF to the next: the boards (loaded and
checked once), the parsed ELFs (by path, size and modification time), and everything a process
holds anyway (imports, the native library, decoder tables). Each run gets a fresh machine (a
new Unicorn, the image loaded anew), so runs cannot leak into each other; block analyses of an
ELF run before come from the persistent cache (simcore/blockcache.py).

    from simcore.batch import Batch
    batch = Batch()
    for elf in elfs:
        result = batch.run(elf, "mps2-an386", max_instructions=10_000_000)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simcore.api import RunResult, prepare, run_machine
from simcore.board import Board, load_board
from simcore.elf import Firmware, load_elf
from simcore.machine import Machine


class Batch:
    """Boards and parsed ELFs kept across runs; a fresh machine for every run."""

    def __init__(self) -> None:
        self._boards: dict[str, Board] = {}
        self._elfs: dict[tuple[str, int, int], Firmware] = {}

    def board(self, spec: str | Path | Board) -> Board:
        if isinstance(spec, Board):
            return spec
        key = str(spec)
        if key not in self._boards:
            self._boards[key] = load_board(spec)
        return self._boards[key]

    def firmware(self, elf: str | Path) -> Firmware:
        path = Path(elf)
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        fw = self._elfs.get(key)
        if fw is None:
            fw = self._elfs[key] = load_elf(path)
        return fw

    def prepare(self, elf: str | Path, board: str | Path | Board = "cortex-m4", keep_elf: bool = True,
                **options: Any) -> Machine:
        """simcore.api.prepare with the batch's board and parsed ELF (``keep_elf=False``: parsed, not kept)."""
        fw = self.firmware(elf) if keep_elf else load_elf(elf)
        return prepare(elf, self.board(board), firmware=fw, **options)

    def run(self, elf: str | Path, board: str | Path | Board = "cortex-m4", keep_elf: bool = True,
            **options: Any) -> RunResult:
        """simcore.api.run, warm (the machine closed after, as there: the next one runs at full speed)."""
        with self.prepare(elf, board, keep_elf, **options) as m:
            return run_machine(m)
