"""nRF52840 UARTE (PS v1.7 6.34): EasyDMA transmit and receive paced at the baud rate, on a fake clock."""

from __future__ import annotations

from pathlib import Path

from tests.unit.nrf52_fakes import Part

STARTRX, STOPRX, STARTTX, STOPTX, FLUSHRX = 0x000, 0x004, 0x008, 0x00C, 0x02C
RXDRDY, ENDRX, TXDRDY, ENDTX, RXTO, RXSTARTED, TXSTARTED, TXSTOPPED = (0x108, 0x110, 0x11C, 0x120, 0x144, 0x14C,
                                                                      0x150, 0x158)
SHORTS, INTENSET, ENABLE, BAUDRATE, CONFIG = 0x200, 0x304, 0x500, 0x524, 0x56C
RXD_PTR, RXD_MAXCNT, RXD_AMOUNT, TXD_PTR, TXD_MAXCNT, TXD_AMOUNT = 0x534, 0x538, 0x53C, 0x544, 0x548, 0x54C
B115200 = 0x01D7E000
RAM = 0x20000000
FS = 10**15


def _frame_fs(register: int = B115200, bits: int = 10) -> int:
    """A frame of ``bits`` bits at the baud rate BAUDRATE x 16 MHz / 2^32 (PS 6.34, BAUDRATE)."""
    return round(bits * FS * 2**32 / (register * 16e6))


def _enable(part: Part, name: str = "uarte0") -> None:
    part.write(name, ENABLE, 8)
    part.write(name, BAUDRATE, B115200)


def _cycle(fs: int) -> int:
    return -(-fs * 64_000_000 // FS)


def test_transmit_is_paced_at_the_baud_rate() -> None:
    part = Part()
    _enable(part)
    part.host.ram[0:12] = b"hello world\n"
    part.write("uarte0", TXD_PTR, RAM)
    part.write("uarte0", TXD_MAXCNT, 12)
    part.write("uarte0", STARTTX, 1)
    assert part.read("uarte0", TXSTARTED) == 1 and part.read("uarte0", ENDTX) == 0
    assert part.host.console == [(b"hello world\n", "uarte0")]  # taken by EasyDMA at once
    part.host.advance_to(part.host.next_event_cycle())
    assert part.read("uarte0", ENDTX) == 1 and part.read("uarte0", TXD_AMOUNT) == 12
    assert part.host.cycles == _cycle(12 * _frame_fs())  # 12 frames of 10 bits at 115200 baud: 1.04 ms
    part.write("uarte0", STOPTX, 1)
    assert part.read("uarte0", TXSTOPPED) == 1


def test_txdrdy_per_byte_when_its_interrupt_is_enabled_and_two_stop_bits_with_parity() -> None:
    part = Part()
    _enable(part, "uarte1")
    part.write("uarte1", CONFIG, (7 << 1) | (1 << 4))  # parity included, two stop bits: 12-bit frames
    part.write("uarte1", INTENSET, 1 << 7)  # TXDRDY
    part.host.ram[0:3] = b"abc"
    part.write("uarte1", TXD_PTR, RAM)
    part.write("uarte1", TXD_MAXCNT, 3)
    part.write("uarte1", STARTTX, 1)
    rises = []
    for _ in range(3):
        part.host.advance_to(part.host.next_event_cycle())
        rises.append(part.host.cycles)
        part.write("uarte1", TXDRDY, 0)
    assert rises == [_cycle(k * _frame_fs(bits=12)) for k in (1, 2, 3)]
    assert part.read("uarte1", ENDTX) == 1


def test_receive_from_an_input_file_with_endrx_startrx(tmp_path: Path) -> None:
    data = tmp_path / "in.bin"
    data.write_bytes(b"ABCDEFG")
    part = Part({"uarte0": {"input": str(data)}})
    _enable(part)
    part.write("uarte0", SHORTS, 1 << 5)  # ENDRX_STARTRX: double buffering
    part.write("uarte0", RXD_PTR, RAM + 0x100)
    part.write("uarte0", RXD_MAXCNT, 4)
    part.write("uarte0", STARTRX, 1)
    assert part.read("uarte0", RXSTARTED) == 1
    part.write("uarte0", RXD_PTR, RAM + 0x200)  # the next buffer, as drivers do after RXSTARTED
    while not part.read("uarte0", ENDRX):
        part.host.advance_to(part.host.next_event_cycle())
    assert part.host.cycles == _cycle(4 * _frame_fs()) and part.read("uarte0", RXD_AMOUNT) == 4
    assert bytes(part.host.ram[0x100:0x104]) == b"ABCD"
    part.write("uarte0", ENDRX, 0)
    part.advance_us(1000)  # the last three bytes arrive in the second buffer, which is not full
    assert bytes(part.host.ram[0x200:0x203]) == b"EFG" and part.read("uarte0", ENDRX) == 0
    part.write("uarte0", STOPRX, 1)
    part.host.advance_to(part.host.next_event_cycle())
    assert part.read("uarte0", ENDRX) == 1 and part.read("uarte0", RXTO) == 1
    assert part.read("uarte0", RXD_AMOUNT) == 3
    assert part["uarte0"].sensor_stats()["rx_bytes"] == 7


def test_input_waits_while_the_receiver_is_stopped(tmp_path: Path) -> None:
    data = tmp_path / "in.bin"
    data.write_bytes(b"xy")
    part = Part({"uarte0": {"input": str(data)}})
    _enable(part)
    part.advance_us(5000)  # nothing arrives before STARTRX
    part.write("uarte0", RXD_PTR, RAM)
    part.write("uarte0", RXD_MAXCNT, 2)
    part.write("uarte0", STARTRX, 1)
    part.advance_us(1000)
    assert bytes(part.host.ram[0:2]) == b"xy" and part.read("uarte0", ENDRX) == 1
    part.write("uarte0", FLUSHRX, 1)
    assert part.read("uarte0", RXD_AMOUNT) == 0


def test_easydma_outside_data_ram_and_disabled_uarte_are_firmware_errors() -> None:
    part = Part()
    part.write("uarte0", STARTTX, 1)
    assert "UARTE0.TASKS_STARTTX" in part.host.unmodelled and part.read("uarte0", TXSTARTED) == 0
    _enable(part)
    part.write("uarte0", TXD_PTR, 0x00001000)  # flash: EasyDMA cannot read it
    part.write("uarte0", TXD_MAXCNT, 4)
    part.write("uarte0", STARTTX, 1)
    assert "UARTE0.TXD.PTR" in part.host.unmodelled and part.host.console == []
