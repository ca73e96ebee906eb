"""The test API: drive a firmware from Python the way a test does.

    from simcore.target import Target

    t = Target("firmware/bin/stm32f407vg/dut_demo.elf", board="stm32f407vg")
    t.run_until("main")                 # boot: .data/.bss initialised, stopped before main's first instruction
    t.set("mode", 2)                    # globals by name, typed from DWARF (ints, floats, arrays, structs)
    t.expect("ready", timeout_cycles=10_000_000)
    t.call("add", 2, 3)                 # call a C function: AAPCS arguments in, return value out
    snap = t.snapshot()                 # boot once ...
    t.restore(snap)                     # ... and come back here as often as needed (identical counts)

Runs stop where asked (a symbol or address, a cycle count, a console pattern) with the
exact instruction and cycle counts of the same point in an undisturbed run (simcore.debug).
Everything is deterministic: virtual time only moves while the firmware runs.
"""

from __future__ import annotations

import re
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import unicorn
from unicorn import arm_const as R

from simcore import dwarf
from simcore.api import RunResult, prepare, result_of
from simcore.board import Board
from simcore.debug import Debugger, Pause
from simcore.errors import SimcoreError
from simcore.machine import Machine
from simcore.runtypes import Stop, StopKind
from simcore.snapshot import Snapshot

EF_ARM_ABI_FLOAT_HARD = 0x400  # ELF e_flags: the VFP variant of the AAPCS (arguments in s/d registers)
DEFAULT_CALL_CYCLES = 200_000_000


class TargetError(SimcoreError):
    """A test-API request that cannot be done (unknown symbol, the run has ended, ...)."""


class ExpectTimeout(TargetError, AssertionError):
    """``expect`` saw neither its pattern nor the end of the run within its cycles."""


class RunEnded(TargetError, AssertionError):
    """The firmware stopped for good (exit, fault, budget) before what was asked for happened."""


@dataclass
class CallResult:
    """One ``Target.call``: the value and what the call cost."""

    value: Any
    instructions: int
    cycles: int


