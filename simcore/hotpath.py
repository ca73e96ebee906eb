"""The per-block accounting hook: native C (simcore/native/hotpath.c) or its Python twin.

This is the only module that touches Unicorn internals (the engine handle and the
bindings' library, to register a C function pointer as a UC_HOOK_BLOCK callback).
Both implementations share :class:`HotState`'s fields and the block costs from
:class:`simcore.accounting.BlockAnalyzer`, so they give identical counts.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
from collections.abc import Callable
from pathlib import Path

import unicorn
from unicorn import arm_const

from simcore.accounting import (
    CALL_END,
    COND_END,
    HANDLER,
    IN_FLASH,
    RET_END,
    SP_DYNAMIC,
    SP_READ,
    BlockAnalyzer,
    BlockInfo,
)
from simcore.cycles import DIV_MIN, DivSite, divide_cycles
from simcore.timing_error import flash_words

_UC_REGS = {**{f"r{i}": getattr(arm_const, f"UC_ARM_REG_R{i}") for i in range(13)}, "sb": arm_const.UC_ARM_REG_R9,
            "sl": arm_const.UC_ARM_REG_R10, "fp": arm_const.UC_ARM_REG_R11, "ip": arm_const.UC_ARM_REG_R12,
            "sp": arm_const.UC_ARM_REG_SP, "lr": arm_const.UC_ARM_REG_LR, "pc": arm_const.UC_ARM_REG_PC}

NO_LIMIT = (1 << 64) - 1
INDIRECT = 0xFFFFFFFF
NO_NODE = 0xFFFFFFFF
MAX_DEPTH = 1024  # profiler shadow-stack depth
MAX_EVENTS = 1 << 20  # profiler interrupt enter/leave records kept for the timeline
MAX_WINDOWS = 8  # memory windows the native exception return knows (HP_MAX_WINDOWS)
# register ids of the native exception return, in hotpath.c's FR_* index order
FR_REGS = (
    arm_const.UC_ARM_REG_IPSR, arm_const.UC_ARM_REG_CONTROL, arm_const.UC_ARM_REG_MSP, arm_const.UC_ARM_REG_PSP,
    arm_const.UC_ARM_REG_FAULTMASK, arm_const.UC_ARM_REG_R0, arm_const.UC_ARM_REG_R1, arm_const.UC_ARM_REG_R2,
    arm_const.UC_ARM_REG_R3, arm_const.UC_ARM_REG_R12, arm_const.UC_ARM_REG_LR, arm_const.UC_ARM_REG_XPSR,
    arm_const.UC_ARM_REG_PC, *[getattr(arm_const, f"UC_ARM_REG_S{i}") for i in range(16)],
    arm_const.UC_ARM_REG_FPSCR, arm_const.UC_ARM_REG_BASEPRI, arm_const.UC_ARM_REG_PRIMASK,
)


class HpBlock(ctypes.Structure):
    """Mirror of ``hp_block``: one entry of the native block table (read for per-block execution counts)."""

    _fields_ = [
        ("addr", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
        ("n_insn", ctypes.c_uint32),
        ("cycles", ctypes.c_uint32),
        ("sp_min_delta", ctypes.c_int32),
        ("flags", ctypes.c_uint32),
        ("target", ctypes.c_uint32),
        ("taken_extra", ctypes.c_uint32),
        ("line0", ctypes.c_uint32),
        ("n_lines", ctypes.c_uint16),
        ("lit_count", ctypes.c_uint16),
        ("lit_line", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
        ("execs", ctypes.c_uint64),
    ]


class ProfNode(ctypes.Structure):
    """Mirror of ``hp_node``: one calling-context tree node of the profiler."""

    _fields_ = [
        ("parent", ctypes.c_uint32),
        ("func", ctypes.c_uint32),
        ("isr", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
        ("calls", ctypes.c_uint64),
        ("incl", ctypes.c_uint64),
        ("excl", ctypes.c_uint64),
    ]


class ProfFrame(ctypes.Structure):
    """Mirror of ``hp_frame``: one shadow-stack frame."""

    _fields_ = [
        ("func", ctypes.c_uint32),
        ("ret", ctypes.c_uint32),
        ("node", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
        ("entry", ctypes.c_uint64),
        ("child", ctypes.c_uint64),
    ]


class ProfEvent(ctypes.Structure):
    """Mirror of ``hp_event``: interrupt enter (1) / leave (2) at a cycle."""

    _fields_ = [("kind", ctypes.c_uint32), ("func", ctypes.c_uint32), ("cycle", ctypes.c_uint64)]


class HotState(ctypes.Structure):
    """Mirror of ``hp_state`` in hotpath.c (same field order)."""

    _fields_ = [
        ("insn_count", ctypes.c_uint64),
        ("cycle_count", ctypes.c_uint64),
        ("stop_cycle", ctypes.c_uint64),
        ("stop_insn", ctypes.c_uint64),
        ("block_count", ctypes.c_uint64),
        ("sp_low", ctypes.c_uint32),
        ("check_sp_next", ctypes.c_uint32),
        ("last_addr", ctypes.c_uint32),
        ("last_size", ctypes.c_uint32),
        ("stop_requested", ctypes.c_uint32),
        ("miss_failed", ctypes.c_uint32),
        ("table", ctypes.c_void_p),
        ("mask", ctypes.c_uint32),
        ("used", ctypes.c_uint32),
        ("miss", ctypes.c_void_p),
        ("emu_stop", ctypes.c_void_p),
        ("reg_read", ctypes.c_void_p),
        ("sp_regid", ctypes.c_int32),
        ("pad", ctypes.c_int32),
        ("flash_wait_cycles", ctypes.c_uint64),
        ("branch_taken_cycles", ctypes.c_uint64),
        ("pend_cond", ctypes.c_uint32),
        ("pend_target", ctypes.c_uint32),
        ("pend_fall", ctypes.c_uint32),
        ("pend_extra", ctypes.c_uint32),
        ("wait_states", ctypes.c_uint32),
        ("accel", ctypes.c_uint32),
        ("imask", ctypes.c_uint32),
        ("dmask", ctypes.c_uint32),
        ("itags", ctypes.c_void_p),
        ("dtags", ctypes.c_void_p),
        ("last_line", ctypes.c_uint32),
        ("prefetch", ctypes.c_uint32),
        ("profiling", ctypes.c_uint32),
        ("pend_call", ctypes.c_uint32),
        ("call_ret", ctypes.c_uint32),
        ("depth", ctypes.c_uint32),
        ("max_depth", ctypes.c_uint32),
        ("dropped", ctypes.c_uint32),
        ("frames", ctypes.c_void_p),
        ("nodes", ctypes.c_void_p),
        ("n_nodes", ctypes.c_uint32),
        ("cap_nodes", ctypes.c_uint32),
        ("node_hash", ctypes.c_void_p),
        ("events", ctypes.c_void_p),
        ("n_events", ctypes.c_uint32),
        ("cap_events", ctypes.c_uint32),
        ("mem_read", ctypes.c_void_p),
        ("node_overflow", ctypes.c_uint32),
        ("pend_ret", ctypes.c_uint32),
        ("fr_exc", ctypes.c_uint32),
        ("fr_done", ctypes.c_uint32),
        ("fr_excret", ctypes.c_uint32),
        ("fr_fpu", ctypes.c_uint32),
        ("fr_stkalign", ctypes.c_uint32),
        ("fr_cycles", ctypes.c_uint32),
        ("n_windows", ctypes.c_uint32),
        ("pad2", ctypes.c_uint32),
        ("win_base", ctypes.c_uint32 * MAX_WINDOWS),
        ("win_end", ctypes.c_uint32 * MAX_WINDOWS),
        ("win_ram", ctypes.c_uint32 * MAX_WINDOWS),
        ("win_ptr", ctypes.c_void_p * MAX_WINDOWS),
        ("rid", ctypes.c_int32 * len(FR_REGS)),
        ("reg_read_batch", ctypes.c_void_p),
        ("reg_write_batch", ctypes.c_void_p),
        ("reg_write", ctypes.c_void_p),
        ("intr_fallback", ctypes.c_void_p),
        ("fast_returns", ctypes.c_uint64),
        ("tick_cycle", ctypes.c_uint64),
        ("tick_period", ctypes.c_uint64),
        ("other_cycle", ctypes.c_uint64),
        ("tick_entries", ctypes.c_uint64),
        ("tick_ok", ctypes.c_uint32),
        ("c_active", ctypes.c_uint32),
        ("tick_group", ctypes.c_int32),
        ("tick_prio_mask", ctypes.c_uint32),
        ("tick_prigroup", ctypes.c_uint32),
        ("tick_vector", ctypes.c_uint32),
        ("tick_flags", ctypes.c_uint32),
        ("tick_stack_limit", ctypes.c_uint32),
        ("tick_last_frame", ctypes.c_uint32),
        ("tick_last_psp", ctypes.c_uint32),
        ("tick_psp_seen", ctypes.c_uint32),
        ("fr_left", ctypes.c_uint32),
        ("entry_cycles", ctypes.c_uint32),
        ("py_stop", ctypes.c_uint32),
        ("pad3", ctypes.c_uint32),
        ("prefetch_hidden", ctypes.c_uint64),
    ]


class DivStats(ctypes.Structure):
    """Mirror of ``tm_div_stats`` (simcore/native/timing.c): shared by every divide hook of an engine."""

    _fields_ = [
        ("cycle_count", ctypes.c_void_p),
        ("reg_read_batch", ctypes.c_void_p),
        ("executed", ctypes.c_uint64),
        ("extra", ctypes.c_uint64),
    ]


class DivHookSite(ctypes.Structure):
    """Mirror of ``tm_div_site``: one SDIV/UDIV, the user data of its hook."""

    _fields_ = [
        ("stats", ctypes.c_void_p),
        ("regs", ctypes.c_int32 * 2),
        ("is_signed", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
    ]


def _check_timing_layout(lib: ctypes.CDLL, path: Path) -> None:
    """timing.c's structs against the ctypes mirrors, field by field (tm_layout's table order)."""
    lib.tm_layout.restype = ctypes.c_uint64
    lib.tm_layout.argtypes = [ctypes.c_uint32]
    want = [ctypes.sizeof(DivStats), DivStats.cycle_count.offset, DivStats.reg_read_batch.offset,
            DivStats.executed.offset, DivStats.extra.offset, ctypes.sizeof(DivHookSite), DivHookSite.stats.offset,
            DivHookSite.regs.offset, DivHookSite.is_signed.offset]
    got = [lib.tm_layout(i) for i in range(len(want))]
    if got != want:
        raise RuntimeError(f"{path}: timing.c layout {got} differs from the ctypes mirrors {want}: rebuild it "
                           "(pip install -e .)")


_MISS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_uint32)
_INTR_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint32)
_native_lib: ctypes.CDLL | None | bool = False  # False: not looked for yet


def native_library() -> ctypes.CDLL | None:
    """The compiled hot path, or None when it was not built (no C compiler at install)."""
    global _native_lib
    if _native_lib is False:
        _native_lib = None
        if os.environ.get("SIMCORE_NO_NATIVE") != "1":
            here = Path(__file__).parent
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = here / f"_hotpath{suffix}"
                if path.exists():
                    lib = ctypes.CDLL(str(path))
                    lib.hp_state_size.restype = ctypes.c_uint64
                    if lib.hp_state_size() != ctypes.sizeof(HotState):
                        raise RuntimeError(f"{path}: hp_state is {lib.hp_state_size()} bytes, the HotState mirror "
                                           f"{ctypes.sizeof(HotState)}: rebuild it (pip install -e .)")
                    _check_timing_layout(lib, path)
                    lib.hp_block_layout.restype = ctypes.c_uint64
                    lib.hp_block_layout.argtypes = [ctypes.c_uint32]
                    if [lib.hp_block_layout(0), lib.hp_block_layout(1)] != [ctypes.sizeof(HpBlock),
                                                                            HpBlock.execs.offset]:
                        raise RuntimeError(f"{path}: hp_block differs from the HpBlock mirror: rebuild it "
                                           "(pip install -e .)")
                    lib.tm_div_hook_ptr.restype = ctypes.c_void_p
                    lib.hp_block_hook_ptr.restype = ctypes.c_void_p
                    lib.hp_intr_hook_ptr.restype = ctypes.c_void_p
                    lib.hp_enter.argtypes = [ctypes.POINTER(HotState), ctypes.c_void_p, ctypes.c_uint32,
                                             ctypes.c_int32, ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint32,
                                             ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32)]
                    lib.hp_enter.restype = ctypes.c_int
                    lib.hp_cond_hook_ptr.restype = ctypes.c_void_p
                    lib.hp_flash_read_hook_ptr.restype = ctypes.c_void_p
                    lib.hp_insert.argtypes = [ctypes.POINTER(HotState)] + [ctypes.c_uint32] * 4 + [
                        ctypes.c_int32,
                    ] + [ctypes.c_uint32] * 7
                    lib.hp_profile_init.argtypes = [ctypes.POINTER(HotState), ctypes.c_uint32, ctypes.c_uint32]
                    lib.hp_profile_root.argtypes = [ctypes.POINTER(HotState), ctypes.c_uint32]
                    lib.hp_profile_free.argtypes = [ctypes.POINTER(HotState)]
                    lib.hp_pop.argtypes = [ctypes.POINTER(HotState)]
                    lib.hp_init.argtypes = [ctypes.POINTER(HotState), ctypes.c_uint32]
                    lib.hp_free.argtypes = [ctypes.POINTER(HotState)]
                    lib.hp_clear.argtypes = [ctypes.POINTER(HotState)]
                    _native_lib = lib
                    break
    return _native_lib  # type: ignore[return-value]


class HotPath:
    """Installs the block hook on a Unicorn engine and exposes the counters.

    ``on_miss_error`` is called with (addr, size, exception) when pricing a block fails,
    so the machine can stop with a diagnosis instead of a traceback inside a callback.
    """

    def __init__(
        self,
        uc: unicorn.Uc,
        analyzer: BlockAnalyzer,
        native: bool | None = None,
        on_miss_error: Callable[[int, int, BaseException], None] | None = None,
    ) -> None:
        self.uc = uc
        self.analyzer = analyzer
        self.state = HotState()
        self.state.stop_cycle = NO_LIMIT
        self.state.stop_insn = NO_LIMIT
        self.state.sp_low = 0xFFFFFFFF
        self.on_miss_error = on_miss_error
        lib = native_library() if native in (None, True) else None
        if native is True and lib is None:
            raise RuntimeError("the native hot path was asked for but is not built (pip install rebuilds it)")
        self.lib = lib
        self.native = lib is not None
        self._infos: dict[tuple[int, int], BlockInfo] = {}
        self._py_table: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        self._py_execs: dict[tuple[int, int], int] = {}  # the Python twin's per-block execution counts
        # words each block read from flash at its first execution (the error bar's flash-data term)
        self.flash_words: dict[tuple[int, int], int] = {}
        self._cond_hooked: set[tuple[int, int]] = set()
        self.pending_cond: list[tuple[int, int]] = []
        # divides priced from their operands (simcore/native/timing.c, tm_div_hook)
        self.div_stats = DivStats()
        self.div_stats.cycle_count = ctypes.addressof(self.state) + HotState.cycle_count.offset
        self._div_hooked: set[int] = set()
        self._div_sites: list[DivHookSite] = []  # kept alive: C holds pointers into them
        self.pending_div: list[DivSite] = []
        self._configure_flash()
        # Python twin's profiler storage (the native one keeps it in C)
        self._py_frames: list[list[int]] = []  # [func, ret, node, entry, child]
        self._py_nodes: list[list[int]] = []  # [parent, func, isr, calls, incl, excl]
        self._py_node_index: dict[tuple[int, int, int], int] = {}
        self._py_events: list[tuple[int, int, int]] = []
        if self.native:
            self._install_native()
        else:
            uc.hook_add(unicorn.UC_HOOK_BLOCK, self._py_block_hook)
        self._install_flash_data_hook()

    def charge(self, cycles: int) -> None:
        """Add cycles spent outside translated blocks (exception entry/return, see simcore.cycles).

        Call outside emulation or from a hook; the virtual clock, DWT CYCCNT and the event
        queue all see them.
        """
        self.state.cycle_count += int(cycles)

    def _configure_flash(self) -> None:
        """Wait states and accelerator from the cycle model's flash configuration."""
        fc = self.analyzer.flash
        s = self.state
        s.wait_states = fc.wait_states
        s.accel = fc.accelerator
        s.prefetch = 1 if fc.prefetch and fc.accelerator == 1 else 0
        s.imask = fc.icache_lines - 1
        s.dmask = fc.dcache_lines - 1
        s.last_line = 0xFFFFFFFE
        self._itags = (ctypes.c_uint32 * fc.icache_lines)(*([0xFFFFFFFF] * fc.icache_lines))
        self._dtags = (ctypes.c_uint32 * fc.dcache_lines)(*([0xFFFFFFFF] * fc.dcache_lines))
        s.itags = ctypes.cast(self._itags, ctypes.c_void_p).value
        s.dtags = ctypes.cast(self._dtags, ctypes.c_void_p).value

    def _install_flash_data_hook(self) -> None:
        """Data reads from flash cost wait states (ART: on a D-cache line miss): a memory hook on flash only."""
        fc = self.analyzer.flash
        if not (fc.data_hook and fc.wait_states and fc.ranges):
            return
        for lo, hi in fc.ranges:
            if self.native:
                assert self.lib is not None
                uclib = unicorn.unicorn_py3.unicorn.uclib
                handle = ctypes.c_size_t()
                status = uclib.uc_hook_add(
                    self.uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_MEM_READ,
                    ctypes.c_void_p(self.lib.hp_flash_read_hook_ptr()),
                    ctypes.cast(ctypes.byref(self.state), ctypes.c_void_p),
                    ctypes.c_uint64(lo), ctypes.c_uint64(hi - 1),
                )
                if status != unicorn.UC_ERR_OK:
                    raise unicorn.UcError(status)
            else:
                self.uc.hook_add(unicorn.UC_HOOK_MEM_READ, self._py_flash_read, begin=lo, end=hi - 1)

    def _py_flash_read(self, uc: unicorn.Uc, _access: int, address: int, _size: int, _value: int,
                       _user: object) -> None:
        """Python twin of hp_flash_read_hook."""
        s = self.state
        if s.accel == 1:
            line = address >> 4
            i = line & s.dmask
            if self._dtags[i] == line:
                return
            self._dtags[i] = line
        s.flash_wait_cycles += s.wait_states
        s.cycle_count += s.wait_states

    # --- profiler ------------------------------------------------------------------------
    def enable_profile(self, root: int, handlers: frozenset[int]) -> None:
        """Keep a shadow call stack from now on; ``root`` is the function the run starts in.

        Call before the run: block flags for exception handlers are computed at decode time.
        """
        self.analyzer.handlers = frozenset(h & ~1 for h in handlers)
        self.forget_code()
        s = self.state
        if self.native:
            assert self.lib is not None
            if self.lib.hp_profile_init(ctypes.byref(s), MAX_DEPTH, MAX_EVENTS) != 0:
                raise MemoryError("profiler tables")
            self.lib.hp_profile_root(ctypes.byref(s), root & ~1)
        else:
            s.max_depth = MAX_DEPTH
            self._py_push(root & ~1, INDIRECT, 0)
        s.profiling = 1

    def profile_pop_all(self) -> None:
        """Close every open frame at the current cycle (end of the run)."""
        s = self.state
        while s.depth:
            if self.native:
                assert self.lib is not None
                self.lib.hp_pop(ctypes.byref(s))
            else:
                self._py_pop()

    def profile_nodes(self) -> list[tuple[int, int, int, int, int, int]]:
        """(parent, func, isr, calls, inclusive, exclusive) per calling-context node."""
        s = self.state
        if self.native:
            if not s.nodes:
                return []
            arr = ctypes.cast(s.nodes, ctypes.POINTER(ProfNode))
            return [(arr[i].parent, arr[i].func, arr[i].isr, arr[i].calls, arr[i].incl, arr[i].excl)
                    for i in range(s.n_nodes)]
        return [tuple(n) for n in self._py_nodes]  # type: ignore[misc]

    def profile_events(self) -> list[tuple[int, int, int]]:
        """(kind 1 enter / 2 leave, handler address, cycle) of interrupt frames."""
        s = self.state
        if self.native:
            if not s.events:
                return []
            arr = ctypes.cast(s.events, ctypes.POINTER(ProfEvent))
            return [(arr[i].kind, arr[i].func, arr[i].cycle) for i in range(s.n_events)]
        return list(self._py_events)

    def _py_push(self, func: int, ret: int, isr: int) -> None:
        s = self.state
        if s.depth >= s.max_depth:
            s.dropped += 1
            return
        parent = self._py_frames[-1][2] if self._py_frames else NO_NODE
        key = (parent, func, isr)
        node = self._py_node_index.get(key)
        if node is None:
            node = len(self._py_nodes)
            self._py_node_index[key] = node
            self._py_nodes.append([parent, func, isr, 0, 0, 0])
            s.n_nodes = len(self._py_nodes)
        self._py_nodes[node][3] += 1
        self._py_frames.append([func, ret, node, s.cycle_count, 0])
        s.depth = len(self._py_frames)
        if isr and len(self._py_events) < MAX_EVENTS:
            self._py_events.append((1, func, s.cycle_count))

    def _py_pop(self) -> None:
        s = self.state
        if not self._py_frames:
            return
        func, _ret, node, entry, child = self._py_frames.pop()
        s.depth = len(self._py_frames)
        incl = s.cycle_count - entry
        n = self._py_nodes[node]
        n[4] += incl
        n[5] += incl - child
        if n[2] and len(self._py_events) < MAX_EVENTS:
            self._py_events.append((2, func, s.cycle_count))
        if self._py_frames:
            self._py_frames[-1][4] += incl

    def _py_profile(self, uc: unicorn.Uc, addr: int, size: int, flags: int) -> None:
        s = self.state
        frames = self._py_frames
        returned = False
        if s.pend_ret:  # a return lands on the return address of some open frame: unwind to it
            for d in range(len(frames), 0, -1):
                if frames[d - 1][1] == addr:
                    while len(frames) >= d:
                        self._py_pop()
                    returned = True
                    break
        if returned:
            pass
        elif s.pend_call:
            self._py_push(addr, s.call_ret, 0)
        elif flags & HANDLER and not (frames and frames[-1][0] == addr):
            sp = uc.reg_read(arm_const.UC_ARM_REG_SP)
            try:
                ret = int.from_bytes(uc.mem_read(sp + 24, 4), "little")
            except unicorn.UcError:
                ret = INDIRECT
            self._py_push(addr, ret & ~1, 1)
        s.pend_call = flags & CALL_END
        s.pend_ret = flags & RET_END
        s.call_ret = (addr + size) & 0xFFFFFFFF

    def _py_flash_wait(self, line0: int, n_lines: int, lit_count: int, lit_line: int) -> int:
        s = self.state
        ws = s.wait_states
        if s.accel == 0:
            return ws * (n_lines + lit_count)
        wait = 0
        itags = self._itags
        for line in range(line0, line0 + n_lines):
            i = line & s.imask
            if itags[i] != line:
                itags[i] = line
                if not (s.prefetch and line == (s.last_line + 1) & 0xFFFFFFFF):
                    wait += ws
                else:
                    s.prefetch_hidden += 1
            s.last_line = line
        if lit_count:
            if s.accel == 1:
                i = lit_line & s.dmask
                if self._dtags[i] != lit_line:
                    self._dtags[i] = lit_line
                    wait += ws
            else:
                wait += ws * lit_count
        return wait

    # --- native ---------------------------------------------------------------------
    def _install_native(self) -> None:
        assert self.lib is not None
        if self.lib.hp_init(ctypes.byref(self.state), 4096) != 0:
            raise MemoryError("hot path table")
        uclib = unicorn.unicorn_py3.unicorn.uclib  # the bindings' library handle
        self._miss_cb = _MISS_FN(self._native_miss)  # keep a reference: C holds the pointer
        self.state.miss = ctypes.cast(self._miss_cb, ctypes.c_void_p).value
        self.state.emu_stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
        self.state.reg_read = ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value
        self.state.mem_read = ctypes.cast(uclib.uc_mem_read, ctypes.c_void_p).value
        self.state.sp_regid = arm_const.UC_ARM_REG_SP
        handle = ctypes.c_size_t()
        status = uclib.uc_hook_add(
            self.uc._uch,
            ctypes.byref(handle),
            unicorn.UC_HOOK_BLOCK,
            ctypes.c_void_p(self.lib.hp_block_hook_ptr()),
            ctypes.cast(ctypes.byref(self.state), ctypes.c_void_p),
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        self._hook_handle = handle

    def install_intr_hook(self, handler: Callable[[int], None],
                          windows: list[tuple[int, int, bool, int]], fpu: bool, return_cycles: int) -> bool:
        """Native hot path only: the UC_HOOK_INTR callback in C, which does the common exception return
        itself (see hp_fast_return) and calls ``handler(intno)`` for everything else.

        ``windows``: (base, end, is RAM, host address of the buffer or 0) per memory in board order.
        Returns False (nothing installed) with the Python twin or more windows than the C side holds;
        the caller then hooks UC_HOOK_INTR in Python.
        """
        if not self.native or len(windows) > MAX_WINDOWS:
            return False
        assert self.lib is not None
        s = self.state
        uclib = unicorn.unicorn_py3.unicorn.uclib
        s.reg_read_batch = ctypes.cast(uclib.uc_reg_read_batch, ctypes.c_void_p).value
        s.reg_write_batch = ctypes.cast(uclib.uc_reg_write_batch, ctypes.c_void_p).value
        s.reg_write = ctypes.cast(uclib.uc_reg_write, ctypes.c_void_p).value
        for i, rid in enumerate(FR_REGS):
            s.rid[i] = rid
        s.n_windows = len(windows)
        for i, (base, end, ram, ptr) in enumerate(windows):
            s.win_base[i], s.win_end[i], s.win_ram[i], s.win_ptr[i] = base, min(end, 0xFFFFFFFF), int(ram), ptr
        s.fr_fpu = int(fpu)
        s.fr_stkalign = 1
        s.fr_cycles = int(return_cycles)
        s.mem_read = ctypes.cast(uclib.uc_mem_read, ctypes.c_void_p).value
        self._intr_cb = _INTR_FN(handler)  # keep a reference: C holds the pointer
        s.intr_fallback = ctypes.cast(self._intr_cb, ctypes.c_void_p).value
        handle = ctypes.c_size_t()
        status = uclib.uc_hook_add(
            self.uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_INTR,
            ctypes.c_void_p(self.lib.hp_intr_hook_ptr()),
            ctypes.cast(ctypes.byref(s), ctypes.c_void_p),
            ctypes.c_uint64(1), ctypes.c_uint64(0),
        )
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        return True

    def native_enter(self) -> Callable[..., tuple[int, int, int, int]] | None:
        """hp_enter bound to this engine (after install_intr_hook), or None with the Python twin.

        ``f(exc, exc_group, highest_active_group, prio_mask, prigroup, vector_address, flags)`` returns
        (status, frame address, on PSP, extended frame); see hp_enter in hotpath.c.
        """
        if not self.native or not self.state.reg_read_batch:
            return None
        assert self.lib is not None
        fn = self.lib.hp_enter
        state = ctypes.byref(self.state)
        uch = self.uc._uch  # a c_void_p in the bindings
        out = (ctypes.c_uint32 * 3)()

        def enter(exc: int, group: int, highest: int, prio_mask: int, prigroup: int, vector: int,
                  flags: int) -> tuple[int, int, int, int]:
            status = fn(state, uch, exc, group, highest, prio_mask, prigroup, vector & 0xFFFFFFFF, flags, out)
            return status, out[0], out[1], out[2]

        return enter

    def _probe_flash_words(self, key: tuple[int, int], info: BlockInfo) -> None:
        """At the block's first execution (entry registers): the words its data loads read from flash."""
        fc = self.analyzer.flash
        u = info.uncertainty
        if not (fc.wait_states and not fc.data_hook and u.data_words):
            return
        regs = {}

        def reg(name: str) -> int:
            if name not in regs:
                regs[name] = self.uc.reg_read(_UC_REGS[name])
            return regs[name]

        self.flash_words[key] = flash_words(u, reg, fc.is_flash)

    def _native_miss(self, addr: int, size: int) -> int:
        try:
            info = self.info(addr, size)
            self._probe_flash_words((addr, size), info)
        except BaseException as exc:  # noqa: BLE001 - must not unwind through C
            if self.on_miss_error is not None:
                self.on_miss_error(addr, size, exc)
            return 0
        assert self.lib is not None
        self.lib.hp_insert(
            ctypes.byref(self.state), addr, size, info.n_insn, info.cycles, info.sp_min_delta, info.flags,
            info.target, info.taken_extra, info.line0, info.n_lines, info.lit_count, info.lit_line,
        )
        return 1 if self._needs_cond_hooks(info) else 0

    def _needs_cond_hooks(self, info: BlockInfo) -> bool:
        """Queue hooks for this block's IT-conditional instructions and divides; True if the block must be
        retranslated (Unicorn applies a hook only to code translated after it was added)."""
        new = [r for r in info.cond_ranges if r not in self._cond_hooked]
        for r in new:
            self._cond_hooked.add(r)
            self.pending_cond.append(r)
        divs = [d for d in info.divides if d.addr not in self._div_hooked]
        for d in divs:
            self._div_hooked.add(d.addr)
            self.pending_div.append(d)
        return bool(new or divs)

    def _install_div_hooks(self) -> None:
        """A hook on each queued divide that prices it from its operands (tm_div_hook / _py_div_hook)."""
        uclib = unicorn.unicorn_py3.unicorn.uclib
        if self.native and not self.div_stats.reg_read_batch:
            self.div_stats.reg_read_batch = ctypes.cast(uclib.uc_reg_read_batch, ctypes.c_void_p).value
        for d in self.pending_div:
            if self.native:
                assert self.lib is not None
                site = DivHookSite(ctypes.addressof(self.div_stats), (ctypes.c_int32 * 2)(d.rn, d.rm), int(d.signed))
                self._div_sites.append(site)
                handle = ctypes.c_size_t()
                status = uclib.uc_hook_add(
                    self.uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_CODE,
                    ctypes.c_void_p(self.lib.tm_div_hook_ptr()), ctypes.c_void_p(ctypes.addressof(site)),
                    ctypes.c_uint64(d.addr), ctypes.c_uint64(d.addr),
                )
                if status != unicorn.UC_ERR_OK:
                    raise unicorn.UcError(status)
            else:
                self.uc.hook_add(unicorn.UC_HOOK_CODE, self._py_div_hook, d, begin=d.addr, end=d.addr)
            self.uc.ctl_remove_cache(d.addr, d.addr + d.size)
        self.pending_div.clear()

    def _py_div_hook(self, uc: unicorn.Uc, address: int, size: int, site: DivSite) -> None:
        """Python twin of tm_div_hook."""
        extra = divide_cycles(uc.reg_read(site.rn), uc.reg_read(site.rm), site.signed) - DIV_MIN
        self.state.cycle_count += extra
        self.div_stats.extra += extra
        self.div_stats.executed += 1

    def install_pending(self) -> bool:
        """Outside emulation: add the queued per-address hooks and drop stale translations."""
        if not self.pending_cond and not self.pending_div:
            return False
        self._install_div_hooks()
        for first, last in self.pending_cond:
            if self.native:
                assert self.lib is not None
                uclib = unicorn.unicorn_py3.unicorn.uclib
                handle = ctypes.c_size_t()
                status = uclib.uc_hook_add(
                    self.uc._uch,
                    ctypes.byref(handle),
                    unicorn.UC_HOOK_CODE,
                    ctypes.c_void_p(self.lib.hp_cond_hook_ptr()),
                    ctypes.cast(ctypes.byref(self.state), ctypes.c_void_p),
                    ctypes.c_uint64(first),
                    ctypes.c_uint64(last),
                )
                if status != unicorn.UC_ERR_OK:
                    raise unicorn.UcError(status)
            else:
                self.uc.hook_add(unicorn.UC_HOOK_CODE, self._py_cond_hook, begin=first, end=last)
            self.uc.ctl_remove_cache(first & ~1, last + 4)
        self.pending_cond.clear()
        self.state.stop_requested = 0
        return True

    def _py_cond_hook(self, uc: unicorn.Uc, address: int, size: int, _user: object) -> None:
        self.state.insn_count += 1

    def close(self) -> None:
        if self.native and self.lib is not None and self.state.table:
            self.lib.hp_free(ctypes.byref(self.state))
            if self.state.frames:
                self.lib.hp_profile_free(ctypes.byref(self.state))

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    # --- Python twin of hp_block_hook ---------------------------------------------------
    def _py_block_hook(self, uc: unicorn.Uc, address: int, size: int, _user: object) -> None:
        s = self.state
        if s.cycle_count >= s.stop_cycle or s.insn_count >= s.stop_insn:
            s.stop_requested = 1
            s.last_size = 0
            uc.emu_stop()
            return
        entry = self._py_table.get((address, size))
        if entry is None:
            try:
                info = self.info(address, size)
                self._probe_flash_words((address, size), info)
            except BaseException as exc:  # noqa: BLE001
                if self.on_miss_error is not None:
                    self.on_miss_error(address, size, exc)
                s.miss_failed = 1
                s.stop_requested = 1
                uc.emu_stop()
                return
            entry = (info.n_insn, info.cycles, info.sp_min_delta, info.flags, info.target, info.taken_extra,
                     info.line0, info.n_lines, info.lit_count, info.lit_line)
            self._py_table[(address, size)] = entry
            if self._needs_cond_hooks(info):
                s.stop_requested = 1
                s.last_size = 0
                uc.emu_stop()
                return
        n_insn, cycles, sp_min_delta, flags, target, taken_extra, line0, n_lines, lit_count, lit_line = entry
        if s.pend_cond:  # the previous block's conditional branch: taken?
            if (address != s.pend_fall) if s.pend_target == INDIRECT else (address == s.pend_target):
                s.cycle_count += s.pend_extra
                s.branch_taken_cycles += s.pend_extra
        s.pend_cond = flags & COND_END
        s.pend_target = target
        s.pend_fall = (address + size) & 0xFFFFFFFF
        s.pend_extra = taken_extra
        if s.profiling:
            self._py_profile(uc, address, size, flags)
        if flags & SP_READ or s.check_sp_next:
            low = (uc.reg_read(arm_const.UC_ARM_REG_SP) + sp_min_delta) & 0xFFFFFFFF
            if low < s.sp_low:
                s.sp_low = low
        s.check_sp_next = flags & SP_DYNAMIC
        if flags & IN_FLASH and s.wait_states:
            wait = self._py_flash_wait(line0, n_lines, lit_count, lit_line)
            s.flash_wait_cycles += wait
            cycles += wait
        s.insn_count += n_insn
        s.cycle_count += cycles
        s.block_count += 1
        key = (address, size)
        self._py_execs[key] = self._py_execs.get(key, 0) + 1
        s.last_addr = address
        s.last_size = size

    # --- shared -------------------------------------------------------------------------
    def info(self, addr: int, size: int) -> BlockInfo:
        key = (addr, size)
        info = self._infos.get(key)
        if info is None:
            info = self.analyzer.analyze(addr, size)
            self._infos[key] = info
        return info

    def block_executions(self) -> dict[tuple[int, int], int]:
        """How many times each (address, size) block was entered and counted (cleared by forget_code)."""
        if not self.native:
            return dict(self._py_execs)
        s = self.state
        if not s.table:
            return {}
        table = ctypes.cast(s.table, ctypes.POINTER(HpBlock * (s.mask + 1))).contents
        return {(b.addr, b.size): b.execs for b in table if b.addr != 0xFFFFFFFF and b.execs}

    def forget_code(self) -> None:
        """Drop cached block costs (after code in RAM changed and Unicorn's cache was flushed)."""
        self._infos.clear()
        self._py_table.clear()
        self._py_execs.clear()
        self.analyzer.cache.clear()
        if self.native and self.lib is not None:
            self.lib.hp_clear(ctypes.byref(self.state))

    def correct_partial_block(self, pc: int) -> None:
        """A run stopped inside the last block at ``pc``: un-count what did not execute."""
        s = self.state
        if s.last_size and s.last_addr <= pc < s.last_addr + s.last_size:
            n, cycles = self.info(s.last_addr, s.last_size).tail(pc)
            s.insn_count -= n
            s.cycle_count -= cycles
        s.last_size = 0
