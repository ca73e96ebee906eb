"""nRF52840 RNG (Product Specification v1.7, section 6.21): random bytes, seeded so that runs repeat.

``TASKS_START`` produces a byte in ``VALUE`` and ``EVENTS_VALRDY`` every 30 us (120 us with bias
correction, ``CONFIG.DERCEN``: the PS's typical times per byte) until ``TASKS_STOP`` or the
``VALRDY_STOP`` shortcut. The bytes come from a generator seeded by the board option ``seed``
(default 0), so the same firmware and inputs give the same bytes and counts on every run.
"""

from __future__ import annotations

import random
from typing import Any

from simcore.abi import AC_MAX, AP_STORE
from simcore.clock import FS_PER_SECOND
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.regfile import FIT, PY_WRITE

US = FS_PER_SECOND // 1_000_000
EV_VALRDY = 0
VALUE = 0x508  # VALUE's offset (PS v1.7 6.21.4.6)


@register_model
class Nrf52Rng(NordicPeripheral):
    """RNG of the nRF52840 (see the module docstring)."""

    TYPE = "nrf52_rng"
    SVD = "RNG"
    PLAIN = ("SHORTS", "CONFIG")
    OPTIONS = {"seed": "seed of the byte sequence (default 0)"}

    # VALUE read from the register file, and C making the next bytes ready one after the other (Machine's chain of
    # applied events, hotpath.c hp_apply_chain) while nothing else happens; False: VALUE's reads come here
    VALUE_IN_C = True

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.random = random.Random(int(config.options.get("seed", 0)))
        self._event: Any = None
        self.bytes = 0
        self._ahead: list[int] = []  # the generator's next bytes, drawn ahead for a chain (taken first, in order)
        self._value_store: int | None = None  # VALUE's register-file value index while the register file holds it
        super().__init__(config, host, registers)

    def _period(self) -> int:
        return (120 if self.values["CONFIG"] & 1 else 30) * US

    def task_START(self) -> None:
        if self._event is None:
            ev = self.host.schedule_at_fs(self.host.now_fs() + self._period(), self._ready, f"{self.svd_name} value")
            if hasattr(ev, "apply"):
                ev.apply = self._apply_plan
            self._event = ev

    def _apply_plan(self) -> tuple[Any, ...] | None:
        """The byte as C may make it ready at its cycle (Event.apply): EVENTS_VALRDY held by the register file with
        nothing else seeing it (no interrupt, VALRDY_STOP shortcut or PPI route) and, with VALUE held by the register
        file (its reads no longer come here), VALUE set to the byte, drawn ahead here; and the next bytes too (a
        chain: VALUE set to each)."""
        ops = self.apply_ops((EV_VALRDY,))
        if ops is None:
            return None
        store = self._value_store
        if store is None:
            return ops, self._period(), self._ready_applied
        while len(self._ahead) < AC_MAX:
            self._ahead.append(self.random.getrandbits(8))
        ops.append((AP_STORE, store, self._ahead[0]))
        return ops, self._period(), self._ready_applied, (store, self._ahead[:AC_MAX], self._pending)

    def _pending(self) -> Any:
        """The event of the byte under way (after a settle: the next byte's, which a chain applied too)."""
        return self._event

    def held_at_build(self) -> tuple[tuple[int, tuple[int, int, int, int], int], ...]:
        """NordicPeripheral's registers, and VALUE as _hold_value hands it (its reads served by the register file, its
        writes here), so the first byte's plan is a chain too and the firmware's first read of VALUE is C's."""
        held = super().held_at_build()
        if not held or not self.VALUE_IN_C:
            return held
        return (*held, (VALUE, (0, 0, 0, 0xFFFFFFFF), FIT | PY_WRITE))

    def held_built(self, rf: Any, first: int, store0: int, held: tuple[tuple[int, int], ...]) -> None:
        """NordicPeripheral's look-ups for its registers; VALUE's value index, with the value the model has."""
        super().held_built(rf, first, store0, held)
        for off, pos in held:
            if off == VALUE:
                self._value_store = store0 + pos
                rf.set_value(self._value_store, self.values["VALUE"])

    def _hold_value(self) -> int | None:
        """VALUE held by the register file (its reads served there, its writes still here: read-only), from its first
        read through Python on (in every mode: with a debugger, on the Python hot path): its value index, or None
        (VALUE_IN_C off, a fake host)."""
        if self._value_store is None and self.VALUE_IN_C:
            bus = getattr(self.host, "bus", None)
            got = bus.serve_in_c(self.base + VALUE, True, (0, 0, 0, 0xFFFFFFFF)) if hasattr(bus, "serve_in_c") \
                else None
            if got is not None:
                bus.rf.set_flags(got[0], bus.rf.flags(got[0]) | PY_WRITE)  # type: ignore[union-attr]
                bus.rf.set_value(got[1], self.values["VALUE"])  # type: ignore[union-attr]
                self._value_store = got[1]
        return self._value_store

    def _set_value(self, value: int) -> None:
        self.values["VALUE"] = value
        if self._value_store is not None:
            self.host.bus.rf.set_value(self._value_store, value)

    def reset(self) -> None:
        super().reset()
        if getattr(self, "_value_store", None) is not None:  # (held: its reset value to the register file too)
            self._set_value(self.values["VALUE"])

    def _next_byte(self) -> int:
        """The generator's next byte (those drawn ahead for a chain first: the same sequence either way)."""
        return self._ahead.pop(0) if self._ahead else self.random.getrandbits(8)

    def _ready_applied(self) -> None:
        """:meth:`_ready` after C set EVENTS_VALRDY, and VALUE in a chain (Machine.settle_apply, as of that cycle)."""
        self._event = None
        self._set_value(self._next_byte())
        self.bytes += 1
        self.task_START()
        self.fire_applied(EV_VALRDY)

    def write(self, offset: int, size: int, value: int) -> None:
        """A register write through Python while a byte is under way may change what C was planned to do with it
        (SHORTS, INTEN, CONFIG's period): the machine arms again after it (a kept arming could go on with the plan)."""
        super().write(offset, size, value)
        if self._event is not None:
            changed = getattr(self.host, "apply_plan_changed", None)
            if changed is not None:
                changed()

    def task_STOP(self) -> None:
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None

    def _ready(self) -> None:
        self._event = None
        self._set_value(self._next_byte())
        self.bytes += 1
        self.task_START()  # the next byte, unless the VALRDY_STOP shortcut stops it below
        self.fire(EV_VALRDY)

    def read_VALUE(self) -> int:
        value = self.values["VALUE"]
        self._hold_value()
        return value
