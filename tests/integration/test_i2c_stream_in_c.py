"""I2C read transfers streamed by the register file (XFER, read-driven; simcore/peripherals/stm32/i2c.py), and the
register-address write before each (XFER on TXDR: TXIS, the byte, TC), give the run the model's own byte events
give: imu_steps_bus on the B-L475E-IOT01A (LSM6DSL on I2C2, FIFO drains of 150 bytes) with the stream in C, in the
Python twin and switched off has the same JSON (instructions, cycles, console, interrupts, the chip's figures; every
field but wall time, the polling figures and the cycle error bar's flash-data term, which counts the flash-data
loads of the block executions a polling fast-forward skips), and the stream does carry the bytes: a few Python RXDR
reads and TXDR writes instead of one per byte, and no Python ICR write after a streamed read. A snapshot taken
inside a stream restores to the plain run."""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, result_of, run
from simcore.peripherals.stm32.i2c import Stm32L4I2c
from tests.conftest import elf
from tests.conftest import figures as _figures
from tests.integration.test_sensors_imu import CSV

BOARD = "b-l475e-iot01a"
APP = elf(BOARD, "imu_steps_bus")
SENSORS = {"imu": (CSV, {"end": "hold", "resample": True})}
CMDLINE = "imu_steps_bus.elf frames=200"


def figures(r: Any) -> dict[str, Any]:
    return _figures(r, ("native_hot_path", "polling", "cycles_error_bar"))


