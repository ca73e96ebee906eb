"""Profile exporters: speedscope JSON, collapsed stacks, Chrome/Perfetto trace JSON.

* speedscope (https://www.speedscope.app, file format schema
  https://www.speedscope.app/file-format-schema.json): one "sampled" profile whose samples
  are the calling-context stacks and whose weights are their exclusive cycles, so the
  flame graph and the "left heavy" view show cycles.
* collapsed stacks: ``a;b;c <cycles>`` lines (Brendan Gregg's flamegraph.pl, speedscope too).
* Chrome trace event format (chrome://tracing, https://ui.perfetto.dev): complete events
  ("ph": "X") for every model op (from the ITM markers) and every interrupt handler
  activation, instant events ("ph": "i") for sensor and timer events, on one timeline in
  microseconds of virtual time at the run's clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simcore.outfile import OutputFile, output_file
from simcore.profile import Profile

PID = 1
TID_OPS, TID_ISR, TID_EVENTS = 1, 2, 3


def speedscope(profile: Profile, name: str = "simcore") -> dict[str, Any]:
    """The profile as a speedscope document (weights in cycles)."""
    frames: list[dict[str, str]] = []
    index: dict[str, int] = {}
    samples: list[list[int]] = []
    weights: list[int] = []
    for stack, cycles in profile.collapsed():
        ids = []
        for fname in stack:
            if fname not in index:
                index[fname] = len(frames)
                frames.append({"name": fname})
            ids.append(index[fname])
        samples.append(ids)
        weights.append(cycles)
    total = sum(weights)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [{
            "type": "sampled",
            "name": f"{name}: cycles at {profile.mhz:g} MHz",
            "unit": "none",
            "startValue": 0,
            "endValue": total,
            "samples": samples,
            "weights": weights,
        }],
        "name": name,
        "activeProfileIndex": 0,
        "exporter": "simcore",
    }


def collapsed_text(profile: Profile) -> str:
    return "".join(f"{';'.join(stack)} {cycles}\n" for stack, cycles in profile.collapsed())


def chrome_trace(profile: Profile) -> dict[str, Any]:
    """Ops, interrupts and sensor events on one virtual-time timeline (microseconds)."""
    us = 1.0 / profile.mhz  # cycles -> microseconds
    ev: list[dict[str, Any]] = [
        {"ph": "M", "pid": PID, "name": "process_name", "args": {"name": "simcore (virtual time)"}},
        {"ph": "M", "pid": PID, "tid": TID_OPS, "name": "thread_name", "args": {"name": "model ops"}},
        {"ph": "M", "pid": PID, "tid": TID_ISR, "name": "thread_name", "args": {"name": "interrupts"}},
        {"ph": "M", "pid": PID, "tid": TID_EVENTS, "name": "thread_name", "args": {"name": "sensor and timer events"}},
    ]
    for op in profile.ops:
        ev.append({"ph": "X", "pid": PID, "tid": TID_OPS, "name": f"{op.index}:{op.name}", "cat": "op",
                   "ts": op.start * us, "dur": op.cycles * us,
                   "args": {"op_index": op.index, "builtin_code": op.code, "cycles": op.cycles}})
    open_isr: list[tuple[int, int]] = []
    for kind, addr, cycle in profile.isr_events:
        if kind == 1:
            open_isr.append((addr, cycle))
        elif open_isr:
            start_addr, start = open_isr.pop()
            ev.append({"ph": "X", "pid": PID, "tid": TID_ISR, "name": profile.name(start_addr), "cat": "isr",
                       "ts": start * us, "dur": (cycle - start) * us, "args": {"cycles": cycle - start}})
    for tag, cycle in profile.sensor_events:
        ev.append({"ph": "i", "s": "t", "pid": PID, "tid": TID_EVENTS, "name": tag, "cat": "event",
                   "ts": cycle * us})
    return {"traceEvents": ev, "displayTimeUnit": "ns",
            "otherData": {"mhz": profile.mhz, "cycles": profile.cycles, "instructions": profile.instructions}}


def _out(path: Path | OutputFile, option: str) -> OutputFile:
    return path if isinstance(path, OutputFile) else output_file(path, option)


def write_speedscope(profile: Profile, path: Path | OutputFile, name: str = "simcore") -> None:
    _out(path, "--speedscope").write(json.dumps(speedscope(profile, name), separators=(",", ":")) + "\n")


def write_chrome_trace(profile: Profile, path: Path | OutputFile) -> None:
    _out(path, "--trace").write(json.dumps(chrome_trace(profile), separators=(",", ":")) + "\n")


def write_collapsed(profile: Profile, path: Path | OutputFile) -> None:
    _out(path, "--collapsed").write(collapsed_text(profile))
