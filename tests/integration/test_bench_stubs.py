"""benchmarks/corpus.py compares simcore with bare Unicorn on the same work: for cortex-m4 adc_monitor and imu_steps
the bare stand-ins give the firmware the recording's data (the ADC's DMA ring, the IMU's FIFO words), so the bare run
prints what simcore's run prints (times from DWT CYCCNT masked: bare Unicorn has no clock)."""

from __future__ import annotations

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
