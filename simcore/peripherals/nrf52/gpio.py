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

P0's registers start at 0x50000504 and P1's at 0x50000804 (the SVD's P1 at 0x50000300 with the
same offsets); one model serves both, and numbers pins as the PSEL registers do: P0.n is pin n,
P1.n is pin 32 + n (``PSEL`` bit 5 is the port).

Output changes are recorded with their virtual time (the run summary, ``--json``, ``trace()``);
inputs come from a recording: ``--sensor gpio=buttons.csv`` with a time column and one column
per pin (``P0.11``, ``P1.02``, or ``pin43``; 0.5 or more is high).

GPIOTE (6.10): ``CONFIG[n]`` gives channel n a pin and a mode: *event* (``EVENTS_IN[n]`` on the
edges ``POLARITY`` selects; the pin becomes an input) or *task* (GPIOTE drives the pin:
``TASKS_OUT[n]`` sets, clears or toggles it as ``POLARITY`` says, ``TASKS_SET[n]``/``TASKS_CLR[n]``;
``OUTINIT`` is the level when the mode is entered). ``EVENTS_PORT`` on a rising edge of the
ports' DETECT.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simcore.peripherals import register_model
from simcore.peripherals.base import PeripheralModel
from simcore.peripherals.nrf52.common import PART, Fabric, NordicPeripheral
from simcore.peripherals.pins import OutputLog, PinRecording, RecordingPlayer
from simcore.registers import Register

PULL_DOWN, PULL_UP = 1, 3
SENSE_HIGH, SENSE_LOW = 2, 3
PORT_STRIDE = 0x300  # P1's registers are P0's + 0x300
N_PORTS = 2
ALL = (1 << 64) - 1


