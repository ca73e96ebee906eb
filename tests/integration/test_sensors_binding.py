"""Sensor binding: CLI spec parsing, name/kind resolution, option routing, deferred sensors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simcore.api import run
from simcore.board import load_board
from simcore.errors import BadInputError
from simcore.peripherals import model_for
from simcore.sensorbind import DEFERRED_SIZES, configure, parse_cli_spec, resolve
from tests.conftest import ROOT, elf

WAV = ROOT / "examples" / "data" / "audio_events_16k.wav"


def test_cli_spec_with_options_lists_and_colons() -> None:
    s = parse_cli_spec("imu=data/walk.csv:end=loop,resample=true,accel_channels=['x', 'y', 'z'],rate_hz=100")
    assert (s.name, str(s.source)) == ("imu", "data/walk.csv")
    assert s.options == {"end": "loop", "resample": True, "accel_channels": ["x", "y", "z"], "rate_hz": 100}
    assert parse_cli_spec("mic=C:/a b.wav").source == "C:/a b.wav"  # ':' not followed by key= stays in the path
    with pytest.raises(BadInputError, match="key=value"):
        parse_cli_spec("mic=a.wav:end=loop,bogus")


def test_names_resolve_by_peripheral_name_or_kind() -> None:
    nrf = load_board("nrf52840")
    assert resolve(nrf, "mic").name == "pdm"  # kind 'mic' finds the nRF52 PDM
    assert resolve(load_board("cortex-m4"), "microphone").name == "mic"
    with pytest.raises(BadInputError, match="no such sensor"):
        resolve(nrf, "imu")
    with pytest.raises(BadInputError, match="no such sensor"):
        resolve(load_board("stm32f407vg"), "mic")  # the simcore blocks are not on real parts


def test_options_go_to_the_sensor_or_to_the_file() -> None:
    configs, _ = configure(load_board("cortex-m4"), {"mic": (WAV, {"end": "loop", "resample": True, "channel": 0})})
    mic = next(p for p in configs if p.name == "mic")
    assert mic.options["resample"] is True and mic.options["channel"] == 0
    assert mic.options["source_options"] == {"end": "loop"}
    assert mic.options["align"] == "enable"  # the board's default stays


def test_the_same_peripheral_cannot_be_bound_twice() -> None:
    with pytest.raises(BadInputError, match="already bound"):
        configure(load_board("cortex-m4"), {"mic": WAV, "microphone": WAV})


def test_api_accepts_an_opened_source() -> None:
    from simcore.sources import open_source

    r = run(elf("cortex-m4", "audio_events"), "cortex-m4", sensors={"mic": open_source(WAV)})
    assert r.exit_status == 0 and r.sensors["mic"]["samples_delivered"] == 48000


def test_unused_sensors_are_deferred_and_cost_no_imports() -> None:
    code = (
        "import sys\n"
        "from simcore.api import prepare\n"
        "from simcore.sensorbind import DeferredModel\n"
        f"m = prepare({str(elf('cortex-m4', 'hello'))!r}, 'cortex-m4')\n"
        "d = [p for p in m.peripherals if isinstance(p, DeferredModel)]\n"
        "assert {p.name for p in d} == {'mic', 'imu', 'camera', 'adc', 'gpio'}, d\n"
        "m.run()\n"
        "assert all(p.real is None for p in d)\n"
        "assert 'simcore.peripherals.sensors.common' not in sys.modules\n"
        "assert 'numpy' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_deferred_sizes_equal_the_models() -> None:
    for type_name, size in DEFERRED_SIZES.items():
        assert model_for(type_name).SIZE == size


def test_a_deferred_sensor_is_built_on_first_access() -> None:
    r = run(elf("cortex-m4", "adc_monitor"), "cortex-m4", sensors={"adc": ROOT / "examples/data/adc_trace_1k.csv"})
    assert r.exit_status == 0
    assert r.sensors["gpio"]["led_rises"] == 1  # the GPIO was deferred, then built when the firmware wrote it
