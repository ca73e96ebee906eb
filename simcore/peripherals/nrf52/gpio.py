"""nRF52840 GPIO ports P0/P1 and GPIOTE (Product Specification v1.7, sections 6.9 and 6.10).

GPIO (6.9): ``OUT``/``OUTSET``/``OUTCLR`` drive, ``DIR``/``DIRSET``/``DIRCLR`` (the same bits as
``PIN_CNF[n].DIR``) choose outputs, ``IN`` reads the pins whose input buffer is connected
(``PIN_CNF[n].INPUT`` = 0; at reset every pin is an input with the buffer disconnected). A pin's
level: an output drives ``OUT`` (or GPIOTE's value when a GPIOTE task channel owns it); an
input follows what drives it from outside (a recording, a device's interrupt line), else its
pull (``PULL``: pull-down 0, pull-up 1; none reads 0). ``PIN_CNF[n].SENSE`` (high or low)
makes the pin's DETECT signal; a rising DETECT sets its bit in ``LATCH`` (write 1 to clear,
which does not clear while the pin still detects); the port's DETECT is the OR of the pins'
(``DETECTMODE`` = 0) or of ``LATCH`` (``DETECTMODE`` = 1, LDETECT). GPIOTE's PORT event comes
from the DETECT of all ports.

The ports' registers start 0x504 into their SVD peripherals (P0 at 0x50000000, P1 at
0x50000300): the board gives each port the window that holds them, 0x300 bytes from SVD base
+ 0x500. GPIOTE and the PSEL registers number pins 0-47 (P1.n is 32 + n).

Output changes are recorded with their virtual time (the run summary, ``--json``, ``trace()``);
inputs come from a recording: ``--sensor p0=buttons.csv`` with a time column and one column per
pin (``P0.11``, ``P0_11`` or ``pin11``; 0.5 or more is high); a chip's interrupt output wired to a
pin (a board's ``[[device]]`` ``pins``) drives it too.

GPIOTE (6.10): ``CONFIG[n]`` gives channel n a pin and a mode: *event* (``EVENTS_IN[n]`` on the
edges ``POLARITY`` selects; the pin becomes an input) or *task* (GPIOTE drives the pin:
``TASKS_OUT[n]`` sets, clears or toggles it as ``POLARITY`` says, ``TASKS_SET[n]``/``TASKS_CLR[n]``;
``OUTINIT`` is the level when the mode is entered). ``EVENTS_PORT`` on a rising edge of the
ports' DETECT.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, ClassVar

from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel
from simcore.peripherals.held import HeldRead
from simcore.peripherals.nrf52.common import PART, Fabric, NordicPeripheral
from simcore.peripherals.pins import OutputLog, PinRecording, RecordingPlayer
from simcore.registers import Register

PULL_DOWN, PULL_UP = 1, 3
SENSE_HIGH, SENSE_LOW = 2, 3
WINDOW = 0x500  # a port's registers start 0x500 into its SVD peripheral


@register_model
class Nrf52Gpio(PeripheralModel):
    """One nRF52840 GPIO port, P0 or P1 (see the module docstring)."""

    TYPE = "nrf52_gpio"
    SVD = "GPIO"
    PARTS = (PART,)
    SIZE = 0x300
    WINDOW_OFFSET = WINDOW  # the board's base is the SVD peripheral's + 0x500 (tests/unit/test_svd_tables.py)
    POLL_SAFE = True  # levels change only when written or at events (recordings, devices)
    IN_IN_C: ClassVar[bool] = True  # IN answered by the register file from its first read (False: Python; tests)
    REGISTERS = (
        Register("OUT", 0x004), Register("OUTSET", 0x008), Register("OUTCLR", 0x00C),
        Register("IN", 0x010, access="r"),
        Register("DIR", 0x014), Register("DIRSET", 0x018), Register("DIRCLR", 0x01C),
        Register("LATCH", 0x020), Register("DETECTMODE", 0x024),
        Register("PIN_CNF", 0x200, count=32, reset=0x2),  # PIN_CNF[n] at SVD offset 0x700
    )
    OPTIONS = {
        "source": "recording of input pin levels (columns P0.13 / P0_13 / pin13, 0/1), laid on virtual time",
        "source_options": "table of options for open_source (end, rate_hz, columns, ...)",
        "pins": "names of pins for reports, e.g. {13 = 'led1', 11 = 'button1'}",
    }

    @classmethod
    def svd_peripheral(cls, table: Any, base: int, name: str = "") -> Any:
        """The SVD port whose registers this window holds, with offsets from the window (SVD base + 0x500)."""
        for p in table.peripherals:
            if p.group == "GPIO" and p.base + WINDOW == base:
                regs = tuple(replace(r, offset=r.offset - WINDOW) for r in p.registers)
                return SimpleNamespace(name=p.name, base=base, size=cls.SIZE, group=p.group, registers=regs,
                                       interrupts=(), end=base + cls.SIZE)
        from simcore.errors import BadInputError

        ports = ", ".join(f"{p.name} at {p.base + WINDOW:#x}" for p in table.peripherals if p.group == "GPIO")
        raise BadInputError(f"peripheral '{name}' ({cls.TYPE}): no GPIO port has its registers at {base:#x}; the "
                            f"ports' windows are {ports}")

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.fabric = Fabric.of(host)
        self._ext_mask = 0  # pins driven from outside
        self._ext_level = 0
        self._task_mask = 0  # pins a GPIOTE task channel (or SPIM3's CSN) drives
        self._task_level = 0
        self._event_mask = 0  # pins a GPIOTE event channel makes inputs
        self._level = 0
        self._detect = 0  # per-pin DETECT
        self.port_detect = False
        self._lines: dict[int, Any] = {}
        self._in = HeldRead(self, 0x010)  # IN, answered by the register file from its first read on
        self._rise: dict[int, Any] = {}  # rise_plan's port part per pin (until a level or configuration moves)
        super().__init__(config, host, registers)
        self.port = int(self.svd_name[1:]) if self.svd_name[1:].isdigit() else 0
        self.fabric.ports[self.port] = self
        self.pin_names: dict[int, str] = {}
        for key, label in dict(config.options.get("pins", {}) or {}).items():
            pin = self.pin_number(str(key))
            if pin is None:
                from simcore.errors import BadInputError

                raise BadInputError(f"peripheral {self.name}: option pins names {key!r}, not a pin of "
                                    f"P{self.port} (13, P{self.port}.13, pin13)")
            self.pin_names[pin] = str(label)
        self.outputs = OutputLog(self.pin_label)
        self.player: RecordingPlayer | None = None
        self.recording: PinRecording | None = None
        source = config.options.get("source")
        if source is not None:
            self.recording = PinRecording(self.name, str(source), dict(config.options.get("source_options", {})),
                                          self.pin_number, f"P{self.port}.0..P{self.port}.31 or pin0..pin31")
            self.player = RecordingPlayer(host, self.recording, self.drive, f"{self.name} input")

    def reset(self) -> None:
        super().reset()
        self._cnf_masks()
        self._level = self._compute()
        self._in.put(self._in_value())

    # --- names ------------------------------------------------------------------------------------
    def pin_id(self, pin: int) -> str:
        return f"P{self.port}.{pin:02d}"

    def pin_label(self, pin: int) -> str:
        return self.pin_names.get(pin, self.pin_id(pin))

    def pin_number(self, name: str) -> int | None:
        """``P0.13`` / ``P0_13`` / ``pin13`` / ``13`` -> 13 (on port 0); None if not a pin of this port."""
        m = re.fullmatch(rf"(?:P{self.port}[._]|PIN)?(\d+)", name.strip().upper())
        return int(m.group(1)) if m is not None and int(m.group(1)) < 32 else None

    def reg_name(self, reg: Register, index: int = 0) -> str:
        return f"{self.svd_name}.{reg.name}[{index}]" if reg.count > 1 else f"{self.svd_name}.{reg.name}"

    # --- levels ---------------------------------------------------------------------------------------
    def _cnf_masks(self) -> None:
        """What the levels need of PIN_CNF[0..31] (PS 6.9.2.10), as bit masks kept until PIN_CNF is written: pins
        pulled up, pins whose input buffer is connected (INPUT = 0), pins sensing high and sensing low."""
        pull_up = connected = sense_high = sense_low = 0
        for n in range(32):
            cnf, bit = self.values[f"PIN_CNF{n}"], 1 << n
            if cnf >> 2 & 3 == PULL_UP:
                pull_up |= bit
            if not cnf >> 1 & 1:
                connected |= bit
            sense = cnf >> 16 & 3
            if sense == SENSE_HIGH:
                sense_high |= bit
            elif sense == SENSE_LOW:
                sense_low |= bit
        self._pull_up, self._connected, self._sense_high, self._sense_low = pull_up, connected, sense_high, sense_low

    def _compute(self) -> int:
        """Each pin's level: a GPIOTE task channel's, else OUT where DIR makes it an output (and no GPIOTE event
        channel holds it), else what drives it from outside, else its pull (up: 1; down or none: 0)."""
        task = self._task_mask
        out = self.values["DIR"] & ~self._event_mask & ~task
        ext = self._ext_mask & ~task & ~out
        rest = ~(task | out | ext)
        return ((task & self._task_level) | (out & self.values["OUT"]) | (ext & self._ext_level)
                | (rest & self._pull_up)) & 0xFFFFFFFF

    def _outputs(self) -> int:
        """Pins driven by the part (OUT with DIR, or a GPIOTE task channel)."""
        return self._task_mask | (self.values["DIR"] & ~self._event_mask)

    def _update(self) -> None:
        self._rise = {}
        old, new = self._level, self._compute()
        self._level = new
        self._in.put(self._in_value())  # before the listeners: a chip's line wakes a wait that reads IN in C
        diff = old ^ new
        if diff:
            outputs = self._outputs()
            now = None
            while diff:  # the changed pins, lowest first (one pass a changed pin, not 32)
                bit = diff & -diff
                diff ^= bit
                n = bit.bit_length() - 1
                lvl = new >> n & 1
                if outputs >> n & 1:
                    now = self.host.now_fs() if now is None else now
                    self.outputs.record(now, n, lvl)
                line = self._lines.get(n)
                if line is not None:
                    line.set(bool(lvl))
                for fn in self.fabric.port_listeners:
                    fn(32 * self.port + n, lvl)
        self._sense()

    def _sense(self) -> None:
        detect = (self._sense_high & self._level) | (self._sense_low & ~self._level & 0xFFFFFFFF)
        rose = detect & ~self._detect
        self._detect = detect
        if rose:
            self.values["LATCH"] |= rose
        self._port_detect()

    def _port_detect(self) -> None:
        before = self.fabric.detect()
        self.port_detect = bool(self.values["LATCH"] if self.values["DETECTMODE"] & 1 else self._detect)
        after = self.fabric.detect()
        if after != before:
            for fn in self.fabric.detect_listeners:
                fn(after)

    def level(self, pin: int) -> int:
        return self._level >> pin & 1

    # --- outside ------------------------------------------------------------------------------------
    def drive(self, pins: int, levels: int) -> None:
        """Drive ``pins`` (a bit mask) from outside to ``levels`` (recordings, devices, tests)."""
        self._ext_mask |= pins
        self._ext_level = (self._ext_level & ~pins) | (levels & pins)
        self._update()

    def release(self, pins: int) -> None:
        self._ext_mask &= ~pins
        self._update()

    def line(self, pin: int) -> Any:
        """A :class:`simcore.devices.bus.Line` following pin ``pin`` (a chip select, an LED)."""
        from simcore.devices.bus import Line

        if pin not in self._lines:
            self._lines[pin] = Line(self.pin_id(pin), bool(self.level(pin)))
        return self._lines[pin]

    def connect_input(self, pin: int, line: Any) -> None:
        """Pin ``pin`` follows ``line`` (a device's interrupt output)."""
        line.connect(lambda lvl: self.drive(1 << pin, int(lvl) << pin))
        line.rise_plan = lambda: self.rise_plan(pin)
        line.fall_rise_plan = lambda: self.fall_rise_plan(pin)

    def rise_plan(self, pin: int) -> tuple[int, int, int, int, int, tuple[int, int] | None] | None:
        """What pin ``pin`` rising from outside does, when C may do it at a wfi (Event.wake, hotpath.c hp_wfi_hook): a
        GPIOTE IN[n] event on it (LOTOHI or TOGGLE), its interrupt on (Nrf52Gpiote's wake_plan) and IN's bit set
        where the register file answers IN (the extra store C writes with the wake: ``(value index, IN after)``, or
        None), nothing else -- the pin an input that follows the outside (not a GPIOTE task pin, no DIR output), no
        SENSE (no LATCH, DETECT or PORT event), no line following the pin, one GPIOTE channel firing. Nothing of the
        port follows later (the quiet time is the caller's to say). None otherwise. The port's part is kept until a
        level or the configuration changes (``_update``; asked at every arming while the wake is the next event)."""
        got = self._rise.get(pin, False)
        if got is False:
            got = self._rise[pin] = self._rise_port(pin)
        if got is None:
            return None
        gpiote, n, extra = got
        plan = gpiote.wake_plan(n, 0)
        return None if plan is None else (*plan, extra)

    def fall_rise_plan(self, pin: int) -> tuple[tuple[int, int], tuple[int, ...]] | None:
        """Pin ``pin``, high now, falling from outside and later rising again, when C may do both (hotpath.c
        hp_twim_wake's ``tw_x`` store, then hp_wfi_hook's wake; the Nano 33 BLE Sense Rev2's INT1 lowered by the
        BMI270's INT_STATUS_1 read, raised by its next watermark): the fall only clears IN's bit where the register
        file answers IN (no GPIOTE channel fires on it: LOTOHI only; the pin as ``_rise_port`` wants it), and the rise
        is then rise_plan's. Returns ((IN's value index, IN after the fall), the rise's wake plan), or None."""
        bit = 1 << pin
        if not self._level & bit:
            return None
        got = self._rise_port(pin, self._level & ~bit)
        if got is None or got[2] is None:
            return None
        gpiote, n, extra = got
        for fn in self.fabric.port_listeners:  # (_rise_port found GPIOTEs only) none fires on the fall
            if any(self._falls_fire(fn.__self__, 32 * self.port + pin)):  # type: ignore[attr-defined]
                return None
        plan = gpiote.wake_plan(n, 0)
        if plan is None:
            return None
        return (extra[0], self._level & ~bit & self._connected), (*plan, extra)

    @staticmethod
    def _falls_fire(gpiote: Any, pin: int) -> list[int]:
        """The IN[n] event channels of ``gpiote`` a fall of ``pin`` (0-47) fires (HITOLO or TOGGLE)."""
        return [n for n, (mode, p) in gpiote._owned.items() if mode == MODE_EVENT and p == pin
                and gpiote.values[f"CONFIG{n}"] >> 16 & 3 in (POL_HITOLO, POL_TOGGLE)]

    def _rise_port(self, pin: int, level: int | None = None) -> tuple[Any, int, tuple[int, int] | None] | None:
        """rise_plan's part that only a level or configuration change moves: (the GPIOTE, its channel, IN's store).
        ``level``: the port's levels the rise starts from (fall_rise_plan: after a fall), if not the present ones."""
        bit = 1 << pin
        present = level is None
        if level is None:
            level = self._level
        if (level & bit or self._task_mask & bit or self.values["DIR"] & ~self._event_mask & bit
                or (self._sense_high | self._sense_low) & bit or pin in self._lines):
            return None
        fired = []
        for fn in self.fabric.port_listeners:
            gpiote = getattr(fn, "__self__", None)
            if not isinstance(gpiote, Nrf52Gpiote) or fn.__func__ is not Nrf52Gpiote._pin_changed:  # type: ignore
                return None
            fired += [(gpiote, n) for n in gpiote.rise_channels(32 * self.port + pin)]
        if len(fired) != 1:
            return None
        held = self._in
        extra = None
        if held.entry is not None and not held.py:
            if held.value != self._level & self._connected:
                return None  # (IN's value in the register file is not this level's: let Python put it)
            extra = (held.store, (level | bit) & self._connected)
        elif not present:
            return None  # (fall_rise_plan: the fall's store needs IN in the register file)
        return fired[0][0], fired[0][1], extra

    def gpiote_drive(self, pin: int, owned: bool, level: int = 0) -> None:
        """GPIOTE (or SPIM3's CSN) takes (``owned``) or releases pin ``pin`` as an output it drives to ``level``."""
        bit = 1 << pin
        self._task_mask = self._task_mask | bit if owned else self._task_mask & ~bit
        self._task_level = (self._task_level & ~bit) | (bit if level else 0)
        self._update()

    def gpiote_input(self, pin: int, owned: bool) -> None:
        bit = 1 << pin
        self._event_mask = self._event_mask | bit if owned else self._event_mask & ~bit
        self._update()

    # --- registers -------------------------------------------------------------------------------------
    def write_OUT(self, value: int) -> None:
        self.values["OUT"] = value & 0xFFFFFFFF
        self._update()

    def read_OUTSET(self) -> int:
        return self.values["OUT"]

    read_OUTCLR = read_OUTSET

    def write_OUTSET(self, value: int) -> None:
        self.write_OUT(self.values["OUT"] | value)

    def write_OUTCLR(self, value: int) -> None:
        self.write_OUT(self.values["OUT"] & ~value)

    def _in_value(self) -> int:
        """IN: the pins' levels where the input buffer is connected (PIN_CNF[n].INPUT = 0, PS 6.9.2)."""
        return self._level & self._connected

    def read_IN(self) -> int:
        """IN (PS 6.9.2.5): no side effect, and it changes only when a pin's level or PIN_CNF does (``_update``,
        which every such change calls), so the register file answers it from its first read on (HeldRead)."""
        value = self._in_value()
        if self.IN_IN_C:
            self._rise = {}
            self._in.start(value)
        return value

    def write_DIR(self, value: int) -> None:
        value &= 0xFFFFFFFF
        self.values["DIR"] = value
        for n in range(32):
            key = f"PIN_CNF{n}"
            self.values[key] = (self.values[key] & ~1) | (value >> n & 1)
        self._update()

    def read_DIRSET(self) -> int:
        return self.values["DIR"]

    read_DIRCLR = read_DIRSET

    def write_DIRSET(self, value: int) -> None:
        self.write_DIR(self.values["DIR"] | value)

    def write_DIRCLR(self, value: int) -> None:
        self.write_DIR(self.values["DIR"] & ~value)

    def write_LATCH(self, value: int) -> None:
        self.values["LATCH"] &= ~(value & ~self._detect)  # a pin that still detects stays latched
        self._port_detect()

    def write_DETECTMODE(self, value: int) -> None:
        self.values["DETECTMODE"] = value & 1
        self._port_detect()

    def write_PIN_CNF(self, n: int, value: int) -> None:
        value &= 0x0003070F
        self.values[f"PIN_CNF{n}"] = value
        self._cnf_masks()
        self.values["DIR"] = (self.values["DIR"] & ~(1 << n)) | ((value & 1) << n)
        self._update()

    # --- reports ---------------------------------------------------------------------------------------
    def trace(self, pin: int | str | None = None) -> list[dict[str, Any]]:
        """Changes of output pins (all, or one by number, name or ``P0.13``) with virtual time in seconds."""
        return self.outputs.trace(pin, self.pin_id)

    def sensor_stats(self) -> dict[str, Any] | None:
        if not self.outputs.counts and self.recording is None:
            return None
        out: dict[str, Any] = {"name": self.name, "type": self.TYPE}
        if self.recording is not None and self.player is not None:
            out["source"] = self.recording.path
            out["input_changes"] = self.player.k
        out.update(sorted(self.outputs.counts.items()))
        out["changes"] = self.trace()[:1000]
        return out


# GPIOTE CONFIG[n] fields (PS 6.10.6.4)
MODE_EVENT, MODE_TASK = 1, 3
POL_NONE, POL_LOTOHI, POL_HITOLO, POL_TOGGLE = 0, 1, 2, 3
EV_PORT = 31  # EVENTS_PORT at 0x17C


@register_model
class Nrf52Gpiote(NordicPeripheral):
    """GPIOTE of the nRF52840: eight channels and the PORT event (see the module docstring)."""

    TYPE = "nrf52_gpiote"
    SVD = "GPIOTE"
    EVENT_READS_IN_C = True  # a wait on EVENTS_IN[n] / EVENTS_PORT with its interrupt on reads it in C
    EVENT_CLEARS_IN_C = True  # the firmware's clear of such an event, in C: write_EVENTS does nothing else here
    REGISTERS = NordicPeripheral.REGISTERS + (Register("CONFIG", 0x510, count=8),)  # CONFIG[n]

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self._owned: dict[int, tuple[int, int]] = {}  # channel -> (mode, pin) it holds
        self._out: dict[int, int] = {}  # task channel -> level it drives
        super().__init__(config, host, registers)
        self.fabric.port_listeners.append(self._pin_changed)
        self.fabric.detect_listeners.append(self._detect_changed)
        self._detect = False

    def _gpio(self, pin: int) -> Any:
        gpio = self.fabric.ports.get(pin >> 5)
        if gpio is None:
            self.guest_error(self.where("CONFIG"), f"CONFIG selects a pin of P{pin >> 5}, which this board does not "
                             "have")
        return gpio

    def write_CONFIG(self, n: int, value: int) -> None:
        value &= 0x0013_3F03
        self.values[f"CONFIG{n}"] = value
        old = self._owned.pop(n, None)
        held = self.fabric.ports.get(old[1] >> 5) if old is not None else None
        if old is not None and held is not None:  # release what the channel held
            if old[0] == MODE_TASK:
                held.gpiote_drive(old[1] & 31, False)
            else:
                held.gpiote_input(old[1] & 31, False)
        self._out.pop(n, None)
        mode, pin, outinit = value & 3, value >> 8 & 0x3F, value >> 20 & 1  # PSEL and PORT: the pin number
        if mode not in (MODE_EVENT, MODE_TASK):
            return
        gpio = self._gpio(pin)
        if gpio is None:
            return
        self._owned[n] = (mode, pin)
        if mode == MODE_TASK:
            self._out[n] = outinit
            gpio.gpiote_drive(pin & 31, True, outinit)
        else:
            gpio.gpiote_input(pin & 31, True)

    # --- event mode --------------------------------------------------------------------------------
    def rise_channels(self, pin: int) -> list[int]:
        """The IN[n] event channels a rise of ``pin`` (0-47) fires (``_pin_changed``)."""
        return [n for n, (mode, p) in self._owned.items() if mode == MODE_EVENT and p == pin
                and self.values[f"CONFIG{n}"] >> 16 & 3 in (POL_LOTOHI, POL_TOGGLE)]

    def _pin_changed(self, pin: int, level: int) -> None:
        for n, (mode, p) in self._owned.items():
            if mode != MODE_EVENT or p != pin:
                continue
            pol = self.values[f"CONFIG{n}"] >> 16 & 3
            if pol == POL_TOGGLE or (pol == POL_LOTOHI and level) or (pol == POL_HITOLO and not level):
                self.fire(n)

    def _detect_changed(self, detect: bool) -> None:
        if detect and not self._detect:
            self.fire(EV_PORT)
        self._detect = detect

    # --- task mode ---------------------------------------------------------------------------------
    def _set_out(self, n: int, how: Callable[[int], int]) -> None:
        held = self._owned.get(n)
        if held is None or held[0] != MODE_TASK:
            return  # a task on a channel not in task mode does nothing
        level = how(self._out.get(n, 0)) & 1
        self._out[n] = level
        gpio = self.fabric.ports.get(held[1] >> 5)
        if gpio is not None:
            gpio.gpiote_drive(held[1] & 31, True, level)

    def task_OUT(self, n: int) -> None:
        pol = self.values[f"CONFIG{n}"] >> 16 & 3
        if pol == POL_LOTOHI:
            self._set_out(n, lambda v: 1)
        elif pol == POL_HITOLO:
            self._set_out(n, lambda v: 0)
        elif pol == POL_TOGGLE:
            self._set_out(n, lambda v: v ^ 1)

    def task_SET(self, n: int) -> None:
        self._set_out(n, lambda v: 1)

    def task_CLR(self, n: int) -> None:
        self._set_out(n, lambda v: 0)
