"""The machine: a Unicorn Cortex-M4 with the part's memories, peripherals, clock and accounting.

Flash and RAM are plain Unicorn memory with the part's exact sizes (no Python on those
accesses); peripherals sit behind one MMIO window per address range; the per-block hot
path counts instructions and cycles and stops emulation when the next event is due.
Python runs only at events, MMIO accesses, exceptions and the end of a run.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

import unicorn
from unicorn import arm_const as R

from simcore import blockcache
from simcore.abi import (
    AC_MAX,
    AP_OPS,
    CH_MAX,
    EV_SLOTS,
    KS_ARRIVALS,
    KS_LEVELS,
    KS_TICKS,
    Q_AP_CYCLE,
    Q_CYCLE_COUNT,
    Q_MV_CYCLE,
    Q_MV_FROM,
    Q_OTHER_CYCLE,
    Q_STOP_CYCLE,
    Q_TICK_CYCLE,
    Q_TW_FPC,
    Q_TW_FREE,
    Q_TW_LASTTX,
    Q_TW_PY_SLEPT,
    Q_TW_QUIET,
    Q_TW_SAVED,
    Q_TW_SLEPT,
    Q_TW_STOPPED,
    Q_WK_AFTER,
    Q_WK_CYCLE,
    UX_OPS,
    W_AC_N,
    W_CH_N,
    W_CONTROL_BLOCKS,
    W_FR_DONE,
    W_MV_ADDR,
    W_MV_STORE,
    W_MV_VALUE,
    W_SH_ON,
    W_TICK_OK,
    W_TW_FLIGHT,
    W_TW_LEN,
    W_TW_N,
    W_TW_ON,
    W_TW_PY,
    W_TW_PY_WOKEN,
    W_TW_REG,
    W_TW_RX,
    W_TW_TAKEN,
    W_TW_TX,
    W_TW_UNIT,
    W_TW_WOKEN,
    W_TW_X_ON,
    W_WK_EV,
    W_WK_IRQ,
    W_WK_SOLE,
    W_WK_STORE,
    HotKs,
    HotUarteTx,
)
from simcore.accesspc import instruction_of_access
from simcore.blocks import BlockAnalyzer
from simcore.board import Board
from simcore.boot import BootPlan, HeapInfo, heapinfo, plan_boot
from simcore.bus import PeripheralBus
from simcore.clock import FS_PER_SECOND, ClockModel, Clocks
from simcore.cortexm.coreregs import CoreRegs
from simcore.cortexm.excp import Excp
from simcore.cortexm.itm import ITM_BASE
from simcore.cortexm.system import SystemBlock
from simcore.cortexm.systick import SysTick
from simcore.cycles import InstructionCount
from simcore.devices.base import RateClock
from simcore.elf import Firmware
from simcore.errors import InternalError, OutputClosed, SimcoreError
from simcore.hotpath import DWT_PAGE, MAX_SOURCES, MAX_WINDOWS, NEVER, NO_LIMIT, SCS_PAGE, HotPath, HotState
from simcore.layout import Layout, check_fit
from simcore.lowpower import LowPower
from simcore.memmap import NEVER_EXECUTED as UNTIL
from simcore.memmap import PAGE, PERIPH_BASE, PERIPH_END, PPB_BASE, PPB_END, MemoryMap
from simcore.peripherals import PeripheralModel
from simcore.poll import POLL_THRESHOLD, PollWatch
from simcore.reports import Reports
from simcore.runtypes import AccessKind, ChainPlan, Event, EventQueue, ReportChannel, RunOptions, Stop, StopKind
from simcore.semihosting import ExitRequest, Semihosting

# Unicorn's code buffer per engine (its default is 1 GiB). The translated code calls Unicorn's helpers (the block hook,
# memory slow paths) directly only while the buffer lies within 2 GiB of libunicorn; a 1 GiB buffer leaves room for
# one engine there, so every machine built while another was alive (a suite's worker, a pytest session, a benchmark
# that keeps its machines) ran with indirect calls: div_bench 25% slower, compute 13%. 128 MiB leaves room for ~14
# and holds 9x the host code of the largest committed image (bench_cpp, 618 KB of text: 14 MB); a buffer that fills
# is flushed and refilled by Unicorn (slower, same counts).
TCG_BUFFER_BYTES = 128 << 20


class Machine:
    """One emulated part running one firmware image."""

    def __init__(self, board: Board, firmware: Firmware, options: RunOptions | None = None) -> None:
        self.board = board
        self.fw = firmware
        self.opts = options or RunOptions()
        from simcore.validate import check_mhz

        mhz = check_mhz(board, self.opts.mhz, "mhz")
        # the clock service (simcore/clock.py): a fixed clock until the part's clock model (RCC) attaches
        self.clocks = Clocks(mhz * 1e6, override_hz=mhz * 1e6 if self.opts.mhz_given else None)
        self._timeline = self.clocks.timeline  # (the clocks' one timeline: now_fs and schedule_at_fs read it directly)
        self._flash_timing: tuple[int, int, bool] | None = None  # (wait states, accelerator, prefetch) from FLASH
        self.flash_ws_high = 0  # the most wait states the firmware set (FLASH.ACR) in the run: the error bar's WS
        self._reset_request: tuple[str, str] | None = None  # (cause, why): a watchdog or standby reset to do
        self.resets: list[dict[str, Any]] = []  # every reset of the part during the run (cause, when, where)
        self.layout: Layout = check_fit(firmware, board)
        self.boot: BootPlan = plan_boot(board, firmware, self.layout)  # BadInputError before anything is built
        self.boot_rule = self.boot.rule
        self._heap = heapinfo(board, firmware, self.layout)
        self.console = bytearray()  # the last CONSOLE_TAIL..2*CONSOLE_TAIL bytes printed
        self.console_bytes = 0  # everything printed
        self._c_console: Any = None  # the console model whose bytes the register file takes (console_in_c)
        self._outside: str | None = None  # "timeout" | "interrupted", set by the watchdog thread
        self.unmodelled: dict[str, str] = {}  # where -> detail of the "not implemented" reports
        self.reports = Reports(self._locate)
        self._mmio: tuple[int, bool] | None = None  # the MMIO access being served: (address, write)
        self.stop: Stop | None = None
        # Debugging (simcore.debug): a pause ends run() without ending the run; run() again resumes.
        self.pause: Any = None  # a simcore.debug.Pause
        self.pause_pending: Any = None  # pause at the next block boundary (request_pause)
        self.debugger: Any = None  # a simcore.debug.Debugger: called around every emu_start
        self.console_listeners: list[Callable[[], None]] = []
        self._started = False
        self.closed = False  # close() released the engine
        self._hook_error: BaseException | None = None
        self.events = EventQueue()
        self._systick: SysTick | None = None  # set when the native hot path delivers SysTick; peripherals
        # may schedule events while they are built (a recording's first pin edge)
        self._in_events = False  # inside run_due_events: schedule() leaves arming to it
        # What guard_access needs to leave the hot path's arming as it is (see there): a count of the
        # host calls that may change it, and the fields the last arming left
        self.arm_changes = 0
        self.queue_changes = 0  # those of them that only scheduled or cancelled an event (guard_access)
        self._armed: tuple[int, int, int] | None = None
        self._keeps_arming = False  # native exception return and no natively delivered peripheral interrupts
        self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
        self.uc.ctl_set_tcg_buffer_size(TCG_BUFFER_BYTES)  # (before the engine is initialised: see there)
        self.uc.ctl_set_cpu_model(unicorn.arm_const.UC_CPU_ARM_CORTEX_M4)
        self._core_regs = CoreRegs(self.uc)  # registers in one ctypes call each, not the bindings' reg_read/write
        self._read_pc = self._core_regs.read_pc
        self.buffers: tuple[Any, ...] = self._map_memories(board.memory_map)
        # (base, end, host address) of every memory window (aliases too): mem_read serves them from the buffers
        self._read_windows = tuple((w.base, w.base + min(w.end - w.base, len(self.buffers[w.index])),
                                    ctypes.addressof(self.buffers[w.index])) for w in board.memory_map.windows)
        self._rom_buffers: list[Any] = []  # read-only device images (nRF52 FICR/UICR), not board memories
        self._load_image()
        self.hot: Any = _BeforeHotPath()  # peripheral constructors may ask for the time (now_cycles, now_fs)
        self._hot_live = False  # self.hot is the hot path (not _BeforeHotPath): _arm may arm it
        # a store to read-only memory is offered here first (the nRF52 NVMC programs flash): True = done
        self.protected_write: Callable[[int, int, int], bool] | None = None
        from simcore import sensorbind

        # bad or wrong-kind recordings: BadInputError now; sensors nobody uses are built on first access
        self.peripherals: list[PeripheralModel] = sensorbind.build(board, self.opts.sensors, self,
                                                                        self.opts.uart_input)
        self.memmap: MemoryMap = board.memory_map.with_devices((p.name, p.base, p.SIZE) for p in self.peripherals)
        self._by_name = {p.name.lower(): p for p in self.peripherals}
        self._last_fault_access: tuple[AccessKind, int, int] | None = None
        # every MMIO access outside the PPB: models, plain SVD registers served in C (simcore/bus.py)
        self.bus = PeripheralBus(self, self.peripherals, board.svd, native=self.opts.native, bitband=board.bitband)
        self.reports.syncers.append(self.bus.sync_reports)
        self._map_outside_peripherals()
        if board.bitband:
            self._map_sram_alias()
        self.system = SystemBlock(self)
        # the PPB in windows: the DWT's and the system control space's pages may be served by the hot path
        # (map_scs), and Unicorn gives a window split by an unmap offsets from the new piece's start
        for lo, hi in ((PPB_BASE, DWT_PAGE), (DWT_PAGE, DWT_PAGE + PAGE), (DWT_PAGE + PAGE, SCS_PAGE),
                       (SCS_PAGE, SCS_PAGE + PAGE), (SCS_PAGE + PAGE, PPB_END)):
            self.uc.mmio_map(lo, hi - lo, self._ppb_read_from(lo), None, self._ppb_write_from(lo), None)
        self.analyzer = BlockAnalyzer(self._read_code, self.opts.cycle_model or InstructionCount(),
                                      self._function_start)
        self.hot = HotPath(self.uc, self.analyzer, native=self.opts.native, on_miss_error=self._on_miss_error,
                           functions=firmware.function_extents(),
                           on_watch=self.system.watch_block)
        self._hot_live = True
        if self.system.watches:
            self.hot.watch(self.system.watches)
        if self._flash_timing is not None and self.clocks.override_hz is None:
            self.hot.set_flash(*self._flash_timing)  # FLASH.ACR as the FLASH model found it at reset
            self.hot.flash_ws_variable = True
        blockcache.load(self.hot, firmware)  # analyses of an earlier run of the same ELF
        self.bus.attach_pc(self.hot.state, HotState.last_addr.offset)  # polls are told apart by their block
        self.bus.attach_engine(self.uc)
        # Native hot path: the INTR hook is C and does the common exception return itself (SystemBlock
        # arms it); everything else comes back to _on_native_intr. The Python twin hooks it here.
        self._fast_return = self._install_intr_hook()
        if not self._fast_return:
            self.uc.hook_add(unicorn.UC_HOOK_INTR, self._on_intr)
        else:
            self.system.exc.native_enter = self.hot.native_enter()
            # peripherals whose interrupt the hot path may take itself (PeripheralModel.native_irq_event)
            self.system.set_native_sources([p for p in self.peripherals if isinstance(p, PeripheralModel)
                                            and type(p).native_irq_event is not PeripheralModel.native_irq_event])
        # a wfi woken in C when the next event says how (hp_wfi_hook; Machine._plan_wake, settle_wake)
        self._wake_event: Event | None = None
        # or a wake planned ahead of its event (_plan_wake_ahead): the chip whose read a TWIM flight made plans it
        self._wake_ahead: Any = None
        self.wakes_ahead_in_c = 0
        self._quiet: tuple[Event | None, int, int] = (None, 0, 0)  # _plan_wake's last (event, quiet time, its cycle)
        self.wakes_in_c = 0
        # a machine event applied in C at its cycle (hp_apply; Machine._plan_apply, settle_apply)
        # _plan_apply's event, its settle and, for a chain (hp_apply_chain), the model's next event after a settle
        self._applied: tuple[Event, Callable[[], None], Callable[[], Event | None] | None] | None = None
        self.applied_in_c = 0
        # a compare register moved on in C after the wake at its match (hp_cc_move; Machine._plan_move, settle_move)
        self._moved: Callable[[], None] | None = None  # the model's write of the planned move
        self._move_acks: set[int] = set()  # the registers whose writes are offered to hp_ack (bus.native_ack)
        self._mv_planned: Any = None  # the plan hot.state's mv_* fields hold (all but mv_addr, which arming clears)
        self.moves_in_c = 0
        # a chain of DMA halves delivered in C at the wfis that wait for them (hp_chain_wake; _plan_chain, settle_chain)
        self._chain: ChainPlan | None = None  # the plan C works from (keeps its bytes alive)
        self._ch_settled = 0  # hot.state.ch_i at the last settle_chain (halves of the plan the model has heard of)
        self._ch_clean = False  # _chain_off left hot.state's chain fields off and nothing planned one since
        self._ch_slept = 0  # hot.state.ch_slept then
        self._ch_planned: tuple[int, int, int | None] = (0, 0, None)  # (next other event's cycle, halves, bytes'
        # address) of the plan the chain arrays hold
        self.chain_halves_in_c = 0
        # an nRF52 UARTE's TASKS_STARTTX served in C (hotpath.c hp_uarte_start; Machine._arm_uarte, settle_uarte)
        self._ux: HotUarteTx | None = None  # C's side of it (not snapshotted: Python settles it before each arming)
        self._ux_model: Any = None
        self._ux_acked = False  # the STARTTX entry offers its writes to hp_ack (PeripheralBus.native_ack)
        self._ux_gate = False  # the last arming allowed hp_uarte_start as far as the machine goes (_arm_uarte)
        self._ux_plan: Any = None  # the model's plan the last arming tried (None: it had none)
        self._ux_after = False  # ... for after the end of the transfer under way (ux.on 2)
        self.uarte_starts_in_c = 0
        self._setup_uarte()
        # semihosting SYS_ELAPSED served in C (hotpath.c hp_semi_elapsed): calls made there, counted at each slice's end
        self._sh_in_c = self._fast_return and self.ELAPSED_IN_C and self.hot.state.reg_write is not None
        self._sh_seen = 0
        if self._sh_in_c:
            uclib = unicorn.unicorn_py3.unicorn.uclib
            self.hot.state.mem_write = ctypes.cast(uclib.uc_mem_write, ctypes.c_void_p).value
        self._wfi_hooks = self._fast_return and self.hot.install_wfi_hooks(self._wfi_sites())
        # a TWIM register read done in C from its TASKS_STARTTX write (hotpath.c hp_twim_start / hp_twim_wake;
        # _plan_twim, settle_twim): the models that may offer one, the offer C works from (keeps its bytes alive), and
        # hot.state's tw_taken, tw_woken and tw_slept at the last settle
        self._tw_models = [p for p in self.peripherals if hasattr(p, "twim_offer")] \
            if self._fast_return and self._wfi_hooks and self.bus.rf.native else []
        self._tw_one = self._tw_models[0] if len(self._tw_models) == 1 else None
        self._tw_offer: Any = None
        self._tw_seen = (0, 0, 0)
        self._tw_planned = -1  # the TWIMs' offer_changes (Nrf52Twim._offer_changed) at _plan_twim's last look
        # a register read Python started whose wfi C may wake at STOPPED (Nrf52Twim.twim_flight, hp_twim_wake with
        # tw_py): (the flight, its STOPPED cycle, the event after its events, the cycle after that one) while armed;
        # hot.state's tw_py_woken and tw_py_slept at the last settle
        self._tw_py: tuple[Any, int, Any, int] | None = None
        self._tw_py_seen = (0, 0)
        self.twim_reads_in_c = 0
        self.twim_wakes_in_c = 0  # reads Python started whose wfi C woke at STOPPED (_plan_flight, _keep_flight)
        self.twim_flights_kept = 0  # reads C took kept C's to wake after a Python entry before their wfi (_keep_flight)
        # a read chained behind a flight's drain (TwimFlight.chain, hotpath.c tw2_*): its offer, from its arming until
        # settle_twim found C moved it (each arming meanwhile clears tw2_on first), and the chained reads C took
        self._tw_chain: Any = None
        self.twim_chained_in_c = 0
        # a K-tick stretch (hotpath.c hp_ks: _plan_stretch, settle_stretch): C's side of it (not snapshotted: Python
        # settles its log at every sync, and each arming re-arms it), and what its settle works from
        self._ks: HotKs | None = None
        self._ks_plan: Any = None  # (drain offer, FIFO_SRC offer, RTC, preview bytes, sample bytes, chain values)
        self._ks_last_cc = 0  # the CC value C wrote last in the stretch settled now (SystemBlock.stretch_before)
        self.stretch_ticks_in_c = 0  # ticks a stretch logged (settle_stretch)
        self.stretches_in_c = 0  # stretches settled
        # what guard_access may keep the arming on (both fixed from here on): checked once, not per access
        self._keeps_arming = self._fast_return and not self.system.has_native_sources
        # _arm_events clears src_next at every arming while some source may have C write it, else once
        self._src_clear = True
        self.uc.hook_add(
            unicorn.UC_HOOK_MEM_UNMAPPED | unicorn.UC_HOOK_MEM_PROT, self._on_bad_access
        )
        self.semihosting = Semihosting(
            host=self,
            root=self.opts.semihosting_root,
            cmdline=self.opts.cmdline,
            heapinfo=self._heap,
            on_exit=self._on_exit,
        )
        self.start_pc, self.start_sp = self._start()
        self.polls = PollWatch(self)
        self.bus.polls = self.polls  # model reads and empty addresses feed the polling-loop watch
        self.bus.watch_polls(POLL_THRESHOLD, self.polls.on_bus_poll)  # plain registers: C counts the repeats
        self.lowpower = LowPower.find(self)  # Stop / Standby on parts with a PWR model (simcore/lowpower.py)
        for model in self.peripherals:  # the part's clock controller, if it has one, decides the clocks
            if hasattr(model, "clock_tree"):
                self.clock_tree_changed(model)
                break
        self._spin_at: int | None = None

    # --- construction ------------------------------------------------------------------
    def _map_memories(self, memmap: MemoryMap) -> tuple[Any, ...]:
        """One host buffer per memory, mapped at every window of it (its base and its aliases)."""
        buffers = []
        for mem in self.board.memories:
            size = (mem.size + PAGE - 1) & ~(PAGE - 1)
            buffers.append(host_buffer(size))
        for w in memmap.windows:
            mem = self.board.memories[w.index]
            perms = unicorn.UC_PROT_READ
            if mem.kind == "ram":
                perms |= unicorn.UC_PROT_WRITE
            if mem.executable:
                perms |= unicorn.UC_PROT_EXEC
            self.uc.mem_map_ptr(w.base, len(buffers[w.index]), perms, buffers[w.index])
        return tuple(buffers)

    def _map_outside_peripherals(self) -> None:
        """The peripheral region through the bus; peripherals outside it (nRF52 FICR/UICR): a read-only
        page with the model's ``rom_image`` (no Python per read), else a bus window of their own."""
        windows = []
        for model in self.peripherals:
            if PERIPH_BASE <= model.base < PERIPH_END:
                continue
            size = (model.SIZE + PAGE - 1) & ~(PAGE - 1)
            rom = getattr(model, "rom_image", None)
            if rom is not None:
                image = rom()
                buf = (ctypes.c_ubyte * size).from_buffer_copy(image.ljust(size, b"\xff"))
                self._rom_buffers.append(buf)
                self.uc.mem_map_ptr(model.base, size, unicorn.UC_PROT_READ, buf)
            else:
                windows.append(model)
        self.bus.map_windows(self.uc, windows)

    def _load_image(self) -> None:
        for seg in self.fw.segments:
            if seg.data:
                self.uc.mem_write(self.board.memory_map.resolve(seg.paddr), seg.data)

    def _wfi_sites(self) -> list[int]:
        """Addresses of the 16-bit WFI encodings (0xBF30, ARMv7-M A7.7.259) at halfword offsets of the executable
        segments, where they run (a match inside another instruction or in data is never executed there: its hook
        never runs)."""
        sites = []
        for seg in self.fw.segments:
            if not seg.flags & 1 or not seg.data:  # PF_X
                continue
            data = seg.data
            i = data.find(b"\x30\xbf")
            while i >= 0:
                if not (seg.vaddr + i) & 1:
                    sites.append(seg.vaddr + i)
                i = data.find(b"\x30\xbf", i + 1)
        return sites

    def _install_intr_hook(self) -> bool:
        from simcore.cycles import EXCEPTION_ENTRY, EXCEPTION_RETURN, TAIL_CHAIN

        windows = self.system.native_return_windows(MAX_WINDOWS)
        model = self.analyzer.cycle_model  # no exception cycles under the CPI-1 model
        if not self.hot.install_intr_hook(self._on_native_intr, windows, self.board.fpu,
                                          getattr(model, "exception_return", EXCEPTION_RETURN)):
            return False
        self.hot.state.entry_cycles = getattr(model, "exception_entry", EXCEPTION_ENTRY)
        self.hot.state.tc_cycles = getattr(model, "tail_chain", TAIL_CHAIN)
        self._systick = self.system.systick  # hp_tick delivers its ticks
        # ICSR's PENDSVSET from a handler C entered stays in C (hp_pendsv): the SCS page through hotpath.c
        self.hot.map_scs(lambda addr, size: self._ppb_read(self.uc, addr - PPB_BASE, size, None),
                         lambda addr, size, value: self._ppb_write(self.uc, addr - PPB_BASE, size, value, None))
        self.system.dwt.serve_in_c(self.hot.state)  # CYCCNT reads through hotpath.c (hp_dwt_mmio_read)
        self.system.serve_in_c(self.hot.state)  # CPACR, DEMCR, DWT_CTRL, CYCCNT writes, IABR reads (hp_sc_read, _write)
        return True

    def _map_sram_alias(self) -> None:
        """The SRAM bit-band alias (simcore/cortexm/bitband.py) over the RAM contiguous from 0x20000000 (the
        peripheral alias is the bus's); beyond that RAM the alias is unmapped and faults like the RAM would."""
        from simcore.cortexm import bitband

        end = bitband.SRAM_BASE
        while (mem := self.board.memory_at(end)) is not None and mem.kind == "ram" and mem.base + mem.size > end:
            end = mem.base + mem.size
        size = bitband.sram_alias_bytes(end)
        if not size:
            return

        def ram_read(addr: int, n: int) -> int:
            return int.from_bytes(self.uc.mem_read(addr, n), "little")

        def ram_write(addr: int, n: int, value: int) -> None:
            self.uc.mem_write(addr, value.to_bytes(n, "little"))

        def read(_uc: unicorn.Uc, offset: int, n: int, _user: object) -> int:
            return self.guard(lambda: bitband.access(bitband.SRAM_ALIAS + offset, n, False, 0, ram_read,
                                                     ram_write)) or 0

        def write(_uc: unicorn.Uc, offset: int, n: int, value: int, _user: object) -> None:
            self.guard(lambda: bitband.access(bitband.SRAM_ALIAS + offset, n, True, value, ram_read, ram_write))

        self.uc.mmio_map(bitband.SRAM_ALIAS, size, read, None, write, None)

    def heapinfo(self) -> HeapInfo:
        """The SYS_HEAPINFO answer (simcore/boot.py)."""
        return self._heap

    def _start(self) -> tuple[int, int]:
        """Apply the boot plan (simcore/boot.py): SP, the VTOR if the plan moved it, the SP low-water mark."""
        plan = self.boot
        if plan.vtor != self.board.memory_map.resolve(self.board.reset_vtor):
            self.system.scb.reset_vtor = plan.vtor
        self.uc.reg_write(R.UC_ARM_REG_MSP, plan.sp)
        self.uc.reg_write(R.UC_ARM_REG_SP, plan.sp)
        self.hot.state.sp_low = plan.sp
        self.initial_sp = plan.sp
        return plan.pc, plan.sp

    # --- Host interface for peripherals and semihosting --------------------------------
    def now_cycles(self) -> int:
        return self.hot.state.cycle_count

    def cycles_per_second(self) -> float:
        """The core clock now (HCLK), in Hz."""
        return self.clocks.core_hz

    @property
    def mhz(self) -> float:
        """The core clock now, in MHz (at the end of a run: the clock the firmware ran on last)."""
        return self.clocks.core_hz / 1e6

    # --- clocks and virtual time (simcore/clock.py, docs/clocks.md) --------------------------
    def now_fs(self) -> int:
        """Virtual time now, in femtoseconds (exact: integrated over the clock timeline). The timeline's last answer
        is read here: most calls ask for the cycle of the one before (Python's work between two runs of the core)."""
        cycle = self.hot.q[Q_CYCLE_COUNT]
        timeline = self._timeline
        if cycle == timeline._last_cycle:
            return timeline._last_fs
        return timeline.fs_at(cycle)

    def now_seconds(self) -> float:
        return self.clocks.timeline.seconds_at(self.hot.state.cycle_count)

    def clock_hz(self, name: str = "HCLK") -> float:
        """A named clock of the part now, in Hz (0.0 when it is off): ``"HCLK"``, ``"PCLK1"``, ``"LSE"``..."""
        return self.clocks.hz(name)

    def on_clock_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change of the part's clocks (at the cycle of the change)."""
        self.clocks.listeners.append(callback)

    def cycle_at_fs(self, at_fs: int) -> int:
        """The first core cycle at which virtual time reaches ``at_fs`` (on the clock timeline)."""
        return self.clocks.timeline.cycle_at(at_fs)

    def schedule_at_fs(self, at_fs: int, callback: Callable[[], None], tag: str = "") -> Event:
        """An event at a virtual time: it stays at that time when the core clock changes."""
        now = self.hot.q[Q_CYCLE_COUNT]
        at = self._timeline.cycle_at(at_fs)
        ev = self.events.schedule_at(at if at >= now else now, at_fs, callback, tag)
        self.arm_changes += 1
        self.queue_changes += 1
        if not self._in_events:
            self._arm()
        return ev

    def models_built(self, models: list[PeripheralModel]) -> None:
        """The board's models exist (called while the machine is built, before chips are wired to them)."""
        self._by_name = {p.name.lower(): p for p in models}

    def peripheral(self, name: str) -> PeripheralModel | None:
        """Another peripheral of the board, by its board-file name (case-insensitive: "RCC" finds "rcc")."""
        return self._by_name.get(name.lower())

    def clock_tree_changed(self, model: ClockModel) -> None:
        """The part's clock model changed its clocks: the new core clock on the timeline, events re-keyed,
        listeners told."""
        clocks = self.clocks
        sleep = self.system.sleep_cycles if hasattr(self, "system") else 0
        changed, warning = clocks.model_changed(model, self.hot.state.cycle_count, sleep, self.events)
        self.arm_changes += 1
        if warning is not None:
            warn(warning)
        if changed and not self._in_events:
            self._arm()
        clocks.notify()

    # --- resets of the part (watchdogs, Standby wake-up) -------------------------------------------
    def request_reset(self, cause: str, why: str) -> None:
        """Reset the part at the next stop: the image boots again, the counts go on (``cause``: "iwdg", "wwdg"...)."""
        self.arm_changes += 1
        if self._reset_request is None:
            self._reset_request = (cause, why)
        s = self.hot.state
        s.stop_cycle = 0
        s.py_stop = 1
        self.uc.emu_stop()

    @property
    def reset_pending(self) -> bool:
        return self._reset_request is not None

    def reset_could_happen(self) -> bool:
        """Is a watchdog counting (a reset will come unless the firmware acts)?"""
        return any(p.reset_armed() for p in self.peripherals if hasattr(p, "reset_armed"))

    def _reboot(self) -> None:
        """The system reset (RM0090 7.1.2): core, system block and peripherals to their reset state except the
        backup domain; RAM keeps its contents; the boot plan's SP and PC again. Counts and time go on."""
        assert self._reset_request is not None
        cause, why = self._reset_request
        self._reset_request = None
        pc = self.pc()
        s = self.hot.state
        self.resets.append({"cause": cause, "why": why, "cycle": s.cycle_count, "seconds": self.now_seconds(),
                            "pc": pc, "function": self.fw.describe(pc)})
        if len(self.resets) >= MAX_RESETS:
            self.request_stop(Stop(StopKind.RESET, f"the part was reset {len(self.resets)} times (the last: {why}, "
                                   f"at {self.fw.describe(pc)}): stopping the reset loop", pc=pc,
                                   details={"resets": len(self.resets)}))
            return
        for ev in self.events.heap:  # every model re-arms what survives the reset (the backup domain)
            ev.cancelled = True
        self.events = EventQueue()
        self.polls.forget()
        regs = self.system.exc.regs
        regs.write((R.UC_ARM_REG_CONTROL,), [0])
        regs.write((R.UC_ARM_REG_IPSR,), [0])  # thread mode
        zero = [getattr(R, f"UC_ARM_REG_R{i}") for i in range(13)] + [R.UC_ARM_REG_PSP, R.UC_ARM_REG_PRIMASK,
                                                                      R.UC_ARM_REG_BASEPRI, R.UC_ARM_REG_FAULTMASK]
        regs.write(tuple(zero), [0] * len(zero))
        regs.write((R.UC_ARM_REG_LR, R.UC_ARM_REG_XPSR), [0xFFFFFFFF, 0x01000000])
        slept = self.system.sleep_cycles
        self.system.reset()
        self.system.sleep_cycles = slept  # the run's count: time asleep before the reset stays asleep
        for model in self.peripherals:
            getattr(model, "system_reset", model.reset)()
            if hasattr(model, "note_reset"):
                model.note_reset(cause)
        s.pend_cond = s.pend_call = s.pend_ret = 0
        low = s.sp_low
        self._start()
        s.sp_low = min(low, s.sp_low)  # the stack high-water mark is the run's

    def clock_follows_firmware(self) -> bool:
        """The part has a clock model and no --mhz overrides it (docs/clocks.md)."""
        return self.clocks.follows_firmware

    def flash_timing(self, wait_states: int, accelerator: int, prefetch: bool) -> None:
        """The part's flash interface as the firmware set it (FLASH.ACR): the wait states and accelerator charged.

        Only when the clock follows the firmware; with ``--mhz`` or on a fixed clock the board file's
        table at that clock applies (simcore/cycles.py).
        """
        self._flash_timing = (int(wait_states), int(accelerator), bool(prefetch))
        if self.clocks.override_hz is None:
            self.hot.set_flash(*self._flash_timing)
            self.flash_ws_high = max(self.flash_ws_high, int(wait_states))

    def console_in_c(self, model: Any, want: bool) -> None:
        """A console model (CmsdkUart) may have its transmitted bytes taken by the register file in C
        (``want``: its transmitter is on). Only while nothing needs each byte as it is written: no
        pass/fail marker, no console listener (Target.expect); the echo is flushed at each newline.
        Re-checked at every run() and by the model after each of its register writes."""
        if self._c_console not in (None, model):
            return
        on = want and not (self.opts.pass_marker or self.opts.fail_marker or self.console_listeners)
        self.console_take()
        served = model.console_regs_in_c(self.bus, on, self._console_flush, self.opts.echo is not None)
        self._c_console = model if served else None

    def _console_flush(self) -> None:
        """regfile.c's RF_CONSOLE callback: the buffer is full, or a newline came while echoing."""
        self.guard(self.console_take)

    def console_take(self) -> int:
        """Put the bytes the register file took since the last look on the console; returns how many."""
        if self._c_console is None or not self.bus.rf.console_pending():  # (no call into C when nothing came)
            return 0
        data = self.bus.console_take()
        if data:
            self._c_console.console_taken(len(data))
            self._console_out(data)
        return len(data)

    def console_write(self, data: bytes, source: str) -> None:
        """Stream to the echo as it arrives; keep only the last CONSOLE_TAIL bytes in memory."""
        self.console_take()  # bytes taken in C come first
        self._console_out(data)

    def _console_out(self, data: bytes) -> None:
        self.console += data
        self.console_bytes += len(data)
        if len(self.console) > 2 * CONSOLE_TAIL:  # trimmed in steps, so the cost per byte stays constant
            del self.console[:-CONSOLE_TAIL]
        echo = self.opts.echo
        if echo is not None:
            try:
                echo.write(data.decode("utf-8", "replace"))
                echo.flush()
            except BrokenPipeError:  # `simcore run ... | head`: the reader is gone, end the run quietly
                raise OutputClosed("stdout was closed") from None
        self._check_markers()
        for listener in self.console_listeners:
            listener()

    def _check_markers(self) -> None:
        if self.stop is not None or not (self.opts.fail_marker or self.opts.pass_marker):
            return
        tail = bytes(self.console[-4096:])
        for marker, code, what in ((self.opts.fail_marker, 1, "fail"), (self.opts.pass_marker, 0, "pass")):
            if marker and marker.encode() in tail:
                kind = StopKind.FAIL_MARKER if code else StopKind.PASS_MARKER
                self.request_stop(Stop(kind, f"{what} marker {marker!r} seen on the console", exit_code=code))
                return

    def apply_plan_changed(self) -> None:
        """A model's access changed what its event's Event.apply would plan: the hot path is armed again after it."""
        self.arm_changes += 1

    def set_irq(self, irq: int, level: bool) -> None:
        self.arm_changes += 1
        self.system.set_irq(irq, level)

    def pend_irq(self, irq: int) -> None:
        self.arm_changes += 1
        self.system.pend_irq(irq)

    def pend_nmi(self) -> None:
        """A peripheral wired to NMI asserts it (the MPS2's CMSDK watchdog)."""
        from simcore.cortexm.exceptions import NMI

        self.arm_changes += 1
        self.system.pend(NMI)

    def schedule(self, at_cycle: int, callback: Callable[[], None], tag: str = "") -> Event:
        ev = self.events.schedule(at_cycle, callback, tag)
        self.arm_changes += 1
        self.queue_changes += 1
        if not self._in_events:  # run_due_events arms once after its callbacks (outside emulation)
            self._arm()
        return ev

    def cancel(self, handle: Event) -> None:
        handle.cancelled = True  # EventQueue.cancel
        self.arm_changes += 1
        self.queue_changes += 1

    def mem_read(self, addr: int, size: int) -> bytes:
        """Guest memory: from the host buffer Unicorn maps at that window (``_map_memories``: the same bytes), else
        through Unicorn. A model's DMA read of a few bytes through ``uc.mem_read`` cost 4-60 us (its first call on
        an engine, and any after emulation left the caches cold), ``ctypes.string_at`` ~0.3 us."""
        for base, end, at in self._read_windows:
            if base <= addr and addr + size <= end:
                return ctypes.string_at(at + (addr - base), size) if size > 0 else b""
        return bytes(self.uc.mem_read(addr, size))

    def mem_write(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, bytes(data))

    def ram_window(self, lo: int, hi: int) -> tuple[int, int, int] | None:
        """The guest RAM of one memory within [lo, hi): (base, size, host address of base), or None (a DMA's reach
        as C may write it directly: hotpath.c hp_twim_wake)."""
        for w in self.board.memory_map.windows:
            if w.is_ram and not w.alias and w.base < hi and lo < w.end and w.index >= 0:
                base = max(w.base, lo)
                end = min(w.end, hi, w.base + len(self.buffers[w.index]))
                if end > base:
                    return base, end - base, ctypes.addressof(self.buffers[w.index]) + (base - w.base)
        return None

    def readable(self, addr: int, size: int) -> int:
        """Bytes from ``addr`` to the end of its memory (flash or RAM) if [addr, addr+size) is in it, else 0."""
        mem = self.board.memory_at(self.board.resolve_alias(addr), max(size, 1))
        return mem.end - self.board.resolve_alias(addr) if mem is not None else 0

    def writable(self, addr: int, size: int) -> bool:
        """Is [addr, addr+size) inside one RAM (semihosting never writes flash)?"""
        mem = self.board.memory_at(self.board.resolve_alias(addr), max(size, 1))
        return mem is not None and mem.kind == "ram"

    def report(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None = None) -> None:
        """A place simcore does not implement, or a firmware mistake (simcore/reports.py); --strict stops."""
        new = self.reports.note(channel, where, detail, access)
        if new is None:
            return
        if channel is ReportChannel.UNIMPLEMENTED:
            self.unmodelled[where] = detail
        if self.opts.strict:
            kind = StopKind.UNMODELLED if channel is ReportChannel.UNIMPLEMENTED else StopKind.GUEST_ERROR
            self.request_stop(Stop(kind, f"strict mode: {where}: {detail}", pc=new.pc,
                                   details={"report": {"channel": str(channel), **new.to_dict()}}))

    def report_unmodelled(self, where: str, detail: str) -> None:
        self.report(ReportChannel.UNIMPLEMENTED, where, detail)

    def _locate(self) -> tuple[int | None, str, int]:
        """Where the access being reported was made (inside an MMIO callback: the exact instruction)."""
        pc = self.pc()
        if self._mmio is not None:
            pc = instruction_of_access(self.uc, pc, *self._mmio)
        return pc, self.fw.describe(pc), self.now_cycles()

    def request_stop(self, stop: Stop) -> None:
        """End the run at the next block boundary (or now, from an instruction hook)."""
        if self.stop is None:
            self.stop = stop
        self.arm_changes += 1
        self.hot.state.stop_cycle = 0
        self.hot.state.py_stop = 1
        self.uc.emu_stop()

    def request_pause(self, stop: Any) -> None:
        """Pause (not end) the run at the next block boundary; safe from memory hooks and other threads."""
        if self.pause_pending is None:
            self.pause_pending = stop
        self.arm_changes += 1
        self.hot.state.stop_cycle = 0

    def pc(self) -> int:
        return self._read_pc()

    def stop_from_outside(self, kind: str) -> None:
        """Called from the watchdog thread (timeout, Ctrl-C): end emulation at the next block.

        Only plain stores and ``uc.emu_stop`` (thread-safe in Unicorn): ``py_stop`` first, so
        the native hot path cannot deliver a SysTick that would move ``stop_cycle`` again; the
        run loop builds the Stop, with the place, once ``emu_start`` has returned.
        """
        self._outside = kind
        s = self.hot.state
        s.py_stop = 1
        s.stop_cycle = 0
        self.uc.emu_stop()

    def _outside_stop(self, pc: int) -> Stop:
        s = self.hot.state
        where = f"{self.fw.describe(pc)} (pc {pc:#010x})"
        busy = self.semihosting.calls
        activity = ""
        if busy:
            name, n = busy.most_common(1)[0]
            total = sum(busy.values())
            activity = f"; it made {total:,} semihosting calls ({n * 100 // total}% SYS_{name})"
        details = {"semihosting_calls": dict(busy), "console_bytes": self.console_bytes}
        if self._outside == "timeout":
            return Stop(StopKind.TIMEOUT, f"wall-clock limit of {self.opts.timeout:g} s reached after "
                        f"{s.insn_count:,} instructions ({s.cycle_count:,} cycles); the firmware was running at "
                        f"{where}{activity}", pc=pc, details=details)
        return Stop(StopKind.INTERRUPTED, f"interrupted (Ctrl-C) after {s.insn_count:,} instructions; the "
                    f"firmware was running at {where}", pc=pc, details=details)

    @property
    def stopping(self) -> bool:
        """A stop or a hook error is pending: the next emulation slice must not start."""
        return self.stop is not None or self._hook_error is not None

    # --- hooks ---------------------------------------------------------------------------
    def guard(self, fn: Callable[[], Any]) -> Any:
        """Run hook code; a Python exception stops emulation and is re-raised after emu_start.

        With the native exception return, the system block's state is brought up to date first
        and the fast path re-armed after (hook code may change what is pending or active).
        """
        fast = self._fast_return
        if fast and self.hot.w[W_FR_DONE]:
            try:
                self.system.sync_native()
            except BaseException as exc:  # noqa: BLE001 - a settle's check (InternalError) must stop the run: raised
                self._hook_error = exc  # through the register file's ctypes callback it would be printed and lost
                self.hot.state.py_stop = 1
                self.uc.emu_stop()
                return None
        in_events, self._in_events = self._in_events, True  # schedule() leaves arming to the end
        try:
            return fn()
        except BaseException as exc:  # noqa: BLE001 - must not unwind through Unicorn's C frames
            self._hook_error = exc
            self.hot.state.py_stop = 1
            self.uc.emu_stop()
            return None
        finally:
            self._in_events = in_events
            if fast:
                self.system.arm_native()
            else:
                self.system.note_pending()
            self._arm()  # the hook may have changed the events or what C may deliver

    def guard_access(self, fn: Callable[[], Any]) -> Any:
        """:meth:`guard` for a peripheral model's register access: the hot path is re-armed after it only when
        that can change what the last arming set.

        Re-arming (SystemBlock.arm_native and _arm: the next stop, which events C may take, what C may
        do on its own) after each of a HAL driver's polls and data writes was 40% of their cost. Its
        inputs change only by the host calls a model makes (schedule, cancel, set_irq, pend_irq, a clock
        change, a stop or pause request: ``arm_changes``), by the PPB (the system block's own hooks,
        which always re-arm) or by C (``fr_done``, a stop C set itself, an MSR CONTROL it counted): the
        arming is kept when none of these happened since it was made, and the result is the same.
        Parts whose peripherals' interrupts C delivers (SystemBlock.set_native_sources) always re-arm.
        NVIC writes C served (hp_nvic_write, ``fr_done`` 2 alone) are applied and the arming kept: made with
        those interrupts still pending or disabled, it only holds C back from what Python would now allow.
        When the access only scheduled or cancelled events (``queue_changes``: an I2C transfer's byte and limit
        events), what C may do on its own (SystemBlock.arm_native: exception state, SysTick, the wfi's pending
        interrupt) is as the last arming left it: only the next stop is armed again (_arm).
        """
        return self._guard_kept(fn, self._keeps_arming)

    def guard_host(self, fn: Callable[[], Any]) -> Any:
        """:meth:`guard` for hook code that calls no peripheral model: a report of an unmodelled register, a
        semihosting call. The arming is kept as :meth:`guard_access` keeps it, also on parts whose peripherals'
        interrupts C delivers (those re-arm after a model access because the model's plan may have changed; here no
        model ran). A full guard's re-arming after each of these was ~20 us (svd_probe's ten reports, calib_core's
        68 SYS_ELAPSED calls)."""
        return self._guard_kept(fn, self._fast_return)

    def _guard_kept(self, fn: Callable[[], Any], may_keep: bool) -> Any:
        """What :meth:`guard_access` and :meth:`guard_host` do; ``may_keep``: the arming may be kept at all."""
        hot = self.hot
        s, q, w = hot.state, hot.q, hot.w
        done = w[W_FR_DONE]
        if done and not done & ~6:  # only NVIC writes (hp_nvic_write) or event clears (hp_ack) C served
            self.system.sync_native()  # since the last sync: apply them, keep the arming
            done = w[W_FR_DONE]
        if not may_keep or done or self._armed != (q[Q_STOP_CYCLE], q[Q_OTHER_CYCLE], w[W_CONTROL_BLOCKS]):
            return self.guard(fn)
        changes, queue = self.arm_changes, self.queue_changes
        in_events, self._in_events = self._in_events, True  # schedule() leaves arming to the end
        keep = False
        events_only = False
        try:
            value = fn()
            keep = self.arm_changes == changes and self._outside is None
            events_only = (not keep and self.arm_changes - changes == self.queue_changes - queue
                           and self._outside is None)  # (only looked at when the arming is not kept)
            return value
        except BaseException as exc:  # noqa: BLE001 - must not unwind through Unicorn's C frames
            self._hook_error = exc
            s.py_stop = 1
            self.uc.emu_stop()
            return None
        finally:
            self._in_events = in_events
            if not keep:
                if not events_only:
                    self.system.arm_native()
                self._arm()
            else:
                if self.system.clear_models:  # the arming kept: a model's event-clear slots may have changed (an
                    self.system.give_clears()  # INTEN write that moved no line)
                if self._ux is not None:  # ... and the UARTE model's own part of it
                    self._ux_refresh()

    def _function_start(self, addr: int) -> int | None:
        sym = self.fw.function_at(addr)
        return sym.addr if sym is not None else None

    def _read_code(self, addr: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(addr, size))

    def _on_miss_error(self, addr: int, size: int, exc: BaseException) -> None:
        self._hook_error = exc

    def _ppb_read(self, uc: unicorn.Uc, offset: int, size: int, _user: object) -> int:
        if self.bus.serves_ppb(PPB_BASE + offset):  # a vendor block of the part's SVD (DBGMCU)
            return self.bus.rf.read(PPB_BASE + offset, size)
        addr = PPB_BASE + offset
        self._mmio = (addr, False)
        if _keeps_arming_ppb(addr):
            value = self.guard_host(lambda: self._ppb_read_at(addr, size)) or 0
        else:
            value = self.guard(lambda: self._ppb_read_at(addr, size)) or 0
        self._mmio = None
        return value

    def _ppb_read_from(self, base: int) -> Callable[..., int]:
        if base == PPB_BASE:
            return self._ppb_read
        return lambda uc, offset, size, user: self._ppb_read(uc, base - PPB_BASE + offset, size, user)

    def _ppb_write_from(self, base: int) -> Callable[..., None]:
        if base == PPB_BASE:
            return self._ppb_write
        return lambda uc, offset, size, value, user: self._ppb_write(uc, base - PPB_BASE + offset, size, value, user)

    def _ppb_read_at(self, addr: int, size: int) -> int:
        value = self.system.read(addr, size)
        self.polls.on_read(self.system.block_at(addr), addr, addr, value)
        return value

    def _ppb_write(self, uc: unicorn.Uc, offset: int, size: int, value: int, _user: object) -> None:
        if self.bus.serves_ppb(PPB_BASE + offset):
            self.bus.rf.write(PPB_BASE + offset, size, value)
            return
        self.polls.on_write()
        self._mmio = (PPB_BASE + offset, True)
        if PPB_BASE + offset < ITM_BASE + 0x80 or _keeps_arming_ppb(PPB_BASE + offset):  # ITM STIM0-31 (ARMv7-M
            # C1.7.3): listeners and the console only, no model: the arming is kept unless they stop or pause the run
            # (guard_host; imu_gestures' op marks); the same for the registers _keeps_arming_ppb names
            self.guard_host(lambda: self.system.write(PPB_BASE + offset, size, value))
        else:
            self.guard(lambda: self.system.write(PPB_BASE + offset, size, value))
        self._mmio = None

    def _on_intr(self, uc: unicorn.Uc, intno: int, _user: object) -> None:
        self._intr(intno)

    def _on_native_intr(self, intno: int) -> None:
        """hp_intr_hook's fallback (a ctypes callback): everything the C side does not handle."""
        self._intr(intno)

    def _intr(self, intno: int) -> None:
        """A bkpt or an exception Unicorn raised: a semihosting call (``bkpt 0xab``) calls no model (guard_host), the
        rest may change what is pending or active (guard)."""
        if intno == Excp.BKPT and self.guard_host(self._semihosting_call) is not False:
            return  # done, or it raised (the hook error stops the run)
        self.guard(lambda: self._handle_intr(intno))

    def _semihosting_call(self) -> bool:
        """At a bkpt (PC is at it): if it is ``bkpt 0xab``, the semihosting call (r0 operation, r1 argument; the result
        to r0, on past the bkpt) and True; False for any other bkpt (nothing done)."""
        pc = self.pc()
        if self.mem_read(pc, 2)[0] != 0xAB:
            return False
        regs = self._core_regs  # (4 calls through the bindings were ~12 us of a ~30 us SYS_ELAPSED)
        op, arg = regs.read(_R0_R1)
        result = self.semihosting.call(op, arg)
        regs.write(_R0, (result,))
        regs.write_pc((pc + 2) | 1)  # uc_reg_write: Unicorn resumes at the new PC
        return True

    def _handle_intr(self, intno: int) -> None:
        pc = self.pc()
        if intno == Excp.BKPT:  # PC is at the bkpt instruction (not 0xab: _intr made the semihosting calls)
            imm = self.uc.mem_read(pc, 2)[0]
            self.request_stop(Stop(StopKind.BREAKPOINT, f"bkpt {imm:#x} at {self.fw.describe(pc)} with no debugger",
                                   pc=pc))
            return
        self.system.on_exception(intno, pc)

    def _on_bad_access(self, uc: unicorn.Uc, access: int, address: int, size: int, value: int,
                       _user: object) -> bool:
        if access in (unicorn.UC_MEM_READ_UNMAPPED, unicorn.UC_MEM_WRITE_UNMAPPED):
            if self.guard(lambda: self.bus.map_on_demand(uc, address)):
                return True  # an SVD peripheral outside the peripheral region (FSMC): mapped, retried
        if access == unicorn.UC_MEM_WRITE_PROT and self.protected_write is not None:
            writer = self.protected_write
            self._mmio = (address, True)
            try:
                if self.guard(lambda: writer(address, size, value & ((1 << (8 * size)) - 1))):
                    return True  # the store was performed by the model (Unicorn skips it)
            finally:
                self._mmio = None
        self._last_fault_access = (_ACCESS[access], address, size)
        return False

    def _on_exit(self, req: ExitRequest) -> None:
        how = req.how if req.value == req.code else f"{req.how}; exit status {req.code}, as 0-255 cannot hold it"
        self.request_stop(Stop(StopKind.EXIT, f"firmware exited with code {req.value} ({how})", exit_code=req.code,
                               pc=self.pc(), details={"exit_value": req.value}))

    # --- events and the run loop ----------------------------------------------------------
    def _arm(self) -> None:
        """Tell the hot path when to stop next, and which of the next events it may take over itself
        (and note what it left: guard_access keeps it while nothing changes). The event-clear slots models changed
        are given to C here too (SystemBlock.give_clears): every resume of C follows an arming or a kept one."""
        if not self._hot_live:
            self._armed = None  # a model scheduled while the peripherals are built (a pin recording): run() arms
            return
        if self.system.clear_models:
            self.system.give_clears()
        self._arm_events()
        hot = self.hot
        q = hot.q
        self._armed = (q[Q_STOP_CYCLE], q[Q_OTHER_CYCLE], hot.w[W_CONTROL_BLOCKS])

    def _arm_events(self) -> None:
        """What :meth:`_arm` does.

        The events the system block allows (SysTick's, a peripheral's interrupt assertion; see
        SystemBlock.native_events) that come before any other event are C's: it delivers them at
        their cycle without stopping (hp_tick / hp_source); ``other_cycle`` is the first event that
        is not, where it must stop. Called by :meth:`_arm` only, once the hot path is there.
        """
        hot = self.hot
        s, q, w = hot.state, hot.q, hot.w
        q[Q_OTHER_CYCLE] = 0  # no native delivery unless the next events are C's
        q[Q_WK_CYCLE] = NEVER  # no wfi woken in C unless the next event says how (_plan_wake)
        w[W_MV_ADDR] = 0  # no compare moved in C unless that wake's event says how (_plan_move)
        if self._ks is not None:  # no stretch unless this arming plans one (_plan_stretch)
            self._ks.on = 0
        q[Q_AP_CYCLE] = NEVER  # no event applied in C unless the next one says how (_plan_apply)
        w[W_AC_N] = 0  # ... nor the model's next ones after it (its chain)
        w[W_SH_ON] = self._sh_in_c and self.debugger is None  # (a debugger sees every semihosting call in Python)
        if self._tw_chain is not None:  # no read chained in C unless this arming allows it (_plan_chain_ahead)
            s.tw2_on = 0
        ux = self._ux
        if ux is not None:  # no STARTTX served in C unless this arming allows it (_arm_uarte)
            ux.on = ux.planned = 0
            self._ux_gate = False
        if not self._ch_clean:
            self._chain_off()  # no DMA half delivered in C unless the next event says how (_plan_chain)
        q[Q_TICK_CYCLE] = NEVER
        if self._src_clear:  # (one slice store: a loop of ctypes item stores at every arming before)
            s.src_next[:] = _NO_SOURCE_NEXT
            self._src_clear = self.system.has_native_sources  # (with no source C never writes them: once is enough)
        top = self.events.top()
        if (self.stop is not None or self._hook_error is not None or self._outside is not None
                or self.pause_pending is not None):
            q[Q_STOP_CYCLE] = 0
            return
        if top is None:
            q[Q_STOP_CYCLE] = NO_LIMIT
            if self._tw_models and self._fast_return:  # (the Rev2's drain: no event is due while INT1 is high)
                self._plan_twim(None)
            if ux is not None and not w[W_CH_N]:
                self._arm_uarte(ux)
            return
        q[Q_STOP_CYCLE] = top.at_cycle
        if not self._fast_return:
            return
        if self._tw_models:
            self._plan_twim(top)
        fl = self._tw_py
        if fl is not None:  # C wakes the transfer's wfi at STOPPED: the event after its events may be woken in C next
            if fl[0].falls is not None:  # (or the chip's wake-up its read plans, before that event)
                self._plan_wake_ahead(fl)
            elif fl[2] is not None and fl[2].wake is not None:
                self._plan_wake(fl[2], fl[3])
                if self.STRETCH and w[W_MV_ADDR] and q[Q_WK_CYCLE] == fl[2].at_cycle:
                    self._plan_stretch(fl)
            if fl[0].chain is not None and q[Q_WK_CYCLE] == NEVER:  # (the read after its drain: its wake-up, later)
                self._plan_chain_ahead(fl)
        elif top.wake is not None and self._wfi_hooks and self.debugger is None:  # a debugger's hooks see Python's wfi
            self._plan_wake(top)
        elif top.chain is not None and self._wfi_hooks and self.debugger is None:
            self._plan_chain(top)
        natives = self.system.native_events() if w[W_TICK_OK] or self.system.has_native_sources else _NO_NATIVES
        if id(top) not in natives:
            if top.apply is not None and q[Q_WK_CYCLE] == NEVER and not w[W_CH_N] and self.debugger is None:
                self._plan_apply(top)
            if ux is not None and not w[W_CH_N] and (q[Q_WK_CYCLE] == NEVER or fl is not None):
                if q[Q_AP_CYCLE] == NEVER:  # (a wake planned after a TWIM flight: C serves STARTTX only once it came)
                    self._arm_uarte(ux)
                elif top is self._ux_model._tx_event:  # from the end C applies of the transfer under way on
                    self._arm_uarte(ux, after_end=True)
            return
        slot = natives[id(top)]
        if len(natives) == 1:  # the common case: no need to order the queue
            if slot < 0:
                q[Q_TICK_CYCLE] = top.at_cycle
            else:
                s.src_next[slot] = top.at_cycle
            q[Q_OTHER_CYCLE] = self.events.after_top_cycle(NO_LIMIT)
            return
        for ev in self.events.earliest(len(natives) + 1):
            slot = natives.get(id(ev))
            if slot is None:
                q[Q_OTHER_CYCLE] = ev.at_cycle
                return
            if slot < 0:
                q[Q_TICK_CYCLE] = ev.at_cycle
            else:
                s.src_next[slot] = ev.at_cycle
        q[Q_OTHER_CYCLE] = NO_LIMIT

    ELAPSED_IN_C = True  # False: every semihosting call through Python (tests compare both)

    def _setup_uarte(self) -> None:
        """hp_uarte_start: the first UARTE model that allows it (``TX_START_IN_C``) may have its TASKS_STARTTX served
        in C, on the native hot path and register file, when EasyDMA's Data RAM is one host buffer and the console has
        no live echo or pass/fail markers (its bytes reach the console at Python's next sync, not at the write)."""
        if not self._fast_return or not self.bus.rf.native or self.opts.echo is not None or self.opts.pass_marker \
                or self.opts.fail_marker:
            return
        model = next((p for p in self.peripherals if getattr(p, "TX_START_IN_C", False)), None)
        if model is None:
            return
        lo, hi = model.DMA_RAM
        for base, end, at in self._read_windows:
            if base <= lo < end:
                ux = HotUarteTx()
                ux.ram_lo, ux.ram_hi, ux.ram_host = lo, min(hi, end), at + (lo - base)
                self._ux, self._ux_model = ux, model
                self.hot.state.ux = ctypes.addressof(ux)
                return

    def _arm_uarte(self, ux: HotUarteTx, after_end: bool = False) -> None:
        """hp_uarte_start may serve the next TASKS_STARTTX (``ux.on``): this arming is one Machine._plan_apply could
        plan the transfer's end in (nothing pending, no debugger, no planned event or chain, no wake but one after a
        TWIM flight's STOPPED, which C allows only with the end before it; C's own deliveries off: the caller checked
        those it set), no console listener wants the bytes at once, and the model's
        STARTTX would do only what C does (Nrf52Uarte.tx_start_plan). ``after_end``: the planned event is the end
        of the UARTE's transfer under way; from its application in C on (hp_apply: ``on`` 2 becomes 1) the next
        STARTTX may be served, as Python's arming after that end would allow. With exceptions pending (``on`` 3) C
        serves it only once its own view has none left (hp_none_pending: C took, tail-chained or cleared them), as
        this arming made after those would allow (ARMv7-M B1.5.6: nothing the run loop's take_pending could take)."""
        free = self.debugger is None and not self.console_listeners
        pending = bool(self.system.exc.pending)
        if free:
            self._ux_gate = True
            self._ux_after = after_end
        plan = self._ux_plan = self._ux_model.tx_start_plan(after_end)
        if plan is None or not self._ux_ack(plan) or not free or (pending and after_end):
            return
        seg = self.clocks.timeline.current
        if not seg.hz or seg.rate_num >= 1 << 62 or seg.rate_den >= 1 << 32 or seg.fs >= 1 << 63:
            return
        if ux.plan_id != plan.serial:
            start, end = plan.start_ops, plan.end_ops
            if len(start) > UX_OPS or len(end) > min(UX_OPS, AP_OPS):
                return
            ux.task_addr, ux.ptr_store, ux.max_store, ux.frame_fs = plan.task_addr, plan.ptr_store, plan.max_store, \
                plan.frame_fs
            for i, (kind, index, value) in enumerate(start):
                ux.start_kind[i], ux.start_index[i], ux.start_value[i] = kind, index, value
            for i, (kind, index, value) in enumerate(end):
                ux.end_kind[i], ux.end_index[i], ux.end_value[i] = kind, index, value
            ux.n_start, ux.n_end = len(start), len(end)
            ux.plan_id = plan.serial
        ux.seg_cycle, ux.seg_fs, ux.rate_num, ux.rate_den = seg.cycle, seg.fs, seg.rate_num, seg.rate_den
        self.hot.state.ev_bus = self.bus.rf.bus
        ux.on = 2 if after_end else 3 if pending else 1

    def _ux_ack(self, plan: Any) -> bool:
        """The STARTTX entry offers its writes to hp_ack (PeripheralBus.native_ack), from the model's first plan on."""
        if not self._ux_acked:
            self._ux_acked = self.bus.native_ack(self.hot.state, self.hot.lib, plan.task_addr)
        return self._ux_acked

    def _ux_refresh(self) -> None:
        """After an access that kept the arming (:meth:`_guard_kept`): the UARTE model's plan as of now (a write of
        TXD.MAXCNT through Python, an INTEN change...), the machine's part of the arming being as it was."""
        ux = self._ux
        after = self._ux_after
        if not self._ux_acked:  # (as in a run with a debugger, which arms no STARTTX: the same register-file flags)
            plan = self._ux_model.tx_start_plan()  # type: ignore[union-attr]
            if plan is not None:
                self._ux_ack(plan)
        if not self._ux_gate or self._ux_model.tx_start_plan(after) is self._ux_plan:  # type: ignore[union-attr]
            return  # (the plan the last arming tried: the same outcome)
        ux.on = 0  # type: ignore[union-attr]
        self._arm_uarte(ux, after)  # type: ignore[arg-type]

    def _settle_as_of(self, at: int | None, settle: Callable[[], None]) -> None:
        """Run ``settle`` (a model's part of what C did since Python's last sync) as of cycle ``at`` (None: the
        cycle ``settle`` sets itself), inside events (schedule() leaves arming to the caller); the cycle counter
        and the events flag restored after, whatever ``settle`` raises."""
        q = self.hot.q
        now = q[Q_CYCLE_COUNT]
        if at is not None:
            q[Q_CYCLE_COUNT] = at
        in_events, self._in_events = self._in_events, True
        try:
            settle()
        finally:
            q[Q_CYCLE_COUNT] = now
            self._in_events = in_events

    def settle_uarte(self, upto: int | None = None) -> None:
        """hp_uarte_start served TASKS_STARTTX (SystemBlock.sync_native, after settle_apply): the model's part of each
        transfer C started since the last sync, in order, as of its cycle (Nrf52Uarte.tx_started_in_c: the console
        bytes, the transfer's bookkeeping, its end event unless C applied that too: then tx_ended_in_c as of that
        cycle). The polling watch counts each STARTTX from C's records (PollWatch.writes_now). ``upto``: only the
        transfers before it (those a stretch's ticks logged after are settled in them: settle_stretch)."""
        ux = self._ux
        if ux is None or not ux.n:
            return
        if upto is not None:
            self._settle_ux(0, upto)
            return
        n = ux.n
        recs = [(ux.start_cycle[i], ux.count[i], ux.end_cycle[i]) for i in range(n)]
        data = ctypes.string_at(ctypes.addressof(ux) + HotUarteTx.buf.offset, ux.len)
        ux.n = ux.len = 0
        self._ux_transfers(recs, data)
        self.uarte_starts_in_c += n

    def _ux_transfers(self, recs: list[tuple[int, int, int]], data: bytes) -> None:
        """settle_uarte's transfers (start cycle, bytes, end cycle or NEVER), their bytes one after the other."""
        s = self.hot.state
        model = self._ux_model

        def transfers() -> None:
            pos = 0
            for start, count, end in recs:
                s.cycle_count = start
                model.tx_started_in_c(data[pos:pos + count], end != NEVER)
                pos += count
                if end != NEVER:
                    s.cycle_count = end
                    model.tx_ended_in_c()

        self._settle_as_of(None, transfers)
        self.arm_changes += 1

    def _settle_ux(self, lo: int, hi: int) -> None:
        """settle_uarte for the transfers ``lo`` .. ``hi`` - 1 of C's log, which keeps them (a stretch's settle empties
        it at its end, settle_stretch: the polling watch counts them from the log till then)."""
        ux = self._ux
        if ux is None or hi <= lo:
            return
        counts = list(ux.count[:hi])
        pos = sum(counts[:lo])
        recs = [(ux.start_cycle[i], ux.count[i], ux.end_cycle[i]) for i in range(lo, hi)]
        data = ctypes.string_at(ctypes.addressof(ux) + HotUarteTx.buf.offset + pos, sum(counts[lo:]))
        self._ux_transfers(recs, data)

    STRETCH = True  # K-tick stretches (hotpath.c hp_ks); False: a Python entry a tick, as before (tests compare both)

    def _plan_stretch(self, fl: tuple[Any, int, Any, int]) -> None:
        """hp_ks: after the FIFO_SRC read Python served (its flight ``fl`` armed, the drain after it offered, the next
        compare's wake and move planned), C may run the following ticks itself -- FIFO_SRC read, drain, the compare's
        wake, the CC write -- while the chip's preview (Lsm9ds1.fifo_preview) and the RTC's compare chain
        (Nrf52Rtc.compare_chain) tell their answers and nothing else is due: each tick's Python entry (~12,000 bytecodes
        of settles and arming before) is then one settle per stretch, the ticks replayed in order (settle_stretch)."""
        if self.debugger is not None:
            return
        flight, stopped, nxt, after = fl
        offer = self._tw_offer
        hot = self.hot
        s, w = hot.state, hot.w
        rtc = getattr(nxt.move, "__self__", None) if nxt.move is not None else None
        if (offer is None or flight.then is not offer or not w[W_TW_ON] or rtc is None
                or not hasattr(rtc, "compare_chain") or rtc._event is None or rtc._event[3] is not nxt
                or offer.slot >= EV_SLOTS or w[W_WK_EV] >= EV_SLOTS or s.ev_w1c[offer.slot] or s.ev_w1c[w[W_WK_EV]]):
            return
        (_i, address), tx_check, shorts_check = offer.checks
        chip = offer.model.bus.targets.get(address & 0x7F)
        if chip is None or not hasattr(chip, "fifo_preview") or offer.unit != 6 or offer.reg == chip.FIFO_SRC_REG:
            return
        chain = rtc.compare_chain(KS_TICKS + 1)
        if chain is None or len(chain[1]) < 2:
            return
        clock = chip.fifo.clock  # (the arrivals up to the chain's last compare: no more are read)
        if not isinstance(clock, RateClock):
            return
        m = clock.count_by(chain[2][-1]) - chip.fifo.next_k + 1
        preview = chip.fifo_preview(min(m, KS_ARRIVALS), times=False)
        if preview is None or preview.depth >= KS_LEVELS:
            return
        timeline = self.clocks.timeline
        cycles = timeline.cycles_at(chain[2])
        terms = (timeline._c0, timeline._f0, timeline._num, timeline._dfs, clock._num, clock._den_fs)
        if cycles is None or not all(isinstance(x, int) and 0 < x < 1 << 64 for x in terms[2:]) or not (
                isinstance(terms[0], int) and isinstance(terms[1], int) and 0 <= terms[0] < 1 << 63
                and 0 <= terms[1] < 1 << 63):
            return  # (C counts the arrivals in 64-bit terms, 128-bit products: hp_ks_arrived)
        ks = self._ks
        if ks is None:
            ks = self._ks = HotKs()
            s.ks = ctypes.addressof(ks)
        values = chain[1]
        n = ks.cc_n = len(values)
        ks.cc_value[:n] = values
        ks.cc_cycle[:n] = cycles
        ks.tl_c0, ks.tl_f0, ks.tl_num, ks.tl_dfs, ks.rate_num, ks.rate_den_fs = terms
        ks.first = preview.first
        ks.arr_n = len(preview.data) // 6 - (preview.first - preview.head)
        ks.held = preview.first - preview.head
        ks.depth = preview.depth
        ks.src[:len(preview.src)] = preview.src
        data = preview.data
        ks.data = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
        ks.data_len = len(data)
        ks.task, ks.reg_src, ks.reg_drain, ks.unit = offer.task, chip.FIFO_SRC_REG, offer.reg, offer.unit
        for k, (index, value) in enumerate(offer.checks):
            ks.chk_store[k], ks.chk_value[k] = index, value
        ks.chk_n = len(offer.checks)
        ks.txptr, ks.rxptr, ks.rxcnt = offer.ptrs
        ks.ev_store[:] = offer.events
        ks.tw_irq, ks.tw_ev = offer.irq, offer.slot
        ks.ram_base, ks.ram_size, ks.ram = offer.ram
        ks.bit_fs, ks.fpc = offer.bit_fs, s.tw_fpc
        ks.cc_addr, ks.cc_store = w[W_MV_ADDR], w[W_MV_STORE]
        ks.cmp_store, ks.rtc_irq, ks.rtc_ev, ks.rtc_sole = w[W_WK_STORE], w[W_WK_IRQ], w[W_WK_EV], w[W_WK_SOLE]
        ks.after, ks.free = after, stopped
        ks.cc_i = ks.phase = ks.n = ks.popped = 0
        ks.pre_ux = ks.pre_clr_tw = ks.pre_clr_rtc = ks.pre_unp = 0
        src_offer = offer._replace(reg=chip.FIFO_SRC_REG, miso=b"", miso_addr=0, unit=1)
        self._ks_plan = (offer, src_offer, rtc, data, values)
        ks.on = 1

    def settle_stretch(self) -> None:
        """hp_ks ran ticks since the last sync (SystemBlock.sync_native, after what C did before them): each tick as the
        sync at its next FIFO_SRC read did it, in order and each as of its cycle -- the FIFO_SRC read and the drain as
        reads C took (Nrf52Twim.settle_in_c: the chip's real reads checked equal to C's bytes), the console transfers
        of the tick (settle_uarte's), the compare's event (settle_wake's), the tick's event clears and ICPRs
        (SystemBlock.stretch_clears), the CC write (settle_move's, the RTC's move plan checked against the chain)."""
        ks = self._ks
        plan = self._ks_plan
        assert ks is not None and plan is not None
        offer, src_offer, rtc, data, values = plan
        done_ux = ks.pre_ux
        n = ks.n
        rf = self.bus.rf
        last_cc = self._ks_last_cc  # (read before the sync's settles: the one before the stretch writes its own)
        twim = offer.model
        token = twim.stretch_reads(offer)  # (the set-up put in once for the stretch's reads, not per read)
        try:
            self._replay_ticks(ks, n, twim, token, offer, src_offer.reg, rtc, data, values, done_ux)
        finally:
            twim.stretch_restore(token)
        if rf.value(ks.cc_store) != last_cc:  # (the ticks' writes replayed: the last is C's)
            raise InternalError(f"{rtc.name}: CC holds {rf.value(ks.cc_store)} after the stretch's settle, C wrote "
                                f"{last_cc}")
        self.stretch_ticks_in_c += n
        self.stretches_in_c += 1
        ks.n = ks.on = ks.phase = 0
        ks.pre_ux = 0

    def _replay_ticks(self, ks: HotKs, n: int, twim: Any, token: Any, offer: Any, src_reg: int, rtc: Any,
                      data: bytes, values: tuple[int, ...], done_ux: int) -> None:
        """settle_stretch's ticks, in order (its docstring)."""
        system = self.system
        polls = self.polls
        ux = self._ux
        unit = ks.unit
        tw_ev, rtc_ev, tw_irq, rtc_irq = ks.tw_ev, ks.rtc_ev, ks.tw_irq, ks.rtc_irq
        rf = self.bus.rf
        ptrs = list(offer.ptrs)
        drain_reg = offer.reg
        read = twim.stretch_read
        for t in range(n):
            reached = ks.reached[t]
            stopped = None
            if reached & 2:
                stopped = ks.t1_stopped[t]
                system.account_sleep(ks.t1_slept[t])
            taken = (ks.t1_tx[t], ks.t1_rx[t], ks.t1_cnt[t])
            self._settle_as_of(None, lambda k=taken, a=ks.t1_at[t], m=bytes((ks.t1_ans[t],)), st=stopped:
                               read(token, ptrs, src_reg, a, k, m, st))
            self.arm_changes += 1
            self.twim_reads_in_c += 1
            if reached & 4:
                stopped = None
                if reached & 8:
                    stopped = ks.t2_stopped[t]
                    system.account_sleep(ks.t2_slept[t])
                cnt = ks.t2_cnt[t]
                off = ks.t2_off[t] * unit
                taken = (ks.t2_tx[t], ks.t2_rx[t], cnt)
                self._settle_as_of(None, lambda k=taken, a=ks.t2_at[t], m=data[off:off + (cnt & 0xFFFF)], st=stopped:
                                   read(token, ptrs, drain_reg, a, k, m, st))
                self.arm_changes += 1
                self.twim_reads_in_c += 1
            upto = ks.ux_n[t] if reached & 16 else (ux.n if ux is not None else 0)
            if upto > done_ux:
                self._settle_ux(done_ux, upto)
                done_ux = upto
            move = None
            if reached & 16:
                at = ks.wk_at[t]
                ev = rtc._event[3] if rtc._event is not None else None
                if ev is None or ev.at_cycle != at:
                    raise InternalError(f"{rtc.name}: C woke the tick at cycle {at}, the model's compare is at "
                                        f"{None if ev is None else ev.at_cycle}")
                moves: list[Any] = []

                def woken(ev: Event = ev, moved: bool = bool(reached & 32), moves: list[Any] = moves,
                          value: int = values[t + 1]) -> None:
                    if moved:  # (the RTC's move plan as of the wake, before its event runs: Machine._plan_move's;
                        moves.append(ev.move() if ev.move is not None else None)  # the register file holds the
                        rf.set_value(ks.cc_store, value)  # write's value, as at the sync after that write)
                    ev.callback()

                system.account_sleep(ks.wk_slept[t])
                ev.cancelled = True
                self._settle_as_of(at, woken)
                self.wakes_in_c += 1
                if moves:
                    move = moves[0]
                    if (move is None or move[1] != values[t + 1]
                            or self.clocks.timeline.cycle_at(move[3]) != ks.cc_cycle[t + 1]):
                        raise InternalError(f"{rtc.name}: the CC write C served at cycle {ks.mv_at[t]} is not the "
                                            f"model's move ({move[1:4] if move is not None else None})")
            slots = ([tw_ev] if ks.clr_tw[t] else []) + ([rtc_ev] if ks.clr_rtc[t] else [])
            unp = ks.unp[t]
            irqs = ([tw_irq] if unp & 1 else []) + ([rtc_irq] if unp & 2 else [])
            if slots or irqs:
                system.stretch_clears(slots, irqs)
            if move is not None:
                settle = move[4]

                def write(settle: Callable[[], None] = settle) -> None:
                    if polls is not None:
                        polls.on_write_in_c()  # (bus._py's model_write; the watch counts it from ks.writes)
                    settle()

                self._settle_as_of(ks.mv_at[t], write)
                self.arm_changes += 1
                self.moves_in_c += 1
        if ux is not None and ux.n:
            self._settle_ux(done_ux, ux.n)
            self.uarte_starts_in_c += ux.n
            ux.n = ux.len = 0

    def _plan_wake(self, top: Event, after: int | None = None) -> None:
        """hp_wfi_hook: a wfi before ``top`` may be woken in C at its cycle when running it does only what its
        ``wake`` says, nothing else is due at or before the next event (or the model's own next), and its line
        would wake the core (SystemBlock.wake_allowed). ``after``: the next event's cycle when ``top`` is not the
        queue's first (_plan_twim: after a TWIM transfer C wakes)."""
        if after is None:
            after = self.events.after_top_cycle(NO_LIMIT)
        if after <= top.at_cycle:
            return
        plan = top.wake() if top.wake is not None else None
        if plan is None or not self.system.wake_allowed(plan[1]):
            return
        store, irq, slot, sole, quiet_fs = plan[:5]
        if self._quiet[0] is not top or self._quiet[1] != quiet_fs:  # (the timeline's cycle of it, once per event)
            self._quiet = (top, quiet_fs, self.clocks.timeline.cycle_at(quiet_fs))
        quiet = self._quiet[2]
        if quiet <= top.at_cycle:
            return
        hot = self.hot
        q, w = hot.q, hot.w
        w[W_WK_STORE], w[W_WK_IRQ], w[W_WK_EV], w[W_WK_SOLE] = store, irq, slot, sole
        if len(plan) > 5 and plan[5] is not None:  # another register-file value the event sets (a GPIO's IN): C
            s = hot.state
            s.wk_x_store, s.wk_x_value = plan[5]  # writes it with this wake only (its cycle and event register)
            s.wk_x_cycle, s.wk_x_for = top.at_cycle, store
        q[Q_WK_AFTER] = min(after, quiet)
        q[Q_WK_CYCLE] = top.at_cycle
        self._wake_event = top
        self._wake_ahead = None
        if top.move is not None:
            self._plan_move(top)

    def _plan_wake_ahead(self, fl: tuple[Any, int, Any, int]) -> None:
        """hp_wfi_hook after a TWIM flight whose chip read lowers a line (TwimFlight.falls: the Rev2's INT_STATUS_1,
        INT1): the chip's wake-up that read plans (the next watermark, its event made only when Python runs the
        read) woken in C as _plan_wake would wake its event (the rise's plan: GPIOTE IN[n], IN's bit), when it comes
        after the flight's STOPPED and before the next machine event. hp_twim_wake makes it the next stop; the
        settle finds the event the read made (settle_wake) and checks it is at that cycle."""
        flight, stopped, nxt, _after_nxt = fl
        at = self._arm_wake_ahead(flight.falls, stopped, nxt)
        if at is not None:
            self.hot.state.wk_cycle = at

    def _arm_wake_ahead(self, falls: tuple[tuple[int, int], tuple[int, ...], int, Any], stopped: int,
                        nxt: Any) -> int | None:
        """The wake-up a chip's line-lowering read plans (``falls``: TwimFlight.falls, or a chain's) armed as
        hp_wfi_hook's wake (wk_*: the rise's plan, IN's store at the fall's wake), when it comes after the read's
        STOPPED (``stopped``) and before the next machine event (``nxt``): its cycle, or None (nothing armed)."""
        _store, plan, at_fs, chip = falls
        at = self.clocks.timeline.cycle_at(at_fs)
        after = nxt.at_cycle if nxt is not None else NO_LIMIT
        if not stopped < at < after or not self.system.wake_allowed(plan[1]):
            return None
        s = self.hot.state
        s.wk_store, s.wk_irq, s.wk_ev, s.wk_sole = plan[:4]
        s.wk_x_store, s.wk_x_value = plan[5]  # (fall_rise_plan's rise always has IN's store)
        s.wk_x_cycle, s.wk_x_for = at, plan[0]
        s.wk_after = after  # (the chip's part: nothing of it follows its wake-up, _c_wake's QUIET_FS)
        self._wake_event = None
        self._wake_ahead = chip
        return at

    def _plan_chain_ahead(self, fl: tuple[Any, int, Any, int]) -> None:
        """hp_twim_wake and hp_twim_start with tw2_*: the read chained behind the flight's drain (TwimFlight.chain: the
        Rev2's INT_STATUS_1 after FIFO_DATA) armed for C to take once the drain is woken having read all of it, and
        the wake-up that read plans (the next watermark) as _plan_wake_ahead plans it, made hp_wfi_hook's wake only
        by that read's wake (tw2_wk, when after its STOPPED and before the next machine event). settle_twim settles
        the drain and the read in order, then settle_wake finds the wake-up (``_wake_ahead``)."""
        flight, stopped, nxt, _after_nxt = fl
        offer, falls = flight.chain
        if self._tw_offer is not flight.then:
            return
        at = self._arm_wake_ahead(falls, stopped, nxt)
        if at is None:
            return
        s = self.hot.state
        s.tw2_wk, s.tw2_quiet = at, self.clocks.timeline.cycle_at(offer.quiet_fs)
        s.tw2_reg, s.tw2_len, s.tw2_miso = offer.reg, len(offer.miso), offer.miso_addr
        s.tw2_x_store, s.tw2_x_value = falls[0]
        s.tw2_on = 1
        self._tw_chain = offer

    def _plan_move(self, top: Event) -> None:
        """hp_cc_move: after C's wake at ``top`` (planned just now), the firmware's write moving its compare on may be
        served in C when the model says how (``top.move``: the nRF52 RTC's CC[n] += step) and its register's writes
        can be offered to C (hp_ack). The Python entry that write made (53 of 69 a run of the Nano 33 BLE Sense
        imu_steps_bus) then does not happen: the next entry settles the wake and the write (SystemBlock.sync_native),
        with one arming and one RTC reschedule fewer."""
        plan = top.move() if top.move is not None else None
        if plan is None:
            return
        s = self.hot.state
        if plan is not self._mv_planned:  # (once per plan: the model makes one per event, armed ~3 times a tick)
            addr, value, store, at_fs, _settle = plan
            if addr not in self._move_acks:
                if not self.bus.native_ack(s, self.hot.lib, addr):
                    return
                self._move_acks.add(addr)
            q, w = self.hot.q, self.hot.w
            q[Q_MV_FROM] = top.at_cycle
            q[Q_MV_CYCLE] = self.clocks.timeline.cycle_at(at_fs)  # where the model's write schedules the counter's
            w[W_MV_VALUE], w[W_MV_STORE] = value, store  # event
            s.ev_bus = self.bus.rf.bus
            self._mv_planned = plan
        self.hot.w[W_MV_ADDR] = plan[0]
        self._moved = plan[4]

    def _plan_twim(self, top: Event | None) -> None:
        """hp_twim_start: the firmware's next TASKS_STARTTX may be taken in C when a TWIM offers the read it would be
        (Nrf52Twim.twim_offer: the chip's answer previewed) and a cycle is a whole number of fs on the current clock
        (the cycles of the transfer's events, as Timeline.cycle_at gives them, are then integer ceilings in C). The
        write, the wake at STOPPED and the events then cost no Python entry until the next one (settle_twim); C
        checks the rest (the register file's set-up, the bytes, the cycles) at the write.
        A read Python started, its LASTTX event first (``top``), may have its wfi woken in C at STOPPED
        (_plan_flight), and the read after it (the drain after FIFO_SRC) offered at once. ``top`` None: no event
        is due (the Rev2 waiting on INT1): only an offer."""
        hot = self.hot
        s, w = hot.state, hot.w
        if self.debugger is not None:  # (its hooks see every access and wfi in Python)
            w[W_TW_ON] = 0
            self._flight_off()
            return
        fl = self._tw_py
        if fl is not None:  # armed before: C wakes it only while its events still come first and alone
            nxt = self.events.earliest(3)
            if (fl[0].model._pending is not fl[0].event or not w[W_TW_PY] or top is not fl[0].event
                    or (nxt[1].at_cycle if len(nxt) > 1 else NO_LIMIT) != hot.q[Q_TW_SAVED]):
                self._flight_off()  # its LASTTX ran in Python, or an event came before its STOPPED: not C's to wake
            else:
                self._tw_py = (fl[0], fl[1], nxt[1] if len(nxt) > 1 else None,
                               nxt[2].at_cycle if len(nxt) > 2 else NO_LIMIT)  # (the wake after it: _arm_events)
                if s.tw_py_miso != fl[0].miso_addr:  # (a snapshot restored: pointers are not state)
                    s.tw_py_miso = fl[0].miso_addr
        one = self._tw_one
        if one is not None:  # (one TWIM with a chip: the Nanos)
            changes = one.offer_changes
        else:
            changes = 0
            for model in self._tw_models:
                changes += model.offer_changes
        armed = self._tw_offer
        if changes == self._tw_planned and (armed is None or s.tw_miso == armed.miso_addr):
            return  # no offer changed since the last look (every arming: ~30 bytecodes then), and C's copy holds
        self._tw_planned = changes
        w[W_TW_ON] = 0
        offer = flight = None
        fl = self._tw_py
        for model in self._tw_models:  # (TWIMs with a chip on their bus: twim_offer)
            if fl is not None:  # a read of Python's armed for C to wake: the offer after it holds as long
                offer = fl[0].then
                break
            if top is not None and model._pending is top and not w[W_TW_FLIGHT]:
                flight = self._plan_flight(model, top)
                offer = flight[0].then if flight is not None else None
                break
            offer = model.twim_offer()
            if offer is not None:
                break
        if offer is None or w[W_TW_FLIGHT] and fl is None:
            return
        if offer is armed and s.tw_miso == offer.miso_addr:  # armed as it was: the fields hold it
            w[W_TW_ON] = 1
            if flight is not None:
                self._arm_flight(flight)
            return
        seg = self.clocks.timeline.current
        if not seg.hz or hot.q[Q_CYCLE_COUNT] < seg.cycle:
            return
        fs_per_cycle, rest = divmod(FS_PER_SECOND * seg.rate_den, seg.rate_num)
        if rest or not offer.bit_fs:  # (C counts the transfer's cycles as the timeline's ceiling of fs / fs a cycle)
            return
        cycle_at = self.clocks.timeline.cycle_at
        q = hot.q
        q[Q_TW_FREE] = cycle_at(offer.free_fs)
        q[Q_TW_QUIET] = cycle_at(offer.quiet_fs)
        w[W_TW_REG], w[W_TW_LEN], w[W_TW_UNIT], q[Q_TW_FPC] = offer.reg, len(offer.miso), offer.unit, fs_per_cycle
        # the model's set-up, as the last offer armed gave it unless it changed (C never writes these; C's copy
        # holds the armed offer while tw_miso is its answer's): the same TWIM's next read (68 a run on the Nano; the
        # Rev2's drain and the no-read offer after its INT_STATUS_1 flight, in turn)
        if (armed is None or offer[9:] != armed[9:] or offer.bit_fs != armed.bit_fs or offer.task != armed.task
                or s.tw_miso != armed.miso_addr):  # (9-: checks ... ram)
            s.tw_task, s.tw_bit_fs = offer.task, offer.bit_fs
            s.tw_ram_base, s.tw_ram_size, s.tw_ram = offer.ram
            s.tw_irq, s.tw_ev = offer.irq, offer.slot
            for k, (index, value) in enumerate(offer.checks):
                s.tw_chk_store[k], s.tw_chk_value[k] = index, value
            s.tw_chk_n = len(offer.checks)
            s.tw_txptr, s.tw_rxptr, s.tw_rxcnt = offer.ptrs
            s.tw_ev_store[:] = offer.events
        s.tw_miso = offer.miso_addr
        s.ev_bus = self.bus.rf.bus
        self._tw_offer = offer
        w[W_TW_ON] = 1
        if flight is not None:
            self._arm_flight(flight)

    def _plan_flight(self, model: Any, top: Event) -> tuple[Any, int, int, list[Event]] | None:
        """hp_twim_wake with tw_py: the read ``model`` started, its LASTTX event ``top`` first in the queue, woken in
        C at STOPPED when the chip tells its answer ahead (Nrf52Twim.twim_flight) and the transfer's events all come
        before the next machine event (which C may then wake too: _arm_events, _plan_wake). Saves the wfi's Python
        entry (the events run at the next one, settle_twim). The plan (_arm_flight), or None; its offer after it is
        ``flight.then`` (required: it arms the fields the wake shares)."""
        flight = model.twim_flight()
        if flight is None or flight.then is None:
            return None
        cycle_at = self.clocks.timeline.cycle_at
        stopped = cycle_at(flight.stopped_fs)
        nxt = self.events.earliest(3)
        if nxt[0] is not top or stopped < top.at_cycle:
            return None
        after = nxt[1].at_cycle if len(nxt) > 1 else NO_LIMIT
        if stopped >= after:
            return None
        return flight, stopped, after, nxt

    def _arm_flight(self, plan: tuple[Any, int, int, list[Event]]) -> None:
        """_plan_flight's plan in hp_state (after its offer is armed: that sets the TWIM's fields the wake reads)."""
        flight, stopped, after, nxt = plan
        hot = self.hot
        q, w = hot.q, hot.w
        q[Q_TW_LASTTX], q[Q_TW_STOPPED], q[Q_TW_SAVED] = nxt[0].at_cycle, stopped, after
        w[W_TW_RX], w[W_TW_N] = flight.rx, flight.cnt
        hot.state.tw_py_miso = flight.miso_addr
        w[W_TW_PY] = w[W_TW_FLIGHT] = 1
        falls = flight.falls
        if falls is not None:  # the line its read lowers, stored with the wake (hp_twim_wake)
            hot.state.tw_x_store, hot.state.tw_x_value = falls[0]
        w[W_TW_X_ON] = falls is not None
        self._tw_py = (flight, stopped, nxt[1] if len(nxt) > 1 else None, nxt[2].at_cycle if len(nxt) > 2
                       else NO_LIMIT)

    def _flight_off(self) -> None:
        """No transfer of Python's for C to wake (_plan_flight), nor the offer armed after it."""
        if self._tw_py is not None:
            s = self.hot.state
            s.tw_py = s.tw_flight = s.tw_on = s.tw2_on = 0
            self._tw_py = None
            self._tw_planned = -1

    def settle_twim(self) -> None:
        """hp_twim_start took a TASKS_STARTTX write since the last sync (SystemBlock.sync_native, first), and
        hp_twim_wake may have woken the wfi after it at STOPPED: the model's write as of its cycle and, if woken, the
        sleep and the transfer's events as of theirs (Nrf52Twim.settle_in_c); if not, the events are the run loop's.
        Before it (it came after), a read Python started whose wfi C woke at STOPPED (_plan_flight): its events as of
        theirs (Nrf52Twim.settle_flight); not woken: the run loop's."""
        hot = self.hot
        s, q, w = hot.state, hot.q, hot.w
        fl = self._tw_py
        if fl is not None:
            self._tw_py = None
            woken, slept = self._tw_py_seen
            if w[W_TW_PY_WOKEN] != woken:
                self._tw_py_seen = (w[W_TW_PY_WOKEN], q[Q_TW_PY_SLEPT])
                self.system.account_sleep(q[Q_TW_PY_SLEPT] - slept)
                self._settle_as_of(None, lambda: fl[0].model.settle_flight(fl[0], fl[1]))
                self.arm_changes += 1
                self.twim_wakes_in_c += 1
            else:
                s.tw_py = s.tw_flight = s.tw_on = 0
                self._tw_planned = -1
        if w[W_TW_TAKEN] == self._tw_seen[0]:
            return
        taken, woken, slept = self._tw_seen
        woke = w[W_TW_WOKEN] - woken
        self._tw_seen = (w[W_TW_TAKEN], w[W_TW_WOKEN], q[Q_TW_SLEPT])
        w[W_TW_FLIGHT] = 0  # (not woken: the events run in Python from here)
        offer = self._tw_offer
        if woke:
            self.system.account_sleep(q[Q_TW_SLEPT] - slept)
        chained = None
        if self._tw_chain is not None and s.tw2_state:  # hp_twim_wake armed the read chained behind the offer's:
            s.tw2_state = s.tw_on = 0  # tw_*'s offer fields are its now
            self._tw_planned = -1
            self._tw_offer = None
            if s.tw_taken - taken == 2:  # ... and C took it: the offer's transfer first (woken: armed at its wake)
                chained = self._tw_chain
                first = (s.tw1_tx, s.tw1_rx, s.tw1_n)
                at, stopped = s.tw1_at, s.tw1_stopped
                self._settle_as_of(None, lambda: offer.model.settle_in_c(offer, at, first, stopped))
                self.arm_changes += 1
                self.twim_reads_in_c += 1
                self.twim_chained_in_c += 1
                offer, woke = chained, woke - 1
            self._tw_chain = None  # (C cleared tw2_on as it moved it)
        taken = (w[W_TW_TX], w[W_TW_RX], w[W_TW_N])
        self._settle_as_of(None, lambda: offer.model.settle_in_c(offer, s.tw_at, taken, s.tw_stopped if woke else None))
        self.arm_changes += 1
        self.twim_reads_in_c += 1
        if not woke and q[Q_CYCLE_COUNT] < q[Q_TW_LASTTX] and chained is None:  # a Python entry before its wfi: C may
            self._keep_flight(offer, taken)  # still wake that wfi (not a chained read's: its fall is no flight's)

    def _keep_flight(self, offer: Any, taken: tuple[int, int, int]) -> None:
        """settle_twim: a read C took whose wfi a Python entry came before (Nano 33 BLE Sense: the polling watch's
        call at every 16th read of EVENTS_ERROR in the wait loop, every 8th tick) stays C's to wake at STOPPED as a
        read of Python's (Nrf52Twim.flight_of_c, hp_twim_wake with ``tw_py``): the fields its offer armed still hold
        the set-up and the line, C's cycles are the model's events'. _plan_twim keeps it while its events come first."""
        flight = offer.model.flight_of_c(offer, taken)
        s = self.hot.state
        if (flight is None or flight.event.at_cycle != s.tw_lasttx
                or self.clocks.timeline.cycle_at(flight.stopped_fs) != s.tw_stopped):
            return
        s.tw_py_miso = flight.miso_addr
        s.tw_py = s.tw_flight = 1
        s.tw_x_on = 0
        self._tw_py = (flight, s.tw_stopped, None, NO_LIMIT)
        self.twim_flights_kept += 1

    def _chain_off(self) -> None:
        """No chain for C (hp_chain_wake) until _plan_chain makes one; halves C did that the model has not heard of
        (none: every sync settles them first) are kept for settle_chain, and C does no more."""
        s = self.hot.state
        if s.ch_i != self._ch_settled or s.ch_clr_n:
            s.ch_n = s.ch_i
            return
        s.ch_n = s.ch_i = 0
        s.ch_ev = EV_SLOTS
        self._ch_settled = 0
        self._ch_clean = True  # (C does nothing of a chain until _plan_chain arms one: nothing to clear till then)

    def _plan_chain(self, top: Event) -> None:
        """hp_chain_wake: the wfis that wait for ``top`` and the model's next DMA halves may be woken in C, each half
        written and flagged at its cycle, when the model says how (``top.chain``), its line would wake the core
        (SystemBlock.wake_allowed) and no other event comes before the half (C stops at the first that does). Each
        half then costs no run-loop stop (on_halt, the model's event, arming: ~70 us in adc_monitor)."""
        s = self.hot.state
        if s.ch_n or not self.bus.rf.native:  # (_chain_off kept halves the model has not heard of)
            return
        plan = top.chain() if top.chain is not None else None
        if plan is None or plan.cycles[0] != top.at_cycle or not self.system.wake_allowed(plan.irq):
            return
        self._ch_clean = False  # (the next arming's _chain_off clears what this writes)
        after = self.events.after_top_cycle(NO_LIMIT)
        if plan is self._chain and after == self._ch_planned[0]:  # armed again as it was: the arrays hold it
            n = self._ch_planned[1]
            if s.ch_data == self._ch_planned[2]:  # (a snapshot's restore puts back all but the pointer)
                s.ch_ev = plan.slot
                s.ch_n = n
                return
        else:
            n = 0
            while n < len(plan.values) and n < CH_MAX and plan.cycles[n] < after:
                s.ch_cycle[n], s.ch_value[n], s.ch_dst[n] = plan.cycles[n], plan.values[n], plan.dsts[n]
                n += 1
            if not n:
                return
            s.ch_cycle[n] = plan.cycles[n]
        s.ch_after = after
        s.ch_store, s.ch_irq, s.ch_ev = plan.store, plan.irq, plan.slot
        s.ch_bytes = len(plan.data) // len(plan.values)
        s.ch_data = ctypes.cast(ctypes.c_char_p(plan.data), ctypes.c_void_p).value
        s.ev_bus = self.bus.rf.bus
        self._chain = plan
        self._ch_planned = (after, n, s.ch_data)
        s.ch_n = n

    def settle_chain(self) -> None:
        """hp_chain_wake delivered halves of the plan, or served clears of its STATUS slot, since the last sync
        (SystemBlock.sync_native, first): the sleep, and the model's bookkeeping of the halves and the clears in
        cycle order (the plan's ``settle``), with the clock at the last half for what it schedules after them."""
        s = self.hot.state
        halves = [s.ch_cycle[j] for j in range(self._ch_settled, s.ch_i)]
        clears = [(s.ch_clr_cycle[j], s.ch_clr_value[j]) for j in range(s.ch_clr_n)]
        self._ch_settled = s.ch_i
        s.ch_clr_n = 0
        if s.ch_ev < EV_SLOTS:
            s.ev_cleared[s.ch_ev] = 0  # (settled here, not by SystemBlock._sync_event_clears)
        self.system.account_sleep(s.ch_slept - self._ch_slept)
        self._ch_slept = s.ch_slept
        plan = self._chain
        if plan is None or not (halves or clears):
            return
        self._settle_as_of(halves[-1] if halves else None, lambda: plan.settle(halves, clears))
        self.arm_changes += 1
        self.chain_halves_in_c += len(halves)

    def _plan_apply(self, top: Event) -> None:
        """hp_apply: ``top`` is done in C at its cycle when what it does there is register-file changes (its
        ``apply``), nothing is pending (the run loop's stop would take nothing after it), no other event is due at or
        before it, and the model's own next event after it is a whole number of cycles away on the current clock (C
        stops there: fs per cycle an integer). Then C's next stop is the next of those; the run loop's stop for
        ``top`` (emulation restarted, events run, the hot path re-armed: ~30 us) is not made."""
        if self.system.exc.pending or not self.bus.rf.native:
            return
        plan = top.apply() if top.apply is not None else None
        if plan is None:
            return
        ops, period_fs, settle = plan[:3]
        chain = plan[3] if len(plan) > 3 else None
        if len(ops) > AP_OPS:
            return
        period = 0
        if period_fs:
            seg = self.clocks.timeline.current
            if not seg.hz or top.at_cycle < seg.cycle:
                return
            fs_per_cycle, rest = divmod(FS_PER_SECOND * seg.rate_den, seg.rate_num)
            if rest:
                return
            period = -(-period_fs // fs_per_cycle)  # Timeline.cycle_at(fs_at(c) + period_fs) - c, for any c on seg
        first = self.events.earliest(2)
        after = first[1].at_cycle if len(first) > 1 else NO_LIMIT
        if after <= top.at_cycle:
            return
        s = self.hot.state
        for i, (kind, index, value) in enumerate(ops):
            s.ap_kind[i], s.ap_index[i], s.ap_value[i] = kind, index, value
        s.ap_n = len(ops)
        s.ap_after = after
        s.ap_period = period
        s.ev_bus = self.bus.rf.bus
        s.ap_cycle = top.at_cycle
        self._applied = (top, settle, None)
        if chain is not None and period and self.APPLY_CHAINS and not s.ac_i:
            self._plan_apply_chain(chain)

    APPLY_CHAINS = True  # False: one applied event per Python entry, as before chains (tests compare both)

    def _plan_apply_chain(self, chain: tuple[int, list[int], Callable[[], Event | None]]) -> None:
        """hp_apply_chain: after the planned event, C applies the model's next ones of the same kind, each its period
        after the last, while they come before any other event: ``chain`` is (the register-file value index each sets,
        its value at each, from the planned event's on, the model's event scheduled by its settle). The nRF52 RNG's
        bytes (~35 us of Python each, its VALUE read after each VALRDY) then enter Python once for the whole run."""
        store, values, pending = chain
        s = self.hot.state
        n = min(len(values), AC_MAX)
        if n < 2:
            return
        s.ac_store = store
        s.ac_value[:n] = values[:n]
        s.ac_n = n
        top, settle, _ = self._applied  # type: ignore[misc]  # (_plan_apply set it)
        self._applied = (top, settle, pending)

    def settle_apply(self, at: int) -> None:
        """hp_apply did the planned event at cycle ``at`` (SystemBlock.sync_native, first): the model's part of it
        (the plan's ``settle``: what the callback does besides the register-file changes C made), as of ``at``."""
        got, self._applied = self._applied, None
        s = self.hot.state
        chained, s.ac_i = s.ac_i, 0
        if got is None:
            return
        ev, settle, pending = got
        ats = [at]
        if pending is not None and chained:  # a chain (hp_apply_chain): each application as of its cycle, in order
            ats = list(s.ac_at[:chained])
        for k, at_k in enumerate(ats):
            if k:
                ev = pending()  # type: ignore[misc]  # (the model's next event, which C applied as well)
                if ev is None:
                    raise RuntimeError(f"hp_apply_chain applied {len(ats)} events; the model scheduled {k}")
            ev.cancelled = True
            self._settle_as_of(at_k, settle)
        self.arm_changes += 1
        self.applied_in_c += len(ats)

    def settle_move(self, at: int) -> None:
        """hp_cc_move served the planned write at cycle ``at`` (SystemBlock.sync_native, after the wake it follows and
        the clears and NVIC writes before it): the model's write as the bus would have made it then."""
        settle, self._moved = self._moved, None
        if settle is None:
            return
        polls = self.polls

        def write() -> None:
            if polls is not None:
                polls.on_write_in_c()  # (bus._py's model_write; the watch counts it from mv_done)
            settle()

        self._settle_as_of(at, write)
        self.arm_changes += 1
        self.moves_in_c += 1

    def settle_wake(self, at: int, slept: int) -> None:
        """hp_wfi_hook woke a wfi at cycle ``at`` (``slept`` cycles asleep): what on_halt would have done there, now
        (SystemBlock.sync_native, before anything else Python does): the sleep, and the event run as of ``at``."""
        ev, self._wake_event = self._wake_event, None
        self.system.account_sleep(slept)
        if ev is None:
            chip, self._wake_ahead = self._wake_ahead, None
            if chip is None:
                return
            ev = chip._wake  # (planned ahead: the wake-up the flight's read made, settled just before: settle_twim)
            if ev is None or ev.at_cycle != at:
                raise InternalError(f"{chip.name}: C woke the wfi at cycle {at} for a wake-up the model plans at "
                                    f"{None if ev is None else ev.at_cycle}")
            self.wakes_ahead_in_c += 1
        ev.cancelled = True
        self._settle_as_of(at, ev.callback)
        self.wakes_in_c += 1

    def run_due_events(self, arm: bool = True) -> None:
        """Run the events due now; then arm the hot path (``arm=False``: the caller arms before emulation resumes)."""
        now = self.hot.state.cycle_count
        events = self.events
        self._in_events = True
        try:
            while self.stop is None:
                ev = events.pop_due(now)
                if ev is None:
                    break
                ev.callback()
        finally:
            self._in_events = False
        if arm:
            self._arm()

    def next_event_cycle(self) -> int | None:
        return self.events.next_cycle()

    def advance_to(self, cycle: int) -> None:
        """Move the virtual clock forward without executing (the core sleeps in wfi/wfe)."""
        s = self.hot.state
        if cycle > s.cycle_count:
            self.system.account_sleep(cycle - s.cycle_count)
            s.cycle_count = cycle

    def close(self) -> None:
        """Release the Unicorn engine and the C sides now (idempotent); the figures read so far stay valid.

        Each engine maps a 1 GiB code buffer: the first lies within 2 GiB of libunicorn, later ones made while it
        lives lie beyond, where the translated code's calls into Unicorn's helpers (the block hook, memory slow
        paths) become indirect: a machine built while another is alive ran div_bench 25% slower. The garbage
        collector frees a machine's cycle too, but not before the next one is built: runners close at once.
        """
        if self.closed:
            return
        self.closed = True
        release = getattr(self.uc, "_Uc__finalizer", None)  # unicorn's own uc_close (a weakref.finalize: once)
        if release is not None:
            release()
        native = getattr(self.polls, "native", None)  # nothing can call into C any more: free its sides
        if native is not None:
            native.close()
        self.bus.rf.close()
        self.hot.close()

    def __enter__(self) -> Machine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Out of reset, before the first instruction (run() does it; a debugger may look first)."""
        if self.closed:
            raise SimcoreError("this machine was closed (Machine.close): prepare a new one to run the firmware again")
        if not self._started:
            self._started = True
            self.system.reset()
            self.uc.reg_write(R.UC_ARM_REG_PC, self.start_pc | 1)

    def run(self) -> Stop:
        """Run until the firmware exits, faults, or a budget or marker ends it.

        With a debugger attached it may also return a pause (``self.pause``, not a final stop):
        calling run() again resumes where it paused.
        """
        s = self.hot.state
        s.stop_insn = self.opts.max_instructions
        self.start()
        pc = self.pc()
        self.pause = None
        debugger = self.debugger
        if self._c_console is not None:  # markers or listeners may have come since the last run
            self._c_console.console_check()
        while self.stop is None and self.pause is None:
            if self._reset_request is not None:  # a watchdog bit: boot again (the run goes on)
                self._reboot()
                pc = self.start_pc
                if self.stop is not None:
                    break
            self.polls.at_stop()
            if self._fast_return:
                self.system.arm_native()  # before _arm: what C may deliver itself
            else:
                self.system.note_pending()
            self._arm()
            s.stop_requested = 0
            s.py_stop = 0
            self._spin_at = None
            self._last_fault_access = None
            err: unicorn.UcError | None = None
            if debugger is not None:
                debugger.before_emu(pc)
            try:
                self.uc.emu_start(pc | 1, UNTIL)
            except unicorn.UcError as exc:
                err = exc
            if s.dv_pend[0] or s.st_size:  # C's streak ended, divides of the last block priced at its end
                self.hot.settle_divides(self.pc())  # (blocks.divide_slots): before anything
            if s.sh_elapsed != self._sh_seen:  # SYS_ELAPSED calls C served (hp_semi_elapsed): Semihosting.call's count
                self.semihosting.calls["ELAPSED"] += s.sh_elapsed - self._sh_seen
                self._sh_seen = s.sh_elapsed
            if debugger is not None:
                debugger.after_emu()
            self.console_take()
            if self._fast_return and s.fr_done:
                self.system.sync_native()
            if s.spin_at:  # the hot path stopped at an idle loop (blocks.SELF_LOOP)
                self._spin_at, s.spin_at = s.spin_at, 0
            pc = self.pc()
            if self._outside is not None:
                self.hot.correct_partial_block(pc)
                self._hook_error = None  # a hook interrupted on its way out: the outside stop explains it
                self.stop = self._outside_stop(pc)
                break
            if self._hook_error is not None:
                exc, self._hook_error = self._hook_error, None
                self.hot.correct_partial_block(pc)
                if isinstance(exc, SimcoreError) or not isinstance(exc, Exception):
                    raise exc  # bad input found late, a closed stdout, Ctrl-C: not simcore's bug
                raise InternalError(
                    f"internal error at {self.fw.describe(pc)} after {s.insn_count} instructions: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if err is not None:
                self.hot.correct_partial_block(pc)
                self.system.on_cpu_error(err, pc, self._last_fault_access)
                pc = self.pc()
                continue
            if self.stop is not None:
                break
            if s.stop_requested and self.hot.install_pending():
                continue
            if self.pause is not None:
                break
            if self._spin_at is not None:
                self._on_spin(self._spin_at)
                pc = self.pc()
                continue
            if s.stop_requested:
                if self.pause_pending is not None:  # at a block boundary whose block has not run
                    self.pause, self.pause_pending = self.pause_pending, None
                    break
                if s.insn_count >= s.stop_insn:
                    self.stop = Stop(
                        StopKind.BUDGET,
                        f"instruction budget of {s.stop_insn:,} exhausted; the firmware was running at "
                        f"{self.fw.describe(pc)} (pc {pc:#010x})",
                        pc=pc,
                    )
                    break
                self.run_due_events()
                self.system.take_pending()
                pc = self.pc()
                continue
            if self.polls.pending():  # the polling-loop watch stopped emulation to add or remove its hooks
                self.hot.correct_partial_block(pc)  # it stopped inside the loop's block: the rest runs again
                pc = self.pc()
                continue
            # emu_start returned by itself: the core halted in wfi/wfe (Unicorn's EXCP_HLT)
            self.hot.correct_partial_block(pc)
            self.system.on_halt(pc)
            pc = self.pc()
        if self.stop is None:
            return self.pause  # type: ignore[return-value]
        self.semihosting.close()
        blockcache.save(self.hot, self.fw)
        assert self.stop is not None
        return self.stop

    # --- idle loops: blocks ending in a branch to itself (blocks.SELF_LOOP), stopped by the hot path ---
    def interrupt_could_fire(self) -> bool:
        return self._interrupt_could_fire()

    def _interrupt_could_fire(self) -> bool:
        """Could SysTick or an external interrupt preempt the current execution priority?

        Enabled in the NVIC (SysTick: counting with TICKINT) and of a higher group priority
        than PRIMASK/FAULTMASK/BASEPRI and the active handlers allow (ARMv7-M B1.5.4).
        """
        exc = self.system.exc
        systick = self.system.systick
        candidates = list(range(16, 16 + self.board.num_irq))
        if systick.ctrl & 2 and systick.running:
            candidates.append(15)
        return any(exc.enabled[e] and exc.can_preempt(e) for e in candidates if e < len(exc.enabled))

    def _on_spin(self, at: int) -> None:
        """The core executes ``b .``: fast-forward to the interrupt that ends it, or stop "spinning".

        Accounting choice: the loop's first execution is counted by the hot path as usual;
        each further idle iteration costs the loop block's instructions and cycles, so the
        clock reaches the next event at a whole iteration and the instruction budget still
        applies (a loop woken by an interrupt every millisecond for a minute counts exactly
        the iterations it would have run, up to the last partial one). Unlike wfi, these
        cycles are active, not sleep, cycles.
        """
        if self.system.on_spin(at):  # a fault handler that never returns: the fault's diagnosis
            return
        s = self.hot.state
        exc = self.system.exc
        width = 2 if self.mem_read(at, 2) == b"\xfe\xe7" else 4  # b.n . or b.w .
        n_insn, cycles, _flags = self.hot.costs(at, width)
        per_iter = max(cycles, 1)
        while self.stop is None and self._outside is None and self._reset_request is None:
            if exc.to_take() is not None:
                break
            nxt = self.next_event_cycle()
            if nxt is None or not (self._interrupt_could_fire() or self.reset_could_happen()):
                why = "nothing is scheduled" if nxt is None else "no enabled interrupt can preempt it"
                self.request_stop(Stop(StopKind.SPINNING, f"spinning at {self.fw.describe(at)}: an idle loop "
                                       f"(branch to itself) and {why}, so it can never end", pc=at))
                return
            iters = max(-(-(nxt - s.cycle_count) // per_iter), 0)
            budget_left = max(s.stop_insn - s.insn_count, 0) // max(n_insn, 1)
            if iters > budget_left:
                s.insn_count += budget_left * n_insn
                s.cycle_count += budget_left * per_iter
                self.request_stop(Stop(StopKind.BUDGET, f"instruction budget of {s.stop_insn:,} exhausted; the "
                                       f"firmware was spinning at {self.fw.describe(at)} (pc {at:#010x}) waiting for "
                                       "an interrupt", pc=at))
                return
            s.insn_count += iters * n_insn
            s.cycle_count += iters * per_iter
            self.run_due_events()
        self.system.take_pending()

    # --- figures -------------------------------------------------------------------------
    @property
    def instructions(self) -> int:
        return self.hot.state.insn_count

    @property
    def cycles(self) -> int:
        return self.hot.state.cycle_count

    def registers(self) -> dict[str, int]:
        names = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp", "control", "primask"]
        ids = [getattr(R, f"UC_ARM_REG_{n.upper()}") for n in names]
        return {n: self.uc.reg_read(i) for n, i in zip(names, ids)}


class _BeforeHotPath:
    """Stands in for the hot path while the peripherals are built: the clock reads 0, flash settings wait."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        self.state = SimpleNamespace(cycle_count=0, insn_count=0)
        zeros = memoryview(bytes(ctypes.sizeof(HotState)))  # (read-only: nothing may write the state before it is)
        self.q, self.w = zeros.cast("Q"), zeros.cast("I")

    def set_flash(self, wait_states: int, accelerator: int, prefetch: bool) -> None:
        pass


CPACR = 0xE000ED88  # Coprocessor Access Control Register (ARMv7-M B3.2.20)
COREDEBUG = (0xE000EDF0, 0xE000EE00)  # DHCSR, DCRSR, DCRDR, DEMCR (ARMv7-M C1.6)


def _keeps_arming_ppb(addr: int) -> bool:
    """Is ``addr`` in a PPB register whose accesses change nothing the hot path's arming is made of (exception state,
    priorities, SCR, the MPU, SysTick, the event queue: SystemBlock.arm_native, Machine._arm), so that the arming may
    be kept after one (Machine.guard_host)? The DWT's page (CYCCNT is published to the hot state by the model itself,
    Dwt.publish), the core debug registers (DEMCR.TRCENA gates CYCCNT) and CPACR (stored only: the FPU always
    executes). Every ELF that enables the FPU and CYCCNT makes ~7 of these accesses at start-up, each a full re-arm
    of ~20 us before (issue 16's short ELFs)."""
    return DWT_PAGE <= addr < DWT_PAGE + PAGE or COREDEBUG[0] <= addr < COREDEBUG[1] or addr & ~3 == CPACR


_NO_SOURCE_NEXT = (NEVER,) * MAX_SOURCES  # hp_state.src_next with no source's assertion planned (_arm_events)
_NO_NATIVES: dict[int, int] = {}  # SystemBlock.native_events when C may deliver nothing itself (never written)
_R0_R1 = (R.UC_ARM_REG_R0, R.UC_ARM_REG_R1)  # a semihosting call's operation and argument
_R0 = (R.UC_ARM_REG_R0,)  # its result

MAX_RESETS = 100  # a firmware reset this often by its watchdog is in a reset loop: the run stops


_ACCESS = {
    unicorn.UC_MEM_READ_UNMAPPED: AccessKind.READ, unicorn.UC_MEM_WRITE_UNMAPPED: AccessKind.WRITE,
    unicorn.UC_MEM_FETCH_UNMAPPED: AccessKind.FETCH, unicorn.UC_MEM_WRITE_PROT: AccessKind.WRITE_PROT,
    unicorn.UC_MEM_READ_PROT: AccessKind.READ_PROT, unicorn.UC_MEM_FETCH_PROT: AccessKind.FETCH_PROT,
}


def warn(msg: str) -> None:
    print(f"simcore: {msg}", file=sys.stderr)


CONSOLE_TAIL = 1 << 20  # bytes of console output kept in memory (the echo streams everything)


def host_buffer(size: int) -> Any:
    """A zero-filled ctypes buffer of ``size`` bytes whose pages cost nothing until touched.

    An anonymous private mapping: the kernel hands out zero pages on first use, so a 1 GiB
    RAM the firmware never touches adds nothing to the resident size (a ctypes array is
    allocated and zeroed up front).
    """
    import mmap

    backing = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return (ctypes.c_ubyte * size).from_buffer(backing)  # keeps ``backing`` alive
