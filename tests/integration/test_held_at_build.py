"""nRF52 events and HELD_STORAGE registers held by the register file from the build of a model's entries (issue 16).

NordicPeripheral handed an event (interrupt off) or a HELD_STORAGE register (the UARTE's TXD.PTR/TXD.MAXCNT) to the
register file at its first access through Python, so every nRF52840 ELF that prints paid its first console line's
ENDTX clear, TXD.PTR, TXD.MAXCNT and TXSTOPPED clear in Python (4 entries, ~7,500 bytecodes). Now the bus makes them
served by the register file when it builds the model's entries (held_at_build, held_built): the UARTE's model sees only
its set-up writes (PSEL.TXD, BAUDRATE, CONFIG, ENABLE, which its timing and transfers read). The run must equal the one
holding them at first access and the Python register file's.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.machine import Machine
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.peripherals.nrf52.rng import VALUE, Nrf52Rng
from simcore.peripherals.nrf52.uarte import EV_ENDTX, EV_TXSTOPPED, Nrf52Uarte
from simcore.regfile import FIT
from tests.conftest import elf, figures

BOARD = "nrf52840"
OWN = ("native_hot_path", "polling", "cycles_error_bar")  # how the run got there (which path, the polling watch)
SET_UP = [0x50C, 0x524, 0x56C, 0x500]  # console_init: PSEL.TXD, BAUDRATE, CONFIG, ENABLE


def _run(app: str, **kw: Any) -> tuple[dict[str, Any], Machine, list[int]]:
    """The run's report (no wall times), its machine, and the offsets of the UARTE accesses its model served."""
    seen: list[int] = []
    read, write = Nrf52Uarte.read, Nrf52Uarte.write

    def on_read(self: Nrf52Uarte, offset: int, size: int) -> int:
        seen.append(offset)
        return read(self, offset, size)

    def on_write(self: Nrf52Uarte, offset: int, size: int, value: int) -> None:
        seen.append(offset)
        write(self, offset, size, value)

    Nrf52Uarte.read, Nrf52Uarte.write = on_read, on_write  # type: ignore[method-assign]
    try:
        m = prepare(elf(BOARD, app), BOARD, **kw)
        r = run_machine(m)
    finally:
        Nrf52Uarte.read, Nrf52Uarte.write = read, write  # type: ignore[method-assign]
    return {k: v for k, v in figures(r, drop=()).items() if k not in OWN}, m, seen


@pytest.mark.parametrize("app", ["hello", "nrf_nvmc", "nested"])
def test_console_lines_reach_the_uarte_model_through_its_set_up_only(monkeypatch: pytest.MonkeyPatch,
                                                                     app: str) -> None:
    fast, m, seen = _run(app)
    assert m.console.count(b"\n") >= 1
    assert seen == SET_UP  # every line's ENDTX, TXD.PTR, TXD.MAXCNT, STARTTX, STOPTX and TXSTOPPED: in C
    twin, _, seen_twin = _run(app, native=False)  # the Python register file holds them the same way
    assert twin == fast
    monkeypatch.setattr(NordicPeripheral, "HELD_AT_BUILD", False)
    slow, m2, seen_slow = _run(app)
    assert slow == fast and m2.console == m.console
    # the first line's ENDTX clear, TXD.PTR, TXD.MAXCNT and TXSTOPPED clear went to the model before
    assert seen_slow[:4] == SET_UP and {0x120, 0x544, 0x548, 0x158} <= set(seen_slow[4:])


def test_the_build_holds_every_event_and_the_transmit_buffer_with_their_values() -> None:
    m = prepare(elf(BOARD, "hello"), BOARD)
    u = m.peripheral("uarte0")
    assert isinstance(u, Nrf52Uarte)
    u.fire(EV_TXSTOPPED)  # generated before the firmware's first access (as a PPI task could): INTEN is 0
    u.values["TXD_MAXCNT"] = 5  # (a value the model has before the build)
    assert not u._held and not u._c_plain
    m.bus.device(u.base)  # the first access to the window builds the entries
    rf = m.bus.rf
    assert set(u._held) == set(u.event_names) and set(u._c_plain) == {"TXD_PTR", "TXD_MAXCNT"}
    for i in (EV_ENDTX, EV_TXSTOPPED):
        entry = rf.slot(u.base + 0x100 + 4 * i) - 1
        assert entry == u._held_entry[i] and rf.flags(entry) & FIT and rf.reg(entry)["store"] == u._held[i]
    assert rf.read(u.base + 0x158, 4) == 1 and rf.read(u.base + 0x120, 4) == 0  # the values the model had
    assert rf.read(u.base + 0x548, 4) == 5 == u.storage("TXD_MAXCNT")
    rf.write(u.base + 0x544, 4, 0x20000100)  # served in C: the model takes it when it needs it (STARTTX)
    assert u.storage("TXD_PTR") == 0x20000100


def test_an_interrupt_on_at_the_build_leaves_the_events_to_their_first_access() -> None:
    m = prepare(elf(BOARD, "hello"), BOARD)
    u = m.peripheral("uarte0")
    u.values["INTEN"] = 1 << EV_ENDTX  # (as a reset value could be)
    m.bus.device(u.base)
    assert not u._held and not u._c_plain
    assert not m.bus.rf.flags(m.bus.rf.slot(u.base + 0x120) - 1) & FIT


def test_the_rngs_value_is_the_register_files_from_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """nrf_nvmc's RNG: VALUE held at the build too (Nrf52Rng.held_at_build), so the first byte's VALRDY is planned as
    a chain with the 7 after it and no VALUE read reaches the model; before, the first read handed it over."""
    values: list[int] = []
    read = Nrf52Rng.read

    def on_read(self: Nrf52Rng, offset: int, size: int) -> int:
        values.append(offset)
        return read(self, offset, size)

    monkeypatch.setattr(Nrf52Rng, "read", on_read)
    m = prepare(elf(BOARD, "nrf_nvmc"), BOARD)
    fast = figures(run_machine(m), drop=())
    assert VALUE not in values and m.peripheral("rng").bytes == 8
    monkeypatch.setattr(NordicPeripheral, "HELD_AT_BUILD", False)
    slow = figures(run_machine(prepare(elf(BOARD, "nrf_nvmc"), BOARD)), drop=())
    assert values.count(VALUE) == 1 and slow == fast
