"""The MPS2 AN386's CMSDK APB watchdog and AHB GPIO, driven through their registers on a fake clock.

Register behaviour from the Cortex-M System Design Kit TRM (DDI 0479C, 4.2 and 4.6): the
watchdog interrupts at its first zero and resets at the second unless the interrupt was
cleared; the GPIO latches pin interrupts by type and polarity.
"""

from __future__ import annotations

from simcore.board import load_board
from simcore.peripherals.cmsdk_gpio import CmsdkGpio
from simcore.peripherals.cmsdk_watchdog import UNLOCK, CmsdkWatchdog
from simcore.peripherals.sensors.testing import FakeHost, peripheral
from simcore.runtypes import ReportChannel

LOAD, VALUE, CTRL, INTCLR, RIS, MIS, LOCK = 0x000, 0x004, 0x008, 0x00C, 0x010, 0x014, 0xC00
INTEN, RESEN = 1, 2


class Host(FakeHost):
    """The fake host plus what the watchdog asks for: NMI and a reset of the part."""

    def __init__(self) -> None:
        super().__init__(mhz=25.0)
        self.nmis: list[int] = []
        self.resets: list[tuple[int, str, str]] = []

    def pend_nmi(self) -> None:
        self.nmis.append(self.cycles)

    def request_reset(self, source: str, why: str) -> None:
        self.resets.append((self.cycles, source, why))


def watchdog() -> tuple[CmsdkWatchdog, Host]:
    host = Host()
    return CmsdkWatchdog(peripheral("watchdog", "cmsdk_watchdog", base=0x40008000, irq=None, nmi=True), host), host


def test_watchdog_reset_values_and_identification() -> None:
    w, _ = watchdog()
    assert [w.read(off, 4) for off in (LOAD, VALUE, CTRL, RIS, MIS, LOCK)] == [0xFFFFFFFF, 0xFFFFFFFF, 0, 0, 0, 0]
    assert [w.read(off, 4) for off in (0xFE0, 0xFE4, 0xFE8, 0xFD0)] == [0x24, 0xB8, 0x1B, 0x04]  # part 0x824


def test_watchdog_interrupts_at_the_first_timeout_and_resets_at_the_second() -> None:
    w, host = watchdog()
    w.write(LOAD, 4, 1000)
    w.write(CTRL, 4, INTEN | RESEN)
    host.advance_to(400)
    assert w.read(VALUE, 4) == 600
    host.advance_to(999)
    assert w.read(RIS, 4) == 0 and host.nmis == []
    host.advance_to(1000)
    assert (w.read(RIS, 4), w.read(MIS, 4)) == (1, 1) and host.nmis == [1000]
    host.advance_to(1500)
    assert w.read(VALUE, 4) == 1000 - 499  # reloaded on the tick after zero
    assert host.resets == []
    host.advance_to(2001)
    assert len(host.resets) == 1 and host.resets[0][:2] == (2001, "watchdog")
    assert "twice" in host.resets[0][2] and host.nmis == [1000]


def test_feeding_the_watchdog_prevents_the_reset() -> None:
    w, host = watchdog()
    w.write(LOAD, 4, 1000)
    w.write(CTRL, 4, INTEN | RESEN)
    for feed in (1000, 2000, 3000):  # the handler clears the interrupt (and reloads) after each timeout
        host.advance_to(feed)
        assert w.read(RIS, 4) == 1
        w.write(INTCLR, 4, 1)
        assert w.read(RIS, 4) == 0 and w.read(VALUE, 4) == 1000
    host.advance_to(3999)
    assert host.resets == [] and host.nmis == [1000, 2000, 3000]
    w.write(LOAD, 4, 5000)  # a LOAD write reloads too
    host.advance_to(8998)
    assert w.read(RIS, 4) == 0 and w.read(VALUE, 4) == 1
    host.advance_to(8999)
    assert w.read(RIS, 4) == 1 and host.resets == []


def test_without_resen_the_second_timeout_does_not_reset() -> None:
    w, host = watchdog()
    w.write(LOAD, 4, 100)
    w.write(CTRL, 4, INTEN)
    host.advance_to(10_000)
    assert w.read(RIS, 4) == 1 and host.resets == [] and host.nmis == [100]


def test_stopping_the_counter_freezes_it_and_restarting_reloads_it() -> None:
    w, host = watchdog()
    w.write(LOAD, 4, 1000)
    w.write(CTRL, 4, INTEN)
    host.advance_to(300)
    w.write(CTRL, 4, 0)
    host.advance_to(5000)
    assert w.read(VALUE, 4) == 700 and w.read(RIS, 4) == 0
    w.write(CTRL, 4, INTEN)
    host.advance_to(5100)
    assert w.read(VALUE, 4) == 900


def test_lock_closes_the_registers_to_writes() -> None:
    w, host = watchdog()
    w.write(LOCK, 4, 0)
    assert w.read(LOCK, 4) == 1
    w.write(LOAD, 4, 10)
    assert w.read(LOAD, 4) == 0xFFFFFFFF
    assert host.channels["watchdog.LOAD"] is ReportChannel.GUEST_ERROR
    w.write(LOCK, 4, UNLOCK)
    assert w.read(LOCK, 4) == 0
    w.write(LOAD, 4, 10)
    assert w.read(LOAD, 4) == 10


