"""Shared fixtures: paths to the committed firmware and a CLI runner that captures output."""

from __future__ import annotations

import io
import os
from collections.abc import Generator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware" / "bin"
BOARDS = ["cortex-m4", "stm32f407vg", "stm32l4r5zi", "nrf52840"]


def elf(board: str, app: str) -> Path:
    return FIRMWARE / board / f"{app}.elf"


def started(board: str, app: str, native: bool, arm: bool = True) -> Any:
    """A committed ELF's machine, started (reset taken) and, on the native path, armed for C as the run loop
    arms it before emulation (``arm=False``: left as the reset leaves it)."""
    from simcore.api import prepare

    m: Any = prepare(elf(board, app), board, native=native)
    m.start()
    if native and arm:
        m.system.arm_native()
    return m


def store(m: Any, addr: int, value: int, size: int = 4) -> None:
    """A guest-like store: ``uc.mem_write`` reaches the same MMIO callbacks a guest access does."""
    m.uc.mem_write(addr, value.to_bytes(size, "little"))


def load(m: Any, addr: int, size: int = 4) -> int:
    """A guest-like load through Unicorn (the MMIO read callbacks)."""
    return int.from_bytes(m.uc.mem_read(addr, size), "little")


@dataclass
class CliResult:
    status: int
    out: str
    err: str


def pause_at_nth_stream(monkeypatch: pytest.MonkeyPatch, m: object, model: type, start: str, nth: int,
                        why: str) -> None:
    """Ask machine ``m`` (a Debugger attached) to pause just after the ``nth`` transfer the register file took over
    started: ``model.start`` (the model's hand-over, e.g. Stm32F4Spi._try_stream) wrapped to count them."""
    from simcore.debug import Pause

    started = [0]
    own = getattr(model, start)

    def counted(self: object, *args: object) -> None:
        own(self, *args)
        if self._stream is not None:  # type: ignore[attr-defined]
            started[0] += 1
            if started[0] == nth:
                m.request_pause(Pause("interrupt", why, pc=None))  # type: ignore[attr-defined]

    monkeypatch.setattr(model, start, counted)


def figures(result: object, drop: tuple[str, ...] = ("native_hot_path",)) -> dict[str, object]:
    """A run's report (``result.to_dict()``) without what may differ between equal runs: wall times and the keys in
    ``drop`` (which path served the work, its polling statistics), at every depth; for C-versus-Python comparisons."""
    def strip(d: object) -> object:
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if "wall" not in k and k not in drop}
        return [strip(x) for x in d] if isinstance(d, list) else d
    return strip(result.to_dict())  # type: ignore[attr-defined,return-value]


def run_cli(*args: str) -> CliResult:
    """Run ``simcore`` in-process (main() never raises for user errors) and capture its streams."""
    from simcore.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main([str(a) for a in args])
    return CliResult(status, out.getvalue(), err.getvalue())


@pytest.fixture
def per_tick_paths() -> Generator[None, None, None]:
    """Machine.STRETCH off: each Nano tick through the per-tick paths a K-tick stretch takes over (hotpath.c hp_ks),
    for tests that count or compare what those paths do (the stretch's own: tests/integration/test_stretch_in_c.py).
    Set here, not by monkeypatch: tests that monkeypatch undo theirs."""
    from simcore.machine import Machine

    was, Machine.STRETCH = Machine.STRETCH, False
    yield
    Machine.STRETCH = was


@pytest.fixture
def cli():
    return run_cli


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    """With SIMCORE_NO_SKIPS=1 (set by .ci/run) a skipped test fails: CI must run every test."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail") and os.environ.get("SIMCORE_NO_SKIPS") == "1":
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = f"skipped, and SIMCORE_NO_SKIPS=1 forbids skips: {reason}"
