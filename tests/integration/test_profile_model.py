"""`simcore profile` on a real model firmware (kws_demo: DS-CNN on the tm runtime).

Issue figure: >= 99% of cycles attributed to named functions, the inference time to model ops,
and the exports parse and contain the ops.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simcore.api import prepare, run_machine
from simcore.export import chrome_trace, speedscope
from simcore.profile import Profile, attach
from tests.conftest import elf, run_cli

KWS_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"}


@pytest.fixture(scope="module")
def kws_profile() -> tuple[Profile, str]:
    m = prepare(elf("cortex-m4", "kws_demo"), "cortex-m4")
    prof = attach(m)
    res = run_machine(m)
    assert res.exit_status == 0, res.stop.message
    return prof.finish(), res.text


def test_cycles_go_to_named_functions(kws_profile: tuple[Profile, str]) -> None:
    prof, _ = kws_profile
    named = sum(f.exclusive for f in prof.functions() if not f.name.startswith("0x"))
    assert sum(n.excl for n in prof.nodes) == prof.cycles
    assert named >= 0.99 * prof.cycles


def test_inference_time_goes_to_ops(kws_profile: tuple[Profile, str]) -> None:
    prof, text = kws_profile
    latencies = [int(x) for x in re.findall(r"^\s+latency: (\d+) cycles", text, re.M)]
    assert len(latencies) == 3
    assert {op.name for op in prof.ops} == KWS_OPS
    assert len(prof.ops) == 3 * len({op.index for op in prof.ops})  # every op of every inference
    op_cycles = sum(op.cycles for op in prof.ops)
    assert 0.99 * sum(latencies) <= op_cycles <= sum(latencies)
    assert prof.unmatched_markers == 0


def test_exports_parse_and_contain_the_ops(kws_profile: tuple[Profile, str], tmp_path: Path) -> None:
    prof, _ = kws_profile
    ss = json.loads(json.dumps(speedscope(prof, "kws_demo")))
    frames = {f["name"] for f in ss["shared"]["frames"]}
    assert "tm_invoke" in frames and any(n.startswith("tm_opt_") for n in frames)
    trace = json.loads(json.dumps(chrome_trace(prof)))
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    names = {str(e.get("name", "")).split(":")[-1] for e in events}  # op events are "<index>:<op>"
    assert KWS_OPS <= names


def test_profile_command_writes_files(tmp_path: Path) -> None:
    ss, tr = tmp_path / "p.speedscope.json", tmp_path / "p.trace.json"
    res = run_cli("profile", elf("cortex-m4", "kws_demo"), "--speedscope", ss, "--trace", tr, "--quiet")
    assert res.status == 0, res.err
    assert "CONV_2D" in res.out and "tm_opt_conv" in res.out
    assert json.loads(ss.read_text())["profiles"] and json.loads(tr.read_text())
