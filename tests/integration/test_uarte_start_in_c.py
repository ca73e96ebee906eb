"""An nRF52 UARTE's TASKS_STARTTX served in C (hotpath.c hp_uarte_start; Machine._arm_uarte, settle_uarte).

A console line through UARTE0 (firmware/common/console_nrf52_uarte.c) is TXD.PTR, TXD.MAXCNT, TASKS_STARTTX and a
poll of EVENTS_ENDTX: everything but STARTTX was served by the register file already, and the end of the transfer was
applied in C at its cycle (test_events_applied_in_c.py). With the events' interrupts off and no shortcut or PPI route
on them, C now serves STARTTX too: it takes the bytes from Data RAM into a buffer, sets what the model would set and
plans the end at the cycle the baud rate gives; Python's next sync hands the model its transfers in order, as of
their cycles, and the console the bytes. The guest and the report must be exactly as with STARTTX through the model
(``TX_START_IN_C = False``) and with the Python hot path (``native=False``): the run JSON but wall times, the console
bytes, each transfer's start and end cycles and TXD.AMOUNT; a snapshot taken while a transfer C started is under way,
restored twice, must end as the plain run.
"""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.hotpath import NEVER
from simcore.machine import Machine
from simcore.peripherals.nrf52.uarte import EV_ENDTX, Nrf52Uarte
from simcore.snapshot import Snapshot
from tests.conftest import elf, figures
from tests.integration.test_wfi_wake_in_c import pause_after_settled

BOARD = "nrf52840"
OWN = ("native_hot_path", "polling", "cycles_error_bar")  # the Python hot path's own figures of how it got there


def _run(app: str, board: str = BOARD, **kw: Any) -> tuple[dict[str, Any], Machine, list[tuple[Any, ...]]]:
    """The run's JSON (no wall times), its machine, and the UARTE's transfers as the model recorded them: ("start",
    cycle, start time in fs, bytes) and ("end", cycle, TXD.AMOUNT), in order."""
    log: list[tuple[Any, ...]] = []
    m = prepare(elf(board, app), board, **kw)
    u = m.peripheral("uarte0")
    own_start, own_c, own_end = u.task_STARTTX, u.tx_started_in_c, u._tx_end
    own_applied = u._tx_applied

    def started() -> None:
        own_start()
        log.append(("start", m.hot.state.cycle_count, u._tx_start_fs, u._tx_count))

    def started_in_c(data: bytes, ended: bool) -> None:
        own_c(data, ended)
        log.append(("start", m.hot.state.cycle_count, u._tx_start_fs, u._tx_count))

    def ended() -> None:
        own_end()
        log.append(("end", m.hot.state.cycle_count, u.values["TXD_AMOUNT"]))

    def applied(n: int) -> None:
        own_applied(n)
        log.append(("end", m.hot.state.cycle_count, u.values["TXD_AMOUNT"]))

    u.task_STARTTX, u.tx_started_in_c, u._tx_end, u._tx_applied = started, started_in_c, ended, applied
    u._tasks = {i: u._bind_task(name) for i, name in u.task_names.items()}  # (bound at construction)
    r = run_machine(m)
    return figures(r, drop=()), m, log


@pytest.mark.parametrize(("app", "at_least"), [("calib_core", 35), ("nrf_nvmc", 3), ("svd_probe", 2),
                                               ("calib_flash", 6), ("semihost_exit", 1), ("nested", 2),
                                               ("nrf_uarte", 1)])
