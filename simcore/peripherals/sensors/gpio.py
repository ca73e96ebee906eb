"""simcore's GPIO output port: every change of an output pin is recorded with its virtual time.

An LED blinking on detection is how much TinyML firmware reports results; the trace of pin
changes (cycle, seconds, pin, level) lets tests assert *when* it lit, and can be written as
a VCD file for a waveform viewer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simcore.board import Peripheral
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.sensors.common import SensorModel
from simcore.registers import Field, Register


@register_model
class SimcoreGpio(SensorModel):
    """32 output pins: ODR, atomic set/reset (BSRR style), toggle; changes are time-stamped."""

    TYPE = "simcore_gpio"
    SIZE = 0x100
    ID_VALUE = 0x47504F31  # "GPO1"
    REGISTERS = (
        Register("ODR", 0x00, doc="output levels, one bit per pin", fields=(
            Field("PIN", 0, 32, doc="bit n drives pin n"),
        )),
        Register("SET", 0x04, access="w", doc="write 1s: drive those pins high"),
        Register("CLR", 0x08, access="w", doc="write 1s: drive those pins low"),
        Register("TOGGLE", 0x0C, access="w", doc="write 1s: invert those pins"),
        Register("IDR", 0x10, access="r", doc="pin levels (outputs read back)"),
        Register("ID", 0x3C, access="r", reset=ID_VALUE, doc="reads 'GPO1'"),
    )
    OPTIONS = {"pins": "names of the pins, index = pin number (e.g. ['led_red', 'led_green'])"}

    def __init__(self, config: Peripheral, host: Host) -> None:
        self.changes: list[tuple[int, int, int]] = []  # (cycle, pin, level)
        super().__init__(config, host)

    def pin_name(self, pin: int) -> str:
        names = list(self.option("pins", []))
        return str(names[pin]) if pin < len(names) else f"pin{pin}"

    def _drive(self, new: int) -> None:
        old = self.values["ODR"]
        new &= 0xFFFFFFFF
        diff = old ^ new
        now = self.now()
        pin = 0
        while diff:
            if diff & 1:
                level = (new >> pin) & 1
                self.changes.append((now, pin, level))
                self.stats_.count(f"{self.pin_name(pin)}_{'rises' if level else 'falls'}")
            diff >>= 1
            pin += 1
        self.values["ODR"] = new

    def write_ODR(self, value: int) -> None:
        self._drive(value)

    def write_SET(self, value: int) -> None:
        self._drive(self.values["ODR"] | value)

    def write_CLR(self, value: int) -> None:
        self._drive(self.values["ODR"] & ~value)

    def write_TOGGLE(self, value: int) -> None:
        self._drive(self.values["ODR"] ^ value)

    def read_IDR(self) -> int:
        return self.values["ODR"]

    def trace(self, pin: int | str | None = None) -> list[dict[str, Any]]:
        """All changes (optionally of one pin, by number or name) with cycle and seconds."""
        cps = self.host.cycles_per_second()
        out = []
        for cycle, p, level in self.changes:
            if pin is None or pin == p or pin == self.pin_name(p):
                out.append({"cycle": cycle, "time_s": cycle / cps, "pin": p, "name": self.pin_name(p), "level": level})
        return out

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["changes"] = self.trace()[:1000]
        return out

    def write_vcd(self, path: str | Path, timescale_ns: int = 1) -> None:
        """The pin trace as a Value Change Dump (pins that changed at least once)."""
        cps = self.host.cycles_per_second()
        pins = sorted({p for _, p, _ in self.changes})
        ids = {p: chr(33 + i) for i, p in enumerate(pins)}
        lines = [f"$timescale {timescale_ns} ns $end", f"$scope module {self.name} $end"]
        lines += [f"$var wire 1 {ids[p]} {self.pin_name(p)} $end" for p in pins]
        lines += ["$upscope $end", "$enddefinitions $end", "#0"] + [f"0{ids[p]}" for p in pins]
        last = 0
        for cycle, p, level in self.changes:
            stamp = round(cycle / cps * 1e9 / timescale_ns)
            if stamp != last:
                lines.append(f"#{stamp}")
                last = stamp
            lines.append(f"{level}{ids[p]}")
        Path(path).write_text("\n".join(lines) + "\n")
