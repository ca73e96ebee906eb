"""Command line: ``simcore run | size | boards``. Bad input: one paragraph on stderr, exit 2."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

from simcore import __version__
from simcore.errors import (
    EXIT_BAD_INPUT,
    EXIT_BUDGET,
    EXIT_FAULT,
    EXIT_GUEST_ERROR,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_MARKER_FAIL,
    EXIT_OUTPUT_CLOSED,
    EXIT_SPINNING,
    EXIT_UNMODELLED,
    BadInputError,
    InternalError,
    OutputClosed,
    SimcoreError,
)
from simcore.outfile import output_file

EXIT_CODES_HELP = f"""\
exit status of 'simcore run' (from the stop kind, README "Exit status"):
  the firmware's own exit code when it exits (semihosting SYS_EXIT / SYS_EXIT_EXTENDED)
  0 / {EXIT_MARKER_FAIL}   --pass-marker / --fail-marker seen on the console
  {EXIT_BAD_INPUT}       bad input (ELF, board, option, data file): nothing was run
  {EXIT_GUEST_ERROR}     --strict: the firmware did something wrong (e.g. wrote a read-only register)
  {EXIT_UNMODELLED}     --strict: the firmware touched something simcore does not implement
  {EXIT_BUDGET}     instruction budget (--max-instructions) or wall-clock limit (--timeout) reached
  {EXIT_SPINNING}     idle loop, sleeping or polling forever with nothing that could end it
  {EXIT_FAULT}     the firmware faulted, locked up or requested a reset (diagnosis on stderr and in --json)
  {EXIT_INTERNAL}     internal error in simcore
  {EXIT_INTERRUPTED}     interrupted (Ctrl-C)
  {EXIT_OUTPUT_CLOSED}     stdout closed by its reader (e.g. | head): the run ended quietly
