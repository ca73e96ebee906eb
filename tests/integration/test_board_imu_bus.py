"""imu_steps_bus on the kits' own IMUs counts the same steps as imu_steps on the generic board (numpy reference
of tests/integration/test_sensors_imu.py). STM32F4 Discovery: the LIS3DSH over SPI1 (chip select PE3), its FIFO
watermark on INT1 reaching EXTI0 through PE0 (counts at 0.12 mg/digit). B-L475E-IOT01A: the LSM6DSL over I2C2,
FIFO threshold on INT1 reaching EXTI11 through PD11, at its 104 Hz (the 100 Hz recording resampled). The chips
sample the recording laid on virtual time from reset, so their frames start d samples in, d the time before the
firmware enabled them: one constant offset for every step."""

from __future__ import annotations

import re

from simcore.api import run
from tests.conftest import elf
from tests.integration.test_sensors_imu import CSV, counts, expected_steps, fnv1a, held

BOARD = "stm32f4-discovery"


def test_steps_over_spi_and_exti_match_imu_steps() -> None:
    r = run(elf(BOARD, "imu_steps_bus"), BOARD, sensors={"accel": (CSV, {"end": "hold"})},
            cmdline="imu_steps_bus.elf frames=990")
    assert r.exit_status == 0, r.text
    assert "LIS3DSH (WHO_AM_I 3f)" in r.text
    got = [int(k) for k in re.findall(r"^step \d+ at \d+ ms \(frame (\d+)\)", r.text, re.M)]
    exp = expected_steps(0.12)  # the LIS3DSH's 0.12 mg/digit at +-4 g
    assert len(got) == len(exp) == 16
    offset = exp[0] - got[0]
    assert 0 <= offset <= 5 and [k + offset for k in got] == exp
    assert "done: 16 steps in 990 frames, 0 overruns" in r.text
    # the bytes the firmware read over SPI are the recording's samples offset .. offset+989 in counts
    assert f"data: fnv1a {fnv1a(held(counts(0.12), offset, 990)):08x} over 990 frames" in r.text
    assert r.sensors["accel"]["overruns"] == 0
    # the firmware drives the chip select (PE3) around every register access
    gpioe = r.sensors["gpioe"]
    assert gpioe["PE3_falls"] == gpioe["PE3_rises"] - 1 > 990
    assert r.reports == {"unimplemented": [], "guest_errors": []}


def test_steps_over_i2c_and_exti_on_the_iot_node() -> None:
    r = run(elf("b-l475e-iot01a", "imu_steps_bus"), "b-l475e-iot01a",
            sensors={"imu": (CSV, {"end": "hold", "resample": True})})
    assert r.exit_status == 0, r.text
    assert "LSM6DSL (WHO_AM_I 6a)" in r.text and "done: 16 steps in 1000 frames, 0 overruns" in r.text
    got = [int(ms) for ms in re.findall(r"^step \d+ at (\d+) ms", r.text, re.M)]
    exp = [10 * k for k in expected_steps()]  # ms, at 100 Hz
    assert len(got) == len(exp) == 16
    offset = exp[0] - got[0]
    # within a sample period of each rate (9.6 + 10 ms): the resampled peak may fall one frame either way
    assert -10 <= offset <= 50 and all(abs(g + offset - e) <= 20 for g, e in zip(got, exp, strict=True))
    assert r.sensors["imu"]["overruns"] == 0
    assert not r.reports["guest_errors"]
