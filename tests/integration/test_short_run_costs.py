"""A short run's fixed costs (issue 16, tenth round): what each cut leaves of the run's figures.

- The polling watch copies and compares only the RAM pages ever touched (``poll._ram_copy``: /proc/self/pagemap); a
  page never touched reads as zeros, so a page touched after the copy is compared with zeros.
- A model's register-file entries come from one record per process (``bus._layout``): the next machine of the part
  makes the same entries (names, addresses, stores, indices, masks) without working them out again.
- Reports of unmodelled registers and semihosting calls keep the hot path's arming (``Machine.guard_host``).

Each must leave every figure of the run as it was (the run JSON but wall times), native and against the Python hot
path (``native=False``).
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore import bus as bus_mod
from simcore import poll
from simcore.api import prepare, run_machine
from simcore.cortexm.system import SystemBlock
from simcore.machine import Machine, host_buffer
from simcore.peripherals import generic
from simcore.peripherals.nrf52.uarte import Nrf52Uarte
from tests.conftest import elf, figures

PAGE = poll._PAGE
OWN = ("native_hot_path", "polling", "cycles_error_bar")  # the Python hot path's own figures of how it got there


def _figures(board: str, app: str, **kw: Any) -> tuple[dict[str, Any], Machine]:
    m = prepare(elf(board, app), board, **kw)
    return figures(run_machine(m), drop=()), m


def test_ram_pages_never_touched_are_compared_as_zeros() -> None:
    ram = host_buffer(16 * PAGE)
    ram[PAGE + 5] = 7
    assert poll._touched_runs(ram) == [(PAGE, 2 * PAGE)]
    kept = poll._ram_copy(ram)
    assert [(lo, hi, bytes(data)) for lo, hi, data in kept] == [(PAGE, 2 * PAGE, bytes(ram[PAGE:2 * PAGE]))]
    assert poll._ram_same(kept, ram)
    ram[9 * PAGE + 1] = 1  # a page touched after the copy, no longer zero
    assert not poll._ram_same(kept, ram)
    ram[9 * PAGE + 1] = 0  # touched, zero again: the same memory
    assert poll._ram_same(kept, ram)
    ram[PAGE + 6] = 1  # a kept page changed
    assert not poll._ram_same(kept, ram)


def _touched_in_child(queue: Any) -> None:
    ram = host_buffer(8 * PAGE)
    ram[3 * PAGE] = 1
    queue.put(poll._touched_runs(ram))


def test_a_forked_worker_reads_its_own_page_map() -> None:
    """``simcore test -j`` forks its workers: the parent's open page map describes the parent's pages, not the
    child's (whose RAM buffers are new mappings), so the child opens its own."""
    import multiprocessing

    assert poll._touched_runs(host_buffer(PAGE)) == []  # the parent's map is open
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_touched_in_child, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(60)
    assert got == [(3 * PAGE, 4 * PAGE)]


@pytest.mark.parametrize(("board", "app"), [("nrf52840", "nrf_nvmc"), ("nrf52840", "svd_probe"),
                                            ("stm32f407vg", "clock_max")])
def test_polling_figures_as_with_whole_ram_copies(board: str, app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[tuple[int, int]] = []  # (bytes kept, size of the RAM)
    own = poll._ram_copy

    def counted(buf: Any) -> Any:
        out = own(buf)
        copied.append((len(out) if isinstance(out, bytearray) else sum(hi - lo for lo, hi, _ in out), len(buf)))
        return out

    monkeypatch.setattr(poll, "_ram_copy", counted)
    pages, _ = _figures(board, app)
    assert copied and all(kept < size // 4 for kept, size in copied)  # the touched pages only
    assert pages["polling"]["fast_forwards"] > 0
    copied.clear()
    monkeypatch.setattr(poll, "_touched_runs", lambda buf: None)  # every copy a whole one, as before
    whole, _ = _figures(board, app)
    assert copied and all(kept == size for kept, size in copied)
    assert whole == pages


def test_model_entries_made_from_one_record_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    board, app = "nrf52840", "nrf_nvmc"
    monkeypatch.setattr(bus_mod, "_LAYOUTS", {})
    first, m1 = _figures(board, app)

    def made(m: Machine) -> list[tuple[Any, ...]]:
        return [(i, e.name, e.addr, e.store, type(e.model).__name__, e.plain, m.bus.rf.reg(i))
                for i, e in sorted(m.bus.entries.items())]

    def no_plain(*args: Any, **kw: Any) -> Any:
        raise AssertionError("plain registers worked out again")

    monkeypatch.setattr(bus_mod, "plain_registers", no_plain)
    monkeypatch.setattr(generic, "plain_registers", no_plain)
    second, m2 = _figures(board, app)
    assert second == first
    assert made(m2) == made(m1) and len(m2.bus.entries) > 150  # its three models: NVMC, RNG, UARTE0 (+ UART0)


@pytest.mark.parametrize(("board", "app"), [("nrf52840", "calib_core"), ("nrf52840", "svd_probe"),
                                            ("stm32f407vg", "calib_core"), ("stm32f407vg", "svd_probe")])
def test_reports_and_semihosting_calls_keep_the_arming(board: str, app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    armed = [0]
    own = SystemBlock.arm_native

    def counted(self: SystemBlock) -> None:
        armed[0] += 1
        own(self)

    monkeypatch.setattr(SystemBlock, "arm_native", counted)
    # every semihosting call and console line through Python (test_uarte_start_in_c.py has them in C)
    monkeypatch.setattr(Machine, "ELAPSED_IN_C", False)
    monkeypatch.setattr(Nrf52Uarte, "TX_START_IN_C", False)
    _figures(board, app)  # the block cache filled first: a cold cache's fresh analyses re-arm (svd_probe: 14 - 7 < 8)
    armed[0] = 0
    kept, _ = _figures(board, app)
    n_kept = armed[0]
    armed[0] = 0
    monkeypatch.setattr(Machine, "guard_host", Machine.guard)  # re-armed after each, as before
    full, _ = _figures(board, app)
    assert full == kept
    # calib_core: 68 SYS_ELAPSED calls (on the nRF52840 about half of them come after C delivered an interrupt or
    # returned from one, which re-arms anyway); svd_probe: 10 unmodelled registers' first accesses
    assert armed[0] - n_kept >= {"calib_core": 60 if board == "stm32f407vg" else 30, "svd_probe": 8}[app]
    monkeypatch.undo()
    twin, _ = _figures(board, app, native=False)
    assert {k: v for k, v in twin.items() if k not in OWN} == {k: v for k, v in kept.items() if k not in OWN}