def test_i2c_stream_equals_the_models_byte_events(monkeypatch: pytest.MonkeyPatch) -> None:
    dr_reads: list[int] = []
    tx_writes: list[int] = []
    icr_writes: list[int] = []
    address_writes: list[int] = []  # CR2 writes that start a one-byte write (the register address before a read)
    own_read, own_write = Stm32L4I2c.read, Stm32L4I2c.write

    def counted(self: Stm32L4I2c, offset: int, size: int) -> int:
        dr_reads.append(offset == 0x24)  # RXDR
        return own_read(self, offset, size)

    def counted_write(self: Stm32L4I2c, offset: int, size: int, value: int) -> None:
        tx_writes.append(offset == 0x28)  # TXDR
        icr_writes.append(offset == 0x1C)  # ICR
        address_writes.append(offset == 0x04 and value & 1 << 13 and not value & 1 << 10 and value >> 16 & 0xFF == 1)
        own_write(self, offset, size, value)

    monkeypatch.setattr(Stm32L4I2c, "read", counted)
    monkeypatch.setattr(Stm32L4I2c, "write", counted_write)
    in_c = run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    streamed_python, tx_python, icr_python = sum(dr_reads), sum(tx_writes), sum(icr_writes)
    address_python = sum(address_writes)
    twin = run(APP, BOARD, sensors=SENSORS, native=False, cmdline=CMDLINE)
    monkeypatch.setattr(Stm32L4I2c, "_try_stream", lambda self: None)
    monkeypatch.setattr(Stm32L4I2c, "_try_tx", lambda self: None)
    monkeypatch.setattr(Stm32L4I2c, "_try_read", lambda self: None)
    dr_reads.clear()
    tx_writes.clear()
    icr_writes.clear()
    address_writes.clear()
    own = run(APP, BOARD, sensors=SENSORS, native=True, cmdline=CMDLINE)
    assert in_c.exit_status == 0 and "done: " in in_c.text and "data: fnv1a" in in_c.text
    assert figures(in_c) == figures(own) == figures(twin)
    assert in_c.instructions == own.instructions and in_c.cycles == own.cycles
    python_dr = sum(dr_reads)  # without the stream every RXDR read is the model's
    assert python_dr > 6 * 200 and streamed_python * 20 < python_dr
    # every register-address write before a read (WHO_AM_I, then 2 per FIFO drain of 25 frames) is the register
    # file's; the chip's set-up writes (6 of two bytes with AUTOEND) stay the model's
    assert sum(tx_writes) >= 12 + 1 + 2 * (200 // 25) and tx_python <= 12
    # the STOPF clear after each streamed read (2 per FIFO drain) is the register file's too (XICR); the chip's
    # set-up writes' (5), the one-byte WHO_AM_I read's and chip_stop's stay the model's
    assert sum(icr_writes) == 7 + 2 * (200 // 25) and icr_python == 7
    # the CR2 write that starts each register-address write: the model's without streams (WHO_AM_I's, then 2 per
    # drain); with them the register file's (RF_XCR) after a read stream or a stream limit armed it, all but
    # WHO_AM_I's and the first drain's first (nothing armed it yet)
    assert sum(address_writes) == 1 + 2 * (200 // 25) and address_python == 2


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
@pytest.mark.parametrize("start,nth", [("_try_read", 10), ("_arm_cr2", 10), ("_settle_at_limit", 3)],
                         ids=["read", "armed-after-read", "armed-idle"])
def test_a_snapshot_inside_an_i2c_stream_restores_it(monkeypatch: pytest.MonkeyPatch, native: bool,
                                                     start: str, nth: int) -> None:
    """A snapshot taken while the register file carries a transfer or holds the next register-address write armed
    (a pause just after the 10th read stream started, the 10th read stream that armed the address write after it,
    or the third stream limit (of 8 drains) after which the idle model armed the next drain's first address write;
    C then starts those writes at their CR2 write): the run after its restore gives the counts, console and chip
    figures of a plain run."""
    from simcore.debug import Debugger, Pause
    from simcore.snapshot import Snapshot
    from tests.integration.test_debug import figures as run_figures

    def chip(m: Any) -> dict[str, Any]:
        return result_of(m, m.stop, 0.0).sensors  # the LSM6DSL's and the controllers' figures

    plain = run(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    m = prepare(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    d = Debugger(m)
    seen = [0]
    own = getattr(Stm32L4I2c, start)

    def counted(self: Stm32L4I2c, *args: Any) -> None:
        own(self, *args)
        if self._stream is not None or self._cr2_armed:
            seen[0] += 1
            if seen[0] == nth:
                m.request_pause(Pause("interrupt", "inside an I2C stream", pc=None))

    monkeypatch.setattr(Stm32L4I2c, start, counted)
    assert d.cont().kind == "interrupt"
    i2c = m.peripheral("i2c2")
    assert i2c._stream is not None or i2c._cr2_armed  # the register file carries a transfer or the next write
    snap = Snapshot.take(m)
    d.cont()
    ref = run_figures(m), chip(m)
    assert ref[0]["instructions"] == plain.instructions and ref[0]["console"] == plain.console
    for _ in range(2):
        snap.restore(m)
        d.cont()
        assert (run_figures(m), chip(m)) == ref


@pytest.mark.parametrize("native", [True, False], ids=["c", "twin"])
def test_single_steps_across_an_address_write_started_in_c_keep_the_counts(monkeypatch: pytest.MonkeyPatch,
                                                                            native: bool) -> None:
    """Debugger single steps from inside a 2-byte FIFO_STATUS read stream (the 9th read: it arms the next address
    write behind it) through its STOPF clear, the CR2 write the register file serves (RF_XCR) and the address write's
    waits, then on: the run's counts, console and chip figures are those of a plain run."""
    from simcore.debug import Debugger, Pause
    from tests.integration.test_debug import figures as run_figures

    plain = run(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    m = prepare(APP, BOARD, sensors=SENSORS, native=native, cmdline=CMDLINE)
    d = Debugger(m)
    seen = [0]
    own = Stm32L4I2c._try_read

    def counted(self: Stm32L4I2c) -> None:
        own(self)
        if self._stream is not None:
            seen[0] += 1
            if seen[0] == 9:
                m.request_pause(Pause("interrupt", "inside a 2-byte read stream", pc=None))

    monkeypatch.setattr(Stm32L4I2c, "_try_read", counted)
    assert d.cont().kind == "interrupt"
    i2c = m.peripheral("i2c2")
    assert i2c._stream is not None and len(i2c._stream[2]) == 2 and i2c._cr2_armed
    rf = m.bus.rf
    served_at = None
    for n in range(20000):
        if served_at is None and i2c._cr2_armed and rf.xfer_i2c_armed(i2c._txi)[0] == 2:
            served_at = n  # the register file started the address write at the CR2 write just stepped
        if served_at is not None and n >= served_at + 200:
            break
        assert d.step().kind == "step"
    assert served_at is not None, "no CR2 write served in C"  # the steps crossed it
    d.cont()
    got = run_figures(m)
    assert got["instructions"] == plain.instructions and got["cycles"] == plain.cycles
    assert got["console"] == plain.console
    assert result_of(m, m.stop, 0.0).sensors == plain.sensors
