"""simcore's ADC: conversions triggered by its own timer, read from DR or by circular DMA.

The conversion rate is set like on a real part from a timer: ``cpu_hz / ((TIM_PSC + 1) *
(TIM_ARR + 1))``, so firmware that derives the period from its clock keeps the same rate at
any MHz. Each conversion turns the recording's value (volts, or raw counts) into an unsigned
RES-bit code against VREF_MV. Events: per conversion only when the EOC interrupt is enabled
(then a conversion that completes while EOC is still set is an overrun), per DMA half-buffer
with DMA, and at threshold crossings for the analog watchdog (found with numpy, ahead of time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simcore.board import Peripheral
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.base import Host
from simcore.peripherals.held import HeldRead
from simcore.peripherals.sensors.common import RingDma, SampleClock, SensorModel
from simcore.registers import Field, Register
from simcore.runtypes import ChainPlan

if TYPE_CHECKING:
    import numpy as np

AWD_SCAN = 4096  # samples examined per look-ahead step of the analog watchdog


@register_model
class SimcoreAdc(SensorModel):
    """Timer-triggered ADC with data register, EOC/overrun, circular DMA and an analog watchdog."""

    TYPE = "simcore_adc"
    SIZE = 0x100
    ID_VALUE = 0x41444331  # "ADC1"
    REGISTERS = (
        Register("CTRL", 0x00, implemented=0x7, doc="EN starts the timer; DMA streams into a ring; AWDEN", fields=(
            Field("EN", 0),
            Field("DMA", 1),
            Field("AWDEN", 2, doc="analog watchdog on"),
        )),
        Register("STATUS", 0x04, implemented=0x3F, doc="EOC computed; OVR, HT, TC, AWD, END write 1 to clear", fields=(
            Field("EOC", 0, doc="a conversion newer than the last DR read"),
            Field("OVR", 1, doc="a conversion completed while EOC was set (EOC interrupt mode)"),
            Field("HT", 2, doc="first half of the DMA ring filled"),
            Field("TC", 3, doc="second half of the DMA ring filled"),
            Field("AWD", 4, doc="the input left the AWD_LOW..AWD_HIGH window"),
            Field("END", 5, doc="the recording ended (end rule stop)"),
        )),
        Register("INTEN", 0x08, implemented=0x3F, doc="interrupt enables, same bits as STATUS", fields=(
            Field("EOC", 0),
            Field("OVR", 1),
            Field("HT", 2),
            Field("TC", 3),
            Field("AWD", 4),
            Field("END", 5),
        )),
        Register("TIM_PSC", 0x0C, implemented=0xFFFF, doc="timer prescaler: timer clock = CPU clock / (PSC + 1)"),
        Register("TIM_ARR", 0x10, doc="timer period: one conversion every ARR + 1 timer ticks"),
        Register("DR", 0x14, access="r", doc="latest conversion; reading clears EOC"),
        Register("DMA_ADDR", 0x18),
        Register("DMA_LEN", 0x1C, doc="ring length in 16-bit samples, even (two halves)"),
        Register("RES", 0x20, reset=12, implemented=0x1F, doc="resolution in bits, 8..16"),
        Register("AWD_LOW", 0x24, implemented=0xFFFF, doc="watchdog window low threshold (code)"),
        Register("AWD_HIGH", 0x28, reset=0xFFFF, implemented=0xFFFF, doc="watchdog window high threshold (code)"),
        Register("OVERRUN_COUNT", 0x2C, access="r"),
        Register("SAMPLE_COUNT", 0x30, access="r", doc="conversions since enable"),
        Register("VREF_MV", 0x34, reset=3300, implemented=0xFFFF, doc="reference voltage in millivolts"),
        Register("DMA_POS", 0x38, access="r", doc="samples the DMA has reached in the ring, from the clock"),
        Register("ID", 0x3C, access="r", reset=ID_VALUE, doc="reads 'ADC1'"),
    )
    OPTIONS = {
        "input_units": "'V' (volts, converted against VREF_MV) or 'counts' (raw codes); default from the recording",
        "channel": "channel of the recording to convert (name or index, default 0)",
    }
    EN, DMA, AWDEN = 1, 2, 4
    EOC, OVR, HT, TC, AWD, END = 1, 2, 4, 8, 16, 32
    W1C = OVR | HT | TC | AWD | END  # the STATUS bits a written 1 clears
    STATUS_IN_C = True  # STATUS reads and flag clears served in C while they are static (tests turn it off)

    def __init__(self, config: Peripheral, host: Host) -> None:
        self.clock: SampleClock | None = None
        self.ring = RingDma(self, self.codes, "<u2", self._codes_key)
        self._held = HeldRead(self, 0x04)  # STATUS, while the register file holds it (_hold)
        self._clear_slot: int | None = None  # the C slot of STATUS's flag clears (SystemBlock.event_clear_slot)
        self._chain_cache: tuple[tuple[object, ...], ChainPlan | None] | None = None  # dma_chain's last (key, plan)
        self._writes = 0  # register writes through Python
        super().__init__(config, host)

    def reset(self) -> None:
        super().reset()
        self.cancel_all_events()
        self.ring.running = False
        self.ring.flags = 0
        self._flags = 0
        self._running = False
        self._first = 0
        self._last_read = -1
        self._overruns = 0
        self._awd_next = 0
        self._awd_cache: tuple[tuple[int, ...], tuple[int | None, int]] | None = None
        self._hold()

    # --- conversion ----------------------------------------------------------------------
    def codes(self, values: np.ndarray) -> np.ndarray:
        """Unsigned RES-bit codes for recording rows ``values`` (vectorized)."""
        import numpy as np

        binding = self.require_source()
        src = binding.source
        ch: Any = self.option("channel", 0)
        idx = ch if isinstance(ch, int) else src.channel_index(str(ch))
        units = str(self.option("input_units", "V" if src.units[idx] == "V" else "counts"))
        if units not in ("V", "counts"):
            raise BadInputError(f"peripheral {self.name}: option input_units = {units!r}; use 'V' or 'counts'")
        bits = min(max(self.values["RES"], 8), 16)
        top = (1 << bits) - 1
        x = values[:, idx].astype(np.float64)
        if units == "V":
            x = x / (max(self.values["VREF_MV"], 1) / 1000.0) * top
        return np.clip(np.rint(x), 0, top).astype(np.uint16)

    def _codes_key(self) -> object:
        """What :meth:`codes` depends on besides the samples: the recording, RES and VREF_MV."""
        return self.binding.source if self.binding else None, self.values["RES"], self.values["VREF_MV"]

    def rate_hz(self) -> float:
        ticks = (self.values["TIM_PSC"] + 1) * (self.values["TIM_ARR"] + 1)
        return self.host.cycles_per_second() / ticks

    # --- control -------------------------------------------------------------------------
    def write_CTRL(self, value: int) -> None:
        was = self.values["CTRL"]
        self.values["CTRL"] = value
        if value & self.EN and not was & self.EN:
            self._start()
        elif was & self.EN and not value & self.EN:
            self._running = False
            self.ring.stop()
            self.cancel_all_events()
        elif value & self.EN and (value ^ was) & self.AWDEN:
            self._awd_next = self._latest() + 1
            self._plan()
        self.update_irq()

    def _start(self) -> None:
        binding = self.require_source()
        rate = self.rate_hz()
        binding.prepare(rate, "conversion rate (CPU clock / ((TIM_PSC + 1) * (TIM_ARR + 1)))")
        self.clock = SampleClock(rate, self.host.cycles_per_second())
        self._first = self.clock.count_by(self.now())
        binding.start(self._first)
        self._last_read = self._first - 1
        self._awd_next = self._first
        self._awd_cache = None
        self._running = True
        if self.values["CTRL"] & self.DMA:
            length = self.values["DMA_LEN"]
            if length < 2 or length % 2:
                raise BadInputError(f"peripheral {self.name}: DMA enabled with DMA_LEN = {length} (need an even >= 2)")
            self.ring.start(self.clock, binding, self.values["DMA_ADDR"], length, self._first)
        self._plan()

    def _limit(self) -> int | None:
        return self.binding.limit() if self.binding else None

    def _latest(self) -> int:
        if self.clock is None or not self._running:
            return self._last_read
        k = self.clock.count_by(self.now()) - 1
        limit = self._limit()
        if limit is not None and k >= limit - 1:
            k = limit - 1
            if not self._flags & self.END:
                self._flags |= self.END
                self.stats_.record("end_of_data", self.clock.arrival(limit - 1))
        return k

    def _next_crossing(self) -> tuple[int | None, int]:
        """First sample from ``_awd_next`` that leaves the window (entering it from inside), and scan end."""
        key = (
            self._awd_next,
            self.values["AWD_LOW"],
            self.values["AWD_HIGH"],
            self.values["RES"],
            self.values["VREF_MV"],
        )
        if self._awd_cache is not None and self._awd_cache[0] == key:
            return self._awd_cache[1]
        result = self._scan_crossing()
        self._awd_cache = (key, result)
        return result

    def _scan_crossing(self) -> tuple[int | None, int]:
        import numpy as np

        assert self.binding is not None
        k0 = self._awd_next
        limit = self._limit()
        k1 = k0 + AWD_SCAN if limit is None else min(k0 + AWD_SCAN, limit)
        if k1 <= k0:
            return None, k0
        lo, hi = self.values["AWD_LOW"], self.values["AWD_HIGH"]
        prev = self.codes(self.binding.fetch(k0 - 1, k0)) if k0 > self._first else np.zeros(0, np.uint16)
        c = self.codes(self.binding.fetch(k0, k1))
        outside = (c < lo) | (c > hi)
        before = np.concatenate([[bool(((prev < lo) | (prev > hi))[0]) if len(prev) else False], outside[:-1]])
        hits = np.flatnonzero(outside & ~before)
        return (k0 + int(hits[0]) if len(hits) else None), k0 + len(c)

    def _plan(self) -> None:
        if self.clock is None or not self._running:
            return
        times: list[int] = []
        limit = self._limit()
        if self.values["INTEN"] & (self.EOC | self.OVR) and not self.values["CTRL"] & self.DMA:
            nxt = self.clock.count_by(self.now())
            if limit is None or nxt < limit:
                times.append(self.clock.arrival(nxt))
        if self.values["CTRL"] & self.AWDEN:
            hit, scanned = self._next_crossing()
            if hit is not None:
                times.append(self.clock.arrival(hit))
            elif limit is None or scanned < limit:
                times.append(self.clock.arrival(scanned - 1))
        if limit is not None and not self._flags & self.END:
            times.append(self.clock.arrival(max(limit - 1, 0)))
        if times:
            self.at(min(times), "conv", self._on_event)
        else:
            self.cancel_event("conv")

    def _on_event(self) -> None:
        assert self.clock is not None
        k = self._latest()
        if self.values["INTEN"] & (self.EOC | self.OVR) and not self.values["CTRL"] & self.DMA:
            if k - 1 > self._last_read and k >= self._first:
                # conversion k completed while conversion k-1 was still unread (EOC set)
                self._overruns += 1
                self._flags |= self.OVR
                self.stats_.record("overruns", self.now(), what="conversion completed while EOC was set")
                self._last_read = k - 1  # one episode per unread conversion
        if self.values["CTRL"] & self.AWDEN:
            while True:
                hit, scanned = self._next_crossing()
                if hit is not None and hit <= k:
                    self._flags |= self.AWD
                    self.stats_.record("threshold_crossings", self.clock.arrival(hit), sample=hit - self._first)
                    self._awd_next = hit + 1
                    continue
                self._awd_next = min(scanned, k + 1)
                break
        self._plan()
        self.update_irq()

    # --- registers -----------------------------------------------------------------------
    def read_DR(self) -> int:
        k = self._latest()
        if k < self._first:
            return 0
        self._last_read = k
        value = int(self.codes(self.require_source().fetch(k, k + 1))[0])
        self.update_irq()
        return value

    def _status(self) -> int:
        s = self._flags | (self.ring.flags << 2)
        if self._running and not self.values["CTRL"] & self.DMA and self._latest() > self._last_read:
            s |= self.EOC
        return s

    def read_STATUS(self) -> int:
        value = self._status()
        if self.STATUS_IN_C and self._held.entry is None and self._static():
            self._held.start(value)
            self._hold()
        return value

    def write_STATUS(self, value: int) -> None:
        self._write_status(value, self.now())
        if self._clear_slot is None and self._held.entry is not None:
            system = getattr(self.host, "system", None)
            slot = getattr(system, "event_clear_slot", None)
            if slot is not None:
                self._clear_slot = slot(self, 0, self.base + 0x04, self._held.store, self.W1C)
                self._hold()

    def _write_status(self, value: int, now: int) -> None:
        self._clear_status(value, now)
        self.update_irq()

    def _clear_status(self, value: int, now: int) -> None:
        """The flags a STATUS write of ``value`` at cycle ``now`` clears (the line is the caller's)."""
        self.ring.clear((value >> 2) & 0x3, now)
        self._flags &= ~(value & (self.OVR | self.AWD | self.END))

    def w1c_cleared_in_c(self, _index: int, value: int, cycle: int) -> None:
        """C served the firmware's STATUS write ``value`` at ``cycle`` (SystemBlock.sync_native, hotpath.c hp_ack):
        what the model's own write does then (the flags, the service latency from that cycle, the line)."""
        self._write_status(value, cycle)

    # --- DMA halves delivered in C (hotpath.c hp_chain_wake) -------------------------------
    def dma_chain(self) -> ChainPlan | None:
        """The next DMA halves as C delivers them at the firmware's wfis (Machine._plan_chain): while STATUS is
        held by the register file with its clear slot (the firmware read and cleared it once through Python),
        HT and TC both raise the line (INTEN) and no other flag is set. Each half sets its flag alone (C checks
        STATUS all clear at the wfi: the firmware has cleared the other half's, so no overrun)."""
        # (the machine arms again at every access through Python: firmware that writes the ITM per window does so
        # ten times a half) the plan holds while the ring has delivered no half, the firmware has written no
        # register through Python (CTRL, INTEN, RES, VREF_MV, ...) and no flag of the model's own came
        ring = self.ring
        key = (ring.done, ring.running, ring.k0, self._writes, self._flags, self._held.entry, self._clear_slot,
               self._codes_key())
        cache = self._chain_cache
        if cache is not None and cache[0] == key:
            return cache[1]
        plan = None
        if not (self._held.entry is None or self._clear_slot is None or not self._static() or self._flags
                or self.irq is None or self.values["INTEN"] & (self.HT | self.TC) != self.HT | self.TC):
            plan = self._plan_halves(ring)
        self._chain_cache = (key, plan)
        return plan

    def _plan_halves(self, ring: RingDma) -> ChainPlan | None:
        """dma_chain's plan from the ring's next halves (each the flag of its half of the ring)."""
        from simcore.abi import CH_MAX

        got = ring.chain_halves(CH_MAX)
        if got is None or self.irq is None or self._clear_slot is None:
            return None
        cycles, which, dsts, data = got
        return ChainPlan(self._held.store, self.irq, self._clear_slot, tuple(cycles),
                         tuple(self.TC if w else self.HT for w in which), tuple(dsts), data, self._settle_chain)

    def write(self, offset: int, size: int, value: int) -> None:
        """A register write through Python (counted: dma_chain's plan holds until the next)."""
        self._writes += 1
        super().write(offset, size, value)

    def _settle_chain(self, halves: list[int], clears: list[tuple[int, int]]) -> None:
        """What the halves C delivered and the STATUS clears it served did to the model (ChainPlan.settle)."""
        self.ring.settle_chain(halves, clears, self._clear_status)
        self._held.value = None  # C changed the register file's STATUS: _hold puts the model's value back
        self.update_irq()

    # --- STATUS served in C ----------------------------------------------------------------
    def _static(self) -> bool:
        """STATUS changes only at the model's events and the firmware's accesses: not while EOC is computed from
        the clock (conversions read from DR, without DMA)."""
        return not (self._running and not self.values["CTRL"] & self.DMA)

    def update_irq(self) -> None:
        super().update_irq()
        self._hold()

    def _hold(self) -> None:
        """Give the register file STATUS's value now (its reads go to the model while it is not static), and arm
        the C slot of its flag clears while its interrupt line is high: a write clearing every flag that holds the
        line is then served in C (hotpath.c hp_ack), the line falling there (:meth:`w1c_cleared_in_c`)."""
        if self._held.entry is None:
            return
        static = self._static()
        self._held.put(self._status() if static else 0, static)
        if self._clear_slot is not None:
            need = self._status() & self.values["INTEN"] if static and self._irq_level else 0
            self.host.system.event_clear_armed(self._clear_slot, bool(need), need)  # type: ignore[attr-defined]

    def write_INTEN(self, value: int) -> None:
        self.values["INTEN"] = value
        self._plan()
        self.update_irq()

    def read_OVERRUN_COUNT(self) -> int:
        return self._overruns + self.ring.overruns

    def read_SAMPLE_COUNT(self) -> int:
        count = max(0, self._latest() - self._first + 1) if self._running else 0
        self._hold()  # (the recording's end may have set END)
        return count

    def read_DMA_POS(self) -> int:
        return self.ring.position()

    def ring_overrun(self, cycle: int, ring_half: int) -> None:
        self._flags |= self.OVR
        super().ring_overrun(cycle, ring_half)

    def ring_end(self) -> None:
        self._latest()
        self.update_irq()

    def irq_pending(self) -> bool:
        return bool(self._status() & self.values["INTEN"])
