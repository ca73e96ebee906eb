"""The C/Python ABI of the native hot path: ctypes mirrors of its structures, and the check of them.

simcore/native/hotpath.c and thumb.h define the structures; the mirrors below must match them
field by field. :func:`abi_header` generates simcore/native/abi.h from the mirrors and the
constants Python shares with C (block flags, register orders, array sizes): one
``_Static_assert(offsetof(...))`` per field, so a C struct that drifts from its mirror does not
compile, and a digest of the header that the built library returns (hp_abi_digest), so a
library built from other sources is refused at load. ``python -m simcore.abi`` rewrites the
header; tests/unit/test_native_abi.py checks it is current and that a swap of two same-width
fields fails the build.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import sys
from pathlib import Path

from unicorn import arm_const

from simcore import blocks, cycles

HEADER = Path(__file__).parent / "native" / "abi.h"

NO_LIMIT = (1 << 64) - 1
INDIRECT = 0xFFFFFFFF
NO_NODE = 0xFFFFFFFF
MAX_DEPTH = 1024  # profiler shadow-stack depth
MAX_EVENTS = 1 << 20  # profiler interrupt enter/leave records kept for the timeline
MAX_WINDOWS = 8  # memory windows the native exception return knows (HP_MAX_WINDOWS)
MAX_FLASH = 8  # flash ranges the C analysis knows (HP_MAX_FLASH)
MAX_SOURCES = 4  # peripheral interrupt sources C may deliver besides SysTick (HP_MAX_SOURCES)
MAX_NEST = 8  # active exceptions the native nested return knows (HP_MAX_NEST)
NV_WORDS = 16  # NVIC ISER/ICER/ISPR/ICPR words C keeps (HP_NV_WORDS): 496 interrupts (ARMv7-M B3.4.1)
AP_OPS = 4  # register-file changes of a machine event C applies at its cycle (HP_AP_OPS, hotpath.c hp_apply)
AC_MAX = 16  # applications of a planned event and its model's next ones C may chain (HP_AC_MAX, hp_apply_chain)
AP_STORE, AP_FLAGS = 0, 1  # such a change: a register-file value, an entry's flags (HP_AP_STORE, HP_AP_FLAGS)
EV_SLOTS = 8  # peripheral event registers whose clear C may serve, lowering their interrupt line (HP_EV_SLOTS)
TW_EVENTS = 5  # a TWIM read's events C sets: TXSTARTED, LASTTX, RXSTARTED, LASTRX, STOPPED (HP_TW_EVENTS)
TW_NONE = 0xFFFFFFFF  # tw_ev_store: the event is not held by the register file (its reads go to Python) (HP_TW_NONE)
TW_CHECKS = 4  # register-file values a TWIM read taken in C must still hold as planned (HP_TW_CHECKS)
CH_MAX = 16  # DMA halves of one chain of wfi wakes C may do (HP_CH_MAX, hotpath.c hp_chain_wake)
UX_MAX = 64  # UARTE transfers C may start before Python takes them (HP_UX_MAX, hotpath.c hp_uarte_start)
UX_CAP = 4096  # their console bytes C may hold (HP_UX_CAP)
UX_OPS = 4  # register-file changes at such a transfer's start, and at its end (HP_UX_OPS)
KS_TICKS = 64  # ticks a K-tick stretch logs before Python settles them (HP_KS_TICKS, hotpath.c hp_ks)
KS_ARRIVALS = 2048  # sample arrivals its chip preview reaches (HP_KS_ARRIVALS)
KS_LEVELS = 64  # FIFO_SRC values by level it holds (HP_KS_LEVELS)
NEVER = (1 << 64) - 1  # no planned assertion (HP_NEVER)
MAX_PROBES = 64  # probes of one block the C analysis reports (HP_MAX_PROBES)
NOT_PROBED = 0xFFFFFFFF  # hp_block.flash_words before a probe (HP_NOT_PROBED)
MAX_BLOCK_INSNS = 2048  # instructions of one block the C analysis reports (HP_MAX_BLOCK_BYTES / 2)
SLOW_SP, SLOW_PROFILE, SLOW_SPIN = 1, 2, 4  # hp_state.slow_next bits (HP_SLOW_*)
# block flags that take the general path (HP_GENERAL_FLAGS)
GENERAL_FLAGS = blocks.SP_READ | blocks.MASK | blocks.SEV | blocks.SELF_LOOP | blocks.CONTROL
# The registers of the native exception paths, in the order of hotpath.c's FR_* indices (hp_state.rid).
FR_NAMES = ("IPSR", "CONTROL", "MSP", "PSP", "FAULTMASK", "R0", "R1", "R2", "R3", "R12", "LR", "XPSR", "PC",
            *[f"S{i}" for i in range(16)], "FPSCR", "BASEPRI", "PRIMASK")
FR_REGS = tuple(getattr(arm_const, f"UC_ARM_REG_{n}") for n in FR_NAMES)


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


class HotBlock(ctypes.Structure):
    """Mirror of ``hp_block`` (thumb.h): one block's costs, the hot path's table entry."""

    _fields_ = [
        ("addr", ctypes.c_uint32),
        ("size", ctypes.c_uint16),
        ("art_gen", ctypes.c_uint16),
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
        ("flash_words", ctypes.c_uint32),
        ("execs", ctypes.c_uint64),
        ("div", ctypes.c_uint32 * 2),
    ]


class HotProbe(ctypes.Structure):
    """Mirror of ``hp_probe`` (thumb.h): a data load's address from block-entry registers (timing_error.LoadProbe)."""

    _fields_ = [("base", ctypes.c_uint32), ("index", ctypes.c_uint32), ("shift", ctypes.c_uint32),
                ("words", ctypes.c_uint32), ("offset", ctypes.c_int64)]


