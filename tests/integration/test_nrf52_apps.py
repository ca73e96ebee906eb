"""nRF52840 apps written from the Product Specification's procedures (firmware/apps/nrf_*): output and virtual time."""

from __future__ import annotations

from pathlib import Path

import simcore.api as sc

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "firmware" / "bin" / "nrf52840"
CPU_HZ = 64e6
BAUD = 0x01D7E000 * 16e6 / 2**32  # PS 6.34.10: BAUDRATE x 16 MHz / 2^32 (115203.86 baud)


def _run(app: str, **kw: object) -> sc.RunResult:
    r = sc.run(BIN / f"{app}.elf", "nrf52840", **kw)
    assert r.exit_status == 0, r.stop.message
    return r


def test_clock_bring_up_and_1khz_timer_interrupts() -> None:
    r = _run("nrf_clock")
    lines = r.text.splitlines()
    assert lines[0] == "nrf_clock: HFCLKSTAT 00010000 LFCLKSTAT 00000000 at reset"  # HFINT running, LFCLK off
    hf = int(lines[1].split()[3])
    assert lines[1].endswith("(HFCLKSTAT 00010001)")  # running from the crystal
    assert 256e-6 * CPU_HZ <= hf < 256e-6 * CPU_HZ + 100  # HFXODEBOUNCE reset value 0x10: 256 us
    lf = int(lines[2].split()[3])
    assert lines[2].endswith("(LFCLKSTAT 00010001)")  # LFXO running
    assert 0.25 * CPU_HZ <= lf < 0.25 * CPU_HZ + 100  # LFXO start-up 0.25 s (PS typical)
    words = lines[3].split()
    assert words[1:3] == ["1000", "interrupts"]
    cycles, rtc = int(words[4]), int(words[6])
    assert abs(cycles - CPU_HZ) < 200  # 1000 periods of 1000 us at 1 MHz: 1.000 s of virtual time
    assert abs(rtc - 32768) <= 1  # the RTC on the LFXO agrees
    assert [(seg["mhz"], seg["source"]) for seg in r.clock["timeline"]] == [(64, "HFINT"), (64, "HFXO")]
    assert r.sleep_cycles > 0.99 * CPU_HZ  # WFI between the interrupts
    assert 1.265 < r.seconds < 1.275  # 1 s of ticks after 250 ms of LFXO start-up and 20 ms of text
    assert not r.reports["guest_errors"] and not r.reports["unimplemented"]


def test_uarte_polled_and_interrupt_driven_transmit_at_the_baud_rate() -> None:
    r = _run("nrf_uarte")
    lines = r.text.splitlines()
    assert lines[1] == "0123456789abcdefghijklmnopqrstuvwxyz" * 2
    n, polled = int(lines[2].split()[1]), int(lines[2].split()[4])
    assert n == 73
    ideal = n * 10 / BAUD * CPU_HZ  # 8N1: 10 bits a byte
    assert ideal <= polled < ideal + 5000  # two chunks (64 + 9 bytes), the copies, STOPTX and printf
    assert lines[3:7] == [f"interrupt-driven line {i} of 4, from RAM by EasyDMA" for i in range(1, 5)]
    words = lines[7].split()
    total, chunks, cycles = int(words[1]), int(words[4]), int(words[6])
    assert (total, chunks) == (200, 7)  # 32-byte chunks
    ideal = total * 10 / BAUD * CPU_HZ
    assert ideal <= cycles < ideal + chunks * 200  # back to back but for the handler's restart of each chunk
    assert r.sleep_cycles > 0.9 * ideal  # the CPU slept through the interrupt-driven transfer


def test_starved_wdt_resets_the_part_and_resetreas_says_so() -> None:
    r = _run("nrf_wdt")
    assert r.text.splitlines() == [
        "nrf_wdt: power-on (RESETREAS 00000000); WDT timeout 100 ms",
        "nrf_wdt: reloaded 5 times; now the firmware hangs",
        "nrf_wdt: reset by the watchdog (RESETREAS 00000002, GPREGRET 5a, WDT RUNSTATUS 0)",  # DOG; retained
        "RESETREAS after clearing 00000000: done",
    ]
    (reset,) = r.resets
    assert reset["cause"] == "wdt" and "CRV + 1 = 3277 cycles of 32.768 kHz" in reset["why"]
    assert reset["function"].startswith("main")
    # five reloads 50 ms apart, the text (about 5 ms at 115200 baud), then (CRV + 1) / 32768 s and 2 LFCLK cycles
    timeout = 3277 / 32768 + 2 / 32768
    assert 0.25 + timeout < reset["seconds"] < 0.25 + timeout + 0.006
    assert r.to_dict()["resets"] == r.resets


