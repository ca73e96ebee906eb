"""Binding recorded data to a board's sensor peripherals for one run, and reporting what they did.

``--sensor mic=clip.wav:end=loop,resample=true`` on the command line and
``run(..., sensors={"mic": "clip.wav"})`` in the API both end up here. A binding names a
peripheral of the board (``mic``, ``imu``, ``pdm``...) or a kind of sensor (``mic`` also finds
the nRF52 ``pdm``), a recording, and options. Each option goes where it belongs: the
sensor's own options (``resample``, ``align``, ``channel``, ``accel_channels``...) to the
peripheral, everything else to :func:`simcore.sources.open_source` (``end``, ``rate_hz``,
``columns``, ``fps``...), which refuses what does not apply to the file.

Why before the run: a missing, corrupt or wrong-kind file (frames given to a microphone, a CSV
without acceleration columns given to the IMU) is found when the machine is built, so the user
gets one paragraph and exit status 2 with nothing run. What only the firmware decides (the
sample rate it programs) is checked when it enables the sensor, with the same kind of error.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.errors import BadInputError

if TYPE_CHECKING:
    from simcore.board import Board, Device, Peripheral
    from simcore.peripherals.base import PeripheralModel
    from simcore.sources import Source

# A sensor kind named on the command line -> peripheral and chip (docs/bus-devices.md) types that provide it.
_MOTION = ("lis3dh", "lis3dsh", "lsm6dsl", "lsm9ds1", "bmi270")
_MICS = ("mp45dt02", "mp34dt01", "mp34dt05")
KINDS: dict[str, tuple[str, ...]] = {
    "mic": ("simcore_mic", "nrf52_pdm", *_MICS),
    "microphone": ("simcore_mic", "nrf52_pdm", *_MICS),
    "pdm": ("nrf52_pdm", *_MICS),
    "imu": ("simcore_imu", *_MOTION),
    "accel": ("simcore_imu", *_MOTION),
    "mag": ("lsm9ds1_mag",),
    "camera": ("simcore_camera", "ov7670"),
    "adc": ("simcore_adc", "nrf52_saadc", "stm32f4_adc", "stm32l4_adc"),
    "saadc": ("nrf52_saadc",),
    "env": ("hts221",),
    "humidity": ("hts221",),
    "light": ("apds9960",),
    "gesture": ("apds9960",),
}
# GPIO ports whose input pins a recording drives (bound by peripheral name: --sensor gpioa=pins.csv)
RECORDING_TYPES = {"stm32f4_gpio", "stm32l4_gpio"}  # (their summary line has no overruns figure)
INPUT_TYPES = {"nrf52_gpio"} | RECORDING_TYPES
SENSOR_TYPES = {t for types in KINDS.values() for t in types} | INPUT_TYPES
OUTPUT_TYPES = {"simcore_gpio"}
_PERIPHERAL_ONLY = {"source", "source_options"}
_BOTH = {"fps"}  # the camera's frame rate is also the rate of a folder of frames


@dataclasses.dataclass
class SensorSpec:
    """One binding as given: the name, a path (or an opened Source) and options."""

    name: str
    source: str | Path | Source
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


def _value(text: str) -> Any:
    """An option value: TOML literal when it parses (true, 100, 1.5, ['ax', 'ay']), else the text."""
    import tomllib  # (here: a run without --sensor options does not load the TOML parser)

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _split_options(text: str) -> list[str]:
    """Split ``a=1,b=[x, y]`` at the commas that are not inside brackets or quotes."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [p for p in (s.strip() for s in parts) if p]


