"""One typed validation layer for board files and run options.

Every value that reaches the machine from a file or an option passes through here first:
its type, its range, and the facts that tie values together (a clock within the part's
maximum, IRQ numbers within ``num_irq``, peripheral windows inside the peripheral region and
clear of each other and of the memories, power figures where sleeping draws less than
running). A failure is a :class:`BadInputError` (exit 2): one paragraph naming the file or
option, the key, the value and what is allowed.

Board files are checked twice: their raw TOML (types, ranges, unknown keys) by
:func:`check_board_data` before the dataclasses are built, and the resolved :class:`Board`
(relations between entries) by :func:`check_board`. Run options go through
:func:`check_run_options`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.errors import BadInputError

if TYPE_CHECKING:
    from simcore.board import Board

ADDRESS_SPACE = 1 << 32
PAGE = 0x1000  # simcore maps memories in Unicorn pages of 4 KiB
# ARMv7-M B3.1 system address map: simcore routes 0x40000000-0x5FFFFFFF to peripheral models and
# 0xE0000000-0xE00FFFFF (Private Peripheral Bus) to the system block; memories may not sit there.
PERIPHERAL_REGION = (0x40000000, 0x60000000)
SYSTEM_REGION = (0xE0000000, ADDRESS_SPACE)
MAX_EXTERNAL_IRQS = 496  # ARMv7-M B3.4: NVIC with up to 496 external interrupts
MAX_MHZ = 1000.0  # no Cortex-M4 part runs faster; a larger figure is a unit mistake


def _fail(where: str, key: str, value: Any, allowed: str) -> BadInputError:
    shown = repr(value) if not isinstance(value, int) or isinstance(value, bool) else str(value)
    return BadInputError(f"{where}: {key} = {shown} is not valid: {allowed}")


# --- value checkers: each returns the converted value or raises through ``bad(allowed)`` ----------
Checker = Callable[[Any, Callable[[str], BadInputError]], Any]


def boolean() -> Checker:
    def check(v: Any, bad: Callable[[str], BadInputError]) -> bool:
        if not isinstance(v, bool):
            raise bad("use true or false")
        return v
    return check


def integer(lo: int, hi: int) -> Checker:
    def check(v: Any, bad: Callable[[str], BadInputError]) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise bad(f"an integer from {lo} to {hi}")
        return v
    return check


def number(lo: float, hi: float, lo_open: bool = False) -> Checker:
    def check(v: Any, bad: Callable[[str], BadInputError]) -> float:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or v > hi or v < lo or (lo_open and v == lo):
            raise bad(f"a number {'above' if lo_open else 'from'} {lo:g}{'' if lo_open else ' to ' + f'{hi:g}'}"
                      + (f" and at most {hi:g}" if lo_open else ""))
        return float(v)
    return check


def text(choices: tuple[str, ...] | None = None) -> Checker:
    def check(v: Any, bad: Callable[[str], BadInputError]) -> str:
        if not isinstance(v, str) or (choices is not None and v not in choices):
            raise bad("one of " + ", ".join(repr(c) for c in choices) if choices else "a string")
        return v
    return check


_SUFFIX = {"K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024}


def parse_size(value: int | str, what: str) -> int:
    """Accept 131072, "0x20000", "128K" or "1M"."""
    if isinstance(value, int):
        return value
    text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
    try:
        if text and text[-1] in _SUFFIX:
            return int(text[:-1], 0) * _SUFFIX[text[-1]]
        return int(text, 0)
    except ValueError:
        raise BadInputError(f"{what}: cannot read {value!r} as a size (use 131072, 0x20000 or 128K)") from None



def size_or_address(lo: int = 0, hi: int = ADDRESS_SPACE, align: int = 1) -> Checker:
    """131072, "0x20000", "128K" or "1M" (powers of 1024), within [lo, hi] and aligned."""
    def check(v: Any, bad: Callable[[str], BadInputError]) -> int:
        if isinstance(v, bool) or not isinstance(v, int | str):
            raise bad("an integer or a string such as \"0x20000\" or \"128K\"")
        try:
            n = parse_size(v, "")
        except BadInputError:
            raise bad("an integer or a string such as \"0x20000\" or \"128K\"") from None
        if not lo <= n <= hi:
            raise bad(f"from {lo:#x} to {hi:#x}")
        if n % align:
            raise bad(f"a multiple of {align:#x}")
        return n
    return check


def array_of(item: Checker, max_len: int = 256) -> Checker:
    def check(v: Any, bad: Callable[[str], BadInputError]) -> list[Any]:
        if not isinstance(v, list) or len(v) > max_len:
            raise bad(f"a list of at most {max_len} entries")
        return [item(x, bad) for x in v]
    return check


def pair(first: Checker, second: Checker, what: str) -> Checker:
    def check(v: Any, bad: Callable[[str], BadInputError]) -> tuple[Any, Any]:
        if not isinstance(v, list | tuple) or len(v) != 2:
            raise bad(f"{what}")
        return first(v[0], bad), second(v[1], bad)
    return check


def current_table() -> Checker:
    """A current in uA: one number (the same at every clock) or [[MHz, uA], ...] ascending in MHz."""
    point = pair(number(0, MAX_MHZ, lo_open=True), number(0, 1e7, lo_open=True), "[MHz, uA] pairs")

    def check(v: Any, bad: Callable[[str], BadInputError]) -> tuple[tuple[float, float], ...]:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return ((1.0, number(0, 1e7)(v, bad)),)
        points = array_of(point, 64)(v, bad)
        if not points or any(b[0] <= a[0] for a, b in zip(points, points[1:])):
            raise bad("a number of uA, or [[MHz, uA], ...] with the MHz strictly ascending")
        return tuple(points)
    return check


@dataclass(frozen=True)
class Table:
    """The keys a TOML table may hold and how each is checked."""

    name: str
    keys: Mapping[str, Checker]

    def check(self, data: Any, where: str) -> dict[str, Any]:
        label = f"[{self.name}]" if self.name else "top level"
        if not isinstance(data, dict):
            raise BadInputError(f"{where}: {label} must be a table")
        unknown = sorted(set(data) - set(self.keys))
        if unknown:
            raise BadInputError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(repr(k) for k in unknown)} in {label}; allowed keys: "
                                f"{', '.join(sorted(self.keys))} (docs/board-format.md)")
        out = {}
        for key, value in data.items():
            full = f"{self.name}.{key}" if self.name else key
            out[key] = self.keys[key](value, lambda allowed, k=full, v=value: _fail(where, k, v, allowed))
        return out


# --- board files ---------------------------------------------------------------------------------
_ANY: Checker = lambda v, bad: v  # noqa: E731 - free-form peripheral options, checked per type below

BOARD_TOP = Table("", {
    "name": text(), "description": text(), "extends": text(), "cpu": _ANY, "clock": _ANY, "boot": _ANY,
    "console": _ANY, "memory": _ANY, "peripheral": _ANY, "flash_timing": _ANY, "power": _ANY, "device": _ANY,
    "svd": lambda v, bad: _svd_table(v, bad),
})


def _svd_table(value: Any, bad: Callable[[str], BadInputError]) -> str:
    """A register table under simcore/data/svd (the part's SVD, converted by tools/svd2table.py)."""
    from simcore.peripherals.svd import TABLE_DIR, available_tables

    if not isinstance(value, str) or "/" in value or not (TABLE_DIR / f"{value}.json").is_file():
        raise bad(f"one of the register tables {', '.join(available_tables())}")
    return value
CPU = Table("cpu", {"core": text(("cortex-m4",)), "fpu": boolean(), "nvic_prio_bits": integer(3, 8),
                    "num_irq": integer(1, MAX_EXTERNAL_IRQS), "bitband": boolean()})
CLOCK = Table("clock", {"default_mhz": number(0, MAX_MHZ, lo_open=True), "max_mhz": number(0, MAX_MHZ, lo_open=True)})
BOOT = Table("boot", {"vtor": size_or_address(0, 0x3FFFFF80, align=0x80)})  # B3.2.5 VTOR.TBLOFF
CONSOLE = Table("console", {"peripheral": text()})
FLASH_TIMING = Table("flash_timing", {
    "wait_states": array_of(pair(number(0, MAX_MHZ, lo_open=True), integer(0, 15), "[up to MHz, wait states] pairs"),
                            32),
    "accelerator": text(("none", "stm32_art", "nrf52_icache")),
})
DEEP_SLEEP_MODES = ("stop", "stop_lp", "stop0", "stop1", "stop2", "standby", "shutdown")


def deep_sleep_table() -> Checker:
    """[power] deep_sleep_ua = { stop = 450.0, standby = 2.2 }: uA per deep-sleep mode of the part's PWR."""
    def check(v: Any, bad: Callable[[str], BadInputError]) -> dict[str, float]:
        if not isinstance(v, dict) or any(k not in DEEP_SLEEP_MODES for k in v):
            raise bad("a table of currents in uA keyed by " + ", ".join(DEEP_SLEEP_MODES))
        return {k: number(0, 1e6)(x, bad) for k, x in v.items()}
    return check


POWER = Table("power", {
    "run_ua": current_table(), "sleep_ua": current_table(), "deep_sleep_ua": deep_sleep_table(),
    "run_ua_per_mhz": number(0, 1e5, lo_open=True), "voltage": number(0.5, 6.0),
})
MEMORY = Table("memory", {
    "name": text(), "kind": text(("flash", "ram")), "base": size_or_address(0, ADDRESS_SPACE - PAGE, PAGE),
    "size": size_or_address(1, ADDRESS_SPACE), "aliases": array_of(size_or_address(0, ADDRESS_SPACE - PAGE, PAGE), 8),
    "executable": boolean(), "linker_region": text(), "remove": boolean(),
})
PERIPHERAL_KEYS = {"name": text(), "type": text(), "base": size_or_address(0, ADDRESS_SPACE - 4, 4),
                   "irq": integer(0, MAX_EXTERNAL_IRQS - 1), "remove": boolean()}


def check_board_data(data: dict[str, Any], where: str) -> None:
    """Types, ranges and known keys of a resolved (merged) board file; BadInputError on the first fault."""
    BOARD_TOP.check(data, where)
    for table in (CPU, CLOCK, BOOT, CONSOLE, FLASH_TIMING, POWER):
        if table.name in data:
            table.check(data[table.name], where)
    for key, table in (("memory", MEMORY), ("peripheral", None)):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise BadInputError(f"{where}: {key} must be an array of tables ([[{key}]])")
        for item in items:
            name = item.get("name", "?") if isinstance(item, dict) else "?"
            w = f"{where} [[{key}]] '{name}'"
            if table is not None:
                table.check(item, w)
                continue
            for k, check in PERIPHERAL_KEYS.items():
                if k in item:
                    check(item[k], lambda allowed, k=k, v=item[k], w=w: _fail(w, k, v, allowed))
            for k, v in item.items():  # options that name IRQ lines (tx_irq, overflow_irq, ...)
                if k.endswith("_irq"):
                    integer(0, MAX_EXTERNAL_IRQS - 1)(v, lambda allowed, k=k, v=v, w=w: _fail(w, k, v, allowed))
    clock = data.get("clock", {})
    if "default_mhz" in clock and "max_mhz" in clock and clock["default_mhz"] > clock["max_mhz"]:
        raise _fail(where, "clock.default_mhz", clock["default_mhz"],
                    f"at most clock.max_mhz = {clock['max_mhz']:g}")
    power = data.get("power", {})
    if "run_ua" in power and "run_ua_per_mhz" in power:
        raise BadInputError(f"{where}: [power] has both run_ua and run_ua_per_mhz; give one of them")


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def check_board(board: Board) -> None:
    """Relations between a board's entries: memory map, peripheral windows and kinds, IRQs, clock, power."""
    where = f"board {board.name} ({board.source})"
    spans: list[tuple[int, int, str]] = []
    for m in board.memories:
        mapped = -(-m.size // PAGE) * PAGE  # what Unicorn maps: whole pages
        for base, label in ((m.base, f"memory '{m.name}'"), *((a, f"memory '{m.name}' alias") for a in m.aliases)):
            if base + mapped > ADDRESS_SPACE:
                raise BadInputError(f"{where}: {label} at {base:#x} of {m.size:#x} bytes runs past the end of the "
                                    "4 GiB address space")
            for lo, hi, region in ((*PERIPHERAL_REGION, "the peripheral region 0x40000000-0x5fffffff"),
                                   (*SYSTEM_REGION, "the system region 0xe0000000-0xffffffff (PPB, vendor)")):
                if _overlap((base, base + mapped), (lo, hi)):
                    raise BadInputError(f"{where}: {label} ({base:#x}-{base + mapped:#x}) lies in {region}, "
                                        "where simcore places peripherals and the system block (ARMv7-M B3.1); "
                                        "put memories elsewhere")
            spans.append((base, base + mapped, label))
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise BadInputError(f"{where}: {n1} ({b1:#x}-{e1:#x}) overlaps {n0} ({b0:#x}-{e0:#x}); simcore maps "
                                "memories in whole 4 KiB pages")
    windows: list[tuple[int, int, str]] = []
    for p in board.peripherals:
        size = window_size(p.type)
        label = f"peripheral '{p.name}' ({p.type}, {p.base:#x}-{p.base + size:#x})"
        inside = PERIPHERAL_REGION[0] <= p.base < PERIPHERAL_REGION[1]
        if inside and p.base + size > PERIPHERAL_REGION[1]:
            raise BadInputError(f"{where}: {label} runs past the end of the peripheral region 0x40000000-0x5fffffff")
        if not inside:  # mapped in whole pages of its own (the nRF52 FICR/UICR): clear of memories and the PPB
            mapped = -(-size // PAGE) * PAGE
            if p.base % PAGE or p.base + mapped > SYSTEM_REGION[0]:
                raise BadInputError(f"{where}: {label} is outside the peripheral region 0x40000000-0x5fffffff, "
                                    "so it needs a base that is a multiple of 4 KiB below 0xe0000000")
            for lo, hi, name in spans:
                if _overlap((p.base, p.base + mapped), (lo, hi)):
                    raise BadInputError(f"{where}: {label} overlaps {name} ({lo:#x}-{hi:#x})")
        windows.append((p.base, p.base + size, label))
        for key, irq in (("irq", p.irq), *((k, v) for k, v in p.options.items() if k.endswith("_irq"))):
            if irq is not None and not 0 <= irq < board.num_irq:
                raise BadInputError(f"{where}: peripheral '{p.name}' {key} = {irq} is not valid: the part has "
                                    f"{board.num_irq} external interrupts (cpu.num_irq), so 0 to {board.num_irq - 1}")
    windows.sort()
    for (_b0, e0, n0), (b1, _e1, n1) in zip(windows, windows[1:]):
        if b1 < e0:
            raise BadInputError(f"{where}: {n1} overlaps {n0}")
    if board.console is not None:
        p = board.peripheral(board.console)
        if p is not None and not is_console_type(p.type):
            raise BadInputError(f"{where}: console.peripheral = {board.console!r} is a {p.type}, which cannot carry "
                                "a console; name a UART (types: " + ", ".join(sorted(console_types())) + ")")
    if board.default_mhz > board.max_mhz:
        raise _fail(where, "clock.default_mhz", board.default_mhz, f"at most clock.max_mhz = {board.max_mhz:g}")
    check_power(board, where)


def check_power(board: Board, where: str) -> None:
    """Sleeping must draw less than running at every clock up to the part's maximum.

    Both currents are piecewise linear in the clock (flat outside their tables), so comparing
    them at every point of either table and at the maximum clock covers every clock.
    """
    pw = board.power
    if all(ua == 0 for _, ua in pw.run_points + pw.sleep_points):
        return  # no power figures given: energy reads 0
    clocks = sorted({f for f, _ in pw.run_points} | {f for f, _ in pw.sleep_points} | {board.max_mhz})
    for f in clocks:
        if f > board.max_mhz:
            continue
        run, sleep = pw.run_ua(f), pw.sleep_ua(f)
        if sleep >= run:
            raise BadInputError(
                f"{where}: [power] sleep current {sleep:,.1f} uA is not below the run current {run:,.1f} uA at "
                f"{f:g} MHz. A part draws less asleep than running at the same clock: give the datasheet's "
                "figures per clock, run_ua = [[MHz, uA], ...] and sleep_ua = [[MHz, uA], ...] "
                "(docs/board-format.md)"
            )


def window_size(ptype: str) -> int:
    """The register window of a peripheral type (sensor models without importing them)."""
    from simcore.sensorbind import DEFERRED_SIZES

    if ptype in DEFERRED_SIZES:
        return DEFERRED_SIZES[ptype]
    from simcore.peripherals import model_for

    return int(model_for(ptype).SIZE)


def console_types() -> set[str]:
    from simcore.peripherals import known_types
    from simcore.sensorbind import DEFERRED_SIZES

    return {t for t in known_types() if t not in DEFERRED_SIZES and is_console_type(t)}


def is_console_type(ptype: str) -> bool:
    from simcore.sensorbind import DEFERRED_SIZES

    if ptype in DEFERRED_SIZES:
        return False
    from simcore.peripherals import model_for

    return bool(getattr(model_for(ptype), "CONSOLE", False))


# --- run options -------------------------------------------------------------------------------
def check_mhz(board: Board, mhz: Any, option: str = "--mhz") -> float:
    """A clock the part can run at: a finite number above 0 and at most the part's maximum."""
    if mhz is None:
        return board.default_mhz
    bad = (isinstance(mhz, bool) or not isinstance(mhz, int | float) or not math.isfinite(mhz)
           or not 0 < mhz <= board.max_mhz)
    if bad:
        raise BadInputError(f"{option} {mhz:g}: not a usable clock for {board.name}: give a number of MHz above 0 "
                            f"and at most its maximum, {board.max_mhz:g} MHz (clock.max_mhz of {board.source.name})"
                            if isinstance(mhz, int | float) else f"{option} {mhz!r}: not a number of MHz")
    return float(mhz)


def check_run_options(board: Board, options: dict[str, Any], cli: bool = False) -> None:
    """The options of a run (``simcore.api.prepare``), checked and normalized in place.

    ``cli``: name them as the command line does (``--max-instructions``), else as the API does.
    """
    def name(key: str) -> str:
        return "--" + key.replace("_", "-") if cli else key

    # no --mhz: the clock follows the firmware on parts with a clock model (docs/clocks.md)
    options.setdefault("mhz_given", options.get("mhz") is not None)
    options["mhz"] = check_mhz(board, options.get("mhz"), name("mhz"))
    if options.get("max_instructions") is not None:
        check_count(options["max_instructions"], name("max_instructions"))
    if options.get("timeout") is not None:
        options["timeout"] = check_positive(options["timeout"], name("timeout"), hi=1e7)
    choices = {"cycle_model": ("cortex-m4", "instructions"), "flash_data": ("literal", "exact")}
    for key, allowed in choices.items():
        value = options.get(key)
        if isinstance(value, str) and value not in allowed:
            raise BadInputError(f"{name(key)} {value!r}: one of {', '.join(allowed)}")
    if options.get("semihosting_root") is not None:
        check_directory(options["semihosting_root"], name("semihosting_root"))


def check_count(value: Any, option: str, lo: int = 1, hi: int = 10**15) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadInputError(f"{option} {value!r}: give a whole number from {lo:,} to {hi:,}")
    return value


def check_positive(value: Any, option: str, hi: float = 1e9) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and 0 < value <= hi
    if not ok:
        raise BadInputError(f"{option} {value!r}: give a finite number above 0 (at most {hi:g})")
    return float(value)


def check_directory(path: Any, option: str) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise BadInputError(f"{option} {p}: not a directory")
    return p
