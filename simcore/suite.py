"""``simcore test ELF...``: run a suite of test binaries in parallel worker processes.

Each ELF runs on its board: ``--board``, else a manifest entry, else the board tag the ELF
carries (a ``.simcore.board`` section holding the board's name), else the name of the
directory it is in when that is a board (``firmware/bin/<board>/<app>.elf``). A test passes
when its exit status is the expected one (0 unless the manifest says otherwise): the
firmware's exit code, or a pass/fail marker on the console.

Workers are processes forked once after simcore, Unicorn, capstone and the boards are
loaded, and they stay alive for the whole suite. Each runs its share through one
:class:`simcore.batch.Batch` (the warm many-ELF runner: boards and parsed ELFs kept, a fresh
machine per run), so per ELF it only builds the machine and runs; block analyses of an ELF
seen before come from the persistent cache (simcore/blockcache.py). The longest runs start
first, so the workers end together: each run's wall time is recorded in simcore's cache directory
(``suite/durations.json``, by the ELF's content, board and options) and read back by the next
suite; ELFs without a record start before those with one, largest file first. ``-j N``
sets their number (default: the CPUs). ``--ray ADDRESS`` sends the same work to a Ray cluster
instead (the ``ray`` extra; ELF bytes and custom board files travel with each task). Results:
one table, ``--junit FILE`` (JUnit XML as pytest writes it), ``--json FILE``
(``simcore.suite/1``, docs/run-json.md). Exit status 0 when every test passed, 1 otherwise,
2 when the command line or manifest is wrong (nothing run).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import tomllib
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from xml.etree import ElementTree as ET

from simcore.errors import BadInputError, SimcoreError

SUITE_SCHEMA = "simcore.suite/1"
BOARD_SECTION = ".simcore.board"


@dataclass
class TestSpec:
    """One ELF to run and what passing means for it."""

    elf: str
    board: str  # a built-in board name or a path to a board TOML file
    name: str = ""
    mhz: float | None = None
    expect_status: int = 0
    args: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # pass_marker, fail_marker, max_instructions, ...

    def __post_init__(self) -> None:
        if not self.name:
            self.name = f"{Path(self.elf).stem}[{Path(self.board).stem}]"


# --- finding the tests ------------------------------------------------------------------------------
def board_tag(path: Path) -> str | None:
    """The board named in the ELF's ``.simcore.board`` section, if it has one (read with struct through
    simcore.elf's section headers: pyelftools cost 6 ms an ELF here, in the parent, before any worker starts)."""
    import struct

    from simcore import elf as elfmod

    try:
        raw = path.read_bytes()
        if raw[:4] != b"\x7fELF" or raw[4] != 1 or raw[5] != 1:  # not a 32-bit little-endian ELF: no tag
            return None
        shoff, shentsize, shnum, shstrndx = (elfmod._EHDR.unpack_from(raw)[i] for i in (6, 11, 12, 13))
        for name, _type, _flags, _addr, off, size, _link in elfmod._section_headers(path, raw, shoff, shentsize,
                                                                                      shnum, shstrndx):
            if name == BOARD_SECTION:
                return raw[off : off + size].split(b"\0", 1)[0].decode("utf-8", "replace").strip() or None
    except (BadInputError, OSError, ValueError, struct.error):
        return None
    return None


def _is_executable_elf(path: Path) -> bool:
    """An ELF executable (e_type ET_EXEC) by its header: test binaries built by other projects' make files
    often have no extension (TensorFlow Lite Micro's ``gen/<target>/bin/kernel_add_test``)."""
    try:
        with path.open("rb") as f:
            head = f.read(18)
    except OSError:
        return False
    return len(head) == 18 and head[:4] == b"\x7fELF" and head[16] == 2 and head[5] == 1  # ET_EXEC, little-endian


def _expand(paths: list[Path]) -> Iterator[Path]:
    """Files as given; in a directory (recursively) every ``*.elf`` and every other file that is an ELF
    executable (object files, archives and scripts are left out)."""
    for p in paths:
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file()
                              and (f.suffix == ".elf" or (f.suffix in ("", ".axf", ".out") and _is_executable_elf(f))))
        else:
            yield p


