"""What a run is told and how it ends: run options, the event queue, stop kinds and exit statuses.

A leaf module (it imports nothing of simcore but the exit-code constants of
:mod:`simcore.errors`), so the machine, the Cortex-M system block, the diagnosis and the
test fakes share these types without importing each other.

The exit status of ``simcore run`` is a total function of the stop kind
(:data:`EXIT_STATUS` has an entry for every :class:`StopKind` and no default; a test walks
the enum). README.md, "Exit status of simcore run", documents the table.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from heapq import heappop, heappush
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from simcore.errors import (
    EXIT_BAD_INPUT,
    EXIT_BUDGET,
    EXIT_FAULT,
    EXIT_GUEST_ERROR,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_MARKER_FAIL,
    EXIT_OK,
    EXIT_SPINNING,
    EXIT_UNMODELLED,
)

if TYPE_CHECKING:
    from simcore.cycles import CycleModel

# Real benchmarks fit (a stock TFLM person-detection run with reference kernels takes 11.6 G
# instructions); a wall-clock limit is RunOptions.timeout (--timeout). About 3 minutes at 500 MIPS.
DEFAULT_MAX_INSTRUCTIONS = 100_000_000_000


class StopKind(StrEnum):
    """Why a run ended (the ``stop.kind`` of ``--json``)."""

    EXIT = "exit"  # semihosting SYS_EXIT / SYS_EXIT_EXTENDED: the firmware's own code
    PASS_MARKER = "pass_marker"  # --pass-marker text seen on the console
    FAIL_MARKER = "fail_marker"  # --fail-marker text seen on the console
    FAULT = "fault"  # a fault the firmware did not recover from (diagnosis in details)
    LOCKUP = "lockup"  # a fault HardFault cannot preempt, or stacking outside RAM (ARMv7-M B1.5.15)
    RESET = "reset"  # AIRCR.SYSRESETREQ: simcore does not reboot the image
    BREAKPOINT = "breakpoint"  # bkpt other than semihosting, no debugger attached
    BUDGET = "budget"  # --max-instructions exhausted
    TIMEOUT = "timeout"  # wall-clock limit reached
    INTERRUPTED = "interrupted"  # Ctrl-C (SIGINT)
    SPINNING = "spinning"  # an idle loop (b .) nothing can end
    SLEEPING = "sleeping"  # wfi/wfe with nothing that could wake the core
    WAITING = "waiting"  # polling a register that can never change
    UNMODELLED = "unmodelled"  # --strict: an access to something simcore does not implement
    GUEST_ERROR = "guest_error"  # --strict: the firmware did something wrong (e.g. wrote a read-only register)
    INTERNAL_ERROR = "internal_error"  # a bug in simcore
    END_OF_DATA = "end_of_data"  # a microphone's recording (end=stop) ran out where the part cannot say so


# None: the firmware's own exit code (stop.exit_code).
EXIT_STATUS: dict[StopKind, int | None] = {
    StopKind.EXIT: None,
    StopKind.PASS_MARKER: EXIT_OK,
    StopKind.FAIL_MARKER: EXIT_MARKER_FAIL,
    StopKind.FAULT: EXIT_FAULT,
    StopKind.LOCKUP: EXIT_FAULT,
    StopKind.RESET: EXIT_FAULT,
    StopKind.BREAKPOINT: EXIT_FAULT,
    StopKind.BUDGET: EXIT_BUDGET,
    StopKind.TIMEOUT: EXIT_BUDGET,
    StopKind.INTERRUPTED: EXIT_INTERRUPTED,
    StopKind.SPINNING: EXIT_SPINNING,
    StopKind.SLEEPING: EXIT_SPINNING,
    StopKind.WAITING: EXIT_SPINNING,
    StopKind.UNMODELLED: EXIT_UNMODELLED,
    StopKind.GUEST_ERROR: EXIT_GUEST_ERROR,
    StopKind.INTERNAL_ERROR: EXIT_INTERNAL,
    StopKind.END_OF_DATA: EXIT_OK,
}
assert set(EXIT_STATUS) == set(StopKind), "every stop kind needs an exit status"
assert EXIT_BAD_INPUT not in EXIT_STATUS.values()  # 2 means "nothing was run"


@dataclass
class Stop:
    """Why a run ended: the kind, a one-line message, where, and details for ``--json``."""

    kind: StopKind
    message: str
    exit_code: int | None = None  # the firmware's code (StopKind.EXIT)
    pc: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kind = StopKind(self.kind)

    @property
    def exit_status(self) -> int:
        """The process exit status of ``simcore run`` for this stop (README, "Exit status")."""
        status = EXIT_STATUS[self.kind]
        if status is None:
            return self.exit_code if self.exit_code is not None else EXIT_INTERNAL
        return status


class AccessKind(StrEnum):
    """A bus access, as hooks and reports name it; the ``*_PROT`` kinds were refused by permissions."""

    READ = "read"
    WRITE = "write"
    FETCH = "fetch"
    READ_PROT = "read-protected"
    WRITE_PROT = "write-protected"
    FETCH_PROT = "execute-protected"

    @property
    def is_fetch(self) -> bool:
        return self in (AccessKind.FETCH, AccessKind.FETCH_PROT)

    @property
    def is_write(self) -> bool:
        return self in (AccessKind.WRITE, AccessKind.WRITE_PROT)


class ReportChannel(StrEnum):
    """The two kinds of report, as QEMU has them (LOG_UNIMP and LOG_GUEST_ERROR)."""

    UNIMPLEMENTED = "unimplemented"  # simcore does not implement what the firmware touched
    GUEST_ERROR = "guest_error"  # the firmware did something wrong (e.g. wrote a read-only register)


# --- the event queue ----------------------------------------------------------------------------------
@dataclass(order=True, slots=True)
class Event:
    """A callback due at a virtual-time cycle; ``seq`` keeps events of the same cycle in schedule order."""

    at_cycle: int
    seq: int
    callback: Callable[[], Any] = field(compare=False)
    tag: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)
    at_fs: int | None = field(compare=False, default=None)  # virtual time it is due at (re-keyed on clock changes)
    # the interrupt lines running it could raise now (an empty set: none), None: anything may follow from it.
    # A sleeping core whose every event says a set its NVIC would not wake on sleeps forever (SystemBlock.on_halt).
    raises: Callable[[], frozenset[int] | None] | None = field(compare=False, default=None)
    # a wfi may be woken by this event in C (hotpath.c hp_wfi_hook): what running it does to the register file and the
    # NVIC, as (event's register-file value, interrupt line, event-clear slot or EV_SLOTS, the event alone holds the
    # line, virtual time before which nothing else of the model follows from it), or None when it is more than that
    wake: Callable[[], tuple[int, int, int, int, int] | None] | None = field(compare=False, default=None)
    # the event may be applied in C at its cycle without a run-loop stop (hotpath.c hp_apply, Machine._plan_apply):
    # (register-file changes as (AP_STORE or AP_FLAGS, index, value), the virtual time after it at which the model
    # schedules its next event or 0, what Python does afterwards as of its cycle instead of the callback), or None.
    # A fourth item may let C apply the model's next events of the same kind too (hotpath.c hp_apply_chain): (the
    # register-file value index each sets, its values from this event's on, the model's next event after a settle)
    apply: Callable[[], tuple[Any, ...] | None] | None = field(compare=False, default=None)
    # the wfis before this event and the model's next ones may be woken in C, each with a DMA delivery (hotpath.c
    # hp_chain_wake, Machine._plan_chain): what they do, or None when the model cannot say
    chain: Callable[[], ChainPlan | None] | None = field(compare=False, default=None)
    # after C woke a wfi at this event (``wake``), the firmware's write moving the compare on may be done in C too
    # (hotpath.c hp_cc_move, Machine._plan_move): (register address, the value written, its register-file value index,
    # virtual time of the moved compare, which the write must come before, the model's write as Python makes it), or
    # None
    move: Callable[[], tuple[int, int, int, int, Callable[[], None]] | None] | None = field(
        compare=False, default=None)


@dataclass(slots=True)  # (not frozen: a snapshot's restore puts back the fields of the objects it reaches)
class ChainPlan:
    """A sensor block's next DMA halves as C does them at the wfis that wait for them (hotpath.c hp_chain_wake):
    each half's bytes written at its guest address, its STATUS bits set, its line raised; the model hears of them,
    and of the STATUS clears C served between them, at Python's next sync (``settle``)."""

    store: int  # the register file's value index of the STATUS register (all clear when a half may come)
    irq: int  # the model's interrupt line
    slot: int  # STATUS's write-1-to-clear slot (SystemBlock.event_clear_slot)
    cycles: tuple[int, ...]  # each half's cycle, then the cycle of the model's next event after them
    values: tuple[int, ...]  # the STATUS bits each half sets
    dsts: tuple[int, ...]  # each half's guest address
    data: bytes  # the halves' bytes, one after the other (equal sizes)
    # (the halves' cycles, the clears' (cycle, value)) done in C: the model's bookkeeping of them, in cycle order
    settle: Callable[[list[int], list[tuple[int, int]]], None]


