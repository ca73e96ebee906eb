"""The Python API: ``simcore.run(elf, board=..., mhz=...)`` returns a :class:`RunResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simcore.codecache import gc_paused

with gc_paused():  # (start-up: simcore.codecache.gc_paused)
    from simcore.board import Board, load_board
    from simcore.elf import load_elf
    from simcore.layout import Layout
    from simcore.machine import CONSOLE_TAIL, Machine
    from simcore.runtypes import RunOptions, Stop, StopKind
    from simcore.sensorbind import sensor_stats

RUN_SCHEMA = "simcore.run/1"  # docs/run-json.md; bump the number when a field changes meaning or goes away


@dataclass
class RunResult:
    """Every figure of one run; ``to_dict`` is what ``--json`` writes."""

    elf: str
    board: str
    mhz: float
    stop: Stop
    console: bytes
    instructions: int
    cycles: int
    sleep_cycles: int
    layout: Layout
    stack_top: int | None
    stack_low: int
    stack_limit: int | None
    native: bool
    wall_seconds: float
    unmodelled: dict[str, str]  # where -> detail of each "not implemented by simcore" report
    boot_rule: str
    extra: dict[str, Any] = field(default_factory=dict)
    reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # simcore/reports.py

    @property
    def exit_status(self) -> int:
        """The process exit status simcore gives this run (documented in the README)."""
        return self.stop.exit_status

    virtual_seconds: float | None = None  # integrated over the clock timeline (None: cycles at ``mhz``)

    @property
    def seconds(self) -> float:
        """Virtual time: the cycles integrated over the clocks the firmware ran on (simcore/clock.py)."""
        if self.virtual_seconds is not None:
            return self.virtual_seconds
        return self.cycles / (self.mhz * 1e6)

    @property
    def resets(self) -> list[dict[str, Any]]:
        """Every reset of the part during the run (a watchdog, a Standby wake-up): cause, time, where."""
        return self.extra.get("resets", [])

    @property
    def clock(self) -> dict[str, Any]:
        """The clock timeline: when the core clock changed and to what (``clock`` in ``--json``)."""
        return self.extra.get("clock", {})

    @property
    def stack_used(self) -> int | None:
        return None if self.stack_top is None else self.stack_top - self.stack_low

    @property
    def stack_overflow(self) -> bool:
        return self.stack_limit is not None and self.stack_low < self.stack_limit

    @property
    def text(self) -> str:
        return self.console.decode("utf-8", "replace")

    @property
    def sensors(self) -> dict[str, Any]:
        """Per sensor peripheral: samples/frames delivered, overruns and drops with their times."""
        return self.extra.get("sensors", {})

    def to_dict(self) -> dict[str, Any]:
        """The run JSON (``--json``), schema ``simcore.run/1``: docs/run-json.md documents every field."""
        return {
            "schema": RUN_SCHEMA,
            "elf": self.elf,
            "board": self.board,
            "mhz": self.mhz,
            "stop": {"kind": self.stop.kind, "message": self.stop.message, "exit_code": self.stop.exit_code,
                     "pc": self.stop.pc, "details": self.stop.details},
            "exit_status": self.exit_status,
            "console": self.text,
            "instructions": self.instructions,
            "cycles": self.cycles,
            "cycle_model": self.extra.get("cycle_model", "instructions"),
            "sleep_cycles": self.sleep_cycles,
            "seconds": self.seconds,
            "memory": self.layout.to_dict(),
            "stack": {"top": self.stack_top, "lowest_sp": self.stack_low, "used": self.stack_used,
                      "limit": self.stack_limit, "overflow": self.stack_overflow},
            "native_hot_path": self.native,
            "wall_seconds": self.wall_seconds,
            "unmodelled_accesses": self.unmodelled,
            "reports": self.reports,
            "boot": self.boot_rule,
            **{k: v for k, v in self.extra.items() if k != "cycle_model"},
        }


def prepare(elf: str | Path, board: str | Path | Board = "cortex-m4", **options: Any) -> Machine:
    """Load the ELF and board and build the machine without running it.

    ``cycle_model`` may be a model object or a name ('cortex-m4', the default, or
    'instructions' for CPI 1); the Cortex-M4 model takes the board's flash wait states at
    the chosen clock. ``flash_data='exact'`` charges every data read from flash (slower
    emulation) instead of PC-relative literal loads only.
    """
    from simcore.cycles import make_model
    from simcore.validate import check_run_options

    with gc_paused():  # (start-up: simcore.codecache.gc_paused)
        b = board if isinstance(board, Board) else load_board(board)
        fw = options.pop("firmware", None)  # an already parsed ELF (simcore.batch)
        check_run_options(b, options)  # BadInputError (exit 2) before anything is loaded or built
        fw = fw if fw is not None else load_elf(elf)
        # argv[0] of the firmware's command line (semihosting GET_CMDLINE) is the ELF's file name, as
        # `simcore run` gives it: the same inputs give the same counts through the CLI and the API
        options.setdefault("cmdline", Path(elf).name)
        model = options.get("cycle_model")
        flash_data = options.pop("flash_data", "literal")
        if model is None or isinstance(model, str):
            options["cycle_model"] = make_model(model or "cortex-m4", b, options["mhz"], flash_data)
        return Machine(b, fw, RunOptions(**options))


def run(elf: str | Path, board: str | Path | Board = "cortex-m4", **options: Any) -> RunResult:
    """Run a firmware ELF on a board and return its figures. Options: see :class:`RunOptions`.

    ``sensors={"mic": "clip.wav", "imu": ("walk.csv", {"end": "loop"})}`` feeds sensor
    peripherals (by name or kind) from recordings; see :mod:`simcore.sensorbind`.
    """
    t0 = time.perf_counter()
    with prepare(elf, board, **options) as m:  # closed after: see Machine.close
        return run_machine(m, t0)


def run_machine(m: Machine, t0: float | None = None, interrupt: str = "raise") -> RunResult:
    """Run a prepared machine. The wall-clock limit (``timeout``) and Ctrl-C end the run from a
    watcher thread (simcore.watchdog); Ctrl-C then raises KeyboardInterrupt (``interrupt='raise'``,
    for programs using the API) or returns the result with an ``interrupted`` stop (the CLI)."""
    from simcore.watchdog import Watchdog

    t0 = time.perf_counter() if t0 is None else t0
    with Watchdog(m.opts.timeout, m.stop_from_outside):
        stop = m.run()
    if stop.kind == StopKind.INTERRUPTED and interrupt == "raise":
        raise KeyboardInterrupt(stop.message)
    return result_of(m, stop, t0)


def result_of(m: Machine, stop: Stop, t0: float) -> RunResult:
    """The figures of ``m`` as they stand (after its run, or at a pause: see simcore.target)."""
    return RunResult(
        elf=str(m.fw.path),
        board=m.board.name,
        mhz=m.mhz,
        stop=stop,
        console=bytes(m.console[-CONSOLE_TAIL:]),
        instructions=m.instructions,
        cycles=m.cycles,
        sleep_cycles=m.system.sleep_cycles,
        layout=m.layout,
        stack_top=m.layout.stack_top if m.layout.stack_top is not None else m.initial_sp,
        stack_low=m.memmap.resolve(m.hot.state.sp_low),  # a stack in a memory's mirror counts as that memory
        stack_limit=m.layout.stack_limit,
        native=m.hot.native,
        wall_seconds=time.perf_counter() - t0,
        unmodelled=dict(m.unmodelled),
        boot_rule=m.boot_rule,
        reports=m.reports.to_dict(),
        extra={"cycle_model": m.analyzer.cycle_model.name, **cycle_figures(m),
               "clock": clock_figures(m), "polling": m.polls.stats.to_dict(), "resets": list(m.resets),
               "low_power": m.lowpower.stats.to_dict() if m.lowpower is not None else None,
               "sensors": sensor_stats(m.peripherals), "console_bytes": m.console_bytes,
               "console_truncated": m.console_bytes > min(len(m.console), CONSOLE_TAIL)},
        virtual_seconds=m.now_seconds(),
    )


def clock_figures(m: Machine) -> dict[str, Any]:
    """How the core clock was decided and its timeline (every change: cycle, time, MHz, source)."""
    c = m.clocks
    mode = "fixed" if c.model is None else ("override" if c.override_hz is not None else "firmware")
    out: dict[str, Any] = {"mode": mode, "timeline": [seg.to_dict() for seg in c.timeline.changes()]}
    if c.overridden:
        out["firmware_mhz_overridden"] = [{"mhz": hz / 1e6, "source": src} for hz, src in c.overridden]
    return out


def cycle_figures(m: Machine) -> dict[str, Any]:
    """Where the cycles went (flash wait states, taken-branch refills) and the energy estimate."""
    from simcore.energy import estimate_timeline

    s = m.hot.state
    active = max(m.cycles - m.system.sleep_cycles, 0)
    out = {
        "cpi": (active / m.instructions) if m.instructions else 0.0,
        "flash_wait_cycles": s.flash_wait_cycles,
        "flash_wait_states": s.wait_states,
        "flash_data": "exact" if m.analyzer.flash.data_hook else "literal",
        "taken_branch_cycles": s.branch_taken_cycles,
        "divides": {"executed": m.hot.div_stats.executed, "cycles_above_minimum": m.hot.div_stats.extra},
        "energy": estimate_timeline(m.board.power, m.clocks.timeline.spans(m.cycles, m.system.sleep_cycles)).to_dict(),
    }
    if getattr(m.analyzer.cycle_model, "name", "") == "cortex-m4":
        out["cycles_error_bar"] = cycle_error_bar(m).to_dict()
    return out


def cycle_error_bar(m: Machine) -> Any:
    """The run's cycle count error bar (simcore.timing_error) from its executed blocks and counters."""
    from simcore.timing_error import run_error_bar

    hot = m.hot
    blocks = hot.error_bar_blocks()
    s = hot.state
    mhz = m.mhz
    seconds = m.now_seconds()
    if len(m.clocks.timeline.segments) > 1 and seconds > 0:
        mhz = m.cycles / seconds / 1e6  # the average clock: the bar's seconds scale as the run's do
    flash = m.analyzer.flash
    if hot.flash_ws_variable:  # the firmware sets the wait states: their most in the run, not the board table's
        flash = replace(flash, wait_states=m.flash_ws_high)
    return run_error_bar(blocks, m.cycles, mhz, flash, s.branch_taken_cycles, s.prefetch_hidden)
