"""Firmware tests as pytest tests, for CI: the ``dut`` fixture of simcore's pytest plugin.

Each test gets a freshly booted part (boards and clocks by marker), talks to the firmware's
console (``expect``, ``write``), reads its globals by name and calls its C functions; a failure
shows the console tail, where the firmware stopped and any fault diagnosis, and
``--junitxml`` writes them for the CI server.

    python -m pytest examples/pytest_ci.py -v --junitxml=report.xml
    python examples/pytest_ci.py                     # the same, with report.xml in a temp dir
"""

from __future__ import annotations

import pytest

ELF = "../firmware/bin/{board}/dut_demo.elf"  # relative to this file; {board} filled in per test


@pytest.mark.simcore(elf=ELF)
@pytest.mark.boards("stm32f407vg", "nrf52840")
def test_boots_and_reports(dut):
    dut.expect("ready", timeout_cycles=20_000_000)
    dut.expect(r"add 5 scale 9 mix 5 ")
    dut.run_to_end()
    assert dut.stop.exit_code == 0
    assert dut.get("ticks") >= 5  # 5 ticks before "ready"; more while the paced console prints the rest


@pytest.mark.simcore(elf=ELF, board="stm32f407vg")
@pytest.mark.clocks(16, 168)
def test_echo_at_two_clocks(dut):
    dut.run_until("main")
    dut.set("mode", "MODE_ECHO")
    dut.write("hello from CI\n")
    assert dut.expect(r"echo: (.*)\n").group(1) == "hello from CI"
    # the firmware programs SysTick for the board's default clock (168,000 cycles a tick): 5 ticks
    # before "ready" take the same cycles at either clock, and the time follows the clock
    assert 5 * 168_000 <= dut.cycles < 6 * 168_000
    assert dut.seconds == pytest.approx(dut.cycles / (dut.machine.mhz * 1e6))


@pytest.mark.simcore(elf=ELF, board="nrf52840")
def test_c_function_directly(dut):
    assert dut.call("checksum", b"\x01\x02\x03\x04", 4) == 2
    assert dut.call("config_score", dut.var("cfg").address) == 1674
    assert dut.last_call.cycles < 200


if __name__ == "__main__":
    import sys
    import tempfile
    from importlib.metadata import entry_points
    from pathlib import Path

    report = Path(tempfile.mkdtemp()) / "report.xml"
    installed = any(ep.value == "simcore.pytest_plugin" for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "simcore.pytest_plugin"]  # pip install -e . registers it
    status = pytest.main([__file__, "-v", f"--junitxml={report}", *plugin])
    print(f"JUnit XML: {report}", file=sys.stderr)
    raise SystemExit(status)
