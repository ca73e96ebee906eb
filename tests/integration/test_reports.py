"""Reports on two channels (not implemented by simcore / firmware errors) with the first PC, counts and --strict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import capstone

import simcore.api as sc
from simcore.elf import load_elf
from tests.conftest import elf

PROBE = elf("cortex-m4", "regs_probe")


def _insn_at(pc: int) -> str:
    fw = load_elf(PROBE)
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    code = fw.read_loaded(pc, 4)
    assert code is not None
    return next(md.disasm(code, pc)).mnemonic


def _by_where(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["where"]: r for r in items}


def test_reports_name_the_place_the_first_instruction_and_count_accesses() -> None:
    r = sc.run(PROBE, "cortex-m4")
    assert r.exit_status == 0 and "regs_probe: done, CPUID still 410fc241" in r.text
    unimpl = _by_where(r.reports["unimplemented"])
    errors = _by_where(r.reports["guest_errors"])
    assert set(errors) == {"SCB.CPUID"} and set(unimpl) == {"DWT.CTRL", "0xe0002000", "0x40020000"}
    fw = load_elf(PROBE)
    for where, want_fn, reads, writes, first_is_write in (
        ("DWT.CTRL", "probe_unimplemented", 0, 1, True),
        ("0xe0002000", "probe_unimplemented", 2, 1, False),
        ("0x40020000", "probe_unimplemented", 3, 1, True),
        ("SCB.CPUID", "probe_guest_error", 0, 1, True),
    ):
        rep = unimpl.get(where) or errors[where]
        assert (rep["reads"], rep["writes"]) == (reads, writes), where
        func = fw.function_at(rep["pc"])
        assert func is not None and func.name == want_fn and rep["pc"] > func.addr, where
        assert rep["function"].startswith(want_fn + "+")
        mnemonic = _insn_at(rep["pc"])  # the accessing instruction itself, not its block's start
        assert mnemonic.startswith("str" if first_is_write else "ldr"), (where, mnemonic)
    assert r.unmodelled.keys() == unimpl.keys()  # the older per-place map holds the first channel only


def test_summary_and_json_list_both_channels(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = cli("run", PROBE, "--board", "cortex-m4", "-q", "--json", out)
    assert res.status == 0
    assert "not implemented by simcore (3, first access of each):" in res.err
    assert "0x40020000: write of 0x1: no peripheral modelled here at probe_unimplemented+" in res.err
    assert "firmware errors" in res.err and "SCB.CPUID: write to a read-only register" in res.err
    data = json.loads(out.read_text())
    assert [e["where"] for e in data["reports"]["guest_errors"]] == ["SCB.CPUID"]
    assert len(data["reports"]["unimplemented"]) == 3


def test_strict_stops_at_a_guest_error_with_its_own_kind(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = cli("run", PROBE, "--board", "cortex-m4", "--strict", "-q", "--json", out)
    assert res.status == 122
    stop = json.loads(out.read_text())["stop"]
    assert stop["kind"] == "guest_error" and "SCB.CPUID" in stop["message"]
    assert stop["details"]["report"]["function"].startswith("probe_guest_error+")


def test_strict_stops_at_the_first_unimplemented_access(tmp_path: Path) -> None:
    """hello on a cortex-m4 whose console UART sits elsewhere: its first console access is unmodelled."""
    board = tmp_path / "moved_uart.toml"
    board.write_text('extends = "cortex-m4"\nname = "moved-uart"\n\n'
                     '[[peripheral]]\nname = "uart0"\nbase = 0x40005000\n')
    r = sc.run(elf("cortex-m4", "hello"), board, strict=True)
    assert r.stop.kind == "unmodelled" and r.exit_status == 123
    (rep,) = r.reports["unimplemented"]
    assert rep["where"].startswith("0x40004") and rep["function"].startswith("console_")
    loose = sc.run(elf("cortex-m4", "hello"), board)
    assert loose.exit_status == 0 and loose.text == ""  # the console's bytes went nowhere, and were reported
    assert sum(e["reads"] + e["writes"] for e in loose.reports["unimplemented"]) > 20
