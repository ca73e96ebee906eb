"""Boards as data: one TOML file per part, resolved through ``extends`` into frozen dataclasses.

A board file names the part's memories, clock, flash timing, core options, peripherals,
the chips on its buses (``[[device]]``, docs/bus-devices.md) and power figures. See
``docs/board-format.md`` and ``simcore/boards/reference.toml``. Merging rule for
``extends``: tables merge key by key (the child wins); the arrays of tables ``memory``,
``peripheral`` and ``device`` merge by ``name`` (a child entry with the same name replaces
the parent's, ``remove = true`` drops it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from simcore.errors import BadInputError
from simcore.memmap import MemoryMap
from simcore.validate import parse_size

__all__ = ["Board", "Device", "FlashTiming", "Memory", "Peripheral", "Power", "builtin_boards", "load_board",
           "memory_overrides", "parse_size"]

BOARD_DIR = Path(__file__).parent / "boards"
_NAMED_ARRAYS = ("memory", "peripheral", "device")


@dataclass(frozen=True)
class Memory:
    """One memory of the part: where it is, how big, what kind (flash or ram)."""

    name: str
    base: int
    size: int
    kind: str  # "flash" | "ram"
    aliases: tuple[int, ...] = ()
    executable: bool = True
    linker_region: str | None = None  # name of its linker MEMORY region (ldgen), when not the default

    @property
    def end(self) -> int:
        return self.base + self.size

    def contains(self, addr: int, length: int = 1) -> bool:
        return self.base <= addr and addr + length <= self.end


@dataclass(frozen=True)
class Peripheral:
    """A peripheral instance: model type, base address, IRQ line and free-form options."""

    name: str
    type: str
    base: int
    irq: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    part: str | None = None  # the board's register table (``svd``): SVD-backed models take their registers from it


@dataclass(frozen=True)
class Device:
    """A chip on one of the board's buses: its model type, the controller it hangs on, its wiring, options."""

    name: str
    type: str
    bus: str = ""  # the controller peripheral it is attached to ("i2c1", "spi1", "twim0")
    address: int | None = None  # 7-bit I2C address
    cs: str | None = None  # the pin driving its chip select ("PE3", "gpioe.3")
    pins: dict[str, str] = field(default_factory=dict)  # its outputs -> the board's input pins ("INT1": "PE0")
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlashTiming:
    """Flash wait states by clock range and the accelerator that hides them."""

    wait_states: tuple[tuple[float, int], ...] = ()  # (up to MHz, wait states), ascending
    accelerator: str = "none"  # "none" | "stm32_art" | "nrf52_icache"

    def wait_states_at(self, mhz: float) -> int:
        for limit, ws in self.wait_states:
            if mhz <= limit:
                return ws
        return self.wait_states[-1][1] if self.wait_states else 0


@dataclass(frozen=True)
class Power:
    """Datasheet current figures for energy estimates, per clock.

    ``run_points`` and ``sleep_points`` are (MHz, uA) pairs, ascending in MHz; the current at
    a clock is interpolated linearly between them and held flat outside them (a datasheet
    table lists typical currents at a few clocks; the static part dominates below its lowest).
    """

    run_points: tuple[tuple[float, float], ...] = ((1.0, 0.0),)
    sleep_points: tuple[tuple[float, float], ...] = ((1.0, 0.0),)
    voltage: float = 3.3
    # deep-sleep modes as the part's PWR model names them ("stop", "stop_lp", "stop2", "standby"...) -> uA
    deep_sleep: tuple[tuple[str, float], ...] = ()

    def run_ua(self, mhz: float) -> float:
        return _interpolate(self.run_points, mhz)

    def deep_sleep_ua(self, mode: str) -> float:
        """The current in a deep-sleep mode (0.0 when the board file gives none for it)."""
        return dict(self.deep_sleep).get(mode, 0.0)

    def sleep_ua(self, mhz: float) -> float:
        return _interpolate(self.sleep_points, mhz)


def _interpolate(points: tuple[tuple[float, float], ...], x: float) -> float:
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


