"""The typed validation layer (simcore.validate): board files and run options refused with one
paragraph and exit 2 that names the file or option, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from simcore.board import builtin_boards, load_board
from simcore.errors import BadInputError
from tests.conftest import elf, run_cli

HELLO = elf("cortex-m4", "hello")


def _refused(*args: object, expect: tuple[str, ...]) -> str:
    res = run_cli(*args)
    assert res.status == 2, (res.status, res.err)
    assert "Traceback" not in res.err and res.err.startswith("simcore: error:")
    flat = res.err.replace("\n", " ")
    for e in expect:
        assert e in flat, (e, flat)
    assert len([p for p in res.err.split("\n\n") if p.strip()]) == 1
    assert "Hello" not in res.out
    return flat


def _board(tmp_path: Path, body: str, name: str = "b.toml") -> Path:
    p = tmp_path / name
    p.write_text('extends = "cortex-m4"\nname = "custom"\n' + body)
    return p


@pytest.mark.parametrize(("body", "expect"), [
    ('[clock]\ndefault_mhz = "fast"\n', ("clock.default_mhz = 'fast'", "a number above 0")),
    ("[clock]\ndefault_mhz = 0\n", ("clock.default_mhz = 0", "a number above 0")),
    ("[clock]\nmax_mhz = 50\n", ("clock.default_mhz = 100", "at most clock.max_mhz = 50")),
    ("[cpu]\nnvic_prio_bits = 100\n", ("cpu.nvic_prio_bits = 100", "an integer from 3 to 8")),
    ("[cpu]\nnum_irq = 0\n", ("cpu.num_irq = 0", "from 1 to 496")),
    ("[cpu]\nfpu = 1\n", ("cpu.fpu = 1", "true or false")),
    ("[flash_timing]\nwait_states = [[1]]\n", ("flash_timing.wait_states", "[up to MHz, wait states] pairs")),
    ('[flash_timing]\naccelerator = "turbo"\n', ("flash_timing.accelerator = 'turbo'", "'stm32_art'")),
    ("[boot]\nvtor = 0x20000004\n", ("boot.vtor", "a multiple of 0x80")),
    ("[power]\nvoltage = -3\n", ("power.voltage = -3", "from 0.5 to 6")),
    ("[power]\nrun_ua = [[100, 5000], [50, 3000]]\n", ("power.run_ua", "strictly ascending")),
    ("[cpu]\nturbo = true\n", ("unknown key 'turbo' in [cpu]",
                                "allowed keys: bitband, core, fpu, num_irq, nvic_prio_bits")),
    ("colour = 3\n", ("unknown key 'colour' in top level",)),
    ('[[memory]]\nname = "ram"\nsize = "4G"\n', ("'ram' alias" if False else "runs past the end of the 4 GiB",)),
    ('[[memory]]\nname = "ram"\nbase = 0x20000100\n', ("memory.base = 536871168", "a multiple of 0x1000")),
    ('[[memory]]\nname = "ram"\nkind = "rom"\n', ("memory.kind = 'rom'", "'flash', 'ram'")),
    ('[[memory]]\nname = "ram"\nbase = 0x40000000\n', ("lies in the peripheral region",)),
    ('[[memory]]\nname = "ram"\nbase = 0xE0000000\n', ("lies in the system region",)),
    ('[[peripheral]]\nname = "uart0"\nbase = 0x20000000\n', ("peripheral 'uart0'", "overlaps memory 'ram'")),
    ('[[peripheral]]\nname = "uart0"\nbase = 0x30000100\n', ("peripheral 'uart0'", "a multiple of 4 KiB")),
    ('[[peripheral]]\nname = "mic"\nirq = 64\n', ("peripheral 'mic' irq = 64", "0 to 63")),
    ('[[peripheral]]\nname = "uart0"\ntx_irq = 300\n', ("peripheral 'uart0' tx_irq = 300", "0 to 63")),
    ('[[peripheral]]\nname = "uart0"\nirq = -1\n', ("irq = -1", "from 0 to 495")),
    ('[[peripheral]]\nname = "imu"\nbase = 0x4F000080\n', ("overlaps peripheral 'mic'",)),
    ('[console]\nperipheral = "mic"\n', ("console.peripheral = 'mic' is a simcore_mic", "cmsdk_uart")),
    ("[power]\nrun_ua_per_mhz = 100.0\nsleep_ua = 1000.0\n",
     ("sleep current 1,000.0 uA is not below the run current 100.0 uA at 1 MHz",)),
])
def test_bad_board_values(tmp_path: Path, body: str, expect: tuple[str, ...]) -> None:
    p = _board(tmp_path, body)
    flat = _refused("run", HELLO, "--board", p, expect=expect)
    assert str(p) in flat or "custom" in flat  # names the file


def test_every_builtin_board_passes() -> None:
    for name in builtin_boards():
        b = load_board(name)
        assert b.power.sleep_ua(b.max_mhz) < b.power.run_ua(b.max_mhz)


def test_stm32f407_power_follows_ds8626() -> None:
    """DS8626 Rev 12 Table 20 (Run, ART on, peripherals off) and Table 22 (Sleep, peripherals off), typ 25 C."""
    pw = load_board("stm32f407vg").power
    for mhz, run_ma, sleep_ma in ((168, 40, 12), (120, 26, 8), (60, 14, 5), (16, 5, 2), (2, 2, 1)):
        assert pw.run_ua(mhz) == run_ma * 1000
        assert pw.sleep_ua(mhz) == sleep_ma * 1000
    assert pw.sleep_ua(16) < pw.run_ua(16)  # the figure issue 10 found upside down (12 mA vs 4.4 mA)


@pytest.mark.parametrize(("args", "expect"), [
    (("--mhz", "0"), ("--mhz 0", "above 0")),
    (("--mhz", "-5"), ("--mhz -5", "above 0")),
    (("--mhz", "nan"), ("--mhz nan",)),
    (("--mhz", "500"), ("--mhz 500", "at most its maximum, 200 MHz")),
    (("--max-instructions", "-1"), ("--max-instructions -1", "whole number")),
    (("--max-instructions", "0"), ("--max-instructions 0",)),
    (("--duty", "0"), ("--duty 0", "above 0")),
    (("--duty", "-1"), ("--duty -1",)),
    (("--duty", "nan"), ("--duty nan",)),
    (("--duty", "inf"), ("--duty inf",)),
    (("--memory", "ram=4G"), ("runs past the end of the 4 GiB",)),
    (("--memory", "ram=0"), ("--memory 'ram=0'",)),
    (("--memory", "ram=lots"), ("cannot read 'lots' as a size",)),
])
def test_bad_run_options(args: tuple[str, ...], expect: tuple[str, ...]) -> None:
    _refused("run", HELLO, *args, expect=expect)


def test_board_option_names_the_allowed_values_for_the_api() -> None:
    from simcore.api import run

    with pytest.raises(BadInputError, match="at most its maximum"):
        run(HELLO, "cortex-m4", mhz=201)
    with pytest.raises(BadInputError, match="whole number"):
        run(HELLO, "cortex-m4", max_instructions=-5)


def test_ldgen_unknown_board_is_one_paragraph() -> None:
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "simcore.ldgen", "stm32f999"], capture_output=True, text=True)
    assert res.returncode == 2
    assert "unknown board 'stm32f999'" in res.stderr and "Traceback" not in res.stderr


def test_ml_unknown_board_is_one_paragraph(tmp_path: Path) -> None:
    import subprocess
    import sys

    import numpy as np

    inputs = tmp_path / "in.npy"
    np.save(inputs, np.zeros((1, 49, 10, 1), dtype=np.int8))
    res = subprocess.run([sys.executable, "-m", "simcore.ml", "models/kws_dscnn.tflite", str(inputs), "--board",
                          "stm32f999"], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 2
    assert "unknown board 'stm32f999'" in res.stderr and "Traceback" not in res.stderr and "make" not in res.stderr