class HotUncert(ctypes.Structure):
    """Mirror of ``hp_uncert`` (thumb.h): the error bar's counts of one block (timing_error.BlockUncertainty)."""

    _fields_ = [("refill", ctypes.c_uint32), ("wide_groups", ctypes.c_uint32), ("literal_loads", ctypes.c_uint32),
                ("cond_over", ctypes.c_uint32), ("split", ctypes.c_uint32), ("data_words", ctypes.c_uint32),
                ("unknown_words", ctypes.c_uint32), ("n_probes", ctypes.c_uint32),
                ("probes", HotProbe * MAX_PROBES)]


class HotCacheRec(ctypes.Structure):
    """Mirror of ``hp_cache_rec`` (thumb.h): one cached block analysis and the hash of its bytes."""

    _fields_ = [("block", HotBlock), ("hash", ctypes.c_uint64)]


class HotModel(ctypes.Structure):
    """Mirror of ``hp_model`` (thumb.h): the cycle model and firmware tables of the C analysis."""

    _fields_ = [
        ("model", ctypes.c_uint32),
        ("branch_refill", ctypes.c_uint32),
        ("load_pc_refill", ctypes.c_uint32),
        ("div_cycles", ctypes.c_uint32),
        ("store_data_phase", ctypes.c_uint32),
        ("data_hook", ctypes.c_uint32),
        ("n_flash", ctypes.c_uint32),
        ("flash_lo", ctypes.c_uint32 * MAX_FLASH),
        ("flash_hi", ctypes.c_uint32 * MAX_FLASH),
        ("n_handlers", ctypes.c_uint32),
        ("n_funcs", ctypes.c_uint32),
        ("handlers", ctypes.c_void_p),
        ("func_start", ctypes.c_void_p),
        ("func_size", ctypes.c_void_p),
    ]


class HotItMap(ctypes.Structure):
    """Mirror of ``hp_itmap`` (thumb.h): IT state carried across block starts (BlockAnalyzer._it_after)."""

    _fields_ = [("pairs", ctypes.c_void_p), ("mask", ctypes.c_uint32), ("used", ctypes.c_uint32)]

    def items(self) -> dict[int, int]:
        """The map as a dict (address -> IT-conditional instructions still to come there)."""
        if not self.pairs:
            return {}
        words = ctypes.cast(self.pairs, ctypes.POINTER(ctypes.c_uint32))
        return {words[2 * i]: words[2 * i + 1] for i in range(self.mask + 1) if words[2 * i] != 0xFFFFFFFF}


