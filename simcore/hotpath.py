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

from simcore.accounting import SP_DYNAMIC, SP_READ, BlockAnalyzer, BlockInfo

NO_LIMIT = (1 << 64) - 1


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
    ]


_MISS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_uint32)
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
                    lib.hp_block_hook_ptr.restype = ctypes.c_void_p
                    lib.hp_cond_hook_ptr.restype = ctypes.c_void_p
                    lib.hp_insert.argtypes = [ctypes.POINTER(HotState)] + [ctypes.c_uint32] * 4 + [
                        ctypes.c_int32,
                        ctypes.c_uint32,
                    ]
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
        self._cond_hooked: set[tuple[int, int]] = set()
        self.pending_cond: list[tuple[int, int]] = []
        if self.native:
            self._install_native()
        else:
            uc.hook_add(unicorn.UC_HOOK_BLOCK, self._py_block_hook)

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

    def _native_miss(self, addr: int, size: int) -> int:
        try:
            info = self.info(addr, size)
        except BaseException as exc:  # noqa: BLE001 - must not unwind through C
            if self.on_miss_error is not None:
                self.on_miss_error(addr, size, exc)
            return 0
        assert self.lib is not None
        self.lib.hp_insert(
            ctypes.byref(self.state), addr, size, info.n_insn, info.cycles, info.sp_min_delta, info.flags
        )
        return 1 if self._needs_cond_hooks(info) else 0

    def _needs_cond_hooks(self, info: BlockInfo) -> bool:
        """Queue hooks for this block's IT-conditional instructions; True if the block must be retranslated."""
        new = [r for r in info.cond_ranges if r not in self._cond_hooked]
        for r in new:
            self._cond_hooked.add(r)
            self.pending_cond.append(r)
        return bool(new)

    def install_pending(self) -> bool:
        """Outside emulation: add the queued conditional-instruction hooks and drop stale translations."""
        if not self.pending_cond:
            return False
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
            except BaseException as exc:  # noqa: BLE001
                if self.on_miss_error is not None:
                    self.on_miss_error(address, size, exc)
                s.miss_failed = 1
                s.stop_requested = 1
                uc.emu_stop()
                return
            entry = (info.n_insn, info.cycles, info.sp_min_delta, info.flags)
            self._py_table[(address, size)] = entry
            if self._needs_cond_hooks(info):
                s.stop_requested = 1
                s.last_size = 0
                uc.emu_stop()
                return
        n_insn, cycles, sp_min_delta, flags = entry
        if flags & SP_READ or s.check_sp_next:
            low = (uc.reg_read(arm_const.UC_ARM_REG_SP) + sp_min_delta) & 0xFFFFFFFF
            if low < s.sp_low:
                s.sp_low = low
        s.check_sp_next = flags & SP_DYNAMIC
        s.insn_count += n_insn
        s.cycle_count += cycles
        s.block_count += 1
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

    def forget_code(self) -> None:
        """Drop cached block costs (after code in RAM changed and Unicorn's cache was flushed)."""
        self._infos.clear()
        self._py_table.clear()
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
