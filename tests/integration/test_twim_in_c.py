"""nRF52 TWIM transfers with their set-up registers and events held by the register file: the model's run.

The TWIM's ``ADDRESS``, ``TXD.PTR/MAXCNT``, ``RXD.PTR/MAXCNT`` and ``SHORTS`` (``HELD_STORAGE``) and the reads of
its events whose interrupt is on (``EVENT_READS_IN_C``: the wait on ``EVENTS_STOPPED``/``ERROR``), and the RTC's
``EVENTS_COMPARE`` reads, are served in C (simcore/peripherals/nrf52/common.py); a transfer reaches the model at
``TASKS_STARTTX`` and at the firmware's clear of ``EVENTS_STOPPED``. The guest must see exactly what it sees with
every access in Python and with the Python register file (``native=False``): console, instructions, cycles, sleep,
stop, exit status, interrupts taken, reports, the chips' figures.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.peripherals.nrf52.rtc import Nrf52Rtc
from simcore.peripherals.nrf52.serial import Nrf52Twim
from simcore.peripherals.nrf52.uarte import Nrf52Uarte
from simcore.regfile import FIT, PY_WRITE
from tests.conftest import ROOT, elf

CSV = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
REV1, REV2 = "arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense-rev2"


def _run(board: str, frames: int, **kw: Any) -> tuple[tuple[object, ...], Any, int]:
    """What the guest saw, the machine, and the accesses that reached the TWIM model."""
    calls = {"n": 0}
    read, write = Nrf52Twim.read, Nrf52Twim.write

    def counted_read(self: Nrf52Twim, offset: int, size: int) -> int:
        calls["n"] += 1
        return read(self, offset, size)

    def counted_write(self: Nrf52Twim, offset: int, size: int, value: int) -> None:
        calls["n"] += 1
        write(self, offset, size, value)

    Nrf52Twim.read, Nrf52Twim.write = counted_read, counted_write  # type: ignore[method-assign]
    try:
        m = prepare(elf(board, "imu_steps_bus"), board, sensors={"imu": (CSV, {"end": "hold", "resample": True})},
                    cmdline=f"imu_steps_bus.elf frames={frames}", **kw)
        r = run_machine(m)
    finally:
        Nrf52Twim.read, Nrf52Twim.write = read, write  # type: ignore[method-assign]
    s = m.hot.state
    seen = (r.text, r.instructions, r.cycles, r.sleep_cycles, r.stop.kind, r.exit_status, m.console_bytes,
            m.system.exc.entries + s.tick_entries, m.reports.to_dict(), r.sensors)
    return seen, m, calls["n"]


@pytest.mark.parametrize(("board", "frames"), [(REV1, 120), (REV2, 100)])
def test_twim_registers_in_c_equal_the_model_path(monkeypatch: pytest.MonkeyPatch, board: str, frames: int) -> None:
    fast, m, calls_c = _run(board, frames)
    assert "steps in" in fast[0] and fast[5] == 0
    twim = m.peripheral("twim1")
    assert set(twim._c_plain) == set(Nrf52Twim.HELD_STORAGE)
    assert {1, 9} <= set(twim._held) and {1, 9} <= twim._held_py_writes  # STOPPED, ERROR: interrupts on
    for flag, cls in (("EVENT_READS_IN_C", Nrf52Twim), ("EVENT_READS_IN_C", Nrf52Rtc), ("TX_IN_C", Nrf52Uarte)):
        monkeypatch.setattr(cls, flag, False)
    monkeypatch.setattr(NordicPeripheral, "EVENTS_IN_C", False)
    monkeypatch.setattr(NordicPeripheral, "STORAGE_IN_C", False)
    slow, m2, calls_py = _run(board, frames)
    assert slow == fast
    assert not m2.peripheral("twim1")._held and not m2.peripheral("twim1")._c_plain
    monkeypatch.undo()
    twin, m3, _ = _run(board, frames, native=False)  # the Python register file holds them the same way
    assert twin == fast
    assert m3.peripheral("twim1")._held.keys() == twim._held.keys()
    transfers = m.bus.rf.reg(m.bus.rf.slot(twim.base + 0x008) - 1)["writes"]  # TASKS_STARTTX
    assert transfers > frames // 15
    # per transfer, six set-up writes, the reads of STOPPED (twice) and ERROR and the clear of STOPPED (hp_ack: it
    # alone holds TWIM1's line high then) no longer reach the model
    assert calls_py - calls_c >= 10 * (transfers - 1)
    assert m.hot.state.ev_clears >= transfers - 1 and not m2.hot.state.ev_clears


def test_an_event_with_its_interrupt_on_is_read_in_c_and_written_by_the_model() -> None:
    """EVENTS_STOPPED with INTEN.STOPPED: reads from the register file, writes to the model (the line follows);
    INTENCLR gives the writes to C too, INTENSET takes them back with the value C holds."""
    m = prepare(elf(REV1, "imu_steps_bus"), REV1, sensors={"imu": (CSV, {"end": "hold", "resample": True})})
    t = m.peripheral("twim1")
    rf = m.bus.rf
    t.write(0x304, 4, 1 << 1)  # INTENSET.STOPPED
    assert t.read(0x104, 4) == 0 and 1 in t._held and 1 in t._held_py_writes
    entry = rf.slot(t.base + 0x104) - 1
    assert rf.flags(entry) & (FIT | PY_WRITE) == FIT | PY_WRITE
    t.fire(1)
    assert rf.read(t.base + 0x104, 4) == 1 and t._irq_high  # the model's event, read in C; the line is up
    s = m.hot.state
    assert s.ev_armed[t._clr_slots[1]] == 0 and t in m.system.clear_models  # given to C when it resumes
    m.system.give_clears()  # (Machine._arm, before C resumes)
    assert s.ev_armed[t._clr_slots[1]] == 1  # STOPPED alone holds the line high: C may serve its clear
    rf.write(t.base + 0x104, 4, 0)  # the firmware's clear, served in C (hp_ack): the line falls there
    assert s.ev_clears == 1 and s.fr_done & 4 and rf.read(t.base + 0x104, 4) == 0
    assert t._irq_high  # ... and the model hears of it at Python's next sync
    m.system.sync_native()
    assert not t._irq_high and not t.event_set(1) and 16 + t.irq not in m.system.exc.lines_high
    t.write(0x308, 4, 1 << 1)  # INTENCLR.STOPPED: the event is storage alone now, writes in C
    assert not rf.flags(entry) & PY_WRITE
    rf.write(t.base + 0x104, 4, 1)  # set in C, as firmware may
    assert t.event_set(1) and not t._irq_high
    t.write(0x304, 4, 1 << 1)  # INTENSET again: the model takes the value C held, the line rises
    assert rf.flags(entry) & PY_WRITE and t._ev_set >> 1 & 1 and t._irq_high


def test_rtc_cc_is_read_in_c_and_written_by_the_model() -> None:
    """RTC1 CC[0] (HELD_READS): after its first write through the model, reads come from the register file and
    writes still reach the model, which moves the compare event and gives the register file the new value."""
    m = prepare(elf(REV1, "imu_steps_bus"), REV1, sensors={"imu": (CSV, {"end": "hold", "resample": True})})
    rtc = m.peripheral("rtc1")
    rf = m.bus.rf
    reads = {"n": 0}
    read = rtc.read

    def counted(offset: int, size: int) -> int:
        reads["n"] += 1
        return read(offset, size)

    rtc.read = counted  # type: ignore[method-assign]
    rtc.write(0x540, 4, 0x1234567)  # CC[0]: 24 bits kept
    assert "CC0" in rtc._c_plain and rtc.values["CC0"] == 0x234567
    entry = rf.slot(rtc.base + 0x540) - 1
    assert rf.flags(entry) & (FIT | PY_WRITE) == FIT | PY_WRITE
    assert rf.read(rtc.base + 0x540, 4) == 0x234567 and reads["n"] == 0  # served in C
    moved = {"n": 0}
    reschedule = rtc._reschedule

    def counted_reschedule() -> None:
        moved["n"] += 1
        reschedule()

    rtc._reschedule = counted_reschedule  # type: ignore[method-assign]
    rf.write(rtc.base + 0x540, 4, 4096)  # the firmware's write: the model's handler runs
    assert moved["n"] == 1 and rtc.values["CC0"] == 4096 and rf.read(rtc.base + 0x540, 4) == 4096
    rtc.write(0x544, 4, 7)  # CC[1] too; RTC0-style reset puts the reset values back in C
    rtc.reset()
    assert rf.read(rtc.base + 0x540, 4) == 0 and rf.read(rtc.base + 0x544, 4) == 0 and reads["n"] == 0


def test_an_event_clear_stays_the_models_while_another_event_holds_the_line() -> None:
    """hp_ack serves a clear only while its event alone holds the line high: with ERROR set too (both interrupts
    on), the clear of STOPPED reaches the model (the line stays high); with INTEN.STOPPED off the clear is plain
    storage; a write of 1 (the firmware setting the event) is always the model's."""
    m = prepare(elf(REV1, "imu_steps_bus"), REV1, sensors={"imu": (CSV, {"end": "hold", "resample": True})})
    t = m.peripheral("twim1")
    rf, s = m.bus.rf, m.hot.state
    t.write(0x304, 4, 1 << 1 | 1 << 9)  # INTENSET.STOPPED, ERROR
    assert t.read(0x104, 4) == 0 and t.read(0x124, 4) == 0 and {1, 9} <= set(t._clr_slots)
    k_stopped, k_error = t._clr_slots[1], t._clr_slots[9]
    t.fire(1)
    t.fire(9)
    assert t._irq_high and not s.ev_armed[k_stopped] and not s.ev_armed[k_error]
    rf.write(t.base + 0x104, 4, 0)  # ERROR holds the line too: the model's write
    assert s.ev_clears == 0 and not t.event_set(1) and t._irq_high
    assert s.ev_armed[k_error] == 1  # now ERROR alone holds it
    rf.write(t.base + 0x124, 4, 1)  # a write of 1 is the model's (it sets the event)
    assert s.ev_clears == 0 and t.event_set(9)
    rf.write(t.base + 0x124, 4, 0)
    assert s.ev_clears == 1 and rf.read(t.base + 0x124, 4) == 0
    m.system.sync_native()
    assert not t._irq_high and not t.event_set(9) and not s.ev_armed[k_error]
    t.write(0x308, 4, 1 << 1)  # INTENCLR.STOPPED: its event is storage alone, never armed
    t.fire(1)
    assert not s.ev_armed[k_stopped] and not t._irq_high
