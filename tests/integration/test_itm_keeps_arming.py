"""ITM stimulus-port writes keep the hot path's arming (Machine._ppb_write through guard_host).

A write to STIM0-31 (ARMv7-M C1.7.3) reaches the ITM's listeners (profilers) and, on port 0, the console; no
peripheral model runs, so the arming C was given stays right unless a listener stops or pauses the run (both count
in ``arm_changes``, which makes guard_host re-arm). imu_gestures marks each inference's ops on ITM ports: the run must
end exactly as with a full re-arm after every write, with far fewer re-arms.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.api import prepare, run_machine
from simcore.cortexm.system import SystemBlock
from tests.conftest import ROOT, elf
from tests.integration.test_wfi_wake_in_c import _seen

GESTURES = str(ROOT / "models" / "trained" / "gestures_demo.csv")


@pytest.mark.parametrize("board", ["arduino-nano-33-ble-sense", "arduino-nano-33-ble-sense-rev2"])
def test_itm_writes_keep_the_arming_with_the_counts_of_full_rearms(monkeypatch: pytest.MonkeyPatch,
                                                                   board: str) -> None:
    own = SystemBlock.arm_native
    calls = {"n": 0}

    def counted(self: SystemBlock) -> None:
        calls["n"] += 1
        own(self)

    def run() -> tuple[object, ...]:
        m = prepare(elf(board, "imu_gestures"), board, sensors={"imu": (GESTURES, {"end": "hold"})},
                    cmdline="imu_gestures.elf frames=120")
        r: Any = run_machine(m)
        return _seen(m, r)

    monkeypatch.setattr(SystemBlock, "arm_native", counted)
    kept = run()
    kept_arms = calls["n"]
    calls["n"] = 0
    monkeypatch.setattr("simcore.machine.ITM_BASE", -0x80)  # no address is a stimulus port: guard() for every write
    full = run()
    assert full == kept and kept[5] == 0
    assert calls["n"] - kept_arms >= 100  # (two to four op marks an inference, 8 inferences)