def test_gpiote_in_event_from_a_recording_toggles_the_led(tmp_path: Path) -> None:
    presses = [0.010, 0.050, 0.100]  # P0.11 falls (pressed: low) at these times
    rec = tmp_path / "buttons.csv"
    rec.write_text("time,P0.11\n0,1\n0.010,0\n0.030,1\n0.050,0\n0.060,1\n0.100,0\n0.120,1\n")
    r = _run("nrf_gpiote", sensors={"p0": str(rec)})
    lines = r.text.splitlines()
    assert lines[0] == "nrf_gpiote: waiting for 3 presses on P0.11 (P0.IN 00002800)"  # pulled-up input, LED off
    stamps = [int(line.split()[3]) for line in lines[1:4]]  # TIMER0 at 1 MHz, started at boot
    assert [b - a for a, b in zip(stamps, stamps[1:])] == [40_000, 50_000]
    assert lines[4] == "LED P0.13 is on"  # toggled three times from off
    led = [c for c in r.extra["sensors"]["p0"]["changes"] if c["pin"] == "P0.13"]
    assert [c["level"] for c in led] == [1, 0, 1, 0]  # OUTSET at start, then a toggle at each press
    for change, t in zip(led[1:], presses):
        assert 0 < change["time_s"] - t < 5e-6  # the interrupt's latency
    assert r.sleep_cycles > 0.85 * r.cycles  # WFI between presses


def test_saadc_sampled_by_timer_through_ppi_into_easydma(tmp_path: Path) -> None:
    rec = tmp_path / "ain0.csv"  # AIN0 steps 50 mV every millisecond
    rec.write_text("time,AIN0\n" + "".join(f"{j / 1000:.3f},{0.05 * j:.2f}\n" for j in range(41)))
    r = _run("nrf_saadc", sensors={"saadc": str(rec)})
    words = r.text.split()
    assert words[1:3] == ["16", "results"]
    cycles = int(words[4])
    results = [int(w) for w in words[6:]]
    # PS 6.23 "Digital output": RESULT = V x GAIN / REFERENCE x 2^12, gain 1/6, reference 0.6 V
    levels = [round(0.05 * j * (1 / 6) / 0.6 * 4096) for j in range(41)]
    j0 = levels.index(results[0])  # sample k at (timer start + k + 1 ms + 10 us acquisition): step j0 + k
    assert results == levels[j0 : j0 + 16]
    # END 16 periods of 1 ms after the timer started, plus the last acquisition (10 us) and conversion (2 us)
    assert 0 <= cycles - (16e-3 + 12e-6) * CPU_HZ < 100
    assert r.extra["sensors"]["saadc"]["source"] == str(rec)


def test_rtc_wakeups_from_wfi_and_wfe_and_the_energy_of_sleep() -> None:
    r = _run("nrf_sleep")
    lines = r.text.splitlines()
    assert lines[1].startswith("wake-ups 10 (WFI loops 5, WFE loops 5), RTC1 COUNTER ")
    assert 32770 <= int(lines[1].split()[-1]) <= 32772  # ten periods of 3277 ticks
    seconds = r.seconds
    sleep_s = r.sleep_cycles / CPU_HZ
    active_s = seconds - sleep_s
    assert 0.99 < sleep_s < 1.0  # 1.0006 s of periods, nearly all of it asleep
    assert 0.25 < active_s < 0.27  # the LFXO start-up (0.25 s, polled) and the text
    # PS v1.7 5.2 figures the board file carries: 52 uA/MHz running, 3.16 uA asleep (System ON, RTC), 3 V
    expected = 3.0 * (52e-6 * 64 * active_s + 3.16e-6 * sleep_s)
    energy = r.extra["energy"]
    assert abs(energy["joules"] - expected) < 1e-6 * expected
    assert abs(energy["sleep_joules"] - 3.0 * 3.16e-6 * sleep_s) < 1e-9


def test_apps_run_strict_with_nothing_unmodelled() -> None:
    apps = {"nrf_clock": {}, "nrf_uarte": {}, "nrf_wdt": {}, "nrf_sleep": {},
            "nrf_gpiote": {"sensors": {"p0": str(ROOT / "firmware/apps/nrf_gpiote/buttons.csv")}},
            "nrf_saadc": {"sensors": {"saadc": str(ROOT / "firmware/apps/nrf_saadc/ain0.csv")}}}
    for app, kw in apps.items():
        r = _run(app, strict=True, **kw)
        assert not r.reports["unimplemented"] and not r.reports["guest_errors"], app
        assert not r.to_dict()["unmodelled_accesses"], app


