"""nRF52840 TWIM and SPIM (PS v1.7 6.31, 6.25) driving chips of simcore/devices through their registers."""

from __future__ import annotations

from simcore.devices.base import DeviceConfig
from simcore.devices.lis3dh import Lis3dh
from tests.unit.nrf52_fakes import Part
from tests.unit.test_devices_bus import _NackAfter

RAM = 0x20000000
FS = 10**15
# TWIM
STARTRX, STARTTX, STOP = 0x000, 0x008, 0x014
STOPPED, ERROR, RXSTARTED, TXSTARTED, LASTRX, LASTTX = 0x104, 0x124, 0x14C, 0x150, 0x15C, 0x160
SHORTS, ERRORSRC, ENABLE, FREQUENCY, ADDRESS = 0x200, 0x4C4, 0x500, 0x524, 0x588
RXD_PTR, RXD_MAXCNT, RXD_AMOUNT, TXD_PTR, TXD_MAXCNT, TXD_AMOUNT = 0x534, 0x538, 0x53C, 0x544, 0x548, 0x54C
K400 = 0x06400000
LASTTX_STARTRX, LASTRX_STOP = 1 << 7, 1 << 12


def _bit_fs(register: int) -> int:
    return round(FS / ((register & 0xFFFFF000) * 16e6 / 2**32))  # FREQUENCY x 16 MHz / 2^32


def _wait(part: Part, name: str, offset: int) -> int:
    while not part.read(name, offset):
        nxt = part.host.next_event_cycle()
        assert nxt is not None, f"{name}+{offset:#x} never set"
        part.host.advance_to(nxt)
    return part.host.now_fs()


def _twim_read(part: Part, address: int, reg: int, n: int) -> bytes:
    """A register read as nrfx_twim does it: TX the sub-address, repeated START, RX n bytes, STOP."""
    part.host.ram[0] = reg
    part.write("twim1", ADDRESS, address)
    part.write("twim1", TXD_PTR, RAM)
    part.write("twim1", TXD_MAXCNT, 1)
    part.write("twim1", RXD_PTR, RAM + 0x10)
    part.write("twim1", RXD_MAXCNT, n)
    part.write("twim1", SHORTS, LASTTX_STARTRX | LASTRX_STOP)
    part.write("twim1", STARTTX, 1)
    return bytes(part.host.ram[0x10:0x10 + n])


def test_twim_reads_a_chip_register_with_the_shortcuts() -> None:
    part = Part()
    chip = Lis3dh(DeviceConfig("accel", "lis3dh", "twim1", address=0x19), part.host)
    part["twim1"].bus.attach(chip, 0x19)
    part.write("twim1", ENABLE, 6)
    part.write("twim1", FREQUENCY, K400)
    t0 = part.host.now_fs()
    _twim_read(part, 0x19, 0x0F, 1)  # WHO_AM_I
    assert part.read("twim1", TXSTARTED) == 1
    stopped = _wait(part, "twim1", STOPPED)
    assert part.host.ram[0x10] == 0x33  # LIS3DH WHO_AM_I
    assert part.read("twim1", LASTTX) == part.read("twim1", LASTRX) == part.read("twim1", RXSTARTED) == 1
    assert part.read("twim1", TXD_AMOUNT) == 1 == part.read("twim1", RXD_AMOUNT)
    bit = _bit_fs(K400)
    # on the wire: START + address 10, register 9, repeated START + address 10, data 9, STOP 2 bit periods
    assert stopped - t0 - (10 + 9 + 10 + 9 + 2) * bit in range(0, 3 * 10**7)
    assert part["twim1"].sensor_stats()["transactions"] == 2


def test_twim_on_an_empty_bus_gets_an_address_nack() -> None:
    part = Part()
    part.write("twim0", ENABLE, 6)
    part.write("twim0", 0x304, 1 << 9)  # INTENSET ERROR
    _twim_read.__wrapped__ if hasattr(_twim_read, "__wrapped__") else None
    part.write("twim0", ADDRESS, 0x6B)
    part.write("twim0", TXD_PTR, RAM)
    part.write("twim0", TXD_MAXCNT, 1)
    part.write("twim0", STARTTX, 1)
    _wait(part, "twim0", ERROR)
    assert part.read("twim0", ERRORSRC) == 0b10  # ANACK
    assert part.host.irq_levels[3] is True and part.read("twim0", LASTTX) == 0
    part.write("twim0", ERRORSRC, 0b10)  # write 1 to clear
    assert part.read("twim0", ERRORSRC) == 0
    part.write("twim0", STOP, 1)
    _wait(part, "twim0", STOPPED)
    assert part["twim0"].bus.nacked == {0x6B: 1}


