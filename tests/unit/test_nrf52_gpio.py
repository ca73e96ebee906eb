"""nRF52840 GPIO and GPIOTE (PS v1.7 6.9, 6.10) through their registers on a fake clock."""

from __future__ import annotations

from pathlib import Path

from tests.unit.nrf52_fakes import Part

OUT, OUTSET, OUTCLR, IN, DIR, DIRSET, DIRCLR, LATCH, DETECTMODE = (0x004, 0x008, 0x00C, 0x010, 0x014, 0x018,
                                                                    0x01C, 0x020, 0x024)
PIN_CNF = 0x200  # + 4n, in the port's window (SVD offset 0x700)
INPUT_CONNECTED_PULLUP = 0xC  # DIR in, INPUT connect, PULL up
SENSE_LOW = 3 << 16
GPIOTE_CONFIG, GPIOTE_IN, GPIOTE_PORT = 0x510, 0x100, 0x17C


def test_outputs_are_recorded_with_their_time() -> None:
    part = Part()
    part.write("p0", PIN_CNF + 4 * 13, 1)  # P0.13 output
    assert part.read("p0", DIR) == 1 << 13
    part.advance_us(500)
    part.write("p0", OUTSET, 1 << 13)
    part.advance_us(250)
    part.write("p0", OUTCLR, 1 << 13)
    part.write("p0", OUTSET, 1 << 14)  # not an output: no change recorded
    assert part.read("p0", OUT) == 1 << 14 == part.read("p0", OUTSET)
    trace = part["p0"].trace()
    assert [(round(c["time_s"] * 1e6), c["pin"], c["level"]) for c in trace] == [(500, "P0.13", 1), (750, "P0.13", 0)]
    stats = part["p0"].sensor_stats()
    assert stats["P0.13_rises"] == 1 and stats["P0.13_falls"] == 1


def test_dir_and_pin_cnf_share_bits_and_in_needs_the_input_buffer() -> None:
    part = Part()
    part.write("p1", DIRSET, 0b101)
    assert part.read("p1", PIN_CNF) & 1 == 1 and part.read("p1", PIN_CNF + 8) & 1 == 1
    part.write("p1", DIRCLR, 0b1)
    assert part.read("p1", DIR) == 0b100
    part.write("p1", OUTSET, 0b100)
    assert part.read("p1", IN) == 0  # P1.02 drives high, but its input buffer is disconnected (reset)
    part.write("p1", PIN_CNF + 8, 1)  # output, input connected
    assert part.read("p1", IN) == 0b100
    part.write("p1", PIN_CNF + 12, INPUT_CONNECTED_PULLUP)
    assert part.read("p1", IN) == 0b1100  # P1.03 pulled up
    part["p1"].drive(1 << 3, 0)
    assert part.read("p1", IN) == 0b100


def test_sense_latch_and_detect() -> None:
    part = Part()
    seen: list[bool] = []
    part.host._nrf52_fabric.detect_listeners.append(seen.append)
    part.write("p0", PIN_CNF + 4 * 11, INPUT_CONNECTED_PULLUP | SENSE_LOW)
    assert part.read("p0", LATCH) == 0
    part["p0"].drive(1 << 11, 0)  # button pressed: low
    assert part.read("p0", LATCH) == 1 << 11 and seen == [True]
    part.write("p0", LATCH, 1 << 11)  # still detecting: stays latched
    assert part.read("p0", LATCH) == 1 << 11
    part["p0"].drive(1 << 11, 1 << 11)
    assert seen == [True, False]  # DETECTMODE 0: DETECT follows the pin
    part.write("p0", DETECTMODE, 1)  # LDETECT: DETECT follows LATCH
    assert seen == [True, False, True]
    part.write("p0", LATCH, 1 << 11)
    assert part.read("p0", LATCH) == 0 and seen == [True, False, True, False]