def parse_cli_spec(text: str) -> SensorSpec:
    """``NAME=PATH[:key=value,...]`` (the ``--sensor`` option) as a :class:`SensorSpec`."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest:
        raise BadInputError(
            f"--sensor {text!r}: expected NAME=FILE[:key=value,...], e.g. --sensor mic=clip.wav or "
            "--sensor imu=walk.csv:end=loop,resample=true"
        )
    path, options = rest, ""
    m = re.search(r":(?=[A-Za-z_]\w*=)", rest)  # the first ':' followed by key=
    if m:
        path, options = rest[: m.start()], rest[m.end():]
    opts: dict[str, Any] = {}
    for item in _split_options(options):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise BadInputError(f"--sensor {text!r}: option {item!r} is not key=value")
        opts[key.strip()] = _value(value.strip())
    return SensorSpec(name.strip(), path, opts)


def normalize(sensors: Mapping[str, Any] | list[SensorSpec] | None) -> list[SensorSpec]:
    """API forms -> specs: ``{"mic": "a.wav"}``, ``{"mic": ("a.wav", {...})}``, ``{"mic": {"source": ..., ...}}``."""
    if not sensors:
        return []
    if isinstance(sensors, list):
        return list(sensors)
    out = []
    for name, spec in sensors.items():
        if isinstance(spec, SensorSpec):
            out.append(spec)
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Mapping):
            out.append(SensorSpec(name, spec[0], dict(spec[1])))
        elif isinstance(spec, Mapping):
            opts = dict(spec)
            if "source" not in opts:
                raise BadInputError(f"sensor {name!r}: a dict binding needs a 'source' entry (the recording)")
            out.append(SensorSpec(name, opts.pop("source"), opts))
        else:
            out.append(SensorSpec(name, spec, {}))
    return out


def resolve(board: Board, name: str) -> Peripheral | Device:
    """The board peripheral or chip a binding name refers to: by name, else by sensor kind."""
    chip = board.device(name)
    if chip is not None:
        return chip
    p = board.peripheral(name)
    if p is not None:
        if p.type in OUTPUT_TYPES:
            raise BadInputError(f"sensor {name!r}: peripheral {p.name} ({p.type}) is an output; it takes no recording")
        if p.type not in SENSOR_TYPES:
            raise BadInputError(f"sensor {name!r}: peripheral {p.name} of board {board.name} is a {p.type}, "
                                "not a sensor")
        return p
    types = KINDS.get(name.lower(), ())
    matches: list[Peripheral | Device] = [q for q in (*board.peripherals, *board.devices) if q.type in types]
    if len(matches) == 1:
        return matches[0]
    have = [f"{q.name} ({q.type})" for q in (*board.peripherals, *board.devices) if q.type in SENSOR_TYPES]
    listing = ", ".join(have) if have else "none"
    if len(matches) > 1:
        raise BadInputError(f"sensor {name!r} is ambiguous on board {board.name}: name one of {listing}")
    raise BadInputError(
        f"sensor {name!r}: board {board.name} has no such sensor peripheral (its sensors: {listing}). "
        "Bind by peripheral or chip name or by kind (mic, imu, camera, adc, env, gesture, mag)."
    )


def configure(board: Board, sensors: Mapping[str, Any] | list[SensorSpec] | None) -> tuple[
        list[Peripheral], dict[str, Source]]:
    """Peripheral configs with the bindings applied, and opened Sources to attach after construction.

    Path bindings become the peripheral's ``source``/``source_options`` options, so the model opens
    the recording while the machine is being built (bad files fail then, before anything runs).
    """
    configs, objects = _bind(board, sensors)
    return [configs[p.name] for p in board.peripherals], objects  # type: ignore[misc]


def _bind(board: Board, sensors: Mapping[str, Any] | list[SensorSpec] | None) -> tuple[
        dict[str, Peripheral | Device], dict[str, Source]]:
    """Every peripheral and chip config by name, with the bindings applied; opened Sources by name."""
    from simcore.devices import device_for
    from simcore.peripherals import model_for

    configs: dict[str, Peripheral | Device] = {p.name: p for p in (*board.peripherals, *board.devices)}
    chips = {d.name for d in board.devices}
    objects: dict[str, Source] = {}
    seen: dict[str, str] = {}
    for spec in normalize(sensors):
        p = resolve(board, spec.name)
        what = "chip" if p.name in chips else "peripheral"
        if p.name in seen:
            raise BadInputError(f"sensor {spec.name!r}: {what} {p.name} is already bound (as {seen[p.name]!r})")
        seen[p.name] = spec.name
        cls: Any = device_for(p.type) if p.name in chips else model_for(p.type)
        own = (set(getattr(cls, "COMMON_OPTIONS", {})) | set(getattr(cls, "OPTIONS", {}))) - _PERIPHERAL_ONLY
        periph_opts = {k: v for k, v in spec.options.items() if k in own}
        src_opts = {k: v for k, v in spec.options.items() if k not in own or k in _BOTH}
        options = {**p.options, **periph_opts}
        if isinstance(spec.source, str | Path):
            path = Path(spec.source)
            if not path.exists() and not any(ch in str(path) for ch in "*?["):
                raise BadInputError(f"sensor {spec.name!r}: data file {path} does not exist")
            options["source"] = str(path)
            options["source_options"] = src_opts
        else:
            if src_opts:
                raise BadInputError(f"sensor {spec.name!r}: options {', '.join(sorted(src_opts))} need a file path, "
                                    "not an opened Source")
            options.pop("source", None)
            objects[p.name] = spec.source
        configs[p.name] = dataclasses.replace(p, options=options)
    return configs, objects


def check(model: PeripheralModel) -> None:
    """Refuse, before the run, a recording that cannot suit this kind of sensor."""
    binding = getattr(model, "binding", None)
    if binding is None:
        return
    src = binding.original
    where = f"sensor {model.name} ({model.TYPE}): the recording {src.path}"
    frames = len(src.sample_shape) == 3
    if model.TYPE == "simcore_camera":
        if not frames:
            raise BadInputError(f"{where} holds {len(src.channels)}-channel samples, not image frames; "
                                "give the camera PNG/JPEG frames (a folder or glob) or an (n, h, w) NPY array")
        return
    if frames:
        raise BadInputError(f"{where} holds image frames, not a signal; a {model.TYPE} needs audio, CSV, NPY or "
                            "RESD samples")
    if len(src) == 0:
        raise BadInputError(f"{where} has no samples")
    if model.TYPE == "simcore_imu":
        model._mapping()  # type: ignore[attr-defined]  # accel channels and units, with its own message
    elif model.TYPE in ("simcore_mic", "simcore_adc", "nrf52_pdm"):
        ch: Any = model.config.options.get("channel", 0)
        idx = ch if isinstance(ch, int) else src.channel_index(str(ch))
        if not 0 <= idx < len(src.channels):
            raise BadInputError(f"{where} has no channel {ch} (it has {', '.join(src.channels)})")
        unit = src.units[idx]
        fits = ("", "FS") if model.TYPE != "simcore_adc" else ("", "FS", "V")
        if unit not in fits:
            what = "audio (full-scale samples, e.g. a WAV file)" if model.TYPE != "simcore_adc" else "volts"
            raise BadInputError(f"{where}: channel {src.channels[idx]!r} is in {unit}, not {what}; a {model.TYPE} "
                                "cannot play it (was it meant for another sensor?)")
    if src.rate_hz is None and not binding.resample:
        raise BadInputError(f"{where} has irregular timestamps; a {model.TYPE} samples at a fixed rate: set "
                            "option resample=true (or rate_hz for a CSV without a time column)")


# Register-window sizes of the sensor models (their SIZE), so an unused sensor can stand in
# without importing its model (and numpy) at start-up; a unit test keeps these equal to SIZE.
DEFERRED_SIZES = {"simcore_mic": 0x100, "nrf52_pdm": 0x1000, "simcore_imu": 0x100, "simcore_camera": 0x100,
                  "simcore_adc": 0x100, "simcore_gpio": 0x100}


class DeferredModel:
    """Stands in for a sensor with no recording until the firmware first touches its registers.

    Why: most runs on the generic board use none of its sensors, and building them would import
    numpy and the sources into every ``simcore run``. The first access builds the real model
    (same config, same host) and forwards to it from then on.
    """

    def __init__(self, config: Peripheral, host: Any) -> None:
        self.config = config
        self.name = config.name
        self.base = config.base
        self.irq = config.irq
        self.host = host
        self.TYPE = config.type
        self.SIZE = DEFERRED_SIZES[config.type]
        self.real: PeripheralModel | None = None

    def model(self) -> PeripheralModel:
        if self.real is None:
            from simcore.peripherals import model_for

            self.real = model_for(self.config.type)(self.config, self.host)
        return self.real

    def read(self, offset: int, size: int) -> int:
        return self.model().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        self.model().write(offset, size, value)

    def reset(self) -> None:
        """A reset of the part (a watchdog's): the real model resets if it was built, else nothing to do."""
        if self.real is not None:
            getattr(self.real, "system_reset", self.real.reset)()

    def describe(self) -> dict[str, Any]:
        return self.model().describe() if self.real is not None else {"name": self.name, "type": self.TYPE}


def apply_uart_input(board: Board, configs: dict[str, Any], uart_input: Any) -> None:
    """``--uart-input [NAME=]FILE``: the named UART (else the console) receives the file's bytes (configs by name,
    replaced in place)."""
    if not uart_input:
        return
    from simcore.peripherals import model_for

    items = uart_input.items() if isinstance(uart_input, Mapping) else [(None, uart_input)]
    for name, path in items:
        target = name or board.console
        p = next((p for p in board.peripherals if target is not None and p.name.lower() == str(target).lower()),
                 None)
        if p is None:
            uarts = [p.name for p in board.peripherals if "usart" in p.type or "uart" in p.type]
            raise BadInputError(f"--uart-input: board {board.name} has no peripheral {target!r} (its UARTs: "
                                f"{', '.join(uarts) or 'none'})")
        if "input" not in getattr(model_for(p.type), "OPTIONS", {}):
            raise BadInputError(f"--uart-input: peripheral {p.name} ({p.type}) has no receiver simcore "
                                "can feed")
        path = str(path)
        if path != "-" and not Path(path).is_file():
            raise BadInputError(f"--uart-input: file {path} does not exist or is not a regular file")
        cfg = configs[p.name]
        configs[p.name] = dataclasses.replace(cfg, options={**cfg.options, "input": path})


def build(board: Board, sensors: Mapping[str, Any] | list[SensorSpec] | None, host: Any,
          uart_input: Any = None) -> list[Any]:
    """The machine's peripheral models with the bindings applied, unbound sensors deferred; the board's
    chips built and wired to them (reachable through the controllers: simcore.devices.wiring.devices_of)."""
    from simcore.peripherals import model_for

    configs, sources = _bind(board, sensors)
    apply_uart_input(board, configs, uart_input)
    models: list[Any] = []
    carriers = {d.bus for d in board.devices}  # controllers chips hang on are built now (the chips attach to them)
    for name in (p.name for p in board.peripherals):
        p = configs[name]
        if p.type in DEFERRED_SIZES and "source" not in p.options and p.name not in sources and p.name not in carriers:
            models.append(DeferredModel(p, host))  # type: ignore[arg-type]
        else:
            models.append(model_for(p.type)(p, host))
    chips: list[Any] = []
    if board.devices:
        from simcore.devices.wiring import build_devices

        built = getattr(host, "models_built", None)
        if built is not None:
            built(models)  # wiring a chip's line to a GPIO input may reach other models (EXTI) already

        chips = build_devices(board, tuple(configs[d.name] for d in board.devices), models,  # type: ignore[misc]
                              host)
    attach([*models, *chips], sources)
    return models


def attach(models: list[Any], objects: dict[str, Source]) -> None:
    """Attach opened Sources given through the API and check every binding against its sensor (chips check
    their recordings when they are attached)."""
    by_name = {m.name: m for m in models}
    for name, src in objects.items():
        by_name[name].attach(src)
    for m in models:
        if getattr(m, "binding", None) is not None:
            check(m)


def sensor_stats(models: list[PeripheralModel]) -> dict[str, Any]:
    """``stats()`` of every sensor that had a recording or did something (GPIO: pin changes), and the
    ``sensor_stats()`` of other models that have them (nRF52 GPIO ports, UARTE, WDT...; None when idle)."""
    out: dict[str, Any] = {}
    for m in models:
        own = getattr(m.real if isinstance(m, DeferredModel) else m, "sensor_stats", None)
        figures = own() if own is not None else None
        if figures:
            out[m.name] = figures
    if "simcore.peripherals.sensors.common" not in sys.modules:
        return out
    from simcore.peripherals.sensors.common import SensorModel

    if "simcore.devices.wiring" in sys.modules:
        from simcore.devices.wiring import devices_of

        for chip in devices_of(models):
            if chip.source is not None:
                out[chip.name] = chip.stats()
    for m in models:
        if isinstance(m, DeferredModel):
            m = m.real
        if not isinstance(m, SensorModel):
            continue
        s = m.stats()
        active = m.binding is not None or any(k for k in s if k.endswith(("rises", "falls")))
        if active:
            out[m.name] = s
    return out


def summary_lines(sensors: dict[str, Any], limit: int = 5) -> list[str]:
    """Text summary: per sensor what arrived, overruns/drops with their times (first ``limit``)."""
    lines = []
    for name, s in sensors.items():
        src = f" <- {Path(s['source']).name}" if s.get("source") else ""
        figures = []
        for key in ("samples_delivered", "samples", "frames_delivered", "dma_halves", "buffers", "conversions",
                    "bytes_received", "input_changes"):
            if s.get(key):
                figures.append(f"{s[key]:,} {key.replace('_', ' ')}")
        for key in ("overruns", "dropped_frames", "samples_lost", "frames_lost", "late_services",
                    "threshold_crossings"):
            if key in s or (key == "overruns" and s["type"] not in OUTPUT_TYPES | RECORDING_TYPES):
                figures.append(f"{s.get(key, 0):,} {key.replace('_', ' ')}")
        for key, n in s.items():
            if key.endswith(("_rises", "_falls")):
                figures.append(f"{n} {key.replace('_', ' ')}")
        lines.append(f"sensor {name} ({s['type']}){src}: " + ", ".join(figures))
        bad = [e for e in s.get("events", []) if e["kind"] in ("overruns", "dropped_frames", "late_services")]
        for e in bad[:limit]:
            lines.append(f"  {e['kind'].rstrip('s').replace('_', ' ')} at {e['time_s'] * 1e3:.3f} ms "
                         f"(cycle {e['cycle']:,})" + (f": {e['what']}" if e.get("what") else ""))
        if len(bad) > limit:
            lines.append(f"  ... {len(bad) - limit} more in --json")
    return lines
