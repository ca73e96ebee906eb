"""The machine: a Unicorn Cortex-M4 with the part's memories, peripherals, clock and accounting.

Flash and RAM are plain Unicorn memory with the part's exact sizes (no Python on those
accesses); peripherals sit behind one MMIO window per address range; the per-block hot
path counts instructions and cycles and stops emulation when the next event is due.
Python runs only at events, MMIO accesses, exceptions and the end of a run.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from collections.abc import Callable
from typing import Any

import unicorn
from unicorn import arm_const as R

from simcore.accounting import BlockAnalyzer
from simcore.board import Board
from simcore.cycles import InstructionCount
from simcore.elf import Firmware
from simcore.errors import BadInputError, EmulationError
from simcore.hotpath import NO_LIMIT, HotPath
from simcore.layout import Layout, check_fit
from simcore.peripherals import PeripheralModel
from simcore.runtypes import Event, EventQueue, RunOptions, Stop, StopKind
from simcore.semihosting import ExitRequest, Semihosting
from simcore.spin import find_self_loops

PERIPH_BASE, PERIPH_END = 0x40000000, 0x60000000  # Cortex-M "Peripheral" region (ARMv7-M B3.1)
PPB_BASE, PPB_END = 0xE0000000, 0xE0100000  # Private Peripheral Bus: ITM, DWT, SCS, ...
PAGE = 0x1000
UNTIL = 0xFFFFFFFE  # an address no Thumb code can branch to: emu_start's 'until' never hits


class Machine:
    """One emulated part running one firmware image."""

    def __init__(self, board: Board, firmware: Firmware, options: RunOptions | None = None) -> None:
        self.board = board
        self.fw = firmware
        self.opts = options or RunOptions()
        from simcore.validate import check_mhz

        self.mhz = check_mhz(board, self.opts.mhz, "mhz")
        self.layout: Layout = check_fit(firmware, board)
        self.console = bytearray()
        self.console_by_source: dict[str, bytearray] = {}
        self.unmodelled: dict[str, str] = {}
        self.stop: Stop | None = None
        self._hook_error: BaseException | None = None
        self.events = EventQueue()
        self._in_events = False  # inside run_due_events: schedule() leaves arming to it
        self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
        self.uc.ctl_set_cpu_model(unicorn.arm_const.UC_CPU_ARM_CORTEX_M4)
        from simcore.cortexm.coreregs import CoreRegs

        self._read_pc = CoreRegs(self.uc).read_pc  # one ctypes call, not the bindings' reg_read
        self._buffers: list[Any] = []
        self._rom_buffers: list[Any] = []  # not in _buffers: the system block pairs those with board memories
        self._map_memories()
        self._load_image()
        from simcore import sensorbind

        # bad or wrong-kind recordings: BadInputError now; sensors nobody uses are built on first access
        self.peripherals: list[PeripheralModel] = sensorbind.build(board, self.opts.sensors, self)
        self._pages: dict[int, list[PeripheralModel]] = {}
        for model in self.peripherals:
            for page in range(model.base & ~(PAGE - 1), model.base + model.SIZE, PAGE):
                self._pages.setdefault(page, []).append(model)
        self._last_fault_access: tuple[str, int, int] | None = None
        self.uc.mmio_map(PERIPH_BASE, PERIPH_END - PERIPH_BASE, self._periph_read, None, self._periph_write, None)
        self._map_outside_peripherals()
        self.system = self._make_system()
        self.uc.mmio_map(PPB_BASE, PPB_END - PPB_BASE, self._ppb_read, None, self._ppb_write, None)
        self.analyzer = BlockAnalyzer(self._read_code, self.opts.cycle_model or InstructionCount(),
                                      self._function_start)
        self.hot = HotPath(self.uc, self.analyzer, native=self.opts.native, on_miss_error=self._on_miss_error)
        # Native hot path: the INTR hook is C and does the common exception return itself (SystemBlock
        # arms it); everything else comes back to _on_native_intr. The Python twin hooks it here.
        self._systick: Any = None
        self._fast_return = self._install_intr_hook()
        if not self._fast_return:
            self.uc.hook_add(unicorn.UC_HOOK_INTR, self._on_intr)
        elif getattr(self.system, "exc", None) is not None:
            self.system.exc.native_enter = self.hot.native_enter()
        self.uc.hook_add(
            unicorn.UC_HOOK_MEM_UNMAPPED | unicorn.UC_HOOK_MEM_PROT, self._on_bad_access
        )
        self.semihosting = Semihosting(
            host=self,
            root=self.opts.semihosting_root,
            cmdline=self.opts.cmdline,
            heapinfo=self._heapinfo(),
            on_exit=self._on_exit,
        )
        self.start_pc, self.start_sp = self._boot()
        self._spin_at: int | None = None
        self.self_loops = find_self_loops(firmware)
        for addr, _size in self.self_loops:  # per-address hooks: no cost on any other instruction
            self.uc.hook_add(unicorn.UC_HOOK_CODE, self._on_self_loop, begin=addr, end=addr)

    # --- construction ------------------------------------------------------------------
    def _map_memories(self) -> None:
        for mem in self.board.memories:
            size = (mem.size + PAGE - 1) & ~(PAGE - 1)
            buf = (ctypes.c_ubyte * size)()
            self._buffers.append(buf)
            perms = unicorn.UC_PROT_READ
            if mem.kind == "ram":
                perms |= unicorn.UC_PROT_WRITE
            if mem.executable:
                perms |= unicorn.UC_PROT_EXEC
            for base in (mem.base, *mem.aliases):
                self.uc.mem_map_ptr(base, size, perms, buf)

    def _map_outside_peripherals(self) -> None:
        """Peripherals outside the 0x40000000 window (nRF52 FICR/UICR): a read-only page with the
        model's ``rom_image`` (no Python per read), else an MMIO window of their own."""
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
                self.uc.mmio_map(model.base, size, self._periph_read_at(model.base), None,
                                 self._periph_write_at(model.base), None)

    def _periph_read_at(self, base: int) -> Callable[..., int]:
        return lambda uc, offset, size, user: self._periph_read(uc, base + offset - PERIPH_BASE, size, user)

    def _periph_write_at(self, base: int) -> Callable[..., None]:
        return lambda uc, offset, size, value, user: self._periph_write(uc, base + offset - PERIPH_BASE, size,
                                                                         value, user)

    def _load_image(self) -> None:
        for seg in self.fw.segments:
            if seg.data:
                self.uc.mem_write(self.board.resolve_alias(seg.paddr), seg.data)

    def _make_system(self) -> Any:
        from simcore.cortexm import SystemBlock

        return SystemBlock(self)

    def _install_intr_hook(self) -> bool:
        arm = getattr(self.system, "native_return_windows", None)
        if arm is None:
            return False
        from simcore.cycles import EXCEPTION_ENTRY, EXCEPTION_RETURN

        if not self.hot.install_intr_hook(self._on_native_intr, arm(), self.board.fpu, EXCEPTION_RETURN):
            return False
        self.hot.state.entry_cycles = EXCEPTION_ENTRY
        self._systick = getattr(self.system, "systick", None)  # hp_tick delivers its ticks
        return True

    def _heapinfo(self) -> tuple[int, int, int, int]:
        """The SYS_HEAPINFO answer (heap base, heap limit, stack base = initial SP, stack limit).

        Symbols win (``__HeapBase``/``end``, ``__HeapLimit``, the stack symbols of
        simcore/layout.py). Otherwise the heap starts after the image's writable data and
        the stack sits at the top of the same memory, with the heap below it, so a C
        library that trusts the answer never gets a heap spanning unmapped gaps.
        """
        rams = self.board.ram
        largest = max(rams, key=lambda m: m.size)
        writable_end = max((s.vma + s.size for s in self.fw.sections
                            if s.writable and any(m.contains(self.board.resolve_alias(s.vma)) for m in rams)),
                           default=None)
        base_sym = self.fw.symbol("__HeapBase") or self.fw.symbol("end")
        if base_sym is not None:
            heap_base = base_sym.addr
        elif writable_end is not None:
            heap_base = (writable_end + 7) & ~7
        else:
            heap_base = largest.base
        home = self.board.memory_at(self.board.resolve_alias(heap_base), 1) or largest
        stack_top = self.layout.stack_top or home.end
        limit_sym = self.fw.symbol("__HeapLimit")
        if limit_sym is not None:
            heap_limit = limit_sym.addr
        elif self.layout.stack_limit is not None:
            heap_limit = self.layout.stack_limit
        elif home.base < stack_top <= home.end:
            room = max(stack_top - heap_base, 0)
            heap_limit = stack_top - min(0x10000, room // 2)  # 64 KiB (or half the room) kept for the stack
        else:
            heap_limit = home.end
        stack_limit = self.layout.stack_limit or heap_limit
        return heap_base, heap_limit, stack_top, stack_limit

    def _boot(self) -> tuple[int, int]:
        """Initial SP and PC (ARMv7-M B1.5.5 reset behaviour, plus QEMU's rule for bare images).

        1. A vector table at the board's reset VTOR (through an alias too) gives SP and PC;
           both are checked (SP in RAM, PC odd and in code the image loads or in flash).
        2. Nothing loaded there, but the image's lowest loaded address starts with a vector
           table whose reset vector is the ELF entry point: that table (VTOR is moved there).
        3. Otherwise (e.g. a ``--specs=rdimon.specs`` program linked at 0x8000): start at the
           ELF entry point with SP = the stack base of the SYS_HEAPINFO answer, as QEMU
           starts such images; the C start-up code then asks HEAPINFO itself.
        """
        vtor = self.board.resolve_alias(self.board.reset_vtor)
        words = self._loaded_words(vtor)
        if words is None:
            low = min((self.board.resolve_alias(seg.paddr) for seg in self.fw.segments if seg.data), default=None)
            low_words = self._loaded_words(low) if low is not None else None
            if low is not None and low_words is not None and \
                    struct.unpack("<II", low_words)[1] | 1 == self.fw.entry | 1 and self.fw.entry & 1:
                vtor, words = low, low_words
                scb = getattr(self.system, "scb", None)
                if scb is not None and hasattr(scb, "reset_vtor"):
                    scb.reset_vtor = vtor
        if words is None:
            heap = self._heapinfo()
            pc, sp = self.fw.entry, heap[2]
            self.boot_rule = (f"no vector table at {vtor:#010x}: started at the ELF entry point {pc:#010x} "
                              f"with SP {sp:#010x} from HEAPINFO")
            self._check_entry(pc)
        else:
            sp, pc = struct.unpack("<II", words)
            self._check_vector_table(vtor, sp, pc)
            self.boot_rule = f"vector table at {vtor:#010x}"
        self.uc.reg_write(R.UC_ARM_REG_MSP, sp)
        self.uc.reg_write(R.UC_ARM_REG_SP, sp)
        self.hot.state.sp_low = sp
        self.initial_sp = sp
        return pc & ~1, sp

    def _loaded_words(self, addr: int) -> bytes | None:
        """The first two words the image loads at ``addr`` (also when linked at an alias), or None."""
        words = self.fw.read_loaded(addr, 8)
        if words is None:
            for seg in self.fw.segments:
                if self.board.resolve_alias(seg.paddr) == addr and len(seg.data) >= 8:
                    return bytes(seg.data[:8])
        return words

    def _runs_image_code(self, pc: int) -> bool:
        """Is ``pc`` in executable memory, on bytes the image loads (not erased flash it never wrote)?"""
        addr = self.board.resolve_alias(pc & ~1)
        target = self.board.memory_at(addr, 2)
        if target is None or not target.executable:
            return False
        return any(
            self.board.resolve_alias(seg.paddr) <= addr and addr + 2 <= self.board.resolve_alias(seg.paddr)
            + len(seg.data) for seg in self.fw.segments if seg.data)

    def _check_entry(self, pc: int) -> None:
        if not pc & 1 or not self._runs_image_code(pc):
            why = "an even (ARM-state) address; Cortex-M runs Thumb code only" if not pc & 1 else (
                "not in code the image loads into executable memory")
            raise BadInputError(
                f"{self.fw.path}: no vector table at {self.board.reset_vtor:#010x} and the ELF entry point "
                f"{pc:#010x} is {why}. Link the firmware for {self.board.name} (vector table at "
                f"{self.board.reset_vtor:#010x}) or give it a Thumb entry point in its code."
            )

    def _check_vector_table(self, vtor: int, sp: int, pc: int) -> None:
        ram_ok = any(m.base < sp <= m.end for m in self.board.ram)
        if not ram_ok:
            regions = ", ".join(f"{m.name} {m.base:#010x}-{m.end:#010x}" for m in self.board.ram)
            raise BadInputError(
                f"{self.fw.path}: the vector table at {vtor:#010x} gives an initial stack pointer of {sp:#010x}, "
                f"which is not in the RAM of {self.board.name} ({regions}). Was the firmware linked for "
                "another part, or is the first word of the image not a vector table?"
            )
        if not pc & 1 or not self._runs_image_code(pc):
            why = "an even (ARM-state) address; Cortex-M runs Thumb code only" if not pc & 1 else (
                "not in code the image loads into executable memory")
            raise BadInputError(
                f"{self.fw.path}: the reset vector at {vtor + 4:#010x} is {pc:#010x}: {why}. The second word of "
                "the vector table must be the odd (Thumb) address of Reset_Handler in the code the image "
                "loads into flash (or, on boards without flash such as mps2-an386, into its code memory)."
            )

    # --- Host interface for peripherals and semihosting --------------------------------
    def now_cycles(self) -> int:
        return self.hot.state.cycle_count

    def cycles_per_second(self) -> float:
        return self.mhz * 1e6

    def console_write(self, data: bytes, source: str) -> None:
        self.console += data
        self.console_by_source.setdefault(source, bytearray()).extend(data)
        if self.opts.echo is not None:
            self.opts.echo.write(data.decode("utf-8", "replace"))
            self.opts.echo.flush()
        self._check_markers()

    def _check_markers(self) -> None:
        if self.stop is not None:
            return
        tail = bytes(self.console[-4096:])
        for marker, code, what in ((self.opts.fail_marker, 1, "fail"), (self.opts.pass_marker, 0, "pass")):
            if marker and marker.encode() in tail:
                kind = StopKind.FAIL_MARKER if code else StopKind.PASS_MARKER
                self.request_stop(Stop(kind, f"{what} marker {marker!r} seen on the console", exit_code=code))
                return

    def set_irq(self, irq: int, level: bool) -> None:
        self.system.set_irq(irq, level)

    def pend_irq(self, irq: int) -> None:
        self.system.pend_irq(irq)

    def schedule(self, at_cycle: int, callback: Callable[[], None], tag: str = "") -> Event:
        ev = self.events.schedule(at_cycle, callback, tag)
        if not self._in_events:  # run_due_events arms once after its callbacks (outside emulation)
            self._arm()
        return ev

    def cancel(self, handle: Event) -> None:
        handle.cancelled = True  # EventQueue.cancel

    def mem_read(self, addr: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(addr, size))

    def mem_write(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, bytes(data))

    def readable(self, addr: int, size: int) -> int:
        """Bytes from ``addr`` to the end of its memory (flash or RAM) if [addr, addr+size) is in it, else 0."""
        mem = self.board.memory_at(self.board.resolve_alias(addr), max(size, 1))
        return mem.end - self.board.resolve_alias(addr) if mem is not None else 0

    def writable(self, addr: int, size: int) -> bool:
        """Is [addr, addr+size) inside one RAM (semihosting never writes flash)?"""
        mem = self.board.memory_at(self.board.resolve_alias(addr), max(size, 1))
        return mem is not None and mem.kind == "ram"

    def report_unmodelled(self, where: str, detail: str) -> None:
        if where not in self.unmodelled:
            self.unmodelled[where] = detail
            if self.opts.strict:
                self.request_stop(Stop(StopKind.UNMODELLED, f"strict mode: {where}: {detail}", pc=self.pc()))

    def request_stop(self, stop: Stop) -> None:
        """End the run at the next block boundary (or now, from an instruction hook)."""
        if self.stop is None:
            self.stop = stop
        self.hot.state.stop_cycle = 0
        self.hot.state.py_stop = 1
        self.uc.emu_stop()

    def pc(self) -> int:
        return self._read_pc()

    # --- hooks ---------------------------------------------------------------------------
    def _guard(self, fn: Callable[[], Any]) -> Any:
        """Run hook code; a Python exception stops emulation and is re-raised after emu_start.

        With the native exception return, the system block's state is brought up to date first
        and the fast path re-armed after (hook code may change what is pending or active).
        """
        fast = self._fast_return
        if fast and self.hot.state.fr_done:
            self.system.sync_native()
        try:
            return fn()
        except BaseException as exc:  # noqa: BLE001 - must not unwind through Unicorn's C frames
            self._hook_error = exc
            self.hot.state.stop_cycle = 0
            self.hot.state.py_stop = 1
            self.uc.emu_stop()
            return None
        finally:
            if fast:
                self.system.arm_native()

    def _function_start(self, addr: int) -> int | None:
        sym = self.fw.function_at(addr)
        return sym.addr if sym is not None else None

    def _read_code(self, addr: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(addr, size))

    def _on_miss_error(self, addr: int, size: int, exc: BaseException) -> None:
        self._hook_error = exc

    def _dispatch(self, addr: int) -> tuple[PeripheralModel | None, int]:
        for model in self._pages.get(addr & ~(PAGE - 1), ()):
            if model.base <= addr < model.base + model.SIZE:
                return model, addr - model.base
        return None, 0

    def _periph_read(self, uc: unicorn.Uc, offset: int, size: int, _user: object) -> int:
        addr = PERIPH_BASE + offset

        def go() -> int:
            model, off = self._dispatch(addr)
            if model is None:
                self.report_unmodelled(f"{addr:#010x}", f"read of {size} bytes: no peripheral modelled here")
                return 0
            return model.read(off, size)

        return self._guard(go) or 0

    def _periph_write(self, uc: unicorn.Uc, offset: int, size: int, value: int, _user: object) -> None:
        addr = PERIPH_BASE + offset

        def go() -> None:
            model, off = self._dispatch(addr)
            if model is None:
                self.report_unmodelled(f"{addr:#010x}", f"write of {value:#x}: no peripheral modelled here")
                return
            model.write(off, size, value)

        self._guard(go)

    def _ppb_read(self, uc: unicorn.Uc, offset: int, size: int, _user: object) -> int:
        return self._guard(lambda: self.system.read(PPB_BASE + offset, size)) or 0

    def _ppb_write(self, uc: unicorn.Uc, offset: int, size: int, value: int, _user: object) -> None:
        self._guard(lambda: self.system.write(PPB_BASE + offset, size, value))

    def _on_intr(self, uc: unicorn.Uc, intno: int, _user: object) -> None:
        self._guard(lambda: self._handle_intr(intno))

    def _on_native_intr(self, intno: int) -> None:
        """hp_intr_hook's fallback (a ctypes callback): everything the C side does not handle."""
        self._guard(lambda: self._handle_intr(intno))

    def _handle_intr(self, intno: int) -> None:
        pc = self.pc()
        if intno == 7:  # EXCP_BKPT: PC is at the bkpt instruction
            imm = self.uc.mem_read(pc, 2)[0]
            if imm == 0xAB:
                op = self.uc.reg_read(R.UC_ARM_REG_R0)
                arg = self.uc.reg_read(R.UC_ARM_REG_R1)
                result = self.semihosting.call(op, arg)
                self.uc.reg_write(R.UC_ARM_REG_R0, result & 0xFFFFFFFF)
                self.uc.reg_write(R.UC_ARM_REG_PC, (pc + 2) | 1)
                return
            self.request_stop(Stop(StopKind.BREAKPOINT, f"bkpt {imm:#x} at {self.fw.describe(pc)} with no debugger",
                                   pc=pc))
            return
        self.system.on_exception(intno, pc)

    def _on_bad_access(self, uc: unicorn.Uc, access: int, address: int, size: int, value: int,
                       _user: object) -> bool:
        kinds = {
            unicorn.UC_MEM_READ_UNMAPPED: "read", unicorn.UC_MEM_WRITE_UNMAPPED: "write",
            unicorn.UC_MEM_FETCH_UNMAPPED: "fetch", unicorn.UC_MEM_WRITE_PROT: "write-protected",
            unicorn.UC_MEM_READ_PROT: "read-protected", unicorn.UC_MEM_FETCH_PROT: "execute-protected",
        }
        self._last_fault_access = (kinds.get(access, str(access)), address, size)
        return False

    def _on_exit(self, req: ExitRequest) -> None:
        how = req.how if req.value == req.code else f"{req.how}; exit status {req.code}, as 0-255 cannot hold it"
        self.request_stop(Stop(StopKind.EXIT, f"firmware exited with code {req.value} ({how})", exit_code=req.code,
                               pc=self.pc(), details={"exit_value": req.value}))

    # --- events and the run loop ----------------------------------------------------------
    def _arm(self) -> None:
        top = self.events.top()
        s = self.hot.state
        s.other_cycle = 0  # no native SysTick delivery unless its event is the next one
        if self.stop is not None or self._hook_error is not None:
            s.stop_cycle = 0
        elif top is not None:
            s.stop_cycle = top.at_cycle
            systick = self._systick
            if systick is not None and top is systick._event:
                s.tick_cycle = top.at_cycle
                s.other_cycle = self.events.after_top_cycle(NO_LIMIT)
        else:
            s.stop_cycle = NO_LIMIT

    def run_due_events(self) -> None:
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
        self._arm()

    def next_event_cycle(self) -> int | None:
        return self.events.next_cycle()

    def advance_to(self, cycle: int) -> None:
        """Move the virtual clock forward without executing (the core sleeps in wfi/wfe)."""
        s = self.hot.state
        if cycle > s.cycle_count:
            self.system.account_sleep(cycle - s.cycle_count)
            s.cycle_count = cycle

    def run(self) -> Stop:
        """Run until the firmware exits, faults, or a budget or marker ends it."""
        s = self.hot.state
        s.stop_insn = self.opts.max_instructions
        pc = self.start_pc
        self.system.reset()
        while self.stop is None:
            self._arm()
            s.stop_requested = 0
            s.py_stop = 0
            self._spin_at = None
            self._last_fault_access = None
            err: unicorn.UcError | None = None
            if self._fast_return:
                self.system.arm_native()
            try:
                self.uc.emu_start(pc | 1, UNTIL)
            except unicorn.UcError as exc:
                err = exc
            if self._fast_return and s.fr_done:
                self.system.sync_native()
            pc = self.pc()
            if self._hook_error is not None:
                exc, self._hook_error = self._hook_error, None
                self.hot.correct_partial_block(pc)
                if isinstance(exc, BadInputError | EmulationError):
                    raise exc
                raise EmulationError(
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
            if self._spin_at is not None:
                self._on_spin(self._spin_at)
                pc = self.pc()
                continue
            if s.stop_requested:
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
            # emu_start returned by itself: the core halted in wfi/wfe (Unicorn's EXCP_HLT)
            self.hot.correct_partial_block(pc)
            self.system.on_halt(pc)
            pc = self.pc()
        self.semihosting.close()
        assert self.stop is not None
        return self.stop

    # --- idle loops (simcore/spin.py) --------------------------------------------------------
    def _on_self_loop(self, uc: unicorn.Uc, address: int, size: int, _user: object) -> None:
        """A branch-to-self is about to run: leave emulation so the run loop can judge it."""
        self._spin_at = address
        self.hot.state.py_stop = 1
        uc.emu_stop()

    def _interrupt_could_fire(self) -> bool:
        """Could SysTick or an external interrupt preempt the current execution priority?

        Enabled in the NVIC (SysTick: counting with TICKINT) and of a higher group priority
        than PRIMASK/FAULTMASK/BASEPRI and the active handlers allow (ARMv7-M B1.5.4).
        """
        exc = getattr(self.system, "exc", None)
        if exc is None:  # a system block without the exception model: trust the event queue
            return True
        systick = getattr(self.system, "systick", None)
        candidates = list(range(16, 16 + self.board.num_irq))
        if systick is not None and getattr(systick, "ctrl", 0) & 2 and getattr(systick, "running", False):
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
        exc = getattr(self.system, "exc", None)
        info = self.hot.info(at, 4 if any(a == at and n == 4 for a, n in self.self_loops) else 2)
        per_iter = max(info.cycles, 1)
        while self.stop is None:
            if exc is not None and exc.to_take() is not None:
                break
            nxt = self.next_event_cycle()
            if nxt is None or not self._interrupt_could_fire():
                why = "nothing is scheduled" if nxt is None else "no enabled interrupt can preempt it"
                self.request_stop(Stop(StopKind.SPINNING, f"spinning at {self.fw.describe(at)}: an idle loop "
                                       f"(branch to itself) and {why}, so it can never end", pc=at))
                return
            iters = max(-(-(nxt - s.cycle_count) // per_iter), 0)
            budget_left = max(s.stop_insn - s.insn_count, 0) // max(info.n_insn, 1)
            if iters > budget_left:
                s.insn_count += budget_left * info.n_insn
                s.cycle_count += budget_left * per_iter
                self.request_stop(Stop(StopKind.BUDGET, f"instruction budget of {s.stop_insn:,} exhausted; the "
                                       f"firmware was spinning at {self.fw.describe(at)} (pc {at:#010x}) waiting for "
                                       "an interrupt", pc=at))
                return
            s.insn_count += iters * info.n_insn
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


def warn(msg: str) -> None:
    print(f"simcore: {msg}", file=sys.stderr)
