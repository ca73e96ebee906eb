"""STM32 basic, general-purpose and advanced-control timers counting on virtual time.

RM0090 sections 17 (TIM1/TIM8), 18 (TIM2-TIM5) and 20 (TIM6/TIM7) for the STM32F4; RM0432
sections 30-33 for the STM32L4+. The counter is never ticked: it is a function of the
timer's kernel clock (``TIMCLK1`` for APB1 timers, ``TIMCLK2`` for APB2 ones: PCLKx, times 2
when the APB prescaler divides; docs/clocks.md), counted from an anchor, so ``CNT`` is
computed when it is read and follows clock changes. What is modelled:

- up, down and center-aligned counting (``DIR``, ``CMS``), ``ARR`` and ``PSC`` with their
  preload (``ARPE``; ``PSC`` always takes effect at the next update event), the repetition
  counter (``RCR``, TIM1/TIM8), ``UDIS``, ``URS``, one-pulse mode (``OPM``: the counter stops
  at the update event);
- update and compare flags (``SR``: UIF, CC1IF-CC4IF; ``rc_w0``), their interrupts (``DIER``;
  TIM1/TIM8 on their UP and CC lines) and DMA requests (``UDE``, ``CCxDE``: ``TIMx_UP``,
  ``TIMx_CHx``), ``EGR`` (UG, CCxG), compare values with preload (``OCxPE``);
- the trigger output (``CR2.MMS``: reset, enable, update, compare pulse, OCxREF) and compare
  events for the ADC's external triggers.

Events are scheduled only when something needs them (an enabled interrupt or DMA request, a
trigger subscriber, one-pulse mode, a flag that is clear and could be polled): a free-running
timer nobody watches costs nothing, and a firmware polling ``UIF`` is fast-forwarded to the
update. Not modelled (stored, reported when set): slave modes (``SMCR``), input capture,
output pins, break and dead time, DMA bursts (``DCR``/``DMAR``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from simcore.clock import DomainClock
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel
from simcore.peripherals.stm32.signals import DmaRequester, TriggerSource

APB2_BASE = 0x40010000  # RM0090 Table 1 / RM0432 Table 2: APB2 starts here on both parts

# CR1 (RM0090 18.4.1)
CEN, UDIS, URS, OPM, DIR = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4
CMS_SHIFT, ARPE = 5, 1 << 7
# SR / DIER bits
UIF, TIF, COMIF, BIF = 1, 1 << 6, 1 << 5, 1 << 7
UDE, COMDE, TDE = 1 << 8, 1 << 13, 1 << 14
CCDE_ALL = 0xF << 9  # CC1DE..CC4DE, DIER bits 12:9
DMA_REQUESTS = UDE | CCDE_ALL | COMDE | TDE  # every DIER DMA-request enable (RM0090 17.4.4)
CR1_OFFSET, CNT_OFFSET = 0x00, 0x24  # the same in every timer (RM0090 17.4, 18.4, 20.4)


def _ccif(x: int) -> int:
    return 1 << x  # CC1IF is bit 1 ... CC4IF bit 4 (SR, DIER CCxIE)


def _ccde(x: int) -> int:
    return 1 << (8 + x)  # CC1DE is bit 9 ... CC4DE bit 12


class Stm32Timer(DmaRequester, TriggerSource, PeripheralModel):
    """A timer counting on its kernel clock (see the module docstring). Subclasses name the registers."""

    SVD: ClassVar[str | tuple[str, ...]] = ("TIM6", "TIM7")
    PARTS: ClassVar[tuple[str, ...]] = ("stm32f407vg", "stm32l4r5zi")
    CHANNELS: ClassVar[int] = 0
    OPTIONS = {"clock": "the kernel clock (default TIMCLK1 for APB1 timers, TIMCLK2 for APB2 ones)"}

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._subscribers = {}
        self._event: Any = None
        self._running = False
        self._irq_levels: dict[int, bool] = {}
        self._dma_pending: set[str] = set()
        super().__init__(config, host, registers)
        self.periph = self.svd_name  # "TIM2"
        self.width_mask = 0xFFFFFFFF if self.periph in ("TIM2", "TIM5") else 0xFFFF
        default = "TIMCLK2" if self.base >= APB2_BASE else "TIMCLK1"
        self.kclk = DomainClock(host, str(config.options.get("clock", default)))
        self._irq_map = self._interrupt_lines()
        self.updates = 0  # update events (for reports and tests)

    def _interrupt_lines(self) -> dict[int, int]:
        """NVIC line -> the SR bits that assert it (TIM1/TIM8 have four lines, the others one)."""
        ints = self.svd.interrupts if self.svd is not None else ()
        if len(ints) <= 1:
            irq = ints[0][1] if ints else self.irq
            return {irq: 0xFF} if irq is not None else {}
        out: dict[int, int] = {}
        for name, irq in ints:
            tail = name[len(self.periph):] if name.startswith(self.periph) else name
            if "BRK" in tail:
                out[irq] = out.get(irq, 0) | BIF
            elif "TRG" in tail:
                out[irq] = out.get(irq, 0) | TIF | COMIF
            elif "_UP" in tail:
                out[irq] = out.get(irq, 0) | UIF
            elif "_CC" in tail:
                out[irq] = out.get(irq, 0) | 0x1E
        return out

    def reset(self) -> None:
        if getattr(self, "_event", None) is not None:
            self.kclk.cancel(self._event)
            self._event = None
        super().reset()
        self._running = False
        self._dma_pending = set()
        self.psc = 0  # active (shadow) prescaler
        self.arr = self.values.get("ARR", 0xFFFF)  # active auto-reload
        self.ccr = [0] * 5  # active compare values, index 1-4
        self.rcr_left = 0
        self.k0 = 0  # kernel tick of the anchor (prescaler counter 0 there)
        self.p0 = 0  # position in the counting sequence at the anchor
        if hasattr(self, "_irq_map"):
            self._irqs()

    # --- helpers --------------------------------------------------------------------------
    def _cr1(self) -> int:
        return self.values["CR1"]

    def _cms(self) -> int:
        return self._cr1() >> CMS_SHIFT & 3

    def _period(self) -> int:
        """Counter ticks in one cycle of the counting sequence."""
        a = self.arr
        return max(2 * a, 1) if self._cms() else a + 1

    def _value_at(self, pos: int) -> int:
        a = self.arr
        if self._cms():
            return pos if pos <= a else 2 * a - pos
        return a - pos if self._cr1() & DIR else pos

    def _pos_of(self, value: int) -> int:
        a = self.arr
        if self._cms():
            down = bool(self._cr1() & DIR)
            return (2 * a - value) % self._period() if down and 0 < value < a else min(value, a)
        if self._cr1() & DIR:
            return (a - value) % (a + 1) if value <= a else 0
        return value if value <= a else value  # above ARR: counts on to the top of the counter (see _events)

    def _events_in_cycle(self) -> list[tuple[int, str]]:
        """(position, kind) of what happens on arriving at each position: "UEV" and "CCx" compare matches."""
        a = self.arr
        out: list[tuple[int, str]] = []
        if self._cms():
            out += [(0, "UEV"), (a % self._period(), "UEV")]
            mode = self._cms()
            for x in range(1, self.CHANNELS + 1):
                c = self.ccr[x]
                if 0 < c < a:
                    if mode & 2:
                        out.append((c, f"CC{x}"))  # counting up
                    if mode & 1:
                        out.append((2 * a - c, f"CC{x}"))  # counting down
                elif c == a or c == 0:
                    out.append((c if c == 0 else a, f"CC{x}"))
        else:
            out.append((0, "UEV"))
            down = bool(self._cr1() & DIR)
            for x in range(1, self.CHANNELS + 1):
                c = self.ccr[x]
                if c <= a:
                    out.append(((a - c) if down else c, f"CC{x}"))
        return out

    def _next_events(self) -> list[tuple[int, str]]:
        """Counter ticks after the anchor (1..period) of each event in the next cycle, in order."""
        period = self._period()
        out = []
        if not self._cms() and not self._cr1() & DIR and self.p0 > self.arr:
            # above ARR (ARR lowered without preload): on to the top of the counter, then 0 with no update
            top = self.width_mask
            return [(top - self.p0 + 1, "WRAP")]
        for pos, kind in self._events_in_cycle():
            d = (pos - self.p0) % period
            out.append((d or period, kind))
        out.sort(key=lambda e: (e[0], e[1] != "UEV"))
        return out

    def _needs(self, kind: str) -> bool:
        """Does an event of ``kind`` need to happen at its exact time (interrupt, DMA, trigger, poll, OPM)?"""
        sr, dier = self.values["SR"], self.values.get("DIER", 0)
        if kind == "WRAP":
            return True
        if kind == "UEV":
            if self._cr1() & UDIS:
                return self._preloads_pending()
            mms = self.values.get("CR2", 0) >> 4 & 7
            return bool(dier & (UIF | UDE) or self._cr1() & OPM or not sr & UIF or self._preloads_pending()
                        or self.has_subscribers("UP") or (mms == 2 and self.has_subscribers("TRGO")))
        x = int(kind[2:])
        mms = self.values.get("CR2", 0) >> 4 & 7
        return bool(dier & (_ccif(x) | _ccde(x)) or not sr & _ccif(x) or self.has_subscribers(kind)
                    or (self.has_subscribers("TRGO") and (mms == 3 and x == 1 or mms == 3 + x)))

    def _preloads_pending(self) -> bool:
        if self.psc != self.values["PSC"] or (self.rcr_value() and self.rcr_left):
            return True
        if self._cr1() & ARPE and self.arr != self.values["ARR"]:
            return True
        return any(self.ccr[x] != self.values.get(f"CCR{x}", 0) for x in range(1, self.CHANNELS + 1))

    def rcr_value(self) -> int:
        return 0

    # --- running ----------------------------------------------------------------------------
    def _now_k(self) -> int:
        return self.kclk.ticks()

    def _advance(self, to_k: int) -> None:
        """Process every event up to kernel tick ``to_k`` (flags, interrupts, DMA, triggers, preloads)."""
        guard = 0
        while self._running:
            events = self._next_events()
            n, kind = events[0]
            step = self.psc + 1
            k_ev = self.k0 + n * step
            if k_ev > to_k:
                return
            guard += 1
            if guard > 64 and not self._needs_each():
                self._skip(to_k)
                guard = 0
                continue
            # every event at the same counter tick happens together
            same = [e[1] for e in events if e[0] == n]
            period = self._period()
            self.k0 = k_ev
            self.p0 = (self.p0 + n) % period if kind != "WRAP" else 0
            for kind in same:
                if kind == "UEV":
                    self._overflow()
                elif kind.startswith("CC"):
                    self._compare(int(kind[2:]))
                if not self._running:
                    break

    def _needs_each(self) -> bool:
        """Whether each event has a side effect beyond setting flags (then none may be skipped)."""
        dier = self.values.get("DIER", 0)
        return bool(dier & 0x7FFF or self._cr1() & OPM or self._subscribers and any(self._subscribers.values())
                    or self._preloads_pending())

    def _skip(self, to_k: int) -> None:
        """Jump whole cycles with no side effects: the flags they would set are set once."""
        step = self.psc + 1
        cycle = self._period() * (self.rcr_value() + 1) * step
        m = (to_k - self.k0) // cycle - 1
        if m <= 0:
            return
        self.k0 += m * cycle
        sr = self.values["SR"]
        for _pos, kind in self._events_in_cycle():
            if kind == "UEV" and not self._cr1() & UDIS:
                sr |= UIF
                self.updates += m
            elif kind.startswith("CC"):
                sr |= _ccif(int(kind[2:]))
        self.values["SR"] = sr

    def _overflow(self) -> None:
        """Overflow or underflow: an update event unless the repetition counter is still counting."""
        if self.rcr_value():
            if self.rcr_left > 0:
                self.rcr_left -= 1
                return
        if self._cr1() & UDIS:
            return
        self._update_event(from_ug=False)

    def _update_event(self, from_ug: bool) -> None:
        """UEV (RM0090 18.3.2): preloads to the active registers, UIF, interrupt, DMA request, TRGO, OPM."""
        self.updates += 1
        self.psc = self.values["PSC"]
        if self._cr1() & ARPE or from_ug:
            self.arr = self.values["ARR"]
        for x in range(1, self.CHANNELS + 1):
            self.ccr[x] = self.values.get(f"CCR{x}", 0)
        self.rcr_left = self.rcr_value()
        if not from_ug and self._cms() and self.p0:
            self.p0 = min(self.p0, self.arr)
        set_flag = not (from_ug and self._cr1() & URS)
        if set_flag:
            self.values["SR"] |= UIF
            if self.values.get("DIER", 0) & UDE:
                self._raise_dma(f"{self.periph}_UP")
            self._irqs()
        mms = self.values.get("CR2", 0) >> 4 & 7
        self.fire_trigger("UP")
        if mms == 2 or (from_ug and mms == 0):
            self.fire_trigger("TRGO")
        if self._cr1() & OPM and not from_ug:
            self.values["CR1"] &= ~CEN
            self._running = False
            self.values["CNT"] = self._value_at(self.p0)

    def _compare(self, x: int) -> None:
        self.values["SR"] |= _ccif(x)
        if self.values.get("DIER", 0) & _ccde(x):
            self._raise_dma(f"{self.periph}_CH{x}")
        self._irqs()
        self.fire_trigger(f"CC{x}")
        mms = self.values.get("CR2", 0) >> 4 & 7
        if (mms == 3 and x == 1) or mms == 3 + x:
            self.fire_trigger("TRGO")

    def _raise_dma(self, request: str) -> None:
        self._dma_pending.add(request)
        self.dma_request(request)

    def dma_pending(self, request: str) -> bool:
        return request in self._dma_pending

    def dma_ack(self, request: str) -> None:
        self._dma_pending.discard(request)

    def _irqs(self) -> None:
        flags = self.values["SR"] & self.values.get("DIER", 0) & 0xFF
        for irq, bits in self._irq_map.items():
            level = bool(flags & bits)
            if self._irq_levels.get(irq, False) != level:
                self._irq_levels[irq] = level
                self.host.set_irq(irq, level)

    def _reschedule(self) -> None:
        if self._event is not None:
            self.kclk.cancel(self._event)
            self._event = None
        if not self._running:
            return
        step = self.psc + 1
        # the first event that needs its exact time, within one repetition of the counting sequence
        pos, base, rcr_left = self.p0, 0, self.rcr_left
        limit = 8 * (self.CHANNELS + 2) * (self.rcr_value() + 1)
        for _ in range(limit):
            events = self._next_events_from(pos)
            n = events[0][0]
            for m, kind in events:
                if m != n:
                    break
                effective = True
                if kind == "UEV" and self.rcr_value():
                    effective = rcr_left == 0
                    rcr_left = rcr_left - 1 if rcr_left > 0 else self.rcr_value()
                if effective and self._needs(kind):
                    self._event = self.kclk.schedule_tick(self.k0 + (base + n) * step, self._on_event,
                                                          f"{self.periph} {kind}", self._event_raises)
                    return
            base += n
            pos = 0 if events[0][1] == "WRAP" else (pos + n) % self._period()

    def _event_raises(self) -> frozenset[int] | None:
        """The interrupt lines running the timer's events could raise now: those whose ``DIER`` interrupt bits are
        set (an empty set when none is); None (anything) while a DMA request or a trigger subscriber (an ADC, another
        timer) is fed. For a sleeping core's "nothing can wake it" (SystemBlock.on_halt): firmware that enables
        ``UIE`` but not the timer's NVIC line, then waits in wfi, stops at once instead of after a million updates."""
        dier = self.values.get("DIER", 0)
        if dier & DMA_REQUESTS or any(self._subscribers.values()):
            return None
        return frozenset(irq for irq, bits in self._irq_map.items() if dier & bits & 0xFF)

    def _next_events_from(self, p0: int) -> list[tuple[int, str]]:
        saved = self.p0
        self.p0 = p0
        try:
            return self._next_events()
        finally:
            self.p0 = saved

    def _on_event(self) -> None:
        self._event = None
        self._advance(self._now_k())
        self._reschedule()

    def triggers_changed(self) -> None:
        if getattr(self, "_running", False):
            self._advance(self._now_k())
            self._reschedule()

    def _start(self) -> None:
        """CEN set: count from CNT, the prescaler counter at 0 (RM0090 18.3.1)."""
        self._running = True
        self.k0 = self._now_k()
        self.p0 = self._pos_of(self.values["CNT"] & self.width_mask)
        if (self.values.get("CR2", 0) >> 4 & 7) == 1:
            self.fire_trigger("TRGO")

    def _stop(self) -> None:
        self._advance(self._now_k())
        self.values["CNT"] = self._count_now()
        self._running = False

    def _count_now(self) -> int:
        if not self._running:
            return self.values["CNT"] & self.width_mask
        now = self._now_k()
        self._advance(now)
        if not self._running:
            return self.values["CNT"] & self.width_mask
        n = (now - self.k0) // (self.psc + 1)
        pos = self.p0 + n
        if self.p0 > self.arr and not self._cms() and not self._cr1() & DIR:
            return pos & self.width_mask  # counting on above ARR (see _next_events)
        return self._value_at(pos % self._period())

    # --- the polling-loop watch (simcore/poll.py) -----------------------------------------------
    def poll_hint(self, offset: int) -> tuple[bool, int | None]:
        """What may change the register at ``offset`` while a loop polls it: SR's flags are set at events
        (an event is planned for every flag that is clear: ``_needs``), so ``while (!(TIMx->SR & UIF));``
        jumps to the update; the counter (CNT, and CR1.DIR in center-aligned mode) moves at each counter
        tick, the first cycle of the next one is given; every other register changes only when written."""
        if offset in (CR1_OFFSET, CNT_OFFSET) and self._running:
            return True, self._next_count_cycle()
        return True, None

    def _next_count_cycle(self) -> int | None:
        """The first core cycle at which the counter has moved on from its value now (None: the clock is off)."""
        step = self.psc + 1
        now = self._now_k()
        k = self.k0 + ((now - self.k0) // step + 1) * step
        fs = self.kclk.fs_of_tick(k)
        return None if fs is None else self.host.cycle_at_fs(fs)

    # --- registers ----------------------------------------------------------------------------
    def write_CR1(self, value: int) -> None:
        old = self.values["CR1"]
        if self._running:
            self._advance(self._now_k())
        if self._running and (value ^ old) & (DIR | 3 << CMS_SHIFT):
            cnt = self._count_now()
            self.values["CR1"] = value
            self.k0 = self._now_k()
            self.p0 = self._pos_of(cnt)
        else:
            self.values["CR1"] = value
        if value & CEN and not old & CEN:
            self._start()
        elif old & CEN and not value & CEN:
            self.values["CR1"] = old
            self._stop()
            self.values["CR1"] = value
        self._reschedule()

    def read_CR1(self) -> int:
        value = self.values["CR1"]
        if self._cms() and self._running:  # DIR is read-only in center-aligned mode: the direction now
            pos = self._pos_now()
            value = (value & ~DIR) | (DIR if pos >= self.arr else 0)
        return value

    def _pos_now(self) -> int:
        now = self._now_k()
        self._advance(now)
        return (self.p0 + (now - self.k0) // (self.psc + 1)) % self._period()

    def write_DIER(self, value: int) -> None:
        if self._running:
            self._advance(self._now_k())
        self.values["DIER"] = value
        if value & DMA_REQUESTS & ~(UDE | CCDE_ALL):
            self.unimplemented(self.where("DIER"), "DMA requests other than update and compare (COMDE, TDE) are not "
                               "modelled")
        self._irqs()
        self._reschedule()

    def read_SR(self) -> int:
        if self._running:
            self._advance(self._now_k())
        return self.values["SR"]

    def write_SR(self, value: int) -> None:
        if self._running:
            self._advance(self._now_k())
        self.values["SR"] &= value | ~0x1FFF  # rc_w0: a 0 written clears, a 1 leaves the flag
        self._irqs()
        self._reschedule()

    def write_EGR(self, value: int) -> None:
        if self._running:
            self._advance(self._now_k())
        if value & 1:  # UG: reinitialise the counter and update the registers
            self.rcr_left = self.rcr_value()
            self._update_event(from_ug=True)
            start = self.arr if (self._cr1() & DIR and not self._cms()) else 0
            self.values["CNT"] = start
            self.k0 = self._now_k()
            self.p0 = self._pos_of(start)
        for x in range(1, self.CHANNELS + 1):
            if value & _ccif(x):
                self._compare(x)
        if value & 0xE0:
            self.unimplemented(self.where("EGR"), "COMG, TG and BG (commutation, trigger, break) are not modelled")
        self._reschedule()

    def read_EGR(self) -> int:
        return 0

    def read_CNT(self) -> int:
        return self._count_now()

    def write_CNT(self, value: int) -> None:
        value &= self.width_mask
        self.values["CNT"] = value
        if self._running:
            self._advance(self._now_k())
            self.k0 = self._now_k()
            self.p0 = self._pos_of(value)
            self._reschedule()

    def write_PSC(self, value: int) -> None:
        self.values["PSC"] = value & 0xFFFF  # takes effect at the next update event
        self._reschedule()

    def write_ARR(self, value: int) -> None:
        value &= self.width_mask
        if self._running:
            self._advance(self._now_k())
        if self._cr1() & ARPE:
            self.values["ARR"] = value
        else:
            cnt = self._count_now()
            self.values["ARR"] = value
            self.arr = value
            if self._running:
                self.k0 = self._now_k()
                self.p0 = self._pos_of(cnt)
        self._reschedule()

    def _write_ccr(self, x: int, value: int) -> None:
        value &= self.width_mask
        if self._running:
            self._advance(self._now_k())
        self.values[f"CCR{x}"] = value
        ccmr = self.values.get("CCMR1_Output" if x <= 2 else "CCMR2_Output", 0)
        preload = ccmr >> (3 if x % 2 else 11) & 1
        if not preload:
            self.ccr[x] = value
        self._reschedule()


@register_model
class Stm32BasicTimer(Stm32Timer):
    """TIM6/TIM7: up-counting with update interrupt and DMA request (RM0090 section 20)."""

    TYPE = "stm32_basic_timer"
    PLAIN = ("CR2",)


class _Channels:
    """Compare-register handlers of the general-purpose and advanced timers (4 channels)."""

    def write_CCR1(self, value: int) -> None:
        self._write_ccr(1, value)  # type: ignore[attr-defined]

    def write_CCR2(self, value: int) -> None:
        self._write_ccr(2, value)  # type: ignore[attr-defined]

    def write_CCR3(self, value: int) -> None:
        self._write_ccr(3, value)  # type: ignore[attr-defined]

    def write_CCR4(self, value: int) -> None:
        self._write_ccr(4, value)  # type: ignore[attr-defined]

    def write_SMCR(self, value: int) -> None:
        self.values["SMCR"] = value  # type: ignore[attr-defined]
        if value & 0x10007:
            self.unimplemented(self.where("SMCR"), "slave modes (SMS) are not modelled: the counter "  # type: ignore
                               "runs on its internal clock")


@register_model
class Stm32GeneralTimer(_Channels, Stm32Timer):
    """TIM2-TIM5: four channels, up/down/center-aligned (RM0090 section 18, RM0432 section 31)."""

    TYPE = "stm32_timer"
    SVD = ("TIM2", "TIM3", "TIM4", "TIM5")
    PLAIN = ("CR2", "CCMR1_Output", "CCMR2_Output", "CCER")
    CHANNELS = 4


@register_model
class Stm32AdvancedTimer(_Channels, Stm32Timer):
    """TIM1/TIM8 counting: as TIM2-5 plus the repetition counter (RM0090 section 17, RM0432 section 30)."""

    TYPE = "stm32_advanced_timer"
    SVD = ("TIM1", "TIM8")
    PLAIN = ("CR2", "CCMR1_Output", "CCMR2_Output", "CCER", "BDTR", "RCR")
    CHANNELS = 4

    def rcr_value(self) -> int:
        return self.values["RCR"] & 0xFF