@dataclass(frozen=True)
class Board:
    """A fully resolved board: everything the machine needs to build the part."""

    name: str
    description: str
    source: Path
    memories: tuple[Memory, ...]
    peripherals: tuple[Peripheral, ...]
    default_mhz: float
    max_mhz: float
    fpu: bool
    nvic_prio_bits: int
    num_irq: int
    console: str | None
    reset_vtor: int
    flash_timing: FlashTiming
    power: Power
    devices: tuple[Device, ...] = ()
    svd: str | None = None  # register table of the part (simcore/data/svd): every SVD peripheral exists
    bitband: bool = False  # SRAM and peripheral bit-band aliases (simcore/cortexm/bitband.py)

    @property
    def flash(self) -> tuple[Memory, ...]:
        return tuple(m for m in self.memories if m.kind == "flash")

    @property
    def ram(self) -> tuple[Memory, ...]:
        return tuple(m for m in self.memories if m.kind == "ram")

    @cached_property
    def memory_map(self) -> MemoryMap:
        """The part's alias-aware address map (simcore/memmap.py): every question about addresses."""
        return MemoryMap(self.memories)

    def memory_at(self, addr: int, length: int = 1) -> Memory | None:
        """The memory holding [addr, addr+length), by its base address or an alias."""
        return self.memory_map.memory_for(addr, length)

    def resolve_alias(self, addr: int) -> int:
        """Map an address in an alias window onto the memory's own base."""
        return self.memory_map.resolve(addr)

    def peripheral(self, name: str) -> Peripheral | None:
        return next((p for p in self.peripherals if p.name == name), None)

    def device(self, name: str) -> Device | None:
        return next((d for d in self.devices if d.name == name), None)


def builtin_boards() -> list[str]:
    """Names of the boards shipped with simcore (TOML files in simcore/boards)."""
    return sorted(p.stem for p in BOARD_DIR.glob("*.toml") if p.stem != "reference")


def _merge(parent: dict[str, Any], child: dict[str, Any], top: bool = True) -> dict[str, Any]:
    out = dict(parent)
    for key, value in child.items():
        if top and key in _NAMED_ARRAYS:
            merged = {item["name"]: item for item in parent.get(key, [])}
            for item in value:
                if item.get("remove"):
                    merged.pop(item["name"], None)
                else:
                    merged[item["name"]] = {**merged.get(item["name"], {}), **item}
            out[key] = list(merged.values())
        elif isinstance(value, dict) and isinstance(parent.get(key), dict):
            inherited = parent[key]
            if top and key == "power" and {"run_ua", "run_ua_per_mhz"} & set(value):
                # the two forms of the run current exclude each other: the child's replaces the parent's
                inherited = {k: v for k, v in inherited.items() if k not in ("run_ua", "run_ua_per_mhz")}
            out[key] = _merge(inherited, value, top=False)
        else:
            out[key] = value
    return out


def _parse(text: str, source: Path) -> dict[str, Any]:
    """The TOML document ``text``, from the cache directory when it was parsed before (keyed by its SHA-256).

    ``tomllib`` is pure Python: importing it and parsing a board's chain of files was 5-10% of a warm
    start-up's instructions. The parsed tables are kept with ``marshal`` (a board file holds strings,
    numbers, booleans, arrays and tables, all of which marshal keeps exactly); a document marshal cannot
    keep (a TOML date) or a cache that cannot be read or written is parsed every time.
    """
    import hashlib
    import marshal

    from simcore.paths import cache_dir

    path: Path | None = None
    try:
        path = cache_dir("boards") / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.marshal"
        data = marshal.loads(path.read_bytes())
        if isinstance(data, dict):
            return data
    except (OSError, EOFError, ValueError, TypeError):
        pass
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"board file {source} is not valid TOML: {exc}") from None
    if path is not None:
        try:
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(data))
            os.replace(tmp, path)
        except (OSError, ValueError):
            pass  # not kept: parsed again next time
    return data


