"""DWT CYCCNT and the ITM on a fake clock."""

from __future__ import annotations

from simcore.cortexm.coredebug import CoreDebug
from simcore.cortexm.dwt import Dwt
from simcore.cortexm.itm import Itm
from tests.unit.cortexm_fakes import FakeHost

DWT_CTRL, CYCCNT, DEMCR = 0xE0001000, 0xE0001004, 0xE000EDFC


def _dwt(host: FakeHost) -> tuple[Dwt, CoreDebug]:
    holder: dict[str, Dwt] = {}
    dbg = CoreDebug(host, lambda: holder["dwt"].trace_changed())
    dwt = Dwt(host, lambda: dbg.trcena)
    holder["dwt"] = dwt
    return dwt, dbg


def test_cyccnt_counts_the_virtual_clock_only_with_both_enables() -> None:
    host = FakeHost()
    dwt, dbg = _dwt(host)
    host.now = 1000
    dwt.write(DWT_CTRL, 4, 1)
    host.now = 2000
    assert dwt.read(CYCCNT, 4) == 0  # TRCENA still off
    dbg.write(DEMCR, 4, 1 << 24)
    host.now = 2500
    assert dwt.read(CYCCNT, 4) == 500
    dwt.write(CYCCNT, 4, 10)
    host.now = 2600
    assert dwt.read(CYCCNT, 4) == 110
    dwt.write(DWT_CTRL, 4, 0)
    host.now = 9000
    assert dwt.read(CYCCNT, 4) == 110
    host.now = (1 << 32) + 9000
    dwt.write(DWT_CTRL, 4, 1)
    host.now += 5
    assert dwt.read(CYCCNT, 4) == 115


def test_cyccnt_wraps_at_32_bits() -> None:
    host = FakeHost()
    dwt, dbg = _dwt(host)
    dbg.write(DEMCR, 4, 1 << 24)
    dwt.write(DWT_CTRL, 4, 1)
    host.now = (1 << 32) + 7
    assert dwt.read(CYCCNT, 4) == 7


def test_dwt_ctrl_read_modify_write_is_not_reported() -> None:
    host = FakeHost()
    dwt, _ = _dwt(host)
    dwt.write(DWT_CTRL, 4, dwt.read(DWT_CTRL, 4) | 1)
    assert host.unmodelled == {}
    dwt.write(DWT_CTRL, 4, 1 << 12)  # PCSAMPLENA: not modelled
    assert "DWT.CTRL" in host.unmodelled


def test_itm_listeners_see_every_stimulus_write_with_its_cycle() -> None:
    host = FakeHost()
    itm = Itm(host)
    seen: list[tuple[int, int, int]] = []
    itm.on_write(lambda port, value, cycle: seen.append((port, value, cycle)))
    host.now = 42
    itm.write(0xE0000000 + 4 * 5, 4, 0xDEADBEEF)
    itm.write(0xE0000000 + 4 * 1 + 1, 1, 0x7F)
    assert seen == [(5, 0xDEADBEEF, 42), (1, 0x7F, 42)]
    assert itm.read(0xE0000000, 4) == 1  # FIFO ready
    assert host.console == b""  # port 0 reaches the console only when enabled
    itm.write(0xE0000E80, 4, 1)  # TCR.ITMENA
    itm.write(0xE0000E00, 4, 1)  # TER port 0
    itm.write(0xE0000000, 1, ord("h"))
    assert host.console == b"h"