"""


def _int(text: str) -> int:
    text = text.replace("_", "").replace(",", "")
    for suffix, mult in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if text.upper().endswith(suffix):
            return int(float(text[:-1]) * mult)
    return int(text, 0)


# Commands whose parsers live in this module: a run of one of them does not import the modules of
# the others (simcore.bench pulls in numpy, simcore.suite multiprocessing: 0.15 s of a 0.2 s run).
_OWN_COMMANDS = frozenset({"run", "size", "boards", "profile"})


def _command_of(argv: list[str] | None) -> str | None:
    """The subcommand named in ``argv`` (its first word not starting with '-'), if any."""
    return next((a for a in argv if not a.startswith("-")), None) if argv is not None else None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given ``argv`` naming one of this module's commands, without the others."""
    p = argparse.ArgumentParser(
        prog="simcore",
        description="Run Cortex-M4 firmware ELFs on an emulated part, with exact instruction counts.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("--version", action="version", version=f"simcore {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a firmware ELF", epilog=EXIT_CODES_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("elf", type=Path)
    r.add_argument("--board", default="cortex-m4", help="board name or path to a board TOML file")
    r.add_argument("--mhz", type=float, help="core clock in MHz (default: the board's default clock)")
    r.add_argument("--memory", action="append", default=[], metavar="NAME=SIZE",
                   help="override the size of one of the board's memories, e.g. --memory ram=256K "
                        "(NAME=BASE:SIZE also moves it; repeatable; see docs/board-format.md)")
    r.add_argument("--max-instructions", type=_int, default=None, metavar="N",
                   help="instruction budget; stops runaway firmware deterministically (default 100G; accepts "
                        "500M, 1_000_000)")
    r.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="wall-clock limit: stop after SECONDS of real time with exit 124 (default: none)")
    r.add_argument("--json", metavar="FILE",
                   help="write every figure as JSON ('-' for standard output; checked before the run)")
    r.add_argument("--strict", action="store_true",
                   help="stop at the first access simcore does not implement (exit 123) or the first firmware "
                        "error such as a write to a read-only register (exit 122)")
    r.add_argument("--check-alignment", action="store_true", default=None,
                   help="fault on unaligned LDM/STM/LDRD/STRD like the core (slower; on with --strict)")
    r.add_argument("--python-hook", action="store_true",
                   help="use the pure-Python accounting hook instead of the native one (same counts, slower)")
    r.add_argument("--quiet", "-q", action="store_true", help="do not echo the firmware's console output")
    r.add_argument("--semihosting-root", type=Path, metavar="DIR",
                   help="allow semihosting file access, confined to DIR (off by default)")
    r.add_argument("--pass-marker", metavar="TEXT", help="stop with exit 0 as soon as TEXT appears on the console")
    r.add_argument("--fail-marker", metavar="TEXT", help="stop with exit 1 as soon as TEXT appears on the console")
    r.add_argument("--cycle-model", default="cortex-m4", choices=["cortex-m4", "instructions"],
                   help="cortex-m4: TRM instruction timings + flash wait states (default); instructions: CPI 1")
    r.add_argument("--flash-data", default="literal", choices=["literal", "exact"],
                   help="flash data reads charged with wait states: literal (PC-relative literal loads, "
                        "default) or exact (every read from flash, e.g. weights; slower emulation)")
    r.add_argument("--duty", type=float, metavar="N",
                   help="treat the run as one inference repeated N times a second: average power, "
                        "CR2032 lifetime, under 1 mW?")
    r.add_argument("--uart-input", action="append", default=[], metavar="[NAME=]FILE",
                   help="bytes the UART NAME (default: the console UART) receives, at its baud rate from when "
                        "the firmware enables its receiver; FILE - reads standard input to its end")
    r.add_argument("--sensor", action="append", default=[], metavar="NAME=FILE[:key=value,...]",
                   help="feed a sensor peripheral (by name or kind: mic, imu, camera, adc) from a recording "
                        "(WAV, CSV, NPY, PNG frames, RESD); options go to the sensor (resample, align, channel) "
                        "or the file (end, rate_hz, columns, fps), e.g. --sensor imu=walk.csv:end=loop. "
                        "Repeatable")

    r.add_argument("--gdb", metavar="[HOST]:PORT",
                   help="wait for gdb (gdb-multiarch: target remote HOST:PORT) before the first instruction; "
                        "loopback unless a host is given; :0 picks a free port (printed on stderr)")
    r.add_argument("--gdb-log", type=Path, metavar="FILE", help="write the gdb remote protocol exchange to FILE")

    s = sub.add_parser("size", help="flash and RAM use of a firmware against a part")
    s.add_argument("elf", type=Path)
    s.add_argument("--board", default="cortex-m4")
    s.add_argument("--memory", action="append", default=[], metavar="NAME=SIZE",
                   help="override a memory's size, as for run")
    s.add_argument("--json", metavar="FILE", help="write the figures as JSON ('-' for standard output)")

    sub.add_parser("boards", help="list the built-in boards with their memories")
    _add_profile_parser(sub)
    command = _command_of(argv)
    if command in _OWN_COMMANDS:
        return p
    if command != "test":  # simcore test needs neither (simcore.bench imports numpy: 60 ms of a suite's start)
        from simcore.compare import add_parser as add_compare_parser

        add_compare_parser(sub)
    from simcore.suite import add_parser as add_test_parser

    add_test_parser(sub, _int)
    if command != "test":
        from simcore.bench import add_parser as add_bench_parser

        add_bench_parser(sub)
    return p


def _json_text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, default=str) + "\n"


def cmd_boards() -> int:
    from simcore.board import builtin_boards, load_board
    from simcore.layout import human

    print(f"{'board':<14} {'clock':>9}  {'flash':>9} {'ram':>10}  console   description")
    for name in builtin_boards():
        b = load_board(name)
        flash = sum(m.size for m in b.flash)
        ram = sum(m.size for m in b.ram)
        print(f"{b.name:<14} {b.default_mhz:>5g} MHz  {human(flash):>9} {human(ram):>10}  "
              f"{(b.console or '-'):<9} {b.description}")
    return 0