class HotState(ctypes.Structure):
    """Mirror of ``hp_state`` in hotpath.c (same field order; simcore/native/abi.h checks every offset)."""

    _fields_ = [
        ("insn_count", ctypes.c_uint64),
        ("cycle_count", ctypes.c_uint64),
        ("stop_cycle", ctypes.c_uint64),
        ("stop_insn", ctypes.c_uint64),
        ("block_count", ctypes.c_uint64),
        ("sp_low", ctypes.c_uint32),
        ("slow_next", ctypes.c_uint32),
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
        ("art_gen", ctypes.c_uint32),
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
        ("model", ctypes.c_void_p),
        ("native_analysis", ctypes.c_uint32),
        ("py_flags", ctypes.c_uint32),
        ("irq_pending", ctypes.c_uint32),
        ("sev_count", ctypes.c_uint32),
        ("spin_next", ctypes.c_uint32),
        ("spin_skip", ctypes.c_uint32),
        ("spin_at", ctypes.c_uint32),
        ("mpu_on", ctypes.c_uint32),
        ("control_blocks", ctypes.c_uint32),
        ("hot_at", ctypes.c_uint32),
        ("analyses", ctypes.c_uint64),
        ("prefetch_hidden", ctypes.c_uint64),
        ("core_rid", ctypes.c_int32 * 16),
        ("carry", HotItMap),
        ("src_next", ctypes.c_uint64 * MAX_SOURCES),
        ("src_cycle", ctypes.c_uint64 * MAX_SOURCES),
        ("src_entries", ctypes.c_uint32 * MAX_SOURCES),
        ("src_exc", ctypes.c_uint32 * MAX_SOURCES),
        ("src_group", ctypes.c_int32 * MAX_SOURCES),
        ("src_vector", ctypes.c_uint32 * MAX_SOURCES),
        ("c_exc", ctypes.c_uint32),
        ("tick_last_fp", ctypes.c_uint32),
        ("src_tick", ctypes.c_uint64 * MAX_SOURCES),
        ("src_pticks", ctypes.c_uint64 * MAX_SOURCES),
        ("src_cpu", ctypes.c_uint64 * MAX_SOURCES),
        ("src_hz", ctypes.c_uint64 * MAX_SOURCES),
        ("src_ack_cycle", ctypes.c_uint64 * MAX_SOURCES),
        ("src_ack_addr", ctypes.c_uint32 * MAX_SOURCES),
        ("src_ack_mask", ctypes.c_uint32 * MAX_SOURCES),
        ("src_unacked", ctypes.c_uint32 * MAX_SOURCES),
        ("src_acks", ctypes.c_uint32 * MAX_SOURCES),
        ("psv_ok", ctypes.c_uint32),
        ("psv_group", ctypes.c_int32),
        ("psv_vector", ctypes.c_uint32),
        ("psv_pending", ctypes.c_uint32),
        ("psv_sets", ctypes.c_uint32),
        ("chains", ctypes.c_uint32),
        ("tc_cycles", ctypes.c_uint32),
        ("tick_pend", ctypes.c_uint32),
        ("tick_fires", ctypes.c_uint64),
        ("c_group", ctypes.c_int32),
        ("pad5", ctypes.c_uint32),
        ("ppb_read", ctypes.c_void_p),
        ("ppb_write", ctypes.c_void_p),
        ("cache_new", ctypes.c_uint64),
        ("c_entered", ctypes.c_uint32),
        ("fpcar_reads", ctypes.c_uint32),
        ("entries", ctypes.c_uint64),
        ("dv_pend", ctypes.c_uint32 * 2),
        ("dv_addr", ctypes.c_uint32),
        ("dv_on", ctypes.c_uint32),
        ("div_stats", ctypes.c_void_p),
        ("dv_settled", ctypes.c_uint64),
        ("dv_env", ctypes.c_void_p),
        ("block_cycle", ctypes.c_uint64),
        ("nest_on", ctypes.c_uint32),
        ("nest_n", ctypes.c_uint32),
        ("nest_exc", ctypes.c_uint32 * MAX_NEST),
        ("nest_group", ctypes.c_int32 * MAX_NEST),
        ("nest_ret", ctypes.c_uint32 * MAX_NEST),
        ("lp_n", ctypes.c_uint32),
        ("nest_returns", ctypes.c_uint32),
        ("lp_exc", ctypes.c_uint32 * MAX_NEST),
        ("lp_prio", ctypes.c_int32 * MAX_NEST),
        ("lp_group", ctypes.c_int32 * MAX_NEST),
        ("lp_vector", ctypes.c_uint32 * MAX_NEST),
        ("lp_ret", ctypes.c_uint32 * MAX_NEST),
        ("nv_on", ctypes.c_uint32),
        ("nv_nirq", ctypes.c_uint32),
        ("nv_writes", ctypes.c_uint32),
        ("nv_dirty", ctypes.c_uint32),
        ("nv_pending", ctypes.c_uint32 * NV_WORDS),
        ("nv_held", ctypes.c_uint32 * NV_WORDS),
        ("nv_en_set", ctypes.c_uint32 * NV_WORDS),
        ("nv_en_clr", ctypes.c_uint32 * NV_WORDS),
        ("nv_unpended", ctypes.c_uint32 * NV_WORDS),
        ("dwt_origin", ctypes.c_uint64),
        ("dwt_on", ctypes.c_uint32),
        ("dwt_counting", ctypes.c_uint32),
        ("dwt_frozen", ctypes.c_uint32),
        ("dwt_reads", ctypes.c_uint32),
        ("ev_n", ctypes.c_uint32),
        ("ev_clears", ctypes.c_uint32),
        ("ev_addr", ctypes.c_uint32 * EV_SLOTS),
        ("ev_irq", ctypes.c_uint32 * EV_SLOTS),
        ("ev_store", ctypes.c_uint32 * EV_SLOTS),
        ("ev_armed", ctypes.c_uint32 * EV_SLOTS),
        ("ev_cleared", ctypes.c_uint32 * EV_SLOTS),
        ("ev_bus", ctypes.c_void_p),
        ("ev_w1c", ctypes.c_uint32 * EV_SLOTS),
        ("ev_need", ctypes.c_uint32 * EV_SLOTS),
        ("ev_value", ctypes.c_uint32 * EV_SLOTS),
        ("ev_cycle", ctypes.c_uint64 * EV_SLOTS),
        ("ap_cycle", ctypes.c_uint64),
        ("ap_after", ctypes.c_uint64),
        ("ap_period", ctypes.c_uint64),
        ("ap_at", ctypes.c_uint64),
        ("ap_done", ctypes.c_uint32),
        ("ap_n", ctypes.c_uint32),
        ("ap_kind", ctypes.c_uint32 * AP_OPS),
        ("ap_index", ctypes.c_uint32 * AP_OPS),
        ("ap_value", ctypes.c_uint32 * AP_OPS),
        ("wk_cycle", ctypes.c_uint64),
        ("wk_after", ctypes.c_uint64),
        ("wk_at", ctypes.c_uint64),
        ("wk_slept", ctypes.c_uint64),
        ("wk_wakes", ctypes.c_uint32),
        ("wk_store", ctypes.c_uint32),
        ("wk_irq", ctypes.c_uint32),
        ("wk_ev", ctypes.c_uint32),
        ("wk_sole", ctypes.c_uint32),
        ("wk_stack_limit", ctypes.c_uint32),
        ("wp_irq", ctypes.c_uint32),
        ("wp_skips", ctypes.c_uint32),
        ("ch_cycle", ctypes.c_uint64 * (CH_MAX + 1)),
        ("ch_after", ctypes.c_uint64),
        ("ch_slept", ctypes.c_uint64),
        ("ch_clr_cycle", ctypes.c_uint64 * (CH_MAX + 1)),
        ("ch_n", ctypes.c_uint32),
        ("ch_i", ctypes.c_uint32),
        ("ch_done", ctypes.c_uint32),
        ("ch_store", ctypes.c_uint32),
        ("ch_irq", ctypes.c_uint32),
        ("ch_ev", ctypes.c_uint32),
        ("ch_bytes", ctypes.c_uint32),
        ("ch_value", ctypes.c_uint32 * CH_MAX),
        ("ch_dst", ctypes.c_uint32 * CH_MAX),
        ("ch_clr_n", ctypes.c_uint32),
        ("ch_clr_value", ctypes.c_uint32 * (CH_MAX + 1)),
        ("ch_data", ctypes.c_void_p),
        ("mem_write", ctypes.c_void_p),
        ("mv_from", ctypes.c_uint64),
        ("mv_cycle", ctypes.c_uint64),
        ("mv_at", ctypes.c_uint64),
        ("mv_addr", ctypes.c_uint32),
        ("mv_value", ctypes.c_uint32),
        ("mv_store", ctypes.c_uint32),
        ("mv_done", ctypes.c_uint32),
        ("ux", ctypes.c_void_p),
        ("ux_ends", ctypes.c_uint32),
        ("sh_on", ctypes.c_uint32),
        ("sh_elapsed", ctypes.c_uint64),
        ("tw_free", ctypes.c_uint64),
        ("tw_quiet", ctypes.c_uint64),
        ("tw_at", ctypes.c_uint64),
        ("tw_lasttx", ctypes.c_uint64),
        ("tw_stopped", ctypes.c_uint64),
        ("tw_saved", ctypes.c_uint64),
        ("tw_slept", ctypes.c_uint64),
        ("tw_bit_fs", ctypes.c_uint64),
        ("tw_fpc", ctypes.c_uint64),
        ("tw_on", ctypes.c_uint32),
        ("tw_flight", ctypes.c_uint32),
        ("tw_taken", ctypes.c_uint32),
        ("tw_woken", ctypes.c_uint32),
        ("tw_task", ctypes.c_uint32),
        ("tw_reg", ctypes.c_uint32),
        ("tw_len", ctypes.c_uint32),
        ("tw_unit", ctypes.c_uint32),
        ("tw_ram_base", ctypes.c_uint32),
        ("tw_ram_size", ctypes.c_uint32),
        ("tw_irq", ctypes.c_uint32),
        ("tw_ev", ctypes.c_uint32),
        ("tw_chk_n", ctypes.c_uint32),
        ("tw_chk_store", ctypes.c_uint32 * TW_CHECKS),
        ("tw_chk_value", ctypes.c_uint32 * TW_CHECKS),
        ("tw_txptr", ctypes.c_uint32),
        ("tw_rxptr", ctypes.c_uint32),
        ("tw_rxcnt", ctypes.c_uint32),
        ("tw_tx", ctypes.c_uint32),
        ("tw_rx", ctypes.c_uint32),
        ("tw_n", ctypes.c_uint32),
        ("tw_ev_store", ctypes.c_uint32 * TW_EVENTS),
        ("tw_ram", ctypes.c_void_p),
        ("tw_miso", ctypes.c_void_p),
        ("ps_flags", ctypes.c_void_p),
        ("ps_exc", ctypes.c_void_p),
        ("nv_pend_on", ctypes.c_uint32),
        ("nv_prio_mask", ctypes.c_uint32),
        ("nv_prigroup", ctypes.c_uint32),
        ("nv_vtor", ctypes.c_uint32),
        ("nv_sys_pend", ctypes.c_uint32),
        ("nv_pends", ctypes.c_uint32),
        ("nv_prios", ctypes.c_uint32),
        ("nv_enabled", ctypes.c_uint32 * NV_WORDS),
        ("nv_pended", ctypes.c_uint32 * NV_WORDS),
        ("nv_listed", ctypes.c_uint32 * NV_WORDS),
        ("nv_prio_set", ctypes.c_uint32 * NV_WORDS),
        ("nv_prio", ctypes.c_uint8 * (NV_WORDS * 32)),
        ("nv_take_stop", ctypes.c_uint64),
        ("nv_take_other", ctypes.c_uint64),
        ("nv_take_at", ctypes.c_uint64),
        ("nv_take", ctypes.c_uint32),
        ("nv_entries", ctypes.c_uint32),
        ("nv_flags", ctypes.c_uint32),
        ("nv_lists_ok", ctypes.c_uint32),
        ("nv_stack_limit", ctypes.c_uint32),
        ("nv_frame_limit", ctypes.c_uint32),
        ("ac_at", ctypes.c_uint64 * AC_MAX),
        ("ac_n", ctypes.c_uint32),
        ("ac_i", ctypes.c_uint32),
        ("ac_store", ctypes.c_uint32),
        ("ac_value", ctypes.c_uint32 * AC_MAX),
        ("tw_py", ctypes.c_uint32),
        ("tw_py_woken", ctypes.c_uint32),
        ("tw_py_slept", ctypes.c_uint64),
        ("tw_py_miso", ctypes.c_void_p),
        ("wk_x_cycle", ctypes.c_uint64),
        ("wk_x_for", ctypes.c_uint32),
        ("wk_x_store", ctypes.c_uint32),
        ("wk_x_value", ctypes.c_uint32),
        ("tw_x_on", ctypes.c_uint32),
        ("tw_x_store", ctypes.c_uint32),
        ("tw_x_value", ctypes.c_uint32),
        ("st_addr", ctypes.c_uint32),
        ("st_size", ctypes.c_uint32),
        ("st_cycles", ctypes.c_uint32),
        ("st_taken", ctypes.c_uint32),
        ("st_insn", ctypes.c_uint32),
        ("st_div", ctypes.c_uint32),
        ("st_n", ctypes.c_uint64),
        ("st_extra", ctypes.c_uint64),
        ("st_rn", ctypes.c_void_p),
        ("st_rm", ctypes.c_void_p),
        ("tw2_quiet", ctypes.c_uint64),
        ("tw2_wk", ctypes.c_uint64),
        ("tw1_at", ctypes.c_uint64),
        ("tw1_stopped", ctypes.c_uint64),
        ("tw2_miso", ctypes.c_void_p),
        ("tw2_on", ctypes.c_uint32),
        ("tw2_state", ctypes.c_uint32),
        ("tw2_reg", ctypes.c_uint32),
        ("tw2_len", ctypes.c_uint32),
        ("tw2_x_store", ctypes.c_uint32),
        ("tw2_x_value", ctypes.c_uint32),
        ("tw1_tx", ctypes.c_uint32),
        ("tw1_rx", ctypes.c_uint32),
        ("tw1_n", ctypes.c_uint32),
        ("tw2_chained", ctypes.c_uint32),
        ("sc_on", ctypes.c_uint32),
        ("sc_cpacr", ctypes.c_uint32),
        ("sc_demcr", ctypes.c_uint32),
        ("sc_dwt_ctrl", ctypes.c_uint32),
        ("sc_changed", ctypes.c_uint32),
        ("sc_reads", ctypes.c_uint32),
        ("sc_writes", ctypes.c_uint32),
        ("nmi_pend", ctypes.c_uint32),
        ("ks", ctypes.c_void_p),
        ("ks_steps", ctypes.c_uint32),
        ("ks_writes", ctypes.c_uint32),
    ]



