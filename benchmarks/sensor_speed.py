"""Emulation speed with a microphone streaming at 16 kHz by DMA, side by side with no sensor and bare Unicorn.

Usage: python benchmarks/sensor_speed.py [--repeat 3] [--cycle-model cortex-m4|instructions]

Three runs of the same int8 matmul workload (about 300 M guest instructions):
  bare      firmware/bin/cortex-m4/mic_compute.elf on a plain Unicorn (no hooks; STATUS reads 0)
  mic       the same ELF on simcore, the microphone fed from examples/data/audio_events_16k.wav
            (looped) at 16 kHz: one DMA event per 256-sample half, about 300 in the run
  no mic    firmware/bin/cortex-m4/compute.elf on simcore (the same kernel, no sensor)
Prints guest MIPS for each, the ratio mic / bare (issue target >= 0.5) and mic / no mic (what
the sensor costs). Best of --repeat for each, runs interleaved so machine noise hits all alike.
Instruction counts are simcore's (the bare run follows the same path except the few hundred
flag-handling iterations, < 0.1% of the instructions).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from simcore.api import prepare

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from emulation_speed import bare_run  # noqa: E402  (sibling script, not a package)

MIC_ELF = ROOT / "firmware/bin/cortex-m4/mic_compute.elf"
COMPUTE_ELF = ROOT / "firmware/bin/cortex-m4/compute.elf"
WAV = ROOT / "examples/data/audio_events_16k.wav"


def simcore_run(elf: Path, cycle_model: str, sensors: dict | None = None) -> tuple[float, int, int]:
    """Wall seconds of the run loop, guest instructions, DMA halves delivered."""
    m = prepare(elf, "cortex-m4", cycle_model=cycle_model, sensors=sensors)
    t0 = time.perf_counter()
    stop = m.run()
    dt = time.perf_counter() - t0
    assert stop.kind == "exit" and stop.exit_code == 0, stop.message
    mic = next((p for p in m.peripherals if p.name == "mic"), None)
    halves = mic.stats().get("dma_halves", 0) if mic is not None and sensors else 0
    return dt, m.instructions, halves


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cycle-model", default="cortex-m4", choices=["cortex-m4", "instructions"])
    args = ap.parse_args()
    sensors = {"mic": (WAV, {"end": "loop"})}
    bare_t, mic_t, plain_t = [], [], []
    mic_insns = plain_insns = halves = 0
    for _ in range(args.repeat):
        bare_t.append(bare_run(MIC_ELF, "cortex-m4"))
        t, mic_insns, halves = simcore_run(MIC_ELF, args.cycle_model, sensors)
        mic_t.append(t)
        t, plain_insns, _ = simcore_run(COMPUTE_ELF, args.cycle_model)
        plain_t.append(t)
    bare = mic_insns / min(bare_t) / 1e6
    mic = mic_insns / min(mic_t) / 1e6
    plain = plain_insns / min(plain_t) / 1e6
    print(f"workload            int8 48x48 matmul x 500, {mic_insns:,} guest instructions "
          f"(cycle model {args.cycle_model}, best of {args.repeat})")
    print(f"bare unicorn        {bare:8.1f} MIPS  {min(bare_t):.3f} s  mic_compute.elf, no hooks")
    print(f"simcore + mic       {mic:8.1f} MIPS  {min(mic_t):.3f} s  16 kHz mic by DMA, {halves} half-buffer events")
    print(f"simcore, no sensor  {plain:8.1f} MIPS  {min(plain_t):.3f} s  compute.elf")
    print(f"ratio mic / bare    {mic / bare:8.3f}  (target >= 0.5)")
    print(f"ratio mic / no mic  {mic / plain:8.3f}  (what streaming the microphone costs)")


if __name__ == "__main__":
    main()
