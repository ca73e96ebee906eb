"""Nordic's peripheral interface (PS v1.7 "Peripheral interface"), through TIMER0's and RNG's registers."""

from __future__ import annotations

from tests.unit.nrf52_fakes import Part

TIMER0_IRQ = 8
TASKS_START, TASKS_CLEAR, TASKS_CAPTURE0 = 0x000, 0x00C, 0x040
EVENTS_COMPARE0 = 0x140
SHORTS, INTEN, INTENSET, INTENCLR = 0x200, 0x300, 0x304, 0x308
PRESCALER, BITMODE, CC0 = 0x510, 0x508, 0x540


def _timer_1khz(part: Part) -> None:
    part.write("timer0", BITMODE, 3)
    part.write("timer0", PRESCALER, 4)  # 1 MHz
    part.write("timer0", CC0, 1000)
    part.write("timer0", SHORTS, 1)  # COMPARE0_CLEAR
    part.write("timer0", TASKS_START, 1)


def test_an_event_raises_the_interrupt_only_while_enabled_and_set() -> None:
    part = Part()
    host = part.host
    _timer_1khz(part)
    part.advance_us(1000)
    assert part.read("timer0", EVENTS_COMPARE0) == 1
    assert host.irq_rises(TIMER0_IRQ) == []  # INTEN clear: the event is set, the line stays low
    part.write("timer0", INTENSET, 1 << 16)
    assert host.irq_levels[TIMER0_IRQ] is True  # enabling with the event set asserts the line
    assert part.read("timer0", INTENCLR) == 1 << 16 == part.read("timer0", INTEN)
    part.write("timer0", EVENTS_COMPARE0, 0)  # the handler clears the event: the line drops
    assert host.irq_levels[TIMER0_IRQ] is False
    part.advance_us(1000)
    assert host.irq_levels[TIMER0_IRQ] is True
    part.write("timer0", INTENCLR, 1 << 16)
    assert host.irq_levels[TIMER0_IRQ] is False and part.read("timer0", EVENTS_COMPARE0) == 1


def test_the_line_stays_high_while_any_enabled_event_is_set() -> None:
    part = Part()
    host = part.host
    part.write("timer0", CC0 + 4, 500)
    part.write("timer0", INTENSET, 0b11 << 16)
    _timer_1khz(part)
    part.advance_us(1000)  # COMPARE1 at 500 us, COMPARE0 at 1000 us
    assert part.read("timer0", EVENTS_COMPARE0) == 1 and part.read("timer0", EVENTS_COMPARE0 + 4) == 1
    rises = host.irq_rises(TIMER0_IRQ)
    assert rises == [500 * 64]  # one rising edge: the second event found the line already high
    part.write("timer0", EVENTS_COMPARE0, 0)
    assert host.irq_levels[TIMER0_IRQ] is True
    part.write("timer0", EVENTS_COMPARE0 + 4, 0)
    assert host.irq_levels[TIMER0_IRQ] is False


def test_firmware_may_set_an_event_itself() -> None:
    part = Part()
    part.write("timer0", INTENSET, 1 << 17)
    part.write("timer0", EVENTS_COMPARE0 + 4, 1)
    assert part.host.irq_levels[TIMER0_IRQ] is True and part.read("timer0", EVENTS_COMPARE0 + 4) == 1


def test_shortcuts_come_from_the_svd_field_names() -> None:
    part = Part()
    timer = part["timer0"]
    # SHORTS bit 0 COMPARE0_CLEAR, bit 8 COMPARE0_STOP: event 16 (0x140) to tasks 3 (CLEAR) and 1 (STOP)
    assert (0, 16, 3) in timer._shorts and (8, 16, 1) in timer._shorts
    uarte = part["uarte0"]
    assert (5, 4, 0) in uarte._shorts  # ENDRX_STARTRX: event ENDRX (0x110) -> TASKS_STARTRX
    rng = part["rng"]
    assert rng._shorts == [(0, 0, 1)]  # VALRDY_STOP


def test_tasks_are_named_and_unknown_ones_reported() -> None:
    part = Part()
    timer = part["timer0"]
    assert timer.task_names[16] == "CAPTURE[0]" and timer.task_names[0] == "START"
    assert timer.reg_name(timer.register("TASKS"), 17) == "TIMER0.TASKS_CAPTURE[1]"
    assert timer.reg_name(timer.register("EVENTS"), 17) == "TIMER0.EVENTS_COMPARE[1]"
    part.write("timer0", 0x020, 1)  # no task at 0x020
    assert "TIMER0+0x020" in part.host.unmodelled
    part.write("timer0", 0x104, 1)  # no event at 0x104
    assert "TIMER0+0x104" in part.host.unmodelled
    part.write("saadc", 0x00C, 1)  # TASKS_CALIBRATEOFFSET exists and is modelled
    assert not [w for w in part.host.unmodelled if w.startswith("SAADC")]


def test_clock_and_power_are_one_block_with_both_register_sets() -> None:
    part = Part()
    clock = part["clock"]
    assert clock.reg_name(clock.register("GPREGRET")) == "POWER.GPREGRET"
    assert clock.reg_name(clock.register("TASKS"), 0) == "CLOCK.TASKS_HFCLKSTART"
    assert clock.task_names[30] == "CONSTLAT" and clock.event_names[5] == "SLEEPENTER"


def test_a_shortcuts_task_goes_through_a_models_own_task_method() -> None:
    """fire runs a shortcut's task itself (no task() call) only where the model keeps NordicPeripheral.task: the UARTE's
    task() counts its changes (_gen, its plans' key), and a shortcut's STARTRX must pass there."""
    part = Part()
    uarte = part["uarte0"]
    assert not uarte._task_plain and part["timer0"]._task_plain
    part.write("uarte0", 0x200, 1 << 5)  # SHORTS ENDRX_STARTRX (the UARTE disabled: the task itself does nothing)
    gen = uarte._gen
    uarte.fire(4)  # ENDRX
    assert uarte._gen == gen + 1  # through task()
    part.write("uarte0", 0x200, 0)
    gen = uarte._gen
    uarte.fire(4)
    assert uarte._gen == gen  # no shortcut: no task
