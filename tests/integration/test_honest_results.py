"""Honest results: internal errors are 127 with a traceback, a closed stdout ends the run quietly,
the CLI and the API count the same, --version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import simcore.api as sc
from simcore import __version__
from simcore.errors import EXIT_INTERNAL, EXIT_OUTPUT_CLOSED, InternalError
from simcore.peripherals.uart import CmsdkUart
from tests.conftest import ROOT, elf

HELLO = elf("cortex-m4", "hello")


def _boom(*_args: Any) -> None:
    raise RuntimeError("boom in a model")


def test_an_exception_inside_a_hook_is_an_internal_error_with_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CmsdkUart, "write", _boom)
    with pytest.raises(InternalError) as info:
        sc.run(HELLO, "cortex-m4")
    assert info.value.exit_code == EXIT_INTERNAL == 127
    assert isinstance(info.value.__cause__, RuntimeError) and "boom in a model" in str(info.value)
    assert "internal error at console_" in str(info.value)  # where the firmware was


def test_cli_reports_internal_errors_as_127_with_the_traceback(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CmsdkUart, "write", _boom)
    res = cli("run", HELLO, "--board", "cortex-m4", "-q")
    assert res.status == 127  # not 126 ("the firmware faulted")
    assert "Traceback (most recent call last)" in res.err and "RuntimeError: boom in a model" in res.err
    assert "simcore: internal error" in res.err


def test_cli_turns_any_unexpected_exception_into_127_not_a_bare_traceback(cli: Any,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import simcore.api

    def broken(*_args: Any, **_kw: Any) -> None:
        raise KeyError("no such thing")

    monkeypatch.setattr(simcore.api, "prepare", broken)
    res = cli("run", HELLO, "--board", "cortex-m4")
    assert res.status == 127 and "KeyError" in res.err and "Traceback" in res.err


def test_a_closed_stdout_ends_the_run_quietly(tmp_path: Path) -> None:
    """`simcore run ... | head`: the reader is gone before the firmware prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "simcore", "run", str(HELLO), "--board", "cortex-m4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_OUTPUT_CLOSED == 141
    assert err == ""  # no traceback, no "internal error", no summary


def test_cli_and_api_give_the_same_counts(cli: Any, tmp_path: Path) -> None:
    """An rdimon program reads its command line at start-up: the API gives it the ELF's name, like the CLI."""
    rdimon = elf("mps2-an386", "rdimon_hello")
    out = tmp_path / "r.json"
    status = cli("run", rdimon, "--board", "mps2-an386", "-q", "--json", out).status
    data = json.loads(out.read_text())
    r = sc.run(rdimon, "mps2-an386")
    assert (r.instructions, r.cycles, r.text, r.exit_status) == (data["instructions"], data["cycles"],
                                                                 data["console"], status)
    other = sc.run(rdimon, "mps2-an386", cmdline="x")  # and the command line does matter to such a program
    assert other.instructions != r.instructions


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from simcore.cli import main

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"simcore {__version__}"