class Var:
    """A typed view of firmware memory: ``.value`` (get/set), ``[i]`` / ``["member"]`` / ``.field(name)``."""

    def __init__(self, target: Target, address: int, ctype: dwarf.CType, path: str,
                 member: dwarf.Member | None = None) -> None:
        self.target = target
        self.address = address
        self.type = ctype
        self.path = path
        self._member = member  # a bit-field member (read-modify-write of its storage unit)

    @property
    def size(self) -> int:
        return self.type.size

    @property
    def value(self) -> Any:
        m = self._member
        if m is not None and m.bit_size is not None:
            raw = self.target.mem_read(self.address, m.type.size)
            return dwarf.member_value(dwarf.Member(m.name, 0, m.type, m.bit_size, m.bit_offset), raw)
        return dwarf.decode(self.type, self.target.mem_read(self.address, self.type.size))

    @value.setter
    def value(self, new: Any) -> None:
        t = self.type
        m = self._member
        if m is not None and m.bit_size is not None:
            raw = int.from_bytes(self.target.mem_read(self.address, t.size), "little")
            mask = ((1 << m.bit_size) - 1) << m.bit_offset
            raw = (raw & ~mask) | ((int(new) << m.bit_offset) & mask)
            self.target.mem_write(self.address, raw.to_bytes(t.size, "little"))
            return
        if t.kind in ("struct", "union") and isinstance(new, dict):
            for key, v in new.items():
                self[key].value = v
            return
        if t.kind == "array" and not (t.is_char_array and isinstance(new, str | bytes)):
            items = list(new)
            if len(items) > t.count:
                raise ValueError(f"{self.path}: {len(items)} values for {t.count} elements")
            for i, v in enumerate(items):
                self[i].value = v
            return
        self.target.mem_write(self.address, dwarf.encode(t, new))

    def __getitem__(self, key: int | str) -> Var:
        t = self.type
        if isinstance(key, str):
            if t.kind not in ("struct", "union"):
                raise TypeError(f"{self.path} is a {t.name}, not a struct")
            m = t.member(key)
            return Var(self.target, self.address + m.offset, m.type, f"{self.path}.{key}", m)
        if t.kind == "array":
            assert t.element is not None
            n = t.count
            if not -n <= key < n:
                raise IndexError(f"{self.path}[{key}]: {t.name} has {n} elements")
            return Var(self.target, self.address + (key % n) * t.element.size, t.element, f"{self.path}[{key}]")
        if t.kind == "pointer" and t.element is not None and t.element.size:
            addr = self.value + key * t.element.size
            return Var(self.target, addr, t.element, f"{self.path}[{key}]")
        raise TypeError(f"{self.path} is a {t.name}: not indexable")

    def field(self, name: str) -> Var:
        return self[name]

    @property
    def string(self) -> str:
        """A char array up to its NUL, or the string a char pointer points to."""
        if self.type.is_char_array:
            raw = self.target.mem_read(self.address, self.type.size)
        elif self.type.kind == "pointer":
            raw = bytearray()
            addr = self.value
            while len(raw) < 4096:  # a C string, read until its NUL (at most 4 KiB)
                chunk = self.target.mem_read(addr + len(raw), 1)
                if chunk == b"\0":
                    break
                raw += chunk
            raw = bytes(raw)
        else:
            raise TypeError(f"{self.path} is a {self.type.name}, not a string")
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<Var {self.path}: {self.type.name} at {self.address:#010x}>"


_PATH = re.compile(r"\.?([A-Za-z_]\w*)|\[(-?\d+)\]")


class Target:
    """One firmware on one board, stopped or running under the test's control."""

    def __init__(self, elf: str | Path, board: str | Path | Board = "cortex-m4", **options: Any) -> None:
        options.setdefault("echo", None)
        self.t0 = time.perf_counter()
        self.machine: Machine = prepare(elf, board, **options)
        self.debugger = Debugger(self.machine)
        self.elf = Path(elf)
        self._debug_info: dwarf.DebugInfo | None = None
        self._expect_pos = 0
        self.last_call: CallResult | None = None
        self._hard_float = bool(_elf_flags(self.elf) & EF_ARM_ABI_FLOAT_HARD)
        self._trampoline: int | None = None

    def close(self) -> None:
        """Release the machine's engine now (Machine.close); the figures read so far stay valid."""
        self.machine.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- what a test looks at --------------------------------------------------------------
    @property
    def debug_info(self) -> dwarf.DebugInfo:
        if self._debug_info is None:
            self._debug_info = dwarf.load(self.elf)
        return self._debug_info

    @property
    def console(self) -> str:
        return self.machine.console.decode("utf-8", "replace")

    @property
    def instructions(self) -> int:
        return self.machine.instructions

    @property
    def cycles(self) -> int:
        return self.machine.cycles

    @property
    def seconds(self) -> float:
        """Virtual time so far, integrated over the clock timeline (the firmware may have changed the clock)."""
        return self.machine.now_seconds()

    @property
    def pc(self) -> int:
        self.machine.start()
        return self.machine.pc()

    @property
    def stop(self) -> Stop | None:
        """The final stop once the run is over (exit, fault, budget, ...), else None."""
        return self.machine.stop

    @property
    def where(self) -> str:
        return self.machine.fw.describe(self.pc)

    def result(self) -> RunResult:
        """Every figure of the run so far (what ``simcore.api.run`` returns at its end)."""
        m = self.machine
        stop = m.stop
        if stop is None:  # not a run ending: described as an interruption where it is
            stop = Stop(StopKind.INTERRUPTED, "not started" if not m._started else f"paused at {self.where}",
                        pc=m.pc() if m._started else None)
        return result_of(m, stop, self.t0)

    # --- registers and memory ----------------------------------------------------------------
    def reg(self, name: str) -> int:
        self.machine.start()
        if name.lower() == "pc":
            return self.machine.pc()
        return self.machine.uc.reg_read(_reg_id(name))

    def set_reg(self, name: str, value: int) -> None:
        self.machine.start()
        if name.lower() == "pc":
            self.debugger.settle()
            value |= 1
        self.machine.uc.reg_write(_reg_id(name), value)

    def mem_read(self, address: int, size: int) -> bytes:
        try:
            return self.machine.mem_read(address, size)
        except unicorn.UcError as exc:
            raise TargetError(f"cannot read {size} bytes at {address:#010x}: not mapped on "
                              f"{self.machine.board.name}") from exc

    def mem_write(self, address: int, data: bytes) -> None:
        try:
            self.machine.mem_write(address, data)
        except unicorn.UcError as exc:
            raise TargetError(f"cannot write {len(data)} bytes at {address:#010x}: not mapped on "
                              f"{self.machine.board.name}") from exc

    # --- globals by name ------------------------------------------------------------------------
    def var(self, path: str) -> Var:
        """``"cfg"``, ``"cfg.origin.x"``, ``"matrix[1][2]"``, ``"path[2].y"``."""
        parts = list(_PATH.finditer(path))
        if not parts or parts[0].group(1) is None or "".join(p.group(0) for p in parts) != path:
            raise TargetError(f"{path!r}: expected a variable name followed by .member and [index] parts")
        name = parts[0].group(1)
        try:
            v = self.debug_info.variable(name)
        except KeyError as exc:
            raise TargetError(str(exc.args[0])) from None
        var = Var(self, v.address, v.type, name)
        for p in parts[1:]:
            var = var[p.group(1)] if p.group(1) is not None else var[int(p.group(2))]
        return var

    def get(self, path: str) -> Any:
        return self.var(path).value

    def set(self, path: str, value: Any) -> None:
        self.var(path).value = value

    def address_of(self, symbol: str) -> int:
        sym = self.machine.fw.symbol(symbol)
        if sym is None:
            raise TargetError(f"no symbol {symbol!r} in {self.elf}")
        return sym.addr

    # --- console input ----------------------------------------------------------------------------
    def write(self, data: str | bytes) -> None:
        """Console input for the firmware: its semihosting stdin (SYS_READC / SYS_READ on handle 0)."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        sh = self.machine.semihosting
        sh.stdin = bytes(sh.stdin) + raw

    # --- running ------------------------------------------------------------------------------------
    def _addr(self, where: str | int) -> int:
        if isinstance(where, int):
            return where & ~1
        return self.address_of(where)

    def run(self) -> Stop | Pause:
        """Run to the end of the run (exit, fault, budget, ...) ignoring nothing: pauses at breakpoints return."""
        return self.debugger.cont()

    def run_to_end(self) -> Stop:
        """Run until the firmware stops for good; breakpoints set by the test are passed over."""
        m = self.machine
        while m.stop is None:
            self.debugger.cont()
        return m.stop

    def run_until(self, where: str | int, timeout_cycles: int | None = None) -> Pause:
        """Run until the instruction at a symbol or address is about to execute."""
        addr = self._addr(where)
        d = self.debugger
        used = d.add_breakpoint(addr)
        had = used in d.breakpoints and used != addr
        try:
            return self._run_until(lambda stop: stop.kind == "breakpoint" and stop.pc == used, timeout_cycles,
                                   f"reaching {where if isinstance(where, str) else hex(where)}")
        finally:
            if not had:
                d.remove_breakpoint(used)

    def run_for(self, cycles: int) -> Pause:
        """Run ``cycles`` more cycles (stops at the first block boundary at or after them)."""
        return self._run_until(lambda stop: stop.kind == "timeout", cycles, f"{cycles} cycles", timeout_ok=True)

    def expect(self, pattern: str | bytes | re.Pattern[str], timeout_cycles: int | None = None) -> re.Match[str]:
        """Run until ``pattern`` (a regular expression) appears in console output not matched before."""
        regex = re.compile(pattern.decode() if isinstance(pattern, bytes) else pattern) \
            if not isinstance(pattern, re.Pattern) else pattern
        m = self.machine
        found: list[re.Match[str]] = []

        def check() -> bool:
            # _expect_pos counts bytes since the start of the run; the machine keeps a tail of the console
            start = max(self._expect_pos - (m.console_bytes - len(m.console)), 0)
            raw = bytes(m.console[start:])
            text = raw.decode("utf-8", "replace")
            hit = regex.search(text)
            if hit is None:
                return False
            found.append(hit)
            self._expect_pos = m.console_bytes - len(raw) + len(text[:hit.end()].encode("utf-8", "replace"))
            return True

        if check():
            return found[0]

        def listener() -> None:
            if not found and check():
                m.request_pause(Pause("expect", f"console matched {regex.pattern!r}"))

        m.console_listeners.append(listener)
        try:
            self._run_until(lambda stop: bool(found), timeout_cycles, f"console output matching {regex.pattern!r}")
        finally:
            m.console_listeners.remove(listener)
        return found[0]

    def _run_until(self, done: Any, timeout_cycles: int | None, what: str, timeout_ok: bool = False) -> Pause:
        m = self.machine
        if m.stop is not None:
            raise RunEnded(self._ended(what))
        event = None
        if timeout_cycles is not None:
            m.start()
            event = m.schedule(m.now_cycles() + int(timeout_cycles),
                               lambda: setattr(m, "pause", Pause("timeout", f"{timeout_cycles:,} cycles passed")),
                               "test timeout")
        try:
            while True:
                stop = self.debugger.cont()
                if m.stop is not None:
                    raise RunEnded(self._ended(what))
                if done(stop):
                    return stop
                if stop.kind == "timeout" and not timeout_ok:
                    raise ExpectTimeout(f"{stop.message} without {what}; the firmware is at {self.where}\n"
                                        f"console tail:\n{_tail(self.console)}")
        finally:
            if event is not None:
                m.cancel(event)

    def _ended(self, what: str) -> str:
        stop = self.machine.stop
        assert stop is not None
        text = f"the run ended before {what}: {stop.message}\nconsole tail:\n{_tail(self.console)}"
        bt = stop.details.get("backtrace")
        if bt:
            text += "\nbacktrace:\n" + "\n".join(f"  {f}" for f in bt)
        return text

    # --- snapshots --------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        self.machine.start()
        snap = Snapshot.take(self.machine)
        snap.extra["expect_pos"] = self._expect_pos
        return snap

    def restore(self, snap: Snapshot) -> None:
        snap.restore(self.machine)
        self._expect_pos = snap.extra.get("expect_pos", 0)

    # --- calling firmware functions -------------------------------------------------------------------
    def call(self, function: str | int, *args: Any, timeout_cycles: int = DEFAULT_CALL_CYCLES) -> Any:
        """Call a C function with ``args`` (AAPCS, hard-float variant when the ELF uses it); its return value.

        Before the firmware booted, boots it to ``main`` first (so .data and .bss hold their
        initial values) without running main. The call runs on the current stack in the
        current mode, with interrupts as they are; afterwards the registers are put back, so
        a paused run resumes where it was (virtual time and counts include the call). Buffers
        (bytes, bytearray, lists, numpy arrays) for pointer parameters are copied below the
        stack; bytearrays, lists and numpy arrays get the function's writes back.
        ``self.last_call`` holds the value with the call's instructions and cycles.
        """
        m = self.machine
        self._boot_for_call()
        if m.stop is not None:
            raise RunEnded(self._ended(f"calling {function}"))
        addr, fn = self._function(function)
        if fn is not None and not fn.variadic and len(args) != len(fn.params):
            raise TargetError(f"{fn.name} takes {len(fn.params)} arguments "
                              f"({', '.join(f'{t.name} {n}' for n, t in fn.params)}), got {len(args)}")
        uc = m.uc
        d = self.debugger
        context = uc.context_save()
        paused = (d.paused_in, d._tail, dict(d._pause_dyn), m.pause)
        d.paused_in = None  # the call starts a fresh block wherever the run was paused
        types = [t for _n, t in fn.params] if fn is not None else [None] * len(args)
        if fn is not None and fn.variadic:
            types += [None] * (len(args) - len(types))
        sp = uc.reg_read(R.UC_ARM_REG_SP)
        sp, writebacks = self._marshal(sp, list(zip(types, args, strict=True)))
        tramp = self._return_address()
        uc.reg_write(R.UC_ARM_REG_LR, tramp | 1)
        uc.reg_write(R.UC_ARM_REG_PC, addr | 1)
        insn0, cyc0 = m.instructions, m.cycles
        name = fn.name if fn is not None else f"{addr:#x}"
        try:
            self._run_until_return(tramp, timeout_cycles, name)
            value = self._return_value(fn.returns if fn is not None else None)
            for buf_addr, ctype, obj in writebacks:
                _write_back(obj, self.mem_read(buf_addr, len(_buffer_bytes(ctype, obj))), ctype)
        finally:
            if m.stop is None:
                d.paused_in, d._tail, d._pause_dyn, m.pause = paused[0], paused[1], paused[2], paused[3]
                uc.context_restore(context)
        self.last_call = CallResult(value, m.instructions - insn0, m.cycles - cyc0)
        return value

    def _boot_for_call(self) -> None:
        m = self.machine
        if m.instructions:  # the firmware ran already: its start-up code did its work
            return
        if m.fw.symbol("main") is not None:
            self.run_until("main")
            return
        m.start()  # no main: initialise .data and .bss from the sections, as the C start-up would
        for sec in m.fw.sections:
            if not sec.writable or sec.size == 0:
                continue
            if sec.kind == "nobits":
                self.mem_write(sec.vma, bytes(sec.size))
            elif sec.lma != sec.vma:
                self.mem_write(sec.vma, self.mem_read(sec.lma, sec.size))

    def _function(self, function: str | int) -> tuple[int, dwarf.Function | None]:
        if isinstance(function, int):
            return function & ~1, None
        fn = self.debug_info.function(function)
        sym = self.machine.fw.symbol(function)
        if fn is None and sym is None:
            raise TargetError(f"no function {function!r} in {self.elf}")
        if fn is not None and fn.returns.kind in ("struct", "union") and fn.returns.size > 4:
            raise TargetError(f"{function} returns a {fn.returns.name} in memory: not supported by call()")
        return (fn.address if fn is not None else sym.addr), fn  # type: ignore[union-attr]

    def _return_address(self) -> int:
        """Where called functions return to: a page of its own outside the part's memories (no flash wait
        states to charge), in the executable external-RAM range of the Cortex-M map (ARMv7-M B3.1)."""
        if self._trampoline is None:
            m = self.machine
            for page in range(0x9FFFF000, 0x60000000, -0x100000):
                if m.board.memory_at(page, 0x1000) is None and not any(
                        mem.base < page + 0x1000 and page < mem.end for mem in m.board.memories):
                    break
            else:
                raise TargetError("no free address range for the call's return address")
            try:
                m.uc.mem_map(page, 0x1000, unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)
            except unicorn.UcError as exc:
                raise TargetError(f"cannot map the call's return page at {page:#x}: {exc}") from exc
            self._trampoline = page + 0x800
        return self._trampoline

    def _run_until_return(self, tramp: int, timeout_cycles: int, name: str) -> None:
        d = self.debugger
        used = d.add_breakpoint(tramp)
        try:
            self._run_until(lambda stop: stop.kind == "breakpoint" and stop.pc == used, timeout_cycles,
                            f"{name} returning")
        finally:
            d.remove_breakpoint(used)

    def _marshal(self, sp: int, args: list[tuple[dwarf.CType | None, Any]]) -> tuple[int, list[Any]]:
        """AAPCS argument passing (ARM IHI 0042, 6.5): core registers, VFP registers (hard float), stack."""
        uc = self.machine.uc
        writebacks: list[tuple[int, dwarf.CType | None, Any]] = []
        # buffers for pointer arguments first, below the current stack, 8-aligned
        values: list[tuple[dwarf.CType | None, Any]] = []
        for ctype, arg in args:
            if _is_buffer(arg):
                elem = ctype.element if ctype is not None and ctype.kind == "pointer" else None
                raw = _buffer_bytes(elem, arg)
                sp = (sp - len(raw) - 8) & ~7
                self.mem_write(sp, raw)
                if isinstance(arg, bytearray | list) or type(arg).__module__ == "numpy":
                    writebacks.append((sp, elem, arg))
                values.append((ctype, sp))
            else:
                values.append((ctype, arg))
        ncrn = 0
        singles = [False] * 16  # VFP s0-s15 allocation with back-filling (6.5, C.1-C.3)
        vfp_on_stack = False
        stack: list[tuple[int, bytes]] = []  # (alignment, bytes)
        core: list[int] = [0, 0, 0, 0]
        for ctype, arg in values:
            kind = ctype.kind if ctype is not None else ("float" if isinstance(arg, float) else "int")
            size = ctype.size if ctype is not None else (8 if isinstance(arg, float) else 4)
            if ctype is None and isinstance(arg, float):
                ctype = dwarf.CType("float", "double", 8)
            if kind in ("struct", "union", "array"):
                raise TargetError(f"argument of type {ctype.name if ctype else '?'} by value: not supported "
                                  "by call() (pass a pointer)")
            if kind == "float":
                raw = struct.pack("<f" if size == 4 else "<d", float(arg))
                if self._hard_float and not vfp_on_stack:
                    need = 1 if size == 4 else 2
                    slot = next((i for i in range(0, 16, need) if not any(singles[i:i + need])), None)
                    if slot is not None:
                        for i in range(need):
                            singles[slot + i] = True
                        if size == 4:
                            uc.reg_write(getattr(R, f"UC_ARM_REG_S{slot}"), struct.unpack("<I", raw)[0])
                        else:
                            uc.reg_write(getattr(R, f"UC_ARM_REG_D{slot // 2}"), struct.unpack("<Q", raw)[0])
                        continue
                    vfp_on_stack = True
                    stack.append((size, raw))
                    continue
                word = int.from_bytes(raw, "little")
            else:
                v = arg
                if ctype is not None and ctype.kind == "enum" and isinstance(arg, str):
                    v = ctype.enumerators[arg]
                word = int(v) & ((1 << (8 * max(size, 4))) - 1)
                raw = word.to_bytes(max(size, 4), "little")
            if size == 8:
                ncrn += ncrn & 1
                if ncrn <= 2:
                    core[ncrn], core[ncrn + 1] = word & 0xFFFFFFFF, word >> 32
                    ncrn += 2
                else:
                    ncrn = 4
                    stack.append((8, raw))
            elif ncrn < 4:
                core[ncrn] = word & 0xFFFFFFFF
                ncrn += 1
            else:
                stack.append((4, raw[:4]))
        for i in range(4):
            uc.reg_write(getattr(R, f"UC_ARM_REG_R{i}"), core[i])
        layout = bytearray()
        for align, raw in stack:
            layout += bytes(-len(layout) % align) + raw
        sp = (sp - len(layout)) & ~7
        if layout:
            self.mem_write(sp, bytes(layout))
        uc.reg_write(R.UC_ARM_REG_SP, sp)
        return sp, writebacks

    def _return_value(self, ctype: dwarf.CType | None) -> Any:
        uc = self.machine.uc
        if ctype is None:
            return uc.reg_read(R.UC_ARM_REG_R0)
        if ctype.kind == "void":
            return None
        if ctype.kind == "float":
            if self._hard_float:
                raw = (uc.reg_read(R.UC_ARM_REG_S0).to_bytes(4, "little") if ctype.size == 4
                       else uc.reg_read(R.UC_ARM_REG_D0).to_bytes(8, "little"))
            else:
                raw = (uc.reg_read(R.UC_ARM_REG_R0) | uc.reg_read(R.UC_ARM_REG_R1) << 32).to_bytes(8, "little")
            return dwarf.decode(ctype, raw[: ctype.size])
        word = uc.reg_read(R.UC_ARM_REG_R0) | (uc.reg_read(R.UC_ARM_REG_R1) << 32 if ctype.size == 8 else 0)
        return dwarf.decode(ctype, word.to_bytes(8, "little"))


def _reg_id(name: str) -> int:
    rid = getattr(R, f"UC_ARM_REG_{name.upper()}", None)
    if rid is None:
        raise TargetError(f"no register {name!r} (r0-r12, sp, lr, pc, xpsr, msp, psp, primask, basepri, "
                          "faultmask, control, s0-s31, d0-d15, fpscr)")
    return rid


def _is_buffer(arg: Any) -> bool:
    return isinstance(arg, bytes | bytearray | str | list | tuple) or type(arg).__module__ == "numpy"


def _buffer_bytes(elem: dwarf.CType | None, arg: Any) -> bytes:
    if isinstance(arg, str):
        return arg.encode() + b"\0"
    if isinstance(arg, bytes | bytearray):
        return bytes(arg)
    if type(arg).__module__ == "numpy":
        return arg.tobytes()
    if elem is None or elem.size == 0:
        elem = dwarf.CType("int", "int32_t", 4, signed=True)
    return b"".join(dwarf.encode(elem, v) for v in arg)


def _write_back(obj: Any, raw: bytes, elem: dwarf.CType | None) -> None:
    if isinstance(obj, bytearray):
        obj[:] = raw
    elif isinstance(obj, list):
        e = elem if elem is not None and elem.size else dwarf.CType("int", "int32_t", 4, signed=True)
        obj[:] = [dwarf.decode(e, raw[i:i + e.size]) for i in range(0, len(raw), e.size)]
    elif type(obj).__module__ == "numpy":
        obj.reshape(-1).view("u1")[:] = bytearray(raw)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join("  | " + line for line in text.rstrip("\n").splitlines()[-lines:]) or "  (nothing printed)"


def _elf_flags(path: Path) -> int:
    with open(path, "rb") as f:
        head = f.read(0x28)
    return int.from_bytes(head[0x24:0x28], "little") if len(head) >= 0x28 else 0


__all__ = ["Target", "Var", "CallResult", "TargetError", "ExpectTimeout", "RunEnded", "Snapshot"]
