"""Profiler: per-function cycles from the hot path's shadow call stack, per-op cycles from ITM markers.

calib_profile (firmware/apps/calib_profile) calls a hand-timed call tree between ITM op
markers; the exclusive and inclusive cycles of its functions are known exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simcore.api import prepare, run_machine
from simcore.cli import main
from simcore.export import chrome_trace, collapsed_text, speedscope
from simcore.profile import Profile, attach

ELF = Path(__file__).resolve().parents[2] / "firmware" / "bin" / "cortex-m4" / "calib_profile.elf"


def _profile(native: bool) -> tuple[Profile, int]:
    m = prepare(ELF, "cortex-m4", native=native)
    prof = attach(m)
    res = run_machine(m)
    assert res.exit_status == 0 and "profile done" in res.text
    return prof.finish(), res.cycles


@pytest.fixture(scope="module", params=[True, False], ids=["native", "python"])
def profiled(request: pytest.FixtureRequest) -> tuple[Profile, int]:
    return _profile(request.param)


def test_hand_timed_functions(profiled: tuple[Profile, int]) -> None:
    prof, _cycles = profiled
    funcs = {f.name: f for f in prof.functions()}
    leaf, mid = funcs["prof_leaf"], funcs["prof_mid"]
    assert (leaf.calls, leaf.exclusive, leaf.inclusive) == (11, 11 * 13, 11 * 13)
    assert (mid.calls, mid.exclusive, mid.inclusive) == (5, 5 * 15, 5 * 41)


def test_bl_used_as_a_jump_does_not_leak_frames(profiled: tuple[Profile, int]) -> None:
    """prof_jump BLs to a label that pops prof_jump's own return: both frames end there."""
    prof, _ = profiled
    funcs = {f.name: f for f in prof.functions()}
    outer, inner = funcs["prof_jump"], funcs["prof_jump+0x8"]
    assert (outer.calls, outer.exclusive, outer.inclusive) == (5, 5 * 6, 5 * 12)
    assert (inner.calls, inner.exclusive) == (5, 5 * 6)
    assert prof.dropped_frames == 0


def test_every_cycle_is_attributed_once(profiled: tuple[Profile, int]) -> None:
    prof, cycles = profiled
    assert sum(n.excl for n in prof.nodes) == cycles
    root = prof.nodes[0]
    assert prof.name(root.func) == "Reset_Handler" and root.incl == cycles


def test_op_markers(profiled: tuple[Profile, int]) -> None:
    prof, _ = profiled
    assert [(o.index, o.name) for o in prof.ops] == [(0, "CONV_2D"), (1, "SOFTMAX")]
    conv, softmax = prof.ops
    assert 5 * 41 <= conv.cycles < 5 * 41 + 40  # the calls plus the loop around them
    assert 13 <= softmax.cycles < 13 + 20
    assert prof.unmatched_markers == 0


def test_native_and_python_profiles_are_identical() -> None:
    a, ca = _profile(True)
    b, cb = _profile(False)
    assert ca == cb and a.nodes == b.nodes and a.ops == b.ops


def test_exports(profiled: tuple[Profile, int]) -> None:
    prof, cycles = profiled
    doc = speedscope(prof, "calib_profile")
    p = doc["profiles"][0]
    assert p["type"] == "sampled" and len(p["samples"]) == len(p["weights"])
    assert sum(p["weights"]) == cycles == p["endValue"]
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert "prof_leaf" in names and all(0 <= i < len(names) for s in p["samples"] for i in s)
    assert "Reset_Handler;main;prof_mid;prof_leaf 130\n" in collapsed_text(prof)
    trace = chrome_trace(prof)
    ops = [e for e in trace["traceEvents"] if e.get("cat") == "op"]
    assert [e["name"] for e in ops] == ["0:CONV_2D", "1:SOFTMAX"]
    assert ops[0]["dur"] == pytest.approx(prof.ops[0].cycles / 100.0)  # microseconds at 100 MHz


def test_cli_profile_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ss, tr = tmp_path / "p.speedscope.json", tmp_path / "p.trace.json"
    assert main(["profile", str(ELF), "--speedscope", str(ss), "--trace", str(tr), "-q"]) == 0
    out = capsys.readouterr().out
    assert "prof_leaf" in out and "CONV_2D" in out
    assert json.loads(ss.read_text())["profiles"][0]["type"] == "sampled"
    assert json.loads(tr.read_text())["traceEvents"]


def test_cli_profile_exports_go_next_to_the_elf_or_into_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    fw_dir, out_dir, cwd = tmp_path / "fw", tmp_path / "out", tmp_path / "cwd"
    for d in (fw_dir, out_dir, cwd):
        d.mkdir()
    elf = fw_dir / "prof.elf"
    elf.write_bytes(ELF.read_bytes())
    monkeypatch.chdir(cwd)
    assert main(["profile", str(elf), "-q"]) == 0
    assert sorted(p.name for p in fw_dir.iterdir()) == ["prof.elf", "prof.speedscope.json", "prof.trace.json"]
    assert main(["profile", str(elf), "-q", "--out", str(out_dir)]) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["prof.speedscope.json", "prof.trace.json"]
    assert list(cwd.iterdir()) == []  # never the current directory
    assert f"wrote {out_dir / 'prof.speedscope.json'}" in capsys.readouterr().err
