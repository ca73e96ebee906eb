"""Snapshots of a machine: boot once, save, restore many times (counts after a restore equal a fresh run).

A snapshot holds the CPU context (Unicorn's context save: every register, FPU, M-profile
banked state), the contents of every RAM, the hot path's counters, flash wait states and cache
tags (not its pointers) and its divide statistics, the peripheral bus's register file in C
(values, per-register counters and poll state: ``PeripheralBus.save``), the polling watch's C table
of learnt loop shapes, and the Python state of everything the machine owns: the system block, the
peripheral models (RCC, PWR, FLASH, the watchdogs...), the clock service and its timeline, the event
queue, the polling-loop watch, the console, the semihosting state, the resets, the stop and pause.

The Python state is restored *in place*: taking a snapshot walks the object graph from the
machine and records, for every mutable object it reaches (instances, lists, dicts, sets,
bytearrays, numpy arrays), a shallow copy of its contents; restoring writes those contents
back into the same objects. Identity is kept, so callbacks bound to a peripheral, closures
and the C side's pointers stay valid, and objects created after the snapshot simply become
unreachable. What is deliberately not rolled back: Unicorn hooks and what records them
(breakpoints, watchpoints, trap hooks, IT-instruction hooks: they stay installed, which
changes no count; the polling watch's RAM hooks are added or removed to match its restored
state), analysis caches (the hot path's table keeps its analyses, which the persistent block
cache may have supplied, and their first-execution flash-data probes, which a deterministic
run repeats identically; only the per-block execution counts are put back), and host
resources (open host files, recordings already read from disk keep their position; take
snapshots before sensors start streaming).
"""

from __future__ import annotations

import copy
import ctypes
import io
import itertools
import random
import types
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simcore.machine import Machine

_ATOMIC = (int, float, complex, str, bytes, bool, type(None), range, type, types.FunctionType,
           types.BuiltinFunctionType, types.ModuleType, types.CodeType, Enum, frozenset, memoryview)
_RESOURCES = (io.IOBase, ctypes._SimpleCData, ctypes.Structure, ctypes.Array, ctypes._Pointer,  # type: ignore[attr-defined]
              ctypes._CFuncPtr)  # type: ignore[attr-defined]
# Attributes holding Unicorn hook handles or caches: never rolled back (class name -> attribute names)
KEEP = {
    "Machine": {"uc", "hot", "analyzer", "fw", "board", "layout", "opts", "debugger", "_buffers", "_read_pc",
                "_core_regs", "self_loops", "console_listeners"},
    "SystemBlock": {"_trap_hooks", "watched"},
    "Debugger": {"m", "breakpoints", "watchpoints", "_step_handle", "_cs", "_stepping", "_it_cache"},
    "PollWatch": {"m", "regs", "_ram", "_hooks"},  # its RAM-read hooks: reconciled with its watch on restore
    "NativeRegFile": {"_stores_p"},  # where C keeps the values now (it moves only when values are added)
}
# Immutable after loading, or owned by the engine: never walked (module roots and class names)
_FOREIGN_MODULES = {"unicorn", "capstone", "elftools", "threading", "socket", "_io", "io", "weakref"}
_FOREIGN_CLASSES = {"Firmware", "Board", "Layout", "BlockAnalyzer", "HotPath", "CycleModel", "CortexM4Model",
                    "InstructionCount", "Symbol", "Section", "Segment", "Memory", "Peripheral", "RunOptions"}
_COPY_FRESH = (itertools.count,)  # opaque iterators: restored as a fresh copy of their saved value


@dataclass
class _Fresh:
    value: Any


def _slot(value: Any) -> Any:
    return _Fresh(copy.copy(value)) if isinstance(value, _COPY_FRESH) else value


def _unslot(value: Any) -> Any:
    return copy.copy(value.value) if isinstance(value, _Fresh) else value


