"""benchmarks/corpus.py compares simcore with bare Unicorn on the same work: for cortex-m4 adc_monitor and imu_steps
the bare stand-ins give the firmware the recording's data (the ADC's DMA ring, the IMU's FIFO words), and for the
B-L475E-IOT01A's and the Nano 33 BLE Sense Rev2's imu_steps_bus the IMU chip's samples over its bus (LSM6DSL on I2C2,
BMI270 behind TWIM1), so the bare run prints what simcore's run prints (times from DWT CYCCNT masked: bare Unicorn has
no clock)."""

from __future__ import annotations

import ctypes
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from simcore.api import prepare, run_machine
from tests.conftest import ROOT, elf

UART0_DATA = 0x40004000  # cortex-m4's CMSDK UART console (boards/cortex-m4.toml), DATA at offset 0
TIMES = re.compile(r"(acted at|detected at) \d+ ms")


@pytest.fixture(scope="module")
def bench() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import corpus
    import sensor_speed

    return corpus, sensor_speed


@pytest.mark.parametrize("app", ["adc_monitor", "imu_steps"])
def test_bare_stand_ins_do_the_firmwares_work(bench: Any, app: str) -> None:
    corpus, sensor_speed = bench
    path = elf("cortex-m4", app)
    case = corpus.STUBBED[f"cortex-m4/{app}"]
    printed = bytearray()
    inner = case.writes

    def writes(console: bytearray) -> Any:
        dma = inner(console) if inner is not None else None

        def write(uc: Any, addr: int, value: int) -> None:
            if addr == UART0_DATA:
                printed.append(value & 0xFF)
            if dma is not None:
                dma(uc, addr, value)
        return write

    _spent, code, _wakes = sensor_speed.bare_run(replace(case, writes=writes, cmdline=corpus.cmdline_of(path)), 20.0)
    inputs = corpus.inputs_of(Path(path))
    r = run_machine(prepare(path, "cortex-m4", sensors={k: api for k, (_cli, api) in inputs.sensors.items()}))
    assert code == r.exit_status == 0
    bare, simcore = TIMES.sub(r"\1 T ms", printed.decode()), TIMES.sub(r"\1 T ms", r.text)
    assert bare == simcore
    assert simcore.count("\n") >= 5  # transitions or steps, then the summary


def test_imu_words_are_the_models_counts(bench: Any) -> None:
    """The stand-in's FIFO words (``imu_words``) equal what simcore's IMU block gives for the walk recording at
    the firmware's ranges (+-4 g, +-500 dps)."""
    _corpus, sensor_speed = bench
    import numpy as np

    m = prepare(elf("cortex-m4", "imu_steps"), "cortex-m4", sensors={"imu": str(sensor_speed.CSV)})
    imu = m.peripheral("imu")
    imu.values["ACCEL_RANGE"], imu.values["GYRO_RANGE"] = 1, 2
    n = len(sensor_speed.imu_words(sensor_speed.CSV, 4.0, 500.0)) // 6
    model = imu.counts(0, n).astype(np.int64).reshape(-1) & 0xFFFFFFFF
    assert sensor_speed.imu_words(sensor_speed.CSV, 4.0, 500.0) == [int(v) for v in model]


def test_what_simcore_executes_is_its_count_less_the_fast_forwarded_waits(bench: Any) -> None:
    """nrf52840 semihost_exit: its console's EVENTS_ENDTX waits are counted but fast-forwarded, so the engine
    executes a small part of the count, close to what bare Unicorn (whose waits end at once) executes."""
    corpus, _sensor_speed = bench
    path = elf("nrf52840", "semihost_exit")
    counted = run_machine(prepare(path, "nrf52840", cmdline=corpus.cmdline_of(Path(path)))).instructions
    executed = corpus.simcore_executed(Path(path), "nrf52840")
    bare, code = corpus.bare_run(Path(path), "nrf52840", 20.0, count=True)
    assert code == 0
    assert executed < counted // 10 and abs(bare - executed) <= 0.15 * executed


