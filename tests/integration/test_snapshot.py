"""simcore.snapshot: boot once, save, restore many times; counts after a restore equal a fresh run."""

from __future__ import annotations

import capstone
import pytest

from simcore.api import prepare
from simcore.debug import Debugger
from simcore.snapshot import Snapshot
from tests.conftest import elf
from tests.integration.test_debug import figures, plain

CASES = [("stm32f407vg", "systick", "SysTick_Handler", {}),
         ("stm32l4r5zi", "scheduler", "PendSV_Handler", {}),
         ("cortex-m4", "audio_events", "main", {"sensors": {"mic": "examples/data/audio_events_16k.wav"}})]


@pytest.mark.parametrize("board,app,func,kw", CASES, ids=[c[1] for c in CASES])
def test_restore_gives_the_counts_of_a_fresh_run(board, app, func, kw):
    ref = plain(board, app, **kw)
    m = prepare(elf(board, app), board, **kw)
    boot = Snapshot.take(m)
    m.run()
    assert figures(m) == ref
    for _ in range(2):
        boot.restore(m)
        assert m.instructions == 0 and m.stop is None and not m.console
        m.run()
        assert figures(m) == ref


@pytest.mark.parametrize("board,app,func,kw", CASES[:2], ids=[c[1] for c in CASES[:2]])
def test_restore_to_a_pause_inside_a_block_continues_exactly(board, app, func, kw):
    ref = plain(board, app, **kw)
    m = prepare(elf(board, app), board, **kw)
    d = Debugger(m)
    sym = m.fw.symbol(func)
    cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    second = list(cs.disasm(m.mem_read(sym.addr, 16), sym.addr))[1].address
    d.add_breakpoint(second)  # the handler's second instruction: a pause inside its first block
    for _ in range(3):
        assert d.cont().kind == "breakpoint"
    here = (m.pc(), m.instructions, m.cycles)
    snap = Snapshot.take(m)
    d.clear()
    d.cont()
    assert figures(m) == ref
    snap.restore(m)
    assert (m.pc(), m.instructions, m.cycles) == here and m.stop is None
    d.cont()
    assert figures(m) == ref


def test_restore_rolls_back_ram_and_peripherals():
    m = prepare(elf("stm32f407vg", "systick"), "stm32f407vg")
    d = Debugger(m)
    d.add_breakpoint(m.fw.symbol("SysTick_Handler").addr)
    d.cont()
    ticks = m.fw.symbol("ticks").addr
    snap = Snapshot.take(m)
    before = (m.mem_read(ticks, 4), m.system.systick.ctrl, len(m.console), m.cycles)
    for _ in range(5):
        d.cont()
    assert m.mem_read(ticks, 4) != before[0]
    snap.restore(m)
    assert (m.mem_read(ticks, 4), m.system.systick.ctrl, len(m.console), m.cycles) == before


# --- parts with the SVD peripheral bus (C register file) and the clock model (RCC, FLASH, PWR, IWDG) ---
def run_json(m) -> dict:
    """Everything ``--json`` reports about the run but the wall time, and the per-block executions."""
    from simcore.api import result_of

    d = result_of(m, m.stop, 0.0).to_dict()
    d.pop("wall_seconds")
    d["executions"] = m.hot.block_executions()
    d["bus"] = {e.name: (i, m.bus.rf.reg(i), m.bus.rf.value(e.store)) for i, e in sorted(m.bus.entries.items())}
    return d


def plain_json(board: str, app: str, **kw) -> dict:
    m = prepare(elf(board, app), board, **kw)
    m.run()
    return run_json(m)


def _assert_restores_twice(m, d, ref: dict) -> None:
    """A snapshot of paused machine ``m`` (debugger ``d``); running on, and twice more after restoring it, ends with
    ``ref`` (run_json)."""
    snap = Snapshot.take(m)
    d.cont()
    assert run_json(m) == ref
    for _ in range(2):
        snap.restore(m)
        d.cont()
        assert run_json(m) == ref


