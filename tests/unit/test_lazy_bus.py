"""The peripheral bus makes a model's register-file entries at the first access to its window (issue 16
start-up): a run's figures are the same as with every entry made up front, and a start-up makes none for the
models the firmware has not touched yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import simcore.api as sc
from simcore.board import builtin_boards, load_board
from simcore.registers import LazyTable
from tests.conftest import FIRMWARE, elf


def _hello(board: str) -> Path:
    own = FIRMWARE / board / "hello.elf"
    return own if own.exists() else elf(str(load_board(board).svd or "cortex-m4"), "hello")


def _figures(board: str, app: str, eager: bool, native: bool = True) -> dict[str, Any]:
    m = sc.prepare(elf(board, app), board, native=native)
    if eager:
        m.bus.build_all()  # every model's entries before the first instruction, as the bus made them before
    out = sc.run_machine(m).to_dict()
    out.pop("wall_seconds")
    return out


@pytest.mark.parametrize(("board", "app", "native"), [
    ("nrf52840", "hello", True), ("nrf52840", "nrf_clock", True), ("nrf52840", "nrf_uarte", False),
    ("stm32f407vg", "hello", True), ("stm32f407vg", "tim_irq", True), ("mps2-an386", "hello", True),
    ("b-l475e-iot01a", "hello", True)])
def test_lazy_entries_give_the_same_run(board: str, app: str, native: bool) -> None:
    lazy = _figures(board, app, eager=False, native=native)
    assert lazy["exit_status"] == 0, lazy["stop"]
    assert lazy == _figures(board, app, eager=True, native=native)


def _model_entries(m: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in m.bus.entries.values():
        if e.model is not None:
            out[e.model.name] = out.get(e.model.name, 0) + 1
    return out


def test_start_up_makes_no_entries_for_untouched_models() -> None:
    m = sc.prepare(elf("nrf52840", "hello"), "nrf52840")
    made = _model_entries(m)
    gpio = m.peripheral("p0")
    assert gpio is not None and gpio.name not in made  # the GPIO port: 0 of its ~100 registers
    assert type(gpio.__dict__["_table"]) is LazyTable  # and its register table is not compiled yet
    before = m.bus.rf.count()
    m.bus.build_all()
    assert m.bus.rf.count() > before + 1000  # what start-up used to make: ~2,100 entries on this part
    assert _model_entries(m)[gpio.name] >= 32 + 4  # PIN_CNF[0..31], OUT/OUTSET/OUTCLR/IN...


def test_first_access_makes_the_model_entries_and_serves_the_access() -> None:
    """A read of a model register before its entries exist goes through the register file (counted there)."""
    m = sc.prepare(elf("nrf52840", "hello"), "nrf52840")
    gpio = m.peripheral("p0")
    addr = gpio.base + 0x004  # OUT (SVD P0 +0x504; the window starts at +0x500)
    assert m.bus.rf.slot(addr) == 0
    m.uc.mem_write(addr, (0x5A).to_bytes(4, "little"))  # a store through Unicorn's MMIO path, as the firmware makes
    assert m.bus.rf.slot(addr) != 0
    assert int.from_bytes(m.uc.mem_read(addr, 4), "little") == 0x5A
    assert m.bus.counts(f"{gpio.svd_name}.OUT") == (1, 1)


@pytest.mark.parametrize("board", builtin_boards())
def test_every_board_model_table_compiles(board: str) -> None:
    """Tables are compiled at first use now: every model of every board compiles (a register list that does not
    fit its class is a TypeError, which start-up used to raise)."""
    m = sc.prepare(_hello(board), board)
    m.bus.build_all()  # compiles every model's table (its entries come from the compiled slots)
    for p in m.peripherals:
        table = p.__dict__.get("_table")
        assert table is None or type(table) is not LazyTable, p.name  # deferred sensors have none yet