def _read_raw(spec: str | Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Path]:
    path = _locate(spec, seen[-1].parent if seen else None)
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise BadInputError(f"board file {path}: 'extends' forms a cycle ({chain})")
    try:
        data = _parse(path.read_text(), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read board file {path}: {exc}") from None
    for key in _NAMED_ARRAYS:
        items = data.get(key, [])
        if not isinstance(items, list):
            raise BadInputError(f"board file {path}: {key} must be an array of tables ([[{key}]] entries)")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                raise BadInputError(f"board file {path}: every [[{key}]] entry needs a name (a non-empty string)")
    parent_spec = data.pop("extends", None)
    if parent_spec is not None and not isinstance(parent_spec, str):
        raise BadInputError(f"board file {path}: extends = {parent_spec!r} is not valid: a board name or a path")
    if parent_spec is None:
        return data, path
    parent, _ = _read_raw(parent_spec, (*seen, path))
    return _merge(parent, data), path


def _locate(spec: str | Path, relative_to: Path | None) -> Path:
    text = str(spec)
    looks_like_path = text.endswith(".toml") or "/" in text or "\\" in text
    if looks_like_path:
        candidates = [Path(text)]
        if relative_to is not None:
            candidates.insert(0, relative_to / text)
        for cand in candidates:
            if cand.is_file():
                return cand.resolve()
        raise BadInputError(f"board file {text} does not exist")
    path = BOARD_DIR / f"{text.lower()}.toml"
    if not path.is_file():
        known = ", ".join(builtin_boards())
        raise BadInputError(
            f"unknown board '{text}'. Known boards: {known}. "
            "A board file of your own can be given as a path (--board ./my_board.toml)."
        )
    return path


def _int(table: dict[str, Any], key: str, where: str, default: Any = None) -> int:
    value = table.get(key, default)
    if value is None:
        raise BadInputError(f"{where}: missing '{key}'")
    return parse_size(value, f"{where} {key}")


def memory_overrides(specs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Turn ``--memory NAME=SIZE`` options into a ``load_board`` override (sizes as in board files).

    ``NAME=BASE:SIZE`` also moves the memory. Used for a quick what-if ("does it fit in
    256 KiB?") without writing a board file.
    """
    items: list[dict[str, Any]] = []
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise BadInputError(f"--memory {spec!r}: expected NAME=SIZE (e.g. ram=256K) or NAME=BASE:SIZE")
        item: dict[str, Any] = {"name": name.strip()}
        if ":" in value:
            base, size = value.split(":", 1)
            item["base"] = parse_size(base, f"--memory {name} base")
            item["size"] = parse_size(size, f"--memory {name} size")
        else:
            item["size"] = parse_size(value, f"--memory {name} size")
        if item["size"] <= 0:
            raise BadInputError(f"--memory {spec!r}: the size must be positive")
        items.append(item)
    return {"memory": items} if items else {}


def _check_overrides(data: dict[str, Any], overrides: dict[str, Any], path: Path) -> None:
    """Overrides may only change memories the board has (a typo must not add a memory)."""
    known = [m["name"] for m in data.get("memory", [])]
    for item in overrides.get("memory", []):
        if item.get("name") not in known:
            raise BadInputError(
                f"board {path.stem} has no memory named {item.get('name')!r} to override; "
                f"its memories are: {', '.join(known)}"
            )


def load_board(spec: str | Path, overrides: dict[str, Any] | None = None) -> Board:
    """Load a built-in board by name or a board file by path, resolving ``extends``.

    ``overrides`` is merged last, like a child board (used by --memory NAME=SIZE). Every
    value is checked by simcore.validate (types and ranges first, then the relations).
    """
    from simcore.validate import check_board, check_board_data

    data, path = _read_raw(spec)
    if overrides:
        _check_overrides(data, overrides, path)
        data = _merge(data, overrides)
    where = f"board {path.stem}"
    check_board_data(data, f"{where} ({path})")
    memories = []
    for item in data.get("memory", []):
        w = f"{where} memory '{item['name']}'"
        kind = item.get("kind", "ram")
        if kind not in ("flash", "ram"):
            raise BadInputError(f"{w}: kind must be 'flash' or 'ram', not {kind!r}")
        memories.append(
            Memory(
                name=item["name"],
                base=_int(item, "base", w),
                size=_int(item, "size", w),
                kind=kind,
                aliases=tuple(parse_size(a, w) for a in item.get("aliases", [])),
                executable=bool(item.get("executable", True)),
                linker_region=item.get("linker_region"),
            )
        )
    if not memories:
        raise BadInputError(f"{where}: no [[memory]] entries")
    spans = sorted((m.base, m.end, m.name) for m in memories)
    spans += sorted((a, a + m.size, f"{m.name} alias") for m in memories for a in m.aliases)
    spans.sort()
    for (b0, e0, n0), (b1, _e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise BadInputError(f"{where}: memory '{n1}' at {b1:#x} overlaps '{n0}' ({b0:#x}-{e0:#x})")
    from simcore.peripherals import known_types  # local: avoids a cycle at import

    peripherals = []
    for item in data.get("peripheral", []):
        w = f"{where} peripheral '{item['name']}'"
        ptype = item.get("type")
        if ptype not in known_types():
            raise BadInputError(
                f"{w}: unknown peripheral type {ptype!r}. Known types: {', '.join(sorted(known_types()))}"
            )
        options = {k: v for k, v in item.items() if k not in ("name", "type", "base", "irq")}
        peripherals.append(
            Peripheral(name=item["name"], type=ptype, base=_int(item, "base", w), irq=item.get("irq"), options=options,
                       part=data.get("svd"))
        )
    cpu = data.get("cpu", {})
    clock = data.get("clock", {})
    timing = data.get("flash_timing", {})
    default_mhz = float(clock.get("default_mhz", 16))
    max_mhz = float(clock.get("max_mhz", default_mhz))
    flash = [m for m in memories if m.kind == "flash"]
    reset_vtor = _int(data.get("boot", {}), "vtor", where, flash[0].base if flash else memories[0].base)
    console = data.get("console", {}).get("peripheral")
    if console is not None and console not in {p.name for p in peripherals}:
        raise BadInputError(f"{where}: console peripheral '{console}' is not among the board's peripherals")
    board = Board(
        name=data.get("name", path.stem),
        description=data.get("description", ""),
        source=path,
        memories=tuple(memories),
        peripherals=tuple(peripherals),
        default_mhz=default_mhz,
        max_mhz=max_mhz,
        fpu=bool(cpu.get("fpu", True)),
        nvic_prio_bits=int(cpu.get("nvic_prio_bits", 4)),
        bitband=bool(cpu.get("bitband", False)),
        num_irq=int(cpu.get("num_irq", 64)),
        console=console,
        reset_vtor=reset_vtor,
        flash_timing=FlashTiming(
            wait_states=tuple((float(a), int(b)) for a, b in timing.get("wait_states", [])),
            accelerator=str(timing.get("accelerator", "none")),
        ),
        power=_power(data.get("power", {}), max_mhz),
        devices=_devices(data.get("device", []), where),
        svd=data.get("svd"),
    )
    check_board(board)
    if board.devices:
        from simcore.devices.wiring import check_devices  # local: chip models load only for boards with chips

        check_devices(board)
    return board


def _devices(items: list[dict[str, Any]], where: str) -> tuple[Device, ...]:
    """[[device]] entries (their relations to the peripherals are checked by simcore.devices.wiring)."""
    from simcore.devices import known_devices  # local: the models load only when a board uses them

    out = []
    for item in items:
        w = f"{where} device '{item['name']}'"
        dtype = item.get("type")
        if dtype not in known_devices():
            known = ", ".join(sorted(known_devices()))
            raise BadInputError(f"{w}: unknown device type {dtype!r}. Known types: {known}")
        bus = item.get("bus", "")
        address = item.get("address")
        cs = item.get("cs")
        pins = item.get("pins", {})
        if not isinstance(bus, str) or not bus:
            raise BadInputError(f"{w}: bus = {bus!r}; name the controller it hangs on (e.g. bus = \"i2c1\")")
        if address is not None and not (isinstance(address, int) and 0 <= address <= 0x7F):
            raise BadInputError(f"{w}: address = {address!r} is not a 7-bit I2C address (0x08-0x77)")
        if cs is not None and not isinstance(cs, str):
            raise BadInputError(f"{w}: cs = {cs!r}; give the chip-select pin (e.g. cs = \"PE3\")")
        if not isinstance(pins, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in pins.items()):
            raise BadInputError(f"{w}: pins must map device pins to board pins, e.g. pins = {{ INT1 = \"PE0\" }}")
        options = {k: v for k, v in item.items() if k not in ("name", "type", "bus", "address", "cs", "pins")}
        out.append(Device(item["name"], dtype, bus, address, cs, dict(pins), options))
    return tuple(out)


def _power(table: dict[str, Any], max_mhz: float) -> Power:
    """[power] as per-clock tables; ``run_ua_per_mhz = k`` is k uA per MHz, ``sleep_ua = n`` flat."""
    from simcore.validate import current_table

    def points(key: str) -> tuple[tuple[float, float], ...]:
        return tuple(current_table()(table[key], lambda allowed: BadInputError(allowed)))

    if "run_ua" in table:
        run = points("run_ua")
    elif "run_ua_per_mhz" in table:
        k = float(table["run_ua_per_mhz"])
        run = ((1.0, k), (max_mhz, k * max_mhz)) if max_mhz > 1.0 else ((1.0, k),)
    else:
        run = ((1.0, 0.0),)
    sleep = points("sleep_ua") if "sleep_ua" in table else ((1.0, 0.0),)
    deep = tuple(sorted((str(k), float(v)) for k, v in table.get("deep_sleep_ua", {}).items()))
    return Power(run_points=run, sleep_points=sleep, voltage=float(table.get("voltage", 3.3)), deep_sleep=deep)
