"""``simcore compare baseline.json current.json``: the regression gate for CI.

Both files are what simcore writes with ``--json``: a run (``simcore run``), a suite
(``simcore test``) or a benchmark table (``simcore bench``); docs/run-json.md has the schema.
For every run found in both (matched by ELF file name and board, or model and board), the
metrics below are compared; any that grows by more than its tolerance (percent, default 0:
instruction and cycle counts are deterministic) is a regression: the table shows it and the
exit status is 1. Runs missing from the current file are regressions too; new runs are listed.
Bad input (not JSON, another schema major version, a missing figure) is exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simcore.api import RUN_SCHEMA
from simcore.errors import BadInputError

SUITE_SCHEMA = "simcore.suite/1"
BENCH_SCHEMA = "simcore.bench/1"
KNOWN = {RUN_SCHEMA.split("/")[0]: 1, SUITE_SCHEMA.split("/")[0]: 1, BENCH_SCHEMA.split("/")[0]: 1}
METRICS = ("instructions", "cycles", "flash", "ram", "stack", "arena")
EXIT_REGRESSION = 1


@dataclass
class Row:
    run: str
    metric: str
    baseline: float | None
    current: float | None
    tolerance: float
    verdict: str  # "ok" | "REGRESSION" | "improved" | "new" | "MISSING"

    @property
    def change(self) -> str:
        if self.baseline is None or self.current is None:
            return ""
        diff = self.current - self.baseline
        pct = (100.0 * diff / self.baseline) if self.baseline else (math.inf if diff else 0.0)
        return f"{diff:+,.0f} ({pct:+.2f}%)" if math.isfinite(pct) else f"{diff:+,.0f}"


def metrics_of(run: dict[str, Any]) -> dict[str, float]:
    """The compared figures of one run record (missing ones are left out)."""
    out: dict[str, float] = {}
    for key in ("instructions", "cycles"):
        if isinstance(run.get(key), int | float):
            out[key] = run[key]
    regions = (run.get("memory") or {}).get("regions")
    if isinstance(regions, list):
        out["flash"] = sum(r.get("used", 0) for r in regions if r.get("kind") == "flash")
        out["ram"] = sum(r.get("used", 0) for r in regions if r.get("kind") == "ram")
    stack = run.get("stack")
    if isinstance(stack, dict) and isinstance(stack.get("used"), int):
        out["stack"] = stack["used"]
    arena = run.get("arena")
    if isinstance(arena, dict) and isinstance(arena.get("used"), int):
        out["arena"] = arena["used"]
    elif isinstance(arena, int):
        out["arena"] = arena
    return out


def load_runs(path: Path) -> dict[str, dict[str, float]]:
    """Run name -> metrics, from a run, suite or bench JSON file."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise BadInputError(f"{path}: not a JSON file ({exc})") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: not a simcore JSON file (expected an object)")
    schema = data.get("schema", RUN_SCHEMA if "instructions" in data else None)
    if not isinstance(schema, str) or "/" not in schema:
        raise BadInputError(f"{path}: no 'schema' field: not written by simcore run/test/bench --json")
    name, _, version = schema.partition("/")
    if name not in KNOWN or not version.isdigit() or int(version) != KNOWN[name]:
        raise BadInputError(f"{path}: schema {schema!r} is not one this simcore reads "
                            f"({', '.join(f'{k}/{v}' for k, v in KNOWN.items())})")
    if name == "simcore.run":
        records = [data]
    else:
        records = data.get("runs") if name == "simcore.suite" else data.get("results")
        if not isinstance(records, list):
            raise BadInputError(f"{path}: schema {schema} but no list of runs")
    out: dict[str, dict[str, float]] = {}
    for rec in records:
        if not isinstance(rec, dict):
            raise BadInputError(f"{path}: a run record is not an object")
        label = run_label(rec)
        if label in out:
            raise BadInputError(f"{path}: two runs named {label!r}")
        out[label] = metrics_of(rec)
    return out


def run_label(rec: dict[str, Any]) -> str:
    who = rec.get("model") or Path(str(rec.get("elf", "?"))).name
    extra = f"@{rec['mhz']:g}MHz" if isinstance(rec.get("mhz"), int | float) and rec.get("model") else ""
    return f"{who} on {rec.get('board', '?')}{extra}"