class EventQueue:
    """Virtual-time events in (cycle, schedule order); cancelling marks an event, popping skips it.

    One implementation for the machine, the sensor test clock and the system-block fakes. The heap holds
    ``(at_cycle, seq, event)`` tuples: its order is then compared in C, where comparing the Event dataclasses
    called their generated ``__lt__`` (about 5,000 Python calls in a run of the Nano imu_steps_bus).
    """

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Event]] = []
        self._seq = itertools.count()

    @property
    def heap(self) -> list[Event]:
        """The queued events (cancelled ones included), in heap order."""
        return [entry[2] for entry in self._heap]

    def schedule(self, at_cycle: int, callback: Callable[[], Any], tag: str = "") -> Event:
        seq = next(self._seq)
        at = int(at_cycle)
        ev = Event(at, seq, callback, tag)
        heappush(self._heap, (at, seq, ev))
        return ev

    def schedule_at(self, at_cycle: int, at_fs: int, callback: Callable[[], Any], tag: str = "") -> Event:
        """An event at cycle ``at_cycle`` (an int already) due at virtual time ``at_fs``: :meth:`schedule` for
        Machine.schedule_at_fs, the event made with its time in one construction (no ``int()``, no field set after)."""
        seq = next(self._seq)
        ev = Event(at_cycle, seq, callback, tag, False, at_fs)
        heappush(self._heap, (at_cycle, seq, ev))
        return ev

    @staticmethod
    def cancel(ev: Event) -> None:
        ev.cancelled = True

    def top(self) -> Event | None:
        """The next live event (cancelled ones at the front are dropped), without removing it."""
        heap = self._heap
        while heap:
            ev = heap[0][2]
            if not ev.cancelled:
                return ev
            heappop(heap)
        return None

    def next_cycle(self) -> int | None:
        """The cycle of the next live event (what :meth:`top` finds, without the call: asked at every sleep step)."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def after_top_cycle(self, default: int) -> int:
        """A lower bound of the cycle of the event after the top one: the earlier of the heap root's
        children (cancelled ones included, so it is never later than the true next), else ``default``."""
        best = default
        for entry in self._heap[1:3]:
            if entry[0] < best:
                best = entry[0]
        return best

    def earliest(self, k: int) -> list[Event]:
        """The first ``k`` live events in due order: the entries sorted in C (the heap holds a handful; heapq.nsmallest
        over a generator ran ~180 bytecodes of Python a call, once per plan of the run loop's stop)."""
        return [entry[2] for entry in sorted(self._heap) if not entry[2].cancelled][:k]

    def pop_due(self, now: int) -> Event | None:
        """Remove and return the next live event due at or before ``now``, else None (:meth:`top`'s skip of the
        cancelled ones in line: twice per event run)."""
        heap = self._heap
        while heap:
            entry = heap[0]
            if entry[2].cancelled:
                heappop(heap)
            elif entry[0] > now:
                return None
            else:
                return heappop(heap)[2]
        return None

    def retime(self, cycle_at: Callable[[int], int]) -> int:
        """The core clock changed: give every live event scheduled at a virtual time its new cycle."""
        moved = 0
        heap = self._heap
        for i, (_cycle, seq, ev) in enumerate(heap):
            if ev.at_fs is not None and not ev.cancelled:
                new = cycle_at(ev.at_fs)
                if new != ev.at_cycle:
                    ev.at_cycle = new
                    heap[i] = (new, seq, ev)
                    moved += 1
        if moved:
            heapq.heapify(heap)
        return moved

    def live(self) -> list[Event]:
        """The live events in due order (for reports and tests)."""
        return [entry[2] for entry in sorted(e for e in self._heap if not e[2].cancelled)]

    def __len__(self) -> int:
        return sum(1 for entry in self._heap if not entry[2].cancelled)


# --- run options ------------------------------------------------------------------------------------------
@dataclass
class RunOptions:
    """Everything a run can be told, with the defaults the CLI documents."""

    mhz: float | None = None
    # True: ``mhz`` was asked for (--mhz): on a part with a clock model it overrides the clock the
    # firmware sets (a warning names both). False: the clock follows the firmware from the part's
    # reset clock, and ``mhz`` (the board's default) is used only by boards without a clock model.
    mhz_given: bool = True
    max_instructions: int = DEFAULT_MAX_INSTRUCTIONS
    native: bool | None = None  # None: native when built, else the Python fallback
    strict: bool = False
    # Fault on unaligned LDM/STM/LDRD/STRD as ARMv7-M does (A3.2.1). Off by default: each such
    # instruction then costs a Python hook call (~3x slower TFLM kernels); None: on with --strict.
    check_alignment: bool | None = None
    semihosting_root: Path | None = None
    cmdline: str = ""
    echo: TextIO | None = None  # stream to copy console output to as it arrives
    pass_marker: str | None = None
    fail_marker: str | None = None
    cycle_model: CycleModel | None = None
    sensors: Any = None  # recordings for sensor peripherals: see simcore.sensorbind
    timeout: float | None = None  # wall-clock seconds (simcore.watchdog), None: no limit
    # bytes for UART receivers: {peripheral name or None (the console): file path, "-" for stdin}
    uart_input: Any = None