SENSE_BOARD = """extends = "nrf52840"
name = "nrf52840-sensors-test"
[[device]]
name = "imu"
type = "lsm9ds1"
bus = "twim1"
address = 0x6B
[[device]]
name = "mag"
type = "lsm9ds1_mag"
bus = "twim1"
address = 0x1E
[[device]]
name = "env"
type = "hts221"
bus = "twim1"
address = 0x5F
[[device]]
name = "light"
type = "apds9960"
bus = "twim1"
address = 0x39
[[device]]
name = "accel"
type = "lis3dsh"
bus = "spim2"
cs = "P0.20"
"""


def test_twim_and_spim_reach_the_board_chips(tmp_path: Path) -> None:
    board = tmp_path / "sense.toml"
    board.write_text(SENSE_BOARD)
    r = sc.run(BIN / "nrf_twim.elf", board, strict=True)
    assert r.exit_status == 0, r.stop.message
    assert r.text.splitlines() == [
        "LSM9DS1 WHO_AM_I (0x6b): 68",  # the chips' datasheet identities
        "LSM9DS1 WHO_AM_I_M (0x1e): 3d",
        "HTS221 WHO_AM_I (0x5f): bc",
        "APDS-9960 ID (0x39): ab",
        "APDS-9960 ATIME written db, read db (errors 0 0)",
        "empty address 0x50: ERRORSRC 2 (ANACK = 2)",
        "LIS3DSH WHO_AM_I over SPIM2: 3f",
    ]
    assert not r.reports["unimplemented"] and not r.reports["guest_errors"]
    empty = _run("nrf_twim")  # the bare part: every address NACKs, SPI reads the idle line
    assert "LSM9DS1 WHO_AM_I (0x6b): 00 NACK" in empty.text


def test_uarte_receive_by_interrupt_with_double_buffered_easydma(tmp_path: Path) -> None:
    text = b"hello over UARTE RX, 8 bytes at a time\n"  # 39 bytes: four full buffers and 7 bytes
    (tmp_path / "rx.txt").write_bytes(text)
    board = tmp_path / "rx.toml"
    board.write_text(f'extends = "nrf52840"\nname = "nrf52840-rx"\n[[peripheral]]\nname = "uarte0"\n'
                     f'input = "{tmp_path / "rx.txt"}"\n')
    r = sc.run(BIN / "nrf_uarte.elf", board, cmdline="nrf_uarte.elf rx", strict=True)
    assert r.exit_status == 0, r.stop.message
    assert r.text.startswith("nrf_uarte: receiving into 2 x 8-byte EasyDMA buffers\n")
    head, rest = r.text.splitlines(keepends=True)[1].split(": ", 1)
    assert rest.encode() == text  # every byte, in order, through the two buffers
    words = head.split()
    assert (int(words[1]), int(words[4])) == (39, 5)  # 4 full buffers, then the 7 bytes STOPRX ended
    ideal = 32 * 10 / BAUD * CPU_HZ  # the 32nd byte ends the 4th buffer
    assert 0 <= int(words[11]) - ideal < 400
    assert r.extra["sensors"]["uarte0"]["rx_bytes"] == 39


def test_nvmc_erases_and_programs_flash_with_rng_bytes(tmp_path: Path) -> None:
    r = _run("nrf_nvmc", strict=True)
    lines = r.text.splitlines()
    words = lines[0].split()
    rng = words[3:11]
    assert abs(int(words[12]) - 8 * 120e-6 * CPU_HZ) < 500  # 120 us a byte with bias correction (PS typical)
    erase = lines[1].split()
    assert erase[2] == "000ff000" and erase[-2:] == ["ffffffff", "ffffffff"]
    assert abs(int(erase[4]) - 85e-3 * CPU_HZ) < 200  # t_ERASEPAGE
    w0 = int("".join(reversed(rng[:4])), 16)  # little-endian words of the random bytes
    w1 = int("".join(reversed(rng[4:])), 16)
    assert lines[2].split()[8:11] == [f"{w0:08x}", f"{w1:08x}:", "ok"]
    assert abs(int(lines[2].split()[4]) - 2 * 41e-6 * CPU_HZ) < 200  # t_WRITE twice
    assert _run("nrf_nvmc").text == r.text  # seeded: the same bytes every run
    board = tmp_path / "seed.toml"
    board.write_text('extends = "nrf52840"\nname = "nrf52840-seed"\n[[peripheral]]\nname = "rng"\nseed = 7\n')
    other = sc.run(BIN / "nrf_nvmc.elf", board)
    assert other.exit_status == 0 and other.text.split()[3:11] != rng


def test_native_and_python_hot_paths_give_the_same_counts() -> None:
    ain = {"sensors": {"saadc": str(ROOT / "firmware/apps/nrf_saadc/ain0.csv")}}
    for app, kw in (("nrf_uarte", {}), ("nrf_saadc", ain), ("nrf_wdt", {})):
        a, b = _run(app, native=True, **kw), _run(app, native=False, **kw)
        assert (a.instructions, a.cycles, a.sleep_cycles, a.text) == (b.instructions, b.cycles, b.sleep_cycles,
                                                                      b.text), app