def _word(name: str, ctype: type[ctypes._SimpleCData]) -> int:
    """The index of HotState field ``name`` (a ``ctype``, or an array of them: its first element) in the state seen as
    ``ctype`` words (HotPath.w: uint32, HotPath.q: uint64); a field of another type or alignment is refused, so a view
    reads and writes exactly what the ctypes field does."""
    ftype = dict(HotState._fields_)[name]
    elem = ftype._type_ if issubclass(ftype, ctypes.Array) else ftype
    offset = getattr(HotState, name).offset
    if elem is not ctype or offset % ctypes.sizeof(ctype):
        raise TypeError(f"HotState.{name} is not {ctype.__name__} words")
    return offset // ctypes.sizeof(ctype)


# HotState fields Python reads and writes at every entry, as indices into HotPath.q (uint64) and HotPath.w (uint32).
# A ctypes field access is an attribute look-up CPython 3.11 cannot specialize (the type cache, then the MRO's dicts
# on a miss: the more names, the more misses) and a descriptor call; a view's subscript is neither.
Q_CYCLE_COUNT, Q_STOP_CYCLE, Q_OTHER_CYCLE, Q_TICK_CYCLE = (
    _word(n, ctypes.c_uint64) for n in ("cycle_count", "stop_cycle", "other_cycle", "tick_cycle"))
