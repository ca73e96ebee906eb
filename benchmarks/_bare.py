"""Bare Unicorn, the baseline every speed benchmark compares simcore with: one set-up for all of them.

A hookless Unicorn with the board's memories (and their aliases), the ELF's loaded image, peripheral
space answering a fixed "ready" pattern (or the caller's reader), the PPB kept as written, and
semihosting reduced to what the firmware needs to finish: SYS_EXIT/SYS_EXIT_EXTENDED stop the run
with the exit code, SYS_GET_CMDLINE gives the case's command line, SYS_TICKFREQ the board's default
clock (as simcore answers it: apps that derive a timer's prescaler from it refuse 0), every other
call returns 0.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import unicorn
from unicorn import arm_const as R

from simcore.machine import TCG_BUFFER_BYTES

# Every console's "ready" bits at once: CMSDK STATE.TXFULL clear, STM32 SR/ISR.TXE and ISR.TEACK
# set, nRF52 EVENTS_ENDTX set, so polling firmware proceeds without a model.
READY = 0x002000C0

PeripheralRead = Callable[[int], int]  # absolute address -> value
PeripheralWrite = Callable[[unicorn.Uc, int, int], None]  # (engine, absolute address, value)
SystemRead = Callable[[int], int | None]  # absolute PPB address -> value, or None: the value last written


@dataclass
class Bare:
    """A loaded bare Unicorn and what its semihosting hook saw."""

    uc: unicorn.Uc
    pc: int | None  # entry (thumb bit clear) from the reset vector table; None: unreadable
    cmdline: bytes = b""
    tick_hz: int = 0  # SYS_TICKFREQ's answer
    exit_code: list[int | None] = field(default_factory=lambda: [None])


def bare_unicorn(board: Any, fw: Any, read: PeripheralRead | None = None, cmdline: bytes = b"",
                 write: PeripheralWrite | None = None, system: SystemRead | None = None) -> Bare:
    """Unicorn loaded with ``fw`` on ``board``'s memories; SP set from the reset vector table. Peripheral writes
    are dropped, or handed to ``write`` (a stub standing in for a DMA: the nRF52 TWIM's EasyDMA); ``system``
    answers the system registers it knows (a DWT CYCCNT that advances, for firmware that times a delay with it),
    the others read what was written."""
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_tcg_buffer_size(TCG_BUFFER_BYTES)  # as simcore's engines: both near Unicorn's helpers (Machine.close)
    uc.ctl_set_cpu_model(R.UC_CPU_ARM_CORTEX_M4)
    for mem in board.memories:
        for base in (mem.base, *mem.aliases):
            uc.mem_map(base, (mem.size + 0xFFF) & ~0xFFF)
    for seg in fw.segments:
        if seg.data:
            uc.mem_write(board.memory_map.resolve(seg.paddr), seg.data)
    answer = read or (lambda _addr: READY)
    on_write = (lambda u, o, s, v, d: write(u, 0x40000000 + o, v)) if write is not None else \
        (lambda u, o, s, v, d: None)
    uc.mmio_map(0x40000000, 0x20000000, lambda u, o, s, d: answer(0x40000000 + o), None, on_write, None)
    regs: dict[int, int] = {}

    def ppb_read(_u: unicorn.Uc, o: int, _s: int, _d: object) -> int:
        value = system(0xE0000000 + o) if system is not None else None
        return regs.get(o, 0) if value is None else value

    uc.mmio_map(0xE0000000, 0x100000, ppb_read, None, lambda u, o, s, v, d: regs.__setitem__(o, v), None)
    bare = Bare(uc, None, cmdline, int(board.default_mhz * 1e6))
    uc.hook_add(unicorn.UC_HOOK_INTR, _semihosting, bare)
    vt = fw.read_loaded(board.memory_map.resolve(board.reset_vtor), 8)
    if vt is not None:
        sp, pc = struct.unpack("<II", vt)
        bare.pc = pc & ~1
        uc.reg_write(R.UC_ARM_REG_SP, sp)
    return bare


def release(uc: unicorn.Uc) -> None:
    """Close a Unicorn engine now (unicorn's own uc_close, which its finalizer would run when collected): an engine
    left alive moves the code buffer of every engine built after it out of direct-call range of Unicorn's helpers
    (simcore.machine.Machine.close), so each measured run, bare or simcore, starts with no other engine alive."""
    close = getattr(uc, "_Uc__finalizer", None)
    if close is not None:
        close()


def count_instructions(uc: unicorn.Uc, counter: ctypes.c_uint64) -> None:
    """Count every instruction ``uc`` executes into ``counter`` (simcore's native UC_HOOK_CODE counter: for a
    run that is not timed)."""
    from simcore.hotpath import native_library

    lib = native_library()
    assert lib is not None
    lib.tm_count_hook_ptr.restype = ctypes.c_void_p
    handle = ctypes.c_size_t()
    uclib = unicorn.unicorn_py3.unicorn.uclib
    uclib.uc_hook_add(uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_CODE, ctypes.c_void_p(lib.tm_count_hook_ptr()),
                      ctypes.c_void_p(ctypes.addressof(counter)), ctypes.c_uint64(1), ctypes.c_uint64(0))


def _semihosting(u: unicorn.Uc, intno: int, bare: Bare) -> None:
    """BKPT 0xAB calls (ARM semihosting): exit, command line, the rest answered 0; other traps stop."""
    if intno != 7:
        u.emu_stop()
        return
    pc = u.reg_read(R.UC_ARM_REG_PC)
    op, arg = u.reg_read(R.UC_ARM_REG_R0), u.reg_read(R.UC_ARM_REG_R1)
    if op in (0x18, 0x20):  # SYS_EXIT, SYS_EXIT_EXTENDED
        code = struct.unpack("<II", u.mem_read(arg, 8))[1] if op == 0x20 else (0 if arg == 0x20026 else 1)
        bare.exit_code[0] = code
        u.emu_stop()
        return
    if op == 0x15:  # SYS_GET_CMDLINE: {char *buf; int len}
        buf, size = struct.unpack("<Ii", u.mem_read(arg, 8))
        text = bare.cmdline[: max(size - 1, 0)]
        u.mem_write(buf, text + b"\0")
        u.mem_write(arg + 4, struct.pack("<i", len(text)))
    if op == 0x31:  # SYS_TICKFREQ
        u.reg_write(R.UC_ARM_REG_R0, bare.tick_hz)
        u.reg_write(R.UC_ARM_REG_PC, (pc + 2) | 1)
        return
    u.reg_write(R.UC_ARM_REG_R0, 0)
    u.reg_write(R.UC_ARM_REG_PC, (pc + 2) | 1)
