"""The pytest plugin (simcore.pytest_plugin), driven through pytester: tests of firmware written as pytest tests."""

from __future__ import annotations

import importlib.metadata
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import FIRMWARE

pytest_plugins = ["pytester"]

ENTRY_POINT = any(ep.value == "simcore.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11"))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the test file inline; load the plugin by name unless its pytest11 entry point does already."""
    extra = () if ENTRY_POINT else ("-p", "simcore.pytest_plugin")
    return pytester.runpytest(*extra, "-p", "no:cacheprovider", *args)


def test_dut_fixture_expect_write_globals_and_parametrized_boards_and_clocks(pytester):
    pytester.makepyfile(f'''
        import pytest

        @pytest.mark.simcore(elf="{FIRMWARE}/{{board}}/dut_demo.elf")
        @pytest.mark.boards("stm32f407vg", "nrf52840")
        @pytest.mark.clocks(16, 64)
        def test_echo(dut):
            dut.run_until("main")
            dut.set("mode", 2)
            dut.write("from pytest\\n")
            dut.expect("ready", timeout_cycles=10_000_000)
            assert dut.expect(r"echo: (.*)\\n").group(1) == "from pytest"
            assert dut.machine.mhz in (16, 64)
            dut.run_to_end()
            assert dut.stop.exit_code == 0 and dut.get("ticks") >= 5

        @pytest.mark.simcore("{FIRMWARE}/stm32f407vg/dut_demo.elf", board="stm32f407vg")
        def test_call(dut):
            assert dut.call("add", 40, 2) == 42
    ''')
    res = run(pytester, "-v")
    res.assert_outcomes(passed=5)
    res.stdout.fnmatch_lines(["*test_echo?stm32f407vg-16MHz? PASSED*", "*test_echo?nrf52840-64MHz? PASSED*"])


def test_failure_report_shows_console_stop_and_fault_and_junit_has_them(pytester):
    pytester.makepyfile(f'''
        import pytest

        @pytest.mark.simcore(elf="{FIRMWARE}/cortex-m4/stackoverflow.elf")
        def test_overflows(dut):
            dut.run_to_end()
            assert dut.stop.kind == "exit", "the firmware did not exit"

        @pytest.mark.simcore(elf="{FIRMWARE}/cortex-m4/dut_demo.elf", board="cortex-m4")
        def test_times_out(dut):
            dut.run_until("main")
            dut.set("mode", 1)
            dut.expect("ready")
            dut.expect("never", timeout_cycles=200_000)
    ''')
    junit = pytester.path / "junit.xml"
    res = run(pytester, f"--junitxml={junit}")
    res.assert_outcomes(failed=2)
    out = res.stdout.str()
    assert "simcore stop" in out and "stack overflow in hog" in out
    assert "simcore fault diagnosis" in out and "backtrace:" in out and "stackhog/main.c" in out
    assert "simcore console" in out and "ready" in out  # the spinning dut_demo printed "ready"
    assert "200,000 cycles passed without console output matching 'never'" in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    failure = cases["test_overflows"].find("failure")
    assert failure is not None and "stack overflow in hog" in (failure.text or "")
    props = {p.get("name"): p.get("value") for p in cases["test_times_out"].iter("property")}
    assert int(props["simcore.cycles"]) >= 200_000 and int(props["simcore.instructions"]) > 0


def test_boot_snapshot_is_reused_and_gives_identical_counts(pytester):
    pytester.makepyfile(f'''
        import pytest

        counts = []

        @pytest.mark.simcore(elf="{FIRMWARE}/stm32f407vg/dut_demo.elf", board="stm32f407vg")
        @pytest.mark.parametrize("n", range(3))
        def test_same(dut, n):
            assert dut.instructions == 0 and dut.console == ""
            dut.run_to_end()
            counts.append((dut.instructions, dut.cycles, dut.console))
            assert counts[0] == counts[-1]
    ''')
    run(pytester).assert_outcomes(passed=3)
    run(pytester, "--simcore-fresh").assert_outcomes(passed=3)


def test_inputs_marker_feeds_each_recording(pytester):
    from tests.conftest import ROOT

    wav = ROOT / "examples" / "data" / "audio_events_16k.wav"
    pytester.makepyfile(f'''
        import pytest

        @pytest.mark.simcore(elf="{FIRMWARE}/cortex-m4/audio_events.elf")
        @pytest.mark.inputs("{wav}", sensor="mic")
        def test_events(dut):
            dut.run_to_end()
            assert dut.stop.exit_code == 0
            assert dut.result().sensors["mic"]["samples_delivered"] == 48000  # 3 s at 16 kHz
    ''')
    run(pytester, "-v").assert_outcomes(passed=1)


def test_missing_firmware_is_a_clear_failure(pytester):
    pytester.makepyfile('''
        def test_no_elf(dut):
            pass
    ''')
    res = run(pytester)
    res.assert_outcomes(errors=1)
    res.stdout.fnmatch_lines(["*needs a firmware*"])


def test_a_dut_built_for_one_test_is_closed_after_it_and_a_cached_one_is_kept(pytester):
    pytester.makepyfile(f'''
        import pytest

        seen = []

        @pytest.mark.simcore(elf="{FIRMWARE}/cortex-m4/hello.elf")
        def test_first(dut):
            seen.append(dut)
            dut.run_to_end()

        @pytest.mark.simcore(elf="{FIRMWARE}/cortex-m4/hello.elf")
        def test_second(dut):
            seen.append(dut)
            assert dut.run_to_end().exit_code == 0

        def test_then(request):
            fresh = request.config.getoption("--simcore-fresh")
            assert seen[0].machine.closed is fresh and seen[1].machine.closed is fresh
            assert (seen[0] is seen[1]) is not fresh  # cached: the same machine, restored from its snapshot
    ''')
    run(pytester, "-v").assert_outcomes(passed=3)
    run(pytester, "-v", "--simcore-fresh").assert_outcomes(passed=3)