Q_AP_CYCLE, Q_WK_CYCLE, Q_WK_SLEPT = (_word(n, ctypes.c_uint64) for n in ("ap_cycle", "wk_cycle", "wk_slept"))
Q_TW_SAVED, Q_TW_SLEPT, Q_TW_PY_SLEPT = (_word(n, ctypes.c_uint64) for n in ("tw_saved", "tw_slept", "tw_py_slept"))
W_FR_DONE, W_CONTROL_BLOCKS, W_STOP_REQUESTED, W_MV_ADDR, W_AC_N, W_SH_ON, W_CH_N, W_TICK_OK = (
    _word(n, ctypes.c_uint32) for n in ("fr_done", "control_blocks", "stop_requested", "mv_addr", "ac_n", "sh_on",
                                        "ch_n", "tick_ok"))
W_TW_ON, W_TW_FLIGHT, W_TW_PY, W_TW_TAKEN, W_TW_WOKEN, W_TW_PY_WOKEN = (
    _word(n, ctypes.c_uint32) for n in ("tw_on", "tw_flight", "tw_py", "tw_taken", "tw_woken", "tw_py_woken"))
W_AP_DONE, W_WK_WAKES, W_CH_I, W_CH_CLR_N, W_EV_CLEARS, W_NV_WRITES, W_NV_DIRTY, W_MV_DONE = (
    _word(n, ctypes.c_uint32) for n in ("ap_done", "wk_wakes", "ch_i", "ch_clr_n", "ev_clears", "nv_writes",
                                        "nv_dirty", "mv_done"))
