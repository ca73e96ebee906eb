"""Nanoseconds per memory-mapped access: plain memory, plain registers in C and in Python, model registers.

A Thumb loop of 16 unrolled loads (or stores) from one address runs on bare Unicorn (no hooks)
for each kind of target, side by side in one process:

- ``ram``: ordinary memory (the floor);
- ``plain, C``: a generic SVD register served by the register file in C (simcore/native/regfile.c);
- ``plain, C, poll watch on``: the same with the machine's poll watch (a Python call at every 16th
  equal read in a row from one block until the watcher mutes the streak: the steady state costs
  nothing), and ``watch never muted`` (a Python call per 16 reads: what muting saves);
- ``plain, Python twin``: the same register in the Python register file (``--python-hook``);
- ``model (C bus -> Python)``: a behavioural model's register (STM32F4 USART SR, a ``read_SR``
  handler), reached through the C register file's call into Python;
- ``model (Unicorn Python MMIO)``: the same model behind Unicorn's own Python MMIO callback (how
  every peripheral access was served before the bus).

Figures are printed, not asserted (the machine is shared and noisy); ``--repeat N`` keeps the best.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import unicorn  # noqa: E402

from simcore.board import Peripheral  # noqa: E402
from simcore.peripherals.sensors.testing import FakeHost  # noqa: E402
from simcore.peripherals.stm32.usart import Stm32F4Usart  # noqa: E402
from simcore.poll import MUTE_AFTER, POLL_THRESHOLD  # noqa: E402
from simcore.regfile import NOTIFY, POLL_MUTE, PY, NativeRegFile, PyRegFile, regfile_library  # noqa: E402

CODE, RAM, PERIPH = 0x08000000, 0x20000000, 0x40000000
UNROLL = 16
LDR_R2_R0 = 0x6802  # ldr r2, [r0]
STR_R2_R0 = 0x6002  # str r2, [r0]
SUBS_R1_1 = 0x3901  # subs r1, #1
BNE_BACK = 0xD000 | (0x1 << 8) | ((-(2 * UNROLL + 2 + 4) // 2) & 0xFF)  # bne to the loop's start


def loop_code(store: bool) -> bytes:
    op = STR_R2_R0 if store else LDR_R2_R0
    return struct.pack(f"<{UNROLL + 2}H", *([op] * UNROLL), SUBS_R1_1, BNE_BACK)


def engine(store: bool) -> unicorn.Uc:
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(unicorn.arm_const.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(CODE, 0x1000, unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)
    uc.mem_map(RAM, 0x1000)
    uc.mem_write(CODE, loop_code(store))
    return uc


def timed(uc: unicorn.Uc, target: int, iterations: int, repeat: int) -> float:
    """Best wall time per access in ns over ``repeat`` runs."""
    end = CODE + 2 * (UNROLL + 2)
    best = float("inf")
    for _ in range(repeat):
        uc.reg_write(unicorn.arm_const.UC_ARM_REG_R0, target)
        uc.reg_write(unicorn.arm_const.UC_ARM_REG_R1, iterations)
        uc.reg_write(unicorn.arm_const.UC_ARM_REG_R2, 0)
        t = time.perf_counter()
        uc.emu_start(CODE | 1, end)
        best = min(best, time.perf_counter() - t)
    return best / (iterations * UNROLL) * 1e9


def usart(host: FakeHost) -> Stm32F4Usart:
    return Stm32F4Usart(Peripheral("usart2", "stm32f4_usart", 0x40004400, part="stm32f407vg"), host)


def measure(store: bool, iterations: int, repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    host = FakeHost()
    model = usart(host)
    model.values["CR1"] = (1 << 13) | (1 << 3)  # UE, TE: stores to DR reach the (fake) console
    sr_or_dr = 0x40004400 + (0x04 if store else 0x00)  # DR for stores (a handler), SR for loads (a handler)

    uc = engine(store)
    out["ram"] = timed(uc, RAM, iterations, repeat)

    def bus_py(addr: int, size: int, value: int, write: int) -> int:
        if write:
            model.write(addr - 0x40004400, size, value)
            return 0
        return model.read(addr - 0x40004400, size)

    def notify(*_: Any) -> None:
        pass

    files: list[tuple[str, Any]] = [("Python twin", PyRegFile)]
    if regfile_library() is not None:
        files.insert(0, ("C", NativeRegFile))
    for label, cls in files:
        rf = cls(bus_py, notify)
        st = rf.add_store(0x24003010)
        plain = rf.add_reg(st, 0x0F437FFF, 0, 0, 0xFFFFFFFF, NOTIFY)
        rf.map(0x40023804, plain)  # RCC.PLLCFGR
        mod = rf.add_reg(rf.add_store(0), 0, 0, 0, 0, PY)
        rf.map(sr_or_dr, mod)
        uc = engine(store)
        rf.map_window(uc, PERIPH, 0x20000000)
        out[f"plain, {label}"] = timed(uc, 0x40023804, iterations, repeat)
        if label == "C" and not store:
            # the machine's poll watch (simcore/poll.py): C calls Python at every POLL_THRESHOLD-th equal read
            # in a row from one block; the watcher mutes a streak it turned down MUTE_AFTER times (this loop
            # is no poll: it never ends), after which the reads cost what they cost unwatched
            calls = [0]

            def muting(index: int, _pc: int, _value: int, _count: int, rf: Any = rf, calls: list[int] = calls) -> None:
                calls[0] += 1
                if calls[0] % MUTE_AFTER == 0:
                    rf.set_flags(index, rf.reg(index)["flags"] | POLL_MUTE)

            rf.set_poll(POLL_THRESHOLD, muting)
            out["plain, C, poll watch on"] = timed(uc, 0x40023804, iterations, repeat)
            rf.set_poll(POLL_THRESHOLD, lambda *_: None)
            rf.set_flags(plain, NOTIFY)
            out["plain, C, watch never muted"] = timed(uc, 0x40023804, iterations, repeat)
            rf.set_poll(0, None)
        if label == "C":
            out["model (C bus -> Python)"] = timed(uc, sr_or_dr, max(iterations // 20, 10), repeat)
        del uc
    uc = engine(store)
    uc.mmio_map(PERIPH, 0x20000000, lambda _u, off, size, _d: bus_py(PERIPH + off, size, 0, 0), None,
                lambda _u, off, size, value, _d: bus_py(PERIPH + off, size, value, 1), None)
    out["model (Unicorn Python MMIO)"] = timed(uc, sr_or_dr, max(iterations // 20, 10), repeat)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=200_000, help="loop iterations (16 accesses each)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    for store in (False, True):
        figures = measure(store, args.iterations, args.repeat)
        print(f"{'stores' if store else 'loads'} (ns per access, best of {args.repeat}):")
        for label, ns in figures.items():
            print(f"  {label:<32} {ns:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