def collect(paths: list[Path], board: str | None, manifest: Path | None, options: dict[str, Any],
            mhz: float | None = None) -> list[TestSpec]:
    """The tests: ELF paths (directories are searched for ``*.elf`` and extensionless ELF executables) and/or a
    manifest's entries."""
    from simcore.board import builtin_boards

    known = set(builtin_boards())
    specs: list[TestSpec] = []
    if manifest is not None:
        specs += read_manifest(manifest, board, options, mhz)
    for path in _expand(paths):
        if not path.is_file():
            raise BadInputError(f"{path}: no such file (simcore test takes ELF files and directories of them)")
        b = board or board_tag(path) or (path.parent.name if path.parent.name in known else None)
        if b is None:
            raise BadInputError(f"{path}: which board? It has no {BOARD_SECTION} section and its directory is "
                                f"not a board name; pass --board or list it in a --manifest")
        specs.append(TestSpec(str(path), b, mhz=mhz, options=dict(options)))
    if not specs:
        raise BadInputError("simcore test: no ELF to run (give ELF files, directories or a --manifest)")
    names = [s.name for s in specs]
    dup = {n for n in names if names.count(n) > 1}
    for s in specs:
        if s.name in dup:
            s.name = f"{s.elf}[{Path(s.board).stem}]"
    return specs


def read_manifest(path: Path, board: str | None, options: dict[str, Any], mhz: float | None) -> list[TestSpec]:
    """A TOML file of ``[[test]]`` tables: ``elf`` (relative to the manifest), ``board``, ``name``, ``mhz``,
    ``expect_status``, ``args``, ``pass_marker``, ``fail_marker``, ``max_instructions``."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise BadInputError(f"--manifest {path}: cannot read it ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"--manifest {path}: not valid TOML ({exc})") from exc
    entries = data.get("test")
    if not isinstance(entries, list) or not entries:
        raise BadInputError(f"--manifest {path}: expected [[test]] tables with at least an 'elf' key")
    allowed = {"elf", "board", "name", "mhz", "expect_status", "args", "pass_marker", "fail_marker",
               "max_instructions"}
    specs = []
    for i, e in enumerate(entries):
        where = f"--manifest {path}, test {i + 1}"
        if not isinstance(e, dict) or not isinstance(e.get("elf"), str):
            raise BadInputError(f"{where}: needs elf = \"path\"")
        unknown = set(e) - allowed
        if unknown:
            raise BadInputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                                f"(known: {', '.join(sorted(allowed))})")
        elf = (path.parent / e["elf"]).resolve() if not Path(e["elf"]).is_absolute() else Path(e["elf"])
        b = e.get("board", board) or board_tag(elf)
        if not isinstance(b, str):
            raise BadInputError(f"{where}: no board (set board = \"...\" or pass --board)")
        if b.endswith(".toml") and not Path(b).is_absolute():
            b = str((path.parent / b).resolve())
        opts = dict(options)
        for key in ("pass_marker", "fail_marker", "max_instructions"):
            if key in e:
                opts[key] = e[key]
        args = e.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise BadInputError(f"{where}: args must be a list of strings")
        status = e.get("expect_status", 0)
        if not isinstance(status, int):
            raise BadInputError(f"{where}: expect_status must be an integer")
        specs.append(TestSpec(str(elf), b, name=e.get("name", ""), mhz=e.get("mhz", mhz), expect_status=status,
                              args=args, options=opts))
    return specs


# --- running one test (in a worker) -------------------------------------------------------------------
_BATCH: Any = None  # per process: the warm runner (forked workers inherit the parent's boards)


def batch() -> Any:
    """This process's :class:`simcore.batch.Batch`."""
    global _BATCH
    if _BATCH is None:
        from simcore.batch import Batch

        _BATCH = Batch()
    return _BATCH