BUS_CASES = [("stm32f407vg", "clock_max", "SysTick_Handler", 2, ""),  # HSE -> PLL 168 MHz, 5 wait states
             ("stm32l4r5zi", "clock_max", "SysTick_Handler", 2, ""),  # MSI -> PLL 120 MHz boost
             ("stm32f407vg", "watchdog", "main", 2, ""),  # after the IWDG reset the part: resets, RCC_CSR flags
             ("stm32f407vg", "poll_wait", "SysTick_Handler", 2, "hal"),  # polls fast-forwarded to the HSE
             ("stm32f407vg", "poll_wait", "main", 1, "ramcount"),  # the poll watch's RAM hooks
             ("stm32f407vg", "svd_probe", "main", 1, ""),  # plain SVD registers built by the bus after the save
             ("stm32f407vg", "hello", "main", 1, ""),
             # before the NVMC's READY schedule in the register file was made (its first erase): asked again after
             # the restore, the schedule must serve READY in C as in a fresh run (its entry's TIMED flag set again)
             ("nrf52840", "nrf_nvmc", "console_write", 1, "")]


@pytest.mark.parametrize("native", [None, False], ids=["native", "python"])
@pytest.mark.parametrize("board,app,func,nth,mode", BUS_CASES, ids=[f"{c[0]}-{c[1]}{c[4]}" for c in BUS_CASES])
def test_restore_on_parts_with_the_bus_and_clock_model(board, app, func, nth, mode, native):
    """Boot snapshot, and a snapshot at the ``nth`` hit of ``func`` (before the clocks, the flash latency,
    the registers touched or the watchdog changed); each restored and run to the end gives the fresh
    run's JSON (counts, clock timeline, energy, resets, polling, reports) and register-file counters."""
    kw = {"native": native, "cmdline": f"{app}.elf {mode}"}
    ref = plain_json(board, app, **kw)
    m = prepare(elf(board, app), board, **kw)
    boot = Snapshot.take(m)
    m.run()
    assert run_json(m) == ref
    boot.restore(m)
    m.run()
    assert run_json(m) == ref

    boot.restore(m)
    d = Debugger(m)
    d.add_breakpoint(m.fw.symbol(func).addr)
    hits = 0
    while hits < nth and m.stop is None:
        if d.cont().kind == "breakpoint":
            hits += 1
    assert m.stop is None
    d.clear()
    _assert_restores_twice(m, d, ref)


@pytest.mark.parametrize("native", [None, False], ids=["native", "python"])
def test_restore_before_the_polling_watch_learnt_its_loops(monkeypatch: pytest.MonkeyPatch, native):
    """A snapshot taken before the polling watch learnt the loops it fast-forwards later (the IoT node's first I2C
    register write, at start-up, with the LSM6DSL fed): each restored run enters every block as often as a fresh
    run and reports its polling figures. C's table of learnt shapes is rolled back with Python's record of it;
    without that, a restored run fast-forwards an I2C wait loop one iteration earlier (same instructions, one
    execution fewer of each of its blocks)."""
    from simcore.debug import Pause
    from simcore.peripherals.stm32.i2c import Stm32L4I2c
    from tests.integration.test_i2c_stream_in_c import APP, BOARD, CMDLINE, SENSORS

    kw = {"native": native, "cmdline": CMDLINE, "sensors": SENSORS}
    ref = plain_json(BOARD, "imu_steps_bus", **kw)
    m = prepare(APP, BOARD, **kw)
    d = Debugger(m)
    own = Stm32L4I2c._try_tx

    def first(self: Stm32L4I2c, *args: object) -> None:
        own(self, *args)
        monkeypatch.setattr(Stm32L4I2c, "_try_tx", own)
        m.request_pause(Pause("interrupt", "the first I2C write", pc=None))

    monkeypatch.setattr(Stm32L4I2c, "_try_tx", first)
    assert d.cont().kind == "interrupt"
    _assert_restores_twice(m, d, ref)


@pytest.mark.parametrize(("board", "sensor"), [("b-l475e-iot01a", "imu"), ("stm32f4-discovery", "accel")])
def test_boot_snapshot_restores_before_the_bus_streams_were_made(board: str, sensor: str) -> None:
    """A snapshot taken before the register file's bus streams (I2C2 RXDR/TXDR, SPI1 DR) and their status schedules
    were made: after the restore the models ask for them again, and they must be made afresh (flags on their
    entries), else the restored run polls the bus through Python and reports other polling figures."""
    from tests.integration.test_i2c_stream_in_c import CSV

    kw = {"sensors": {sensor: (CSV, {"end": "hold", "resample": True})}, "cmdline": "imu_steps_bus.elf frames=100"}
    ref = plain_json(board, "imu_steps_bus", **kw)
    m = prepare(elf(board, "imu_steps_bus"), board, **kw)
    boot = Snapshot.take(m)
    for _ in range(2):
        m.run()
        assert run_json(m) == ref
        assert ref["polling"]["fast_forwards_in_c"] > 0
        boot.restore(m)