@pytest.mark.parametrize("board", ["b-l475e-iot01a", "arduino-nano-33-ble-sense-rev2", "stm32f4-discovery"])
def test_kit_imu_stand_ins_give_the_chips_samples(bench: Any, board: str) -> None:
    """imu_steps_bus (corpus.py's 200 frames): the bare stand-in serves the walk recording as the board's chip gives it
    (benchmarks/sensor_speed.py ``iot_lsm6dsl_i2c2``, ``nano_bmi270_walk_twim``, ``discovery_lis3dsh_spi1``), so the
    firmware prints the same steps and the same FNV-1a of the frames it read. The Rev2's bare run then executes what
    simcore's engine executes (within 10%); the IoT node's reads every byte simcore's reads from the chip once (RXDR),
    the Discovery's every SPI1 byte (DR), their bus flag waits ending at once."""
    corpus, sensor_speed = bench
    path = elf(board, "imu_steps_bus")
    case = corpus.STUBBED[f"{board}/imu_steps_bus"]
    cmdline = corpus.cmdline_of(Path(path))
    reads: dict[int, int] = {}
    stub = case.stub

    def counted() -> Any:
        def count(addr: int, fn: Any) -> Any:
            def read(n: int) -> int:
                reads[addr] = reads.get(addr, 0) + 1
                return fn(n)
            return read
        return {addr: count(addr, fn) for addr, fn in stub().items()}

    printed, executed_bare = bytearray(), ctypes.c_uint64(0)
    _spent, code, _wakes = sensor_speed.bare_run(replace(case, stub=counted, cmdline=cmdline), 20.0, executed_bare,
                                                 printed)
    inputs = corpus.inputs_of(Path(path))
    m = prepare(path, board, sensors={k: api for k, (_cli, api) in inputs.sensors.items()}, cmdline=cmdline)
    r = run_machine(m)
    assert code == r.exit_status == 0
    assert re.search(r"done: [1-9]\d* steps in 200 frames, 0 overruns", r.text)
    assert TIMES.sub(r"\1 T ms", printed.decode()) == TIMES.sub(r"\1 T ms", r.text)
    if board == "b-l475e-iot01a":
        assert reads[sensor_speed.I2C2 + 0x24] == m.bus.counts("I2C2.RXDR")[0] > 6 * 200
    elif board == "stm32f4-discovery":
        assert reads[sensor_speed.SPI1_DR] == m.bus.counts("SPI1.DR")[0] > 7 * 200
    else:
        executed = corpus.simcore_executed(Path(path), board)
        assert abs(executed_bare.value - executed) <= 0.1 * executed


def test_kit_imu_stand_in_frames_are_the_chips(bench: Any) -> None:
    """The Rev2 stand-in's frames (``bmi270_walk``) are the bytes simcore's BMI270 gives the firmware's FIFO_DATA
    bursts in a run, in order, from the first sample the chip takes."""
    _corpus, sensor_speed = bench
    from simcore.devices.bmi270 import Bmi270

    got = bytearray()
    burst = Bmi270.i2c_read_block

    def read_block(self: Any, n: int) -> bytes:
        fifo = self._ptr == 0x26
        out = burst(self, n)
        if fifo:
            got.extend(out)
        return out

    board = "arduino-nano-33-ble-sense-rev2"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Bmi270, "i2c_read_block", read_block)
        run_machine(prepare(elf(board, "imu_steps_bus"), board, cmdline="imu_steps_bus.elf frames=100",
                            sensors={"imu": (str(sensor_speed.CSV), {"end": "hold", "resample": True})}))
    assert len(got) == 6 * 100
    assert bytes(got) == sensor_speed.bmi270_walk()[:600]
    assert sensor_speed.chip_first_sample(board, f"{board}/imu_steps_bus") > 0  # the 8 KiB upload came first
