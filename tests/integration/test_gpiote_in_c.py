"""nRF52840 GPIOTE events and the GPIO port's IN register served in C on the Nano 33 BLE Sense Rev2.

imu_steps_bus on the Rev2 waits for the BMI270's INT1 (P0.11) as ``while (!EVENTS_IN[0] && !(P0.IN & INT1)) wfi``,
then clears EVENTS_IN[0] (common/nano_imu.h). With GPIOTE's EVENT_READS_IN_C / EVENT_CLEARS_IN_C the reads of
EVENTS_IN[0] (its interrupt on) and its clear while it alone holds GPIOTE's line are the register file's and
hotpath.c hp_ack's; with Nrf52Gpio.IN_IN_C, P0.IN is answered by the register file from a value the port puts
there at every change of a pin's level or PIN_CNF (peripherals/held.py). The guest must see exactly what it sees
with every access in Python and with the Python register file (``native=False``).
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.peripherals.nrf52.gpio import Nrf52Gpio, Nrf52Gpiote
from tests.conftest import ROOT, elf

CSV = str(ROOT / "examples" / "data" / "imu_walk_100hz.csv")
REV2 = "arduino-nano-33-ble-sense-rev2"
EVENTS_IN0, IN = 0x100, 0x010


def _run(frames: int, **kw: Any) -> tuple[tuple[object, ...], Any, dict[str, int]]:
    """What the guest saw, the machine, and the accesses that reached the GPIOTE and P0 models."""
    calls = {"gpiote": 0, "p0_in": 0}
    gread, gwrite, pread = Nrf52Gpiote.read, Nrf52Gpiote.write, Nrf52Gpio.read

    def counted_gread(self: Nrf52Gpiote, offset: int, size: int) -> int:
        calls["gpiote"] += 1
        return gread(self, offset, size)

    def counted_gwrite(self: Nrf52Gpiote, offset: int, size: int, value: int) -> None:
        calls["gpiote"] += 1
        gwrite(self, offset, size, value)

    def counted_pread(self: Nrf52Gpio, offset: int, size: int) -> int:
        calls["p0_in"] += offset == IN
        return pread(self, offset, size)

    Nrf52Gpiote.read, Nrf52Gpiote.write = counted_gread, counted_gwrite  # type: ignore[method-assign]
    Nrf52Gpio.read = counted_pread  # type: ignore[method-assign]
    try:
        m = prepare(elf(REV2, "imu_steps_bus"), REV2, sensors={"imu": (CSV, {"end": "hold", "resample": True})},
                    cmdline=f"imu_steps_bus.elf frames={frames}", **kw)
        r = run_machine(m)
    finally:
        Nrf52Gpiote.read, Nrf52Gpiote.write, Nrf52Gpio.read = gread, gwrite, pread  # type: ignore[method-assign]
    s = m.hot.state
    seen = (r.text, r.instructions, r.cycles, r.sleep_cycles, r.stop.kind, r.exit_status, m.console_bytes,
            m.system.exc.entries + s.tick_entries, m.reports.to_dict(), r.sensors)
    return seen, m, calls


def test_gpiote_event_and_port_in_in_c_equal_the_model_path(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = 150  # six watermarks of 25 frames: six waits on INT1
    fast, m, c_calls = _run(frames)
    assert "steps in 150 frames" in fast[0] and fast[5] == 0
    gpiote, p0 = m.peripheral("gpiote"), m.peripheral("p0")
    assert 0 in gpiote._held and 0 in gpiote._held_py_writes and 0 in gpiote._clr_slots  # EVENTS_IN[0]
    assert p0._in.entry is not None and not p0._in.py
    assert m.bus.rf.value(p0._in.store) == p0._in_value() == p0.read(IN, 4)  # what C answers is the port's IN
    for pins, levels in ((1 << 11, 1 << 11), (1 << 11 | 1 << 3, 1 << 3), (1 << 11, 0)):  # pins driven from outside
        p0.drive(pins, levels)
        assert m.bus.rf.value(p0._in.store) == p0._in_value() == levels & (1 << 11)  # P0.3's buffer: disconnected
    p0.drive(1 << 11, 1 << 11)
    p0.write(0x200 + 4 * 11, 4, 0x2)  # PIN_CNF[11].INPUT = disconnect
    assert m.bus.rf.value(p0._in.store) == 0
    p0.write(0x200 + 4 * 3, 4, 0x0)  # PIN_CNF[3]: input buffer connected, P0.3 still driven high
    assert m.bus.rf.value(p0._in.store) == 1 << 3
    monkeypatch.setattr(Nrf52Gpiote, "EVENT_READS_IN_C", False)
    monkeypatch.setattr(Nrf52Gpiote, "EVENT_CLEARS_IN_C", False)
    monkeypatch.setattr(Nrf52Gpio, "IN_IN_C", False)
    slow, m2, py_calls = _run(frames)
    assert slow == fast
    assert m2.peripheral("p0")._in.entry is None and 0 not in m2.peripheral("gpiote")._held_py_writes
    monkeypatch.undo()
    twin, m3, _ = _run(frames, native=False)  # the Python register file holds them the same way
    assert twin == fast
    assert 0 in m3.peripheral("gpiote")._held_py_writes and m3.peripheral("p0")._in.entry is not None
    waits = frames // 25
    # per wait: EVENTS_IN[0] read twice and cleared once, P0.IN read once: in C after the first wait
    assert py_calls["gpiote"] - c_calls["gpiote"] >= 3 * (waits - 1)
    assert py_calls["p0_in"] >= waits and c_calls["p0_in"] == 1
    assert m.hot.state.ev_clears - m2.hot.state.ev_clears >= waits - 1  # the TWIM's STOPPED clears are C's in both
