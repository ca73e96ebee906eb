"""The Python path of one peripheral model register access (bus -> model -> polling watch), made cheaper
without changing a figure: hal_bench's access modes make the accesses they say, and the polling watch that
takes the core registers only when a read can complete a loop candidate gives the figures of one that takes
them at every repeated read."""

from __future__ import annotations

import json
import re

import pytest

import simcore.api as sc
from simcore.cortexm.coreregs import CoreRegs
from simcore.poll import PollWatch
from tests.conftest import elf

# board -> (register the mode reaches, reads or writes) per hal_bench access mode (firmware/apps/hal_bench)
ACCESS = {
    "stm32f407vg": {"plainr": ("GPIOD.OSPEEDR", 0), "plainw": ("GPIOD.OSPEEDR", 1), "usart": ("USART3.SR", 0),
                    "i2c": ("I2C1.SR2", 0), "odr": ("GPIOD.ODR", 1)},
    "b-l475e-iot01a": {"plainr": ("GPIOB.OSPEEDR", 0), "plainw": ("GPIOB.OSPEEDR", 1), "usart": ("USART3.ISR", 0),
                       "i2c": ("I2C1.ISR", 0), "odr": ("GPIOB.ODR", 1)},
}


@pytest.mark.parametrize("board", sorted(ACCESS))
def test_access_modes_make_the_accesses_they_count(board: str) -> None:
    n = 25
    for mode, (reg, write) in ACCESS[board].items():
        m = sc.prepare(elf(board, "hal_bench"), board, cmdline=f"hal_bench.elf {mode} {n}")
        r = sc.run_machine(m)
        assert r.exit_status == 0, r.stop.message
        said = re.search(rb"hal_bench \w+ \d+: (\d+) accesses", r.console)
        assert said is not None and int(said.group(1)) == 8 * n
        assert m.bus.counts(reg)[write] == 8 * n
        assert m.bus.counts(reg)[1 - write] == 0
    odr = sc.prepare(elf(board, "hal_bench"), board, cmdline=f"hal_bench.elf odr {n}")
    r = sc.run_machine(odr)
    pin = "PD12" if board == "stm32f407vg" else "PB14"
    gpio = odr.peripheral("gpiod" if board == "stm32f407vg" else "gpiob")
    assert gpio.counts == {f"{pin}_rises": 4 * n, f"{pin}_falls": 4 * n}  # every write toggles the LED


# polls in one block (plainr), HAL waits on flags, timer loops fast-forwarded, a loop refused (ramcount),
# loops on plain registers served in C, the nRF52 timers
CASES = [("stm32f407vg", "hal_bench", "hal_bench.elf plainr 40"),
         ("b-l475e-iot01a", "hal_bench", "hal_bench.elf i2c 40"),
         ("stm32f407vg", "poll_wait", "poll_wait.elf hal"), ("stm32f407vg", "poll_wait", "poll_wait.elf tim6 3"),
         ("stm32f407vg", "poll_wait", "poll_wait.elf cnt 20"), ("stm32f407vg", "poll_wait", "poll_wait.elf ramcount"),
         ("stm32f407vg", "poll_wait", "poll_wait.elf plaintimeout"), ("nrf52840", "poll_wait", "poll_wait.elf timer 3")]


def _figures(board: str, app: str, cmdline: str) -> dict[str, object]:
    r = sc.run(elf(board, app), board, cmdline=cmdline, max_instructions=30_000_000)
    d = r.to_dict()
    d.pop("wall_seconds", None)
    d.pop("timing", None)
    return json.loads(json.dumps(d, default=str))


@pytest.mark.parametrize(("board", "app", "cmdline"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_registers_taken_lazily_give_the_same_figures(board: str, app: str, cmdline: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    taken = 0
    real = CoreRegs.fingerprint

    def counting(self: CoreRegs, ids: tuple[int, ...]) -> bytes:
        nonlocal taken
        taken += 1
        return real(self, ids)

    monkeypatch.setattr(CoreRegs, "fingerprint", counting)
    lazy = _figures(board, app, cmdline)
    lazy_taken, taken = taken, 0
    monkeypatch.setattr(PollWatch, "LAZY_REGS", False)
    every = _figures(board, app, cmdline)
    assert lazy == every
    assert lazy_taken <= taken
    if "plainr" in cmdline:  # eight reads per block: only the first of each advanced time
        assert lazy_taken * 4 < taken


def test_the_pc_the_register_file_reads_before_python_is_the_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Model reads hand the polling watch the PC the register file read in C before calling Python
    (rf_set_pc_reader): it equals what the engine answers when asked from Python at that moment."""
    seen: list[tuple[int, int]] = []
    real = PollWatch.on_read

    def checking(self: PollWatch, owner: object, offset: int, addr: int, value: int, pc: int | None = None) -> object:
        if pc is not None:
            seen.append((pc, self.m.pc()))
        return real(self, owner, offset, addr, value, pc)

    monkeypatch.setattr(PollWatch, "on_read", checking)
    for board, app, cmdline in (("stm32f407vg", "hal_bench", "hal_bench.elf plainr 20"),
                                ("stm32f407vg", "poll_wait", "poll_wait.elf tim6 2"),
                                ("b-l475e-iot01a", "hal_bench", "hal_bench.elf usart 20")):
        before = len(seen)
        r = sc.run(elf(board, app), board, cmdline=cmdline)
        assert r.exit_status == 0, r.stop.message
        assert len(seen) > before  # model reads came with the PC
    assert all(given == asked for given, asked in seen)
    assert len({pc for pc, _ in seen}) > 3
