"""A fake :class:`~simcore.peripherals.base.Host` for driving peripherals without a CPU.

The clock only moves when the test says so (``advance_to`` runs the events that fall due,
in time order, with the clock set to each event's cycle); RAM is a bytearray; IRQ line
changes and pends are logged with their cycle so tests can assert exact timing. The clock
service is the machine's own (:class:`simcore.clock.Clocks`): named clocks, a timeline,
events at virtual times that keep their time when ``set_clocks`` changes the core clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simcore.board import Peripheral
from simcore.clock import Clocks
from simcore.runtypes import AccessKind, Event, EventQueue, ReportChannel


class FakeHost:
    """Manual virtual clock, an event queue, RAM at ``ram_base`` and logs of IRQs and reports."""

    def __init__(self, mhz: float = 64.0, ram_base: int = 0x20000000, ram_size: int = 256 * 1024) -> None:
        self.cycles = 0
        self.clocks = Clocks(mhz * 1e6)
        self.peripherals: dict[str, Any] = {}  # what ``peripheral(name)`` finds (tests add models)
        self.ram_base = ram_base
        self.ram = bytearray(ram_size)
        self.queue = EventQueue()
        self.irq_levels: dict[int, bool] = {}
        self.irq_log: list[tuple[int, int, bool]] = []  # (cycle, irq, level)
        self.pends: list[tuple[int, int]] = []
        self.console: list[tuple[bytes, str]] = []
        self.unmodelled: dict[str, str] = {}  # every report, by place: the first detail
        self.channels: dict[str, ReportChannel] = {}  # ... and its channel
        self.fired: list[tuple[int, str]] = []
        self.resets: list[tuple[int, str, str]] = []  # (cycle, cause, why) of every request_reset

    # --- Host protocol -------------------------------------------------------------------
    def now_cycles(self) -> int:
        return self.cycles

    def cycles_per_second(self) -> float:
        return self.clocks.core_hz

    @property
    def hz(self) -> float:
        return self.clocks.core_hz

    def now_fs(self) -> int:
        return self.clocks.timeline.fs_at(self.cycles)

    def now_seconds(self) -> float:
        return self.clocks.timeline.seconds_at(self.cycles)

    def clock_hz(self, name: str = "HCLK") -> float:
        return self.clocks.hz(name)

    def on_clock_change(self, callback: Callable[[], None]) -> None:
        self.clocks.listeners.append(callback)

    def cycle_at_fs(self, at_fs: int) -> int:
        return self.clocks.timeline.cycle_at(at_fs)

    def schedule_at_fs(self, at_fs: int, callback: Callable[[], Any], tag: str = "") -> Event:
        ev = self.queue.schedule(max(self.clocks.timeline.cycle_at(at_fs), self.cycles), callback, tag)
        ev.at_fs = at_fs
        return ev

    def peripheral(self, name: str) -> Any:
        return self.peripherals.get(name.lower())

    def clock_tree_changed(self, model: Any) -> None:
        """A clock model (RCC) under test changed its clocks: as the machine does it."""
        self.clocks.model_changed(model, self.cycles, 0, self.queue)
        self.clocks.notify()

    def flash_timing(self, wait_states: int, accelerator: int, prefetch: bool) -> None:
        self.flash = (wait_states, accelerator, prefetch)

    def clock_follows_firmware(self) -> bool:
        return self.clocks.follows_firmware

    def request_reset(self, cause: str, why: str) -> None:
        self.resets.append((self.cycles, cause, why))

    def console_write(self, data: bytes, source: str) -> None:
        self.console.append((data, source))

    def set_irq(self, irq: int, level: bool) -> None:
        self.irq_levels[irq] = level
        self.irq_log.append((self.cycles, irq, level))

    def pend_irq(self, irq: int) -> None:
        self.pends.append((self.cycles, irq))

    def schedule(self, at_cycle: int, callback: Callable[[], Any], tag: str) -> Event:
        if at_cycle < self.cycles:
            raise ValueError(f"event {tag} scheduled in the past ({at_cycle} < {self.cycles})")
        return self.queue.schedule(at_cycle, callback, tag)

    def cancel(self, handle: Event) -> None:
        self.queue.cancel(handle)

    def mem_read(self, addr: int, size: int) -> bytes:
        off = addr - self.ram_base
        if off < 0 or off + size > len(self.ram):
            raise ValueError(f"read of {size} bytes at {addr:#x} outside fake RAM")
        return bytes(self.ram[off : off + size])

    def mem_write(self, addr: int, data: bytes) -> None:
        off = addr - self.ram_base
        if off < 0 or off + len(data) > len(self.ram):
            raise ValueError(f"write of {len(data)} bytes at {addr:#x} outside fake RAM")
        self.ram[off : off + len(data)] = data

    def report(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None = None) -> None:
        self.unmodelled.setdefault(where, detail)
        self.channels.setdefault(where, channel)

    # --- test controls -------------------------------------------------------------------
    def next_event_cycle(self) -> int | None:
        return self.queue.next_cycle()

    def advance_to(self, cycle: int) -> None:
        """Run every event due up to ``cycle`` in order, then leave the clock at ``cycle``."""
        while (ev := self.queue.pop_due(cycle)) is not None:
            self.cycles = ev.at_cycle
            self.fired.append((ev.at_cycle, ev.tag))
            ev.callback()
        self.cycles = max(self.cycles, cycle)

    def advance_seconds(self, seconds: float) -> None:
        self.advance_to(self.cycles + round(seconds * self.hz))

    def advance_fs(self, fs: int) -> None:
        """Move virtual time on by ``fs`` femtoseconds (at the clocks in force)."""
        self.advance_to(self.clocks.timeline.cycle_at(self.now_fs() + fs))

    def set_clocks(self, source: str = "test", **tree: float) -> None:
        """Change named clocks now (``set_clocks(HCLK=168e6, PCLK1=42e6)``), as a clock model would."""
        new = {**self.clocks.tree, **tree}

        class _Tree:
            def clock_tree(self) -> dict[str, float]:
                return new

            def core_source(self) -> str:
                return source

        self.clock_tree_changed(_Tree())

    def irq_rises(self, irq: int) -> list[int]:
        """Cycles at which ``irq`` went high."""
        return [c for c, i, lvl in self.irq_log if i == irq and lvl]


def peripheral(name: str, type_: str, base: int = 0x40010000, irq: int | None = 5, **options: Any) -> Peripheral:
    """A board-file peripheral entry for tests."""
    return Peripheral(name=name, type=type_, base=base, irq=irq, options=options)
