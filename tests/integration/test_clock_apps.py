"""The clock follows the firmware (clock_max) and waiting is cheap (poll_wait), on the emulated parts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import simcore.api as sc
from simcore import machine, poll

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "firmware" / "bin"


def _nohse_board(tmp_path: Path) -> Path:
    board = tmp_path / "f407-nohse.toml"
    board.write_text('extends = "stm32f407vg"\nname = "f407-nohse"\n\n[[peripheral]]\nname = "rcc"\nhse_hz = 0\n')
    return board


def test_f407_brings_itself_to_168mhz_and_time_follows() -> None:
    r = sc.run(BIN / "stm32f407vg" / "clock_max.elf", "stm32f407vg")  # no mhz: the firmware decides
    assert r.exit_status == 0, r.stop.message
    lines = r.text.splitlines()
    assert lines[0] == "clock_max on stm32f407vg: reset clock HSI 16 MHz"
    hse = int(lines[1].split()[3])
    assert 32_000 <= hse <= 32_100  # HSE start-up, 2 ms at 16 MHz (DS8626 typical)
    assert "SystemCoreClock 168000000 Hz" in r.text
    ticks = int(lines[4].split()[4])
    assert abs(ticks - 168_000_000) < 200  # 1000 SysTick periods of 168,000 cycles
    assert r.mhz == 168
    timeline = r.clock["timeline"]
    assert [(seg["mhz"], seg["source"]) for seg in timeline] == [(16, "HSI"), (168, "PLL")]
    assert 2.0e-3 < timeline[1]["seconds"] < 4.0e-3
    assert 1.0 < r.seconds < 1.0 + 5e-3  # 1000 ms of ticks after a few ms of bring-up at 16 MHz
    assert r.to_dict()["flash_wait_states"] == 5
    assert not r.reports["guest_errors"] and not r.reports["unimplemented"]


def test_l4r5_brings_itself_to_120mhz_in_boost_mode() -> None:
    r = sc.run(BIN / "stm32l4r5zi" / "clock_max.elf", "stm32l4r5zi")
    assert r.exit_status == 0, r.stop.message
    assert r.text.startswith("clock_max on stm32l4r5zi: reset clock MSI 4 MHz\n")
    assert "SystemCoreClock 120000000 Hz" in r.text
    assert [seg["mhz"] for seg in r.clock["timeline"]] == [4, 60, 120]  # through AHB /2 for 1 us
    assert 1.0 < r.seconds < 1.0 + 6e-3
    assert not r.reports["guest_errors"]


def test_reset_clock_without_configuration_and_mhz_override(capfd: pytest.CaptureFixture[str]) -> None:
    hello = BIN / "stm32f407vg" / "hello.elf"
    r16 = sc.run(hello, "stm32f407vg")
    assert r16.mhz == 16 and r16.clock["mode"] == "firmware" and r16.to_dict()["flash_wait_states"] == 0
    r168 = sc.run(hello, "stm32f407vg", mhz=168)  # what --mhz 168 always gave: the board table's 5 WS
    assert r168.mhz == 168 and r168.clock["mode"] == "override" and r168.to_dict()["flash_wait_states"] == 5
    assert r168.instructions == r16.instructions
    r = sc.run(BIN / "stm32f407vg" / "clock_max.elf", "stm32f407vg", mhz=100)
    err = capfd.readouterr().err
    assert "the firmware set the core clock to 168 MHz (PLL); --mhz 100 overrides it" in err
    assert r.clock["firmware_mhz_overridden"] == [{"mhz": 168.0, "source": "PLL"}]
    assert r.seconds == pytest.approx(r.cycles / 100e6)


def test_too_low_flash_latency_is_reported_with_the_pc() -> None:
    r = sc.run(BIN / "stm32f407vg" / "clock_max.elf", "stm32f407vg", cmdline="clock_max.elf lowlatency")
    errs = {e["where"]: e for e in r.reports["guest_errors"]}
    e = errs["FLASH.ACR.LATENCY"]
    assert "flash latency 0 WS is too low for HCLK 168 MHz" in e["detail"] and "needs 5" in e["detail"]
    assert e["function"].startswith("main") and e["pc"] is not None
    strict = sc.run(BIN / "stm32f407vg" / "clock_max.elf", "stm32f407vg", cmdline="clock_max.elf lowlatency",
                    strict=True)
    assert strict.exit_status == 122 and "FLASH.ACR.LATENCY" in strict.stop.message


def test_missing_crystal_is_waiting_not_spinning(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "simcore", "run", str(BIN / "stm32f407vg" / "clock_max.elf"),
                        "--board", str(_nohse_board(tmp_path)), "--json", "-"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 125, p.stderr
    data = json.loads(p.stdout)
    assert data["stop"]["kind"] == "waiting"
    assert data["stop"]["message"].startswith("waiting on RCC.CR.HSERDY in main:")
    assert "hse_hz = 0" in data["stop"]["message"]
    assert data["instructions"] < 10_000  # stopped at once, not at the budget


def _poll(mode: str, board: str | Path = "stm32f407vg", **kw: object) -> sc.RunResult:
    part = "nrf52840" if board == "nrf52840" else "stm32f407vg"
    return sc.run(BIN / part / "poll_wait.elf", board, cmdline=f"poll_wait.elf {mode}", **kw)


def _unwatched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every poll executed: neither model reads nor the register file's poll watch reach simcore/poll.py."""
    monkeypatch.setattr(poll.PollWatch, "on_read", lambda *a, **k: None)
    monkeypatch.setattr(machine, "POLL_THRESHOLD", 0)


