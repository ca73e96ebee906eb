"""Energy and average power of a run from the board's datasheet power figures.

Model: the core draws the board's run current at the clock while executing (active cycles)
and its sleep current at the clock while halted in WFI/WFE (``machine.system.sleep_cycles``),
both interpolated from the datasheet's per-clock figures (``simcore.board.Power``), at the
board's supply ``voltage``. Datasheet run currents are measured on a benchmark loop (CoreMark or
a while(1)) with peripherals off, so they are a typical, not a worst, figure: real code
with many flash data reads or active peripherals draws more. See docs/cycle-model.md.

``duty`` answers "what if this run (one inference) repeats N times a second, sleeping in
between": average current and power, and the lifetime on a CR2032 coin cell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CR2032_MAH = 225.0
CR2032_VOLTS = 3.0
ONE_MW = 1e-3


@dataclass(frozen=True)
class Energy:
    """Energy of one run: active and sleeping parts, at the board's supply voltage."""

    voltage: float
    active_seconds: float
    sleep_seconds: float
    run_current_a: float
    sleep_current_a: float
    active_joules: float
    sleep_joules: float
    stop_seconds: float = 0.0  # core clock stopped (Stop, Standby...): the board's deep-sleep currents
    stop_current_a: float = 0.0  # time-weighted over the modes
    stop_joules: float = 0.0
    deep_sleep: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> seconds, current_a, joules

    @property
    def joules(self) -> float:
        return self.active_joules + self.sleep_joules + self.stop_joules

    @property
    def seconds(self) -> float:
        return self.active_seconds + self.sleep_seconds + self.stop_seconds

    @property
    def average_watts(self) -> float:
        return self.joules / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "joules": self.joules, "average_watts": self.average_watts}


def estimate(power: Any, mhz: float, cycles: int, sleep_cycles: int) -> Energy:
    """Energy of a run of ``cycles`` (of which ``sleep_cycles`` in WFI/WFE) at ``mhz``."""
    hz = mhz * 1e6
    sleep_s = sleep_cycles / hz
    active_s = max(cycles - sleep_cycles, 0) / hz
    i_run = power.run_ua(mhz) * 1e-6
    i_sleep = power.sleep_ua(mhz) * 1e-6
    return Energy(
        voltage=power.voltage,
        active_seconds=active_s,
        sleep_seconds=sleep_s,
        run_current_a=i_run,
        sleep_current_a=i_sleep,
        active_joules=power.voltage * i_run * active_s,
        sleep_joules=power.voltage * i_sleep * sleep_s,
    )


def estimate_timeline(power: Any, spans: list[tuple[Any, int, int, float]]) -> Energy:
    """Energy over a clock timeline (simcore.clock.Timeline.spans): each segment at its own clock.

    One segment gives exactly :func:`estimate`'s figures. With several, the currents reported are
    the time-weighted averages of the segments' (the joules are the segments' sums). Stop segments
    (core clock off) draw the board's ``stop_ua`` for their duration.
    """
    parts = [estimate(power, seg.hz / 1e6, cycles, sleep) for seg, cycles, sleep, _s in spans if seg.kind == "run"]
    stop_s = sum(secs for seg, _c, _sl, secs in spans if seg.kind != "run")
    if len(parts) == 1 and not stop_s:
        return parts[0]
    active_s = sum(p.active_seconds for p in parts)
    sleep_s = sum(p.sleep_seconds for p in parts)
    active_j = sum(p.active_joules for p in parts)
    sleep_j = sum(p.sleep_joules for p in parts)
    deep: dict[str, dict[str, float]] = {}
    for seg, _c, _sl, secs in spans:
        if seg.kind != "run" and secs > 0:
            d = deep.setdefault(seg.kind, {"seconds": 0.0, "current_a": power.deep_sleep_ua(seg.kind) * 1e-6,
                                           "joules": 0.0})
            d["seconds"] += secs
            d["joules"] = power.voltage * d["current_a"] * d["seconds"]
    stop_j = sum(d["joules"] for d in deep.values())
    i_stop = stop_j / power.voltage / stop_s if stop_s else 0.0
    return Energy(
        voltage=power.voltage,
        active_seconds=active_s,
        sleep_seconds=sleep_s,
        run_current_a=active_j / power.voltage / active_s if active_s else (parts[0].run_current_a if parts else 0.0),
        sleep_current_a=sleep_j / power.voltage / sleep_s if sleep_s else (parts[0].sleep_current_a if parts else 0.0),
        active_joules=active_j,
        sleep_joules=sleep_j,
        stop_seconds=stop_s,
        stop_current_a=i_stop,
        stop_joules=stop_j,
        deep_sleep=deep,
    )


@dataclass(frozen=True)
class Duty:
    """The run repeated ``rate`` times a second with the core asleep in between."""

    rate: float
    busy_fraction: float  # share of each second spent running (> 1: cannot keep up)
    average_current_a: float
    average_watts: float
    cr2032_hours: float  # energy-based: 225 mAh x 3 V through an ideal converter
    under_1mw: bool
    keeps_up: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        if not self.keeps_up:
            return (f"at {self.rate:g}/s the core would be busy {self.busy_fraction * 100:.0f}% of the time: "
                    "it cannot keep up at this clock")
        days = self.cr2032_hours / 24
        life = f"{days:,.1f} days" if days >= 2 else f"{self.cr2032_hours:,.1f} hours"
        verdict = "under" if self.under_1mw else "OVER"
        return (f"at {self.rate:g}/s: busy {self.busy_fraction * 100:.2f}%, "
                f"average {self.average_current_a * 1e6:,.1f} uA, {self.average_watts * 1e3:.3f} mW "
                f"({verdict} 1 mW); CR2032 (225 mAh, 3 V): {life}")