def parse_tolerances(specs: list[str]) -> dict[str, float]:
    """``metric=pct`` (``all=pct`` for every metric); percents, >= 0."""
    out = dict.fromkeys(METRICS, 0.0)
    for spec in specs:
        metric, sep, value = spec.partition("=")
        try:
            pct = float(value.rstrip("%"))
        except ValueError:
            pct = -1.0
        if not sep or not (metric in METRICS or metric == "all") or not (math.isfinite(pct) and pct >= 0):
            raise BadInputError(f"--tolerance {spec}: expected METRIC=PERCENT with METRIC one of "
                                f"{', '.join(METRICS)} or all, and a percent >= 0 (e.g. cycles=2)")
        for m in (METRICS if metric == "all" else (metric,)):
            out[m] = pct
    return out


def compare(base: dict[str, dict[str, float]], cur: dict[str, dict[str, float]],
            tolerances: dict[str, float]) -> list[Row]:
    rows: list[Row] = []
    for label in list(base) + [k for k in cur if k not in base]:
        b, c = base.get(label), cur.get(label)
        if c is None:
            rows.append(Row(label, "(run)", None, None, 0.0, "MISSING"))
            continue
        if b is None:
            rows.append(Row(label, "(run)", None, None, 0.0, "new"))
            continue
        for metric in METRICS:
            if metric not in b:
                continue
            tol = tolerances.get(metric, 0.0)
            if metric not in c:
                rows.append(Row(label, metric, b[metric], None, tol, "MISSING"))
                continue
            limit = b[metric] * (1 + tol / 100.0)
            verdict = "REGRESSION" if c[metric] > limit else "improved" if c[metric] < b[metric] else "ok"
            rows.append(Row(label, metric, b[metric], c[metric], tol, verdict))
    return rows


def table(rows: list[Row], show_all: bool = False) -> str:
    shown = rows if show_all else [r for r in rows if r.verdict != "ok"]
    if not shown:
        return "no differences"
    cols = [("run", [r.run for r in shown]), ("metric", [r.metric for r in shown]),
            ("baseline", ["" if r.baseline is None else f"{r.baseline:,.0f}" for r in shown]),
            ("current", ["" if r.current is None else f"{r.current:,.0f}" for r in shown]),
            ("change", [r.change for r in shown]), ("tolerance", [f"{r.tolerance:g}%" for r in shown]),
            ("verdict", [r.verdict for r in shown])]
    widths = [max(len(h), *(len(v) for v in vals)) for h, vals in cols]
    right = {"baseline", "current", "change", "tolerance"}
    header = "  ".join(h.rjust(w) if h in right else h.ljust(w) for (h, _), w in zip(cols, widths, strict=True))
    lines = [header.rstrip()]
    for i in range(len(shown)):
        lines.append("  ".join(vals[i].rjust(w) if h in right else vals[i].ljust(w)
                               for (h, vals), w in zip(cols, widths, strict=True)).rstrip())
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    c = sub.add_parser("compare", help="regression gate: compare two --json files (exit 1 when a figure grew)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("baseline", type=Path)
    c.add_argument("current", type=Path)
    c.add_argument("--tolerance", action="append", default=[], metavar="METRIC=PCT",
                   help=f"allowed growth in percent ({', '.join(METRICS)}, or all); default 0. Repeatable")
    c.add_argument("--all", action="store_true", help="show unchanged figures too")


def cmd_compare(args: argparse.Namespace) -> int:
    tolerances = parse_tolerances(args.tolerance)
    base, cur = load_runs(args.baseline), load_runs(args.current)
    rows = compare(base, cur, tolerances)
    print(table(rows, args.all))
    bad = [r for r in rows if r.verdict in ("REGRESSION", "MISSING")]
    n_runs = len(set(base) | set(cur))
    if bad:
        print(f"\n{len(bad)} regression(s) in {n_runs} run(s): {args.current} against {args.baseline}")
        return EXIT_REGRESSION
    print(f"\nno regression in {n_runs} run(s) ({sum(1 for r in rows if r.verdict == 'improved')} figure(s) improved)")
    return 0
