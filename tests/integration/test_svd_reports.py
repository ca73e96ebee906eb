"""Registers of a real part that simcore does not model: reported by name, with the function, counts and fields.

``svd_probe`` runs driver start-up code for bxCAN, SDIO and the DAC on the STM32F407 and for QDEC
and COMP on the nRF52840 (peripherals simcore has no model of). Expected names, reset values
and fields are the reference manuals' (RM0090, nRF52840 PS v1.7); functions and instruction
kinds come from the ELF, not from simcore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import capstone
import pytest

import simcore.api as sc
from simcore.elf import load_elf
from tests.conftest import elf

F407 = elf("stm32f407vg", "svd_probe")
NRF = elf("nrf52840", "svd_probe")


def _by_where(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["where"]: r for r in items}


def _mnemonic(path: Path, pc: int) -> str:
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    code = load_elf(path).read_loaded(pc, 4)
    assert code is not None
    return next(md.disasm(code, pc)).mnemonic


def _check(path: Path, reps: dict[str, dict[str, Any]], expected: list[tuple[str, str, int, int, list[str], bool]],
           ) -> None:
    fw = load_elf(path)
    for where, func, reads, writes, fields, first_is_write in expected:
        r = reps[where]
        assert (r["reads"], r["writes"]) == (reads, writes), where
        assert r["fields"] == fields, where
        sym = fw.function_at(r["pc"])
        assert sym is not None and sym.name == func and r["function"].startswith(func + "+"), where
        assert _mnemonic(path, r["pc"]).startswith("str" if first_is_write else "ldr"), where  # the instruction


def test_unmodelled_registers_of_the_f407_are_reported_by_name_with_function_counts_and_fields() -> None:
    r = sc.run(F407, "stm32f407vg")
    assert r.exit_status == 0
    # CAN1.MSR resets to 0x00000C02 (RM0090 32.9.2): INAK never sets without a bxCAN model, the driver times out
    assert "CAN1 MSR 00000c02 after 1000 polls (INAK never set)" in r.text
    assert "SDIO POWER 00000003 CLKCR 00000176, DAC CR 00000007" in r.text
    reps = _by_where(r.reports["unimplemented"])
    assert list(reps) == ["CAN1.MCR", "CAN1.MSR", "CAN1.BTR", "SDIO.POWER", "SDIO.CLKCR", "DAC.CR", "DBG.DBGMCU_CR",
                          "FSMC.BCR1", "DBG.DBGMCU_IDCODE"]
    _check(F407, reps, [
        ("CAN1.MCR", "can_init", 1, 1, ["INRQ", "SLEEP"], False),  # read-modify-write: SLEEP (reset 1) cleared
        ("CAN1.MSR", "can_init", 1002, 0, [], False),  # 1000 polls and two reads in main
        ("CAN1.BTR", "can_init", 0, 1, ["BRP", "TS1", "TS2"], True),
        ("SDIO.POWER", "sdio_power_on", 1, 1, ["PWRCTRL"], True),
        ("SDIO.CLKCR", "sdio_power_on", 1, 1, ["CLKDIV", "CLKEN"], True),
        ("DAC.CR", "dac_setup", 2, 2, ["EN1", "BOFF1", "TEN1"], True),
        ("DBG.DBGMCU_CR", "debug_and_memory_setup", 2, 1, ["DBG_SLEEP"], False),  # in the external PPB
        ("FSMC.BCR1", "debug_and_memory_setup", 2, 1, ["MBKEN"], False),  # at 0xA0000000, mapped on demand
        ("DBG.DBGMCU_IDCODE", "debug_and_memory_setup", 1, 0, [], False),
    ])
    # FSMC_BCR1 resets to 0x000030D0 (RM0090 36.5.6); the SVD's DBGMCU_IDCODE reset value is what it reads
    assert "DBGMCU IDCODE 10006411 CR 00000001, FSMC BCR1 000030d1" in r.text
    assert "reset value 0x10002" in reps["CAN1.MCR"]["detail"]  # RM0090 32.9.1: DBF and SLEEP set
    assert r.reports["guest_errors"] == []


def test_nrf52840_names_keep_the_svd_clusters_and_set_clear_views_share_a_value() -> None:
    r = sc.run(NRF, "nrf52840")
    assert r.exit_status == 0
    # PSEL.A resets to 0xFFFFFFFF; writing 3 changes PIN, PORT and CONNECT only (the other bits are not fields)
    assert "QDEC INTEN 00000002 PSEL.A 7fffffc3, COMP ENABLE 00000002" in r.text
    reps = _by_where(r.reports["unimplemented"])
    assert set(reps) == {"QDEC.SAMPLEPER", "QDEC.PSEL.A", "QDEC.PSEL.B", "QDEC.INTENSET", "QDEC.INTENCLR",
                         "QDEC.ENABLE", "QDEC.TASKS_START", "COMP.PSEL", "COMP.REFSEL", "COMP.ENABLE"}
    _check(NRF, reps, [
        ("QDEC.PSEL.A", "qdec_setup", 1, 1, ["PIN", "PORT", "CONNECT"], True),
        ("QDEC.INTENSET", "qdec_setup", 1, 1, ["SAMPLERDY", "REPORTRDY"], True),
        ("QDEC.INTENCLR", "qdec_setup", 0, 1, ["SAMPLERDY"], True),
        ("COMP.REFSEL", "comp_setup", 0, 1, [], True),  # written with its reset value 4 (VDD): nothing changed
    ])


@pytest.mark.parametrize("board", ["stm32f407vg", "stm32l4r5zi", "stm32l475vg", "nrf52840"])
def test_the_console_uarts_leave_nothing_unreported_or_reported_in_hello(board: str) -> None:
    r = sc.run(elf(board, "hello"), board)
    assert r.exit_status == 0 and "Hello from simcore" in r.text
    assert r.reports == {"unimplemented": [], "guest_errors": []}


def test_strict_stops_at_the_first_access_with_the_same_detail(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = cli("run", F407, "--board", "stm32f407vg", "--strict", "-q", "--json", out)
    assert res.status == 123
    data = json.loads(out.read_text())
    stop = data["stop"]
    assert stop["kind"] == "unmodelled" and stop["message"].startswith("strict mode: CAN1.MCR: ")
    rep = stop["details"]["report"]
    assert rep["where"] == "CAN1.MCR" and rep["function"].startswith("can_init+") and rep["reads"] == 1
    assert _mnemonic(F407, rep["pc"]).startswith("ldr")  # MCR |= ...: its read is the first access
    assert "svd_probe: CAN1" not in data["console"]  # stopped before the driver's first printf
    assert [e["where"] for e in data["reports"]["unimplemented"]] == ["CAN1.MCR"]


def test_summary_and_json_list_fields_and_counts(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = cli("run", F407, "--board", "stm32f407vg", "-q", "--json", out)
    assert res.status == 0
    assert "not implemented by simcore (9, first access of each):" in res.err
    line = next(x for x in res.err.splitlines() if x.strip().startswith("CAN1.MSR:"))
    assert "at can_init+" in line and "(1002 reads, 0 writes)" in line
    line = next(x for x in res.err.splitlines() if x.strip().startswith("CAN1.BTR:"))
    assert line.endswith("(0 reads, 1 writes; fields written: BRP, TS1, TS2)")
    data = json.loads(out.read_text())
    assert [e["fields"] for e in data["reports"]["unimplemented"]][:3] == [["INRQ", "SLEEP"], [], ["BRP", "TS1", "TS2"]]


def test_the_python_twin_reports_the_same() -> None:
    native = sc.run(F407, "stm32f407vg")
    twin = sc.run(F407, "stm32f407vg", native=False)
    assert native.native and not twin.native
    assert (twin.instructions, twin.cycles, twin.text) == (native.instructions, native.cycles, native.text)
    assert twin.reports == native.reports
