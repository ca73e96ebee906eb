"""nRF52840 WDT (PS v1.7 6.36), RNG (6.21), NVMC (4.3) and SAADC (6.23) through their registers on a fake clock."""

from __future__ import annotations

import random
from pathlib import Path

from simcore.runtypes import ReportChannel
from tests.unit.nrf52_fakes import Part

FS = 10**15
RAM = 0x20000000
# WDT
W_START, W_TIMEOUT, W_RUNSTATUS, W_REQSTATUS, W_CRV, W_RREN, W_CONFIG, W_RR = (0x000, 0x100, 0x400, 0x404, 0x504,
                                                                              0x508, 0x50C, 0x600)
RELOAD = 0x6E524635
# RNG
R_START, R_STOP, R_VALRDY, R_SHORTS, R_CONFIG, R_VALUE = 0x000, 0x004, 0x100, 0x200, 0x504, 0x508
# NVMC
N_READY, N_CONFIG, N_ERASEPAGE = 0x400, 0x504, 0x508
# SAADC
S_START, S_SAMPLE, S_STARTED, S_END, S_DONE, S_RESULTDONE = 0x000, 0x004, 0x100, 0x104, 0x108, 0x10C
S_ENABLE, S_PSELP, S_CONFIG, S_RESOLUTION, S_PTR, S_MAXCNT, S_AMOUNT = 0x500, 0x510, 0x518, 0x5F0, 0x62C, 0x630, 0x634


def _run_until(part: Part, name: str, offset: int) -> int:
    while not part.read(name, offset):
        nxt = part.host.next_event_cycle()
        assert nxt is not None, f"{name}+{offset:#x} never set"
        part.host.advance_to(nxt)
    return part.host.cycles