@dataclass
class _Walk:
    records: list[tuple[Any, Any]] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    def visit(self, obj: Any) -> None:
        stack = [obj]
        while stack:
            o = stack.pop()
            if isinstance(o, _ATOMIC) or isinstance(o, _RESOURCES) or id(o) in self.seen:
                continue
            cls = type(o)
            if cls.__module__.partition(".")[0] in _FOREIGN_MODULES or cls.__name__ in _FOREIGN_CLASSES:
                continue
            self.seen.add(id(o))
            if isinstance(o, list | deque):
                self.records.append((o, [_slot(v) for v in o]))
                stack.extend(o)
            elif isinstance(o, dict):
                self.records.append((o, {k: _slot(v) for k, v in o.items()}))
                stack.extend(o.values())
            elif isinstance(o, set):
                self.records.append((o, set(o)))
                stack.extend(o)
            elif isinstance(o, bytearray):
                self.records.append((o, bytes(o)))
            elif isinstance(o, tuple):
                stack.extend(o)
            elif isinstance(o, types.MethodType):
                stack.append(o.__self__)
            elif isinstance(o, random.Random):
                self.records.append((o, ("random", o.getstate())))
            elif type(o).__module__ == "numpy" and hasattr(o, "flags"):
                if o.flags.writeable and o.base is None:
                    self.records.append((o, ("ndarray", o.copy())))
            elif hasattr(o, "__dict__") and not isinstance(o, _COPY_FRESH):
                keep = KEEP.get(type(o).__name__, ())
                values = {k: v for k, v in vars(o).items() if k not in keep}
                self.records.append((o, ("object", {k: _slot(v) for k, v in values.items()}, keep)))
                stack.extend(values.values())
                for name in getattr(type(o), "__slots__", ()):
                    if hasattr(o, name) and name not in keep:
                        stack.append(getattr(o, name))
            elif hasattr(type(o), "__slots__"):
                names = [n for c in type(o).__mro__ for n in getattr(c, "__slots__", ()) if hasattr(o, n)]
                self.records.append((o, ("slots", {n: _slot(getattr(o, n)) for n in names})))
                stack.extend(getattr(o, n) for n in names)


def _restore(obj: Any, saved: Any) -> None:
    if isinstance(obj, list | deque):
        obj.clear()
        obj.extend(_unslot(v) for v in saved)
    elif isinstance(obj, dict):
        obj.clear()
        obj.update({k: _unslot(v) for k, v in saved.items()})
    elif isinstance(obj, set):
        obj.clear()
        obj.update(saved)
    elif isinstance(obj, bytearray):
        obj[:] = saved
    elif saved[0] == "random":
        obj.setstate(saved[1])
    elif saved[0] == "ndarray":
        obj[...] = saved[1]
    elif saved[0] == "object":
        _kind, state, keep = saved
        d = vars(obj)
        for k in [k for k in d if k not in keep and k not in state]:
            del d[k]
        d.update({k: _unslot(v) for k, v in state.items()})
    elif saved[0] == "slots":
        for k, v in saved[1].items():
            setattr(obj, k, _unslot(v))


def _hot_fields(state: Any) -> list[str]:
    """HotState fields that are values, not pointers into C memory or the table's geometry."""
    out = []
    for name, ctype in state._fields_:
        if name in ("table", "mask", "used", "hot_at", "dv_on"):  # dv_on: a setting (HotPath.disable_defer), not state
            continue
        if ctype is ctypes.c_void_p or (issubclass(ctype, ctypes.Array) and ctype._type_ is ctypes.c_void_p):
            continue
        out.append(name)
    return out


