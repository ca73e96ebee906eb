"""Generated C headers: offsets in the struct equal the register tables, checked by a C compiler."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from simcore.peripherals.sensors.headers import _models, generate_header, main

TYPES = ["simcore_mic", "nrf52_pdm", "simcore_imu", "simcore_camera", "simcore_adc", "simcore_gpio", "cmsdk_uart"]


@pytest.mark.parametrize("type_name", TYPES)
def test_header_compiles_and_offsets_hold(tmp_path: Path, type_name: str) -> None:
    cc = shutil.which("gcc") or shutil.which("cc") or shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("no C compiler")
    text = generate_header(type_name, board="cortex-m4")
    cls = _models()[type_name]
    for reg in cls.REGISTERS:
        assert f"offsetof({type_name.upper()}_Type, {reg.name}) == {reg.offset:#x}" in text
    header = tmp_path / f"{type_name}.h"
    header.write_text(text)
    src = tmp_path / "use.c"
    src.write_text(f'#include "{header.name}"\nint main(void) {{ return (int)sizeof({type_name.upper()}_Type); }}\n')
    res = subprocess.run(
        [cc, "-std=c11", "-Wall", "-Werror", "-fsyntax-only", str(src)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr


def test_bit_fields_and_board_instances(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simcore_imu"]) == 0
    text = capsys.readouterr().out
    assert "#define SIMCORE_IMU_STATUS_WM_Pos 1U" in text
    assert "#define SIMCORE_IMU_STATUS_WM_Msk (0x1UL << SIMCORE_IMU_STATUS_WM_Pos)" in text
    assert "#define SIMCORE_IMU_ID_RESET 0x494d5531UL" in text
    uart = generate_header("cmsdk_uart", board="cortex-m4")
    assert "#define UART0_BASE 0x40004000UL" in uart and "#define UART0_IRQn 0" in uart
    assert main(["no_such_model"]) == 2
