"""simcore test: suites of ELFs in parallel workers, verdicts, JUnit XML, JSON, manifests, board tags, Ray."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simcore import suite
from tests.conftest import FIRMWARE, elf

APPS = [elf("stm32f407vg", "hello"), elf("nrf52840", "exitcode"), elf("cortex-m4", "dut_demo"),
        elf("mps2-an386", "semihost_exit"), elf("stm32l4r5zi", "spin")]


def test_suite_in_parallel_workers_with_junit_and_json(cli, tmp_path):
    from simcore import api

    junit, out = tmp_path / "junit.xml", tmp_path / "suite.json"
    res = cli("test", *APPS, "-j", "2", "--junit", junit, "--json", out)
    assert res.status == 1  # exitcode exits 3, spin never ends
    data = json.loads(out.read_text())
    assert data["schema"] == "simcore.suite/1" and data["summary"]["passed"] == 3 and data["summary"]["jobs"] == 2
    runs = {r["name"]: r for r in data["runs"]}
    assert list(runs) == ["hello[stm32f407vg]", "exitcode[nrf52840]", "dut_demo[cortex-m4]",
                          "semihost_exit[mps2-an386]", "spin[stm32l4r5zi]"]  # the order given, not finish order
    assert runs["exitcode[nrf52840]"]["verdict"] == "fail" and runs["exitcode[nrf52840]"]["exit_status"] == 3
    assert runs["spin[stm32l4r5zi]"]["stop"]["kind"] == "spinning"
    ref = api.run(elf("stm32f407vg", "hello"), "stm32f407vg")  # a worker's figures equal a single run's
    assert (runs["hello[stm32f407vg]"]["instructions"], runs["hello[stm32f407vg]"]["cycles"]) == \
        (ref.instructions, ref.cycles)
    suite_xml = ET.parse(junit).getroot().find("testsuite")
    assert suite_xml.get("tests") == "5" and suite_xml.get("failures") == "2" and suite_xml.get("errors") == "0"
    cases = {c.get("name"): c for c in suite_xml.iter("testcase")}
    failure = cases["exitcode[nrf52840]"].find("failure")
    assert failure is not None and "exit status 3, expected 0" in failure.get("message")
    assert cases["hello[stm32f407vg]"].find("failure") is None
    assert "Hello from simcore" in cases["hello[stm32f407vg]"].find("system-out").text
    table = res.out.splitlines()
    assert table[0].split()[:3] == ["test", "verdict", "status"] and "5 tests: 3 passed, 2 failed" in res.out


def test_manifest_expected_status_markers_and_relative_paths(cli, tmp_path):
    manifest = tmp_path / "suite.toml"
    manifest.write_text(f'''
[[test]]
elf = "{elf("nrf52840", "exitcode")}"
board = "nrf52840"
expect_status = 3

[[test]]
name = "ready marker"
elf = "{elf("cortex-m4", "dut_demo")}"
pass_marker = "ready"
''')
    res = cli("test", "--manifest", manifest, "--board", "cortex-m4", "-j", "1", "--json", tmp_path / "s.json")
    assert res.status == 0, res.out
    runs = json.loads((tmp_path / "s.json").read_text())["runs"]
    assert runs[1]["name"] == "ready marker" and runs[1]["stop"]["kind"] == "pass_marker"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[test]]\nelf = "x.elf"\nspeed = 3\n')
    res = cli("test", "--manifest", bad)
    assert res.status == 2 and "unknown key(s) speed" in res.err


@pytest.mark.skipif(shutil.which("arm-none-eabi-objcopy") is None, reason="needs arm-none-eabi-objcopy")
def test_board_tag_section_and_unknown_board(cli, tmp_path):
    """The firmware's start-up code tags each ELF with its board (.simcore.board): no directory needed."""
    tagged = tmp_path / "copy.elf"
    shutil.copy(elf("nrf52840", "hello"), tagged)
    assert suite.board_tag(tagged) == "nrf52840"
    res = cli("test", tagged, "-j", "1")
    assert res.status == 0 and "copy[nrf52840]" in res.out
    untagged = tmp_path / "plain.elf"
    subprocess.run(["arm-none-eabi-objcopy", "--remove-section", ".simcore.board", str(tagged), str(untagged)],
                   check=True)
    res = cli("test", untagged)
    assert res.status == 2 and "which board?" in " ".join(res.err.split())