W_DWT_READS, W_SC_READS, W_SC_WRITES, W_MPU_ON, W_IRQ_PENDING, W_LAST_SIZE = (
    _word(n, ctypes.c_uint32) for n in ("dwt_reads", "sc_reads", "sc_writes", "mpu_on", "irq_pending", "last_size"))
W_FR_EXC, W_C_ACTIVE, W_NEST_ON, W_PSV_OK, W_WP_IRQ = (
    _word(n, ctypes.c_uint32) for n in ("fr_exc", "c_active", "nest_on", "psv_ok", "wp_irq"))
W_EV_IRQ, W_EV_W1C = (_word(n, ctypes.c_uint32) for n in ("ev_irq", "ev_w1c"))  # EV_SLOTS words each
W_WK_STACK_LIMIT, W_TICK_STACK_LIMIT = (_word(n, ctypes.c_uint32) for n in ("wk_stack_limit", "tick_stack_limit"))
Q_WK_AFTER, Q_MV_FROM, Q_MV_CYCLE = (_word(n, ctypes.c_uint64) for n in ("wk_after", "mv_from", "mv_cycle"))
W_WK_STORE, W_WK_IRQ, W_WK_EV, W_WK_SOLE, W_MV_VALUE, W_MV_STORE = (
    _word(n, ctypes.c_uint32) for n in ("wk_store", "wk_irq", "wk_ev", "wk_sole", "mv_value", "mv_store"))
Q_TW_LASTTX, Q_TW_STOPPED, Q_TW_FREE, Q_TW_QUIET, Q_TW_FPC = (
    _word(n, ctypes.c_uint64) for n in ("tw_lasttx", "tw_stopped", "tw_free", "tw_quiet", "tw_fpc"))
W_TW_TX, W_TW_RX, W_TW_N, W_TW_X_ON, W_TW_REG, W_TW_LEN, W_TW_UNIT = (
    _word(n, ctypes.c_uint32) for n in ("tw_tx", "tw_rx", "tw_n", "tw_x_on", "tw_reg", "tw_len", "tw_unit"))


def hot_views(state: HotState) -> tuple[memoryview, memoryview]:
    """The hot state as uint64 and uint32 words (the Q_* and W_* indices): subscripts of these cost no attribute
    look-up, whatever the number of fields."""
    raw = memoryview(state).cast("B")
    return raw.cast("Q"), raw.cast("I")

class HotUarteTx(ctypes.Structure):
    """Mirror of ``hp_utx``: an nRF52 UARTE's TASKS_STARTTX served in C (hotpath.c hp_uarte_start)."""

    _fields_ = [
        ("on", ctypes.c_uint32),
        ("task_addr", ctypes.c_uint32),
        ("ptr_store", ctypes.c_uint32),
        ("max_store", ctypes.c_uint32),
        ("ram_lo", ctypes.c_uint32),
        ("ram_hi", ctypes.c_uint32),
        ("ram_host", ctypes.c_void_p),
        ("frame_fs", ctypes.c_uint64),
        ("seg_cycle", ctypes.c_uint64),
        ("seg_fs", ctypes.c_uint64),
        ("rate_num", ctypes.c_uint64),
        ("rate_den", ctypes.c_uint64),
        ("plan_id", ctypes.c_uint64),
        ("n_start", ctypes.c_uint32),
        ("n_end", ctypes.c_uint32),
        ("start_kind", ctypes.c_uint32 * UX_OPS),
        ("start_index", ctypes.c_uint32 * UX_OPS),
        ("start_value", ctypes.c_uint32 * UX_OPS),
        ("end_kind", ctypes.c_uint32 * UX_OPS),
        ("end_index", ctypes.c_uint32 * UX_OPS),
        ("end_value", ctypes.c_uint32 * UX_OPS),
        ("planned", ctypes.c_uint32),
        ("n", ctypes.c_uint32),
        ("len", ctypes.c_uint32),
        ("count", ctypes.c_uint32 * UX_MAX),
        ("start_cycle", ctypes.c_uint64 * UX_MAX),
        ("end_cycle", ctypes.c_uint64 * UX_MAX),
        ("buf", ctypes.c_uint8 * UX_CAP),
    ]