def run_one(spec: TestSpec, elf_bytes: bytes | None = None, board_toml: str | None = None) -> dict[str, Any]:
    """Run one test; never raises: the record says pass, fail or error (``elf_bytes``: a remote worker)."""
    t0 = time.perf_counter()
    record: dict[str, Any] = {"name": spec.name, "elf": spec.elf, "board": Path(spec.board).stem}
    tmp: Path | None = None
    try:
        elf = spec.elf
        board_spec = spec.board
        if elf_bytes is not None:  # a Ray worker without the submitter's files
            import tempfile

            tmp = Path(tempfile.mkdtemp(prefix="simcore-test-"))
            elf = str(tmp / Path(spec.elf).name)
            Path(elf).write_bytes(elf_bytes)
            if board_toml is not None:
                board_spec = str(tmp / "board.toml")
                Path(board_spec).write_text(board_toml)
        # a remote worker's ELF is a temporary file: parsed, not kept
        res = batch().run(elf, board_spec, keep_elf=elf_bytes is None, mhz=spec.mhz, echo=None,
                          cmdline=" ".join([Path(spec.elf).name, *spec.args]), **spec.options)
        record.update(res.to_dict())
        record.pop("schema", None)
        record["elf"] = spec.elf
        ok = res.exit_status == spec.expect_status
        record["verdict"] = "pass" if ok else "fail"
        record["why"] = res.stop.message if ok else (
            f"exit status {res.exit_status}, expected {spec.expect_status}: {res.stop.message}")
    except SimcoreError as exc:
        record.update(verdict="error", why=str(exc), exit_status=exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug in simcore on this ELF must not end the suite
        record.update(verdict="error", why=f"internal error: {type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc(), exit_status=127)
    finally:
        if tmp is not None:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    record["wall_seconds"] = time.perf_counter() - t0
    return record


def _warm(boards: list[str]) -> None:
    """Before forking: import what every run needs and parse the boards, so workers start warm."""
    import simcore.api  # noqa: F401
    import simcore.cortexm  # noqa: F401
    import simcore.cycles  # noqa: F401

    for b in boards:
        try:
            batch().board(b)
        except SimcoreError:
            pass  # reported by the test that uses it


def _worker_init() -> None:
    os.environ.setdefault("SIMCORE_WORKER", "1")


# --- executors ----------------------------------------------------------------------------------------
def run_local(specs: list[TestSpec], jobs: int, on_done: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Run in ``jobs`` worker processes forked from this warm one (in this process when jobs == 1)."""
    _warm(sorted({s.board for s in specs}))
    if jobs <= 1 or len(specs) == 1:
        out = []
        for s in specs:
            rec = run_one(s)
            on_done(rec)
            out.append(rec)
        return out
    ctx = multiprocessing.get_context("fork")
    results: dict[int, dict[str, Any]] = {}
    order = schedule(specs)
    with ProcessPoolExecutor(max_workers=min(jobs, len(specs)), mp_context=ctx, initializer=_worker_init) as pool:
        pending: dict[Future[dict[str, Any]], int] = {pool.submit(run_one, specs[i]): i for i in order}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001 - a worker died (e.g. killed): report, go on
                    rec = {"name": specs[i].name, "elf": specs[i].elf, "board": Path(specs[i].board).stem,
                           "verdict": "error", "why": f"worker process failed: {exc}", "exit_status": 127}
                results[i] = rec
                on_done(rec)
    return [results[i] for i in range(len(specs))]


def run_ray(specs: list[TestSpec], address: str, on_done: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """The same tests as Ray tasks on a cluster (``ray`` extra); ELF bytes and board files go with them."""
    try:
        import ray
    except ImportError as exc:
        raise BadInputError("--ray needs Ray: pip install 'simcore[ray]' (or pip install ray)") from exc
    from simcore.board import builtin_boards

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(run_one)
    known = set(builtin_boards())
    refs = {}
    for i, s in enumerate(specs):
        toml = None if s.board in known else Path(s.board).read_text()
        refs[remote.remote(s, Path(s.elf).read_bytes(), toml)] = i
    results: dict[int, dict[str, Any]] = {}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            rec = ray.get(ref)
            results[refs[ref]] = rec
            on_done(rec)
    return [results[i] for i in range(len(specs))]


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# --- order: longest runs first ----------------------------------------------------------------------
DURATIONS_KEEP = 20_000  # records kept in the durations file (the oldest go first)


def _durations_path() -> Path | None:
    """``suite/durations.json`` in simcore's cache directory (None with SIMCORE_NO_CACHE=1 or no usable directory)."""
    if os.environ.get("SIMCORE_NO_CACHE") == "1":
        return None
    from simcore.paths import cache_dir

    try:
        return cache_dir("suite") / "durations.json"
    except OSError:
        return None


def duration_key(spec: TestSpec) -> str | None:
    """What a run's length depends on: the ELF's bytes, the board, the clock, the arguments and options."""
    import hashlib

    try:
        digest = hashlib.sha256(Path(spec.elf).read_bytes()).hexdigest()[:32]
    except OSError:
        return None
    extra = json.dumps([Path(spec.board).stem if not spec.board.endswith(".toml") else spec.board, spec.mhz,
                        spec.args, spec.options], sort_keys=True, default=str)
    return f"{digest}:{hashlib.sha256(extra.encode()).hexdigest()[:16]}"


def read_durations() -> dict[str, float]:
    """The recorded wall time of earlier runs, by :func:`duration_key` (empty if none or unreadable)."""
    path = _durations_path()
    try:
        data = json.loads(path.read_text()) if path is not None else {}
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)} if isinstance(data, dict) else {}


def record_durations(specs: list[TestSpec], records: list[dict[str, Any]]) -> None:
    """Add this suite's run times to the durations file (written under a temporary name, then renamed)."""
    import tempfile

    path = _durations_path()
    if path is None:
        return
    data = read_durations()
    for spec, rec in zip(specs, records, strict=True):
        key = duration_key(spec)
        if key is not None and "wall_seconds" in rec:
            data.pop(key, None)  # re-inserted last: the newest records are kept
            data[key] = round(float(rec["wall_seconds"]), 4)
    data = dict(list(data.items())[-DURATIONS_KEEP:])
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".durations-", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs the order next time


def schedule(specs: list[TestSpec]) -> list[int]:
    """The order to hand the tests to the workers: ELFs never run before first (largest file first: they may be
    long), then by recorded wall time, longest first, so no long run starts last on one worker while the
    others sit idle. Results do not depend on the order (every run gets a fresh machine)."""
    known = read_durations()
    keys = [duration_key(s) for s in specs]

    def rank(i: int) -> tuple[int, float]:
        t = known.get(keys[i]) if keys[i] is not None else None
        return (0, -_size(specs[i].elf)) if t is None else (1, -t)

    return sorted(range(len(specs)), key=rank)


# --- output -------------------------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on a terminal; one line per finished test otherwise (with -v)."""

    def __init__(self, total: int, stream: TextIO, verbose: bool) -> None:
        self.total, self.stream, self.verbose = total, stream, verbose
        self.tty = stream.isatty()
        self.done = self.failed = 0
        self.t0 = time.perf_counter()

    def __call__(self, rec: dict[str, Any]) -> None:
        self.done += 1
        self.failed += rec["verdict"] != "pass"
        if self.verbose or (not self.tty and rec["verdict"] != "pass"):
            self.stream.write(f"{rec['verdict'].upper():<5} {rec['name']}  {rec.get('why', '')}\n")
        if self.tty:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                              f"failed {self.failed}  {time.perf_counter() - self.t0:.1f} s")
            if self.done == self.total:
                self.stream.write("\n")
        self.stream.flush()


