"""The MPU app (firmware/apps/mpu): regions with sub-regions, privileged and unprivileged access,
execute-never, MemManage with CFSR/MMFAR as ARMv7-M B3.5 specifies; --strict passes."""

from __future__ import annotations

import pytest

import simcore.api as sc

DACC = "fault CFSR=00000082 MMFAR=address"  # DACCVIOL | MMARVALID, MMFAR = the probed address


@pytest.mark.parametrize("board", ["cortex-m4", "stm32f407vg"])
@pytest.mark.parametrize("strict", [False, True])
def test_mpu_app_faults_exactly_where_the_architecture_says(board: str, strict: bool) -> None:
    r = sc.run(f"firmware/bin/{board}/mpu.elf", board=board, strict=strict)
    lines = r.text.splitlines()
    assert r.exit_status == 0, r.text + r.stop.message
    assert lines[0] == "mpu: MPU_TYPE=00000800 (8 regions)"
    assert lines[1].endswith("RASR=11000013")  # region 2 read back through RNR (written through the A1 alias)
    expected = {
        "privileged write secret": "no fault",
        "privileged read guard": "no fault",  # privileged read-only
        "privileged write guard": DACC,  # a 32-byte region inside a 1 KiB page
        "privileged write next to guard": "no fault",  # same page, outside the region
        "unprivileged read secret": DACC,
        "unprivileged write secret": DACC,
        "unprivileged read guard": DACC,
        "unprivileged write next to guard": "no fault",
        "unprivileged read zone sub-region 0": DACC,
        "unprivileged write zone sub-region 1": "no fault",  # disabled sub-region: falls to region 1
        "unprivileged write flash": DACC,  # region 0 is read-only
    }
    seen = {line.split(":")[0]: line.split(": ", 1)[1] for line in lines if ": " in line}
    for probe, outcome in expected.items():
        assert seen[probe].startswith(outcome), (probe, seen[probe])
    assert seen["unprivileged execute SRAM (XN)"] == "fault CFSR=00000001"  # IACCVIOL, no MMARVALID
    assert "back in privileged thread mode: CONTROL=0" in lines
    assert lines[-1] == "mpu: all as expected"
