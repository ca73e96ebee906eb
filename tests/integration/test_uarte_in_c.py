"""nRF52 events and the UARTE's transmitter registers held by the register file (FIT entries): the model's run.

While every event whose interrupt is off (simcore/peripherals/nrf52/common.py), the UARTE's
``TXD.PTR``/``TXD.MAXCNT`` and ``TASKS_STOPTX`` (when idle) are served in C
(simcore/peripherals/nrf52/uarte.py), only ``TASKS_STARTTX`` reaches the UARTE model per transfer.
The guest must see exactly what it sees with every access in Python (``TX_IN_C = False``,
``EVENTS_IN_C = False``) and with the Python register file (``native=False``): console,
instructions, cycles, sleep, stop, exit status, interrupts taken, reports. Only the polling
detector's own figures differ (it sees a held event's polls every 16th read, so it skips fewer
iterations: the rest run in C).
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.peripherals.nrf52.uarte import Nrf52Uarte
from simcore.regfile import FIT
from tests.conftest import ROOT, elf

WAV = str(ROOT / "examples" / "data" / "audio_events_16k.wav")


def _run(app: str, board: str = "nrf52840", **kw: Any) -> tuple[tuple[object, ...], Any, int]:
    calls = {"n": 0}
    original = Nrf52Uarte.write

    def counted(self: Nrf52Uarte, offset: int, size: int, value: int) -> None:
        calls["n"] += 1
        original(self, offset, size, value)

    Nrf52Uarte.write = counted  # type: ignore[method-assign]
    try:
        m = prepare(elf(board, app), board, **kw)
        r = run_machine(m)
    finally:
        Nrf52Uarte.write = original  # type: ignore[method-assign]
    s = m.hot.state
    seen = (r.text, r.instructions, r.cycles, r.sleep_cycles, r.stop.kind, r.exit_status, m.console_bytes,
            m.system.exc.entries + s.tick_entries, m.reports.to_dict())
    return seen, m, calls["n"]


AUDIO = {"sensors": {"mic": WAV}, "cmdline": "audio_events.elf windows=6"}


# saved: model writes per transfer that no longer reach Python (console_write: PTR, MAXCNT, two ENDTX clears,
# STOPTX, two TXSTOPPED clears; nrf_uarte's interrupt-driven chunks keep ENDTX with the model)
@pytest.mark.parametrize(("app", "kw", "saved"), [("hello", {}, 6), ("nested", {}, 6), ("nrf_uarte", {}, 2),
                                                  ("nrf_uarte", {"cmdline": "nrf_uarte.elf rx"}, 2),
                                                  ("audio_events", AUDIO, 6)])
def test_the_transmitter_in_c_equals_the_model_path(monkeypatch: pytest.MonkeyPatch, app: str,
                                                    kw: dict[str, Any], saved: int) -> None:
    fast, m, writes_c = _run(app, **kw)
    uarte = m.peripheral("uarte0")
    monkeypatch.setattr(Nrf52Uarte, "TX_IN_C", False)
    monkeypatch.setattr(NordicPeripheral, "EVENTS_IN_C", False)
    monkeypatch.setattr(NordicPeripheral, "STORAGE_IN_C", False)
    slow, m2, writes_py = _run(app, **kw)
    assert slow == fast
    assert not m2.peripheral("uarte0")._held and not m2.peripheral("uarte0")._c_plain
    monkeypatch.setattr(Nrf52Uarte, "TX_IN_C", True)
    monkeypatch.setattr(NordicPeripheral, "EVENTS_IN_C", True)
    monkeypatch.setattr(NordicPeripheral, "STORAGE_IN_C", True)
    twin, m3, _ = _run(app, native=False, **kw)  # the Python register file holds them the same way
    assert twin == fast
    assert m3.peripheral("uarte0")._held.keys() == uarte._held.keys()
    transfers = m.bus.rf.reg(m.bus.rf.slot(uarte.base + 0x008) - 1)["writes"]  # TASKS_STARTTX
    assert transfers >= 2
    assert writes_py - writes_c >= saved * transfers  # held from the build of the UARTE's entries on


def test_what_the_register_file_holds_follows_inten_the_transfer_and_the_ppi() -> None:
    m = prepare(elf("nrf52840", "hello"), "nrf52840")
    run_machine(m)
    u = m.peripheral("uarte0")
    rf = m.bus.rf
    assert set(u._held) == set(u.event_names)  # every event, from the build of the entries on (INTEN is 0)
    assert set(u._c_plain) == {"TXD_PTR", "TXD_MAXCNT"}
    stoptx = rf.slot(u.base + 0x00C) - 1
    assert rf.flags(stoptx) & FIT and rf.reg(stoptx)["store"] == u._held[22]  # shares EVENTS_TXSTOPPED's value
    endtx = rf.slot(u.base + 0x120) - 1
    assert rf.flags(endtx) & FIT
    rf.write(u.base + 0x120, 4, 1)  # set in C (as firmware may)
    u.write(0x304, 4, 1 << 8)  # INTENSET.ENDTX: an ENDTX now raises the interrupt, the model must see it
    assert 8 not in u._held and not rf.flags(endtx) & FIT
    assert u._ev_set >> 8 & 1 and u._irq_high  # the event set in C raised the line once the model took it back
    u.write(0x308, 4, 1 << 8)
    assert 8 not in u._held and u.read(0x120, 4) == 1  # held again from its next access through Python on
    assert 8 in u._held and rf.read(u.base + 0x120, 4) == 1
    rf.write(u.base + 0x120, 4, 0)
    rf.write(u.base + 0x158, 4, 0)  # EVENTS_TXSTOPPED = 0 (in C)
    rf.write(u.base + 0x00C, 4, 1)  # TASKS_STOPTX while idle: sets the event in C
    assert rf.read(u.base + 0x158, 4) == 1 and u.event_set(22) and u.read(0x158, 4) == 1  # the model sees it
    fabric = u.fabric
    fabric.routes = {u.base + 0x158: (u.base + 0x004,)}  # a PPI route from TXSTOPPED: STOPTX must publish
    assert not rf.flags(stoptx) & FIT
    fabric.routes = {}
    assert rf.flags(stoptx) & FIT
    slot = rf.slot(u.base + 0x548) - 1
    writes = rf.reg(slot)["writes"]
    rf.write(u.base + 0x548, 4, 0x10005)  # a reserved bit set in TXD.MAXCNT: the model's write (it keeps 5)
    assert rf.reg(slot)["writes"] == writes + 1 and u.values["TXD_MAXCNT"] == 5 == rf.read(u.base + 0x548, 4)
    rf.write(u.base + 0x548, 4, 7)  # a fitting one: in C, the model takes it when it needs it (STARTTX)
    assert u.values["TXD_MAXCNT"] == 5 and rf.read(u.base + 0x548, 4) == 7 == u.storage("TXD_MAXCNT")