@dataclass
class Snapshot:
    """Everything needed to put a machine back where it was (``Snapshot.take(m)``, ``snap.restore(m)``)."""

    context: Any
    ram: list[tuple[int, bytes, bool]]
    hot: dict[str, Any]
    tags: tuple[bytes, bytes]
    records: list[tuple[Any, Any]]
    execs: dict[tuple[int, int], int] = field(default_factory=dict)  # per-block executions (error bars)
    bus: Any = None  # the register file's C state (PeripheralBus.save)
    divides: tuple[int, int] = (0, 0)  # the hot path's divide statistics (executed, cycles above minimum)
    polls: bytes | None = None  # the polling watch's C table of learnt loop shapes (poll.py _NativePolls.save)
    extra: dict[str, Any] = field(default_factory=dict)  # what a caller keeps with it (simcore.target)

    @classmethod
    def take(cls, m: Machine) -> Snapshot:
        if m.hot.state.profiling:
            raise ValueError("snapshots of a profiling run are not supported (the profiler's tables live in C)")
        m.hot.end_streak()  # the counters whole (a snapshot taken from a hook mid-run); saved with no streak
        ram = []
        for mem in m.board.memories:
            if mem.kind == "ram":
                ram.append((mem.base, bytes(m.uc.mem_read(mem.base, mem.size)), bool(mem.executable)))
        s = m.hot.state
        hot = {}
        for name in _hot_fields(s):
            value = getattr(s, name)
            hot[name] = list(value) if isinstance(value, ctypes.Array) else value
        tags = (bytes(m.hot._itags), bytes(m.hot._dtags))
        walk = _Walk()
        walk.visit(m)
        if m.debugger is not None:  # its pause state (inside which block, the tail taken off), not its hooks
            walk.visit(m.debugger)
        div = m.hot.div_stats
        native_polls = m.polls.native
        return cls(m.uc.context_save(), ram, hot, tags, walk.records, m.hot.block_executions(), bus=m.bus.save(),
                   divides=(div.executed, div.extra),
                   polls=native_polls.save() if native_polls is not None else None)

    def restore(self, m: Machine) -> None:
        """Put ``m`` back; outside emulation only (not from a hook)."""
        code_changed = _ram_code_changed(m, self.ram)
        for base, data, _executable in self.ram:
            m.uc.mem_write(base, data)
        m.uc.context_restore(self.context)
        s = m.hot.state
        for name, value in self.hot.items():
            if isinstance(value, list):
                getattr(s, name)[:] = value
            else:
                setattr(s, name, value)
        ctypes.memmove(m.hot._itags, self.tags[0], len(self.tags[0]))
        ctypes.memmove(m.hot._dtags, self.tags[1], len(self.tags[1]))
        m.hot.forget_flash_stamps()  # after the hot fields: the restored art_gen is another timeline's
        for obj, saved in self.records:
            _restore(obj, saved)
        m.bus.load(self.bus)  # after the Python side: its entries and the register file agree again
        div = m.hot.div_stats
        div.executed, div.extra = self.divides
        _restore_executions(m.hot, self.execs)
        if self.polls is not None and m.polls.native is not None:
            m.polls.native.load(self.polls)
        polls = m.polls  # RAM-read hooks are not rolled back: have the run loop add or remove them
        if polls.watch is not None and not polls._hooks:
            polls._want = "watch"
        elif polls.watch is None and polls._hooks:
            polls._want = "unwatch"
        if code_changed:  # code in RAM differs from what was translated and priced (execution counts restart)
            m.uc.ctl_flush_tb()
            m.hot.forget_code()


def _restore_executions(hot: Any, execs: dict[tuple[int, int], int]) -> None:
    """Per-block execution counts back to the snapshot's (they feed the cycle error bar)."""
    if not hot.native:
        hot._py_execs.clear()
        hot._py_execs.update(execs)
        return
    for block in hot._table():  # views into the C table
        block.execs = execs.get((block.addr, block.size), 0)


def _ram_code_changed(m: Any, ram: list[tuple[int, bytes, bool]]) -> bool:
    """Do the saved RAM contents differ from the current ones where blocks were translated from RAM?"""
    hot = m.hot
    blocks = [(b.addr, b.size) for b in hot._table()] if hot.native else list(hot._py_table)
    for base, data, executable in ram:
        if not executable:
            continue
        for addr, size in blocks:
            if base <= addr < base + len(data):
                off = addr - base
                if bytes(m.uc.mem_read(addr, size)) != data[off:off + size]:
                    return True
    return False