class HotKs(ctypes.Structure):
    """Mirror of ``hp_ks``: the Nano 33 BLE Sense's tick run in C for many ticks (hotpath.c hp_ks_*,
    Machine._plan_stretch and settle_stretch)."""

    _fields_ = [
        ("on", ctypes.c_uint32),
        ("task", ctypes.c_uint32),
        ("reg_src", ctypes.c_uint32),
        ("reg_drain", ctypes.c_uint32),
        ("unit", ctypes.c_uint32),
        ("chk_n", ctypes.c_uint32),
        ("chk_store", ctypes.c_uint32 * TW_CHECKS),
        ("chk_value", ctypes.c_uint32 * TW_CHECKS),
        ("txptr", ctypes.c_uint32),
        ("rxptr", ctypes.c_uint32),
        ("rxcnt", ctypes.c_uint32),
        ("ev_store", ctypes.c_uint32 * TW_EVENTS),
        ("tw_irq", ctypes.c_uint32),
        ("tw_ev", ctypes.c_uint32),
        ("ram_base", ctypes.c_uint32),
        ("ram_size", ctypes.c_uint32),
        ("ram", ctypes.c_void_p),
        ("bit_fs", ctypes.c_uint64),
        ("fpc", ctypes.c_uint64),
        ("cc_addr", ctypes.c_uint32),
        ("cc_store", ctypes.c_uint32),
        ("cmp_store", ctypes.c_uint32),
        ("rtc_irq", ctypes.c_uint32),
        ("rtc_ev", ctypes.c_uint32),
        ("rtc_sole", ctypes.c_uint32),
        ("cc_n", ctypes.c_uint32),
        ("cc_i", ctypes.c_uint32),
        ("cc_cycle", ctypes.c_uint64 * (KS_TICKS + 1)),
        ("cc_value", ctypes.c_uint32 * (KS_TICKS + 1)),
        ("after", ctypes.c_uint64),
        ("free", ctypes.c_uint64),
        ("arr_n", ctypes.c_uint32),
        ("held", ctypes.c_uint32),
        ("popped", ctypes.c_uint32),
        ("depth", ctypes.c_uint32),
        ("data_len", ctypes.c_uint32),
        ("pad0", ctypes.c_uint32),
        ("data", ctypes.c_void_p),
        ("src", ctypes.c_uint8 * KS_LEVELS),
        ("first", ctypes.c_uint64),
        ("rate_num", ctypes.c_uint64),
        ("rate_den_fs", ctypes.c_uint64),
        ("tl_c0", ctypes.c_uint64),
        ("tl_f0", ctypes.c_uint64),
        ("tl_num", ctypes.c_uint64),
        ("tl_dfs", ctypes.c_uint64),
        ("phase", ctypes.c_uint32),
        ("n", ctypes.c_uint32),
        ("lasttx", ctypes.c_uint64),
        ("stopped", ctypes.c_uint64),
        ("saved", ctypes.c_uint64),
        ("tx", ctypes.c_uint32),
        ("rx", ctypes.c_uint32),
        ("cnt", ctypes.c_uint32),
        ("off", ctypes.c_uint32),
        ("ans", ctypes.c_uint32),
        ("pre_ux", ctypes.c_uint32),
        ("pre_clr_tw", ctypes.c_uint32),
        ("pre_clr_rtc", ctypes.c_uint32),
        ("pre_unp", ctypes.c_uint32),
        ("pad1", ctypes.c_uint32),
        ("reached", ctypes.c_uint32 * KS_TICKS),
        ("t1_at", ctypes.c_uint64 * KS_TICKS),
        ("t1_stopped", ctypes.c_uint64 * KS_TICKS),
        ("t1_slept", ctypes.c_uint64 * KS_TICKS),
        ("t1_tx", ctypes.c_uint32 * KS_TICKS),
        ("t1_rx", ctypes.c_uint32 * KS_TICKS),
        ("t1_cnt", ctypes.c_uint32 * KS_TICKS),
        ("t1_ans", ctypes.c_uint32 * KS_TICKS),
        ("t2_at", ctypes.c_uint64 * KS_TICKS),
        ("t2_stopped", ctypes.c_uint64 * KS_TICKS),
        ("t2_slept", ctypes.c_uint64 * KS_TICKS),
        ("t2_tx", ctypes.c_uint32 * KS_TICKS),
        ("t2_rx", ctypes.c_uint32 * KS_TICKS),
        ("t2_cnt", ctypes.c_uint32 * KS_TICKS),
        ("t2_off", ctypes.c_uint32 * KS_TICKS),
        ("wk_at", ctypes.c_uint64 * KS_TICKS),
        ("wk_slept", ctypes.c_uint64 * KS_TICKS),
        ("mv_at", ctypes.c_uint64 * KS_TICKS),
        ("ux_n", ctypes.c_uint32 * KS_TICKS),
        ("clr_tw", ctypes.c_uint32 * KS_TICKS),
        ("clr_rtc", ctypes.c_uint32 * KS_TICKS),
        ("unp", ctypes.c_uint32 * KS_TICKS),
    ]


class DivStats(ctypes.Structure):
    """Mirror of ``tm_div_stats`` (simcore/native/timing.h): shared by every divide hook of an engine."""

    _fields_ = [
        ("cycle_count", ctypes.c_void_p),
        ("reg_read_batch", ctypes.c_void_p),
        ("executed", ctypes.c_uint64),
        ("extra", ctypes.c_uint64),
        ("block_count", ctypes.c_void_p),
        ("last_block", ctypes.c_uint64),
        ("last_addr", ctypes.c_uint32),
        ("last_extra", ctypes.c_uint32),
        ("pend", ctypes.c_void_p),
        ("env", ctypes.c_void_p),
        ("r0_id", ctypes.c_int32),
        ("pad", ctypes.c_uint32),
        ("block_more", ctypes.c_void_p),
    ]


