"""nRF52840 FICR/UICR contents (nRF52840 PS v1.7 4.4, 4.5), through reads of the model and of a machine."""

from __future__ import annotations

import struct

from simcore.board import Peripheral, load_board
from simcore.peripherals.nrf52_info import NrfFicr, NrfUicr
from tests.unit.cortexm_fakes import FakeHost


def _ficr() -> NrfFicr:
    return NrfFicr(Peripheral("ficr", "nrf52_ficr", 0x10000000), FakeHost())


def test_ficr_reads_the_product_specification_values() -> None:
    f = _ficr()
    assert f.read(0x010, 4) == 4096  # CODEPAGESIZE
    assert f.read(0x014, 4) == 256  # CODESIZE: 256 pages = 1 MiB
    assert f.read(0x100, 4) == 0x52840  # INFO.PART
    assert f.read(0x10C, 4) == 0x100 and f.read(0x110, 4) == 0x400  # INFO.RAM, INFO.FLASH in KiB
    assert f.read(0x130, 4) == 0x08  # the part identification word Nordic's errata code reads
    assert f.read(0x404, 4) == 0xFFFFF320  # TEMP.A0 calibration from the SVD
    assert f.read(0x800, 4) == 0xFFFFFFFF  # nothing there: erased


def test_device_id_is_deterministic_and_not_erased() -> None:
    a, b = _ficr(), _ficr()
    ids = [a.read(0x60, 4), a.read(0x64, 4)]
    assert ids == [b.read(0x60, 4), b.read(0x64, 4)]
    assert all(i not in (0, 0xFFFFFFFF) for i in ids)


def test_uicr_is_erased_and_writes_are_reported() -> None:
    host = FakeHost()
    u = NrfUicr(Peripheral("uicr", "nrf52_uicr", 0x10001000), host)
    assert u.read(0x200, 4) == 0xFFFFFFFF  # PSELRESET[0] not configured
    assert u.read(0x304, 4) == 0xFFFFFFFF  # REGOUT0 default
    u.write(0x200, 4, 18)
    assert u.read(0x200, 4) == 0xFFFFFFFF and "uicr+0x200" in host.unmodelled


def test_the_nrf52840_board_maps_them_read_only_at_their_addresses() -> None:
    from simcore.elf import load_elf
    from simcore.machine import Machine

    board = load_board("nrf52840")
    m = Machine(board, load_elf("firmware/bin/nrf52840/hello.elf"))
    assert struct.unpack("<I", m.mem_read(0x10000100, 4))[0] == 0x52840
    assert struct.unpack("<I", m.mem_read(0x10001208, 4))[0] == 0xFFFFFFFF  # UICR.APPROTECT
    perms = {start: p for start, _end, p in m.uc.mem_regions()}
    assert perms[0x10000000] == perms[0x10001000] == 1  # UC_PROT_READ