def summary_table(records: list[dict[str, Any]]) -> str:
    head = ("test", "verdict", "status", "instructions", "cycles", "wall s", "why")
    rows = [(r["name"], r["verdict"].upper() if r["verdict"] != "pass" else "pass", str(r.get("exit_status", "")),
             f"{r['instructions']:,}" if "instructions" in r else "",
             f"{r['cycles']:,}" if "cycles" in r else "", f"{r.get('wall_seconds', 0):.2f}",
             _short(r.get("why", ""))) for r in records]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    right = {2, 3, 4, 5}
    fmt = lambda row: "  ".join(c.rjust(w) if i in right else c.ljust(w)  # noqa: E731
                                for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
    return "\n".join([fmt(head), *(fmt(r) for r in rows)])


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def junit_xml(records: list[dict[str, Any]], wall: float) -> bytes:
    """JUnit XML as pytest writes it (``testsuites/testsuite/testcase``, failure/error with a message)."""
    failures = sum(r["verdict"] == "fail" for r in records)
    errors = sum(r["verdict"] == "error" for r in records)
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name="simcore", errors=str(errors), failures=str(failures),
                          skipped="0", tests=str(len(records)), time=f"{wall:.3f}",
                          hostname=os.uname().nodename if hasattr(os, "uname") else "")
    for r in records:
        case = ET.SubElement(suite, "testcase", classname=f"simcore.{r['board']}",
                             name=Path(r["name"]).name, time=f"{r.get('wall_seconds', 0):.3f}")
        if r["verdict"] != "pass":
            tag = "failure" if r["verdict"] == "fail" else "error"
            el = ET.SubElement(case, tag, message=_short(r.get("why", ""), 200))
            detail = [r.get("why", "")]
            bt = (r.get("stop") or {}).get("details", {}).get("backtrace")
            if bt:
                detail += ["backtrace:", *(f"  {f}" for f in bt)]
            tail = "\n".join(str(r.get("console", "")).splitlines()[-30:])
            if tail:
                detail += ["console (last lines):", tail]
            if r.get("traceback"):
                detail.append(r["traceback"])
            el.text = "\n".join(detail)
        if r.get("console"):
            ET.SubElement(case, "system-out").text = str(r["console"])
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


