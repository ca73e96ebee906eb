"""Run the four sensor apps on their recordings and compare what they detect with the ground truth.

    python examples/sensor_apps.py [--mhz 100]

Each app is a committed ELF for the generic ``cortex-m4`` board, fed from ``examples/data/``
through the ``sensors=`` argument of :func:`simcore.api.run` (the Python form of
``simcore run ... --sensor NAME=FILE``). For each: the detections the firmware printed, the
ground truth the recording was synthesized with (``examples/data/truth.json``), and what the
sensor recorded (samples, overruns, drops, late services) at the chosen clock.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from simcore.api import run

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
TRUTH = json.loads((DATA / "truth.json").read_text())

# app, binding, pattern of the firmware's detection lines, ground truth as text
APPS: list[tuple[str, dict[str, Any], str, str]] = [
    ("audio_events", {"mic": DATA / "audio_events_16k.wav"}, r"^event .*$",
     ", ".join(f"{e['kind']} at {e['start_s'] * 1000:.0f} ms"
               for e in sorted(TRUTH["audio_events_16k.wav"]["events"], key=lambda e: e["start_s"]))),
    ("imu_steps", {"imu": DATA / "imu_walk_100hz.csv"}, r"^step .*$",
     f"{len(TRUTH['imu_walk_100hz.csv']['steps_s'])} steps at "
     + ", ".join(f"{s * 1000:.0f}" for s in TRUTH["imu_walk_100hz.csv"]["steps_s"]) + " ms"),
    ("camera_motion", {"camera": (DATA / "camera_square", {"fps": 10})}, r"^frame .*MOTION.*$",
     "a 16x16 square moving 8 px right per frame: x = "
     + ", ".join(str(s["x"]) for s in TRUTH["camera_square"]["squares"])),
    ("adc_monitor", {"adc": DATA / "adc_trace_1k.csv"}, r"^\w+ -> \w+ .*$",
     f"above 2.5 V at {TRUTH['adc_trace_1k.csv']['crossings_above_s']} s, below 0.8 V at "
     f"{TRUTH['adc_trace_1k.csv']['crossings_below_s']} s"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mhz", type=float, default=None, help="core clock (default: the board's 100 MHz)")
    args = ap.parse_args()
    for app, sensors, pattern, truth in APPS:
        r = run(ROOT / "firmware" / "bin" / "cortex-m4" / f"{app}.elf", "cortex-m4", mhz=args.mhz, sensors=sensors)
        print(f"== {app} at {r.mhz:g} MHz: {r.stop.message}; {r.instructions:,} instructions, "
              f"{r.seconds:.2f} s virtual, {r.wall_seconds:.2f} s wall")
        for line in re.findall(pattern, r.text, re.M):
            print(f"   {line}")
        print(f"   truth: {truth}")
        for name, s in r.sensors.items():
            counts = {k: v for k, v in s.items() if isinstance(v, int) and k not in ("name",)}
            print(f"   sensor {name}: {counts}")
        print()


if __name__ == "__main__":
    main()