def _size_table(layout: Any) -> str:
    from simcore.layout import human

    lines = [f"{'region':<8} {'kind':<6} {'base':>10} {'size':>10} {'used':>10} {'use':>7}"]
    for r in layout.regions:
        lines.append(f"{r.memory.name:<8} {r.memory.kind:<6} {r.memory.base:#010x} {human(r.memory.size):>10} "
                     f"{human(r.used):>10} {r.percent:>6.1f}%")
    lines.append("")
    lines.append(f"{'section':<20} {'vma':>10} {'lma':>10} {'size':>10}  in")
    for p in layout.placements:
        where = p.run_memory if p.load_memory in (None, p.run_memory) else f"{p.load_memory} -> {p.run_memory}"
        lines.append(f"{p.section.name:<20} {p.section.vma:#010x} {p.section.lma:#010x} {p.section.size:>10}  {where}")
    return "\n".join(lines)


def _uart_inputs(specs: list[str]) -> dict[str | None, str]:
    """``--uart-input FILE`` (the console) and ``--uart-input NAME=FILE``, each UART once."""
    out: dict[str | None, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        key, value = (name.strip(), path) if sep and name.strip() and "/" not in name else (None, spec)
        if not value:
            raise BadInputError(f"--uart-input {spec!r}: expected [NAME=]FILE, e.g. --uart-input commands.txt or "
                                "--uart-input usart1=data.bin")
        if key in out:
            raise BadInputError(f"--uart-input: {key or 'the console UART'} is given twice")
        out[key] = value
    return out


def _board(args: argparse.Namespace) -> Any:
    """The board named by --board, with the --memory overrides merged like a child board file."""
    from simcore.board import load_board, memory_overrides

    return load_board(args.board, memory_overrides(args.memory))


def cmd_size(args: argparse.Namespace) -> int:
    from simcore.elf import load_elf
    from simcore.layout import check_fit

    json_out = output_file(args.json, "--json") if args.json else None
    board = _board(args)
    fw = load_elf(args.elf)
    layout = check_fit(fw, board)  # raises BadInputError (exit 2) when it does not fit
    if json_out is None or json_out.target is not None:
        print(f"{fw.path} on {board.name}")
        print(_size_table(layout))
    if json_out is not None:
        json_out.write(_json_text({"elf": str(fw.path), "board": board.name, **layout.to_dict()}))
    return 0


def _summary(res: Any) -> str:
    from simcore.layout import human

    lines = [
        f"stopped: {res.stop.message}",
        f"board {res.board} at {res.mhz:g} MHz; accounting: {'native' if res.native else 'python'} hot path",
        f"instructions {res.instructions:,}",
    ]
    from simcore.energy import summary_lines

    lines.extend(summary_lines(res))
    for r in res.layout.regions:
        lines.append(f"{r.memory.name:<12} {human(r.used)} of {human(r.memory.size)} ({r.percent:.1f}%)")
    if res.stack_used is not None:
        limit = ""
        if res.stack_limit is not None and res.stack_top is not None:
            limit = f" of {human(res.stack_top - res.stack_limit)} reserved"
        lines.append(f"stack        {human(res.stack_used)} high-water{limit}"
                     + ("  ** STACK OVERFLOW **" if res.stack_overflow else ""))
    from simcore.reports import summary_lines as report_lines

    lines.extend(report_lines(res.reports))
    if res.extra.get("sensors"):
        from simcore.sensorbind import summary_lines

        lines.extend(summary_lines(res.extra["sensors"]))
    if res.stop.kind == "fault" and res.stop.details.get("backtrace"):
        lines.append(f"backtrace ({res.stop.details.get('backtrace_method', '')}):")
        lines.extend(f"  {frame}" for frame in res.stop.details["backtrace"])
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from simcore.api import prepare, run_machine
    from simcore.validate import check_positive, check_run_options

    extra = list(args.args)
    json_out = output_file(args.json, "--json") if args.json else None  # checked before the run
    options: dict[str, Any] = {
        "mhz": args.mhz,
        "strict": args.strict,
        "check_alignment": args.check_alignment,
        "native": False if args.python_hook else None,
        "semihosting_root": args.semihosting_root,
        "cmdline": " ".join([args.elf.name, *extra]),
        # '--json -' keeps standard output for the JSON alone
        "echo": None if args.quiet or (json_out is not None and json_out.target is None) else sys.stdout,
        "pass_marker": args.pass_marker,
        "fail_marker": args.fail_marker,
        "cycle_model": args.cycle_model,
        "flash_data": args.flash_data,
    }
    if args.max_instructions is not None:
        options["max_instructions"] = args.max_instructions
    if args.timeout is not None:
        options["timeout"] = args.timeout
    board = _board(args)
    check_run_options(board, options, cli=True)
    if args.duty is not None:
        check_positive(args.duty, "--duty", hi=1e9)
    if args.sensor:
        from simcore.sensorbind import parse_cli_spec

        options["sensors"] = [parse_cli_spec(s) for s in args.sensor]
    if args.uart_input:
        options["uart_input"] = _uart_inputs(args.uart_input)
    machine = prepare(args.elf, board, **options)
    if args.gdb is not None:
        from simcore.gdb.server import serve_until_done

        log = open(args.gdb_log, "w") if args.gdb_log else None  # noqa: SIM115 - closed below
        try:
            serve_until_done(machine, args.gdb, log=log)
        finally:
            if log is not None:
                log.close()
    res = run_machine(machine, interrupt="stop")  # Ctrl-C: the summary, --json, then exit 130
    if args.duty:
        res.extra["duty_rate"] = args.duty
    if options["echo"] is not None and res.console and not res.console.endswith(b"\n"):
        print()
    print(_summary(res), file=sys.stderr)
    if json_out is not None:
        json_out.write(_json_text(res.to_dict()))
    return res.exit_status


def _add_profile_parser(sub: Any) -> None:
    """Register ``simcore profile`` on the CLI's subparsers."""
    p = sub.add_parser("profile", help="run a firmware and report cycles per function and per model op",
                       description="Run like 'simcore run' with the shadow call stack on; print the per-function "
                                   "and per-op tables and write speedscope and Chrome/Perfetto trace files.")
    p.add_argument("elf", type=Path)
    p.add_argument("--board", default="cortex-m4", help="board name or path to a board TOML file")
    p.add_argument("--mhz", type=float, help="core clock in MHz (default: the board's default clock)")
    p.add_argument("--cycle-model", default="cortex-m4", choices=["cortex-m4", "instructions"])
    p.add_argument("--flash-data", default="literal", choices=["literal", "exact"],
                   help="flash data reads charged: PC-relative literals (default) or every read (slower)")
    p.add_argument("--max-instructions", type=int, default=None, metavar="N")
    p.add_argument("--top", type=int, default=25, help="functions to list (default 25)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="directory for the export files (default: the ELF's directory)")
    p.add_argument("--speedscope", type=Path, metavar="FILE",
                   help="speedscope JSON (default: <elf>.speedscope.json in --out)")
    p.add_argument("--trace", type=Path, metavar="FILE",
                   help="Chrome/Perfetto trace JSON: ops, interrupts, sensor events "
                        "(default: <elf>.trace.json in --out)")
    p.add_argument("--collapsed", type=Path, metavar="FILE", help="also write collapsed stacks (flamegraph.pl)")
    p.add_argument("--python-hook", action="store_true", help="use the pure-Python hot path (same figures)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not echo the firmware's console output")


def cmd_profile(args: argparse.Namespace) -> int:
    from simcore.api import prepare, run_machine
    from simcore.export import write_chrome_trace, write_collapsed, write_speedscope
    from simcore.profile import attach

    stem = args.elf.name.removesuffix(".elf")
    # output paths are checked before the run (simcore.outfile)
    out_dir = args.out if args.out is not None else args.elf.resolve().parent  # never the current directory
    speedscope = output_file(args.speedscope or out_dir / f"{stem}.speedscope.json", "--speedscope")
    trace = output_file(args.trace or out_dir / f"{stem}.trace.json", "--trace")
    collapsed = output_file(args.collapsed, "--collapsed") if args.collapsed else None
    options: dict[str, Any] = {"mhz": args.mhz, "cycle_model": args.cycle_model, "flash_data": args.flash_data,
                               "native": False if args.python_hook else None,
                               "echo": None if args.quiet else sys.stdout}
    if args.max_instructions is not None:
        options["max_instructions"] = args.max_instructions
    m = prepare(args.elf, args.board, **options)
    prof = attach(m)
    res = run_machine(m)
    profile = prof.finish()
    write_speedscope(profile, speedscope, name=str(args.elf.name))
    write_chrome_trace(profile, trace)
    if collapsed is not None:
        write_collapsed(profile, collapsed)
    if not args.quiet and res.console and not res.console.endswith(b"\n"):
        print()
    print(f"stopped: {res.stop.message}", file=sys.stderr)
    print(f"{res.instructions:,} instructions, {res.cycles:,} cycles ({res.extra.get('cycle_model')} model), "
          f"{res.seconds * 1e3:.3f} ms at {res.mhz:g} MHz", file=sys.stderr)
    print(profile.table(args.top))
    print(f"wrote {speedscope} (speedscope), {trace} (Chrome/Perfetto trace)", file=sys.stderr)
    return res.exit_status


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[: argv.index("--")] if "--" in argv else argv)
    firmware_args: list[str] = []
    if "--" in argv:  # everything after -- is the firmware's command line (semihosting GET_CMDLINE)
        cut = argv.index("--")
        argv, firmware_args = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.args = firmware_args
    try:
        if args.command == "boards":
            return cmd_boards()
        if args.command == "size":
            return cmd_size(args)
        if args.command == "profile":
            return cmd_profile(args)
        if args.command == "compare":
            from simcore.compare import cmd_compare

            return cmd_compare(args)
        if args.command == "test":
            from simcore.suite import cmd_test

            return cmd_test(args)
        if args.command == "bench":
            from simcore.bench import cmd_bench

            return cmd_bench(args)
        return cmd_run(args)
    except OutputClosed as exc:
        _quiet_stdout()
        return exc.exit_code
    except BrokenPipeError:  # the summary or a last newline to a closed stdout
        _quiet_stdout()
        return EXIT_OUTPUT_CLOSED
    except InternalError as exc:
        return _internal_error(exc, exc.__cause__ or exc)
    except SimcoreError as exc:
        print(textwrap.fill(f"simcore: error: {exc}", width=100, break_on_hyphens=False, break_long_words=False),
              file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("simcore: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - anything else is simcore's bug: say so, with the traceback
        return _internal_error(exc, exc)


def _internal_error(exc: BaseException, cause: BaseException) -> int:
    """Exit 127 with the traceback, never a firmware status (126) or Python's bare exit 1."""
    traceback.print_exception(cause, file=sys.stderr)
    text = str(exc) if isinstance(exc, InternalError) else f"{type(exc).__name__}: {exc}"
    print(textwrap.fill(f"simcore: internal error (a bug in simcore {__version__}; please report it with the "
                        f"traceback above): {text}", width=100), file=sys.stderr)
    return EXIT_INTERNAL


def _quiet_stdout() -> None:
    """stdout's reader is gone: point stdout at /dev/null so Python's exit flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # no real descriptor (in-process runs)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