class DivHookSite(ctypes.Structure):
    """Mirror of ``tm_div_site``: one SDIV/UDIV, the user data of its hook."""

    _fields_ = [
        ("stats", ctypes.c_void_p),
        ("regs", ctypes.c_int32 * 2),
        ("is_signed", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
    ]


# (C struct name, mirror) in the order abi.h checks them
STRUCTS: tuple[tuple[str, type[ctypes.Structure]], ...] = (
    ("hp_block", HotBlock), ("hp_model", HotModel), ("hp_itmap", HotItMap), ("hp_probe", HotProbe),
    ("hp_uncert", HotUncert), ("hp_cache_rec", HotCacheRec), ("hp_node", ProfNode),
    ("hp_frame", ProfFrame), ("hp_event", ProfEvent), ("hp_utx", HotUarteTx), ("hp_ks", HotKs),
    ("hp_state", HotState),
    ("tm_div_stats", DivStats),
    ("tm_div_site", DivHookSite),
)

# C constant -> the Python value it must equal
CONSTANTS: dict[str, int] = {
    **{f"HP_{name}": getattr(blocks, name) for name in (
        "SP_READ", "SP_DYNAMIC", "COND_END", "CALL_END", "HANDLER", "IN_FLASH", "RET_END", "MASK", "SEV",
        "SELF_LOOP", "DIV", "MULTI", "ACCESS", "CONTROL", "DATA", "DIV_HOOK")},
    "HP_INDIRECT": INDIRECT,
    "HP_DIV_SLOT": blocks.DIV_SLOT,
    "HP_DIV_SIGNED": blocks.DIV_SIGNED,
    "HP_NO_NODE": NO_NODE,
    "HP_SLOW_SP": SLOW_SP,
    "HP_SLOW_PROFILE": SLOW_PROFILE,
    "HP_SLOW_SPIN": SLOW_SPIN,
    "HP_GENERAL_FLAGS": GENERAL_FLAGS,
    "HP_MAX_WINDOWS": MAX_WINDOWS,
    "HP_MAX_FLASH": MAX_FLASH,
    "HP_MAX_PROBES": MAX_PROBES,
    "HP_MAX_SOURCES": MAX_SOURCES,
    "HP_MAX_NEST": MAX_NEST,
    "HP_NV_WORDS": NV_WORDS,
    "HP_EV_SLOTS": EV_SLOTS,
    "HP_TW_CHECKS": TW_CHECKS,
    "HP_TW_EVENTS": TW_EVENTS,
    "HP_TW_NONE": TW_NONE,
    "HP_CH_MAX": CH_MAX,
    "HP_AC_MAX": AC_MAX,
    "HP_UX_MAX": UX_MAX,
    "HP_UX_CAP": UX_CAP,
    "HP_UX_OPS": UX_OPS,
    "HP_KS_TICKS": KS_TICKS,
    "HP_KS_ARRIVALS": KS_ARRIVALS,
    "HP_KS_LEVELS": KS_LEVELS,
    "HP_NEVER": NEVER,
    "HP_NOT_PROBED": NOT_PROBED,
    "HP_MAX_BLOCK_BYTES": 2 * MAX_BLOCK_INSNS,
    **{f"FR_{name}": i for i, name in enumerate(FR_NAMES) if not name.startswith("S") or name == "S0"},
    "FR_NREGS": len(FR_NAMES),
    "TM_DIV_MIN": cycles.DIV_MIN,
}


def _body() -> list[str]:
    lines = []
    for cname, mirror in STRUCTS:
        for fname, _ftype in mirror._fields_:
            off = getattr(mirror, fname).offset
            size = getattr(mirror, fname).size
            lines.append(f"_Static_assert(offsetof({cname}, {fname}) == {off} && sizeof((({cname} *)0)->{fname}) == "
                         f"{size}, \"{cname}.{fname}: the {mirror.__name__} mirror has it at {off} ({size} bytes)\");")
        lines.append(f"_Static_assert(sizeof({cname}) == {ctypes.sizeof(mirror)}, "
                     f"\"sizeof({cname}) differs from {mirror.__name__}\");")
    for name, value in CONSTANTS.items():
        lines.append(f"_Static_assert({name} == {value}u, \"{name} differs from the Python value {value}\");")
    return lines


@functools.cache
def abi_digest() -> str:
    """A digest of the checked ABI (the mirrors' layout and the shared constants); computed once (the hot path's
    library check and the block cache's key both ask)."""
    return hashlib.sha256("\n".join(_body()).encode()).hexdigest()[:16]


def abi_header() -> str:
    """simcore/native/abi.h as the mirrors say it must be."""
    return "\n".join([
        "/* Generated by `python -m simcore.abi` from the ctypes mirrors in simcore/abi.py: do not edit. */",
        "/* Included at the end of hotpath.c: a C structure or constant that drifts from Python fails the build. */",
        "#include <stddef.h>",
        f"#define HP_ABI_DIGEST \"{abi_digest()}\"",
        *_body(),
        "",
    ])


if __name__ == "__main__":
    HEADER.write_text(abi_header())
    print(f"wrote {HEADER}", file=sys.stderr)
