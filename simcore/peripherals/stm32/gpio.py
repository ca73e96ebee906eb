"""STM32 GPIO ports (RM0090 section 8, RM0432 section 8): pin modes, output data, set/reset, lock, inputs.

Each port is a model of its SVD peripheral (``GPIOA``..``GPIOI``). What a pin reads in ``IDR``
follows from its mode: an output reads what it drives (push-pull: ``ODR``; open-drain: 0, or
the outside level / pull-up when released), an input or alternate-function pin reads what
drives it from outside (a recording, a device's interrupt line) or its pull-up/pull-down, an
analog pin reads 0 (its Schmitt trigger is off). Every change of a pin's level reaches the
port's listeners (SYSCFG/EXTI edge detection); every change of an output pin is recorded with
its virtual time, as the ``gpio`` block of the generic board records them.

Inputs from a recording: ``--sensor gpioa=buttons.csv`` with a time column and one column per
pin (``PA0`` or ``pin0``; a value of 0.5 or more is high), laid on virtual time from reset.
Pin edges are scheduled events, so a firmware polling ``IDR`` or waiting in ``wfi`` for an
EXTI interrupt is fast-forwarded to the next edge.

``LCKR``: the key sequence (write LCKK=1, LCKK=0, LCKK=1 with the same LCK bits, then read)
freezes the configuration of the locked pins until reset; a write changing a locked pin's
configuration is ignored and reported as a firmware error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel

MAX_CHANGES = 100_000  # output changes kept for the trace (the counts are always complete)
LOCKED_REGS = ("MODER", "OTYPER", "OSPEEDR", "PUPDR", "AFRL", "AFRH")
LCKK = 1 << 16


def _pin_mask(reg: str, pins: int) -> int:
    """Bits of ``reg`` that belong to the pins in the bit mask ``pins``."""
    out = 0
    for n in range(16):
        if not pins >> n & 1:
            continue
        if reg in ("MODER", "OSPEEDR", "PUPDR"):
            out |= 3 << (2 * n)
        elif reg == "OTYPER":
            out |= 1 << n
        elif reg == "AFRL" and n < 8:
            out |= 0xF << (4 * n)
        elif reg == "AFRH" and n >= 8:
            out |= 0xF << (4 * (n - 8))
    return out


def _even_bits(x: int) -> int:
    """Bits 0, 2, ..., 30 of ``x`` packed into bits 0..15 (one bit per pin of a 2-bit-per-pin register)."""
    x &= 0x55555555
    x = (x | x >> 1) & 0x33333333
    x = (x | x >> 2) & 0x0F0F0F0F
    x = (x | x >> 4) & 0x00FF00FF
    return (x | x >> 8) & 0x0000FFFF


class PinRecording:
    """Levels of some pins of one port over virtual time, from a recording (CSV, NPY, RESD...)."""

    def __init__(self, port: str, path: str, options: dict[str, Any]) -> None:
        import numpy as np

        from simcore.sources import open_source

        self.source = open_source(Path(path), **options)
        letter = port[-1].upper()
        self.columns: dict[int, int] = {}  # pin -> column of the recording
        for col, name in enumerate(self.source.channels):
            key = name.strip().upper()
            if len(key) > 2 and key[0] == "P" and key[1].isalpha() and key[2:].isdigit():
                if key[1] == letter and int(key[2:]) < 16:  # PA0..PI15: this port's pins; others are ignored
                    self.columns[int(key[2:])] = col
                continue
            rest = key[3:] if key.startswith("PIN") else key
            if rest.isdigit() and int(rest) < 16:
                self.columns[int(rest)] = col
        if not self.columns:
            raise BadInputError(f"sensor {port.lower()}: the recording {path} has no column for a pin of {port} "
                                f"(columns: {', '.join(self.source.channels)}); name the columns of a GPIO recording "
                                f"after the pins (P{letter}0..P{letter}15, or pin0..pin15), levels 0/1")
        if len(self.source) == 0:
            raise BadInputError(f"sensor {port.lower()}: the recording {path} has no samples")
        if len(self.source.sample_shape) != 1:
            raise BadInputError(f"sensor {port.lower()}: the recording {path} holds frames, not pin levels")
        values = self.source.take(0, len(self.source)).astype(np.float64)
        self.times = self.source.times() if self.source.rate_hz is None else (
            self.source.start_s + np.arange(len(self.source)) / self.source.rate_hz)
        self.levels = (values >= 0.5)  # (samples, columns)
        self.period = self.source.duration_s - self.source.start_s
        self.loop = self.source.end_rule == "loop"
        # one list of (seconds, pin mask, levels) per sample where a level changes (and the first sample)
        self.steps: list[tuple[float, int, int]] = []
        prev = None
        for i in range(len(self.times)):
            mask = 0
            bits = 0
            for pin, col in self.columns.items():
                lvl = bool(self.levels[i, col])
                if prev is None or lvl != bool(self.levels[i - 1, col]):
                    mask |= 1 << pin
                bits |= int(lvl) << pin
            if mask:
                self.steps.append((float(self.times[i]), mask, bits))
            prev = i
        self.pins = sum(1 << p for p in self.columns)

    def step(self, k: int) -> tuple[float, int, int] | None:
        """The ``k``-th level change (the end rule applied): (seconds, pins that change, their levels)."""
        n = len(self.steps)
        if k < n:
            return self.steps[k]
        if not self.loop or self.period <= 0:
            return None
        rep, j = divmod(k, n)
        t, mask, bits = self.steps[j]
        if j == 0:  # the first sample of a repetition changes whatever differs from the last one
            mask = self.pins
        return t + rep * self.period, mask, bits


class Stm32Gpio(PeripheralModel):
    """What the F4 and L4 GPIO ports share (the subclasses add the part's registers)."""

    SVD = "GPIO"
    PARTS: tuple[str, ...] = ("stm32f407vg",)  # the L4 class is checked against its own part
    PLAIN = ("OSPEEDR",)
    OPTIONS = {
        "source": "recording of input pin levels (columns P<port><n> or pin<n>, 0/1), laid on virtual time",
        "source_options": "table of options for open_source (end, rate_hz, columns, ...)",
        "pins": "names of pins for reports, e.g. {PD12 = 'led_green', PA0 = 'button'}",
    }

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self.listeners: list[Callable[[int, int, int], None]] = []  # (port index, pin, level)
        self.changes: list[tuple[int, int, int]] = []  # (fs, pin, level) of output pins
        self.counts: dict[str, int] = {}
        self._ext_level = 0  # levels driven from outside, on the pins in _ext_mask
        self._ext_mask = 0
        self._lines: dict[int, Any] = {}
        self.recording: PinRecording | None = None
        self._rec_k = 0
        self._rec_event: Any = None
        self._idr = 0
        self._exti: Any = None  # the board's EXTI edge input, found at the first edge
        self._modes: tuple[tuple[int, int] | None, int, int, int] = (None, 0, 0, 0)  # see _compute_idr
        self.settle_hooks: list[Callable[[], None]] = []  # run before every access (an SPI stream using a pin here)
        super().__init__(config, host, registers)
        self.letter = self.svd_name[-1].upper() if self.svd_name.upper().startswith("GPIO") else "?"
        self.port_index = ord(self.letter) - ord("A") if self.letter.isalpha() else 0
        names = dict(config.options.get("pins", {}) or {})
        self.pin_names = {int(k[2:]) if str(k).upper().startswith("P") else int(k): str(v) for k, v in names.items()}
        source = config.options.get("source")
        if source is not None:
            self.recording = PinRecording(self.svd_name, str(source), dict(config.options.get("source_options", {})))
            self._next_recorded()

    def reset(self) -> None:
        super().reset()
        self._lock_step = 0
        self._locked = 0
        self._lock_active = False
        self._idr = self._compute_idr()
        if hasattr(self, "letter"):
            self._update()

    # --- pin levels ---------------------------------------------------------------------------
    def pin_label(self, pin: int) -> str:
        return self.pin_names.get(pin, f"P{self.letter}{pin}")

    def _compute_idr(self) -> int:
        """IDR from the pins' modes, in bit operations on all 16 pins at once (a loop per pin cost ~10 us per ODR
        write): analog pins read 0; push-pull outputs read ODR; open-drain outputs read 0 while driven low, else
        the outside level; inputs and alternate-function pins read the outside level, which is what drives them
        (``drive``) or their pull-up (PUPDR 01)."""
        values = self.values
        moder, pupdr = values["MODER"], values["PUPDR"]
        if (moder, pupdr) != self._modes[0]:  # per-pin masks of the modes, kept until MODER or PUPDR changes
            m_lo, m_hi = _even_bits(moder), _even_bits(moder >> 1)
            # output pins (mode 01), analog pins (mode 11), pull-ups (PUPDR 01)
            self._modes = ((moder, pupdr), m_lo & ~m_hi, m_lo & m_hi, _even_bits(pupdr) & ~_even_bits(pupdr >> 1))
        _, output, analog, pull_up = self._modes
        otyper, odr = values["OTYPER"], values["ODR"]
        outside = (self._ext_level & self._ext_mask) | (pull_up & ~self._ext_mask)
        open_drain = otyper & output
        idr = (output & ~open_drain & odr) | (open_drain & odr & outside) | (~output & ~analog & outside)
        return idr & 0xFFFF

    def _update(self) -> None:
        """Recompute the pin levels; record output changes and tell the listeners of every edge."""
        old, new = self._idr, self._compute_idr()
        self._idr = new
        diff = old ^ new
        if not diff:
            return
        moder = self.values["MODER"]
        now = None
        if self._exti is None:
            exti = self.host.peripheral("exti")
            self._exti = getattr(exti, "gpio_edge", False) if exti is not None else False
        while diff:
            n = (diff & -diff).bit_length() - 1  # the changed pins, lowest first
            diff &= diff - 1
            level = new >> n & 1
            if moder >> (2 * n) & 3 == 1:
                now = self.host.now_fs() if now is None else now
                key = f"{self.pin_label(n)}_{'rises' if level else 'falls'}"
                self.counts[key] = self.counts.get(key, 0) + 1
                if len(self.changes) < MAX_CHANGES:
                    self.changes.append((now, n, level))
            line = self._lines.get(n)
            if line is not None:
                line.set(bool(level))
            if self._exti:
                self._exti(self.port_index, n, level)
            for fn in self.listeners:
                fn(self.port_index, n, level)

    def drive(self, pins: int, levels: int) -> None:
        """Drive ``pins`` (a bit mask) from outside to ``levels`` (tests, recordings, devices)."""
        self._ext_mask |= pins
        self._ext_level = (self._ext_level & ~pins) | (levels & pins)
        self._update()

    def release(self, pins: int) -> None:
        """Stop driving ``pins`` from outside (they read their pull-up/pull-down again)."""
        self._ext_mask &= ~pins
        self._update()

    def level(self, pin: int) -> int:
        return self._idr >> pin & 1

    def line(self, pin: int) -> Any:
        """A :class:`simcore.devices.bus.Line` that follows pin ``pin`` (a chip select a device listens to)."""
        from simcore.devices.bus import Line

        if pin not in self._lines:
            self._lines[pin] = line = Line(f"P{self.letter}{pin}", bool(self.level(pin)))
            line.source = (self, pin)
        return self._lines[pin]

    def replay_output_edges(self, pin: int, edges: list[tuple[int, int]]) -> None:
        """Edges of push-pull output ``pin`` that BSRR writes served by the register file made (an SPI stream's chip
        select, spi.py), as (virtual time fs, level) in order: ODR, IDR, the counts and the trace as the writes would
        have left them, and the pin's line at its last level (its one listener, the SPI bus, is the caller's)."""
        if not edges:
            return
        label = self.pin_label(pin)
        counts = self.counts
        for fs, level in edges:
            key = f"{label}_{'rises' if level else 'falls'}"
            counts[key] = counts.get(key, 0) + 1
            if len(self.changes) < MAX_CHANGES:
                self.changes.append((fs, pin, level))
        level = edges[-1][1]
        self.values["ODR"] = (self.values["ODR"] & ~(1 << pin)) | (level << pin)
        self._idr = self._compute_idr()
        line = self._lines.get(pin)
        if line is not None:
            line.level = bool(level)
            line.changes += len(edges)

    def read(self, offset: int, size: int) -> int:
        for fn in self.settle_hooks:
            fn()
        return super().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        for fn in self.settle_hooks:
            fn()
        super().write(offset, size, value)

    def connect_input(self, pin: int, line: Any) -> None:
        """Pin ``pin`` follows ``line`` (a device's interrupt output)."""
        line.connect(lambda level: self.drive(1 << pin, int(level) << pin))

    # --- recording -----------------------------------------------------------------------------
    def _next_recorded(self) -> None:
        rec = self.recording
        assert rec is not None
        step = rec.step(self._rec_k)
        if step is None:
            self._rec_event = None
            return
        t, _mask, _bits = step
        from simcore.clock import fs_of_seconds

        self._rec_event = self.host.schedule_at_fs(max(fs_of_seconds(t), self.host.now_fs()), self._recorded,
                                                   f"{self.name} input")

    def _recorded(self) -> None:
        rec = self.recording
        assert rec is not None
        step = rec.step(self._rec_k)
        self._rec_k += 1
        if step is not None:
            _t, mask, bits = step
            self.drive(mask, bits)
        self._next_recorded()

    # --- registers -----------------------------------------------------------------------------
    def _config_write(self, reg: str, value: int) -> None:
        old = self.values[reg]
        frozen = _pin_mask(reg, self._locked)
        if frozen and (value ^ old) & frozen:
            self.guest_error(self.where(reg), "write changes the configuration of locked pins "
                             f"(LCKR {self._locked:#06x}): those bits keep their value, as on the part")
        self.values[reg] = (value & ~frozen) | (old & frozen)
        self._update()

    def write_MODER(self, value: int) -> None:
        self._config_write("MODER", value)

    def write_OTYPER(self, value: int) -> None:
        self._config_write("OTYPER", value & 0xFFFF)

    def write_PUPDR(self, value: int) -> None:
        self._config_write("PUPDR", value)

    def write_AFRL(self, value: int) -> None:
        self._config_write("AFRL", value)

    def write_AFRH(self, value: int) -> None:
        self._config_write("AFRH", value)

    def read_IDR(self) -> int:
        return self._idr

    def write_ODR(self, value: int) -> None:
        self.values["ODR"] = value & 0xFFFF
        self._update()

    def write_BSRR(self, value: int) -> None:
        # RM0090 8.4.7: BSx sets, BRx resets; when both are set for a pin, BSx wins
        odr = (self.values["ODR"] & ~(value >> 16)) | (value & 0xFFFF)
        self.values["ODR"] = odr & 0xFFFF
        self._update()

    def read_BSRR(self) -> int:
        return 0

    def read_LCKR(self) -> int:
        if self._lock_step == 3:  # RM0090 8.4.8: the read after the three writes activates the lock
            self._lock_step = 0
            self._locked = self.values["LCKR"] & 0xFFFF
            self._lock_active = True
        return (self.values["LCKR"] & 0xFFFF) | (LCKK if self._lock_active else 0)

    def write_LCKR(self, value: int) -> None:
        if self._lock_active:
            return  # the lock holds until the next reset
        lck = value & 0xFFFF
        kk = bool(value & LCKK)
        step = self._lock_step
        in_order = step < 3 and kk == (True, False, True)[step] and (step == 0 or lck == self.values["LCKR"])
        self._lock_step = step + 1 if in_order else (1 if kk else 0)  # a wrong write aborts (or starts anew)
        self.values["LCKR"] = lck

    # --- reports -------------------------------------------------------------------------------
    def trace(self, pin: int | str | None = None) -> list[dict[str, Any]]:
        """Changes of output pins (all, or one by number or name) with virtual time in seconds."""
        from simcore.clock import FS_PER_SECOND

        for fn in self.settle_hooks:
            fn()
        out = []
        for fs, p, level in self.changes:
            label = self.pin_label(p)
            if pin is None or pin == p or pin == label or pin == f"P{self.letter}{p}":
                out.append({"time_s": fs / FS_PER_SECOND, "pin": f"P{self.letter}{p}", "name": label, "level": level})
        return out

    def sensor_stats(self) -> dict[str, Any] | None:
        """What the run summary lists for this port: output edges per pin, and the recording fed to it."""
        for fn in self.settle_hooks:
            fn()
        if not self.counts and self.recording is None:
            return None
        out: dict[str, Any] = {"name": self.name, "type": self.TYPE}
        if self.recording is not None:
            out["source"] = self.recording.source.path
            out["input_changes"] = self._rec_k
        out.update(sorted(self.counts.items()))
        out["changes"] = self.trace()[:1000]
        out["events"] = []
        return out


@register_model
class Stm32F4Gpio(Stm32Gpio):
    """STM32F4 GPIO port (RM0090 section 8.4)."""

    TYPE = "stm32f4_gpio"
    PARTS = ("stm32f407vg",)


@register_model
class Stm32L4Gpio(Stm32Gpio):
    """STM32L4/L4+ GPIO port (RM0432 section 8.5): adds BRR (bit reset)."""

    TYPE = "stm32l4_gpio"
    PARTS = ("stm32l4r5zi",)

    def write_BRR(self, value: int) -> None:
        self.values["ODR"] &= ~value & 0xFFFF
        self._update()

    def read_BRR(self) -> int:
        return 0
