"""The per-block accounting hook: native C (simcore/native/hotpath.c) or its Python twin.

This is the only module that touches Unicorn internals (the engine handle and the
bindings' library, to register a C function pointer as a UC_HOOK_BLOCK callback).
One interface (:class:`HotPath`) over both implementations: they share :class:`HotState`'s
fields, and block analyses come from C (simcore/native/thumb.c) in the native hot path or
from :class:`simcore.blocks.BlockAnalyzer` (capstone) in the Python twin; tests hold the two
analyses and the two hooks equal.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from collections.abc import Callable

import unicorn
from unicorn import arm_const

from simcore.abi import (  # noqa: F401 - the mirrors and constants are part of this module's interface
    EV_SLOTS,
    FR_REGS,
    GENERAL_FLAGS,
    INDIRECT,
    MAX_BLOCK_INSNS,
    MAX_DEPTH,
    MAX_EVENTS,
    MAX_FLASH,
    MAX_SOURCES,
    MAX_WINDOWS,
    NEVER,
    NO_LIMIT,
    NO_NODE,
    NOT_PROBED,
    SLOW_PROFILE,
    SLOW_SP,
    SLOW_SPIN,
    DivHookSite,
    DivStats,
    HotBlock,
    HotModel,
    HotState,
    HotUncert,
    ProfEvent,
    ProfNode,
    abi_digest,
    hot_views,
)
from simcore.blocks import (
    CALL_END,
    COND_END,
    CONTROL,
    DIV,
    DIV_HOOK,
    HANDLER,
    IN_FLASH,
    MASK,
    RET_END,
    SELF_LOOP,
    SEV,
    SP_DYNAMIC,
    SP_READ,
    BlockAnalyzer,
    BlockInfo,
    deferred_addresses,
)
from simcore.cycles import (
    BRANCH_REFILL,
    DIV_MAX,
    DIV_MIN,
    LOAD_PC_REFILL,
    STORE_DATA_PHASE,
    CortexM4,
    DivSite,
    InstructionCount,
    divide_cycles,
    divide_sites_in,
)
from simcore.paths import native_extension
from simcore.timing_error import BlockUncertainty, flash_words

_UC_REGS = {**{f"r{i}": getattr(arm_const, f"UC_ARM_REG_R{i}") for i in range(13)}, "sb": arm_const.UC_ARM_REG_R9,
            "sl": arm_const.UC_ARM_REG_R10, "fp": arm_const.UC_ARM_REG_R11, "ip": arm_const.UC_ARM_REG_R12,
            "sp": arm_const.UC_ARM_REG_SP, "lr": arm_const.UC_ARM_REG_LR, "pc": arm_const.UC_ARM_REG_PC}
_CORE_RID = [arm_const.UC_ARM_REG_R0 + i for i in range(13)] + [arm_const.UC_ARM_REG_SP, arm_const.UC_ARM_REG_LR,
                                                              arm_const.UC_ARM_REG_PC]

# Where Unicorn 2.1 (x86-64 builds) keeps R0-R15: uc_struct.cpu (+0x1B8) -> CPUState.env_ptr (+0x128) ->
# CPUARMState.regs[16], its first field (what uc_reg_read reads for R0-R15, SP and LR included). Used only when checked
# at run time (_cpu_regs: sentinels written with uc_reg_write read back there, R0-R12, SP and LR, and the PC read
# back); otherwise the hot path calls uc_reg_read.
_CPU_LAYOUTS = ((0x1B8, 0x128),)


def _cpu_regs(uc: unicorn.Uc) -> int:
    """Address of R0 in the engine's CPU state when a known layout holds (checked), else 0.

    The hot path reads a deferred divide's two operands there at each block entry (hp_div_charge): two
    uc_reg_read calls cost ~5 ns more per divide (benchmarks/divide_cost.py); and the PC, R0-R12, SP and LR at each
    read of a polled register (hp_poll_read: ~200 host instructions less a read). Pointers are followed
    through /proc/self/mem, so a layout that does not hold fails a read instead of crashing.
    """
    if ctypes.sizeof(ctypes.c_void_p) != 8 or sys.byteorder != "little":
        return 0
    try:
        fd = os.open("/proc/self/mem", os.O_RDONLY)
    except OSError:
        return 0
    regs = _CORE_RID[:15]  # R0-R12, SP, LR (the PC is not written: a write would set the Thumb state from bit 0)
    saved = [uc.reg_read(r) for r in regs]  # also makes sure the engine is initialised
    try:
        for cpu_off, env_off in _CPU_LAYOUTS:
            try:
                cpu = int.from_bytes(os.pread(fd, 8, uc._uch.value + cpu_off), "little")
                env = int.from_bytes(os.pread(fd, 8, cpu + env_off), "little")
                ok = bool(env)
                for base in (0x5A5A0000, 0xA5A5F000):
                    want = [base + 0x111 * i for i in range(15)]
                    for r, v in zip(regs, want, strict=True):
                        uc.reg_write(r, v)
                    ok = ok and list(struct.unpack("<15I", os.pread(fd, 60, env))) == want
                ok = ok and struct.unpack("<I", os.pread(fd, 4, env + 60))[0] == uc.reg_read(_CORE_RID[15])
            except (OSError, OverflowError, ValueError, struct.error):
                ok = False
            if ok:
                return env
        return 0
    finally:
        os.close(fd)
        for r, v in zip(regs, saved, strict=True):
            uc.reg_write(r, v)


# Where the same CPU state keeps what Unicorn 2.1's uc_reg_read of xPSR is made from (v7m_mrs_xpsr): CF, VF, NF, ZF,
# QF, GE, thumb and condexec_bits, eight words from regs + 520, and v7m.exception at regs + 0xB70. Used only when
# checked at run time (_cpu_xpsr: sentinel xPSR values written with uc_reg_write, hotpath.c's value equal to
# uc_reg_read's for each); otherwise hp_poll_read reads xPSR through uc_reg_read.
_XPSR_LAYOUTS = ((520, 0xB70),)
_XPSR_SENTINELS = (0x01000000 | 0x0B3, 0xF1000000 | 0x14C, 0x61000000 | 0x0400 | 0x1E7, 0x09000000 | 0xFC00 | 0x011,
                   0x81000000 | 0x0C00 | 0x003, 0x01000000)  # T always set: a write with T clear would leave Thumb


def _cpu_xpsr(uc: unicorn.Uc, state: HotState, lib: ctypes.CDLL) -> tuple[int, int]:
    """Addresses of the engine's flag words and exception number when a known layout holds (checked), else (0, 0).

    hp_poll_read compares xPSR between two reads of a polled register; made in C from these fields it costs ~90 host
    instructions less than a uc_reg_read call a read (docs/performance.md, twelfth round). The check writes each
    sentinel with uc_reg_write and compares hotpath.c's value (hp_xpsr_of) with uc_reg_read's; the registers
    are restored after it. ``state.dv_env`` (R0 in the CPU state, _cpu_regs) must be set.
    """
    env = state.dv_env
    if not env:
        return 0, 0
    rid = arm_const.UC_ARM_REG_XPSR
    saved = uc.reg_read(rid)
    try:
        for flags_off, exc_off in _XPSR_LAYOUTS:
            state.ps_flags, state.ps_exc = env + flags_off, env + exc_off
            ok = True
            for value in (*_XPSR_SENTINELS, saved):
                uc.reg_write(rid, value)
                ok = ok and lib.hp_xpsr_of(ctypes.byref(state)) == uc.reg_read(rid)
            if ok:
                return env + flags_off, env + exc_off
        return 0, 0
    finally:
        state.ps_flags = state.ps_exc = None
        uc.reg_write(rid, saved)


_MISS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_uint32)
_INTR_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint32)
_PPB_READ_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32)
_PPB_WRITE_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64)
SCS_PAGE = 0xE000E000  # the system control space page (NVIC, SysTick, SCB): hp_ppb_mmio_read/write
DWT_PAGE = 0xE0001000  # the DWT's page (ARMv7-M C1.8): hp_dwt_mmio_read/write serve CYCCNT reads
_native_lib: ctypes.CDLL | None | bool = False  # False: not looked for yet


def native_library() -> ctypes.CDLL | None:
    """The compiled hot path, or None when it was not built (no C compiler at install)."""
    global _native_lib
    if _native_lib is False:
        _native_lib = None
        path = native_extension("_hotpath")
        if path is not None:
            lib = ctypes.CDLL(str(path))
            lib.hp_abi_digest.restype = ctypes.c_char_p
            built = lib.hp_abi_digest().decode()
            if built != abi_digest():
                raise RuntimeError(f"{path} was built for another layout of the C/Python structures (ABI "
                                   f"{built}, this simcore {abi_digest()}): rebuild it (pip install -e .)")
            lib.hp_block_hook_ptr.restype = ctypes.c_void_p
            lib.tm_div_hook_ptr.restype = ctypes.c_void_p
            lib.hp_intr_hook_ptr.restype = ctypes.c_void_p
            lib.hp_ack_ptr.restype = ctypes.c_void_p
            lib.hp_wfi_hook_ptr.restype = ctypes.c_void_p
            lib.hp_ppb_read_ptr.restype = ctypes.c_void_p
            lib.hp_ppb_write_ptr.restype = ctypes.c_void_p
            lib.hp_dwt_read_ptr.restype = ctypes.c_void_p
            lib.hp_dwt_write_ptr.restype = ctypes.c_void_p
            lib.hp_xpsr_of.argtypes = [ctypes.POINTER(HotState)]
            lib.hp_xpsr_of.restype = ctypes.c_uint32
            lib.hp_enter.argtypes = [ctypes.POINTER(HotState), ctypes.c_void_p, ctypes.c_uint32,
                                     ctypes.c_int32, ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint32,
                                     ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32)]
            lib.hp_enter.restype = ctypes.c_int
            lib.hp_analyze_at.argtypes = [ctypes.POINTER(HotState), ctypes.c_void_p, ctypes.c_uint32,
                                          ctypes.c_uint32, ctypes.POINTER(HotBlock),
                                          ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint32),
                                          ctypes.c_int, ctypes.POINTER(HotUncert)]
            lib.hp_analyze_at.restype = ctypes.c_int
            lib.hp_lookup.argtypes = [ctypes.POINTER(HotState), ctypes.c_uint32, ctypes.c_uint32]
            lib.hp_lookup.restype = ctypes.POINTER(HotBlock)
            lib.hp_flash_read_hook_ptr.restype = ctypes.c_void_p
            lib.hp_insert.argtypes = [ctypes.POINTER(HotState)] + [ctypes.c_uint32] * 4 + [
                ctypes.c_int32,
            ] + [ctypes.c_uint32] * 9
            lib.hp_div_settle_at.argtypes = [ctypes.POINTER(HotState), ctypes.c_void_p, ctypes.c_uint32]
            lib.hp_streak_close.argtypes = [ctypes.POINTER(HotState)]
            lib.hp_streak_close.restype = None
            lib.hp_profile_init.argtypes = [ctypes.POINTER(HotState), ctypes.c_uint32, ctypes.c_uint32]
            lib.hp_profile_root.argtypes = [ctypes.POINTER(HotState), ctypes.c_uint32]
            lib.hp_profile_free.argtypes = [ctypes.POINTER(HotState)]
            lib.hp_pop.argtypes = [ctypes.POINTER(HotState)]
            lib.hp_init.argtypes = [ctypes.POINTER(HotState), ctypes.c_uint32]
            lib.hp_free.argtypes = [ctypes.POINTER(HotState)]
            lib.hp_clear.argtypes = [ctypes.POINTER(HotState)]
            lib.hp_flash_forget.argtypes = [ctypes.POINTER(HotState)]
            _native_lib = lib
    return _native_lib  # type: ignore[return-value]


class HotPath:
    """Installs the block hook on a Unicorn engine and exposes the counters.

    ``native``: True the C hook, False the Python twin, None C when built. ``analysis``: where
    blocks are analysed in the native hot path: "native" (C, the default whenever the cycle
    model is one C knows) or "python" (capstone, :class:`BlockAnalyzer`); the Python twin
    always uses the Python analysis. ``functions``: (start, size) of the firmware's function
    symbols, sorted, for the IT state at a block start (see BlockAnalyzer.it_state_at).
    ``on_miss_error`` is called with (addr, size, exception) when pricing a block fails, so the
    machine can stop with a diagnosis instead of a traceback inside a callback. ``on_watch`` is
    called outside emulation with (addr, size, flags) for each new block holding instructions
    a trap watches (:meth:`watch`); it adds per-address hooks and the block is retranslated.
    """

    def __init__(
        self,
        uc: unicorn.Uc,
        analyzer: BlockAnalyzer,
        native: bool | None = None,
        on_miss_error: Callable[[int, int, BaseException], None] | None = None,
        functions: tuple[list[int], list[int]] = ([], []),
        analysis: str | None = None,
        on_watch: Callable[[int, int, int], None] | None = None,
    ) -> None:
        self.uc = uc
        self.analyzer = analyzer
        self.state = HotState()
        self.q, self.w = hot_views(self.state)  # its words, for Python's reads and writes at every entry (abi.Q_*, W_*)
        self.state.stop_cycle = NO_LIMIT
        self.state.stop_insn = NO_LIMIT
        self.state.sp_low = 0xFFFFFFFF
        self.state.ap_cycle = NEVER  # no machine event applied in C until Machine._arm_events plans one
        self.state.ch_ev = EV_SLOTS  # no chain of DMA wakes (hp_chain_wake) until Machine._plan_chain plans one
        self.on_miss_error = on_miss_error
        self.on_watch = on_watch
        lib = native_library() if native in (None, True) else None
        if native is True and lib is None:
            raise RuntimeError("the native hot path was asked for but is not built (pip install rebuilds it)")
        self.lib = lib
        self.native = lib is not None
        self._infos: dict[tuple[int, int], BlockInfo] = {}
        self._py_table: dict[tuple[int, int], tuple[int, ...]] = {}
        self._py_execs: dict[tuple[int, int], int] = {}  # the Python twin's per-block execution counts
        # words each block read from flash at its first execution (the error bar's flash-data term; the
        # native analysis keeps them in its table, hp_block.flash_words)
        self.flash_words: dict[tuple[int, int], int] = {}
        self._watch_seen: set[tuple[int, int]] = set()
        self.pending_watch: list[tuple[int, int, int]] = []
        # divides priced from their operands (simcore/native/timing.c, tm_div_hook)
        self.div_stats = DivStats()
        self.div_stats.cycle_count = ctypes.addressof(self.state) + HotState.cycle_count.offset
        self.div_stats.block_count = ctypes.addressof(self.state) + HotState.entries.offset
        self.div_stats.block_more = ctypes.addressof(self.state) + HotState.st_n.offset  # hp_streak_flush
        self.div_stats.last_addr = 0xFFFFFFFF
        self.div_stats.pend = ctypes.addressof(self.state) + HotState.dv_pend.offset
        self.state.div_stats = ctypes.addressof(self.div_stats)
        self.defer = True  # divides the block analysis allows are priced at the next block entry (set_defer)
        self._py_slots: dict[tuple[int, int], tuple[int, int]] = {}  # the Python twin's hp_block.div
        self._div_hooked: set[int] = set()
        self._div_handles: list[int] = []  # hook handles of the divides hooked (configure_model removes them)
        self._div_sites: list[DivHookSite] = []  # kept alive: C holds pointers into them
        self.div_blocks: dict[tuple[int, int], tuple[DivSite, ...]] = {}  # blocks whose divides are hooked
        self.div_preinstalled: set[tuple[int, int]] = set()  # ... of those, hooked from the cache before the run
        self._sys_flags = 0  # what the system block watches (:meth:`watch`)
        self.cache_key: bytes | None = None  # simcore.blockcache
        self.cache_loaded = 0  # block analyses taken from the persistent cache
        # the firmware sets the flash wait states (FLASH.ACR): a block's first execution may come with or
        # without them, so the flash-data probe made then is never taken from (or put in) the cache
        self.flash_ws_variable = False
        self._configure_flash()
        self._model = HotModel()
        self._funcs = functions
        self._analysis = analysis
        self.configure_model()
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

    def configure_model(self) -> None:
        """Take the cycle model's settings (again: outside emulation, e.g. after ``cycle_model.divides`` changed).

        Called again after construction, it also undoes what the previous settings left: the divide
        hooks (those the persistent cache installed before the run included, :meth:`preinstall_divides`),
        the analyses made or loaded under them (the C table, Unicorn's translations) and the cache key,
        so that nothing priced by the old settings survives.
        """
        cm = self.analyzer.cycle_model
        if hasattr(self, "_div_operands"):
            self._reset_model()
        self._div_operands = bool(getattr(cm, "divide_sites", None) and getattr(cm, "divides", "") == "operands")
        # with deferral, only blocks holding a divide the analysis does not defer need hooks (DIV_HOOK)
        self._div_flag = DIV_HOOK if self.defer else DIV
        self.state.dv_on = int(self.defer and self._div_operands)
        self.state.py_flags = self._sys_flags | (self._div_flag if self._div_operands else 0)
        self.native_analysis = self.native and self._analysis != "python" and self._configure_native_model()
        self.state.native_analysis = int(self.native_analysis)

    def disable_defer(self) -> None:
        """From now on price every divide by its operand hook, none at the next block entry: for a debugger
        (it pauses inside blocks and resumes their rest as blocks of their own) and the DIV_0_TRP watch
        (its fault comes before the divide). Call outside emulation: the blocks already seen that defer
        divides get their hooks now (their translations are dropped), analyses and counts stay."""
        if not self.defer:
            return
        self.settle_divides(None)
        self.defer = False
        self._div_flag = DIV
        self.state.dv_on = 0
        if not self._div_operands:
            return
        self.state.py_flags = (self.state.py_flags & ~DIV_HOOK) | DIV
        if self.native:
            deferring = [(b.addr, b.size) for b in self._table() if b.div[0]]
        else:
            deferring = list(self._py_slots)
        for addr, size in deferring:
            self._hook_divides(addr, size)
            self._watch_seen.add((addr, size))
            self.uc.ctl_remove_cache(addr, addr + size)

    def _reset_model(self) -> None:
        """Drop the divide hooks and every analysis made under the previous settings (configure_model)."""
        self.settle_divides(None)
        for handle in self._div_handles:
            if self.native:
                unicorn.unicorn_py3.unicorn.uclib.uc_hook_del(self.uc._uch, ctypes.c_size_t(handle))
            else:
                self.uc.hook_del(handle)
        self._div_handles.clear()
        self._div_hooked.clear()
        self._div_sites.clear()
        self.div_blocks.clear()
        self.div_preinstalled.clear()
        self._watch_seen.clear()
        self.pending_watch.clear()
        self.cache_key = None
        self.cache_loaded = 0
        self.forget_code()
        self.uc.ctl_flush_tb()

    def _configure_native_model(self) -> bool:
        """Fill the C analysis' model from the cycle model; False (Python analysis) for a model C lacks."""
        cm = self.analyzer.cycle_model
        if type(cm) is CortexM4:
            kind = 1
        elif type(cm) is InstructionCount:
            kind = 0
        else:
            return False
        fc = self.analyzer.flash
        if len(fc.ranges) > MAX_FLASH:
            return False
        m = self._model
        m.model = kind
        m.branch_refill, m.load_pc_refill = BRANCH_REFILL, LOAD_PC_REFILL
        m.div_cycles = DIV_MIN if getattr(cm, "divides", "operands") == "operands" else DIV_MAX
        m.store_data_phase = STORE_DATA_PHASE
        m.data_hook = int(fc.data_hook)
        m.n_flash = len(fc.ranges)
        for i, (lo, hi) in enumerate(fc.ranges):
            m.flash_lo[i], m.flash_hi[i] = lo, min(hi, 0xFFFFFFFF)
        starts, sizes = self._funcs
        self._func_arrays = ((ctypes.c_uint32 * len(starts))(*starts), (ctypes.c_uint32 * len(sizes))(*sizes))
        m.n_funcs = len(starts)
        m.func_start = ctypes.cast(self._func_arrays[0], ctypes.c_void_p).value
        m.func_size = ctypes.cast(self._func_arrays[1], ctypes.c_void_p).value
        self._set_handlers(self.analyzer.handlers)
        self.state.model = ctypes.cast(ctypes.byref(m), ctypes.c_void_p).value
        return True

    def _set_handlers(self, handlers: frozenset[int]) -> None:
        hs = sorted(handlers)
        self._handler_array = (ctypes.c_uint32 * max(len(hs), 1))(*hs)
        self._model.n_handlers = len(hs)
        self._model.handlers = ctypes.cast(self._handler_array, ctypes.c_void_p).value

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

    def forget_flash_stamps(self) -> None:
        """The ART's line tags were replaced from Python (a snapshot restored): C's per-block stamps of the tags'
        generation (hp_block.art_gen, hotpath.c hp_flash_hit) no longer say which lines are present, so each block
        is checked again at its next entry. The Python twin checks every block at every entry: nothing to do."""
        if self.native and self.lib is not None:
            self.lib.hp_flash_forget(ctypes.byref(self.state))

    def set_flash(self, wait_states: int, accelerator: int, prefetch: bool) -> None:
        """Wait states and accelerator from now on (the firmware reprogrammed FLASH.ACR or the clock).

        Both paths read them per block; the line tags stay (a cache that was off refills as it misses).
        """
        s = self.state
        s.wait_states = wait_states
        s.accel = accelerator
        s.prefetch = 1 if prefetch and accelerator == 1 else 0
        if accelerator != 1 or not wait_states:  # C's block hook takes a stamp for "in flash, ART on, wait states"
            self.forget_flash_stamps()

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
        if self.native_analysis:
            self._set_handlers(self.analyzer.handlers)
        self.forget_code()
        s = self.state
        s.slow_next |= SLOW_PROFILE
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
        for i, rid in enumerate(_CORE_RID):
            self.state.core_rid[i] = rid
        self.state.dv_env = _cpu_regs(self.uc) or None
        self.state.ps_flags, self.state.ps_exc = (x or None for x in _cpu_xpsr(self.uc, self.state, self.lib))
        self.div_stats.env = self.state.dv_env
        self.div_stats.r0_id = arm_const.UC_ARM_REG_R0
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

    def install_wfi_hooks(self, sites: list[int]) -> bool:
        """Native hot path only (after install_intr_hook): hp_wfi_hook on each wfi address, which may wake the sleep
        in C at an event Python planned (wk_cycle). Returns False (nothing installed) otherwise or with no sites."""
        if not self.native or not sites or not self.state.reg_write:
            return False
        assert self.lib is not None
        s = self.state
        s.wk_cycle = NEVER
        s.wk_x_cycle = NEVER  # (no wake's extra store yet: Machine._plan_wake)
        s.wk_ev = EV_SLOTS
        uclib = unicorn.unicorn_py3.unicorn.uclib
        s.mem_write = ctypes.cast(uclib.uc_mem_write, ctypes.c_void_p).value  # hp_chain_wake's DMA writes
        for addr in sites:
            handle = ctypes.c_size_t()
            status = uclib.uc_hook_add(
                self.uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_CODE,
                ctypes.c_void_p(self.lib.hp_wfi_hook_ptr()), ctypes.cast(ctypes.byref(s), ctypes.c_void_p),
                ctypes.c_uint64(addr), ctypes.c_uint64(addr),
            )
            if status != unicorn.UC_ERR_OK:
                raise unicorn.UcError(status)
        return True

    def map_scs(self, read: Callable[[int, int], int], write: Callable[[int, int, int], None]) -> None:
        """Serve the system control space page through hotpath.c (ICSR's PENDSVSET from a handler C entered:
        hp_pendsv) and the DWT's page (CYCCNT reads: hp_dwt_mmio_read, while ``state.dwt_on`` is 1); every other
        access goes to ``read(addr, size)`` / ``write(addr, size, value)``."""
        assert self.lib is not None
        s = self.state
        self._ppb_cbs = (_PPB_READ_FN(read), _PPB_WRITE_FN(write))  # C holds the pointers
        s.ppb_read = ctypes.cast(self._ppb_cbs[0], ctypes.c_void_p).value
        s.ppb_write = ctypes.cast(self._ppb_cbs[1], ctypes.c_void_p).value
        self._map_page(SCS_PAGE, self.lib.hp_ppb_read_ptr(), self.lib.hp_ppb_write_ptr())
        self._map_page(DWT_PAGE, self.lib.hp_dwt_read_ptr(), self.lib.hp_dwt_write_ptr())

    def _map_page(self, page: int, read: int, write: int) -> None:
        """One 4 KiB page of the PPB on C callbacks (``read``, ``write``: their addresses) given the hot state."""
        uclib = unicorn.unicorn_py3.unicorn.uclib
        self.uc.mem_unmap(page, 0x1000)
        user = ctypes.cast(ctypes.byref(self.state), ctypes.c_void_p)
        status = uclib.uc_mmio_map(self.uc._uch, ctypes.c_uint64(page), ctypes.c_size_t(0x1000),
                                   ctypes.c_void_p(read), user, ctypes.c_void_p(write), user)
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)

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
        """At the block's first execution (entry registers): the words its data loads read from flash.

        Probed when the flash has wait states at that moment (hp_state.wait_states, as hp_miss_slow), not
        the board's configured figure: firmware that programs FLASH.ACR runs its first blocks at 0."""
        fc = self.analyzer.flash
        u = info.uncertainty
        if not (self.state.wait_states and not fc.data_hook and u.data_words):
            return
        regs = {}

        def reg(name: str) -> int:
            if name not in regs:
                regs[name] = self.uc.reg_read(_UC_REGS[name])
            return regs[name]

        self.flash_words[key] = flash_words(u, reg, fc.is_flash)

    def _native_miss(self, addr: int, size: int) -> int:
        """hp_miss_slow's callback: analyse in Python (Python analysis) and queue trap watches.

        Returns 1 when the block must be retranslated (emulation stops; :meth:`install_pending`).
        """
        try:
            if self.native_analysis:
                block = self.lib.hp_lookup(ctypes.byref(self.state), addr, size)  # type: ignore[union-attr]
                return 1 if self._queue_watch(addr, size, block.contents.flags) else 0
            info = self.info(addr, size)
            self._probe_flash_words((addr, size), info)
        except BaseException as exc:  # noqa: BLE001 - must not unwind through C
            if self.on_miss_error is not None:
                self.on_miss_error(addr, size, exc)
            return 0
        assert self.lib is not None
        self.lib.hp_insert(
            ctypes.byref(self.state), addr, size, info.n_insn, info.cycles, info.sp_min_delta, info.flags,
            info.target, info.taken_extra, info.line0, info.n_lines, info.lit_count, info.lit_line, *info.div_slots,
        )
        return 1 if self._queue_watch(addr, size, info.flags) else 0

    # --- per-address hooks only on blocks that hold the instructions they watch ----------------------
    # Divides priced from their operands (the cycle model's divide_sites; tm_div_hook) and the system
    # block's trap watches (on_watch). A block holding such instructions is shown to install_pending
    # when first translated; its hooks are added and it is retranslated (Unicorn applies a hook only
    # to code translated after the hook was added).
    def watch(self, flags: int) -> None:
        """From now on, blocks holding instructions of ``flags`` (blocks.DIV/MULTI/ACCESS) go to ``on_watch``.

        Blocks translated before are dropped (here and from Unicorn's cache) so that they are seen
        again; call outside emulation.
        """
        new = flags & ~self._sys_flags
        if not new:
            return
        if new & DIV:
            self.disable_defer()  # the trap's hook must see every divide before it runs
        self._sys_flags |= new
        self.state.py_flags |= new
        self._watch_seen.clear()
        self.forget_code()
        self.uc.ctl_flush_tb()

    def _queue_watch(self, addr: int, size: int, flags: int) -> bool:
        watched = flags & self.state.py_flags
        if not watched or (addr, size) in self._watch_seen:
            return False
        self._watch_seen.add((addr, size))
        self.pending_watch.append((addr, size, watched))
        return True

    def install_pending(self) -> bool:
        """Outside emulation: hook what the queued blocks hold, and drop their stale translations."""
        if not self.pending_watch:
            return False
        for addr, size, flags in self.pending_watch:
            if flags & self._div_flag and self._div_operands:
                self._hook_divides(addr, size)
            if flags & self._sys_flags and self.on_watch is not None:
                self.on_watch(addr, size, flags & self._sys_flags)
            self.uc.ctl_remove_cache(addr, addr + size)
        self.pending_watch.clear()
        self.state.stop_requested = 0
        return True

    def _divide_sites(self, addr: int, size: int) -> tuple[DivSite, ...]:
        """The divides of a block that need an operand hook (all of them without deferral)."""
        if not self.native_analysis:
            sites = self.info(addr, size).divides
        else:
            sites = divide_sites_in(self.analyzer.code(addr, size), addr)  # from the encodings: no capstone
        return self.undeferred(addr, size, sites) if self.state.dv_on else sites

    def undeferred(self, addr: int, size: int, sites: tuple[DivSite, ...]) -> tuple[DivSite, ...]:
        """Of a block's divides, those deferral leaves to a hook (the block's hp_block.div words price the rest)."""
        if not self.native_analysis:
            slots = self.info(addr, size).div_slots
        else:
            block = self.lib.hp_lookup(ctypes.byref(self.state), addr, size)  # type: ignore[union-attr]
            slots = tuple(block.contents.div) if block else (0, 0)
        deferred = deferred_addresses(addr, slots)
        return tuple(d for d in sites if d.addr not in deferred)

    def preinstall_divides(self, addr: int, size: int, sites: tuple[DivSite, ...]) -> None:
        """Before the run (simcore.blockcache): hook the divides of a block an earlier run hooked, so its
        first translation has them and its first execution does not stop emulation (install_pending)."""
        if self._div_operands and not self.state.py_flags & ~self._div_flag and (addr, size) not in self._watch_seen:
            self._hook_divides(addr, size, sites)
            self._watch_seen.add((addr, size))
            self.div_preinstalled.add((addr, size))

    def _hook_divides(self, addr: int, size: int, sites: tuple[DivSite, ...] | None = None) -> None:
        """A hook on each divide of the block that prices it from its operands (tm_div_hook / _py_div_hook)."""
        uclib = unicorn.unicorn_py3.unicorn.uclib
        if self.native and not self.div_stats.reg_read_batch:
            self.div_stats.reg_read_batch = ctypes.cast(uclib.uc_reg_read_batch, ctypes.c_void_p).value
        if sites is None:
            sites = self._divide_sites(addr, size)
        self.div_blocks[(addr, size)] = sites
        for d in sites:
            if d.addr in self._div_hooked:
                continue
            self._div_hooked.add(d.addr)
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
                self._div_handles.append(handle.value)
            else:
                self._div_handles.append(
                    self.uc.hook_add(unicorn.UC_HOOK_CODE, self._py_div_hook, d, begin=d.addr, end=d.addr))
            self.uc.ctl_remove_cache(d.addr, d.addr + d.size)

    def _py_div_hook(self, uc: unicorn.Uc, address: int, size: int, site: DivSite) -> None:
        """Python twin of tm_div_hook."""
        s = self.state
        if s.dv_pend[0] and address in deferred_addresses(s.dv_addr, s.dv_pend):
            return  # the block being run prices it at its end
        extra = divide_cycles(uc.reg_read(site.rn), uc.reg_read(site.rm), site.signed) - DIV_MIN
        self.state.cycle_count += extra
        self.div_stats.extra += extra
        self.div_stats.executed += 1
        self.div_stats.last_addr = address
        self.div_stats.last_block = self.state.entries
        self.div_stats.last_extra = extra

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
        if s.dv_pend[0]:
            self._py_settle(uc, None)
        s.block_cycle = s.cycle_count  # the block-entry clock (hp_state.block_cycle)
        if s.cycle_count >= s.stop_cycle or s.insn_count >= s.stop_insn:
            s.stop_requested = 1
            s.last_size = 0
            uc.emu_stop()
            return
        entry = self._py_table.get((address, size))
        if entry is None or s.slow_next or entry[3] & GENERAL_FLAGS:
            self._py_general(uc, address, size, entry)
            return
        n_insn, cycles, _sp_min_delta, flags, target, taken_extra, line0, n_lines, lit_count, lit_line = entry
        self._py_branch(address, size, flags, target, taken_extra)
        if flags & IN_FLASH and s.wait_states:
            wait = self._py_flash_wait(line0, n_lines, lit_count, lit_line)
            s.flash_wait_cycles += wait
            cycles += wait
        s.insn_count += n_insn
        s.cycle_count += cycles
        s.block_count += 1
        s.entries += 1
        key = (address, size)
        self._py_execs[key] = self._py_execs.get(key, 0) + 1
        s.last_addr = address
        s.last_size = size
        if s.dv_on:
            self._py_arm(key)

    def _py_branch(self, address: int, size: int, flags: int, target: int, taken_extra: int) -> None:
        """Settle the previous block's conditional branch (taken: refill cycles) and note this block's."""
        s = self.state
        if s.pend_cond and ((address != s.pend_fall) if s.pend_target == INDIRECT else (address == s.pend_target)):
            s.cycle_count += s.pend_extra
            s.branch_taken_cycles += s.pend_extra
        s.pend_cond = flags & COND_END
        s.pend_target = target
        s.pend_fall = (address + size) & 0xFFFFFFFF
        s.pend_extra = taken_extra

    def _py_stop(self, uc: unicorn.Uc) -> None:
        s = self.state
        s.stop_requested = 1
        s.last_size = 0
        uc.emu_stop()

    def _py_general(self, uc: unicorn.Uc, address: int, size: int, entry: tuple[int, ...] | None) -> None:
        """Twin of hp_block_general."""
        s = self.state
        if s.slow_next & SLOW_SPIN:  # idle loops: see hp_block_general
            skip, loop = s.spin_skip, s.spin_next
            s.slow_next &= ~SLOW_SPIN
            s.spin_skip = s.spin_next = 0
            if skip and address == skip:
                return
            if loop and address == loop:
                s.spin_at = s.spin_skip = loop
                s.slow_next |= SLOW_SPIN
                self._py_stop(uc)
                return
        if entry is None:
            try:
                info = self.info(address, size)
                self._probe_flash_words((address, size), info)
            except BaseException as exc:  # noqa: BLE001
                if self.on_miss_error is not None:
                    self.on_miss_error(address, size, exc)
                s.miss_failed = 1
                self._py_stop(uc)
                return
            entry = (info.n_insn, info.cycles, info.sp_min_delta, info.flags, info.target, info.taken_extra,
                     info.line0, info.n_lines, info.lit_count, info.lit_line)
            self._py_table[(address, size)] = entry
            if info.div_slots[0]:
                self._py_slots[(address, size)] = info.div_slots
            if self._queue_watch(address, size, info.flags):
                self._py_stop(uc)
                return
        n_insn, cycles, sp_min_delta, flags, target, taken_extra, line0, n_lines, lit_count, lit_line = entry
        self._py_branch(address, size, flags, target, taken_extra)
        if s.profiling:
            self._py_profile(uc, address, size, flags)
        if flags & SP_READ or s.slow_next & SLOW_SP:
            low = (uc.reg_read(arm_const.UC_ARM_REG_SP) + sp_min_delta) & 0xFFFFFFFF
            if low < s.sp_low:
                s.sp_low = low
        s.slow_next = (SLOW_SP if flags & SP_DYNAMIC else 0) | (SLOW_PROFILE if s.profiling else 0)
        s.insn_count += n_insn
        s.cycle_count += cycles
        s.block_count += 1
        s.entries += 1
        key = (address, size)
        self._py_execs[key] = self._py_execs.get(key, 0) + 1
        s.last_addr = address
        s.last_size = size
        if s.dv_on:
            self._py_arm(key)
        if flags & SEV:
            s.sev_count += 1
        if flags & CONTROL:
            s.control_blocks += 1
            s.tick_stack_limit = 0
        if (flags & MASK and s.irq_pending) or (flags & CONTROL and s.mpu_on):
            s.stop_cycle = 0
            s.other_cycle = 0
        if flags & SELF_LOOP:
            s.slow_next |= SLOW_SPIN
            if address == target:
                s.spin_at = s.spin_skip = address
                s.stop_requested = 1
                uc.emu_stop()
            else:
                s.spin_next = target
        if flags & IN_FLASH and s.wait_states:
            wait = self._py_flash_wait(line0, n_lines, lit_count, lit_line)
            s.flash_wait_cycles += wait
            s.cycle_count += wait

    # --- shared -------------------------------------------------------------------------
    def info(self, addr: int, size: int) -> BlockInfo:
        """The Python analysis of a block (capstone; cached)."""
        key = (addr, size)
        info = self._infos.get(key)
        if info is None:
            info = self.analyzer.analyze(addr, size)
            self._infos[key] = info
        return info

    def native_block(self, addr: int, size: int, uncert: HotUncert | None = None
                     ) -> tuple[HotBlock, list[int], list[int]]:
        """The C analysis of a block: its table entry and (address, cycles) of each instruction (and the
        error bar's counts into ``uncert``)."""
        assert self.lib is not None
        block = HotBlock()
        costs = (ctypes.c_uint32 * MAX_BLOCK_INSNS)()
        addrs = (ctypes.c_uint32 * MAX_BLOCK_INSNS)()
        n = self.lib.hp_analyze_at(ctypes.byref(self.state), self.uc._uch, addr, size, ctypes.byref(block), costs,
                                   addrs, MAX_BLOCK_INSNS, ctypes.byref(uncert) if uncert is not None else None)
        if n < 0:
            raise unicorn.UcError(unicorn.UC_ERR_READ_UNMAPPED)
        n = min(n, MAX_BLOCK_INSNS)
        return block, list(addrs[:n]), list(costs[:n])

    def block_flags(self, addr: int, size: int) -> int:
        """The flags of a block the hot path has seen (0 if it has not)."""
        if self.native:
            assert self.lib is not None
            block = self.lib.hp_lookup(ctypes.byref(self.state), addr, size)
            return block.contents.flags if block else 0
        entry = self._py_table.get((addr, size))
        return entry[3] if entry else 0

    def costs(self, addr: int, size: int) -> tuple[int, int, int]:
        """(instructions, static cycles, flags) of a block, from whichever analysis the hot path uses."""
        if self.native_analysis:
            block = self.native_block(addr, size)[0]
            return block.n_insn, block.cycles, block.flags
        info = self.info(addr, size)
        return info.n_insn, info.cycles, info.flags

    def tail(self, addr: int, size: int, pc: int) -> tuple[int, int]:
        """Instructions and cycles of the block [addr, addr + size) from ``pc`` (inclusive) to its end."""
        if self.native_analysis:
            _block, addrs, cycles = self.native_block(addr, size)
            rest = [c for a, c in zip(addrs, cycles) if a >= pc]
            return len(rest), sum(rest)
        return self.info(addr, size).tail(pc)

    def keys_at(self, addr: int) -> set[tuple[int, int]]:
        """(address, size) of the C table's blocks that start at ``addr``, found with numpy (building every
        entry as a ctypes object cost milliseconds per single step)."""
        import numpy as np  # local: only the debugger asks

        s = self.state
        if not s.table:
            return set()
        n, width = s.mask + 1, ctypes.sizeof(HotBlock) // 4
        words = np.ctypeslib.as_array((ctypes.c_uint32 * (n * width)).from_address(s.table)).reshape(n, width)
        halves = words.view(np.uint16)  # hp_block.size is 16 bits (the ART stamp beside it)
        a, z = HotBlock.addr.offset // 4, HotBlock.size.offset // 2
        return {(addr, int(halves[i, z])) for i in np.flatnonzero(words[:, a] == addr)}

    def _table(self) -> list[HotBlock]:
        s = self.state
        if not s.table:
            return []
        table = ctypes.cast(s.table, ctypes.POINTER(HotBlock * (s.mask + 1))).contents
        return [b for b in table if b.addr != 0xFFFFFFFF]

    def block_executions(self) -> dict[tuple[int, int], int]:
        """How many times each (address, size) block was entered and counted (cleared by forget_code)."""
        if not self.native:
            return dict(self._py_execs)
        return {(b.addr, b.size): b.execs for b in self._table() if b.execs}

    def error_bar_blocks(self) -> dict[tuple[int, int], tuple[BlockUncertainty, int, int]]:
        """Per executed block: its error-bar counts, the words it read from flash at its first execution,
        and its executions (simcore.timing_error.run_error_bar's input)."""
        out: dict[tuple[int, int], tuple[BlockUncertainty, int, int]] = {}
        if self.native_analysis:
            u = HotUncert()
            for b in self._table():
                if not b.execs:
                    continue
                self.native_block(b.addr, b.size, u)
                counts = BlockUncertainty(refill=u.refill, wide_groups=u.wide_groups, literal_loads=u.literal_loads,
                                          cond_over=u.cond_over, split=u.split, data_words=u.data_words,
                                          unknown_words=u.unknown_words)
                words = u.data_words if b.flash_words == NOT_PROBED else b.flash_words
                out[(b.addr, b.size)] = (counts, words, b.execs)
            return out
        for key, n in self.block_executions().items():
            info = self.info(*key)
            out[key] = (info.uncertainty, self.flash_words.get(key, info.uncertainty.data_words), n)
        return out

    def forget_code(self) -> None:
        """Drop cached block costs (after code in RAM changed and Unicorn's cache was flushed)."""
        self._infos.clear()
        self._py_table.clear()
        self._py_execs.clear()
        self._py_slots.clear()
        self.analyzer.cache.clear()
        if self.native and self.lib is not None:
            self.lib.hp_clear(ctypes.byref(self.state))

    def undo_divide(self, pc: int) -> None:
        """Emulation stops before the instruction at ``pc`` runs: if it is a divide whose operand hook
        already charged it in this block entry (a later hook stopped), take the charge back (the hook
        charges it again when the divide runs)."""
        st, s = self.div_stats, self.state
        if st.last_addr == pc and st.last_block == s.entries and st.executed:
            s.cycle_count -= st.last_extra
            st.extra -= st.last_extra
            st.executed -= 1
            st.last_addr = 0xFFFFFFFF

    def _py_arm(self, key: tuple[int, int]) -> None:
        """Twin of hp_div_arm: a counted block's deferred divides wait for the next entry."""
        slots = self._py_slots.get(key)
        if slots is not None:
            s = self.state
            s.dv_pend[0], s.dv_pend[1] = slots
            s.dv_addr = key[0]

    def _py_settle(self, uc: unicorn.Uc, pc: int | None) -> None:
        """Twin of hp_div_settle_at (``pc`` None: at a block entry, the previous block ran to its end)."""
        s, st = self.state, self.div_stats
        inside = pc is not None and s.last_size and s.last_addr == s.dv_addr and \
            s.last_addr <= pc < s.last_addr + s.last_size
        for v in tuple(s.dv_pend):
            if not v:
                break
            if inside and pc <= s.dv_addr + ((v >> 8) & 0x7FF) * 2:  # type: ignore[operator]
                continue
            n = uc.reg_read(_CORE_RID[v & 0xF])
            m = uc.reg_read(_CORE_RID[(v >> 4) & 0xF])
            extra = divide_cycles(n, m, bool(v & 0x40000000)) - DIV_MIN
            s.cycle_count += extra
            st.extra += extra
            st.executed += 1
            s.dv_settled += 1
        s.dv_pend[0] = s.dv_pend[1] = 0

    def end_streak(self) -> None:
        """Write the counts C keeps per streak of one block entered again and again (hotpath.c hp_streak_flush) into
        block_count, entries, the block's execs and the divide statistics, and end the streak: before Python reads
        those mid-run or changes what the streak relies on (the twin keeps no streak)."""
        if self.state.st_size and self.native:
            assert self.lib is not None
            self.lib.hp_streak_close(ctypes.byref(self.state))

    def settle_divides(self, pc: int | None) -> None:
        """Where a run stopped (``pc``; None: at a block boundary): end C's streak (the counters whole again) and
        price the deferred divides of the last block entered that ran (hp_block.div; those at or after ``pc``
        inside it did not). Call right after emu_start returns, before anything reads the clock, the counters or
        writes registers."""
        s = self.state
        if not s.dv_pend[0]:
            self.end_streak()
            return
        if self.native:  # (hp_div_settle_at ends the streak first)
            assert self.lib is not None
            self.lib.hp_div_settle_at(ctypes.byref(s), self.uc._uch, 0xFFFFFFFF if pc is None else pc & ~1)
        else:
            self._py_settle(self.uc, None if pc is None else pc & ~1)

    def correct_partial_block(self, pc: int) -> None:
        """A run stopped inside the last block at ``pc``: un-count what did not execute."""
        self.settle_divides(pc)
        self.undo_divide(pc)
        s = self.state
        if s.last_size and s.last_addr <= pc < s.last_addr + s.last_size:
            n, cycles = self.tail(s.last_addr, s.last_size, pc)
            s.insn_count -= n
            s.cycle_count -= cycles
        s.last_size = 0