def test_wdt_resets_the_part_crv_plus_one_lfclk_cycles_after_the_last_reload() -> None:
    part = Part()
    part.write("wdt", W_CONFIG, 1)
    part.write("wdt", W_CRV, 327)  # (327 + 1) / 32768 s = 10.009765625 ms
    part.write("wdt", W_RREN, 0b11)
    part.write("wdt", W_START, 1)
    assert part.read("wdt", W_RUNSTATUS) == 1 and part["wdt"].reset_armed()
    part.advance_us(8000)
    part.write("wdt", W_RR, RELOAD)  # RR[0] alone does not reload: RR[1] is enabled too
    assert part.read("wdt", W_REQSTATUS) == 0b10
    part.write("wdt", W_RR + 4, 0x12345678)  # a wrong value reloads nothing
    part.write("wdt", W_RR + 4, RELOAD)
    reloaded = part.host.cycles
    assert part.read("wdt", W_REQSTATUS) == 0b11  # all requested again for the next period
    part.write("wdt", W_CRV, 100)  # write-protected while running: reported, ignored
    assert part.read("wdt", W_CRV) == 327 and "WDT.CRV" in part.host.unmodelled
    timeout = _run_until(part, "wdt", W_TIMEOUT)
    assert timeout - reloaded == -(-328 * 64_000_000 // 32768)  # in cycles at 64 MHz, rounded up
    assert not part.host.resets
    part.host.advance_to(part.host.next_event_cycle())  # two LFCLK cycles after the timeout
    ((cycle, cause, why),) = part.host.resets
    assert cause == "wdt" and "CRV + 1 = 328" in why and "1 reloads before" in why
    assert cycle - timeout in (3906, 3907)  # 2 / 32768 s at 64 MHz


def test_rng_bytes_follow_the_seed_and_the_valrdy_stop_shortcut() -> None:
    part = Part({"rng": {"seed": 5}})
    part.write("rng", R_CONFIG, 1)  # bias correction: 120 us a byte
    part.write("rng", R_START, 1)
    got, times = [], []
    for _ in range(4):
        times.append(_run_until(part, "rng", R_VALRDY))
        got.append(part.read("rng", R_VALUE))
        part.write("rng", R_VALRDY, 0)
    gen = random.Random(5)
    assert got == [gen.getrandbits(8) for _ in range(4)]  # the documented generator, seeded by the option
    assert times == [120 * 64 * (k + 1) for k in range(4)]
    part.write("rng", R_SHORTS, 1)  # VALRDY_STOP: one more byte, then nothing
    _run_until(part, "rng", R_VALRDY)
    assert part.host.next_event_cycle() is None


def test_nvmc_programs_words_and_erases_pages_with_their_times() -> None:
    part = Part()
    flash = bytearray(b"\xff" * 0x2000)
    part.host.mem_read = lambda addr, size: bytes(flash[addr : addr + size])  # type: ignore[method-assign]

    def mem_write(addr: int, data: bytes) -> None:
        if addr < len(flash):
            flash[addr : addr + len(data)] = data[: len(flash) - addr]

    part.host.mem_write = mem_write  # type: ignore[method-assign]
    write = part.host.protected_write
    assert write(0x1000, 4, 0x12345678) is False  # CONFIG = Ren: a store to flash faults as it always did
    part.write("nvmc", N_CONFIG, 1)  # Wen
    assert write(0x1000, 4, 0x12345678) is True and flash[0x1000:0x1004] == bytes.fromhex("78563412")
    assert part.read("nvmc", N_READY) == 0
    part.advance_us(41)
    assert part.read("nvmc", N_READY) == 1  # t_WRITE
    write(0x1000, 4, 0xFFFF0000)  # only 1 -> 0: the word becomes old AND new, reported
    assert flash[0x1000:0x1004] == bytes.fromhex("00003412")
    assert part.host.channels["NVMC.CONFIG"] == ReportChannel.GUEST_ERROR
    part.write("nvmc", N_ERASEPAGE, 0x1000)  # not in Een: reported, nothing erased
    assert flash[0x1000] == 0
    part.write("nvmc", N_CONFIG, 2)
    part.advance_us(100)
    part.write("nvmc", N_ERASEPAGE, 0x1000)
    assert flash[0x1000:0x2000] == b"\xff" * 0x1000
    part.advance_us(84_999)
    assert part.read("nvmc", N_READY) == 0
    part.advance_us(1)
    assert part.read("nvmc", N_READY) == 1  # t_ERASEPAGE 85 ms


def test_saadc_converts_the_recorded_volts_with_gain_reference_and_resolution(tmp_path: Path) -> None:
    rec = tmp_path / "ain.csv"
    rec.write_text("time,AIN2\n0,0.0\n0.001,1.5\n0.002,3.3\n")
    part = Part({"saadc": {"source": str(rec)}})
    part.write("saadc", S_RESOLUTION, 2)  # 12 bits
    part.write("saadc", S_PSELP + 2 * 16, 3)  # channel 2 on AIN2
    part.write("saadc", S_CONFIG + 2 * 16, 2 << 16)  # gain 1/6, internal 0.6 V, TACQ 10 us
    part.write("saadc", S_PTR, RAM + 0x100)
    part.write("saadc", S_MAXCNT, 3)
    part.write("saadc", S_ENABLE, 1)
    part.write("saadc", S_START, 1)
    _run_until(part, "saadc", S_STARTED)
    for t_us in (500, 1500, 2500):
        part.advance_us(t_us - part.host.cycles / 64 - 10)  # the acquisition ends at t_us
        part.write("saadc", S_SAMPLE, 1)
        _run_until(part, "saadc", S_DONE)
        part.write("saadc", S_DONE, 0)
    assert part.read("saadc", S_END) == 1 and part.read("saadc", S_AMOUNT) == 3
    got = [int.from_bytes(part.host.ram[0x100 + 2 * k : 0x102 + 2 * k], "little", signed=True) for k in range(3)]
    # PS 6.23 "Digital output": V x (1/6) / 0.6 V x 2^12 (full scale 3.6 V), the value held at the acquisition's end
    assert got == [round(v / 6 / 0.6 * 4096) for v in (0.0, 1.5, 3.3)]