def duty(e: Energy, rate: float) -> Duty:
    """Average power when the run's active part repeats ``rate`` times a second, sleeping otherwise.

    The run's own sleep time is ignored: only its active time and charge count per inference.
    """
    if rate <= 0:
        raise ValueError("--duty needs a positive rate (inferences per second)")
    busy = e.active_seconds * rate
    keeps_up = busy <= 1.0
    frac = min(busy, 1.0)
    i_avg = e.run_current_a * frac + e.sleep_current_a * (1.0 - frac)
    watts = i_avg * e.voltage
    hours = (CR2032_MAH * 1e-3 * CR2032_VOLTS * 3600.0) / watts / 3600.0 if watts > 0 else float("inf")
    return Duty(rate=rate, busy_fraction=busy, average_current_a=i_avg, average_watts=watts, cr2032_hours=hours,
                under_1mw=watts < ONE_MW and keeps_up, keeps_up=keeps_up)


def clock_line(timeline: list[dict[str, Any]], limit: int = 6) -> str:
    """``16 MHz (HSI) -> 168 MHz (PLL) at 1.204 ms``: the core clock's changes, the first ``limit``."""
    parts = []
    for i, seg in enumerate(timeline[:limit]):
        what = seg["kind"] if seg["kind"] != "run" else f"{seg['mhz']:g} MHz ({seg['source']})"
        parts.append(what if i == 0 else f"{what} at {seg['seconds'] * 1e3:.3f} ms")
    more = f" (+{len(timeline) - limit} more changes: --json has them)" if len(timeline) > limit else ""
    return " -> ".join(parts) + more


def summary_lines(res: Any) -> list[str]:
    """The run summary's timing and energy lines (cycles, CPI, time, flash wait share, energy, duty)."""
    x = res.extra
    cpi = x.get("cpi", 0.0)
    lines = [f"cycles       {res.cycles:,} ({x.get('cycle_model', 'instructions')} model), CPI {cpi:.3f}"]
    sleep = getattr(res, "sleep_cycles", 0) or 0
    hz = res.mhz * 1e6
    clock = x.get("clock") or {}
    timeline = clock.get("timeline") or []
    if len(timeline) > 1:
        lat = f"latency      {res.seconds * 1e3:.3f} ms on the clock timeline below"
        e = x.get("energy") or {}
        if sleep or e.get("stop_seconds"):
            modes = ", ".join(f"{k} {d['seconds'] * 1e3:.3f} ms" for k, d in (e.get("deep_sleep") or {}).items())
            stopped = f", {modes}" if modes else ""
            lat += (f" (active {e.get('active_seconds', 0) * 1e3:.3f} ms, "
                    f"sleeping {e.get('sleep_seconds', 0) * 1e3:.3f} ms{stopped})")
    else:
        lat = f"latency      {res.seconds * 1e3:.3f} ms at {res.mhz:g} MHz"
        if sleep:
            lat += f" (active {(res.cycles - sleep) / hz * 1e3:.3f} ms, sleeping {sleep / hz * 1e3:.3f} ms)"
    lines.append(lat)
    if len(timeline) > 1:
        lines.append("clock        " + clock_line(timeline))
    for r in (x.get("resets") or [])[:5]:
        lines.append(f"reset        at {r['seconds'] * 1e3:.3f} ms in {r['function']}: {r['why']}; the part booted "
                     "again")
    if len(x.get("resets") or []) > 5:
        lines.append(f"reset        ... {len(x['resets'])} resets in all (--json has them)")
    bar = x.get("cycles_error_bar")
    if bar:
        lo, hi = bar["percent"]
        big = max(bar["terms"].items(), key=lambda kv: kv[1]["minus"] + kv[1]["plus"])[0]
        lines.append(f"error bar    {lo:+.1f}% / {hi:+.1f}% ({bar['seconds_low'] * 1e3:.3f} to "
                     f"{bar['seconds_high'] * 1e3:.3f} ms; largest term {big}, see docs/cycle-model.md)")
    if "flash_wait_cycles" in x:
        share = x["flash_wait_cycles"] * 100 / res.cycles if res.cycles else 0.0
        lines.append(f"flash wait   {x['flash_wait_cycles']:,} cycles ({share:.1f}% of cycles) at "
                     f"{x.get('flash_wait_states', 0)} wait states")
    e = x.get("energy")
    if e:
        lines.append(f"energy       {e['joules'] * 1e6:,.2f} uJ, average {e['average_watts'] * 1e3:.3f} mW "
                     f"(run {e['run_current_a'] * 1e3:.2f} mA, sleep {e['sleep_current_a'] * 1e6:.1f} uA "
                     f"at {e['voltage']:g} V; datasheet typical figures)")
        for mode, d in (e.get("deep_sleep") or {}).items():
            lines.append(f"  {mode:<10} {d['seconds'] * 1e3:,.3f} ms at {d['current_a'] * 1e6:,.2f} uA: "
                         f"{d['joules'] * 1e6:,.3f} uJ")
        rate = x.get("duty_rate")
        if rate:
            energy = Energy(**{k: e[k] for k in ("voltage", "active_seconds", "sleep_seconds", "run_current_a",
                                                 "sleep_current_a", "active_joules", "sleep_joules", "stop_seconds",
                                                 "stop_current_a", "stop_joules") if k in e})
            d = duty(energy, float(rate))
            x["duty"] = d.to_dict()
            lines.append(f"duty         {d.describe()}")
    return lines
