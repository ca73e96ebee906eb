"""Breakpoints, watchpoints and single steps on a :class:`~simcore.machine.Machine`, with exact counts.

The hot path counts a translated block when it is entered (simcore/native/hotpath.c), so a
debugger that stops *inside* a block must not perturb that accounting, or a run under gdb
would not give the counts of the same run without it. The rules (docs/debugging.md):

- Breakpoints are Unicorn code hooks on exactly their addresses (no memory is patched, flash
  stays read-only, translation blocks keep their boundaries). A hook stops emulation before
  its instruction runs, after the hot path has counted the whole block; the debugger then
  takes the block's not-yet-executed tail off the counters, so instructions, cycles, DWT
  CYCCNT and SysTick read "as of the stop". Virtual time stands still while paused.
- Resuming inside that block puts the tail back and lets Unicorn translate the rest of the
  block as a block of its own, priced at zero (one fake entry in the hot path's table, the
  previous entry restored right after), then stops at the next block boundary before that
  block is counted, restores the dynamic state the original block left (pending conditional
  branch, SP check, profiler call/return flags) and carries on as if it had never stopped.
  Events and native SysTick delivery are held off during that one block, exactly as the
  undisturbed run sees no block boundary there.
- Single steps and watchpoints use one Python code hook on every address, installed only
  while stepping or while a watchpoint exists (translations are flushed when it comes and
  goes: the hot path's speed is unchanged once it is gone). A watchpoint (a memory hook on
  its range) stops before the instruction after the access (precise).
- Ctrl-C and console patterns stop at the next block boundary (``Machine.request_pause``).
- Never inside an IT block: Unicorn does not stop reliably at an IT-conditional instruction
  (the stop request is lost), so a breakpoint there moves to the block's IT instruction (as
  gdb itself adjusts Thumb-2 breakpoints) and a step runs to the end of the IT block.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import capstone
import unicorn

from simcore.abi import NOT_PROBED, HotBlock
from simcore.hotpath import INDIRECT, NO_LIMIT, SLOW_PROFILE

if TYPE_CHECKING:
    from simcore.machine import Machine

WATCH_KINDS = {"write": unicorn.UC_HOOK_MEM_WRITE, "read": unicorn.UC_HOOK_MEM_READ,
               "access": unicorn.UC_HOOK_MEM_WRITE | unicorn.UC_HOOK_MEM_READ}
# HotState fields a block entry changes besides the counters: restored after a resumed block's rest
_DYNAMIC = ("pend_cond", "pend_target", "pend_fall", "pend_extra", "slow_next", "spin_skip", "spin_next",
            "pend_call", "pend_ret", "call_ret")


@dataclass
class Pause:
    """Why a debugged run paused: not an ending (``Machine.run()`` again resumes), unlike a ``Stop``."""

    kind: str  # "breakpoint" | "step" | "watchpoint" | "interrupt" | "expect" | "timeout" | ...
    message: str
    pc: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Watchpoint:
    addr: int
    length: int
    kind: str  # "write" | "read" | "access"
    handle: int


@dataclass
class WatchHit:
    kind: str  # "write" | "read"
    addr: int
    size: int
    value: int | None  # the value written (writes)
    pc: int  # the accessing instruction
    watch: str  # the kind of the watchpoint that saw it


class Debugger:
    """Attach to a machine (before or after it started); the machine calls ``before_emu``/``after_emu``."""

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        machine.debugger = self
        machine.hot.disable_defer()  # pauses inside blocks: every divide priced by its hook, before it runs
        self.breakpoints: dict[int, int] = {}  # address -> hook handle
        self.watchpoints: list[Watchpoint] = []
        self._step_handle: int | None = None
        self._stepping = False
        self._stepped = False  # the step's instruction has started
        self._skip_bp: int | None = None  # resuming at a breakpoint: do not stop there before it ran
        self.watch_hit: WatchHit | None = None
        # Paused inside a block the hot path counted: (addr, size) of that block and the tail taken off
        self.paused_in: tuple[int, int] | None = None
        self._tail = (0, 0)
        self._fake: dict[tuple[int, int], Any] | None = None  # table entries replaced for a resume
        self._fake_block: tuple[int, int] | None = None
        self.paused_block_of_fake: tuple[int, int] = (0, 0)
        self._saved: dict[str, int] = {}
        self._pause_dyn: dict[str, int] = {}
        self._cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
        self._it_cache: dict[int, bool] = {}

    # --- breakpoints and watchpoints -------------------------------------------------------
    def add_breakpoint(self, addr: int) -> int:
        """Stop before the instruction at ``addr`` runs; returns the address used (an IT block's start)."""
        addr = self.it_start(addr & ~1)
        if addr in self.breakpoints:
            return addr
        uc = self.m.uc
        self.breakpoints[addr] = uc.hook_add(unicorn.UC_HOOK_CODE, self._on_breakpoint, begin=addr, end=addr)
        uc.ctl_remove_cache(addr, addr + 4)  # translations made before the hook would not call it
        return addr

    def it_start(self, addr: int) -> int:
        """The IT instruction whose block holds ``addr``, else ``addr`` itself (decoded from the function start)."""
        func = self.m.fw.function_at(addr)
        if func is None or not 0 <= addr - func.addr < 1 << 16:
            return addr
        try:
            code = self.m.mem_read(func.addr, addr - func.addr + 4)
        except unicorn.UcError:
            return addr
        it_addr, left = addr, 0
        for insn in self._cs.disasm(code, func.addr):
            if insn.address >= addr:
                return it_addr if left and insn.address == addr else addr
            if left:
                left -= 1
            if insn.id == capstone.arm_const.ARM_INS_IT:
                it_addr, left = insn.address, len(insn.mnemonic) - 1
        return addr

    def _in_it_block(self, addr: int) -> bool:
        """Is ``addr`` an IT-conditional instruction (decoded once per address; stepping only)?"""
        known = self._it_cache.get(addr)
        if known is None:
            known = self._it_cache[addr] = self.it_start(addr) != addr
        return known

    def remove_breakpoint(self, addr: int) -> bool:
        handle = self.breakpoints.pop(addr & ~1, None)
        if handle is None:
            return False
        self.m.uc.hook_del(handle)
        self.m.uc.ctl_remove_cache(addr & ~1, (addr & ~1) + 4)
        return True

    def add_watchpoint(self, addr: int, length: int, kind: str = "write") -> None:
        if kind not in WATCH_KINDS:
            raise ValueError(f"watchpoint kind {kind!r}: one of {', '.join(WATCH_KINDS)}")
        if any(w.addr == addr and w.length == length and w.kind == kind for w in self.watchpoints):
            return
        handle = self.m.uc.hook_add(WATCH_KINDS[kind], self._on_access, kind, begin=addr,
                                    end=addr + max(length, 1) - 1)
        self.watchpoints.append(Watchpoint(addr, length, kind, handle))
        self._update_step_hook()

    def remove_watchpoint(self, addr: int, length: int, kind: str = "write") -> bool:
        for w in self.watchpoints:
            if w.addr == addr and w.length == length and w.kind == kind:
                self.m.uc.hook_del(w.handle)
                self.watchpoints.remove(w)
                self._update_step_hook()
                return True
        return False

    def clear(self) -> None:
        """Remove every breakpoint and watchpoint (detach)."""
        for addr in list(self.breakpoints):
            self.remove_breakpoint(addr)
        for w in list(self.watchpoints):
            self.remove_watchpoint(w.addr, w.length, w.kind)
        self._stepping = False
        self._update_step_hook()

    # --- running ---------------------------------------------------------------------------------
    def cont(self) -> Any:
        """Run until a breakpoint, a watchpoint, a pause request or the end of the run."""
        self._stepping = False
        self._update_step_hook()
        return self._resume()

    def step(self) -> Any:
        """Execute one instruction (an interrupt taken first counts as the step's start)."""
        self._stepping = True
        self._stepped = False
        self._update_step_hook()
        try:
            return self._resume()
        finally:
            self._stepping = False

    def _resume(self) -> Any:
        m = self.m
        if m.stop is not None:
            return m.stop
        pc = m.pc()
        self._skip_bp = pc if pc in self.breakpoints else None
        self.watch_hit = None
        return m.run()

    def interrupt(self, why: str = "interrupted by the debugger") -> None:
        """Pause at the next block boundary (safe from another thread; repeat until it took)."""
        self.m.request_pause(Pause("interrupt", why, pc=None))

    # --- hooks -----------------------------------------------------------------------------------
    def _on_breakpoint(self, uc: unicorn.Uc, address: int, size: int, _user: object) -> None:
        if self._skip_bp == address:
            self._skip_bp = None
            return
        if address not in self.breakpoints:
            return
        self._pause_here(Pause("breakpoint", f"breakpoint at {self.m.fw.describe(address)}", pc=address))

    def _on_step(self, uc: unicorn.Uc, address: int, size: int, _user: object) -> None:
        if self._in_it_block(address):  # no reliable stop here: the IT block ends first
            return
        if self.watch_hit is not None:
            hit = self.watch_hit
            self._pause_here(Pause("watchpoint", f"{hit.kind} of {hit.size} bytes at {hit.addr:#010x} by "
                                  f"{self.m.fw.describe(hit.pc)}", pc=address,
                                  details={"kind": hit.kind, "address": hit.addr, "value": hit.value,
                                           "watch": hit.watch}))
            return
        if self._stepping:
            if not self._stepped:
                self._stepped = True
                if self._skip_bp == address:
                    self._skip_bp = None
                return
            self._pause_here(Pause("step", f"stepped to {self.m.fw.describe(address)}", pc=address))

    def _on_access(self, uc: unicorn.Uc, access: int, address: int, size: int, value: int, kind: str) -> None:
        if self.watch_hit is None and self.m.pause is None:
            write = access in (unicorn.UC_MEM_WRITE, unicorn.UC_MEM_WRITE_PROT, unicorn.UC_MEM_WRITE_UNMAPPED)
            self.watch_hit = WatchHit("write" if write else "read", address, size,
                                      value & ((1 << (8 * size)) - 1) if write else None, self.m.pc(), kind)

    def _pause_here(self, stop: Pause) -> None:
        """From a code hook, before the instruction at the PC runs: pause inside the current block."""
        m = self.m
        if m.pause is not None:  # another hook of the same instruction paused already
            return
        s = m.hot.state
        m.pause = stop
        s.py_stop = 1
        m.uc.emu_stop()
        block = (s.last_addr, s.last_size) if s.last_size else None
        dyn = None
        if block is not None and block == self._fake_block:  # inside a resumed block's rest
            block = self.paused_block_of_fake
            dyn = {f: self._saved[f] for f in (*_DYNAMIC, "block_cycle")}
        pc = stop.pc if stop.pc is not None else m.pc()
        m.hot.undo_divide(pc)  # its operand hook may have run before this one
        self._enter_pause(block, pc, dyn)

    def _update_step_hook(self) -> None:
        want = self._stepping or bool(self.watchpoints)
        uc = self.m.uc
        if want and self._step_handle is None:
            self._step_handle = uc.hook_add(unicorn.UC_HOOK_CODE, self._on_step, begin=1, end=0)
            uc.ctl_flush_tb()
        elif not want and self._step_handle is not None:
            uc.hook_del(self._step_handle)
            self._step_handle = None
            uc.ctl_flush_tb()  # translations with the per-instruction call would stay slow

    # --- exact counts around a pause inside a block ----------------------------------------------
    def _enter_pause(self, block: tuple[int, int] | None, pc: int, dyn: dict[str, int] | None = None) -> None:
        """Take the not-yet-executed tail of ``block`` off the counters (called inside a hook)."""
        self.paused_in = None
        self._tail = (0, 0)
        if block is None or not block[0] <= pc < block[0] + block[1]:
            return
        n, cycles = self.m.hot.tail(block[0], block[1], pc)
        s = self.m.hot.state
        s.insn_count -= n
        s.cycle_count -= cycles
        self.paused_in = block
        self._tail = (n, cycles)
        # what the block's entry left, for when its rest resumes (and its entry clock: see before_emu)
        self._pause_dyn = dyn if dyn is not None else {f: getattr(s, f) for f in _DYNAMIC}
        self._pause_dyn.setdefault("block_cycle", s.block_cycle)

    def settle(self) -> None:
        """Forget the block the pause is inside (the PC is about to change): its tail stays uncounted."""
        self.paused_in = None
        self._tail = (0, 0)
        self.m.hot.end_streak()  # last_size 0 below: C's streak (if any) is over
        s = self.m.hot.state
        s.pend_cond = 0
        s.pend_call = 0
        s.pend_ret = 0
        s.last_size = 0

    def before_emu(self, pc: int) -> None:
        """Right before emu_start: resuming inside a counted block runs its rest at no cost."""
        block = self.paused_in
        self.paused_in = None
        if block is None:
            return
        n, cycles = self._tail
        self._tail = (0, 0)
        hot = self.m.hot
        s = hot.state
        s.insn_count += n
        s.cycle_count += cycles
        if not block[0] <= pc < block[0] + block[1]:
            self.settle()  # the PC was moved: the tail is not executed after all
            s.insn_count -= n
            s.cycle_count -= cycles
            return
        self.paused_block_of_fake = block
        self._saved = dict(self._pause_dyn)
        self._saved["stop_insn"] = s.stop_insn
        self._saved["block_count"] = s.block_count
        rest = (pc, block[0] + block[1] - pc)
        keys = self._keys_at(pc) | {rest}
        # The rest runs as a fake entry that charges the whole block from the block's entry clock, so that the
        # rest's accesses see the block-entry clock of the plain run (RF_TIMED schedules, stream settles compare it)
        entry = min(self._saved["block_cycle"], s.cycle_count)
        self._fake_cycles = s.cycle_count - entry
        s.cycle_count = entry
        self._fake = {}
        for key in keys:
            self._fake[key] = self._put_entry(key, None, self._fake_cycles)
        self._fake_block = rest
        s.pend_cond = s.pend_call = s.pend_ret = s.spin_skip = s.spin_next = 0
        s.slow_next = SLOW_PROFILE if s.profiling else 0
        s.insn_count -= 1  # the fake entry counts one instruction: the block after it stops at once
        s.stop_insn = s.insn_count + 1
        s.stop_cycle = NO_LIMIT
        s.tick_ok = 0

    def after_emu(self) -> None:
        """Right after emu_start: undo the fake entry of a resumed block's rest."""
        if self._fake is None:
            return
        hot = self.m.hot
        s = hot.state
        for key, old in self._fake.items():
            self._put_entry(key, old)
        self._fake = None
        fake, self._fake_block = self._fake_block, None
        saved = self._saved
        if s.block_count != saved["block_count"]:
            s.block_count -= 1  # the fake entry's
        else:
            s.insn_count += 1  # it never ran
            s.cycle_count += self._fake_cycles
        for f in _DYNAMIC:
            setattr(s, f, saved[f])
        s.stop_insn = saved["stop_insn"]
        if s.last_size and fake is not None and (s.last_addr, s.last_size) == fake:
            s.last_addr, s.last_size = self.paused_block_of_fake  # stopped inside: corrections use the real block

    def _keys_at(self, addr: int) -> set[tuple[int, int]]:
        """The (address, size) table entries of blocks that start at ``addr`` (any size Unicorn used)."""
        hot = self.m.hot
        if not hot.native:
            return {k for k in hot._py_table if k[0] == addr}
        return hot.keys_at(addr)

    def _put_entry(self, key: tuple[int, int], entry: Any, cycles: int = 0) -> Any:
        """Make the hot path's table entry for ``key`` the free fake (``entry`` None; returns what to restore),
        or restore it (``entry`` as returned)."""
        hot = self.m.hot
        if not hot.native:
            table, execs = hot._py_table, hot._py_execs
            if entry is None:
                old = (table.get(key), execs.get(key))
                table[key] = (1, cycles, 0, 0, INDIRECT, 0, 0, 0, 0, 0)
                return old
            (old_entry, old_execs) = entry
            if old_entry is None:
                table.pop(key, None)
            else:
                table[key] = old_entry
            if old_execs is None:
                execs.pop(key, None)
            else:
                execs[key] = old_execs
            return None
        lib = hot.lib
        state = ctypes.byref(hot.state)
        if entry is None:
            ptr = lib.hp_lookup(state, key[0], key[1])
            old = HotBlock.from_buffer_copy(ptr.contents) if ptr else None
            if not ptr:
                lib.hp_insert(state, key[0], key[1], 1, 0, 0, 0, INDIRECT, 0, 0, 0, 0, 0, 0, 0)
                ptr = lib.hp_lookup(state, key[0], key[1])
            fake = HotBlock(addr=key[0], size=key[1], n_insn=1, cycles=cycles, sp_min_delta=0, flags=0, target=INDIRECT,
                            taken_extra=0, line0=0, n_lines=0, lit_count=0, lit_line=0,
                            flash_words=ptr.contents.flash_words, execs=ptr.contents.execs)
            ctypes.memmove(ptr, ctypes.byref(fake), ctypes.sizeof(HotBlock))
            return ("entry", old)
        _tag, old = entry
        ptr = lib.hp_lookup(state, key[0], key[1])
        if old is None:  # it was not in the table: put in what a first translation would have
            if hot.native_analysis:
                old = hot.native_block(key[0], key[1])[0]
            else:
                info = hot.info(*key)
                old = HotBlock(addr=key[0], size=key[1], n_insn=info.n_insn, cycles=info.cycles,
                               sp_min_delta=info.sp_min_delta, flags=info.flags, target=info.target,
                               taken_extra=info.taken_extra, line0=info.line0, n_lines=info.n_lines,
                               lit_count=info.lit_count, lit_line=info.lit_line)
            old.execs = 0
            old.flash_words = NOT_PROBED
        old.art_gen = 0  # a stamp from before the step may be of a generation since forgotten (hotpath.c hp_flash_hit)
        ctypes.memmove(ptr, ctypes.byref(old), ctypes.sizeof(HotBlock))
        return None