def test_ray_executor_ships_elf_bytes_and_board_files(tmp_path, monkeypatch):
    """run_ray against a stand-in for the ray module (the API surface simcore uses), executing the tasks here."""
    calls: dict[str, list] = {"init": [], "tasks": []}

    class Ref:
        def __init__(self, value):
            self.value = value

    fake = types.ModuleType("ray")
    fake.is_initialized = lambda: bool(calls["init"])
    fake.init = lambda address=None, **kw: calls["init"].append(address)

    def remote(fn):
        def submit(*args):
            calls["tasks"].append(args)
            return Ref(fn(*args))  # the worker side: an ELF from bytes, in a temporary directory
        return types.SimpleNamespace(remote=submit)

    fake.remote = remote
    fake.wait = lambda pending, num_returns=1: (pending[:num_returns], pending[num_returns:])
    fake.get = lambda ref: ref.value
    monkeypatch.setitem(sys.modules, "ray", fake)
    board_file = tmp_path / "tiny.toml"
    board_file.write_text('extends = "nrf52840"\nname = "tiny"\n')
    specs = [suite.TestSpec(str(elf("stm32f407vg", "hello")), "stm32f407vg"),
             suite.TestSpec(str(elf("nrf52840", "hello")), str(board_file))]
    seen = []
    records = suite.run_ray(specs, "ray://head:10001", seen.append)
    assert calls["init"] == ["ray://head:10001"]
    assert calls["tasks"][0][1] == elf("stm32f407vg", "hello").read_bytes() and calls["tasks"][0][2] is None
    assert calls["tasks"][1][2] == board_file.read_text()  # a custom board travels as TOML text
    assert [r["verdict"] for r in records] == ["pass", "pass"] and len(seen) == 2
    assert records[1]["board"] == "tiny" and records[1]["elf"] == str(elf("nrf52840", "hello"))


def test_directories_are_searched(tmp_path):
    specs = suite.collect([FIRMWARE / "mps2-an386"], None, None, {})
    assert {s.board for s in specs} == {"mps2-an386"}
    assert len(specs) == len(list((FIRMWARE / "mps2-an386").glob("*.elf")))


def test_directories_find_elf_executables_without_an_extension(tmp_path):
    """A build tree as TFLM's make files leave it: test binaries without an extension next to object files
    (ELF, but ET_REL), a map file and a script; only the executables are tests."""
    image = elf("mps2-an386", "hello").read_bytes()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "kernel_add_test").write_bytes(image)
    (tmp_path / "bin" / "hello.elf").write_bytes(image)
    obj = bytearray(image)
    obj[16] = 1  # e_type ET_REL: an object file
    (tmp_path / "bin" / "add.o").write_bytes(bytes(obj))
    (tmp_path / "bin" / "kernel_add_obj").write_bytes(bytes(obj))
    (tmp_path / "bin" / "run_tests").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "empty").write_bytes(b"")
    specs = suite.collect([tmp_path], "mps2-an386", None, {})
    assert sorted(Path(s.elf).name for s in specs) == ["hello.elf", "kernel_add_test"]
    recs = suite.run_local(specs, 1, lambda rec: None)
    assert [r["verdict"] for r in recs] == ["pass", "pass"]


def test_workers_run_through_one_warm_batch():
    """simcore test's runner is simcore.batch.Batch: an ELF listed twice is parsed once, its board loaded once,
    and both runs give the same figures."""
    hello = elf("stm32f407vg", "hello")
    specs = [suite.TestSpec(str(hello), "stm32f407vg", name=f"hello{i}") for i in range(2)]
    before = dict(suite.batch()._elfs)
    recs = suite.run_local(specs, 1, lambda rec: None)
    assert [r["verdict"] for r in recs] == ["pass", "pass"]
    assert (recs[0]["instructions"], recs[0]["cycles"]) == (recs[1]["instructions"], recs[1]["cycles"])
    parsed = [k for k in suite.batch()._elfs if k not in before]
    assert len(parsed) <= 1 and any(k[0] == str(hello.resolve()) for k in suite.batch()._elfs)
    assert "stm32f407vg" in suite.batch()._boards
