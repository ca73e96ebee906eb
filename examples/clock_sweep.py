"""Find the lowest core clock at which the audio front end keeps up with the microphone.

    python examples/clock_sweep.py [--work 1] [--out out] [--resolution 0.05]

Runs ``firmware/bin/cortex-m4/audio_events.elf`` (30 ms windows from the 16 kHz microphone by
DMA double buffer, log energy and a 512-point FFT per window) on the generic board with
``examples/data/audio_events_16k.wav`` at a range of clocks, counts the DMA overruns simcore
records (a half of the ring refilled while the firmware still owned it), then bisects between
the fastest failing and the slowest passing clock. ``--work N`` makes the firmware repeat the
FFT N times per window (a heavier front end needs a faster clock).

Why this works: samples arrive on virtual time (cycles / MHz) while the firmware's cost is in
cycles, so lowering the clock stretches the processing against a fixed audio rate, exactly as
on the part. Writes ``clock_sweep.png`` when matplotlib is installed, else ``clock_sweep.csv``
(and says so); the result is printed either way.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

from simcore.api import run

ROOT = Path(__file__).resolve().parent.parent
ELF = ROOT / "firmware" / "bin" / "cortex-m4" / "audio_events.elf"
WAV = ROOT / "examples" / "data" / "audio_events_16k.wav"
COARSE_MHZ = (1, 2, 3, 4, 5, 6, 8, 12, 16, 32, 64, 100)


@dataclass
class Point:
    """One run: the clock, what the microphone recorded, and how busy the core was."""

    mhz: float
    overruns: int
    late_services: int
    load: float  # active cycles / all cycles while the firmware ran
    first_overrun_ms: float | None
    exit_status: int


def measure(mhz: float, work: int) -> Point:
    r = run(ELF, "cortex-m4", mhz=mhz, sensors={"mic": WAV}, cmdline=f"audio_events.elf work={work}")
    mic = r.sensors["mic"]
    over = [e for e in mic["events"] if e["kind"] == "overruns"]
    return Point(
        mhz=mhz,
        overruns=int(mic.get("overruns", 0)),
        late_services=int(mic.get("late_services", 0)),
        load=1.0 - r.sleep_cycles / r.cycles if r.cycles else 0.0,
        first_overrun_ms=over[0]["time_s"] * 1e3 if over else None,
        exit_status=r.exit_status,
    )


def sweep(work: int, resolution: float, verbose: bool = True) -> tuple[float, list[Point]]:
    """Coarse sweep, then bisection to ``resolution`` MHz; returns (lowest clock without overruns, points)."""
    points: list[Point] = []

    def probe(mhz: float) -> Point:
        p = measure(round(mhz, 4), work)
        points.append(p)
        if verbose:
            first = f", first at {p.first_overrun_ms:.1f} ms" if p.first_overrun_ms is not None else ""
            print(f"  {p.mhz:8.3f} MHz  overruns {p.overruns:4d}  late {p.late_services:4d}  "
                  f"load {100 * p.load:5.1f}%{first}")
        return p

    coarse = [probe(m) for m in COARSE_MHZ]
    passing = [p.mhz for p in coarse if p.overruns == 0]
    if not passing:
        raise SystemExit(f"overruns even at {COARSE_MHZ[-1]} MHz: the firmware cannot keep up")
    hi = min(passing)
    failing = [p.mhz for p in coarse if p.overruns and p.mhz < hi]
    lo = max(failing) if failing else 0.0
    while hi - lo > resolution:
        mid = (lo + hi) / 2
        if probe(mid).overruns == 0:
            hi = mid
        else:
            lo = mid
    points.sort(key=lambda p: p.mhz)
    return hi, points


def write_outputs(points: list[Point], lowest: float, out: Path, work: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        path = out / "clock_sweep.csv"
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["mhz", "overruns", "late_services", "cpu_load", "first_overrun_ms", "exit_status"])
            for p in points:
                w.writerow([p.mhz, p.overruns, p.late_services, f"{p.load:.4f}",
                            "" if p.first_overrun_ms is None else f"{p.first_overrun_ms:.3f}", p.exit_status])
        print(f"matplotlib is not installed: wrote the data as CSV to {path} (pip install -e '.[examples]' for a plot)")
        return path
    fig, ax = plt.subplots(figsize=(7, 4))
    mhz = [p.mhz for p in points]
    ax.semilogx(mhz, [p.overruns for p in points], "o-", color="tab:red", label="DMA overruns")
    ax.axvline(lowest, color="tab:green", linestyle="--", label=f"lowest clock without overruns: {lowest:.2f} MHz")
    ax.set_xlabel("core clock (MHz)")
    ax.set_ylabel("overruns in 3 s of audio")
    ax2 = ax.twinx()
    ax2.semilogx(mhz, [100 * p.load for p in points], "s:", color="tab:blue", label="CPU load")
    ax2.set_ylabel("CPU load (%)")
    ax.set_title(f"audio_events (work={work}) on cortex-m4, 16 kHz microphone by DMA")
    ax.legend(loc="upper right")
    fig.tight_layout()
    path = out / "clock_sweep.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=int, default=1, help="FFT repetitions per window (front-end cost)")
    ap.add_argument("--resolution", type=float, default=0.05, help="bisection stops at this many MHz")
    ap.add_argument("--out", type=Path, default=ROOT / "out", help="output folder (default: out/, ignored by git)")
    args = ap.parse_args()
    print(f"audio_events work={args.work}: overruns by core clock")
    lowest, points = sweep(args.work, args.resolution)
    print(f"lowest clock without overruns: {lowest:.3f} MHz (to {args.resolution} MHz; "
          f"overruns at {max(p.mhz for p in points if p.overruns):.3f} MHz)")
    write_outputs(points, lowest, args.out, args.work)


if __name__ == "__main__":
    main()