def test_twim_disabled_is_a_firmware_error() -> None:
    part = Part()
    part.write("twim0", STARTTX, 1)
    assert "TWIM0.TASKS_STARTTX" in part.host.unmodelled


# SPIM
START = 0x010
END, ENDRX, ENDTX, STARTED = 0x118, 0x110, 0x120, 0x14C
CONFIG, ORC = 0x554, 0x5C0
M8 = 0x80000000
CS_PIN = 20


def test_spim_exchanges_bytes_with_a_selected_chip() -> None:
    part = Part()
    chip = Lis3dh(DeviceConfig("accel", "lis3dh", "spim2", cs="p0.20"), part.host)
    part["spim2"].bus.attach(chip, part["p0"].line(CS_PIN))
    part.write("p0", 0x008, 1 << CS_PIN)  # OUTSET: CS high (idle)
    part.write("p0", 0x018, 1 << CS_PIN)  # DIRSET: an output
    part.write("spim2", ENABLE, 7)
    part.write("spim2", FREQUENCY, M8)
    part.write("spim2", CONFIG, 0b110)  # CPOL 1, CPHA 1: mode 3
    part.write("spim2", ORC, 0x00)
    part.host.ram[0] = 0x80 | 0x0F  # read WHO_AM_I
    part.write("spim2", TXD_PTR, RAM)
    part.write("spim2", TXD_MAXCNT, 1)  # one byte out, then ORC
    part.write("spim2", RXD_PTR, RAM + 0x20)
    part.write("spim2", RXD_MAXCNT, 2)
    part.write("p0", 0x00C, 1 << CS_PIN)  # OUTCLR: select
    t0 = part.host.now_fs()
    part.write("spim2", START, 1)
    assert part.read("spim2", STARTED) == 1
    end = _wait(part, "spim2", END)
    part.write("p0", 0x008, 1 << CS_PIN)
    assert part.host.ram[0x21] == 0x33
    assert part.read("spim2", ENDTX) == part.read("spim2", ENDRX) == 1
    assert part.read("spim2", RXD_AMOUNT) == 2 and part.read("spim2", TXD_AMOUNT) == 1
    assert end - t0 - 2 * 8 * FS // 8_000_000 in range(0, 2 * 10**7)  # 16 bits at 8 MHz


def test_spim_with_no_chip_selected_reads_ff() -> None:
    part = Part()
    part.write("spim3", ENABLE, 7)
    part.write("spim3", RXD_PTR, RAM)
    part.write("spim3", RXD_MAXCNT, 3)
    part.write("spim3", START, 1)
    _wait(part, "spim3", END)
    assert bytes(part.host.ram[0:3]) == b"\xff\xff\xff"


def test_twim_data_nack_ends_the_transfer_at_that_byte() -> None:
    """PS 6.31.7: a NACKed data byte sets ERRORSRC.DNACK and EVENTS_ERROR; TXD.AMOUNT counts the bytes sent
    including the NACKed one, nothing after it goes out, and the error comes when that byte has ended."""
    part = Part()
    target = _NackAfter(2)
    part["twim1"].bus.attach(target, 0x30)  # type: ignore[arg-type]
    part.write("twim1", ENABLE, 6)
    part.write("twim1", FREQUENCY, K400)
    part.host.ram[0:5] = b"\x10\x11\x12\x13\x14"
    part.write("twim1", ADDRESS, 0x30)
    part.write("twim1", TXD_PTR, RAM)
    part.write("twim1", TXD_MAXCNT, 5)
    t0 = part.host.now_fs()
    part.write("twim1", STARTTX, 1)
    at = _wait(part, "twim1", ERROR)
    assert part.read("twim1", ERRORSRC) == 0b100  # DNACK
    assert part.read("twim1", TXD_AMOUNT) == 3 and bytes(target.got) == b"\x10\x11"
    assert part.read("twim1", LASTTX) == 0
    assert at - t0 - (10 + 9 * 3) * _bit_fs(K400) in range(0, 3 * 10**7)
