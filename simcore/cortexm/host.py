"""What the system block may use of the machine it sits in: the narrow interface, checked by type.

The machine (simcore/machine.py) implements it; nothing in simcore/cortexm reaches past it
(no private attributes, no duck typing). The register blocks need less and say so with
their own smaller protocols (``ReportHost`` in simcore/registers.py, ``ClockHost`` in systick.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import unicorn

    from simcore.board import Board
    from simcore.boot import HeapInfo
    from simcore.elf import Firmware
    from simcore.hotpath import HotPath
    from simcore.layout import Layout
    from simcore.memmap import MemoryMap
    from simcore.runtypes import AccessKind, Event, ReportChannel, RunOptions, Stop


class MachineView(Protocol):
    """The machine as the system block, the fault unit, the stack watch and the diagnosis see it."""

    board: Board
    fw: Firmware
    uc: unicorn.Uc
    opts: RunOptions
    hot: HotPath
    layout: Layout
    memmap: MemoryMap
    buffers: Sequence[Any]  # the host buffer of each memory, in board order (memmap.windows' index)

    @property
    def stop(self) -> Stop | None: ...
    @property
    def stopping(self) -> bool: ...  # a stop or a hook error is pending: nothing more may run natively

    # the peripheral host interface (peripherals/base.py Host)
    def now_cycles(self) -> int: ...
    def cycles_per_second(self) -> float: ...
    def console_write(self, data: bytes, source: str) -> None: ...
    def schedule(self, at_cycle: int, callback: Callable[[], None], tag: str = "") -> Event: ...
    def cancel(self, handle: Event) -> None: ...
    def report(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None = None) -> None: ...
    def report_unmodelled(self, where: str, detail: str) -> None: ...
    def mem_read(self, addr: int, size: int) -> bytes: ...
    def mem_write(self, addr: int, data: bytes) -> None: ...

    # the run loop
    def pc(self) -> int: ...
    def registers(self) -> dict[str, int]: ...
    def request_stop(self, stop: Stop) -> None: ...
    def next_event_cycle(self) -> int | None: ...
    def advance_to(self, cycle: int) -> None: ...
    def run_due_events(self) -> None: ...
    def guard(self, fn: Callable[[], Any]) -> Any: ...
    def heapinfo(self) -> HeapInfo: ...
    @property
    def reset_pending(self) -> bool: ...  # a watchdog reset is to be done at the next stop
    def reset_could_happen(self) -> bool: ...  # a watchdog is counting