def test_the_watchdog_is_on_the_mps2_board_wired_to_nmi() -> None:
    board = load_board("mps2-an386")
    wd = board.peripheral("watchdog")
    assert wd is not None and (wd.type, wd.base, wd.options.get("nmi")) == ("cmsdk_watchdog", 0x40008000, True)
    gpios = [(p.name, p.base, p.irq) for p in board.peripherals if p.type == "cmsdk_gpio"]
    assert gpios == [("gpio0", 0x40010000, 6), ("gpio1", 0x40011000, 7), ("gpio2", 0x40012000, 16),
                     ("gpio3", 0x40013000, 17)]


# --- GPIO -------------------------------------------------------------------------------------------
DATA, DATAOUT, OUTENSET, OUTENCLR, ALTFUNCSET = 0x000, 0x004, 0x010, 0x014, 0x018
INTENSET, INTENCLR, INTTYPESET, INTTYPECLR, INTPOLSET, INTPOLCLR, INTSTATUS = (0x020, 0x024, 0x028, 0x02C, 0x030,
                                                                              0x034, 0x038)


def gpio(**options: int) -> tuple[CmsdkGpio, Host]:
    host = Host()
    return CmsdkGpio(peripheral("gpio0", "cmsdk_gpio", base=0x40010000, irq=6, **options), host), host


def test_outputs_drive_the_pins_and_are_recorded_with_their_cycle() -> None:
    g, host = gpio(inputs=0x0F00)
    assert g.read(DATA, 4) == 0x0F00  # all pins inputs at reset
    g.write(OUTENSET, 4, 0x00FF)
    host.advance_to(100)
    g.write(DATA, 4, 0xFFA5)  # only the enabled outputs drive; DATAOUT keeps all 16 bits
    assert g.read(DATAOUT, 4) == 0xFFA5 and g.read(DATA, 4) == 0x0FA5
    assert g.read(OUTENCLR, 4) == 0x00FF
    g.write(OUTENCLR, 4, 0x000F)
    assert g.read(OUTENSET, 4) == 0x00F0 and g.read(DATA, 4) == 0x0FA0
    assert g.changes == [(0, 0, 0xFF), (100, 0xA5, 0xFF), (100, 0xA0, 0xF0)]


def test_masked_byte_access() -> None:
    g, host = gpio()
    g.write(OUTENSET, 4, 0xFFFF)
    g.write(DATA, 4, 0x1234)
    g.write(0x400 + 4 * 0x0F, 4, 0xFF)  # MASKLOWBYTE[0x0F]: bits 0-3 only
    assert g.read(DATA, 4) == 0x123F
    assert g.read(0x400 + 4 * 0xF0, 4) == 0x30  # bits 4-7 of 0x3F
    g.write(0x800 + 4 * 0x80, 4, 0x0000)  # MASKHIGHBYTE[0x80]: bit 15
    g.write(0x800 + 4 * 0x01, 4, 0xFFFF)  # bit 8
    assert g.read(DATA, 4) == 0x133F
    assert g.read(0x800 + 4 * 0xFF, 4) == 0x1300


def test_edge_and_level_interrupts_latch_and_clear() -> None:
    g, host = gpio()
    g.write(INTTYPESET, 4, 0x1)  # pin 0: rising edge
    g.write(INTPOLSET, 4, 0x1)
    g.write(INTTYPESET, 4, 0x2)  # pin 1: falling edge
    g.write(INTPOLCLR, 4, 0x2)
    g.write(INTTYPECLR, 4, 0x4)  # pin 2: high level
    g.write(INTPOLSET, 4, 0x4)
    g.write(INTENSET, 4, 0x7)
    assert g.read(INTSTATUS, 4) == 0 and host.irq_levels.get(6) is False
    host.advance_to(50)
    g.set_inputs(0x3)  # pin 0 rises (pin 1 rises too: not its edge)
    assert g.read(INTSTATUS, 4) == 0x1 and host.irq_levels[6] is True and host.irq_rises(6) == [50]
    g.write(INTSTATUS, 4, 0x1)  # INTCLEAR
    assert g.read(INTSTATUS, 4) == 0 and host.irq_levels[6] is False
    g.set_inputs(0x1)  # pin 1 falls
    assert g.read(INTSTATUS, 4) == 0x2
    g.write(INTSTATUS, 4, 0x2)
    g.set_inputs(0x5)  # pin 2 high: a level
    g.write(INTSTATUS, 4, 0x4)
    assert g.read(INTSTATUS, 4) == 0x4  # still active: latched again
    g.set_inputs(0x1)
    g.write(INTSTATUS, 4, 0x4)
    assert g.read(INTSTATUS, 4) == 0
    g.write(INTENCLR, 4, 0x7)
    g.set_inputs(0x0)
    g.set_inputs(0x1)
    assert g.read(INTSTATUS, 4) == 0  # disabled pins do not latch


def test_alternate_functions_are_stored_and_reported() -> None:
    g, host = gpio()
    g.write(ALTFUNCSET, 4, 0x30)
    assert g.read(ALTFUNCSET, 4) == 0x30
    assert host.channels["gpio0.ALTFUNCSET"] is ReportChannel.UNIMPLEMENTED
