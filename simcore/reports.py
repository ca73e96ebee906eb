"""What a run reports besides its figures: places simcore does not implement, and firmware mistakes.

Two channels, as QEMU has them (``-d unimp`` and ``-d guest_errors``): "not implemented by
simcore" (an access to a register, field or address no model implements) and "the firmware
did something wrong" (a write to a read-only register, a change of reserved bits). Each
place (``PERIPH.REG``, ``PERIPH.REG.FIELD``, an address) is one report: the first access's
PC and function, the cycle, and how many reads and writes touched it. The run summary and
``--json`` list them; ``--strict`` stops at the first of either (StopKind.UNMODELLED /
StopKind.GUEST_ERROR).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simcore.runtypes import AccessKind, ReportChannel

SUMMARY_LIMIT = 10  # reports per channel in the text summary (--json has all)


@dataclass
class Report:
    """One reported place: what, where the firmware first touched it, how often."""

    channel: ReportChannel
    where: str
    detail: str
    pc: int | None
    function: str
    cycle: int
    reads: int = 0
    writes: int = 0
    fields: list[str] = field(default_factory=list)  # fields the firmware's writes changed (plain SVD registers)

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "detail": self.detail, "pc": self.pc, "function": self.function,
                "cycle": self.cycle, "reads": self.reads, "writes": self.writes, "fields": list(self.fields)}


class Reports:
    """Reports of one run, by channel and place, in first-seen order."""

    def __init__(self, locate: Callable[[], tuple[int | None, str, int]]) -> None:
        self._locate = locate  # () -> (pc, function, cycle) of the access being reported
        self.entries: dict[tuple[ReportChannel, str], Report] = {}
        # bring counts kept elsewhere up to date (the register file counts plain registers' accesses in C)
        self.syncers: list[Callable[[Reports], None]] = []

    def get(self, channel: ReportChannel, where: str) -> Report | None:
        return self.entries.get((channel, where))

    def sync(self) -> None:
        for fn in self.syncers:
            fn(self)

    def note(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None) -> Report | None:
        """Count one access to a reported place; the new Report when it is the first, else None."""
        key = (channel, where)
        rep = self.entries.get(key)
        new = rep is None
        if rep is None:
            pc, function, cycle = self._locate()
            rep = self.entries[key] = Report(channel, where, detail, pc, function, cycle)
        if access is not None:
            if access.is_write:
                rep.writes += 1
            else:
                rep.reads += 1
        return rep if new else None

    def of(self, channel: ReportChannel) -> list[Report]:
        self.sync()
        return [r for r in self.entries.values() if r.channel is channel]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {"unimplemented": [r.to_dict() for r in self.of(ReportChannel.UNIMPLEMENTED)],
                "guest_errors": [r.to_dict() for r in self.of(ReportChannel.GUEST_ERROR)]}


def summary_lines(reports: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The run summary's report section (from ``Reports.to_dict``, as RunResult keeps it)."""
    out: list[str] = []
    for key, title in (("unimplemented", "not implemented by simcore"),
                       ("guest_errors", "firmware errors (the hardware would ignore or misbehave)")):
        items = reports.get(key, [])
        if not items:
            continue
        out.append(f"{title} ({len(items)}, first access of each):")
        for r in items[:SUMMARY_LIMIT]:
            pc = f" at {r['function']}" if r.get("pc") is not None else ""
            fields = f"; fields written: {', '.join(r['fields'])}" if r.get("fields") else ""
            out.append(f"  {r['where']}: {r['detail']}{pc} ({r['reads']} reads, {r['writes']} writes{fields})")
        if len(items) > SUMMARY_LIMIT:
            out.append(f"  ... {len(items) - SUMMARY_LIMIT} more in --json")
    return out
