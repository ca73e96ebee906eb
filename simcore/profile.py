"""Profiles of a run: cycles per function (from the hot path's shadow call stack) and per model op.

Functions: the hot path (native or its Python twin) keeps a shadow call stack while
profiling: a frame is pushed at the block after a BL/BLX (the return address is that
block's fall-through) or at the first block of an exception handler (the return address
is the stacked PC), and popped when a block starts at the top frame's return address. Frames
aggregate into a calling-context tree (calls, inclusive and exclusive cycles per node), from
which this module derives the per-function table, collapsed stacks for speedscope, and the
interrupt timeline. Tail calls are charged to the function that made them; a frame that is
never returned to (longjmp, a context switch) stays open until the end of the run.

Model ops: simcore's ML runtime (firmware/runtime) writes ITM stimulus port 1 at an op's
start and port 2 at its end, value = op index | TFLite builtin code << 16 (tm_interp.c,
``TM_MARK``). The markers arrive through the system block's ITM listener API
(``system.itm.on_write(listener(port, value, cycle))``); on a system block without an ITM
the writes to the stimulus ports are tapped directly.

The profiler costs nothing unless enabled: ``simcore profile`` or :func:`attach` before the run.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simcore.machine import Machine

PORT_OP_BEGIN = 1
PORT_OP_END = 2

# TFLite BuiltinOperator codes used by firmware/runtime (tm_internal.h) and a few more.
BUILTIN_NAMES = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL",
    22: "RESHAPE", 25: "SOFTMAX", 28: "TANH", 34: "PAD", 40: "MEAN", 114: "QUANTIZE",
}


def op_name(code: int) -> str:
    return BUILTIN_NAMES.get(code, f"OP_{code}")


@dataclass
class FunctionStats:
    """One function's totals over the run (recursion counted once in ``inclusive``)."""

    name: str
    addr: int
    calls: int = 0
    inclusive: int = 0
    exclusive: int = 0
    isr: bool = False


@dataclass
class OpSpan:
    """One execution of one model op between its ITM begin and end markers."""

    index: int
    code: int
    start: int
    end: int

    @property
    def name(self) -> str:
        return op_name(self.code)

    @property
    def cycles(self) -> int:
        return self.end - self.start


@dataclass
class Node:
    """A calling-context tree node (as the hot path aggregates it)."""

    parent: int
    func: int
    isr: bool
    calls: int
    incl: int
    excl: int


@dataclass
class Profile:
    """Everything ``simcore profile`` reports and exports."""

    mhz: float
    cycles: int
    instructions: int
    nodes: list[Node]
    names: dict[int, str]
    ops: list[OpSpan] = field(default_factory=list)
    isr_events: list[tuple[int, int, int]] = field(default_factory=list)  # (1 enter / 2 leave, addr, cycle)
    sensor_events: list[tuple[str, int]] = field(default_factory=list)  # (tag, cycle)
    dropped_frames: int = 0
    unmatched_markers: int = 0
    sleep_cycles: int = 0  # in WFI/WFE: part of the exclusive cycles of the function that slept

    def name(self, addr: int) -> str:
        return self.names.get(addr, f"0x{addr:08x}")

    def stack(self, idx: int) -> list[int]:
        """Node indices from the root down to ``idx``."""
        out = []
        while idx != NO_NODE:
            out.append(idx)
            idx = self.nodes[idx].parent
        return out[::-1]

    def functions(self) -> list[FunctionStats]:
        """Per-function totals, interrupt handlers included (flagged ``isr``), by exclusive cycles."""
        stats: dict[tuple[int, bool], FunctionStats] = {}
        for n in self.nodes:
            key = (n.func, n.isr)
            st = stats.get(key)
            if st is None:
                st = stats[key] = FunctionStats(self.name(n.func), n.func, isr=n.isr)
            st.calls += n.calls
            st.exclusive += n.excl
            # inclusive once per outermost activation: skip nodes with the same function above them
            p = n.parent
            nested = False
            while p != NO_NODE:
                if self.nodes[p].func == n.func:
                    nested = True
                    break
                p = self.nodes[p].parent
            if not nested:
                st.inclusive += n.incl
        return sorted(stats.values(), key=lambda s: -s.exclusive)

    def op_totals(self) -> list[tuple[int, str, int, int]]:
        """(op index, op name, executions, total cycles) in op order."""
        agg: dict[int, list[Any]] = {}
        for op in self.ops:
            row = agg.setdefault(op.index, [op.index, op.name, 0, 0])
            row[2] += 1
            row[3] += op.cycles
        return [tuple(agg[k]) for k in sorted(agg)]  # type: ignore[misc]

    def collapsed(self) -> list[tuple[list[str], int]]:
        """(stack of names from the root, exclusive cycles) per calling-context node with cycles."""
        out = []
        for i, n in enumerate(self.nodes):
            if n.excl:
                names = [self.name(self.nodes[j].func) + (" [isr]" if self.nodes[j].isr else "")
                         for j in self.stack(i)]
                out.append((names, n.excl))
        return out

    def table(self, top: int = 25) -> str:
        """The text ``simcore profile`` prints."""
        total = max(self.cycles, 1)
        lines = [f"{'function':<40} {'exclusive':>14} {'%':>6} {'inclusive':>14} {'%':>6} {'calls':>10}"]
        funcs = self.functions()
        for f in [f for f in funcs if not f.isr][:top]:
            lines.append(f"{f.name[:40]:<40} {f.exclusive:>14,} {f.exclusive * 100 / total:>5.1f}% "
                         f"{f.inclusive:>14,} {f.inclusive * 100 / total:>5.1f}% {f.calls:>10,}")
        isrs = [f for f in funcs if f.isr]
        if isrs:
            lines.append("")
            lines.append(f"{'interrupt handler':<40} {'exclusive':>14} {'%':>6} {'inclusive':>14} {'%':>6} "
                         f"{'entries':>10}")
            for f in isrs:
                lines.append(f"{f.name[:40]:<40} {f.exclusive:>14,} {f.exclusive * 100 / total:>5.1f}% "
                             f"{f.inclusive:>14,} {f.inclusive * 100 / total:>5.1f}% {f.calls:>10,}")
        ops = self.op_totals()
        if ops:
            lines.append("")
            lines.append(f"{'op':>4} {'model op':<24} {'runs':>6} {'cycles':>14} {'%':>6} {'ms/run':>9}")
            op_total = sum(o[3] for o in ops) or 1
            for idx, name, runs, cyc in ops:
                ms = cyc / runs / (self.mhz * 1e3)
                lines.append(f"{idx:>4} {name:<24} {runs:>6} {cyc:>14,} {cyc * 100 / op_total:>5.1f}% {ms:>9.3f}")
            lines.append(f"{'':>4} {'all ops':<24} {'':>6} {op_total:>14,} {op_total * 100 / total:>5.1f}% of the run")
        if self.sleep_cycles:
            lines.append(f"note: {self.sleep_cycles:,} cycles ({self.sleep_cycles * 100 / total:.1f}%) were spent "
                         "asleep in WFI/WFE, counted in the function that executed it")
        if self.dropped_frames:
            lines.append(f"note: {self.dropped_frames} calls deeper than the shadow stack were not recorded")
        if self.unmatched_markers:
            lines.append(f"note: {self.unmatched_markers} ITM op markers did not pair up (begin without end)")
        return "\n".join(lines)


