"""Guest MIPS of a HAL-style firmware next to the compute benchmark, and the wall time of a 100 ms busy-wait.

Usage: python benchmarks/hal_speed.py [--repeat 3] [--lines 1000] [--board stm32f407vg]

Side by side in one process, best of ``--repeat`` (runs alternate, so a noisy neighbour hurts all):

- ``compute``: firmware/bin/cortex-m4/compute.elf (int8 matmul, the emulation_speed benchmark);
- ``hal``: firmware/bin/<board>/hal_bench.elf ``hal N``: N lines of printf through the polled USART
  console, each followed by HAL_Delay(1) (HAL_GetTick in a loop on a SysTick-driven tick in RAM);
- busy-waits of 100 ms of virtual time, each less its ELF's idle run (start-up and exit only): on
  SysTick's COUNTFLAG (HCLK/8, no interrupt; hal_bench ``flag100``), on TIM2's update flag in one-pulse
  mode (``tim100``, when the board has the TIM models), and, from firmware/bin/*/poll_wait.elf, HAL_Delay
  on TIM6's update flag (100 updates, each polled and cleared), a loop on TIM2's CNT, the nRF52840's
  TIMER1 EVENTS_COMPARE[0] and RTC1 EVENTS_COMPARE[0]. Polling fast-forward (simcore/poll.py) should
  make each cost far less than 100 ms of wall time (goal: under 50 ms).

Per register access (``--access N``, both ``ACCESS_BOARDS``): hal_bench's access modes make 8 x N accesses
of one kind to a model register served in Python (the MMIO callback, the bus, the model's register table,
its handlers, the polling watch, back): ``plainr``/``plainw`` a register with no behaviour (GPIO OSPEEDR),
``usart`` HAL's wait on USART3 TXE (set), ``i2c`` its wait on I2C1 BUSY (clear), ``odr`` LED toggles
through GPIO ODR. The cost of one access is the run's wall time less the ``idle`` run's, over the count;
the firmware's count and the register file's count of the register's accesses are printed next to it.
Per access, the CPU time of the emulating thread is printed next to the wall time: on a shared machine it
moves far less with the load.

Guest MIPS are the run's instructions (fast-forwarded polls included: what the firmware would have
executed) per second of wall time in ``run_machine`` (after ``prepare``: ELF and board loading are
not counted). Figures are printed, not asserted: the machine is shared.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simcore.api import prepare, run_machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POLL_WAIT_IDLE = "uart 0"  # poll_wait printing nothing: its start-up and exit
WAITS = {"tim6 100": "TIM6 SR.UIF, 100 x 1 ms (HAL_Delay on a basic timer)", "cnt 100": "TIM2 CNT reaching 100",
         "timer 100": "TIMER1 EVENTS_COMPARE[0]", "rtc 100": "RTC1 EVENTS_COMPARE[0] (after the LFRC's 0.6 ms)"}
ACCESS_BOARDS = {  # board -> the register each access mode reaches (bus names)
    "stm32f407vg": {"plainr": "GPIOD.OSPEEDR", "plainw": "GPIOD.OSPEEDR", "usart": "USART3.SR", "i2c": "I2C1.SR2",
                    "odr": "GPIOD.ODR"},
    "b-l475e-iot01a": {"plainr": "GPIOB.OSPEEDR", "plainw": "GPIOB.OSPEEDR", "usart": "USART3.ISR",
                       "i2c": "I2C1.ISR", "odr": "GPIOB.ODR"},
}
ACCESS_WHAT = {"plainr": "read, no callback", "plainw": "write, no callback", "usart": "USART TXE poll",
               "i2c": "I2C BUSY poll", "odr": "GPIO ODR write"}
POLL_WAIT = [("stm32f407vg", "tim6 100"), ("stm32f407vg", "cnt 100"), ("stm32f407vg", POLL_WAIT_IDLE),
             ("nrf52840", "timer 100"), ("nrf52840", "rtc 100"), ("nrf52840", POLL_WAIT_IDLE)]


def timed(elf: Path, board: str, cmdline: str | None) -> tuple[float, Any]:
    """Wall seconds of one run (machine built first, not timed) and its result."""
    opts: dict[str, Any] = {} if cmdline is None else {"cmdline": cmdline}
    m = prepare(elf, board, **opts)
    t = time.perf_counter()
    r = run_machine(m)
    return time.perf_counter() - t, r


def access_costs(iterations: int, repeat: int) -> int:
    """Print the wall time of one model register access of each kind, per board (see the module docstring)."""
    import re

    print(f"one model register access (best of {repeat}; 8 x {iterations:,} accesses per run, less the idle run):")
    for board, regs in ACCESS_BOARDS.items():
        elf = ROOT / "firmware" / "bin" / board / "hal_bench.elf"
        best: dict[str, float] = {}
        cpu: dict[str, float] = {}
        counts: dict[str, tuple[int, tuple[int, int]]] = {}
        for _ in range(repeat):
            for mode in ("idle", *regs):
                m = prepare(elf, board, cmdline=f"hal_bench.elf {mode} {iterations}")
                t, c = time.perf_counter(), time.thread_time()
                r = run_machine(m)
                wall, used = time.perf_counter() - t, time.thread_time() - c
                if r.exit_status != 0:
                    print(f"{board} {mode}: exit {r.exit_status}: {r.stop.message}")
                    return 1
                best[mode] = min(wall, best.get(mode, wall))
                cpu[mode] = min(used, cpu.get(mode, used))
                if mode != "idle":
                    said = re.search(rb"(\d+) accesses", r.console)
                    counts[mode] = (int(said.group(1)) if said else -1, m.bus.counts(regs[mode]))
        for mode, reg in regs.items():
            fw, (reads, writes) = counts[mode]
            per = (best[mode] - best["idle"]) / fw * 1e6 if fw > 0 else float("nan")
            per_cpu = (cpu[mode] - cpu["idle"]) / fw * 1e6 if fw > 0 else float("nan")
            print(f"  {board:<15} {mode:<7} {per:6.2f} us per access ({per_cpu:5.2f} CPU)  {ACCESS_WHAT[mode]:<19} "
                  f"{reg:<14} "
                  f"firmware: {fw:,}; register file: {reads:,} reads, {writes:,} writes; "
                  f"{best[mode] * 1e3:.1f} ms run, {best['idle'] * 1e3:.1f} ms idle")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lines", type=int, default=1000, help="lines printed by the HAL-style run")
    ap.add_argument("--board", default="stm32f407vg", choices=["stm32f407vg", "stm32l4r5zi"])
    ap.add_argument("--access", type=int, default=2000, metavar="N",
                    help="iterations of the per-access runs (8 accesses each; 0: skip them)")
    ap.add_argument("--only-access", action="store_true", help="only the per-access figures")
    args = ap.parse_args(argv)
    if args.access > 0 and access_costs(args.access, args.repeat):
        return 1
    if args.only_access:
        return 0
    hal_elf = ROOT / "firmware" / "bin" / args.board / "hal_bench.elf"
    runs = {
        "compute": (ROOT / "firmware" / "bin" / "cortex-m4" / "compute.elf", "cortex-m4", None),
        "hal": (hal_elf, args.board, f"hal_bench.elf hal {args.lines}"),
        "flag100": (hal_elf, args.board, "hal_bench.elf flag100"),
        "idle": (hal_elf, args.board, "hal_bench.elf idle"),
    }
    if prepare(hal_elf, args.board).peripheral("tim2") is not None:  # the TIM models are on the board
        runs["tim100"] = (hal_elf, args.board, "hal_bench.elf tim100")
    for part, mode in POLL_WAIT:
        runs[f"{part} {mode}"] = (ROOT / "firmware" / "bin" / part / "poll_wait.elf", part, f"poll_wait.elf {mode}")
    best: dict[str, tuple[float, Any]] = {}
    for _ in range(args.repeat):
        for name, (elf, board, cmd) in runs.items():
            wall, r = timed(elf, board, cmd)
            if r.exit_status != 0:
                print(f"{name}: exit {r.exit_status}: {r.stop.message}")
                return 1
            if name not in best or wall < best[name][0]:
                best[name] = (wall, r)
    print(f"guest MIPS (best of {args.repeat}; instructions per wall second in run_machine):")
    for name in ("compute", "hal"):
        wall, r = best[name]
        poll = r.extra["polling"]
        share = poll["cycles_skipped"] / r.cycles if r.cycles else 0.0
        print(f"  {name:<8} {r.instructions / wall / 1e6:8.1f} MIPS  {r.instructions:>13,} instructions in "
              f"{wall * 1e3:8.1f} ms wall, {r.seconds * 1e3:9.3f} ms virtual ({share:.0%} of cycles fast-forwarded)")
    waits = [("flag100", "SysTick COUNTFLAG", args.board, "idle"), ("tim100", "TIM2 SR.UIF", args.board, "idle")]
    waits += [(f"{part} {mode}", WAITS[mode], part, f"{part} {POLL_WAIT_IDLE}") for part, mode in POLL_WAIT
              if mode != POLL_WAIT_IDLE]
    for name, what, board, idle_run in waits:
        if name not in best:
            print(f"100 ms busy-wait on {what}: not run (no TIM2 model on {board})")
            continue
        wall, r = best[name]
        idle = best[idle_run][0]
        print(f"100 ms busy-wait on {what} ({board}): {(wall - idle) * 1e3:.2f} ms wall "
              f"({wall * 1e3:.2f} ms run, {idle * 1e3:.2f} ms idle run subtracted; goal under 50 ms); "
              f"{r.extra['polling']['fast_forwards']} fast-forward(s), {r.seconds * 1e3:.3f} ms virtual")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
