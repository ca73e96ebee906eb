"""Output files (--json, profile exports): checked before the run, devices and links never replaced,
no temporary file left behind on any path (simcore.outfile)."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from simcore.errors import BadInputError
from simcore.outfile import output_file
from tests.conftest import elf, run_cli

HELLO = elf("cortex-m4", "hello")


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith("."))


def _refused(res, expect: str) -> None:
    assert res.status == 2, res.err
    assert "Traceback" not in res.err
    assert res.err.startswith("simcore: error:")
    assert expect in res.err.replace("\n", " ")
    assert "Hello" not in res.out  # refused before the run: the firmware never printed


def test_json_written_to_a_new_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = run_cli("run", HELLO, "--json", out)
    assert res.status == 0, res.err
    assert json.loads(out.read_text())["exit_status"] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_umask()
    assert _leftovers(tmp_path) == []


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o640)
    assert run_cli("run", HELLO, "--json", out).status == 0
    assert json.loads(out.read_text())["board"] == "cortex-m4"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_missing_directory_refused_before_the_run(tmp_path: Path) -> None:
    res = run_cli("run", HELLO, "--json", tmp_path / "no" / "r.json")
    _refused(res, "does not exist")
    assert not (tmp_path / "no").exists()


def test_parent_is_a_file_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    _refused(run_cli("run", HELLO, "--json", tmp_path / "f" / "r.json"), "not a directory")


def test_directory_refused_and_nothing_left(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    _refused(run_cli("run", HELLO, "--json", d), "is a directory")
    assert list(d.iterdir()) == [] and _leftovers(tmp_path) == []


def test_unwritable_directory_refused_before_the_run() -> None:
    # /proc refuses new files even for root, where permission bits would not
    _refused(run_cli("run", HELLO, "--json", "/proc/simcore-report.json"), "cannot create a file in /proc")


def test_size_json_checked_too(tmp_path: Path) -> None:
    res = run_cli("size", HELLO, "--json", tmp_path / "missing" / "s.json")
    _refused(res, "does not exist")


def test_dev_null_stays_a_device() -> None:
    res = run_cli("run", HELLO, "--json", "/dev/null")
    assert res.status == 0, res.err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dev_full_reports_the_write_error() -> None:
    res = run_cli("run", HELLO, "-q", "--json", "/dev/full")
    assert res.status == 2
    assert "Traceback" not in res.err
    assert "cannot write it (No space left on device)" in res.err.replace("\n", " ")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_json_to_standard_output_is_pure_json(name: str) -> None:
    res = run_cli("run", HELLO, "--json", name)
    assert res.status == 0, res.err
    doc = json.loads(res.out)  # the console echo is off: stdout holds the JSON alone
    assert "Hello" in doc["console"]


def test_symlink_is_followed_never_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert run_cli("run", HELLO, "-q", "--json", link).status == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["exit_status"] == 0
    assert _leftovers(tmp_path) == []


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    assert run_cli("run", HELLO, "-q", "--json", link).status == 0
    assert link.is_symlink() and json.loads((tmp_path / "target.json").read_text())["board"] == "cortex-m4"


def test_fifo_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    res = run_cli("run", HELLO, "-q", "--json", fifo)
    reader.join(timeout=30)
    assert res.status == 0, res.err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(got[0])["exit_status"] == 0


def test_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    target.write_text("previous")
    out = output_file(target, "--json")

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(BadInputError, match="No space left"):
        out.write("{}")
    assert target.read_text() == "previous"
    assert _leftovers(tmp_path) == []


def test_interrupted_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = output_file(tmp_path / "r.json", "--json")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        out.write("{}")
    assert list(tmp_path.iterdir()) == []


def test_profile_exports_checked_before_the_run(tmp_path: Path) -> None:
    res = run_cli("profile", HELLO, "-q", "--speedscope", tmp_path / "nodir" / "s.json",
                  "--trace", tmp_path / "t.json")
    _refused(res, "--speedscope")
    assert not (tmp_path / "t.json").exists()
