"""Arm CMSDK AHB GPIO (Cortex-M System Design Kit TRM, DDI 0479C, section 4.2): a 16-pin port.

``DATAOUT`` drives the pins whose output enable is set (``OUTENSET``/``OUTENCLR``); ``DATA``
reads the pins (an output pin reads what it drives, an input pin what ``set_inputs`` put on
it) and a write to it goes to ``DATAOUT``. ``MASKLOWBYTE``/``MASKHIGHBYTE`` (0x400-0x7FC,
0x800-0xBFC) read and write the low/high byte through the mask in address bits [9:2].
Interrupts per pin: enabled by ``INTENSET``, edge (``INTTYPE`` 1) or level (0), rising/high
(``INTPOL`` 1) or falling/low (0); ``INTSTATUS`` latches them and a 1 written to ``INTCLEAR``
clears one (a level that is still active sets it again); the port's combined interrupt is
the OR of the enabled status bits (MPS2 AN386: GPIO0 IRQ 6, GPIO1 7, GPIO2 16, GPIO3 17).
Alternate functions are stored but route nothing (setting one is reported).

Every change of the driven pins is recorded with its cycle (``changes``), like the ``gpio``
block of the generic board; tests and recordings drive the inputs with ``set_inputs``.
"""

from __future__ import annotations

from typing import Any

from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel, Register
from simcore.peripherals.cmsdk import _CID, _id_registers

PINS = 0xFFFF


def _set_clear(name: str, offset: int) -> tuple[Register, Register]:
    return (Register(f"{name}SET", offset, implemented=PINS), Register(f"{name}CLR", offset + 4, implemented=PINS))


@register_model
class CmsdkGpio(PeripheralModel):
    """CMSDK AHB GPIO: DATA, DATAOUT, output enables, alternate functions, pin interrupts, masked byte access."""

    TYPE = "cmsdk_gpio"
    SIZE = 0x1000
    REGISTERS = (
        Register("DATA", 0x000, implemented=PINS),
        Register("DATAOUT", 0x004, implemented=PINS),
        *_set_clear("OUTEN", 0x010),
        *_set_clear("ALTFUNC", 0x018),
        *_set_clear("INTEN", 0x020),
        *_set_clear("INTTYPE", 0x028),
        *_set_clear("INTPOL", 0x030),
        Register("INTSTATUS", 0x038, implemented=PINS, doc="reads INTSTATUS, a 1 written clears (INTCLEAR)"),
        Register("MASKLOWBYTE", 0x400, count=256, implemented=0xFF),
        Register("MASKHIGHBYTE", 0x800, count=256, implemented=0xFF00),
        *_id_registers({"PID4": 0x04, "PID0": 0x20, "PID1": 0xB8, "PID2": 0x1B, **_CID}),
    )

    def __init__(self, config: Any, host: Host) -> None:
        self._initial_inputs = int(config.options.get("inputs", 0)) & PINS  # board option: input levels at reset
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self.outen = self.altfunc = self.inten = self.inttype = self.intpol = self.status = 0
        self.inputs = self._initial_inputs
        self._pins = self._pin_levels()
        self._last = (0, 0)  # (driven value, output enable) last recorded
        self.changes: list[tuple[int, int, int]] = []  # (cycle, driven value, output enable) at each change

    # --- pins ------------------------------------------------------------------------------
    def _pin_levels(self) -> int:
        out = self.values["DATAOUT"]
        return ((out & self.outen) | (self.inputs & ~self.outen)) & PINS

    def set_inputs(self, value: int, mask: int = PINS) -> None:
        """Drive the input pins (those under ``mask``) from outside, e.g. a test or a recording."""
        self.inputs = ((self.inputs & ~mask) | (value & mask)) & PINS
        self._pins_changed()

    def _pins_changed(self) -> None:
        old, new = self._pins, self._pin_levels()
        self._pins = new
        driven = (self.values["DATAOUT"] & self.outen) & PINS
        if (driven, self.outen) != self._last:
            self._last = (driven, self.outen)
            self.changes.append((self.host.now_cycles(), driven, self.outen))
        edge = self.inttype
        rising, falling = new & ~old, old & ~new
        hit = edge & ((rising & self.intpol) | (falling & ~self.intpol))
        hit |= ~edge & ((new & self.intpol) | (~new & ~self.intpol))  # levels active now
        self.status |= hit & self.inten & PINS
        self._update_irq()

    def _update_irq(self) -> None:
        if self.irq is not None:
            self.host.set_irq(self.irq, bool(self.status & self.inten))

    # --- registers ---------------------------------------------------------------------------
    def read_DATA(self) -> int:
        return self._pin_levels()

    def write_DATA(self, value: int) -> None:
        self.values["DATAOUT"] = value & PINS
        self._pins_changed()

    def write_DATAOUT(self, value: int) -> None:
        self.write_DATA(value)

    def _set(self, name: str, value: int, on: bool) -> None:
        cur = int(getattr(self, name))
        setattr(self, name, (cur | value) & PINS if on else cur & ~value & PINS)
        self._pins_changed()

    def read_OUTENSET(self) -> int:
        return self.outen

    read_OUTENCLR = read_OUTENSET

    def write_OUTENSET(self, value: int) -> None:
        self._set("outen", value, True)

    def write_OUTENCLR(self, value: int) -> None:
        self._set("outen", value, False)

    def read_ALTFUNCSET(self) -> int:
        return self.altfunc

    read_ALTFUNCCLR = read_ALTFUNCSET

    def write_ALTFUNCSET(self, value: int) -> None:
        if value & PINS & ~self.altfunc:
            self.unimplemented(f"{self.name}.ALTFUNCSET", "alternate functions are stored but route nothing")
        self._set("altfunc", value, True)

    def write_ALTFUNCCLR(self, value: int) -> None:
        self._set("altfunc", value, False)

    def read_INTENSET(self) -> int:
        return self.inten

    read_INTENCLR = read_INTENSET

    def write_INTENSET(self, value: int) -> None:
        self._set("inten", value, True)

    def write_INTENCLR(self, value: int) -> None:
        self._set("inten", value, False)

    def read_INTTYPESET(self) -> int:
        return self.inttype

    read_INTTYPECLR = read_INTTYPESET

    def write_INTTYPESET(self, value: int) -> None:
        self._set("inttype", value, True)

    def write_INTTYPECLR(self, value: int) -> None:
        self._set("inttype", value, False)

    def read_INTPOLSET(self) -> int:
        return self.intpol

    read_INTPOLCLR = read_INTPOLSET

    def write_INTPOLSET(self, value: int) -> None:
        self._set("intpol", value, True)

    def write_INTPOLCLR(self, value: int) -> None:
        self._set("intpol", value, False)

    def read_INTSTATUS(self) -> int:
        return self.status

    def write_INTSTATUS(self, value: int) -> None:
        self.status &= ~value & PINS
        self._pins_changed()  # a level still active latches again

    def read_MASKLOWBYTE(self, i: int) -> int:
        return self._pin_levels() & i

    def write_MASKLOWBYTE(self, i: int, value: int) -> None:
        out = self.values["DATAOUT"]
        self.write_DATA((out & ~i) | (value & i))

    def read_MASKHIGHBYTE(self, i: int) -> int:
        return self._pin_levels() & (i << 8)

    def write_MASKHIGHBYTE(self, i: int, value: int) -> None:
        out = self.values["DATAOUT"]
        self.write_DATA((out & ~(i << 8)) | (value & (i << 8)))

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(outen=self.outen, pins=self._pin_levels(), changes=len(self.changes))
        return d
