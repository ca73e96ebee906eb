"""Fault diagnosis: fault text, PC and LR with symbols, registers, a backtrace by stack scan."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simcore.machine import Machine, Stop


def stack_scan(m: Machine, sp: int, depth: int = 16, words: int = 512) -> list[int]:
    """Return addresses found on the stack that look like return addresses (odd, inside a function)."""
    frames: list[int] = []
    ram = m.board.memory_at(sp, 4)
    if ram is None:
        return frames
    end = min(ram.end, sp + 4 * words)
    data = m.mem_read(sp, max(0, end - sp) & ~3)
    for (value,) in struct.iter_unpack("<I", data):
        if value & 1 and m.fw.function_at(value - 1) is not None:
            frames.append(value & ~1)
            if len(frames) >= depth:
                break
    return frames


def fault_stop(m: Machine, what: str, pc: int, access: tuple[str, int, int] | None = None) -> Stop:
    from simcore.machine import Stop

    regs = m.registers()
    lr = regs["lr"]
    where = m.fw.describe(pc)
    frames = [pc, *stack_scan(m, regs["sp"])]
    trace = [f"#{i} {addr:#010x} {m.fw.describe(addr)}" for i, addr in enumerate(frames)]
    msg = f"{what} at {where} (pc {pc:#010x}, lr {lr:#010x} {m.fw.describe(lr)})"
    details = {
        "fault": what,
        "pc": pc,
        "lr": lr,
        "symbol": where,
        "address": access[1] if access else None,
        "backtrace": trace,
        "backtrace_method": "stack scan",
        "registers": regs,
    }
    return Stop("fault", msg, pc=pc, details=details)