def test_sleeping_with_only_a_free_running_timer_stops_at_once() -> None:
    """nrf_gpiote without its button recording: TIMER0 runs free (its compares, CC = 0, every 2^32 us) with its
    interrupts off and GPIOTE waits for a press that never comes. The run stops "sleeping forever" at the first
    wfi, before any wrap, instead of after the backstop's million events (136 years of virtual time)."""
    r = sc.run(BIN / "nrf_gpiote.elf", "nrf52840")
    assert r.stop.kind.value == "sleeping" and r.exit_status == 125
    assert "sleeping forever" in r.stop.message
    assert "the events scheduled (TIMER0 compare) cannot raise an enabled interrupt" in r.stop.message
    assert r.seconds < 0.01  # no compare ran: 2^32 us would be 4295 s


def test_a_late_press_still_wakes_the_core(tmp_path: Path) -> None:
    """The same firmware with presses after TIMER0 wrapped twice (4295 s each): the recording's events can raise
    GPIOTE's interrupt, so the core sleeps through the compares until them, and the captured stamps are the
    press times modulo 2^32 us."""
    presses = [9000.0, 9000.5, 9001.25]
    rows = ["time,P0.11", "0,1"] + [f"{t},0\n{t + 0.1},1" for t in presses]
    rec = tmp_path / "late.csv"
    rec.write_text("\n".join(rows) + "\n")
    r = _run("nrf_gpiote", sensors={"p0": str(rec)})
    stamps = [int(line.split()[3]) for line in r.text.splitlines()[1:4]]
    for stamp, t in zip(stamps, presses, strict=True):
        assert abs(stamp - round(t * 1e6) % 2**32) < 50  # TIMER0 started a few us after boot; the latency
    assert [b - a for a, b in zip(stamps, stamps[1:])] == [500_000, 750_000]
    assert r.seconds > presses[-1]


def test_which_events_can_wake_a_sleeping_core() -> None:
    """The decision behind the stop, on the machine nrf_gpiote left asleep: TIMER0's compares raise nothing
    while its INTEN is 0; its line once a COMPARE bit is set, which wakes only when the NVIC enables TIMER0;
    anything (unknown) once the PPI routes a compare event."""
    m = sc.prepare(BIN / "nrf_gpiote.elf", "nrf52840")
    m.run()
    system, timer, ppi = m.system, m.peripheral("timer0"), m.peripheral("ppi")
    (ev,) = [e for e in m.events.heap if not e.cancelled]
    assert ev.tag == "TIMER0 compare" and ev.raises() == frozenset()
    assert system._events_cannot_wake(False) == "TIMER0 compare"
    timer.write_INTENSET(1 << 16)  # COMPARE[0]
    assert ev.raises() == frozenset({timer.irq})
    assert system._events_cannot_wake(False) == "TIMER0 compare"  # the NVIC does not enable TIMER0
    system.exc.enabled[16 + timer.irq] = True
    assert system._events_cannot_wake(False) is None
    system.exc.enabled[16 + timer.irq] = False
    timer.write_INTENCLR(1 << 16)
    ppi.write_CH_EEP(0, timer.base + 0x140)  # EVENTS_COMPARE[0] -> GPIOTE TASKS_OUT[0]
    ppi.write_CH_TEP(0, m.peripheral("gpiote").base)
    ppi.write_CHENSET(1)
    assert ev.raises() is None and system._events_cannot_wake(False) is None


def test_a_free_running_rtc_without_interrupts_cannot_wake_either() -> None:
    """RTC1 counting on the LFCLK with its interrupts off schedules an event that raises nothing (a sleep could not
    end); once its COMPARE0 interrupt is on and the NVIC enables RTC1, it could. (The machine before its first
    instruction, driven through the models.)"""
    m = sc.prepare(BIN / "nrf_gpiote.elf", "nrf52840")
    clock, rtc = m.peripheral("clock"), m.peripheral("rtc1")
    clock.task_LFCLKSTART()
    m.advance_to(m.now_cycles() + int(0.3 * CPU_HZ))  # past the LFCLK's start-up
    m.run_due_events()
    rtc.task_START()
    assert [e.tag for e in m.events.heap if not e.cancelled] == ["RTC1 counter"]
    assert m.system._events_cannot_wake(False) == "RTC1 counter"
    rtc.write_INTENSET(1 << 16)  # COMPARE[0]
    assert m.system._events_cannot_wake(False) is not None  # the NVIC does not enable RTC1 yet
    m.system.exc.enabled[16 + rtc.irq] = True
    assert m.system._events_cannot_wake(False) is None