def test_starttx_in_c_keeps_the_run_the_console_and_each_transfers_cycles(app: str, at_least: int,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fast, m, log = _run(app)
    assert fast["stop"]["kind"] == "exit" and fast["exit_status"] == 0
    assert m.uarte_starts_in_c >= at_least and m._ux is not None and m._ux.n == 0  # every transfer settled
    assert sum(1 for e in log if e[0] == "start") >= m.uarte_starts_in_c
    monkeypatch.setattr(Nrf52Uarte, "TX_START_IN_C", False)  # the path off: every STARTTX through the model
    slow, m2, log2 = _run(app)
    assert m2.uarte_starts_in_c == 0
    assert slow == fast and log2 == log
    assert m2.console == m.console and m2.peripheral("uarte0").stats == m.peripheral("uarte0").stats
    monkeypatch.undo()
    twin, m3, log3 = _run(app, native=False)  # the Python hot path and register file: no C at all
    assert m3._ux is None and m3.uarte_starts_in_c == 0
    assert {k: v for k, v in twin.items() if k not in OWN} == {k: v for k, v in fast.items() if k not in OWN}
    assert log3 == log and m3.console == m.console


def test_the_nano_33_ble_sense_console_too() -> None:
    fast, m, log = _run("hello", "arduino-nano-33-ble-sense")
    assert m.uarte_starts_in_c >= 1
    slow, _m2, log2 = _run("hello", "arduino-nano-33-ble-sense", native=False)
    assert {k: v for k, v in slow.items() if k not in OWN} == {k: v for k, v in fast.items() if k not in OWN}
    assert log2 == log


def test_a_marker_or_an_echo_keeps_starttx_with_the_model() -> None:
    """A pass marker must stop the run at the console write that completes it (and an echo shows the bytes as they
    are sent): the console's bytes cannot wait for Python's next sync, so C serves no STARTTX then."""
    fast, m, _log = _run("calib_core", pass_marker="calib alu")
    assert m._ux is None and fast["stop"]["kind"] == "pass_marker"
    plain, m2, _ = _run("calib_core")
    assert fast["instructions"] < plain["instructions"]
    assert m2.uarte_starts_in_c == 35


def test_the_plan_follows_what_the_model_must_see() -> None:
    """tx_start_plan is None while anything but the event registers would see the transfer's events (ENDTX's
    interrupt on), and made again after the access that changed it."""
    _fast, m, _log = _run("hello")
    u = m.peripheral("uarte0")
    plan = u.tx_start_plan()
    assert plan is not None and plan.task_addr == u.base + 0x008 and u.tx_start_plan() is plan  # cached
    assert plan.end_ops and all(index in (*u._held.values(), u._c_stop[0]) for _kind, index, _v in plan.end_ops)
    u.write(0x304, 4, 1 << EV_ENDTX)  # INTENSET.ENDTX
    assert u.tx_start_plan() is None
    u.write(0x308, 4, 1 << EV_ENDTX)  # INTENCLR.ENDTX: the model keeps ENDTX until its next access
    ended = u.tx_start_plan()
    assert ended is not None and len(ended.end_ops) == len(plan.end_ops) - 1
    u.read(0x120, 4)  # EVENTS_ENDTX: held by the register file again
    again = u.tx_start_plan()
    assert again is not None and again.end_ops == plan.end_ops and again.start_ops == plan.start_ops


def test_c_takes_only_what_data_ram_holds_and_ends_where_the_timeline_says() -> None:
    """hp_uarte_start (called as the register file calls it, on a machine whose run is over and armed by hand) leaves
    to the model -- which reports the firmware's error -- a pointer outside Data RAM or running past its end, a count
    of 0; a good one it logs with the bytes of RAM and plans the end where Timeline.cycle_at puts it."""
    m = prepare(elf(BOARD, "hello"), BOARD)
    run_machine(m)
    u, ux, s, rf = m.peripheral("uarte0"), m._ux, m.hot.state, m.bus.rf
    assert ux is not None
    m._arm_uarte(ux)
    plan = u.tx_start_plan()
    assert plan is not None and ux.on == 1 and ux.plan_id == plan.serial
    hp_ack = m.hot.lib.hp_ack
    hp_ack.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64]
    hp_ack.restype = ctypes.c_int

    def start(ptr: int, count: int) -> int:
        rf.set_value(plan.ptr_store, ptr)
        rf.set_value(plan.max_store, count)
        s.ap_cycle, s.wk_cycle, s.stop_cycle, s.ch_n, s.other_cycle = NEVER, NEVER, NEVER - 1, 0, 0
        s.stop_requested = s.py_stop = s.fr_done = 0
        return int(hp_ack(ctypes.addressof(s), plan.task_addr, 4, 1))

    for ptr, count in ((0x30000000, 8), (0x2003FFFC, 8), (0x20050000, 1), (0x1FFFFFFF, 2), (0x20000000, 0)):
        assert start(ptr, count) == 0
    assert ux.n == 0 and s.ap_cycle == NEVER
    assert start(0x20000100, 24) == 1
    assert ux.n == 1 and ux.count[0] == 24 and ux.start_cycle[0] == s.cycle_count and ux.planned == 1
    assert bytes(ux.buf[:24]) == m.mem_read(0x20000100, 24) and s.fr_done == 64
    assert s.ap_cycle == s.stop_cycle == m.cycle_at_fs(m.now_fs() + 24 * plan.frame_fs)
    assert s.ap_after == NEVER - 1 and s.ap_n == len(plan.end_ops)
    ux.n = ux.len = ux.planned = 0


@pytest.mark.parametrize(("board", "app", "at_least"), [("nrf52840", "calib_core", 68),
                                                        ("stm32f407vg", "calib_core", 68),
                                                        ("cortex-m4", "calib_flash", 10)])
def test_sys_elapsed_in_c_writes_what_python_writes(board: str, app: str, at_least: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Semihosting SYS_ELAPSED served in C (hp_semi_elapsed): the same cycle counts in the firmware's buffers (its
    console prints the differences), registers, counts and the same call counts as through Python."""
    def run(**kw: Any) -> tuple[dict[str, Any], Machine]:
        m = prepare(elf(board, app), board, **kw)
        return figures(run_machine(m), drop=()), m

    fast, m = run()
    assert m.hot.state.sh_elapsed == m.semihosting.calls["ELAPSED"] >= at_least
    monkeypatch.setattr(Machine, "ELAPSED_IN_C", False)
    slow, m2 = run()
    assert m2.hot.state.sh_elapsed == 0 and m2.semihosting.calls == m.semihosting.calls
    assert slow == fast
    monkeypatch.undo()
    twin, m3 = run(native=False)
    assert m3.semihosting.calls == m.semihosting.calls
    assert {k: v for k, v in twin.items() if k not in OWN} == {k: v for k, v in fast.items() if k not in OWN}


def test_a_snapshot_with_a_transfer_under_way_restored_twice_ends_as_the_plain_run() -> None:
    plain, _m, log = _run("calib_core")
    m = pause_after_settled(prepare(elf(BOARD, "calib_core"), BOARD), "settle_uarte", 1, "UARTE transfer")
    u = m.peripheral("uarte0")
    assert u._tx_event is not None  # the transfer C started is under way: its end is the model's event now
    at_pause = m.uarte_starts_in_c
    snap = Snapshot.take(m)
    assert figures(run_machine(m), drop=()) == plain and m.uarte_starts_in_c == 35
    for _ in range(2):
        snap.restore(m)
        assert m.uarte_starts_in_c == at_pause and m.peripheral("uarte0")._tx_event is not None
        assert figures(run_machine(m), drop=()) == plain
        assert m.uarte_starts_in_c == 35 and m._ux is not None and m._ux.n == 0
    assert log