# --- command line -------------------------------------------------------------------------------------
def add_parser(sub: Any, count: Callable[[str], int]) -> None:
    """``simcore test``'s arguments (``count``: the CLI's parser of counts such as 10M)."""
    t = sub.add_parser("test", help="run a suite of test ELFs in parallel (JUnit/JSON out)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("elfs", nargs="*", type=Path, metavar="ELF", help="ELF files or directories of them")
    t.add_argument("--board", help="board for every ELF (else the manifest, the ELF's board tag or its directory)")
    t.add_argument("--manifest", type=Path, metavar="FILE", help="TOML list of [[test]] entries (elf, board, ...)")
    t.add_argument("--mhz", type=float, help="core clock for every ELF (default: each board's)")
    t.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes (default: the number of CPUs)")
    t.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster instead (ray extra; 'auto', 'local', "
                   "or ray://HOST:PORT)")
    t.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    t.add_argument("--json", type=Path, metavar="FILE", help="write every run's figures (simcore.suite/1)")
    t.add_argument("--pass-marker", metavar="TEXT", help="a test passes as soon as TEXT appears on its console")
    t.add_argument("--fail-marker", metavar="TEXT", help="a test fails as soon as TEXT appears on its console")
    t.add_argument("--max-instructions", type=count, metavar="N", help="instruction budget per test")
    t.add_argument("-v", "--verbose", action="store_true", help="one line per finished test")


def cmd_test(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise BadInputError(f"-j {args.jobs}: at least one worker")
    options: dict[str, Any] = {}
    if args.pass_marker:
        options["pass_marker"] = args.pass_marker
    if args.fail_marker:
        options["fail_marker"] = args.fail_marker
    if args.max_instructions is not None:
        options["max_instructions"] = args.max_instructions
    from simcore.outfile import output_file

    junit_out = output_file(args.junit, "--junit") if args.junit else None  # checked before anything runs
    json_out = output_file(args.json, "--json") if args.json else None
    specs = collect(args.elfs, args.board, args.manifest, options, args.mhz)
    t0 = time.perf_counter()
    progress = Progress(len(specs), sys.stderr, args.verbose)
    if args.ray:
        records = run_ray(specs, args.ray, progress)
    else:
        records = run_local(specs, args.jobs, progress)
    wall = time.perf_counter() - t0
    record_durations(specs, records)
    passed = sum(r["verdict"] == "pass" for r in records)
    failed = sum(r["verdict"] == "fail" for r in records)
    errors = len(records) - passed - failed
    print(summary_table(records))
    print(f"\n{len(records)} tests: {passed} passed, {failed} failed, {errors} errors in {wall:.2f} s "
          f"({'ray' if args.ray else f'{min(args.jobs, len(specs))} workers'})")
    if junit_out is not None:
        junit_out.write(junit_xml(records, wall).decode("utf-8"))
    if json_out is not None:
        json_out.write(json.dumps({"schema": SUITE_SCHEMA, "runs": records,
                                   "summary": {"total": len(records), "passed": passed, "failed": failed,
                                               "errors": errors, "wall_seconds": wall,
                                               "jobs": "ray" if args.ray else min(args.jobs, len(specs))}},
                                  indent=1, default=str) + "\n")
    return 0 if passed == len(records) else 1
