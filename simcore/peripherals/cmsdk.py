"""Arm CMSDK timers and the MPS2 FPGA blocks of the AN385/AN386 images (QEMU's mps2-an386).

- ``cmsdk_timer``: CMSDK APB timer (Cortex-M System Design Kit TRM, DDI 0479, 4.4).
- ``cmsdk_dualtimer``: CMSDK APB dual-input timer, two SP804-style counters (DDI 0479 4.5,
  register layout of the SP804 TRM, DDI 0271) behind one combined interrupt.
- ``mps2_fpgaio``: FPGA system control and I/O (AN385/AN386 "FPGA system control"): LEDs,
  buttons, switches, free-running 1 Hz / 100 Hz counters, a prescaled cycle counter.
- ``mps2_scc``: serial configuration controller (MPS2 TRM, DDI 100112): identification
  registers and the oscillator configuration channel.

Nothing ticks: every counter is computed from the virtual clock when read, and the one
interrupt a running timer will raise next is scheduled as a machine event (design notes,
"Time-dependent registers ... are computed from the virtual clock when read"). Counters
run on the peripheral clock, which is the core clock unless the board gives ``pclk_hz``
(on the MPS2 FPGA PCLK is SYSCLK, 25 MHz, like the core).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simcore.board import Peripheral
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel, Register

_ID_REGS = (  # CMSDK APB peripheral identification (DDI 0479 table 4-x): PID4..7, PID0..3, CID0..3
    ("PID4", 0xFD0), ("PID5", 0xFD4), ("PID6", 0xFD8), ("PID7", 0xFDC),
    ("PID0", 0xFE0), ("PID1", 0xFE4), ("PID2", 0xFE8), ("PID3", 0xFEC),
    ("CID0", 0xFF0), ("CID1", 0xFF4), ("CID2", 0xFF8), ("CID3", 0xFFC),
)


def _id_registers(values: dict[str, int]) -> tuple[Register, ...]:
    return tuple(Register(name, off, access="r", reset=values.get(name, 0)) for name, off in _ID_REGS)


_CID = {"CID0": 0x0D, "CID1": 0xF0, "CID2": 0x05, "CID3": 0xB1}


@dataclass
class DownCounter:
    """A decrementing counter anchored at a tick: value ``start`` at tick ``anchor``.

    It reaches 0 after ``start`` ticks (an interrupt), then either stops there (one-shot,
    or a reload of 0) or reloads ``reload`` on the next tick and repeats every
    ``reload + 1`` ticks. A ``start`` of 0 reloads on the first tick without an interrupt.
    """

    anchor: int = 0
    start: int = 0
    reload: int = 0
    oneshot: bool = False

    def _periodic(self) -> bool:
        return not self.oneshot and self.reload > 0

    def value(self, tick: int) -> int:
        t = tick - self.anchor
        if t <= self.start:
            return self.start - t
        if not self._periodic():
            return 0
        return self.reload - ((t - self.start - 1) % (self.reload + 1))

    def _first_zero(self) -> int | None:
        if self.start > 0:
            return self.start
        return self.reload + 1 if self._periodic() else None

    def zeros_between(self, t0: int, t1: int) -> int:
        """How many times the counter reaches 0 at ticks in (t0, t1] (absolute ticks)."""
        first = self._first_zero()
        if first is None or t1 <= t0:
            return 0
        a, b = t0 - self.anchor, t1 - self.anchor
        if not self._periodic():
            return 1 if a < first <= b else 0
        p = self.reload + 1

        def upto(x: int) -> int:  # zeros at offsets <= x
            return 0 if x < first else (x - first) // p + 1

        return upto(b) - upto(a)

    def next_zero_after(self, tick: int) -> int | None:
        """The first absolute tick > ``tick`` at which the counter reaches 0."""
        first = self._first_zero()
        if first is None:
            return None
        t = tick - self.anchor
        if t < first:
            return self.anchor + first
        if not self._periodic():
            return None
        p = self.reload + 1
        return self.anchor + first + ((t - first) // p + 1) * p


class _Clocked(PeripheralModel):
    """Shared clock conversion: peripheral ticks from core cycles."""

    def __init__(self, config: Peripheral, host: Host) -> None:
        self._pclk = config.options.get("pclk_hz")
        super().__init__(config, host)

    def _hz(self) -> int:
        return int(self._pclk) if self._pclk else int(round(self.host.cycles_per_second()))

    def tick(self, divider: int = 1) -> int:
        cpu = int(round(self.host.cycles_per_second()))
        return self.host.now_cycles() * self._hz() // (cpu * divider)

    def cycle_of_tick(self, tick: int, divider: int = 1) -> int:
        cpu = int(round(self.host.cycles_per_second()))
        return -(-tick * cpu * divider // self._hz())  # ceil: the first cycle at which the tick has happened


@register_model
class CmsdkTimer(_Clocked):
    """CMSDK APB timer (DDI 0479 4.4): 32-bit down counter with reload and a level interrupt."""

    TYPE = "cmsdk_timer"
    SIZE = 0x1000
    REGISTERS = (
        Register("CTRL", 0x000, implemented=0x9, doc="bit0 ENABLE, bit3 IRQ enable (external inputs not modelled)"),
        Register("VALUE", 0x004),
        Register("RELOAD", 0x008),
        Register("INTSTATUS", 0x00C, implemented=0x1, doc="reads INTSTATUS, write 1 = INTCLEAR"),
        *_id_registers({"PID4": 0x04, "PID0": 0x22, "PID1": 0xB8, "PID2": 0x1B, **_CID}),
    )
    EN, IRQEN = 1 << 0, 1 << 3

    def reset(self) -> None:
        super().reset()
        self.counter = DownCounter()
        self.status = 0
        self._synced = 0
        self._event: Any = None
        self._event_tick = 0  # the counter tick _event is at

    def _running(self) -> bool:
        return bool(self.values["CTRL"] & self.EN)

    def _sync(self) -> int:
        """Bring INTSTATUS up to now; returns the current tick."""
        now = self.tick()
        if self._running() and self.counter.zeros_between(self._synced, now):
            self.status = 1
        self._synced = now
        return now

    def _update_irq(self) -> None:
        if self.irq is not None:
            self.host.set_irq(self.irq, bool(self.status and self.values["CTRL"] & self.IRQEN))

    def _rearm(self) -> None:
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None
        if self._running() and self.values["CTRL"] & self.IRQEN and not self.status:
            nxt = self.counter.next_zero_after(self._synced)
            if nxt is not None:
                self._event = self.host.schedule(self.cycle_of_tick(nxt), self._fire, f"{self.name} zero")
                self._event_tick = nxt

    def _fire(self) -> None:
        self._event = None
        self._sync()
        self._update_irq()
        self._rearm()

    def native_irq_event(self) -> Any:
        """The zero event asserts the interrupt and nothing else (it is only scheduled with IRQ enabled)."""
        return self._event

    def native_irq_fired(self) -> None:
        if self._event is not None:
            self.host.cancel(self._event)
        self._fire()

    def native_irq_ack(self) -> tuple[int, int] | None:
        return 0x00C, 1  # INTCLEAR

    def native_irq_plan(self) -> tuple[int, int, int, int] | None:
        """Zeros come every RELOAD + 1 ticks once the counter has reached 0 (DownCounter)."""
        c = self.counter
        if self._event is None or c.oneshot or c.reload <= 0:
            return None
        return self._event_tick, c.reload + 1, int(round(self.host.cycles_per_second())), self._hz()

    def native_irq_acked(self, cycle: int) -> None:
        """What write_INTSTATUS(1) did at ``cycle``: status and line cleared, the first zero after it planned."""
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None
        cpu = int(round(self.host.cycles_per_second()))
        self._synced = cycle * self._hz() // cpu
        self.status = 0
        self._update_irq()
        self._rearm()

    def _reanchor(self, start: int) -> None:
        now = self._sync()
        self.counter = DownCounter(anchor=now, start=start, reload=self.values["RELOAD"])

    def read_VALUE(self) -> int:
        return self.counter.value(self.tick()) if self._running() else self.counter.start

    def write_VALUE(self, value: int) -> None:
        self._reanchor(value)
        self._rearm()

    def write_RELOAD(self, value: int) -> None:
        current = self.read_VALUE()
        self.values["RELOAD"] = value
        self._reanchor(current)
        self._rearm()

    def write_CTRL(self, value: int) -> None:
        current = self.read_VALUE()
        self._sync()
        self.values["CTRL"] = value & 0xF
        if value & 0x6:
            self.unimplemented(f"{self.name}.CTRL", "external input enable/clock (bits 1-2) not modelled")
        self._reanchor(current)
        self._update_irq()
        self._rearm()

    def read_INTSTATUS(self) -> int:
        self._sync()
        return self.status

    def write_INTSTATUS(self, value: int) -> None:
        self._sync()
        if value & 1:
            self.status = 0
        self._update_irq()
        self._rearm()


class _Sp804Counter:
    """One counter of the dual timer (SP804 TRM 3.3): Load/Value/Control/RIS/BGLoad."""

    ONESHOT, SIZE32, INTEN, PERIODIC, ENABLE = 1 << 0, 1 << 1, 1 << 5, 1 << 6, 1 << 7

    def __init__(self) -> None:
        self.load = 0
        self.control = 0x20
        self.counter = DownCounter(start=0xFFFFFFFF, reload=0xFFFFFFFF)
        self.ris = 0
        self.synced = 0

    @property
    def mask(self) -> int:
        return 0xFFFFFFFF if self.control & self.SIZE32 else 0xFFFF

    @property
    def divider(self) -> int:
        return (1, 16, 256, 256)[(self.control >> 2) & 3]

    @property
    def running(self) -> bool:
        return bool(self.control & self.ENABLE)

    def after_zero_reload(self) -> int:
        return self.load & self.mask if self.control & self.PERIODIC else self.mask


@register_model
class CmsdkDualTimer(_Clocked):
    """CMSDK APB dual timer (DDI 0479 4.5): two SP804-style counters, one combined interrupt."""

    TYPE = "cmsdk_dualtimer"
    SIZE = 0x1000
    REGISTERS = (
        *(r for i, base in ((1, 0x00), (2, 0x20)) for r in (
            Register(f"TIMER{i}LOAD", base + 0x00),
            Register(f"TIMER{i}VALUE", base + 0x04, access="r", reset=0xFFFFFFFF),
            Register(f"TIMER{i}CONTROL", base + 0x08, reset=0x20, implemented=0xEF),
            Register(f"TIMER{i}INTCLR", base + 0x0C, access="w"),
            Register(f"TIMER{i}RIS", base + 0x10, access="r", implemented=0x1),
            Register(f"TIMER{i}MIS", base + 0x14, access="r", implemented=0x1),
            Register(f"TIMER{i}BGLOAD", base + 0x18),
        )),
        Register("TIMERITCR", 0xF00, implemented=0x0, doc="integration test mode (not modelled)"),
        Register("TIMERITOP", 0xF04, access="w", implemented=0x0),
        *_id_registers({"PID0": 0x23, "PID1": 0xB8, "PID2": 0x1B, "PID4": 0x04, **_CID}),
    )

    def reset(self) -> None:
        super().reset()
        self.timers = (_Sp804Counter(), _Sp804Counter())
        self._event: Any = None

    # --- counter arithmetic ------------------------------------------------------------
    def _sync(self, t: _Sp804Counter) -> int:
        now = self.tick(t.divider)
        if t.running and t.counter.zeros_between(t.synced, now):
            t.ris = 1
        t.synced = now
        return now

    def _value(self, t: _Sp804Counter) -> int:
        if not t.running:
            return t.counter.start  # reset value 0xFFFFFFFF, whatever the size
        return t.counter.value(self.tick(t.divider)) & t.mask

    def _reanchor(self, t: _Sp804Counter, start: int) -> None:
        now = self._sync(t)
        t.counter = DownCounter(anchor=now, start=start & t.mask, reload=t.after_zero_reload(),
                                oneshot=bool(t.control & t.ONESHOT))

    def _update(self) -> None:
        """Drive the combined interrupt and schedule the next zero of an enabled counter."""
        level = any(t.ris and t.control & t.INTEN for t in self.timers)
        if self.irq is not None:
            self.host.set_irq(self.irq, level)
        if self._event is not None:
            self.host.cancel(self._event)
            self._event = None
        best: int | None = None
        for t in self.timers:
            if t.running and t.control & t.INTEN and not t.ris:
                nxt = t.counter.next_zero_after(t.synced)
                if nxt is not None:
                    cyc = self.cycle_of_tick(nxt, t.divider)
                    best = cyc if best is None else min(best, cyc)
        if best is not None:
            self._event = self.host.schedule(best, self._fire, f"{self.name} zero")

    def _fire(self) -> None:
        self._event = None
        for t in self.timers:
            self._sync(t)
        self._update()

    # --- registers -----------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        idx = 0 if offset < 0x20 else 1 if offset < 0x40 else None
        if idx is not None:
            t = self.timers[idx]
            self._sync(t)
            i = idx + 1
            self.values[f"TIMER{i}LOAD"] = t.load
            self.values[f"TIMER{i}BGLOAD"] = t.load
            self.values[f"TIMER{i}VALUE"] = self._value(t)
            self.values[f"TIMER{i}CONTROL"] = t.control
            self.values[f"TIMER{i}RIS"] = t.ris
            self.values[f"TIMER{i}MIS"] = t.ris if t.control & t.INTEN else 0
        return super().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        super().write(offset, size, value)
        idx = 0 if offset < 0x20 else 1 if offset < 0x40 else None
        if idx is None:
            return
        t, i, reg = self.timers[idx], idx + 1, offset & 0x1F
        full = self.values.get({0x00: f"TIMER{i}LOAD", 0x08: f"TIMER{i}CONTROL", 0x0C: f"TIMER{i}INTCLR",
                                0x18: f"TIMER{i}BGLOAD"}.get(reg, ""), value)
        if reg == 0x00:  # Load: the counter restarts from it at once
            t.load = full
            self._reanchor(t, full)
        elif reg == 0x18:  # BGLoad: used at the next reload only
            current = self._value(t)
            t.load = full
            self._reanchor(t, current)
        elif reg == 0x08:
            current = self._value(t)
            self._sync(t)
            t.control = full & 0xEF
            self._reanchor(t, current)
        elif reg == 0x0C:
            self._sync(t)
            t.ris = 0
        self._update()


@register_model
class Mps2FpgaIo(_Clocked):
    """MPS2 FPGA system control and I/O (AN385/AN386): LEDs, buttons, counters, MISC.

    CLK1HZ/CLK100HZ count seconds and hundredths since reset (writes set them); PSCNTR
    counts down at ``prescale_hz`` (the 25 MHz board clock) and reloads from PRESCALE one
    tick after reaching 0, when COUNTER increments (the behaviour QEMU documents).
    """

    TYPE = "mps2_fpgaio"
    SIZE = 0x1000
    REGISTERS = (
        Register("LED0", 0x00, implemented=0x3, doc="user LEDs 0-1"),
        Register("BUTTON", 0x08, access="r", implemented=0x3, doc="push buttons (never pressed)"),
        Register("CLK1HZ", 0x10),
        Register("CLK100HZ", 0x14),
        Register("COUNTER", 0x18),
        Register("PRESCALE", 0x1C),
        Register("PSCNTR", 0x20),
        Register("SWITCH", 0x28, access="r", doc="user switches (all off)"),
        Register("MISC", 0x4C, doc="SPI/CLCD control bits: stored, no effect"),
    )

    def __init__(self, config: Peripheral, host: Host) -> None:
        self._prescale_hz = int(config.options.get("prescale_hz", 25_000_000))
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self._off1 = 0  # counter value = seconds since reset + offset
        self._off100 = 0
        self._ps_anchor = 0
        self._ps_start = 0
        self._counter_start = 0
        self.leds: list[tuple[int, int]] = []  # (cycle, LED0 value) changes, for reports and tests

    def _seconds(self) -> float:
        return self.host.now_cycles() / self.host.cycles_per_second()

    def _ps_tick(self) -> int:
        return int(self.host.now_cycles() * self._prescale_hz // int(round(self.host.cycles_per_second())))

    def _prescaled(self) -> tuple[int, int]:
        """(PSCNTR, COUNTER) now, from the anchor (QEMU's resync arithmetic, in closed form)."""
        ticks = self._ps_tick() - self._ps_anchor
        p0, prescale, counter = self._ps_start, self.values["PRESCALE"], self._counter_start
        if ticks < p0 or ticks == 0:
            return p0 - ticks, counter
        if prescale == 0:
            return 0, (counter + ticks - p0) & 0xFFFFFFFF
        y = ticks - p0 + prescale
        return prescale - y % (prescale + 1), (counter + y // (prescale + 1)) & 0xFFFFFFFF

    def _resync(self) -> None:
        self._ps_start, self._counter_start = self._prescaled()
        self._ps_anchor = self._ps_tick()

    def read_CLK1HZ(self) -> int:
        return (int(self._seconds()) + self._off1) & 0xFFFFFFFF

    def write_CLK1HZ(self, value: int) -> None:
        self._off1 = value - int(self._seconds())

    def read_CLK100HZ(self) -> int:
        return (int(self._seconds() * 100) + self._off100) & 0xFFFFFFFF

    def write_CLK100HZ(self, value: int) -> None:
        self._off100 = value - int(self._seconds() * 100)

    def read_COUNTER(self) -> int:
        return self._prescaled()[1]

    def write_COUNTER(self, value: int) -> None:
        self._resync()
        self._counter_start = value

    def read_PSCNTR(self) -> int:
        return self._prescaled()[0]

    def write_PSCNTR(self, value: int) -> None:
        self._resync()
        self._ps_start = value

    def write_PRESCALE(self, value: int) -> None:
        self._resync()
        self.values["PRESCALE"] = value

    def write_LED0(self, value: int) -> None:
        self.values["LED0"] = value & 0x3
        self.leds.append((self.host.now_cycles(), value & 0x3))


@register_model
class Mps2Scc(PeripheralModel):
    """MPS2 serial configuration controller (MPS2 TRM; QEMU hw/misc/mps2-scc.c for AN385/AN386).

    Board options: ``id`` (SCC_ID: 0x41043860 for AN386), ``aid``, ``cfg4`` and ``oscclk``
    (the oscillator frequencies readable through the CFGCTRL channel, function 1).
    """

    TYPE = "mps2_scc"
    SIZE = 0x1000
    REGISTERS = (
        Register("CFG0", 0x000, implemented=0x1, doc="bit0 remap (no effect: block RAM is not remapped)"),
        Register("CFG1", 0x004, implemented=0xFF, doc="MCC LEDs"),
        Register("CFG3", 0x00C, access="r", doc="user switches (all off)"),
        Register("CFG4", 0x010, access="r", doc="board revision"),
        Register("CFGDATA_RTN", 0x0A0),
        Register("CFGDATA_OUT", 0x0A4),
        Register("CFGCTRL", 0x0A8, reset=0x100000),
        Register("CFGSTAT", 0x0AC, implemented=0x3),
        Register("DLL", 0x100, reset=0xFFFF0001),
        Register("AID", 0xFF8, access="r"),
        Register("ID", 0xFFC, access="r"),
    )
    START, WRITE = 1 << 31, 1 << 30

    def __init__(self, config: Peripheral, host: Host) -> None:
        opts = config.options
        self._id = int(opts.get("id", 0x41043860))
        self._aid = int(opts.get("aid", 0x00200008))
        self._cfg4 = int(opts.get("cfg4", 0x2))
        self._osc_reset = [int(x) for x in opts.get("oscclk", [50_000_000, 24_576_000, 25_000_000])]
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self.values["ID"], self.values["AID"], self.values["CFG4"] = self._id, self._aid, self._cfg4
        self.oscclk = list(self._osc_reset)

    def write_DLL(self, value: int) -> None:
        self.values["DLL"] = (self.values["DLL"] & 0x00FFFFFF) | (value & 0xFF000000)  # only the lock mask

    def write_CFGCTRL(self, value: int) -> None:
        self.values["CFGSTAT"] = 0
        self.values["CFGCTRL"] = value & ~(0xFF << 12 | 0xF << 26 | self.START) & 0xFFFFFFFF
        if not value & self.START:
            return
        device, function = value & 0xFFF, (value >> 20) & 0x3F
        ok = function == 1 and device < len(self.oscclk)
        if ok and value & self.WRITE:
            self.oscclk[device] = self.values["CFGDATA_OUT"]
        elif ok:
            self.values["CFGDATA_RTN"] = self.oscclk[device]
        else:
            self.unimplemented(f"{self.name}.CFGCTRL", f"configuration function {function} device "
                               f"{device}: only oscillators (function 1) are modelled")
        self.values["CFGSTAT"] = 1 if ok else 3  # DONE, plus ERROR when refused
