"""The system block: the Cortex-M4's SCS/PPB blocks and exception model wired to the machine (QEMU's armv7m.c).

The PPB dispatch, interrupt delivery and the machine's calls at stops. It uses the machine
only through :class:`~simcore.cortexm.host.MachineView`.

Interrupt delivery (no single-stepping): when an exception becomes pending and could
preempt, ``kick`` schedules a machine event at the current cycle; the native hot path
stops emulation at the next block boundary (``stop_cycle``), the run loop runs due events
and calls ``take_pending``, which does exception entry; emulation resumes at the handler.
Mask changes (``cpsie``, ``msr``) are flagged by the block analysis (blocks.MASK): while an
exception is pending (``hot.state.irq_pending``, see ``note_pending``), the hot path stops at the
block boundary after them, so a pending interrupt is taken right after interrupts are
re-enabled (QEMU ends the translated block after those instructions). SVC, exception return (EXC_RETURN) and
synchronous faults are handled inside Unicorn's hooks by redirecting the PC.

Stack overflow: see stack.py (a guard page below ``__StackLimit`` plus the hot path's SP
low-water mark checked at every stop).

SYSRESETREQ stops the run (kind "reset", message "reset requested"); simcore does not
reboot the image.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from collections.abc import Iterator, Sequence
from itertools import compress
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import unicorn
from unicorn import arm_const as R

from simcore.abi import (
    EV_SLOTS,
    MAX_NEST,
    MAX_SOURCES,
    NV_WORDS,
    Q_WK_SLEPT,
    W_AP_DONE,
    W_C_ACTIVE,
    W_CH_CLR_N,
    W_CH_I,
    W_CONTROL_BLOCKS,
    W_EV_CLEARS,
    W_EV_IRQ,
    W_EV_W1C,
    W_FR_DONE,
    W_FR_EXC,
    W_IRQ_PENDING,
    W_LAST_SIZE,
    W_MPU_ON,
    W_MV_DONE,
    W_NEST_ON,
    W_NV_DIRTY,
    W_NV_WRITES,
    W_PSV_OK,
    W_SC_READS,
    W_SC_WRITES,
    W_STOP_REQUESTED,
    W_TICK_OK,
    W_TICK_STACK_LIMIT,
    W_TW_TAKEN,
    W_WK_STACK_LIMIT,
    W_WK_WAKES,
    W_WP_IRQ,
    HotState,
)
from simcore.accesspc import disassembler, instruction_of_access
from simcore.blocks import ACCESS, DIV, MASK, MULTI, WATCH_FLAGS
from simcore.cortexm.codescan import Watched, watched_in
from simcore.cortexm.coredebug import CoreDebug
from simcore.cortexm.coreregs import Memory
from simcore.cortexm.dwt import Dwt
from simcore.cortexm.exceptions import (
    BUSFAULT,
    FAULTS,
    HARDFAULT,
    IRQ0,
    MEMMANAGE,
    NMI,
    PENDSV,
    SVCALL,
    SYSTICK,
    USAGEFAULT,
    BadExcReturn,
    ExceptionModel,
    StackingError,
    VectorError,
    exception_name,
)
from simcore.cortexm.excp import Excp
from simcore.cortexm.faults import FaultUnit
from simcore.cortexm.fpu import Fpu
from simcore.cortexm.itm import Itm
from simcore.cortexm.mpu import Mpu, MpuPages, Window
from simcore.cortexm.nvic import Nvic
from simcore.cortexm.scb import CCR_DIV_0_TRP, CCR_UNALIGN_TRP, CPUID_CORTEX_M4_R0P1, HFSR_BITS, Scb
from simcore.cortexm.stack import StackWatch
from simcore.cortexm.systick import SysTick
from simcore.cycles import EXCEPTION_ENTRY, EXCEPTION_RETURN, TAIL_CHAIN
from simcore.memmap import NEVER_EXECUTED
from simcore.registers import RegisterBlock
from simcore.runtypes import AccessKind, ReportChannel, Stop, StopKind

if TYPE_CHECKING:
    from simcore.cortexm.host import MachineView
    from simcore.peripherals.base import PeripheralModel

__all__ = ["SystemBlock", "CPUID_CORTEX_M4_R0P1"]

SLEEP_EVENT_LIMIT = 1_000_000  # events run in one sleep without a wake-up before "sleeping forever"
_MASKS = (R.UC_ARM_REG_BASEPRI, R.UC_ARM_REG_PRIMASK, R.UC_ARM_REG_FAULTMASK)


SCR_ADDR = 0xE000ED10  # System Control Register (ARMv7-M B3.2.7): SEVONPEND
# CPACR (B3.2.20), DEMCR (C1.6.5), DWT_CTRL (C1.8.7): registers whose values C keeps a copy of (serve_in_c)
_SERVED = frozenset((0xE000ED88, 0xE000EDFC, 0xE0001000))
_LITTLE = sys.byteorder == "little"  # hot state's uint32 words are the host's (_store_irq_words)
_SYSTEM_EXCEPTIONS = (1 << IRQ0) - 1  # exception numbers below the first interrupt's, as bits


def _store_irq_words(words: Any, excs: set[int], mask: int, size: int) -> bool:
    """The interrupts among exception numbers ``excs`` stored as NVIC register words (bit n of word w: IRQ 32w + n) in
    hot state's uint32 array ``words``: ``size`` bytes, the words the part needs (at most NV_WORDS), ``mask`` the bits
    they hold. One integer of them all, its bytes copied (arm_native gives C its NVIC view at most armings of the Rev2:
    a word list and its item stores were ~70 bytecodes). True if a system exception (below IRQ0) is among them."""
    bits = 0
    for x in excs:
        bits |= 1 << x
    irqs = bits >> IRQ0 & mask
    if _LITTLE:
        ctypes.memmove(words, irqs.to_bytes(size, "little"), size)
    else:
        words[:size // 4] = [irqs >> (32 * w) & 0xFFFFFFFF for w in range(size // 4)]
    return bits & _SYSTEM_EXCEPTIONS != 0


# the hot state's NVIC change words (SystemBlock._sync_nvic), in the order its getters return them, and their first
# uint32 word in the hot state
_NV_CHANGE_WORDS = ("nv_en_set", "nv_en_clr", "nv_prio_set", "nv_pended", "nv_listed", "nv_unpended")
_NV_ON, _NV_OFF, _NV_PRIO, _NV_PENDED, _NV_LISTED, _NV_UNPENDED = (
    getattr(HotState, name).offset // 4 for name in _NV_CHANGE_WORDS)
# per NVIC word w, its six change words read from the hot state's uint32 words in one call, in that order
_NV_GET = [itemgetter(_NV_ON + w, _NV_OFF + w, _NV_PRIO + w, _NV_PENDED + w, _NV_LISTED + w, _NV_UNPENDED + w)
           for w in range(NV_WORDS)]
# per NVIC word w, the exceptions of the bits of the ICPR words _sync_nvic has seen there (_nv_bit_set)
_NV_BITS: list[dict[int, tuple[int, ...]]] = [{} for _ in range(NV_WORDS)]


def _irq_bits(word: int, first: int) -> Iterator[int]:
    """The exception numbers of the bits set in an NVIC register ``word`` whose bit 0 is exception ``first``."""
    while word:
        low = word & -word
        yield first + low.bit_length() - 1
        word ^= low


def _nv_bit_set(w: int, word: int) -> tuple[int, ...]:
    """The exceptions of the bits set in ``word`` of NVIC word ``w``, in bit order: kept for _sync_nvic (a firmware
    clears the same few interrupts again and again), up to 64 words per NVIC word."""
    xs = tuple(_irq_bits(word, IRQ0 + 32 * w))
    if len(_NV_BITS[w]) < 64:
        _NV_BITS[w][word] = xs
    return xs


class SystemBlock:
    """The SCS and PPB of a Cortex-M4, and the exception model behind them."""

    # hp_nvic_pend / hp_nvic_prio: NVIC ISPR and STIR pends that take no exception now, and IPR byte writes of an
    # interrupt C does not look at, served in C (False: the model's path; tests compare both)
    PEND_IN_C = True
    PRIO_IN_C = True
    TAKE_IN_C = True  # hp_nv_take: the pending interrupt taken in C after such a pend, or a mask change (no stop)
    SERVED_IN_C = True  # hp_sc_read / hp_sc_write: CPACR, DEMCR, DWT_CTRL, CYCCNT writes and IABR reads in C

    def __init__(self, machine: MachineView) -> None:
        self.m = machine
        board = machine.board
        memmap = machine.memmap
        buffers = machine.buffers
        # the machine's host buffers by address window, aliases included (coreregs.Memory)
        regions = [(w.base, w.end, w.is_ram, buffers[w.index]) for w in memmap.windows]
        self.exc = ExceptionModel(machine.uc, board.num_irq, board.nvic_prio_bits, memmap.is_ram,
                                  Memory(machine.uc, regions))
        self.exc.cfg.fpu = board.fpu
        self.nvic = Nvic(machine, self.exc, self.kick)
        self.scb = Scb(machine, self.exc, self.kick, self._reset_request, self._ccr_changed)
        self.scb.reset_vtor = board.reset_vtor
        self.systick = SysTick(machine, lambda: self.pend(SYSTICK))
        self.coredebug = CoreDebug(machine, self._trcena_changed)
        self.dwt = Dwt(machine, lambda: self.coredebug.trcena)
        self.fpu = Fpu(machine, self.exc)
        self.itm = Itm(machine)
        self.mpu = Mpu(machine, self._mpu_changed)
        self.mpu_pages = MpuPages(machine.uc, _windows(machine))
        self._mpu_event: Any = None
        self.blocks: tuple[RegisterBlock, ...] = (self.nvic, self.scb, self.systick, self.coredebug, self.fpu,
                                                  self.dwt, self.itm, self.mpu)
        self._owner: dict[int, RegisterBlock] = {}
        for block in self.blocks:
            for addr in block.addresses():
                self._owner[addr] = block
        self.faults = FaultUnit(self)
        self.sleep_cycles = 0
        self._kick_event: Any = None
        self._fr_armed = 0  # the exception the native return was last armed for
        self._pend_armed: tuple[int, ...] = ()  # the pending exceptions hp_list_return was last given
        self._returns_seen = 0  # hot.state.fast_returns / tick_entries at the last sync_native
        self._tick_params_dirty = True  # SysTick priority/vector/period etc. to be passed to C again
        self._nv_prio_dirty = True  # the interrupts' priorities, PRIGROUP and VTOR to be passed to C again (_arm_nvic)
        self._entries_seen = 0
        self.entries_of_c = 0  # of ExceptionModel.entries, those C did (_native_entered: the polling watch's _counts)
        self.syncs = 0  # sync_native's calls (the polling watch keeps C's sums between two: PollWatch._counts)
        self._chains_seen = 0  # hot.state.chains / psv_sets / tick_fires at the last sync_native
        self._fires_seen = 0
        self._event_register = False  # for WFE (B1.5.18); SEV is counted by the hot path (blocks.SEV)
        self._sev_seen = 0
        self._control_seen = 0
        self._hooked: dict[str, set[int]] = {}  # per watch kind: instruction addresses hooked
        opts = machine.opts
        check = opts.check_alignment
        self.check_alignment = bool(opts.strict if check is None else check)
        self.watches = MULTI if self.check_alignment else 0  # blocks the hot path shows to watch_block
        self.stack = StackWatch(machine)
        self._sources: list[PeripheralModel] = []  # set_native_sources
        # some peripheral's interrupt may be delivered by C (its plan then changes with the model's state)
        self.has_native_sources = False
        self._src_ok: list[bool] = []
        self._src_seen: list[int] = []
        self._nv_seen = 0  # hot.state.nv_writes at the last sync_native (NVIC writes C served: hp_nvic_write)
        self._nv_entries_seen = 0  # hot.state.nv_entries at the last sync_native (interrupts C took: hp_nv_take)
        self._nv_view: memoryview | None = None  # _nv_words
        self._nv_armed: list[Any] | None = None  # pending, held lines, enables C was given: [set, set, bytearray]
        self._nv_bytes = 4 * min((board.num_irq + 31) // 32, NV_WORDS)  # NVIC register words C's view holds
        self._nv_mask = (1 << min(board.num_irq, 8 * self._nv_bytes)) - 1  # ... and the interrupts they hold
        self._take_armed: tuple[bool, Any, int | None, int] | None = None  # what _arm_take gave C last
        self._ev_slots: list[tuple[Any, int]] = []  # event_clear_slot: (peripheral model, event index) per C slot
        self._ev_seen = 0  # hot.state.ev_clears at the last sync_native
        # models whose C clear slots' armed state may have changed since C last ran (NordicPeripheral._update_irq):
        # given to C's ev_armed before it resumes (give_clears)
        self.clear_models: list[Any] = []
        # hot state's ev_armed and ev_cleared (uint32 views), taken with the first slot (event_clear_slot)
        self._ev_armed: Any = None
        self._ev_cleared: Any = None
        self._wk_seen = 0  # hot.state.wk_wakes and wk_slept at the last sync_native (hp_wfi_hook)
        self._wk_slept = 0
        self._ap_seen = 0  # hot.state.ap_done at the last sync_native (hp_apply)
        self._mv_seen = 0  # hot.state.mv_done at the last sync_native (hp_cc_move)
        self._sc_state: Any = None  # the hot state whose sc_* values C serves accesses from (serve_in_c)
        self._sc_bits = 0  # hp_state.sc_on while no debugger is attached (_arm_take)
        self._sc_seen = 0  # hot.state.sc_reads + sc_writes at the last sync_native

    # --- life cycle ----------------------------------------------------------------------------
    def reset(self) -> None:
        self._tick_params_dirty = True
        self._nv_prio_dirty = True
        self._nv_armed = None
        self._take_armed = None
        self.exc.reset()
        for block in self.blocks:
            block.reset()
        self.publish_served()
        self.faults.reset()
        self.sleep_cycles = 0
        self.event_register = False

    @property
    def event_register(self) -> bool:
        """The WFE event register (B1.5.18): set here, or by a SEV the hot path counted."""
        return self._event_register or self.m.hot.state.sev_count != self._sev_seen

    @event_register.setter
    def event_register(self, value: bool) -> None:
        self._event_register = value
        self._sev_seen = self.m.hot.state.sev_count

    def describe(self) -> dict[str, Any]:
        return {"sleep_cycles": self.sleep_cycles, "active": sorted(self.exc.active),
                "pending": sorted(self.exc.pending)}

    # --- PPB dispatch ------------------------------------------------------------------------------
    def read(self, addr: int, size: int) -> int:
        block = self._owner.get(addr)
        if block is None:
            self.m.report(ReportChannel.UNIMPLEMENTED, f"{addr:#010x}", f"read of {size} bytes in the private "
                          "peripheral bus (not modelled)", AccessKind.READ)
            return 0
        return block.read(addr, size)

    def block_at(self, addr: int) -> RegisterBlock | None:
        """The register block decoding ``addr`` (the polling-loop watch asks it for ``poll_hint``)."""
        return self._owner.get(addr)

    def write(self, addr: int, size: int, value: int) -> None:
        self._tick_params_dirty = True  # priorities, VTOR, PRIGROUP, CCR, SysTick LOAD/CTRL
        self._nv_prio_dirty = True
        if addr == SCR_ADDR:
            self._nv_armed = None  # SEVONPEND: C's view of the NVIC is made again (_arm_nvic)
        block = self._owner.get(addr)
        if block is None:
            self.m.report(ReportChannel.UNIMPLEMENTED, f"{addr:#010x}", f"write of {value:#x} in the private "
                          "peripheral bus (not modelled)", AccessKind.WRITE)
            return
        block.write(addr, size, value)
        if addr & ~3 in _SERVED and self._sc_state is not None:  # (an access C left to the model: C's values again)
            self.publish_served()

    # --- registers served in C: CPACR, DEMCR, DWT_CTRL, CYCCNT, IABR (hotpath.c hp_sc_read, hp_sc_write) ---------
    def serve_in_c(self, state: Any) -> None:
        """Have the native hot path serve word accesses to CPACR (B3.2.20), DEMCR (C1.6.5), DWT_CTRL and CYCCNT writes
        (C1.8.7-8) and IABR reads (B3.4.7) from ``state``: the stored values given here (publish_served), C's changes
        taken back at the next sync (_take_served). Every firmware with an FPU or cycle-counter start-up made up to
        seven such accesses, each a Python entry of 20-40 us. Needs the DWT served in C (Dwt.serve_in_c) and C's view
        of the active exceptions (the native exception return: arm_native)."""
        self._sc_state = state
        self._sc_bits = 7 if self.SERVED_IN_C else 0
        self._take_armed = None  # _arm_take gives C the bits (none while a debugger is attached)
        self.publish_served()

    def publish_served(self) -> None:
        """C's copies of CPACR, DEMCR and DWT_CTRL.CYCCNTENA (after a reset or an access the models served)."""
        s = self._sc_state
        if s is None:
            return
        s.sc_cpacr = self.scb.get("CPACR")
        s.sc_demcr = self.coredebug.get("DEMCR")
        s.sc_dwt_ctrl = self.dwt.ctrl

    def _take_served(self, s: Any) -> None:
        """What hp_sc_write changed, into the register models: the stored CPACR and DEMCR, DWT_CTRL's CYCCNTENA and
        CYCCNT's state (C computed it as Dwt._set_counting and write_CYCCNT would, from the same clock)."""
        changed, s.sc_changed = s.sc_changed, 0
        if changed & 1:
            self.scb.set("CPACR", s.sc_cpacr)
        if changed & 2:
            self.coredebug.set("DEMCR", s.sc_demcr)
        if changed & 4:
            dwt = self.dwt
            dwt.ctrl = s.sc_dwt_ctrl
            if s.dwt_counting:
                origin = s.dwt_origin
                dwt.origin = origin - (1 << 64) if origin >> 63 else origin  # (C keeps it mod 2^64)
            else:
                dwt.origin = None
            dwt.frozen = s.dwt_frozen

    # --- interrupts: the Host API and delivery -------------------------------------------------------
    def set_irq(self, irq: int, level: bool) -> None:
        if not 0 <= irq < self.exc.num_irq:
            self.m.report(ReportChannel.UNIMPLEMENTED, f"irq{irq}", f"interrupt line beyond the part's "
                          f"{self.exc.num_irq}")
            return
        e = self.exc
        x = IRQ0 + irq
        if level:  # (ExceptionModel.set_line in line, and kick's first test: ~300 a Nano 33 BLE Sense run)
            e.lines_high.add(x)
            if x not in e.active:
                e.pending.add(x)
            self.kick()
        else:
            e.lines_high.discard(x)

    def pend_irq(self, irq: int) -> None:
        if not 0 <= irq < self.exc.num_irq:
            self.m.report(ReportChannel.UNIMPLEMENTED, f"irq{irq}", f"interrupt line beyond the part's "
                          f"{self.exc.num_irq}")
            return
        self.pend(IRQ0 + irq)

    def pend(self, exc: int) -> None:
        self.exc.pend(exc)
        self.kick()

    def kick(self) -> None:
        """Something may preempt now: have the hot path stop at the next block boundary.

        Not needed when the hot path has already stopped for an event: the run loop calls
        ``take_pending`` right after running due events (and so do wfi and idle-loop waits).
        """
        e = self.exc
        if not e.pending:
            return
        if self.scb.sev_on_pend:
            self.event_register = True  # SCR.SEVONPEND: a new pending interrupt is a WFE wake-up event
        if (self._kick_event is None and not self.m.hot.w[W_STOP_REQUESTED]
                and (x := e.highest_pending()) is not None and e.can_preempt(x)):  # (to_take in line)
            self._kick_event = self.m.schedule(self.m.now_cycles(), self._kicked, "exception pending")

    def _kicked(self) -> None:
        self._kick_event = None

    def take_pending(self) -> None:
        """At a block boundary (emulation stopped): enter the highest pending exception that preempts."""
        if self._kick_event is not None:
            self.m.cancel(self._kick_event)
            self._kick_event = None
        if self.m.stop is not None:
            return
        if self.stack.check():
            return
        try:
            exc = self.exc.enter_pending()
        except StackingError as err:
            self._stacking_failed(err, self.exc.highest_pending() or 0, self.m.pc())
            return
        except VectorError as err:
            self._vector_failed(err, self.m.pc())
            return
        if exc is not None:
            self._entered(exc)

    def enter(self, exc: int, return_address: int | None) -> None:
        """Exception entry (from a hook or at a fault) with simcore's checks: stacking, the stack guard."""
        try:
            self.exc.enter(exc, return_address)
        except StackingError as err:
            self._stacking_failed(err, exc, self.m.pc() if return_address is None else return_address)
            return
        except VectorError as err:
            self._vector_failed(err, self.m.pc() if return_address is None else return_address)
            return
        self._entered(exc)

    def _vector_failed(self, err: VectorError, pc: int) -> None:
        """A vector fetch fault (HFSR.VECTTBL) escalates to HardFault, whose own vector comes from the
        same table: with nothing readable there, or already in HardFault, the core locks up (B1.5.15)."""
        self.scb.record_fault(0, HFSR_BITS["VECTTBL"], None, None)
        self.faults.stop_now(f"lockup: {err} (VTOR {self.exc.cfg.vtor:#010x}); the vector fetch faults "
                             "(HFSR.VECTTBL) and HardFault's vector is no better", pc, err.exc,
                             kind=StopKind.LOCKUP)

    def _stacking_failed(self, err: StackingError, exc: int, pc: int) -> None:
        self.faults.stop_now(f"lockup: {err} while entering {exception_name(exc)}: the stack pointer "
                             "is not in RAM", pc, exc, address=err.address)

    def _entered(self, exc: int) -> None:
        if self.mpu.enabled:
            self.sync_mpu()  # handler mode is privileged; a fault handler may run with the MPU bypassed
        # stacking and vector fetch (Cortex-M4 TRM; lazy FP not charged); none under the CPI-1 model
        self.m.hot.charge(getattr(self.m.hot.analyzer.cycle_model, "exception_entry", EXCEPTION_ENTRY))
        self.event_register = True
        on_psp, frame = self.exc.last_entry
        if on_psp:
            self.stack.psp_seen = True
        elif self.stack.limit is not None and frame < self.stack.limit:
            pc = struct.unpack("<I", self.m.mem_read(frame + 24, 4))[0]  # the stacked return address
            self.stack.frame_stacked(frame, pc, f"stacking for {exception_name(exc)}")

    # --- the native exception return (hp_fast_return in simcore/native/hotpath.c) -----------------------
    def native_return_windows(self, limit: int) -> list[tuple[int, int, bool, int]]:
        """(base, end, is RAM, host address of the buffer) per memory window for the C side: the memories
        at their base first, then aliases, at most ``limit`` (a frame elsewhere takes the Python path)."""
        buffers = self.m.buffers
        return [(w.base, w.end, w.is_ram, ctypes.addressof(buffers[w.index])) for w in self.m.memmap.windows[:limit]]

    def note_pending(self) -> None:
        """Tell the hot path what block flags need (called before emulation resumes and after every hook).

        blocks.MASK: while an exception is pending the hot path stops after a mask change; a hook that
        made one pending inside a block that changes a mask (an NVIC write then ``cpsie i``) stops at the
        next block boundary, as the former per-instruction mask hook did. blocks.CONTROL: MSR CONTROL ran
        (thread mode may use the process stack; with the MPU on, the privilege may have changed).
        """
        self._note(self.m.hot.state, bool(self.exc.pending), self.mpu.enabled)

    def _note(self, s: Any, pending: bool, mpu_on: bool) -> None:
        """What :meth:`note_pending` does, given the hot state, whether an exception is pending and the MPU's
        CTRL.ENABLE (arm_native has them at hand)."""
        w = self.m.hot.w
        if w[W_CONTROL_BLOCKS] != self._control_seen:
            self._control_seen = w[W_CONTROL_BLOCKS]
            self.stack.psp_seen = True  # MSR CONTROL may move thread mode onto the process stack (SPSEL)
            if mpu_on:
                self._mpu_changed()  # ... or drop privilege (CONTROL.nPRIV): re-map at the next block boundary
        w[W_MPU_ON] = mpu_on
        if (pending and not w[W_IRQ_PENDING] and w[W_LAST_SIZE]
                and self.m.hot.block_flags(s.last_addr, s.last_size) & MASK):
            s.stop_cycle = 0
            s.other_cycle = 0
        w[W_IRQ_PENDING] = pending

    def arm_native(self) -> None:
        """Before emulation resumes (and after every guarded hook): what may C do on its own?

        The exception return (hp_fast_return): one active exception (not NMI, not a fault, its line
        not held high), nothing pending (no tail-chain), SLEEPONEXIT clear. SysTick delivery
        (hp_tick): the same calm state with nothing active or only that returnable one, SysTick
        counting with TICKINT. Anything else stays in Python.

        Each Python entry pays for this (Nano 33 BLE Sense imu_steps_bus: ~115 a run), so what only PPB writes or
        a reset change (priorities, VTOR, PRIGROUP, STKALIGN: _arm_nvic_priorities) and what only SLEEPONEXIT, a
        debugger or the stack watch change (_arm_take) are given to C again only when they changed; the fields C
        writes itself (fr_exc, c_active, nest_on, tick_stack_limit, wp_irq...) are given at every arming.
        """
        e = self.exc
        s = self.m.hot.state
        active, pending = e.active, e.pending
        n_active = len(active)
        sleep_on_exit = self.scb.sleep_on_exit
        mpu_on = self.mpu.enabled
        calm = not pending and not sleep_on_exit and not mpu_on
        exc = 0
        if n_active == 1 and calm:
            (exc,) = active
            if exc == NMI or exc in FAULTS or exc in e.lines_high:
                exc = 0
        self._note(s, bool(pending), mpu_on)
        self._arm_nvic(s)
        stack = self.stack
        limit = stack.limit
        watched = limit if limit is not None and not stack.psp_seen and not stack.reported else 0
        take = (sleep_on_exit, self.m.debugger, limit, watched)
        if take != self._take_armed:
            self._arm_take(s, take)
        w = self.m.hot.w
        w[W_FR_EXC] = exc
        w[W_C_ACTIVE] = n_active
        if n_active:
            if n_active == 1:  # C's view of the one active exception (hp_pendsv, hp_ack; sync_native reads it back)
                (s.c_exc,) = active
                s.c_group = e.group(e.prio[s.c_exc])
            self._arm_list_return(n_active, sleep_on_exit or mpu_on)
        else:  # (_arm_list_return's answer with nothing active: off)
            w[W_NEST_ON] = 0
            self._pend_armed = ()
        self._fr_armed = exc
        may_enter = calm and (n_active == 0 or exc) and not self.m.stopping  # C enters only with none active
        if may_enter:
            w[W_TICK_STACK_LIMIT] = watched
            if self._tick_params_dirty:  # what only PPB writes (or a reset) change
                self._tick_params_dirty = False
                st = self.systick
                cfg = e.cfg
                s.tick_group = e.group(e.prio[SYSTICK])
                s.tick_prio_mask = e.prio_mask
                s.tick_prigroup = cfg.prigroup
                s.tick_vector = (cfg.vtor + 4 * SYSTICK) & 0xFFFFFFFF
                s.tick_flags = (1 if cfg.stkalign else 0) | (2 if cfg.fpu else 0)
                s.tick_period = (st.load + 1) * st.divider
            w[W_TICK_OK] = 1 if self.systick.event is not None else 0
            # hp_pendsv: a handler C enters may pend PendSV, taken by tail-chaining at its return (its group and vector:
            # _arm_nvic_priorities)
            w[W_PSV_OK] = 0 if PENDSV in active else 1
        else:
            w[W_TICK_OK] = w[W_PSV_OK] = 0
        if self._sources:
            self._arm_sources(s, may_enter)
        w[W_WP_IRQ] = self._wfi_pending_irq() if pending else 0  # (nothing pending: it answers 0)

    def _arm_sources(self, s: Any, may_enter: bool) -> None:
        """hp_source: the peripheral interrupts C may deliver (arm_native, with what it found)."""
        e = self.exc
        vtor = e.cfg.vtor
        for i, model in enumerate(self._sources):
            irq = IRQ0 + model.irq
            ok = may_enter and e.enabled[irq]
            if ok:
                s.src_exc[i] = irq
                s.src_group[i] = e.group(e.prio[irq])
                s.src_vector[i] = (vtor + 4 * irq) & 0xFFFFFFFF
                plan = model.native_irq_plan() if s.src_ack_addr[i] else None
                s.src_pticks[i] = 0
                if plan is not None:  # (tick of the assertion, ticks between assertions, core Hz, counter Hz)
                    s.src_tick[i], s.src_pticks[i], s.src_cpu[i], s.src_hz[i] = plan
            self._src_ok[i] = ok

    def _wfi_pending_irq(self) -> int:
        """hp_wfi_hook (hp_wfi_pending): a wfi reached with an interrupt pending wakes at once, and with PRIMASK set
        on_halt takes nothing (B1.5.19): C may then go on after the wfi without a run-loop stop. IRQ + 1 of the
        enabled interrupt pending now, while nothing else on_halt or the run loop looks at stands in the way (an
        exception active or takeable, a reset coming, a stop asked for, the MPU, a debugger); 0: none. C checks at
        the wfi that it is still pending and enabled in its NVIC view and PRIMASK still set. Also arms the stack
        watch's limit C checks as take_pending's check_stack would."""
        m = self.m
        e = self.exc
        if not e.pending or not getattr(m, "_wfi_hooks", False) or m.debugger is not None:
            return 0
        x = e.highest_pending()
        if (x is None or x < IRQ0 or e.active or m.reset_pending or m.stopping or self.mpu.enabled
                or e.can_preempt(x)):  # (to_take: x preempts)
            return 0
        self._arm_wfi_stack_limit()
        return x - IRQ0 + 1

    def _arm_nvic(self, s: Any) -> None:
        """hp_nvic_write: the pending interrupts and the lines held high, as C needs them to serve NVIC ISER,
        ICER and ICPR writes that change no exception's entry (given again only when they changed; SCR.SEVONPEND
        after a write to SCR)."""
        e = self.exc
        armed = self._nv_armed
        pending, held, enabled = e.pending, e.lines_high, e.enabled
        if self._nv_prio_dirty:
            self._arm_nvic_priorities(s)
        if armed is None:
            s.nv_nirq = e.num_irq
            s.nv_on = 1 if self.scb.sev_on_pend else 3  # an ISER then may be a WFE wake-up event (kick): Python's
            s.nv_pend_on = (1 if self.PEND_IN_C else 0) | (2 if self.PRIO_IN_C else 0) | (4 if self.TAKE_IN_C else 0)
            armed = self._nv_armed = [set(), set(), bytearray()]
            new_pending = new_held = new_enabled = True
        else:
            new_pending, new_held, new_enabled = armed[0] != pending, armed[1] != held, armed[2] != enabled
            if not (new_pending or new_held or new_enabled):
                return
        size, mask = self._nv_bytes, self._nv_mask
        if new_pending:
            s.nv_sys_pend = int(_store_irq_words(s.nv_pending, pending, mask, size))  # (a system exception pending)
            armed[0] = set(pending)
        if new_held:
            _store_irq_words(s.nv_held, held, mask, size)
            armed[1] = set(held)
        if new_enabled:
            on = set(compress(range(IRQ0, IRQ0 + e.num_irq), enabled[IRQ0:]))
            _store_irq_words(s.nv_enabled, on, mask, size)
            armed[2] = bytearray(enabled)

    def _arm_take(self, s: Any, take: tuple[bool, Any, int | None, int]) -> None:
        """hp_nv_take: whether C may take a pending interrupt itself (SLEEPONEXIT clear: a return to Thread mode is
        then a plain one; no debugger, console echo or markers: they see every stop) and the stack watch's limits
        (take_pending's check of the SP low-water mark, _entered's check of the frame). ``take``: (SLEEPONEXIT, the
        debugger, the stack limit, the limit while the main stack is watched, else 0), kept to give C these again
        only when one changes (C never writes them; the run options are fixed for a machine's life)."""
        self._take_armed = take
        sleep_on_exit, debugger, limit, watched = take
        opts = self.m.opts
        s.nv_lists_ok = int(not sleep_on_exit and debugger is None and opts.echo is None
                            and not opts.pass_marker and not opts.fail_marker)
        s.nv_frame_limit = limit if limit is not None else 0
        s.nv_stack_limit = watched
        s.sc_on = self._sc_bits if debugger is None else 0  # (a debugger reads and writes them through the models)

    def _arm_nvic_priorities(self, s: Any) -> None:
        """hp_nvic_pend / hp_nvic_prio: each interrupt's priority, the implemented bits, PRIGROUP and VTOR (given again
        after any PPB write or a reset); with them what else only those change: CCR.STKALIGN for hp_fast_return, and
        PendSV's group priority and vector for hp_pendsv (C looks at them only while arm_native allows it, psv_ok)."""
        self._nv_prio_dirty = False
        e = self.exc
        n = min(e.num_irq, 32 * NV_WORDS)
        ctypes.memmove(s.nv_prio, bytes(e.prio[IRQ0:IRQ0 + n]), n)
        cfg = e.cfg
        s.nv_prio_mask = e.prio_mask
        s.nv_prigroup = cfg.prigroup
        s.nv_vtor = cfg.vtor & 0xFFFFFFFF
        s.nv_flags = (1 if cfg.stkalign else 0) | (2 if cfg.fpu else 0)
        s.fr_stkalign = 1 if cfg.stkalign else 0
        s.psv_group = e.group(e.prio[PENDSV])
        s.psv_vector = (cfg.vtor + 4 * PENDSV) & 0xFFFFFFFF

    def event_clear_slot(self, model: Any, index: int, addr: int, store: int, w1c: int = 0,
                         irq: int | None = None) -> int | None:
        """A C slot for the clears of ``model``'s event ``index`` (register ``addr``, register-file value ``store``),
        whose writes go to the model (its interrupt is on): hp_ack serves a write of 0 while the model arms the
        slot (``event_clear_armed``: the event alone holds the line high). With ``w1c`` (the bits a write to a
        write-1-to-clear flag register may clear: an STM32 DMA LIFCR, a sensor block's STATUS) it serves instead a
        write of bits within ``w1c`` that clears every flag the model armed it with (those holding the line high),
        and the model hears of the bits and the cycle (``w1c_cleared_in_c``); ``irq``: its line if not the model's
        (a DMA stream's). None when C cannot serve it (no native hot path or register file, or every slot taken)."""
        hot = self.m.hot
        s = hot.state
        irq = model.irq if irq is None else irq
        if not getattr(self.m, "_fast_return", False) or irq is None or len(self._ev_slots) >= EV_SLOTS:
            return None
        bus = self.m.bus
        if not bus.native_ack(s, hot.lib, addr):
            return None
        k = len(self._ev_slots)
        words = self._nv_view or self._nv_words()  # (views over the hot state's words: plain subscripts)
        a, c = HotState.ev_armed.offset // 4, HotState.ev_cleared.offset // 4
        self._ev_armed, self._ev_cleared = words[a:a + EV_SLOTS], words[c:c + EV_SLOTS]
        self._ev_slots.append((model, index))
        s.ev_addr[k], s.ev_irq[k], s.ev_store[k], s.ev_armed[k], s.ev_cleared[k] = addr, irq, store, 0, 0
        s.ev_w1c[k], s.ev_need[k] = w1c, 0
        s.ev_bus = bus.rf.bus
        s.ev_n = k + 1
        return k

    def event_clear_armed(self, k: int, armed: bool, need: int = 0, irq: int | None = None) -> None:
        """Arm slot ``k`` (or not); a write-1-to-clear slot with the flags a write must clear (``need``) and the
        line they hold high (``irq``)."""
        s = self.m.hot.state
        if armed and s.ev_w1c[k]:
            s.ev_need[k] = need
            if irq is not None:
                s.ev_irq[k] = irq
        s.ev_armed[k] = int(armed)

    def give_clears(self) -> None:
        """Before C resumes (Machine._arm, a kept arming, a stepped instruction): the clear slots of the models whose
        line changed since C last ran, as those models want them armed now (C reads ev_armed only while it runs)."""
        armed = self._ev_armed
        models = self.clear_models
        for model in models:
            model.give_clears(armed)
        models.clear()

    def _sync_event_clears(self) -> None:
        """The event clears C served since the last sync (hp_ack): each as the model's write_EVENTS(i, 0) did it (the
        event and its value cleared, the line low: nothing else held it high), and an MMIO write for the polling
        watch."""
        hot = self.m.hot
        s, w = hot.state, hot.w
        self._ev_seen = w[W_EV_CLEARS]
        armed = self._nv_armed
        slots = self._ev_slots
        cleared = self._ev_cleared
        for k in compress(range(len(slots)), cleared[:len(slots)]):  # (only the slots C cleared: ~1 of 5 a sync)
            model, i = slots[k]
            cleared[k] = 0
            if armed is not None:  # C lowered the line in its NVIC view (nv_held): the next arming must
                armed[1].discard(IRQ0 + w[W_EV_IRQ + k])  # give it again if the line is high again by then
            if w[W_EV_W1C + k]:
                model.w1c_cleared_in_c(i, s.ev_value[k], s.ev_cycle[k])
            else:
                model.event_cleared_in_c(i)

    def stretch_before(self, ks: Any) -> None:
        """A stretch's sync (hotpath.c hp_ks_observe): the event clears and ICPRs of its two lines C recorded since its
        last step are the open tick's (added to its log), and those recorded before its first step go back where
        _sync_event_clears and _sync_nvic apply them, before the stretch's ticks (Machine.settle_stretch)."""
        s = self.m.hot.state
        words = self._nv_view or self._nv_words()
        self.m._ks_last_cc = self.m.bus.rf.value(ks.cc_store)  # (Machine.settle_stretch checks it is the model's)
        t = ks.n - 1
        got = self._stretch_lines(ks)
        ct, cr, unp = got
        ks.clr_tw[t] += ct
        ks.clr_rtc[t] += cr
        ks.unp[t] |= unp
        s.ev_cleared[ks.tw_ev] += ks.pre_clr_tw
        s.ev_cleared[ks.rtc_ev] += ks.pre_clr_rtc
        for bit, irq in ((1, ks.tw_irq), (2, ks.rtc_irq)):
            if ks.pre_unp & bit:
                words[_NV_UNPENDED + (irq >> 5)] |= 1 << (irq & 31)
                s.nv_dirty |= 1 << (irq >> 5)
        ks.pre_clr_tw = ks.pre_clr_rtc = ks.pre_unp = 0

    def _stretch_lines(self, ks: Any) -> tuple[int, int, int]:
        """The stretch's two lines' clears and ICPRs C recorded since its last step (hp_ks_observe's), taken."""
        s = self.m.hot.state
        words = self._nv_view or self._nv_words()
        ct, cr = s.ev_cleared[ks.tw_ev], s.ev_cleared[ks.rtc_ev]
        s.ev_cleared[ks.tw_ev] = s.ev_cleared[ks.rtc_ev] = 0
        unp = 0
        for bit, irq in ((1, ks.tw_irq), (2, ks.rtc_irq)):
            i = _NV_UNPENDED + (irq >> 5)
            if words[i] >> (irq & 31) & 1:
                words[i] &= ~(1 << (irq & 31))
                unp |= bit
        return ct, cr, unp

    def stretch_clears(self, slots: Sequence[int], irqs: Sequence[int]) -> None:
        """One tick of a stretch (Machine.settle_stretch): its event clears (``slots``, in slot order) and ICPRs of
        lines now low (``irqs``, interrupt numbers) as _sync_event_clears and _sync_nvic apply them at a sync."""
        w = self.m.hot.w
        armed = self._nv_armed
        slots_of = self._ev_slots
        for k in sorted(slots):
            model, i = slots_of[k]
            if armed is not None:
                armed[1].discard(IRQ0 + w[W_EV_IRQ + k])
            model.event_cleared_in_c(i)
        if not irqs:
            return
        e = self.exc
        for word in sorted({irq >> 5 for irq in irqs}):  # (_sync_nvic's order: word by word)
            xs = tuple(IRQ0 + irq for irq in sorted(irqs) if irq >> 5 == word)
            if e.lines_high.isdisjoint(xs):
                e.pending.difference_update(xs)
            else:
                for x in xs:
                    e.unpend(x)
            if armed is not None:
                armed[0].difference_update(xs)

    def _chain_pending(self, irq: int) -> None:
        """After a chain's settle (Machine.settle_chain): the model's line rose and fell once per half, and the
        firmware's ICPR writes came in between, which the settle does not replay one by one; C's NVIC view kept
        them in order, so interrupt ``irq`` is pending as C has it (its line as the model left it), and C's
        view is made again at the next arming."""
        s = self.m.hot.state
        e = self.exc
        x = IRQ0 + irq
        c_pending = bool(s.nv_pending[irq >> 5] >> (irq & 31) & 1)
        if c_pending and x not in e.pending:
            e.pend(x)
        elif not c_pending and x in e.pending:
            e.unpend(x)
        self._nv_armed = None

    def _nv_words(self) -> memoryview:
        """The hot state as uint32 words, taken once: _sync_nvic reads C's NVIC change words and the clear slots are
        read and written through it as plain subscripts (a ctypes array fetched by attribute is a new view object
        each time)."""
        self._nv_view = memoryview(self.m.hot.state).cast("B").cast("I")
        return self._nv_view

    def _sync_nvic(self) -> None:
        """The NVIC writes C served since the last sync (hp_nvic_write, hp_nvic_pend, hp_nvic_prio), applied as
        Nvic.write_ISER/ICER/ICPR/ISPR/IPR and write_STIR would have: enables set or cleared (a bit's last write won),
        priorities set, pending bits set and cleared (a bit's last write won: C keeps one of the two)."""
        hot = self.m.hot
        s, hw = hot.state, hot.w
        e = self.exc
        self._nv_seen = hw[W_NV_WRITES]
        dirty = hw[W_NV_DIRTY]
        hw[W_NV_DIRTY] = 0
        words = self._nv_view or self._nv_words()
        armed = self._nv_armed
        while dirty:  # (one word, ICPR writes only, in almost every sync: each kind looked at once, zeroed if set)
            w = (dirty & -dirty).bit_length() - 1
            dirty &= dirty - 1
            on, off, prio_set, pended, listed, unpended = _NV_GET[w](words)
            first = IRQ0 + 32 * w
            if on:  # (bits walked in place, no generator)
                words[_NV_ON + w] = 0
                for x in _irq_bits(on, first):
                    e.enabled[x] = 1
            if off:
                words[_NV_OFF + w] = 0
                for x in _irq_bits(off, first):
                    e.enabled[x] = 0
            if prio_set:  # hp_nvic_prio: Nvic.write_IPR's set_priority (the value holds the implemented bits)
                for x in _irq_bits(prio_set, first):
                    e.set_priority(x, s.nv_prio[x - IRQ0])
                words[_NV_PRIO + w] = 0
                self._tick_params_dirty = True
            if pended:  # hp_nvic_pend: Nvic.write_ISPR / write_STIR's pends
                words[_NV_PENDED + w] = 0
                for x in _irq_bits(pended, first):
                    e.pend(x)
                    if armed is not None:
                        armed[0].add(x)  # C has it in its pending bits too
            if listed:  # put in hp_list_return's list by C (hp_nvic_pend, hp_nv_take), or taken by hp_nv_take: no
                words[_NV_LISTED + w] = 0  # longer pending if not in the list at the sync below
                self._pend_armed += tuple(_irq_bits(listed, first))
            if unpended:  # (ICPR: the usual one)
                words[_NV_UNPENDED + w] = 0
                xs = _NV_BITS[w].get(unpended)
                if xs is None:
                    xs = _nv_bit_set(w, unpended)
                if e.lines_high.isdisjoint(xs):  # none pends again (a line held high): ExceptionModel.unpend's
                    e.pending.difference_update(xs)  # discards, in one call (their order changes nothing)
                else:  # (rare) ExceptionModel.unpend's own, in bit order
                    for x in xs:
                        e.unpend(x)
                if armed is not None:
                    armed[0].difference_update(xs)  # C cleared them from its pending bits too

    def _arm_list_return(self, n_active: int, held_back: bool) -> None:
        """hp_list_return: the returns hp_fast_return leaves to Python (several exceptions active, or some pending:
        tail-chaining), done in C from lists of the active and the enabled pending exceptions, when SLEEPONEXIT
        is clear, the MPU off (``held_back``: either is not), at most MAX_NEST of each, and no fault or NMI pending
        (their entry is Python's)."""
        e = self.exc
        s = self.m.hot.state
        pending = [x for x in e.pending if e.enabled[x]] if e.pending else []
        on = (n_active <= MAX_NEST and (n_active > 1 or bool(pending)) and len(pending) <= MAX_NEST
              and not held_back and not any(x == NMI or x in FAULTS for x in pending))
        s.nest_on = int(on)
        if not on:
            self._pend_armed = ()
            return
        lines_high = e.lines_high
        s.nest_n = n_active
        for i, x in enumerate(e.active):
            s.nest_exc[i] = x
            s.nest_group[i] = e.group(e.prio[x])
            s.nest_ret[i] = 0 if x == NMI or x in FAULTS or x in lines_high else 1
        s.lp_n = len(pending)
        vtor = e.cfg.vtor
        for i, x in enumerate(pending):
            s.lp_exc[i] = x
            s.lp_prio[i] = e.prio[x]
            s.lp_group[i] = e.group(e.prio[x])
            s.lp_vector[i] = (vtor + 4 * x) & 0xFFFFFFFF
            s.lp_ret[i] = 0 if x in lines_high else 1
        self._pend_armed = tuple(pending)
        s.tick_prio_mask = e.prio_mask  # hp_mask_priority's BASEPRI boost
        s.tick_prigroup = e.cfg.prigroup

    def set_native_sources(self, models: Sequence[PeripheralModel]) -> None:
        """The peripherals whose interrupts the native hot path may deliver (PeripheralModel.native_irq_event)."""
        self._sources = [m for m in models if m.irq is not None][:MAX_SOURCES]
        self.has_native_sources = bool(self._sources)
        self._src_ok = [False] * len(self._sources)
        self._src_seen = [0] * len(self._sources)
        self._acks_seen = [0] * len(self._sources)
        hot = self.m.hot
        for i, model in enumerate(self._sources):  # hp_ack: its handler's acknowledge served in C
            ack = model.native_irq_ack()
            if ack is not None and self.m.bus.native_ack(hot.state, hot.lib, model.base + ack[0]):
                hot.state.src_ack_addr[i] = model.base + ack[0]
                hot.state.src_ack_mask[i] = ack[1]

    def native_events(self) -> dict[int, int]:
        """The machine events C may take over (id -> source slot, -1 for SysTick), as arm_native allowed."""
        out: dict[int, int] = {}
        ev = self.systick.event
        if self.m.hot.state.tick_ok and ev is not None:
            out[id(ev)] = -1
        for i, model in enumerate(self._sources):
            if self._src_ok[i]:
                ev = model.native_irq_event()
                if ev is not None:
                    out[id(ev)] = i
        return out

    def _native_entered(self, n: int) -> None:
        """``n`` exception entries C did (hp_tick, hp_nv_take, hp_source): counted, and what
        ExceptionModel.enter_pending does besides registers and frame for the last one; a process stack C saw
        used is the stack watch's (psp_seen)."""
        s = self.m.hot.state
        e = self.exc
        e.entries += n
        self.entries_of_c += n
        e.last_entry = (bool(s.tick_last_psp), s.tick_last_frame)
        if s.tick_last_fp:
            e.cfg.fpcar = (s.tick_last_frame + 0x20) & 0xFFFFFFFF
        if s.tick_psp_seen:
            self.stack.psp_seen = True
            s.tick_psp_seen = 0

    def sync_native(self) -> None:
        """C did exception entries (SysTick, peripheral interrupts) or returns: the bookkeeping the Python
        paths do.

        C only acts with at most one active exception, so its operations alternate and the
        end state is known: nothing active, or the one C entered (``c_exc``) active.
        """
        m = self.m
        hot = m.hot
        s, w = hot.state, hot.w
        done = w[W_FR_DONE]
        w[W_FR_DONE] = 0
        self.syncs += 1
        ks = m._ks
        stretch = ks is not None and ks.n
        if stretch:  # a K-tick stretch logged ticks (hotpath.c hp_ks): what C did before it is settled first, as the
            self.stretch_before(ks)  # sync it replaces would have (its lines' clears and ICPRs put back for that)
        if w[W_TW_TAKEN] != m._tw_seen[0] or m._tw_py is not None:  # hp_twim_start took a TWIM read, or
            m.settle_twim()  # C may have woken one Python started (before anything C did after them)
        if w[W_AP_DONE] != self._ap_seen:  # hp_apply did an event at its cycle: the model's part, as the run loop's
            self._ap_seen = w[W_AP_DONE]  # stop would have run it there (C applies only with nothing pending and no
            m.settle_apply(s.ap_at)  # wake)
        if done & 64:  # hp_uarte_start served TASKS_STARTTX: the model's transfers (after any event applied before)
            m.settle_uarte(ks.pre_ux if stretch else None)  # (those in the stretch's ticks: in them)
        if w[W_WK_WAKES] != self._wk_seen:  # hp_wfi_hook woke a wfi: its event first, as of its cycle (on_halt's)
            self._wk_seen = w[W_WK_WAKES]
            wk_slept = hot.q[Q_WK_SLEPT]
            slept, self._wk_slept = wk_slept - self._wk_slept, wk_slept
            m.settle_wake(s.wk_at, slept)
        chain = w[W_CH_I] != getattr(m, "_ch_settled", 0) or w[W_CH_CLR_N]
        if chain:  # hp_chain_wake's halves and its slot's clears, in cycle order (before the other slots' clears)
            m.settle_chain()
        if w[W_EV_CLEARS] != self._ev_seen:  # before the NVIC's: an ICPR C served after a clear found the line low
            self._sync_event_clears()
        if w[W_NV_WRITES] != self._nv_seen or w[W_NV_DIRTY]:  # (nv_dirty alone: an interrupt hp_nv_take took)
            self._sync_nvic()
        if w[W_MV_DONE] != self._mv_seen:  # hp_cc_move: the firmware's compare write after the wake, its clear and
            self._mv_seen = w[W_MV_DONE]  # ICPR
            m.settle_move(s.mv_at)
        if stretch:  # the stretch's ticks, each as the sync at its next FIFO_SRC read did (Machine.settle_stretch)
            m.settle_stretch()
        if chain:
            self._chain_pending(s.ch_irq)
        served = w[W_SC_READS] + w[W_SC_WRITES]
        if served != self._sc_seen:  # accesses hp_sc_read / hp_sc_write served (the polling watch counts them from
            self._sc_seen = served  # C's totals: PollWatch.writes_now, as CYCCNT reads C served)
            if s.sc_changed:
                self._take_served(s)
        if not done & ~510:  # only NVIC writes (hp_nvic_write), event clears (hp_ack), wakes, an event applied, a
            # compare moved or a UARTE transfer (bit 64: each settled by its own count), a TWIM read (128), a stretch
            return
        s.c_entered = 0  # FPCAR reads go to Python again (hp_ppb_mmio_read)
        e = self.exc
        if s.fast_returns != self._returns_seen:  # ExceptionModel.exception_return, _exception_return
            self._returns_seen = s.fast_returns
            e.last_left = s.fr_left
            on_psp = bool(s.fr_excret & 4)
            e.last_return = (bool(s.fr_excret & 8), on_psp)  # to Handler mode after a nested return
            if on_psp:
                self.stack.psp_seen = True
        if s.chains != self._chains_seen:  # hp_fast_return tail-chained into PendSV or SysTick
            e.tail_chains += s.chains - self._chains_seen
            self._chains_seen = s.chains
            if s.fast_returns == self._returns_seen:
                e.last_left = s.fr_left
        entered = s.tick_entries - self._entries_seen
        if entered:  # SysTick._fire and take_pending
            self._entries_seen = s.tick_entries
            self._native_entered(entered)
            self.systick.resync(s.tick_cycle)
        taken = s.nv_entries - self._nv_entries_seen
        if taken:  # hp_nv_take: take_pending's entries (the pending and active sets: the lists below)
            self._nv_entries_seen = s.nv_entries
            self._native_entered(taken)
        if s.tick_fires != self._fires_seen:  # hp_tick_pend: SysTick._fire done in C (before
            # anything below schedules: scheduling re-arms C from the queue)
            self._fires_seen = s.tick_fires
            self.systick.resync(s.tick_cycle)
        fired = []
        acked = []
        for i, model in enumerate(self._sources):  # hp_source: the peripheral's event, then take_pending
            n = s.src_entries[i] - self._src_seen[i]
            if n:
                self._src_seen[i] = s.src_entries[i]
                self._native_entered(n)
            acks = s.src_acks[i] - self._acks_seen[i]
            if acks:  # hp_ack: the handler's acknowledges (MMIO writes the polling watch counts from C's totals)
                self._acks_seen[i] = s.src_acks[i]
            if s.src_unacked[i]:  # the last thing C did: deliver it (the line is high)
                s.src_unacked[i] = 0
                fired.append(model)
            elif acks:  # ... or acknowledge it (the line is low, the next assertion planned)
                acked.append((model, s.src_ack_cycle[i]))
        e.active.clear()
        if s.nest_on:  # what hp_list_return left of arm_native's lists
            e.active.update(s.nest_exc[:s.nest_n])
            if self._pend_armed:
                left = s.lp_exc[:s.lp_n]
                e.pending.difference_update(x for x in self._pend_armed if x not in left)  # tail-chained into
                self._pend_armed = tuple(left)
        elif s.c_active:
            e.active.add(s.c_exc)
        self.event_register = True
        for model in fired:  # after the active set: the line held high does not pend the active interrupt
            model.native_irq_fired()
        for model, cycle in acked:
            model.native_irq_acked(cycle)
        if s.psv_pending:  # set by the running handler, not yet taken
            s.psv_pending = 0
            self.pend(PENDSV)
        if s.nmi_pend:  # hp_nmi_pend: NMIPENDSET served, its take not done (Scb.write_ICSR's pend: Python takes it)
            s.nmi_pend = 0
            self.pend(NMI)
        if s.tick_pend:
            s.tick_pend = 0
            self.pend(SYSTICK)

    # --- hooks called by the machine -----------------------------------------------------------------
    def on_exception(self, intno: int, pc: int) -> None:
        """UC_HOOK_INTR other than semihosting: SVC, exception return, CPU exceptions."""
        if intno == Excp.SWI:  # PC is after the svc
            self._svc(pc)
        elif intno == Excp.EXCEPTION_EXIT:  # PC holds EXC_RETURN without bit 0
            self._exception_return(pc | 1)
        elif intno == Excp.UDEF:
            self._sync_fault(USAGEFAULT, "UNDEFINSTR", pc, "undefined instruction")
        elif intno == Excp.INVSTATE:
            self._sync_fault(USAGEFAULT, "INVSTATE", pc, "execution in ARM state (a branch to an even address)")
        elif intno == Excp.NOCP:
            self._sync_fault(USAGEFAULT, "NOCP", pc, "coprocessor instruction with the coprocessor disabled")
        elif intno == Excp.PREFETCH_ABORT and self.m.memmap.execute_never(pc):
            self._sync_fault(MEMMANAGE, "IACCVIOL", pc, f"instruction fetch from execute-never address {pc:#010x}")
        elif intno == Excp.PREFETCH_ABORT:
            self._sync_fault(BUSFAULT, "IBUSERR", pc, f"instruction fetch from {pc:#010x} failed")
        elif intno == Excp.DATA_ABORT:
            self._sync_fault(BUSFAULT, "PRECISERR", pc, "data abort")
        else:
            self.faults.stop_now(f"unexpected CPU exception {intno} from the emulator", pc)

    def _svc(self, pc: int) -> None:
        if self.exc.can_preempt(SVCALL):
            self.enter(SVCALL, pc)
            return
        # B1.5.14: an SVC that cannot be taken (masked or lower priority) escalates to HardFault
        svc_at = pc - 2
        self.faults.raise_fault(HARDFAULT, "FORCED", pc,
                                f"SVC at {self.m.fw.describe(svc_at)} executed when SVCall could not be taken "
                                "(PRIMASK/BASEPRI or priority)")

    def _exception_return(self, excret: int) -> None:
        try:
            chained = self.exc.exception_return(excret)
        except BadExcReturn as err:
            self._sync_fault(USAGEFAULT, "INVPC", excret & ~1, f"bad exception return from "
                             f"{exception_name(self.exc.last_left)}: {err}")
            return
        except StackingError as err:
            self.faults.stop_now(f"lockup: {err} on exception return", excret)
            return
        self.faults.handler_returned(self.exc.last_left)
        if self.mpu.enabled:
            self.sync_mpu()  # back to thread mode: CONTROL.nPRIV decides again
        model = self.m.hot.analyzer.cycle_model
        self.m.hot.charge(getattr(model, "exception_return", EXCEPTION_RETURN) if chained is None else
                          getattr(model, "tail_chain", TAIL_CHAIN))
        self.event_register = True
        if chained is None:
            to_thread, on_psp = self.exc.last_return
            if to_thread and on_psp:
                self.stack.psp_seen = True
            if to_thread and self.scb.sleep_on_exit:
                self.m.hot.state.py_stop = 1
                self.m.uc.emu_stop()  # the run loop sees a halt: sleep until the next event (B1.5.12)
        self.kick()

    def _sync_fault(self, exc: int, bit: str, pc: int, what: str, address: int | None = None,
                    access: tuple[AccessKind, int, int] | None = None) -> None:
        self.faults.raise_fault(exc, bit, pc, what, address, access)

    def on_cpu_error(self, err: unicorn.UcError, pc: int, access: tuple[AccessKind, int, int] | None) -> None:
        """emu_start raised: classify as MemManage/BusFault/UsageFault at the faulting instruction."""
        if access is not None and self.mpu.enabled and self._mpu_access(pc, access):
            return
        if access is not None:
            kind, addr, size = access
            if kind is AccessKind.WRITE_PROT and self.stack.in_guard(addr):
                self.stack.guard_hit(pc, addr)
                return
            fetch = kind.is_fetch
            if fetch and self.m.memmap.execute_never(addr):
                self._sync_fault(MEMMANAGE, "IACCVIOL", pc, f"instruction fetch from execute-never address "
                                 f"{addr:#010x}", access=access)
            elif fetch:
                self._sync_fault(BUSFAULT, "IBUSERR", pc, f"instruction fetch from {_what(kind)} address "
                                 f"{addr:#010x}", access=access)
            else:
                rw = "write" if kind.is_write else "read"
                self._sync_fault(BUSFAULT, "PRECISERR", pc, f"{rw} of {size} bytes at {_what(kind)} address "
                                 f"{addr:#010x}", address=addr, access=access)
            return
        if err.errno == unicorn.UC_ERR_INSN_INVALID:
            hint = self._hint_before(pc)
            if hint == "wfe":
                self._wfe(pc)
            elif hint == "yield":
                pass  # a hint: carry on after it
            else:
                self._sync_fault(USAGEFAULT, "UNDEFINSTR", pc, "undefined instruction")
        elif err.errno == unicorn.UC_ERR_EXCEPTION:
            self._sync_fault(USAGEFAULT, "INVSTATE", pc, f"CPU exception: {err}")
        else:
            self.faults.stop_now(f"CPU error: {err}", pc)

    def _hint_before(self, pc: int) -> str | None:
        """Unicorn stops after WFE/YIELD with an 'invalid instruction' error: recognise them."""
        if self.m.memmap.window(pc - 4, 4) is None:
            return None
        here = self.m.mem_read(pc, 4)
        if here[1] == 0xDE or (here[1] == 0xF7 and here[0] & 0xF0 == 0xF0 and here[3] & 0xF0 == 0xA0):
            return None  # a udf really is at pc
        before = self.m.mem_read(pc - 4, 4)
        if before[2:] == b"\x20\xbf" or before == b"\xaf\xf3\x02\x80":
            return "wfe"
        if before[2:] == b"\x10\xbf" or before == b"\xaf\xf3\x01\x80":
            return "yield"
        return None

    def _wfe(self, pc: int) -> None:
        """WFE: consume a set event register, else sleep like WFI until an exception is pending (B1.5.18)."""
        if not self.event_register:
            self.on_halt(pc, wfe=True)
        self.event_register = False

    def on_halt(self, pc: int, wfe: bool = False) -> None:
        """wfi (or sleep-on-exit): sleep until an exception is pending, advancing virtual time.

        ``wfe``: also wake on the event register (SEVONPEND sets it for interrupts that are disabled).
        Stops "sleeping forever" when nothing scheduled could wake the core: no event at all, no
        interrupt enabled that could preempt (PRIMASK aside, B1.5.19), or SLEEP_EVENT_LIMIT events
        ran without waking it.
        """
        e = self.exc
        lp = getattr(self.m, "lowpower", None)
        if (lp is not None and self.scb.sleep_deep and self.m.stop is None and not self.m.reset_pending
                and e.highest_pending() is None and not (wfe and self.event_register)):
            lp.deep_sleep(pc, wfe)  # Stop / Standby (simcore/lowpower.py)
            self.take_pending()
            return
        events = 0
        could_wake = None  # what wakes it is firmware state (NVIC, SysTick, masks), which events do not change
        m, stack = self.m, self.stack
        # (per sleep step, ~3 a wfi: highest_pending only with something pending, the stack watch without
        # check_stack's call; the same checks in the same order)
        while (m.stop is None and not m.reset_pending and (not e.pending or e.highest_pending() is None)
               and not (wfe and self.event_register)):
            if stack.check():
                return
            nxt = m.next_event_cycle()
            why = None
            if nxt is not None and could_wake is None:
                could_wake = self._could_wake(wfe)
            if nxt is None:
                why = "nothing is scheduled that could wake it"
            elif not (could_wake or self.m.reset_could_happen()):
                why = "no enabled interrupt could wake it (NVIC enables, SysTick TICKINT, priorities)"
            elif (quiet := self._events_cannot_wake(wfe)) is not None:
                why = f"the events scheduled ({quiet}) cannot raise an enabled interrupt that would wake it"
            elif events >= SLEEP_EVENT_LIMIT:
                why = f"{SLEEP_EVENT_LIMIT:,} scheduled events ran and none woke it"
            if why is not None:
                if self.faults.sleeping_in_handler(pc):
                    return
                self.m.request_stop(Stop(StopKind.SLEEPING, f"the core sleeps ({'wfe' if wfe else 'wfi'}) at "
                                         f"{self.m.fw.describe(pc)} and {why}: sleeping forever", pc=pc))
                return
            self.m.advance_to(nxt)
            self.m.run_due_events(arm=False)  # (the run loop arms before emulation resumes)
            events += 1
        self.take_pending()  # a masked pending interrupt wakes the core but is not taken (B1.5.19)

    def wake_allowed(self, irq: int) -> bool:
        """May hp_wfi_hook wake a wfi with interrupt ``irq`` (Machine._plan_wake): it would wake the core (enabled; C
        checks BASEPRI and FAULTMASK clear at the wfi, so with nothing active any priority wakes, B1.5.19), and
        nothing else Python's on_halt looks at stands in the way: deep sleep, a reset coming, an exception active or
        a system exception pending (C's view is thread mode's with no interrupt pending in its NVIC view at the
        wfi, nv_pending, which the firmware's ICPR writes may clear). Also arms the stack watch's limit C checks as
        on_halt's check_stack would."""
        e = self.exc
        x = IRQ0 + irq
        if (self.scb.sleep_deep or self.m.reset_pending or e.active or self.mpu.enabled
                or (e.pending and min(e.pending) < IRQ0)  # interrupts pending are C's to look at (nv_pending)
                or not e.enabled[x]):
            return False
        self._arm_wfi_stack_limit()
        return True

    def _arm_wfi_stack_limit(self) -> None:
        """The stack watch's limit hp_wfi_hook checks before going on after a wfi (as on_halt's check_stack would):
        __StackLimit while the main stack is watched and no overflow was reported, else 0 (no check)."""
        stack = self.stack
        limit = stack.limit
        self.m.hot.w[W_WK_STACK_LIMIT] = limit if limit is not None and not stack.psp_seen and not stack.reported \
            else 0

    def _could_wake(self, wfe: bool) -> bool:
        """Could an event still wake the core: an enabled interrupt of enough priority, or SEVONPEND."""
        e = self.exc
        if wfe and self.scb.sev_on_pend:
            return True
        level = self._wake_level()
        candidates = list(compress(range(IRQ0, e.n), e.enabled[IRQ0:]))  # (picked in C: the comprehension was 3%
        # of a Nano imu_steps_bus run's bytecodes, ~350 a wfi)
        if self.systick.ctrl & 2 and self.systick.running:
            candidates.append(SYSTICK)
        return any(e.group(e.prio[x]) < level for x in candidates)

    def _wake_level(self) -> int:
        """The priority an interrupt must beat to wake a sleeping core: PRIMASK aside (B1.5.19), BASEPRI counts."""
        e = self.exc
        basepri, _primask, faultmask = e.regs.read(_MASKS)
        return e._execution_priority(basepri, 0, faultmask)

    def _events_cannot_wake(self, wfe: bool) -> str | None:
        """The scheduled events' tags when none of them can wake the sleeping core, else None.

        Each event may say which interrupt lines running it could raise (``Event.raises``; None: anything can
        follow from it, as for every event that does not say). When every live event says so and none of those
        lines is enabled in the NVIC with a priority that would wake the core (nor pending would set the event
        register: SEVONPEND under WFE), time can pass forever without a wake-up: a free-running timer's compares
        with their interrupts off. The next event is looked at first, so a sleep that will wake costs one call."""
        queue = getattr(self.m, "events", None)
        top = queue.top() if queue is not None else None
        if top is None or top.raises is None or (wfe and self.scb.sev_on_pend):
            return None
        e = self.exc
        level = self._wake_level()
        tags: list[str] = []
        for ev in queue.heap:
            if ev.cancelled:
                continue
            lines = ev.raises() if ev.raises is not None else None
            if lines is None or any(e.enabled[IRQ0 + n] and e.group(e.prio[IRQ0 + n]) < level for n in lines):
                return None
            if ev.tag not in tags:
                tags.append(ev.tag)
        return ", ".join(tags)

    def on_spin(self, pc: int) -> bool:
        """The machine found a branch-to-self: inside a fault handler that ends the run with the fault."""
        return self.faults.spinning_in_handler(pc)

    def account_sleep(self, cycles: int) -> None:
        self.sleep_cycles += cycles

    # --- the watched instructions (codescan): per-address hooks on blocks the hot path shows -----------
    def watch_block(self, addr: int, size: int, flags: int) -> None:
        """Outside emulation: hook the watched instructions of a new block (the hot path retranslates it)."""
        callbacks = {"div": self._on_div_insn, "multi": self._on_multi_insn, "access": self._on_access_insn}
        uc = self.m.uc
        for w in watched_in(self.m.mem_read(addr, size), addr):
            if not flags & WATCH_FLAGS.get(w.kind, 0):
                continue
            hooked = self._hooked.setdefault(w.kind, set())
            if w.addr not in hooked:
                hooked.add(w.addr)
                uc.hook_add(unicorn.UC_HOOK_CODE, callbacks[w.kind], w, begin=w.addr, end=w.addr)

    def _on_multi_insn(self, uc: unicorn.Uc, address: int, size: int, w: Watched) -> None:
        ea = (uc.reg_read(w.reg) + w.offset) & 0xFFFFFFFF
        if ea & 3:
            self.m.guard(lambda: self._fault_in_hook(USAGEFAULT, "UNALIGNED", address,
                                                      f"unaligned {w.text} (address {ea:#010x}; LDM/STM/LDRD/STRD "
                                                      "need word alignment)", ea))

    def _on_div_insn(self, uc: unicorn.Uc, address: int, size: int, w: Watched) -> None:
        if uc.reg_read(w.reg) == 0 and self.scb.get("CCR") & CCR_DIV_0_TRP:
            self.m.guard(lambda: self._fault_in_hook(USAGEFAULT, "DIVBYZERO", address,
                                                      f"division by zero ({w.text}) with CCR.DIV_0_TRP set"))

    def _fault_in_hook(self, exc: int, bit: str, pc: int, what: str, address: int | None = None) -> None:
        """A fault found by a code hook before the instruction ran: un-count the block's rest, redirect."""
        hot = self.m.hot
        hot.correct_partial_block(pc)
        self._sync_fault(exc, bit, pc, what, address)
        if self.m.stop is None:  # leave through the run loop's event path; it resumes at the handler
            hot.state.stop_requested = 1
            hot.state.stop_cycle = 0
            self.m.uc.emu_stop()

    def _on_access_insn(self, uc: unicorn.Uc, address: int, size: int, w: Watched) -> None:
        if not self.scb.get("CCR") & CCR_UNALIGN_TRP:
            return
        ea = uc.reg_read(w.reg) + w.offset
        if w.index:
            ea += uc.reg_read(w.index) << w.shift
        ea &= 0xFFFFFFFF
        if ea & (w.width - 1):
            self.m.guard(lambda: self._fault_in_hook(USAGEFAULT, "UNALIGNED", address,
                                                      f"unaligned {w.text} (address {ea:#010x}) with "
                                                      "CCR.UNALIGN_TRP set", ea))

    def _ccr_changed(self, ccr: int) -> None:
        """DIV_0_TRP / UNALIGN_TRP set: watch the instructions they concern (only then: it costs per execution)."""
        add = (DIV if ccr & CCR_DIV_0_TRP else 0) | (ACCESS if ccr & CCR_UNALIGN_TRP else 0)
        if add & ~self.watches:
            self.watches |= add
            self.m.schedule(self.m.now_cycles(), lambda: self.m.hot.watch(self.watches), "CCR trap watches")

    # --- the MPU (mpu.py) -------------------------------------------------------------------------------
    def privileged(self) -> bool:
        """Handler mode, or thread mode with CONTROL.nPRIV clear (B1.4.4)."""
        return bool(self.exc.current()) or not self.m.uc.reg_read(R.UC_ARM_REG_CONTROL) & 1

    def sync_mpu(self) -> None:
        """Unicorn's page protections as the MPU decides them for the current privilege and priority."""
        if self.mpu_pages.sync(self.mpu, self.privileged(), self.exc.execution_priority() < 0):
            guard = self.stack.guard  # simcore's own stack guard page stays write-protected
            if guard is not None:
                self.m.uc.mem_protect(guard[0], guard[1] - guard[0],
                                      self.mpu_pages.perms_at(guard[0]) & ~unicorn.UC_PROT_WRITE)

    def _mpu_changed(self) -> None:
        """MPU registers written (from a PPB hook) or privilege may change: re-map at the next block boundary."""
        if self._mpu_event is None:
            self._mpu_event = self.m.schedule(self.m.now_cycles(), self._mpu_apply, "MPU map")

    def _mpu_apply(self) -> None:
        self._mpu_event = None
        self.sync_mpu()

    def _mpu_access(self, pc: int, access: tuple[AccessKind, int, int]) -> bool:
        """A protection fault with the MPU on: MemManage if the MPU refuses, else step the access. Handled?"""
        from simcore.cortexm.mpu import R as PR
        from simcore.cortexm.mpu import W as PW
        from simcore.cortexm.mpu import X as PX

        kind, addr, size = access
        need = {AccessKind.READ_PROT: PR, AccessKind.WRITE_PROT: PW, AccessKind.FETCH_PROT: PX}.get(kind)
        if need is None:
            return False
        if need != PX:
            # Unicorn leaves a refused access with the PC at the start of its translation block
            pc = instruction_of_access(self.m.uc, pc, addr, write=need == PW, stack=True)
            self.m.uc.reg_write(R.UC_ARM_REG_PC, pc | 1)
        self.sync_mpu()  # the map may be stale (a change not yet applied)
        priv = self.privileged()
        who = "privileged" if priv else "unprivileged"
        if not self.mpu.allows(addr, max(size, 1), need, priv, self.exc.execution_priority() < 0):
            if need == PX:
                self._sync_fault(MEMMANAGE, "IACCVIOL", pc, f"{who} instruction fetch from {addr:#010x} refused "
                                 "by the MPU", access=access)
            else:
                rw = "write" if need == PW else "read"
                self._sync_fault(MEMMANAGE, "DACCVIOL", pc, f"{who} {rw} of {size} bytes at {addr:#010x} refused "
                                 "by the MPU", address=addr, access=access)
            return True
        if not self.mpu_pages.window_perms(addr) & need or (need == PW and self.stack.in_guard(addr)):
            return False  # the memory itself refuses it (a write to flash), or simcore's stack guard
        self._step_open(pc, addr, max(size, 1))
        return True

    def _step_open(self, pc: int, addr: int, size: int) -> None:
        """Run the one instruction at ``pc`` with the page(s) of its access opened (a page a region splits)."""
        from simcore.hotpath import NO_LIMIT

        pages = [self.mpu_pages.open_page(a) for a in sorted({addr & ~0x3FF, (addr + size - 1) & ~0x3FF})]
        s = self.m.hot.state
        saved = (s.stop_cycle, s.stop_insn)
        s.stop_cycle = s.stop_insn = NO_LIMIT  # the hot path must not stop before the instruction runs
        if self.clear_models:
            self.give_clears()  # (C runs it: the clear slots as the models want them)
        nxt = self._next_if_straight(pc)
        try:
            if nxt is not None:
                self.m.uc.emu_start(pc | 1, nxt)  # stops at the next instruction (cheaper than count=1)
            else:
                self.m.uc.emu_start(pc | 1, NEVER_EXECUTED, count=1)
        except unicorn.UcError:
            pass  # a second fault in the same instruction: the run loop meets it again
        finally:
            for page, perms in pages:
                self.m.uc.mem_protect(page, 0x400, perms)
            s.stop_cycle, s.stop_insn = saved
        self.m.hot.correct_partial_block(self.m.pc())

    def _next_if_straight(self, pc: int) -> int | None:
        """The address after the instruction at ``pc`` when it cannot write the PC, else None."""
        import capstone

        insn = next(disassembler().disasm(self.m.mem_read(pc, 4), pc, 1), None)
        if insn is None:
            return None
        _read, written = insn.regs_access()
        if capstone.arm.ARM_REG_PC in written or insn.group(capstone.CS_GRP_JUMP):
            return None
        return pc + insn.size

    # --- stack overflow (stack.py) ----------------------------------------------------------------------
    def check_stack(self) -> bool:
        """At a stop: stop the run if the main stack went below ``__StackLimit``."""
        return self.stack.check()

    # --- misc --------------------------------------------------------------------------------------------
    def _reset_request(self) -> None:
        pc = self.m.pc()
        self.m.request_stop(Stop(StopKind.RESET, f"reset requested by the firmware (AIRCR.SYSRESETREQ) at "
                                 f"{self.m.fw.describe(pc)}", pc=pc))

    def _trcena_changed(self) -> None:
        self.dwt.trace_changed()

    def fault_active(self) -> bool:
        return any(x in FAULTS for x in self.exc.active)


def _windows(m: MachineView) -> list[Window]:
    """Every mapped memory window (memmap: bases and aliases) with its own permissions, as the machine maps
    it (page-rounded): what the MPU restricts further."""
    out = []
    for w in m.memmap.windows:
        perms = unicorn.UC_PROT_READ | (unicorn.UC_PROT_WRITE if w.is_ram else 0) | (
            unicorn.UC_PROT_EXEC if w.executable else 0)
        out.append(Window(w.base, w.base + len(m.buffers[w.index]), perms))
    return out


def _what(kind: AccessKind) -> str:
    return {AccessKind.READ: "unmapped", AccessKind.WRITE: "unmapped", AccessKind.FETCH: "unmapped",
            AccessKind.WRITE_PROT: "read-only", AccessKind.READ_PROT: "read-protected",
            AccessKind.FETCH_PROT: "non-executable"}[kind]