NO_NODE = 0xFFFFFFFF


class Profiler:
    """Attach to a machine before its run; :meth:`finish` after it returns the :class:`Profile`."""

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self._open_ops: dict[int, tuple[int, int]] = {}
        self.ops: list[OpSpan] = []
        self.unmatched = 0
        self.sensor_events: list[tuple[str, int]] = []
        handlers = self._handlers()
        machine.hot.enable_profile(machine.start_pc, handlers)
        self._attach_itm()
        self._tap_events()

    def _handlers(self) -> frozenset[int]:
        """Exception handler addresses from the vector table (entry 1, reset, is the root)."""
        b = self.m.board
        vtor = b.resolve_alias(b.reset_vtor)
        n = 16 + b.num_irq
        try:
            raw = self.m.mem_read(vtor, 4 * n)
        except Exception:  # noqa: BLE001 - no vector table: no interrupt frames
            return frozenset()
        words = struct.unpack(f"<{n}I", raw)
        out = set()
        for w in words[2:]:
            if w & 1 and b.memory_at(b.resolve_alias(w & ~1), 2) is not None:
                out.add(b.resolve_alias(w & ~1))
                out.add(w & ~1)
        return frozenset(out)

    def _attach_itm(self) -> None:
        self.m.system.itm.on_write(self.on_itm)

    def _tap_events(self) -> None:
        m = self.m
        original = m.schedule

        def schedule(at_cycle: int, callback: Callable[[], None], tag: str = "") -> Any:
            def fired() -> None:
                if len(self.sensor_events) < 200_000:
                    self.sensor_events.append((tag or getattr(callback, "__qualname__", "event"), m.now_cycles()))
                callback()

            return original(at_cycle, fired, tag)

        m.schedule = schedule

    def on_itm(self, port: int, value: int, cycle: int) -> None:
        """ITM listener: op markers on ports 1 (begin) and 2 (end)."""
        idx, code = value & 0xFFFF, (value >> 16) & 0xFFFF
        if port == PORT_OP_BEGIN:
            if idx in self._open_ops:
                self.unmatched += 1
            self._open_ops[idx] = (code, cycle)
        elif port == PORT_OP_END:
            begun = self._open_ops.pop(idx, None)
            if begun is None:
                self.unmatched += 1
                return
            self.ops.append(OpSpan(idx, begun[0], begun[1], cycle))

    def finish(self) -> Profile:
        """Close the open frames at the current cycle and collect the profile."""
        hot = self.m.hot
        hot.profile_pop_all()
        nodes = [Node(p, f, bool(i), c, inc, exc) for p, f, i, c, inc, exc in hot.profile_nodes()]
        names: dict[int, str] = {}
        for n in nodes:
            if n.func not in names:
                sym = self.m.fw.function_at(n.func)
                names[n.func] = sym.name if sym is not None and sym.addr == n.func else (
                    f"{sym.name}+0x{n.func - sym.addr:x}" if sym is not None else f"0x{n.func:08x}")
        return Profile(
            mhz=self.m.mhz, cycles=self.m.cycles, instructions=self.m.instructions, nodes=nodes, names=names,
            ops=list(self.ops), isr_events=hot.profile_events(), sensor_events=list(self.sensor_events),
            dropped_frames=hot.state.dropped, unmatched_markers=self.unmatched + len(self._open_ops),
            sleep_cycles=self.m.system.sleep_cycles,
        )


def attach(machine: Machine) -> Profiler:
    """Start profiling a machine that has not run yet."""
    return Profiler(machine)