PLAIN = {"stm32f407vg": "SDIO.STA.CMDREND", "nrf52840": "COMP.EVENTS_READY"}


@pytest.mark.parametrize("board", sorted(PLAIN))
def test_plain_register_nothing_changes_stops_waiting(board: str) -> None:
    r = _poll("plain", board)  # a register of a peripheral simcore does not model, served in C; SysTick running
    assert r.exit_status == 125 and r.stop.kind == "waiting", r.stop.message
    assert r.stop.message.startswith(f"waiting on {PLAIN[board]} in main: ")
    assert f"simcore does not model {PLAIN[board].split('.')[0]}" in r.stop.message
    assert r.instructions < 5_000  # at once (the loop is 3 instructions)


@pytest.mark.parametrize("board", sorted(PLAIN))
def test_plain_register_with_a_timeout_fast_forwards_exactly(board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _poll("plaintimeout", board)  # HAL's timeout on the tick in RAM: each tick fast-forwarded to
    ms = float(fast.text.split("= ")[1].split()[0])
    assert fast.text.startswith("plain flag timeout: ") and 101.0 <= ms < 101.1
    pol = fast.extra["polling"]
    assert pol["fast_forwards"] >= 100 and pol["cycles_skipped"] > 0.95 * fast.cycles
    assert pol["places"][f"{PLAIN[board].removesuffix('.CMDREND')} in main"] >= 100  # (and the console's waits)
    python = _poll("plaintimeout", board, native=False)
    _unwatched(monkeypatch)
    slow = _poll("plaintimeout", board)
    assert slow.extra["polling"]["fast_forwards"] == 0
    assert (slow.instructions, slow.cycles, slow.text) == (fast.instructions, fast.cycles, fast.text)
    assert (python.instructions, python.cycles, python.text) == (fast.instructions, fast.cycles, fast.text)


def test_bounded_loop_on_a_plain_register_is_muted() -> None:
    """svd_probe's CAN start-up waits for MSR.INAK at most 1000 times (a counter in a register): no fixed point,
    so after a few looks the register file stops calling Python for that streak."""
    calls: list[str] = []
    orig = poll.PollWatch.on_bus_poll

    def counting(self: poll.PollWatch, p: object) -> None:
        calls.append(p.name)  # type: ignore[attr-defined]
        orig(self, p)  # type: ignore[arg-type]

    mp = pytest.MonkeyPatch()
    mp.setattr(poll.PollWatch, "on_bus_poll", counting)
    try:
        r = sc.run(BIN / "stm32f407vg" / "svd_probe.elf", "stm32f407vg")
    finally:
        mp.undo()
    assert r.exit_status == 0, r.stop.message
    assert 1000 // poll.POLL_THRESHOLD > 4 * poll.MUTE_AFTER  # without muting there would be 62 calls
    assert 0 < calls.count("CAN1.MSR") <= poll.MUTE_AFTER + 2  # two to fill the window, then turned down


def test_countflag_waits_fast_forward_with_the_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _poll("countflag 20")
    cycles = int(fast.text.split()[1])
    assert fast.text.startswith("countflag: ") and 320_000 <= cycles < 320_200  # 20 ms at 16 MHz plus the set-up
    assert fast.extra["polling"]["fast_forwards"] == 20
    monkeypatch.setattr(poll.PollWatch, "on_read", lambda *a, **k: None)
    slow = _poll("countflag 20")  # every poll executed
    assert (slow.instructions, slow.cycles, slow.text) == (fast.instructions, fast.cycles, fast.text)


def test_hal_style_timeout_wait(tmp_path: Path) -> None:
    ok = _poll("hal")
    assert ok.text.startswith("HSE ready: ") and 2.0 <= float(ok.text.split("= ")[1].split()[0]) < 2.1
    late = _poll("hal", _nohse_board(tmp_path))  # HAL's timeout ends it: 100 ticks, each fast-forwarded
    assert late.text.startswith("HSE timeout: ") and 101.0 <= float(late.text.split("= ")[1].split()[0]) < 102.1
    assert late.extra["polling"]["fast_forwards"] >= 100
    assert late.extra["polling"]["cycles_skipped"] > 0.95 * late.cycles  # 1.6 M cycles of polling, nearly all skipped
    mp = pytest.MonkeyPatch()
    _unwatched(mp)
    try:
        slow = _poll("hal", _nohse_board(tmp_path))  # every poll executed: the same counts
    finally:
        mp.undo()
    assert (slow.instructions, slow.cycles, slow.text) == (late.instructions, late.cycles, late.text)


def test_loop_changing_ram_is_not_fast_forwarded(monkeypatch: pytest.MonkeyPatch) -> None:
    r = _poll("ramcount")  # the registers repeat, the count in RAM does not
    assert r.extra["polling"]["fast_forwards"] == 0 and r.extra["polling"]["loop_shapes_refused"] >= 1
    monkeypatch.setattr(poll.PollWatch, "on_read", lambda *a, **k: None)
    assert _poll("ramcount").text == r.text  # the same number of polls counted


def test_register_nothing_changes_stops_waiting() -> None:
    r = _poll("forever")  # PWR_CSR.WUF with SysTick interrupts running: the loop reads no RAM
    assert r.exit_status == 125 and r.stop.kind == "waiting"
    assert r.stop.message.startswith("waiting on PWR.CSR.WUF in main:")
    assert r.instructions < 5_000


def test_fast_forward_is_deterministic_across_hot_paths() -> None:
    native = _poll("hal", native=True)
    python = _poll("hal", native=False)
    assert (native.instructions, native.cycles, native.text) == (python.instructions, python.cycles, python.text)


@pytest.mark.parametrize("board", ["stm32f407vg", "stm32l4r5zi"])
def test_starved_watchdogs_reset_the_part_and_say_so(board: str) -> None:
    r = sc.run(BIN / board / "watchdog.elf", board)
    assert r.exit_status == 0, r.stop.message
    assert r.text.splitlines() == [
        f"watchdog: power-on (RCC_CSR {'0e000000' if board == 'stm32f407vg' else '0c000600'}); IWDG at about 10 ms",
        "watchdog: fed 5 times; now the firmware hangs",
        "watchdog: reset by the IWDG (RCC_CSR " + ("20000000" if board == "stm32f407vg" else "20000600") + ")",
        "watchdog: reloading the WWDG above its window",
        "watchdog: reset by the WWDG (RCC_CSR " + ("40000000" if board == "stm32f407vg" else "40000600") + "): done",
    ]
    iwdg, wwdg = r.resets
    assert iwdg["cause"] == "iwdg" and "not reloaded for 10.125 ms" in iwdg["why"]
    assert 0.035 < iwdg["seconds"] < 0.040  # five 5 ms feeds, then 10.125 ms
    assert wwdg["cause"] == "wwdg" and "above the window W = 0x50" in wwdg["why"]
    assert iwdg["function"].startswith("main")


@pytest.mark.parametrize(("app", "mhz", "sources"), [("clock_max", 168.0, ["HSI", "PLL"]), ("hello", 16.0, ["HSI"])])
def test_cli_without_mhz_runs_at_the_clock_the_firmware_set(app: str, mhz: float, sources: list[str]) -> None:
    """`simcore run` with no --mhz on a clean run: 168 MHz for a firmware that sets it, HSI 16 MHz for one that
    never touches the clock tree; no override warning either way; the summary and --json show the timeline."""
    p = subprocess.run([sys.executable, "-m", "simcore", "run", str(BIN / "stm32f407vg" / f"{app}.elf"),
                        "--board", "stm32f407vg", "--json", "-"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["mhz"] == mhz and data["clock"]["mode"] == "firmware"
    assert [seg["source"] for seg in data["clock"]["timeline"]] == sources
    assert f"board stm32f407vg at {mhz:g} MHz" in p.stderr
    assert "overrides" not in p.stderr and "warning" not in p.stderr.lower()
    if len(sources) > 1:
        assert "clock        16 MHz (HSI) -> 168 MHz (PLL) at " in p.stderr
