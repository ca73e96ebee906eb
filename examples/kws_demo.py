"""Keyword spotting at two clocks: latency and energy per inference, from the Python API.

Runs the bundled kws_demo firmware (DS-CNN on simcore's TFLM-compatible runtime, see
firmware/apps/kws_demo/main.c) on one part at two core clocks and prints, per inference:
the instructions and cycles simcore counted between the firmware's ITM markers (port 3 just
before its first DWT CYCCNT read, port 4 just after the second), the cycles the firmware
measured itself, the latency at that clock and the energy from the board's datasheet power
figures. The cycle count changes with the clock because flash wait states do.

    python examples/kws_demo.py                                  # stm32f407vg at 168 and 48 MHz
    python examples/kws_demo.py --board nrf52840 --mhz 64 32
    python examples/kws_demo.py --mic --mhz 100 20               # kws_mic: microphone pipeline

With --mic it runs kws_mic instead (cortex-m4 board, models/trained/kws_demo.wav on the
microphone: the trained keyword spotter and its detector): per 250 ms of audio, the front end's
and the inference's cycles, the share of real time the core is busy, the words detected, and
the overruns simcore saw when the clock is too low to keep up.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simcore.api as sc  # noqa: E402
from simcore.energy import estimate  # noqa: E402

KWS_MACS = 2_656_768  # models/manifest.json: kws_dscnn


def run_at(board: str, mhz: float) -> dict:
    elf = ROOT / "firmware" / "bin" / board / "kws_demo.elf"
    m = sc.prepare(elf, board, mhz=mhz)
    marks: list[tuple[int, int, int]] = []  # (port, cycle, instructions so far)
    m.system.itm.on_write(lambda port, value, cycle: marks.append((port, cycle, m.instructions))
                          if port in (3, 4) else None)
    res = sc.run_machine(m)
    if res.exit_status != 0:
        raise SystemExit(f"kws_demo on {board} at {mhz} MHz: {res.stop.message}\n{res.text[-1000:]}")
    fw_cycles = [int(c) for c in re.findall(r"latency: (\d+) cycles", res.text)]
    tops = re.findall(r'top class (\d+) "(\w+)"', res.text)
    arena = re.search(r"arena: (\d+) bytes used", res.text)
    rows = []
    for k, (begin, end) in enumerate(zip(marks[::2], marks[1::2], strict=True)):
        cycles, instr = end[1] - begin[1], end[2] - begin[2]
        e = estimate(m.board.power, mhz, cycles, 0)
        rows.append({"cycles": cycles, "instructions": instr, "fw_cycles": fw_cycles[k],
                     "ms": cycles / (mhz * 1e3), "uj": e.joules * 1e6, "mw": e.average_watts * 1e3,
                     "top": f"{tops[k][0]} {tops[k][1]}"})
    return {"rows": rows, "arena": int(arena[1]) if arena else None,
            "wait_states": res.to_dict().get("flash_wait_states"), "result": res}


def run_mic(mhz: float) -> None:
    wav = ROOT / "models" / "trained" / "kws_demo.wav"
    m = sc.prepare(ROOT / "firmware" / "bin" / "cortex-m4" / "kws_mic.elf", "cortex-m4", mhz=mhz,
                   sensors={"mic": str(wav)})
    spans: dict[int, list[int]] = {3: [], 4: [], 5: [], 6: []}
    m.system.itm.on_write(lambda port, value, cycle: spans[port].append(cycle) if port in spans else None)
    res = sc.run_machine(m)
    inf = [b - a for a, b in zip(spans[3], spans[4], strict=True)]
    fe = [b - a for a, b in zip(spans[5], spans[6], strict=True)]
    mic = res.sensors.get("mic", {})
    words = re.findall(r'^detected "(\w+)"', res.text, re.M)
    print(f"kws_mic on cortex-m4 at {mhz:g} MHz: exit {res.exit_status}, {len(inf)} inferences on "
          f"{mic.get('samples_delivered', 0) / 16000:g} s of audio, {mic.get('overruns', 0)} overrun(s); "
          f"detected: {' '.join(words)}")
    if inf:
        per_inf = sum(inf) / len(inf)
        per_half = sum(fe) / len(fe) + per_inf
        e = estimate(m.board.power, mhz, round(per_inf), 0)
        print(f"  front end {sum(fe) / len(fe):,.0f} cycles per 250 ms half (12.5 hops); "
              f"inference {per_inf:,.0f} cycles = "
              f"{per_inf / (mhz * 1e3):.1f} ms, {e.joules * 1e6:.0f} uJ")
        print(f"  busy {per_half / (mhz * 1e6) / 0.25:.0%} of real time; whole run {res.seconds * 1e3:.0f} ms, "
              f"{res.to_dict()['energy']['joules'] * 1e6:.0f} uJ (asleep in WFI "
              f"{res.sleep_cycles / max(res.cycles, 1):.0%} of the time)\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32f407vg")
    ap.add_argument("--mhz", type=float, nargs="+", default=None)
    ap.add_argument("--mic", action="store_true", help="run kws_mic (microphone pipeline) instead")
    args = ap.parse_args(argv)
    if args.mic:
        for mhz in args.mhz or [100.0, 20.0]:
            run_mic(mhz)
        return 0
    args.mhz = args.mhz or [168.0, 48.0]
    for mhz in args.mhz:
        r = run_at(args.board, mhz)
        print(f"{args.board} at {mhz:g} MHz ({r['wait_states']} flash wait states), arena {r['arena']} bytes")
        print("  input  top class     instructions      cycles  (firmware)   cycles/MAC     ms     uJ    mW")
        for k, row in enumerate(r["rows"]):
            print(f"  {k:5d}  {row['top']:<12} {row['instructions']:12,d} {row['cycles']:11,d} "
                  f"({row['fw_cycles']:,d}) {row['cycles'] / KWS_MACS:8.2f} {row['ms']:8.2f} "
                  f"{row['uj']:7.0f} {row['mw']:5.1f}")
        res = r["result"]
        print(f"  whole run: {res.instructions:,d} instructions, {res.cycles:,d} cycles, "
              f"{res.seconds * 1e3:.1f} ms, {res.to_dict()['energy']['joules'] * 1e6:.0f} uJ\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