def test_inputs_from_a_recording(tmp_path: Path) -> None:
    rec = tmp_path / "buttons.csv"
    rec.write_text("time,P0.11,pin12\n0,1,0\n0.010,0,0\n0.025,1,1\n")
    part = Part({"p0": {"source": str(rec), "source_options": {}}})
    part.write("p0", PIN_CNF + 4 * 11, 0)  # input connected
    part.write("p0", PIN_CNF + 4 * 12, 0)
    changes = []
    part.host._nrf52_fabric.port_listeners.append(lambda pin, lvl: changes.append((part.host.cycles, pin, lvl)))
    part.advance_us(30_000)
    assert changes == [(0, 11, 1), (640_000, 11, 0), (1_600_000, 11, 1), (1_600_000, 12, 1)]  # 0 s: the first row
    assert part.read("p0", IN) == 0b11 << 11
    assert part["p0"].sensor_stats()["input_changes"] == 3


def test_gpiote_event_mode_counts_edges_of_a_pin() -> None:
    part = Part()
    part.write("p0", PIN_CNF + 4 * 11, INPUT_CONNECTED_PULLUP)
    part.write("gpiote", GPIOTE_CONFIG + 4, 1 | (11 << 8) | (2 << 16))  # CONFIG[1]: event, P0.11, HiToLo
    part.write("gpiote", 0x304, 1 << 1)
    part["p0"].drive(1 << 11, 0)
    assert part.read("gpiote", GPIOTE_IN + 4) == 1 and part.host.irq_levels[6] is True
    part.write("gpiote", GPIOTE_IN + 4, 0)
    part["p0"].drive(1 << 11, 1 << 11)  # rising: not selected
    assert part.read("gpiote", GPIOTE_IN + 4) == 0
    part.write("gpiote", GPIOTE_CONFIG + 8, 1 | (2 << 8) | (1 << 13) | (3 << 16))  # CONFIG[2]: P1.02, toggle
    part["p1"].drive(1 << 2, 1 << 2)
    part["p1"].drive(1 << 2, 0)
    assert part.read("gpiote", GPIOTE_IN + 8) == 1


def test_gpiote_task_mode_drives_the_pin() -> None:
    part = Part()
    part.write("gpiote", GPIOTE_CONFIG, 3 | (13 << 8) | (3 << 16) | (1 << 20))  # task, P0.13, toggle, init high
    assert part["p0"].level(13) == 1
    part.write("gpiote", 0x000, 1)  # TASKS_OUT[0]: toggle
    assert part["p0"].level(13) == 0
    part.write("gpiote", 0x060, 1)  # TASKS_CLR[0]
    part.write("gpiote", 0x030, 1)  # TASKS_SET[0]
    assert part["p0"].level(13) == 1
    assert [c["level"] for c in part["p0"].trace(13)] == [1, 0, 1]
    part.write("gpiote", GPIOTE_CONFIG, 0)  # released: the pin is OUT/DIR's again (an input, low)
    assert part["p0"].level(13) == 0


def test_gpiote_port_event_from_detect() -> None:
    part = Part()
    part.write("p1", PIN_CNF + 4 * 5, INPUT_CONNECTED_PULLUP | SENSE_LOW)
    part.write("gpiote", 0x304, 1 << 31)
    part["p1"].drive(1 << 5, 0)
    assert part.read("gpiote", GPIOTE_PORT) == 1 and part.host.irq_levels[6] is True


def test_a_pin_rise_c_may_do_is_one_gpiote_in_event_and_nothing_else() -> None:
    """Nrf52Gpio._rise_port (rise_plan's port part, the Nano 33 BLE Sense Rev2's BMI270 INT1 woken in C): an input pin
    whose rise fires exactly one GPIOTE IN channel (LOTOHI or TOGGLE) and nothing else of the port; none for SENSE (a
    LATCH/DETECT change), an output, a falling-edge channel, two channels, or a pin already high."""
    part = Part()
    p0 = part["p0"]
    part.write("p0", PIN_CNF + 4 * 11, 0)  # input connected, no pull
    assert p0._rise_port(11) is None  # no channel on it
    part.write("gpiote", GPIOTE_CONFIG, 1 | (11 << 8) | (1 << 16))  # CONFIG[0]: event, P0.11, LoToHi
    got = p0._rise_port(11)
    assert got is not None and got[0] is part["gpiote"] and got[1] == 0 and got[2] is None  # (IN not held: no rf)
    assert p0._rise.get(11) is None  # (asked through _rise_port directly: rise_plan keeps it)
    part.write("gpiote", GPIOTE_CONFIG + 4, 1 | (11 << 8) | (3 << 16))  # CONFIG[1]: toggle on the same pin
    assert p0._rise_port(11) is None
    part.write("gpiote", GPIOTE_CONFIG + 4, 1 | (11 << 8) | (2 << 16))  # HiToLo: a rise does not fire it
    assert p0._rise_port(11) is not None
    part.write("p0", PIN_CNF + 4 * 11, SENSE_LOW)
    assert p0._rise_port(11) is None
    part.write("p0", PIN_CNF + 4 * 11, 0)
    p0.drive(1 << 11, 1 << 11)
    assert p0._rise_port(11) is None  # high already
    p0.drive(1 << 11, 0)
    assert p0._rise_port(11) is not None
    part.write("p0", PIN_CNF + 4 * 12, 1)  # P0.12 an output
    assert p0._rise_port(12) is None


