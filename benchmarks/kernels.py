"""Cycles per MAC of the tm runtime's int8 kernels on simcore's Cortex-M4 cycle model.

Builds firmware/apps/model_runner (simcore.ml; needs arm-none-eabi-gcc) for the MLPerf-Tiny
style models of models/ with the reference kernels and with TM_OPTIMIZED=1, runs one
inference of each on the generic cortex-m4 board (no flash wait states), and takes the
cycles and instructions of every op from the runtime's ITM op markers. MACs per op come
from models/manifest.json (op_details[].macs).

Kernel classes (representative shapes = the models' own layers):
  conv1x1   pointwise CONV_2D (DS-CNN 64->64 on 25x5, MobileNet 1x1 layers, ResNet shortcuts)
  conv3x3   3x3 CONV_2D (ResNet-8, MobileNet stem)
  convKxK   other CONV_2D (DS-CNN 10x4 stem)
  dw3x3     DEPTHWISE_CONV_2D 3x3 (DS-CNN 64 ch 25x5, MobileNet)
  fc        FULLY_CONNECTED
"model" rows: the whole tm_invoke (all ops, MACs = the manifest's total).

    python benchmarks/kernels.py [--models kws_dscnn,...] [--layers] [--board cortex-m4]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simcore.ml import run_model  # noqa: E402

MODELS = ["kws_dscnn", "vww_mobilenet_v1_025", "ic_resnet8", "ad_autoencoder"]


def kernel_class(d: dict) -> str | None:
    op = d["op"]
    if op == "CONV_2D":
        k = tuple(d.get("kernel") or ())
        return "conv1x1" if k == (1, 1) else "conv3x3" if k == (3, 3) else "convKxK"
    if op == "DEPTHWISE_CONV_2D":
        return "dw3x3" if tuple(d.get("kernel") or ()) == (3, 3) else "dwKxK"
    if op == "FULLY_CONNECTED":
        return "fc"
    return None


def measure(name: str, optimized: bool, board: str) -> tuple[list[tuple[float, float]], float, float]:
    """Per op (cycles, instructions) of one inference, plus the whole invoke (cycles, instr)."""
    x = np.load(ROOT / "models" / f"{name}.inputs.npy")[:1]
    r = run_model(ROOT / "models" / f"{name}.tflite", x, board=board, optimized=optimized)
    per_op = [(o.itm_cycles[0], o.itm_instructions[0]) for o in r.ops]
    return per_op, float(sum(c for c, _ in per_op)), float(sum(i for _, i in per_op))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--board", default="cortex-m4")
    ap.add_argument("--layers", action="store_true", help="also print every MAC op of every model")
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    a = ap.parse_args(argv)
    manifest = {m["name"]: m for m in json.loads((ROOT / "models" / "manifest.json").read_text())["models"]}
    names = [n.strip() for n in a.models.split(",") if n.strip()]

    # cls -> variant -> [cycles, instructions, macs]
    by_class: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    rows_model = []
    layers = []
    figures: dict = {}
    for name in names:
        det = manifest[name]["op_details"]
        total_macs = manifest[name]["macs"]
        res = {}
        for variant, opt in (("ref", False), ("opt", True)):
            per_op, cyc, ins = measure(name, opt, a.board)
            assert len(per_op) == len(det), (name, len(per_op), len(det))
            res[variant] = (per_op, cyc, ins)
            for d, (c, i) in zip(det, per_op):
                cls = kernel_class(d)
                if cls and d.get("macs"):
                    acc = by_class[cls][variant]
                    acc[0] += c
                    acc[1] += i
                    acc[2] += d["macs"]
        rows_model.append((name, total_macs, res["ref"][1], res["ref"][2], res["opt"][1], res["opt"][2]))
        figures[name] = {"macs": total_macs, **{v: {"cycles": res[v][1], "instructions": res[v][2],
                                                      "ops": [{"op": d["op"], "macs": d.get("macs"), "cycles": c,
                                                               "instructions": i}
                                                              for d, (c, i) in zip(det, res[v][0])]}
                                                  for v in ("ref", "opt")}}
        for k, d in enumerate(det):
            cls = kernel_class(d)
            if cls and d.get("macs"):
                layers.append((name, k, cls, d, res["ref"][0][k], res["opt"][0][k]))

    print(f"tm runtime kernels on simcore ({a.board} board, Cortex-M4 cycle model), one inference; "
          "cycles and instructions per MAC")
    print(f"{'kernel':<10} {'MACs':>11} {'ref cyc/MAC':>12} {'ref ins/MAC':>12} {'opt cyc/MAC':>12} "
          f"{'opt ins/MAC':>12} {'speedup':>8}")
    for cls in ("conv1x1", "conv3x3", "convKxK", "dw3x3", "dwKxK", "fc"):
        if cls not in by_class:
            continue
        r, o = by_class[cls]["ref"], by_class[cls]["opt"]
        print(f"{cls:<10} {o[2]:>11,.0f} {r[0] / r[2]:>12.2f} {r[1] / r[2]:>12.2f} {o[0] / o[2]:>12.2f} "
              f"{o[1] / o[2]:>12.2f} {r[0] / o[0]:>7.2f}x")
    print(f"{'model':<22} {'MACs':>11} {'ref cyc/MAC':>12} {'ref ins/MAC':>12} {'opt cyc/MAC':>12} "
          f"{'opt ins/MAC':>12} {'opt cycles':>12}")
    for name, macs, rc, ri, oc, oi in rows_model:
        print(f"{name:<22} {macs:>11,} {rc / macs:>12.2f} {ri / macs:>12.2f} {oc / macs:>12.2f} {oi / macs:>12.2f} "
              f"{oc:>12,.0f}")
    if a.layers:
        print(f"\n{'model':<22} {'op':>3} {'kernel':<8} {'in':<16} {'out':<16} {'MACs':>9} {'ref c/MAC':>10} "
              f"{'opt c/MAC':>10} {'opt i/MAC':>10}")
        for name, k, cls, d, (rc, _ri), (oc, oi) in layers:
            shp = lambda s: "x".join(map(str, (s or [])[1:]))  # noqa: E731
            print(f"{name:<22} {k:>3} {cls:<8} {shp(d.get('in')):<16} {shp(d.get('out')):<16} {d['macs']:>9,} "
                  f"{rc / d['macs']:>10.2f} {oc / d['macs']:>10.2f} {oi / d['macs']:>10.2f}")
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