@register_model
class Nrf52Gpio(PeripheralModel):
    """The nRF52840's GPIO ports P0 and P1 (see the module docstring). Pins are numbered as the PSEL
    registers number them: P0.n is pin n, P1.n is pin 32 + n."""

    TYPE = "nrf52_gpio"
    SVD = "GPIO"
    PARTS = (PART,)
    SIZE = 0x1000
    POLL_SAFE = True  # levels change only when written or at events (recordings, devices)
    REGISTERS = (
        Register("OUT", 0x504, count=N_PORTS, stride=PORT_STRIDE),
        Register("OUTSET", 0x508, count=N_PORTS, stride=PORT_STRIDE),
        Register("OUTCLR", 0x50C, count=N_PORTS, stride=PORT_STRIDE),
        Register("IN", 0x510, access="r", count=N_PORTS, stride=PORT_STRIDE),
        Register("DIR", 0x514, count=N_PORTS, stride=PORT_STRIDE),
        Register("DIRSET", 0x518, count=N_PORTS, stride=PORT_STRIDE),
        Register("DIRCLR", 0x51C, count=N_PORTS, stride=PORT_STRIDE),
        Register("LATCH", 0x520, count=N_PORTS, stride=PORT_STRIDE),
        Register("DETECTMODE", 0x524, count=N_PORTS, stride=PORT_STRIDE),
        Register("PIN_CNF", 0x700, count=32, reset=0x2),  # P0.PIN_CNF[n]
        Register("P1_PIN_CNF", 0x700 + PORT_STRIDE, count=32, reset=0x2),  # P1.PIN_CNF[n]
    )
    OPTIONS = {
        "source": "recording of input pin levels (columns P0.13 / P1.02 / pin45, 0/1), laid on virtual time",
        "source_options": "table of options for open_source (end, rate_hz, columns, ...)",
        "pins": "names of pins for reports, e.g. {'P0.13' = 'led1', 'P0.11' = 'button1'}",
    }

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.fabric = Fabric.of(host)
        self._ext_mask = 0  # pins driven from outside
        self._ext_level = 0
        self._task_mask = 0  # pins a GPIOTE task channel (or SPIM3's CSN) drives
        self._task_level = 0
        self._event_mask = 0  # pins a GPIOTE event channel makes inputs
        self._level = 0
        self._detect = 0  # per-pin DETECT
        self.port_detect = [False] * N_PORTS
        self._lines: dict[int, Any] = {}
        super().__init__(config, host, registers)
        self.fabric.gpio = self
        self.pin_names: dict[int, str] = {}
        for key, label in dict(config.options.get("pins", {}) or {}).items():
            pin = self.pin_number(str(key))
            if pin is None:
                from simcore.errors import BadInputError

                raise BadInputError(f"peripheral {self.name}: option pins names {key!r}, not a pin (P0.13, P1.02, "
                                    "pin45)")
            self.pin_names[pin] = str(label)
        self.outputs = OutputLog(self.pin_label)
        self.player: RecordingPlayer | None = None
        self.recording: PinRecording | None = None
        source = config.options.get("source")
        if source is not None:
            self.recording = PinRecording(self.name, str(source), dict(config.options.get("source_options", {})),
                                          self.pin_number, "P0.0..P0.31, P1.0..P1.15 or pin0..pin47")
            self.player = RecordingPlayer(host, self.recording, self.drive, f"{self.name} input")

    def reset(self) -> None:
        super().reset()
        self._level = self._compute()

    # --- names ------------------------------------------------------------------------------------
    @staticmethod
    def pin_id(pin: int) -> str:
        return f"P{pin >> 5}.{pin & 31:02d}"

    def pin_label(self, pin: int) -> str:
        return self.pin_names.get(pin, self.pin_id(pin))

    @staticmethod
    def pin_number(name: str) -> int | None:
        """``P0.13`` / ``P0_13`` -> 13, ``P1.02`` -> 34, ``pin45`` / ``45`` -> 45; None if not a pin."""
        key = name.strip().upper()
        m = re.fullmatch(r"P([01])[._](\d+)", key)
        if m is not None:
            n = int(m.group(2))
            return 32 * int(m.group(1)) + n if n < 32 else None
        m = re.fullmatch(r"(?:PIN)?(\d+)", key)
        return int(m.group(1)) if m is not None and int(m.group(1)) < 64 else None

    def reg_name(self, reg: Register, index: int = 0) -> str:
        if reg.name == "PIN_CNF":
            return f"P0.PIN_CNF[{index}]"
        if reg.name == "P1_PIN_CNF":
            return f"P1.PIN_CNF[{index}]"
        return f"P{index}.{reg.name}"

    def cnf(self, pin: int) -> int:
        return self.values[f"PIN_CNF{pin}" if pin < 32 else f"P1_PIN_CNF{pin - 32}"]

    def _set_cnf(self, pin: int, value: int) -> None:
        self.values[f"PIN_CNF{pin}" if pin < 32 else f"P1_PIN_CNF{pin - 32}"] = value

    def _word(self, name: str) -> int:
        """A per-port register of both ports as one 64-bit value (P1 in the upper half)."""
        return self.values[f"{name}0"] | self.values[f"{name}1"] << 32

    # --- levels ---------------------------------------------------------------------------------------
    def _compute(self) -> int:
        out, dirs = self._word("OUT"), self._word("DIR")
        level = 0
        for n in range(64):
            bit = 1 << n
            if self._task_mask & bit:
                on = self._task_level & bit
            elif dirs & bit and not self._event_mask & bit:
                on = out & bit
            elif self._ext_mask & bit:
                on = self._ext_level & bit
            else:
                on = bit if (self.cnf(n) >> 2 & 3) == PULL_UP else 0
            level |= on
        return level

    def _outputs(self) -> int:
        """Pins driven by the part (OUT with DIR, or a GPIOTE task channel)."""
        return self._task_mask | (self._word("DIR") & ~self._event_mask)

    def _update(self) -> None:
        old, new = self._level, self._compute()
        self._level = new
        diff = old ^ new
        if diff:
            outputs = self._outputs()
            now = None
            for n in range(64):
                if not diff >> n & 1:
                    continue
                lvl = new >> n & 1
                if outputs >> n & 1:
                    now = self.host.now_fs() if now is None else now
                    self.outputs.record(now, n, lvl)
                line = self._lines.get(n)
                if line is not None:
                    line.set(bool(lvl))
                for fn in self.fabric.port_listeners:
                    fn(n, lvl)
        self._sense()

    def _sense(self) -> None:
        detect = 0
        for n in range(64):
            sense = self.cnf(n) >> 16 & 3
            if sense == SENSE_HIGH and self._level >> n & 1 or sense == SENSE_LOW and not self._level >> n & 1:
                detect |= 1 << n
        rose = detect & ~self._detect
        self._detect = detect
        if rose:
            self.values["LATCH0"] |= rose & 0xFFFFFFFF
            self.values["LATCH1"] |= rose >> 32
        self._port_detect()

    def _port_detect(self) -> None:
        before = self.detect_signal()
        for port in range(N_PORTS):
            ldetect = self.values[f"DETECTMODE{port}"] & 1
            src = self.values[f"LATCH{port}"] if ldetect else self._detect >> (32 * port) & 0xFFFFFFFF
            self.port_detect[port] = bool(src)
        after = self.detect_signal()
        if after != before:
            for fn in self.fabric.detect_listeners:
                fn(after)

    def detect_signal(self) -> bool:
        """The DETECT signal of the ports (what GPIOTE's PORT event and a System OFF wake-up see)."""
        return any(self.port_detect)

    def level(self, pin: int) -> int:
        return self._level >> pin & 1

    # --- outside ------------------------------------------------------------------------------------
    def drive(self, pins: int, levels: int) -> None:
        """Drive ``pins`` (a bit mask over pins 0-63) from outside to ``levels`` (recordings, devices, tests)."""
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
    def write_OUT(self, port: int, value: int) -> None:
        self.values[f"OUT{port}"] = value & 0xFFFFFFFF
        self._update()

    def read_OUTSET(self, port: int) -> int:
        return self.values[f"OUT{port}"]

    read_OUTCLR = read_OUTSET

    def write_OUTSET(self, port: int, value: int) -> None:
        self.write_OUT(port, self.values[f"OUT{port}"] | value)

    def write_OUTCLR(self, port: int, value: int) -> None:
        self.write_OUT(port, self.values[f"OUT{port}"] & ~value)

    def read_IN(self, port: int) -> int:
        connected = 0
        for n in range(32):
            if not self.cnf(32 * port + n) >> 1 & 1:
                connected |= 1 << n
        return self._level >> (32 * port) & connected

    def write_DIR(self, port: int, value: int) -> None:
        value &= 0xFFFFFFFF
        self.values[f"DIR{port}"] = value
        for n in range(32):
            pin = 32 * port + n
            self._set_cnf(pin, (self.cnf(pin) & ~1) | (value >> n & 1))
        self._update()

    def read_DIRSET(self, port: int) -> int:
        return self.values[f"DIR{port}"]

    read_DIRCLR = read_DIRSET

    def write_DIRSET(self, port: int, value: int) -> None:
        self.write_DIR(port, self.values[f"DIR{port}"] | value)

    def write_DIRCLR(self, port: int, value: int) -> None:
        self.write_DIR(port, self.values[f"DIR{port}"] & ~value)

    def write_LATCH(self, port: int, value: int) -> None:
        still = self._detect >> (32 * port) & 0xFFFFFFFF
        self.values[f"LATCH{port}"] &= ~(value & ~still)  # a pin that still detects stays latched
        self._port_detect()

    def write_DETECTMODE(self, port: int, value: int) -> None:
        self.values[f"DETECTMODE{port}"] = value & 1
        self._port_detect()

    def _pin_cnf(self, pin: int, value: int) -> None:
        value &= 0x0003070F
        self._set_cnf(pin, value)
        port, n = pin >> 5, pin & 31
        self.values[f"DIR{port}"] = (self.values[f"DIR{port}"] & ~(1 << n)) | ((value & 1) << n)
        self._update()

    def write_PIN_CNF(self, n: int, value: int) -> None:
        self._pin_cnf(n, value)

    def write_P1_PIN_CNF(self, n: int, value: int) -> None:
        self._pin_cnf(32 + n, value)

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
    REGISTERS = NordicPeripheral.REGISTERS + (Register("CONFIG", 0x510, count=8),)  # CONFIG[n]

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self._owned: dict[int, tuple[int, int]] = {}  # channel -> (mode, pin) it holds
        self._out: dict[int, int] = {}  # task channel -> level it drives
        super().__init__(config, host, registers)
        self.fabric.port_listeners.append(self._pin_changed)
        self.fabric.detect_listeners.append(self._detect_changed)
        self._detect = False

    def _gpio(self) -> Any:
        gpio = self.fabric.gpio
        if gpio is None:
            self.guest_error(self.where("CONFIG"), "CONFIG selects a pin, and this board has no GPIO model")
        return gpio

    def write_CONFIG(self, n: int, value: int) -> None:
        value &= 0x0013_3F03
        self.values[f"CONFIG{n}"] = value
        old = self._owned.pop(n, None)
        gpio = self.fabric.gpio
        if old is not None and gpio is not None:  # release what the channel held
            if old[0] == MODE_TASK:
                gpio.gpiote_drive(old[1], False)
            else:
                gpio.gpiote_input(old[1], False)
        self._out.pop(n, None)
        mode, pin, outinit = value & 3, value >> 8 & 0x3F, value >> 20 & 1  # PSEL and PORT: the pin number
        if mode not in (MODE_EVENT, MODE_TASK):
            return
        gpio = self._gpio()
        if gpio is None:
            return
        self._owned[n] = (mode, pin)
        if mode == MODE_TASK:
            self._out[n] = outinit
            gpio.gpiote_drive(pin, True, outinit)
        else:
            gpio.gpiote_input(pin, True)

    # --- event mode --------------------------------------------------------------------------------
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
        if self.fabric.gpio is not None:
            self.fabric.gpio.gpiote_drive(held[1], True, level)

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