def test_pins_changing_together_reach_lines_and_listeners_lowest_first() -> None:
    """Nrf52Gpio._update visits only the changed pins (bit by bit, lowest first, as a pass over all 32 did): each
    output change recorded, each pin's line and the port listeners told once, in pin order, and none for the rest."""
    part = Part()
    seen: list[tuple[int, int]] = []
    part.host._nrf52_fabric.port_listeners.append(lambda pin, lvl: seen.append((pin, lvl)))
    line = part["p0"].line(31)
    part["p0"].drive(1 << 31 | 1 << 5 | 1 << 0, 1 << 31 | 1 << 0)  # P0.31 and P0.00 high, P0.05 driven low (no change)
    assert seen == [(0, 1), (31, 1)] and line.level
    part.write("p0", PIN_CNF + 4 * 7, 1)
    part.write("p0", PIN_CNF + 4 * 2, 1)
    part.write("p0", OUTSET, 1 << 7 | 1 << 2)  # two outputs rise at once
    assert seen[2:] == [(2, 1), (7, 1)]
    assert [(c["pin"], c["level"]) for c in part["p0"].trace()] == [("P0.02", 1), ("P0.07", 1)]
    part["p0"].drive(1 << 31, 0)
    assert seen[4:] == [(31, 0)] and not line.level


def test_a_pin_fall_c_may_store_fires_no_channel_and_the_rise_after_it_is_rise_plans() -> None:
    """Nrf52Gpio.fall_rise_plan's parts (the Nano 33 BLE Sense Rev2's INT1 lowered by the INT_STATUS_1 read C wakes,
    raised at the next watermark): a fall fires no channel set to LoToHi but one set to HiToLo or Toggle
    (``_falls_fire``), the rise after the fall is ``_rise_port``'s from the levels after it (the pin high now), and no
    plan at all for a pin low now or an IN the register file does not hold (this fake has no register file)."""
    part = Part()
    p0, gpiote = part["p0"], part["gpiote"]
    part.write("p0", PIN_CNF + 4 * 11, 0)  # input connected, no pull
    part.write("gpiote", GPIOTE_CONFIG, 1 | (11 << 8) | (1 << 16))  # CONFIG[0]: event, P0.11, LoToHi
    assert p0.fall_rise_plan(11) is None  # low now: nothing to fall
    p0.drive(1 << 11, 1 << 11)
    assert p0._falls_fire(gpiote, 11) == []
    assert p0._rise_port(11) is None  # (high now)
    after = p0._level & ~(1 << 11)
    assert p0.fall_rise_plan(11) is None and p0._rise_port(11, after) is None  # IN not held by a register file
    held = p0._in  # (as the register file holding IN leaves it: an entry, value index 7, IN's present value)
    held.entry, held.store, held.py, held.value = object(), 7, False, p0._level & p0._connected
    got = p0._rise_port(11, after)  # the rise from the levels after the fall
    assert got is not None and got[0] is gpiote and got[1] == 0 and got[2] == (7, p0._level & p0._connected)
    part.write("gpiote", GPIOTE_CONFIG + 4, 1 | (11 << 8) | (2 << 16))  # CONFIG[1]: HiToLo on the same pin
    assert p0._falls_fire(gpiote, 11) == [1]
    part.write("gpiote", GPIOTE_CONFIG + 4, 1 | (11 << 8) | (3 << 16))  # Toggle: fires on both edges
    assert p0._falls_fire(gpiote, 11) == [1]
