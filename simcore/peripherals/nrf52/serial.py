"""nRF52840 TWIM and SPIM (Product Specification v1.7, sections 6.31 and 6.25): bus controllers with EasyDMA.

Both drive the bus-device interface of ``simcore/devices/bus.py`` (docs/bus-devices.md): the
chips attached to ``model.bus`` see the same START/byte/STOP or chip-select/byte sequence a
real controller puts on the wire. The bytes move when a transfer starts; its events come at
the virtual time the transfer takes at the programmed bit rate (``FREQUENCY`` x 16 MHz / 2^32,
e.g. 0x06400000: 400 kHz; SPIM's 16 and 32 MHz settings from the PS's table).

TWIM (6.31, ``ENABLE`` = 6): ``TASKS_STARTTX`` sends START, ``ADDRESS`` + W and ``TXD.MAXCNT``
bytes from ``TXD.PTR``; ``TASKS_STARTRX`` a (repeated) START, ``ADDRESS`` + R and reads
``RXD.MAXCNT`` bytes into ``RXD.PTR``, acknowledging all but the last. ``EVENTS_TXSTARTED`` /
``RXSTARTED`` at once, ``EVENTS_LASTTX`` / ``LASTRX`` when the last byte goes, then the
shortcuts (``LASTTX_STARTRX`` for a register read, ``LASTTX_STOP``, ``LASTRX_STOP``...).
``TASKS_STOP`` sends STOP: ``EVENTS_STOPPED``. A NACK of the address (an empty bus, no chip there)
or of a data byte sets ``ERRORSRC.ANACK`` / ``DNACK`` (write 1 to clear) and gives
``EVENTS_ERROR``; the transfer ends there and the firmware stops the bus (``TASKS_STOP``).
Timing in bit periods: START and the address 10, then 9 a byte; ``LASTTX``/``LASTRX`` when the last
byte starts (as the PS defines them), an address NACK after 10. A task that needs the line (the
repeated START of ``STARTRX``, the STOP of ``TASKS_STOP``) waits until the byte under way has
ended; ``STOPPED`` comes 2 bit periods after that. A register read (1 byte out, 1 in) takes 40.

SPIM (6.25, ``ENABLE`` = 7): ``TASKS_START`` exchanges max(``TXD.MAXCNT``, ``RXD.MAXCNT``) bytes
in the mode of ``CONFIG`` (CPOL, CPHA; ``ORDER`` LSB first), sending ``ORC`` past the TX buffer
and keeping ``RXD.MAXCNT`` received bytes; ``EVENTS_STARTED`` at once, ``EVENTS_ENDTX``,
``ENDRX`` and ``END`` after 8 bits per byte; ``END_START`` restarts it. Chip selects are GPIO
outputs the firmware drives (``gpio.line(pin)`` is what a chip's CS follows); SPIM3's own
``PSEL.CSN`` (with ``CSNPOL``) is driven around each transfer. ``TASKS_STOP``:
``EVENTS_STOPPED``. ``TASKS_SUSPEND``/``RESUME`` (TWIM: ``EVENTS_SUSPENDED``) do not pause a transfer
already computed.

A TWIM register read whose chip can tell its answer beforehand (``BusDevice.read_offer``: the LSM9DS1's FIFO drain
after FIFO_SRC) is offered to C (``twim_offer``, Machine._plan_twim): the firmware's ``TASKS_STARTTX`` write is then
taken in C when the register file holds the offered set-up (hotpath.c ``hp_twim_start``), and the wfi after it woken
at ``STOPPED`` with the previewed bytes in ``RXD.PTR`` (``hp_twim_wake``); the model's write and events run at
Python's next entry as of their cycles (``settle_in_c``; as their net effect, ``_net_to_stopped``, when they are only
the read's), the chip's real read among them, checked equal to the preview. Nothing of it is visible but the Python
entries it saves.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any, NamedTuple

from simcore.abi import EV_SLOTS, Q_CYCLE_COUNT, TW_NONE
from simcore.clock import FS_PER_SECOND
from simcore.devices.bus import I2CBus, SpiBus
from simcore.errors import InternalError
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.peripherals.nrf52.dma import DATA_RAM, EasyDma
from simcore.peripherals.nrf52.uarte import baud_of

SPIM_FAST = {0x0A000000: 16e6, 0x14000000: 32e6}  # PS 6.25.?: M16, M32 (SPIM3)


def _reverse(byte: int) -> int:
    return int(f"{byte & 0xFF:08b}"[::-1], 2)


class TwimOffer(NamedTuple):
    """The next register read of a TWIM as C may do it (Nrf52Twim.twim_offer, Machine._plan_twim; hotpath.c hp_state
    ``tw_*``): the chip's previewed answer and what the firmware's set-up must be for it."""

    model: Any  # the Nrf52Twim
    task: int  # TASKS_STARTTX's address
    reg: int  # the register address byte TXD.PTR must hold
    miso: bytes  # the chip's answer (RXD.MAXCNT may take a prefix of it)
    miso_addr: int  # where ``miso`` is in host memory
    unit: int  # RXD.MAXCNT a multiple of it
    bit_fs: int  # one bit period
    free_fs: int  # the line is free from then on
    quiet_fs: int  # the chip's answer holds for a STOPPED before then
    checks: tuple[tuple[int, int], ...]  # (register-file value index, value): ADDRESS, TXD.MAXCNT, SHORTS
    ptrs: tuple[int, int, int]  # value indices of TXD.PTR, RXD.PTR, RXD.MAXCNT
    events: tuple[int, ...]  # value indices of TXSTARTED, LASTTX, RXSTARTED, LASTRX, STOPPED (TW_NONE: not held)
    irq: int
    slot: int  # STOPPED's clear slot (EV_SLOTS: none)
    ram: tuple[int, int, int]  # the Data RAM EasyDMA reaches: guest base, size, host address


class TwimFlight(NamedTuple):
    """A register read Python started whose wfi C may wake at STOPPED (Nrf52Twim.twim_flight, Machine._plan_twim;
    hotpath.c hp_twim_wake with ``tw_py``): the chip's answer as of now, the transfer's set-up, the offer after it."""

    model: Any  # the Nrf52Twim
    event: Any  # its LASTTX event (the model's pending one)
    miso: bytes  # the chip's answer at LASTTX (RXD.MAXCNT bytes)
    miso_addr: int  # where ``miso`` is in host memory
    stopped_fs: int  # STOPPED's time, as the model's events will have it
    quiet_fs: int  # the chip's answer holds for a LASTTX before then
    setup: tuple[tuple[int, int], ...]  # (register-file value index, value) of the set-up the events read
    rx: int  # RXD.PTR
    cnt: int  # RXD.MAXCNT
    then: TwimOffer | None  # the read a driver makes after it (the drain after FIFO_SRC), its line free at STOPPED
    # what the chip's read lowers (read_falls): ((value index, value) the line's fall stores, the rise's Event.wake
    # tuple, the chip's next wake-up in fs, the chip), or None (hp_twim_wake's tw_x store, Machine._plan_wake_ahead)
    falls: tuple[tuple[int, int], tuple[int, ...], int, Any] | None = None
    # the read after ``then`` (all of it) C may take too (read_chained: the Rev2's INT_STATUS_1 after the drain): (its
    # offer, its ``falls`` as above), or None (hotpath.c tw2_*, Machine._plan_chain_ahead)
    chain: tuple[TwimOffer, tuple[tuple[int, int], tuple[int, ...], int, Any]] | None = None


class TwimSetup(NamedTuple):
    """What a TWIM's register read (twim_flight) and its offer (_make_offer) take from the set-up alone, kept per
    set-up (Nrf52Twim._twim_setup) instead of looked up at every arming."""

    index: list[int]  # register-file value indices of ADDRESS, TXD.PTR, TXD.MAXCNT, RXD.PTR, RXD.MAXCNT, SHORTS
    bit_fs: int  # one bit period at FREQUENCY
    offer: tuple[Any, ...] | None  # _make_offer's set-up part (task, checks of TXD.MAXCNT and SHORTS, ptrs, events,
    # irq, STOPPED's clear slot, RAM window), None: no offer (INTEN, ENABLE or no Data RAM; then not kept)


@register_model
class Nrf52Twim(NordicPeripheral):
    """TWIM0/1 of the nRF52840: I2C controller with EasyDMA (see the module docstring)."""

    TYPE = "nrf52_twim"
    SVD = "TWIM"
    PLAIN = ("SHORTS", "ENABLE", "PSEL_SCL", "PSEL_SDA", "FREQUENCY", "RXD_PTR", "RXD_MAXCNT", "RXD_AMOUNT",
             "RXD_LIST", "TXD_PTR", "TXD_MAXCNT", "TXD_AMOUNT", "TXD_LIST", "ADDRESS")
    ENABLED = 6
    EVENT_READS_IN_C = True  # the wait on STOPPED / ERROR (interrupts on) reads them in C
    EVENT_CLEARS_IN_C = True  # the firmware's clear of such an event, in C (NordicPeripheral)
    HELD_STORAGE = {"ADDRESS": 0x588, "TXD_PTR": 0x544, "TXD_MAXCNT": 0x548, "RXD_PTR": 0x534, "RXD_MAXCNT": 0x538,
                    "SHORTS": 0x200}  # what a transfer's set-up writes: read when a task starts (or an event fires)
    EV_STOPPED, EV_ERROR, EV_SUSPENDED, EV_RXSTARTED, EV_TXSTARTED, EV_LASTRX, EV_LASTTX = 1, 9, 18, 19, 20, 23, 24
    ANACK, DNACK = 1 << 1, 1 << 2
    SHORTS_READ = 1 << 7 | 1 << 12  # LASTTX_STARTRX | LASTRX_STOP: a register-address write, then the read
    OFFER_KEYS = frozenset(("ADDRESS", "TXD_PTR", "TXD_MAXCNT", "RXD_PTR", "RXD_MAXCNT", "SHORTS"))  # held by C
    TASK_STARTTX = 2  # TASKS_STARTTX at 0x008
    READS_IN_C = True  # offer register reads to C (twim_offer; False: every transfer through Python, tests)

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.dma = EasyDma(host, self)
        self._pending: Any = None
        self._line_free_fs = 0  # when the last byte on the wire ends
        self._bit_freq: int | None = None  # the FREQUENCY value _bit_fs is the bit period of (bit_fs)
        self._bit_fs = 0
        self.offer_changes = 0  # _offer_changed calls (twim_offer's cache key; Machine._plan_twim looks when it moves)
        self._offer: tuple[int, TwimOffer | None] = (-1, None)  # (offer_changes, offer) of twim_offer's last answer
        self._acked = False  # TASKS_STARTTX's writes are offered to hp_ack (twim_offer)
        self._c_rx: tuple[int, bytes] | None = None  # settle_in_c: (RXD.PTR, bytes) C wrote at its wake
        self._ram: tuple[int, ...] | None = None  # the Data RAM C may write: (guest base, size, host address) or ()
        self._tx_read: Any = None  # the LASTTX event of the last transfer task_STARTTX started (twim_flight)
        self._setup: TwimSetup | None = None  # _twim_setup's answer, until _setup_changed
        super().__init__(config, host, registers)
        self.bus = I2CBus(self.name)
        self.fabric.route_listeners.append(self._offer_changed)

    def _offer_changed(self) -> None:
        """The offer C may hold from this TWIM no longer holds (a transfer ended, a register Python serves written, the
        PPI routes changed): C takes nothing until Machine._plan_twim looks again, which asks twim_offer anew."""
        if self._offer[1] is not None:
            self.host.hot.state.tw_on = 0  # type: ignore[attr-defined]
            self._offer = (-1, None)
        self.offer_changes += 1

    def write(self, offset: int, size: int, value: int) -> None:
        """NordicPeripheral.write, after _offer_changed (twim_offer's offer was made before it) and _setup_changed (a
        register of the set-up may change: INTEN, ENABLE, FREQUENCY, a HELD_STORAGE one handed to the register file);
        TASKS_STARTTX's only takes the offer back (task_STARTTX: the transfer's end looks again)."""
        if offset != 4 * self.TASK_STARTTX:
            self._offer_changed()
            self._setup = None
        super().write(offset, size, value)

    def _setup_changed(self) -> None:
        """The set-up _twim_setup keeps may have changed (an event or a register handed to the register file, a clear
        slot given, a reset): it is looked up again at the next read."""
        self._setup = None

    def _hold(self, i: int) -> None:
        if i not in self._held:  # (held already: NordicPeripheral._hold does nothing)
            super()._hold(i)
            self._setup = None  # (the events' value indices)

    def _hold_storage(self, key: str) -> None:
        if key not in self._c_plain:  # (held already: nothing done)
            super()._hold_storage(key)
            self._setup = None  # (the set-up's value indices)

    def held_built(self, rf: Any, first: int, store0: int, held: tuple[tuple[int, int], ...]) -> None:
        super().held_built(rf, first, store0, held)
        self._setup = None  # (the events' and set-up's value indices)

    def _clear_slot(self, i: int) -> None:
        if i not in self._clr_slots:  # (given already: nothing done)
            super()._clear_slot(i)
            self._setup = None  # (STOPPED's clear slot)

    def reset(self) -> None:
        super().reset()
        self._setup_changed()  # (INTEN, ENABLE, FREQUENCY)

    def _twim_setup(self) -> TwimSetup | None:
        """twim_flight's and _make_offer's set-up (TwimSetup), or None while ADDRESS ... SHORTS are not all held by the
        register file: kept until _setup_changed when it allows an offer (a refusal is looked at again each time); the
        PPI routes, hp_ack's taking of TASKS_STARTTX, the chip and the values are looked at every time."""
        held = self._c_plain
        if not held.keys() >= self.OFFER_KEYS:
            return None
        index = [held[k] for k in ("ADDRESS", "TXD_PTR", "TXD_MAXCNT", "RXD_PTR", "RXD_MAXCNT", "SHORTS")]
        bit = self.bit_fs()
        offer: tuple[Any, ...] | None = None
        inten = self.values["INTEN"]
        if self.values["ENABLE"] & 0xF == self.ENABLED and not inten & self.MID_EVENTS and inten >> self.EV_STOPPED & 1:
            if self._ram is None:
                self._ram = self.host.ram_window(*DATA_RAM) or ()  # type: ignore[attr-defined]
            if self._ram:
                events = (self.EV_TXSTARTED, self.EV_LASTTX, self.EV_RXSTARTED, self.EV_LASTRX, self.EV_STOPPED)
                offer = (self.base + 4 * self.TASK_STARTTX, (held["TXD_MAXCNT"], 1), (held["SHORTS"], self.SHORTS_READ),
                         (held["TXD_PTR"], held["RXD_PTR"], held["RXD_MAXCNT"]),
                         tuple(self._held.get(i, TW_NONE) for i in events), self.irq,
                         self._clr_slots.get(self.EV_STOPPED, EV_SLOTS), self._ram)
        setup = TwimSetup(index, bit, offer)
        if offer is not None:
            self._setup = setup
        return setup

    def twim_offer(self) -> TwimOffer | None:
        """The firmware's next transfer as C may take it (module docstring), or None: kept until _offer_changed (C
        checks the last STOPPED is cleared by then)."""
        if not self.READS_IN_C or not self.bus.targets or self.fabric._routes:
            return None
        got = self._offer
        if got[0] != self.offer_changes:
            got = self._offer = (self.offer_changes, self._make_offer())
        return got[1]

    def _make_offer(self, ahead: tuple[Any, tuple[int, bytes, int], int, int] | None = None,
                    address: int | None = None) -> TwimOffer | None:
        """twim_offer: a register read of the chip at ADDRESS, with the shortcuts LASTTX_STARTRX and LASTRX_STOP, only
        STOPPED's interrupt on among the transfer's events (no interrupt line before the wake), no PPI route, the
        set-up registers held by the register file, and the chip's answer previewed (``read_offer``; nothing of the
        chip changes by reading). ``ahead``: (chip, its offer, line free from, offer holds until) after a transfer under
        way (twim_flight, which gives ADDRESS's value ``address``). The set-up's part kept per set-up (_twim_setup)."""
        setup = self._setup or self._twim_setup()
        if setup is None:
            return None
        host: Any = self.host
        if address is None:
            address = host.bus.rf.value(setup.index[0])
        if ahead is not None:
            target, got, free_fs, quiet = ahead
        else:
            if self._pending is not None:
                return None
            target = self.bus.targets.get(address & 0x7F)
            if target is None or not target.reads_plan_nothing():
                return None
            got = target.read_offer()
            if got is None:
                return None
            free_fs = self._line_free_fs
            quiet = target.quiet_until()
        part = setup.offer
        if part is None or quiet is None:
            return None
        if not self._acked:
            self._acked = host.bus.native_ack(host.hot.state, host.hot.lib, self.base + 4 * self.TASK_STARTTX)
            if not self._acked:
                return None
        task, tx_check, shorts_check, ptrs, events, irq, slot, ram = part
        reg, miso, unit = got
        miso_addr = ctypes.cast(ctypes.c_char_p(miso), ctypes.c_void_p).value or 0
        return TwimOffer(self, task, reg, miso, miso_addr, unit, setup.bit_fs, free_fs, quiet,
                         ((setup.index[0], address), tx_check, shorts_check), ptrs, events, irq, slot, ram)

    def twim_flight(self) -> TwimFlight | None:
        """The register read task_STARTTX started, still before its LASTTX, as C may wake the wfi after it at STOPPED
        (module docstring): a read as twim_offer's (ADDRESS's chip, TXD.MAXCNT 1, the shortcuts, only STOPPED's
        interrupt, no PPI route, the set-up held by the register file) whose chip tells its answer ahead
        (``read_ahead``: the LSM9DS1's FIFO_SRC) and reads it before ``quiet_until``; with the offer after it."""
        ev = self._pending
        if ev is None or ev is not self._tx_read or not self.READS_IN_C or self.fabric._routes:
            return None
        if not any(getattr(t, "READS_AHEAD", False) for t in self.bus.targets.values()):
            return None  # no chip here tells a read ahead: spare the set-up's look-up, every arming
        setup = self._setup or self._twim_setup()
        if setup is None:
            return None
        host: Any = self.host
        index = setup.index
        values = host.bus.rf.values(index)
        address, _tx, txcnt, rx, cnt, shorts = values
        n = cnt & 0xFFFF
        target = self.bus.targets.get(address & 0x7F)
        if txcnt != 1 or shorts != self.SHORTS_READ or not n or target is None or not target.reads_plan_nothing():
            return None
        got = target.read_ahead(n)
        quiet = target.quiet_until()
        if got is None or len(got[0]) != n or quiet is None or ev.at_fs is None or ev.at_fs >= quiet:
            return None
        miso, after, until = got
        stopped_fs = self._line_free_fs + (10 + 9 * n + 2) * setup.bit_fs  # the RX phase from the line free, STOP
        falls = chain = None
        if after is not None:
            then = self._make_offer((target, after, stopped_fs, until), address)
            if then is not None and target.CHAINED:  # (the read after it, when the chip tells it: read_chained)
                chain = self._chain_of(target, then)
        else:  # a read with no read after it: one that lowers the chip's line (the BMI270's INT_STATUS_1), or none
            falls = self._falls_of(target)
            if falls is None:
                return None
            then = self._make_offer((target, (0, b"", 1), stopped_fs, 0), address)  # (no bytes: never taken)
        miso_addr = ctypes.cast(ctypes.c_char_p(miso), ctypes.c_void_p).value or 0
        return TwimFlight(self, ev, miso, miso_addr, stopped_fs, quiet, tuple(zip(index, values)), rx, cnt, then,
                          falls, chain)

    def _chain_of(self, target: Any, then: TwimOffer) -> tuple[TwimOffer, tuple[tuple[int, int], tuple[int, ...], int,
                                                                              Any]] | None:
        """twim_flight's ``chain``: the read the chip says a driver makes after the whole drain ``then``
        (``read_chained``), as an offer on the same set-up (one register byte written, the shortcuts, only STOPPED's
        interrupt) whose read lowers a line as _falls_of's (the input's fall and its rise's wake plan)."""
        got = target.read_chained((then.reg, then.miso, then.unit))
        if got is None:
            return None
        reg, miso, quiet, line, at_fs = got
        plan = line.fall_rise_plan() if line.fall_rise_plan is not None else None
        if plan is None:
            return None
        miso_addr = ctypes.cast(ctypes.c_char_p(miso), ctypes.c_void_p).value or 0
        offer = then._replace(reg=reg, miso=miso, miso_addr=miso_addr, unit=len(miso), quiet_fs=quiet)
        return offer, (plan[0], plan[1], at_fs, target)

    def _falls_of(self, target: Any) -> tuple[tuple[int, int], tuple[int, ...], int, Any] | None:
        """twim_flight's ``falls``: the chip's read lowers a line (``read_falls``) whose input's fall C may store with
        the wake at STOPPED and whose rise at the chip's next wake-up C may do at the wfi after (the line's
        ``fall_rise_plan``: the nRF52 GPIO pin's IN, GPIOTE IN[n]). The then-offer is one C never takes (no bytes:
        hp_twim_start takes no read longer than the answer): it only arms the TWIM's fields the wake reads."""
        got = target.read_falls()
        if got is None:
            return None
        line, at_fs = got
        plan = line.fall_rise_plan() if line.fall_rise_plan is not None else None
        if plan is None:
            return None
        return plan[0], plan[1], at_fs, target

    def flight_of_c(self, offer: TwimOffer, taken: tuple[int, int, int]) -> TwimFlight | None:
        """A read C took (hp_twim_start) that a Python entry came before the wfi of (a poll of EVENTS_ERROR in the wait
        loop, every 16th read), its write settled (settle_in_c) and its LASTTX now the model's pending event: the same
        read as a flight of Python's C may still wake at STOPPED (twim_flight), with the bytes C previewed (``offer``'s,
        which hold for a LASTTX before ``offer.quiet_fs``, as C checked at the write) and the set-up C checked then.
        Machine.settle_twim keeps it only if its cycles are C's."""
        ev = self._pending
        if ev is None or ev is not self._tx_read or self.fabric._routes:
            return None
        (_i, address), (_j, txcnt), (_k, shorts) = offer.checks
        if not getattr(self.bus.targets.get(address & 0x7F), "READS_AHEAD", False):
            return None  # (as twim_flight: the LSM9DS1's and the BMI270's, whose drains plan nothing)
        tx, rx, cnt = taken
        n = cnt & 0xFFFF
        held = self._c_plain
        index = [held[k] for k in ("ADDRESS", "TXD_PTR", "TXD_MAXCNT", "RXD_PTR", "RXD_MAXCNT", "SHORTS")]
        miso = offer.miso[:n]
        miso_addr = ctypes.cast(ctypes.c_char_p(miso), ctypes.c_void_p).value or 0
        stopped_fs = self._line_free_fs + (10 + 9 * n + 2) * self.bit_fs()  # (as twim_flight)
        return TwimFlight(self, ev, miso, miso_addr, stopped_fs, offer.quiet_fs,
                          tuple(zip(index, (address, tx, txcnt, rx, cnt, shorts))), rx, cnt, None)

    def settle_flight(self, flight: TwimFlight, stopped: int) -> None:
        """C woke the wfi after the transfer ``flight`` (Machine.settle_twim): its events as of their cycles up to
        STOPPED (cycle ``stopped``) with the set-up put back as the events read it, the chip's read checked equal to
        what C wrote and EasyDMA's RAM write left to C's."""
        host: Any = self.host
        rf = host.bus.rf
        index, setup = map(list, zip(*flight.setup))  # (the value indices and values, split in C)
        now = rf.values(index)
        rf.set_values(index, setup)
        try:
            self._replay_to_stopped(flight.rx, flight.miso, stopped, "woke")
        finally:
            rf.set_values(index, now)

    def _replay_to_stopped(self, rx: int, miso: bytes, stopped: int, what: str) -> None:
        """The events of a transfer C did, as of their cycles up to STOPPED (cycle ``stopped``), with EasyDMA's RAM
        write left to C's: the chip's read is checked equal to the bytes ``miso`` C wrote at ``rx`` (``_c_rx``)."""
        if self._net_to_stopped(rx, miso, stopped, what):
            return
        host: Any = self.host
        s = host.hot.state
        self._c_rx = (rx, miso)
        try:
            events = host.events
            while (ev := events.pop_due(stopped)) is not None:
                s.cycle_count = ev.at_cycle
                ev.callback()
            if self._c_rx is not None:
                raise InternalError(f"{self.svd_name}: the transfer C {what} ended without its RXD write")
        finally:
            self._c_rx = None

    MID_EVENTS = 1 << EV_TXSTARTED | 1 << EV_LASTTX | 1 << EV_RXSTARTED | 1 << EV_LASTRX  # a read's before STOPPED

    def _net_to_stopped(self, rx: int, miso: bytes, stopped: int, what: str) -> bool:
        """_replay_to_stopped as the events' net effect, when they are only this register read's: its LASTTX pending
        and the queue's first, no other event up to STOPPED, SHORTS just LASTTX_STARTRX | LASTRX_STOP, no PPI route,
        only STOPPED's interrupt possible. What fire(), the shortcuts' tasks and _later do at LASTTX, LASTRX and
        STOPPED, each at its cycle and in that order (the chip's read, bus STOP, registers, events, the line), without
        scheduling and popping the events (EventQueue, fire, _update_irq: ~60% of a replay's bytecodes). The line
        cannot change before STOPPED (the other events' interrupts are off), so it is updated once there. False:
        nothing done (the events are replayed)."""
        ev = self._pending
        host: Any = self.host
        events = host.events
        if (ev is None or ev is not self._tx_read or self.fabric._routes or events.top() is not ev
                or events.after_top_cycle(stopped + 1) <= stopped or self.values["INTEN"] & self.MID_EVENTS
                or self.values["ENABLE"] & 0xF != self.ENABLED or self.storage("SHORTS") != self.SHORTS_READ):
            return False
        events.pop_due(ev.at_cycle)  # (ev: the top)
        host.arm_changes += 2  # (Machine.schedule_at_fs of the LASTRX and STOPPED events it replaces)
        host.queue_changes += 2
        self._net_from_lasttx(ev.at_cycle, rx, miso, stopped, what)
        return True

    NET_START = True  # settle_in_c: the write and the transfer as one net effect (False: write, then the events; tests)

    def _net_start(self, rx: int, miso: bytes, stopped: int, known: bytes | None = None) -> bool:
        """settle_in_c's TASKS_STARTTX write and _net_to_stopped after it as one net effect, when no transfer is under
        way and no live event is due up to STOPPED (cycle ``stopped``), with _net_to_stopped's conditions (SHORTS just
        LASTTX_STARTRX | LASTRX_STOP, no PPI route, ENABLE 6, none of TXSTARTED/LASTTX/RXSTARTED/LASTRX's interrupts
        on): what task_STARTTX does (TXSTARTED, the chip's register byte, TXD.AMOUNT, the line free time) without
        scheduling the LASTTX event _net_to_stopped would pop at once (nor TXSTARTED's _update_irq: the line cannot
        change before STOPPED, where it is updated). False: nothing done (the write and _replay_to_stopped run)."""
        host: Any = self.host
        if (not self.NET_START or self._pending is not None or self.fabric._routes
                or self.values["INTEN"] & self.MID_EVENTS or self.values["ENABLE"] & 0xF != self.ENABLED
                or self.storage("SHORTS") != self.SHORTS_READ):
            return False
        top = host.events.top()
        if top is not None and top.at_cycle <= stopped:
            return False
        if self._offer[1] is not None:  # (task_STARTTX: no new offer until the transfer ends)
            host.hot.state.tw_on = 0
            self._offer = (-1, None)
        self._set_event(self.EV_TXSTARTED, 1)  # (fire(): no shortcut, PPI route or interrupt of TXSTARTED here)
        data, k = self._start_write(known)
        if k < 0:
            raise InternalError(f"{self.svd_name}: the chip NACKed the address of the read C did")
        if k < len(data):
            raise InternalError(f"{self.svd_name}: the chip NACKed the register byte of the read C did")
        self.values["TXD_AMOUNT"] = len(data)
        # _later's LASTTX as Machine.schedule_at_fs would have scheduled it (and counted it: +1, the pop +2)
        now = host.hot.state.cycle_count
        n = len(data)
        lasttx = host.clocks.timeline.cycle_at(self._line_at(host.now_fs(), 10 + 9 * max(n - 1, 0), 10 + 9 * n))
        host.arm_changes += 3
        host.queue_changes += 3
        self._tx_read = None
        self.offer_changes += 1
        self._net_from_lasttx(lasttx if lasttx >= now else now, rx, miso, stopped, "did")
        return True

    def _net_from_lasttx(self, at: int, rx: int, miso: bytes, stopped: int, what: str) -> None:
        """_net_to_stopped's net effect from the LASTTX event at cycle ``at`` (no longer queued) to STOPPED."""
        host: Any = self.host
        q = host.hot.q
        timeline = host.clocks.timeline
        values = self.values
        set_event = self._set_event
        # LASTTX at its cycle: the event, then the shortcut LASTTX_STARTRX (task_STARTRX: RXSTARTED, the chip's read)
        q[Q_CYCLE_COUNT] = at
        self._pending = None
        set_event(self.EV_LASTTX, 1)
        set_event(self.EV_RXSTARTED, 1)
        if not self.bus.start(self.storage("ADDRESS") & 0x7F, True):
            raise InternalError(f"{self.svd_name}: the chip NACKed the read C {what}")
        n = self.storage("RXD_MAXCNT") & 0xFFFF
        data = self.bus.read_block(n)
        values["RXD_AMOUNT"] = len(data)
        last = timeline.cycle_at(self._line_at(timeline.fs_at(at), 10 + 9 * max(n - 1, 0), 10 + 9 * n))  # (_later's)
        if last > at:
            at = last
        if at > stopped:
            raise InternalError(f"{self.svd_name}: the transfer C {what} ended without its RXD write")
        # LASTRX: EasyDMA's write (C's, checked), the event, then the shortcut LASTRX_STOP (task_STOP)
        q[Q_CYCLE_COUNT] = at
        if self.storage("RXD_PTR") != rx:
            raise InternalError(f"{self.svd_name}: the transfer C {what} ended without its RXD write")
        if miso != data:
            raise InternalError(f"{self.svd_name}: the chip's read ({data.hex()}) differs from the preview C "
                                f"wrote at its wake ({miso.hex()})")
        self.dma.written_bytes += len(data)
        set_event(self.EV_LASTRX, 1)
        self.bus.stop()
        stop_fs = self._line_at(timeline.fs_at(at), 2, 2)
        stop = timeline.cycle_at(stop_fs)
        if stop < at:
            stop = at
        if stop > stopped:  # (C's STOPPED is the model's: never) the run loop's, as the replay leaves it
            self._pending = host.schedule_at_fs(stop_fs, self._stopped, f"{self.svd_name} STOP")
            self._update_irq()
            return
        q[Q_CYCLE_COUNT] = stop
        self._stopped()
        events = host.events
        while (later := events.pop_due(stopped)) is not None:  # (none: the chip's read plans nothing)
            q[Q_CYCLE_COUNT] = later.at_cycle
            later.callback()

    def settle_in_c(self, offer: TwimOffer, at: int, taken: tuple[int, int, int], stopped: int | None) -> None:
        """C took the TASKS_STARTTX write at cycle ``at`` with TXD.PTR, RXD.PTR and RXD.MAXCNT ``taken`` (Machine.
        settle_twim): the write as of then with the set-up it checked (the firmware may have written the next since, and
        TXD.PTR's byte), and with ``stopped`` (C woke the wfi at STOPPED, the bytes written) the transfer's events as
        of their cycles, the chip's read checked equal to the preview and EasyDMA's RAM write left to C's."""
        host: Any = self.host
        q = host.hot.q
        rf = host.bus.rf
        tx, rx, cnt = taken
        checked, values = zip(*offer.checks)  # (the value indices and values, split in C)
        index = [*checked, *offer.ptrs]
        now = rf.values(index)
        rf.set_values(index, [*values, tx, rx, cnt])
        byte = host.mem_read(tx, 1)
        if byte[0] != offer.reg:
            host.mem_write(tx, bytes([offer.reg]))
        try:
            q[Q_CYCLE_COUNT] = at
            if host.polls is not None:
                host.polls.on_write_in_c()  # (the watch counts it from tw_taken)
            if stopped is None or not self._net_start(rx, offer.miso[:cnt & 0xFFFF], stopped):
                self.write_TASKS(self.TASK_STARTTX, 1)  # (what write() of the word 1 there comes to: no stray bits)
                if stopped is not None:
                    self._replay_to_stopped(rx, offer.miso[:cnt & 0xFFFF], stopped, "did")
        finally:
            if byte[0] != offer.reg:
                host.mem_write(tx, byte)
            rf.set_values(index, now)

    def stretch_reads(self, offer: TwimOffer) -> tuple[list[int], list[int], dict[int, bytes], dict[int, int]]:
        """Before a stretch's reads are settled (Machine.settle_stretch): the set-up the offer checked (ADDRESS,
        TXD.MAXCNT, SHORTS) put in the register file once for all of them, as settle_in_c puts it for one; what was
        there (and TX bytes the reads change) comes back at stretch_restore."""
        rf: Any = self.host.bus.rf  # type: ignore[attr-defined]
        checked, values = zip(*offer.checks)
        index = [*checked, *offer.ptrs]
        now = rf.values(index)
        rf.set_values(list(checked), list(values))
        return index, now, {}, {}

    def stretch_read(self, token: tuple[list[int], list[int], dict[int, bytes], dict[int, int]], ptrs: Sequence[int],
                     reg: int, at: int, taken: tuple[int, int, int], miso: bytes, stopped: int | None) -> None:
        """One read of a stretch C took at cycle ``at`` (TXD.PTR, RXD.PTR, RXD.MAXCNT ``taken``; its register
        byte ``reg``, the bytes C wrote ``miso``; ``stopped``: woken at STOPPED, else None): what settle_in_c does
        for it with the set-up stretch_reads put in (the pointers written, TXD.PTR's byte made ``reg``)."""
        host: Any = self.host
        tx, rx, cnt = taken
        host.bus.rf.set_values(ptrs, [tx, rx, cnt])
        host.hot.q[Q_CYCLE_COUNT] = at
        if host.polls is not None:
            host.polls.on_write_in_c()  # (the watch counts it from hot.state.ks_writes)
        # (the register byte at TXD.PTR is ``reg``, as C checked at the write: the net start takes it as known)
        if stopped is not None and self._net_start(rx, miso[:cnt & 0xFFFF], stopped, bytes((reg,))):
            return
        _index, _now, saved, held = token
        if held.get(tx) != reg:  # (the model's write reads it from RAM: as settle_in_c puts it there)
            if tx not in saved:
                saved[tx] = host.mem_read(tx, 1)
            if held.get(tx, saved[tx][0]) != reg:
                host.mem_write(tx, bytes((reg,)))
            held[tx] = reg
        self.write_TASKS(self.TASK_STARTTX, 1)
        if stopped is not None:
            self._replay_to_stopped(rx, miso[:cnt & 0xFFFF], stopped, "did")

    def stretch_restore(self, token: tuple[list[int], list[int], dict[int, bytes], dict[int, int]]) -> None:
        """After a stretch's reads: the TX bytes and register-file values stretch_reads found."""
        host: Any = self.host
        index, now, saved, _held = token
        for tx, byte in saved.items():
            host.mem_write(tx, byte)
        host.bus.rf.set_values(index, now)

    def _ok(self, task: str) -> bool:
        if self.values["ENABLE"] & 0xF == self.ENABLED:
            return True
        self.guest_error(f"{self.svd_name}.TASKS_{task}", "task triggered while ENABLE != 6 (TWIM): ignored")
        return False

    def bit_fs(self) -> int:
        """One bit period at ``FREQUENCY`` in fs (kept per FREQUENCY value: asked twice a transfer phase)."""
        if self._bit_freq == self.values["FREQUENCY"]:  # (the same FREQUENCY: two attributes, no tuple to unpack)
            return self._bit_fs
        freq = self._bit_freq = self.values["FREQUENCY"]
        bit = self._bit_fs = round(FS_PER_SECOND / (baud_of(freq) or 100e3))
        return bit

    def _line_at(self, start: int, bits: int, wire_bits: int) -> int:
        """The virtual time ``bits`` bit periods after the line is free (at ``start``, the present's virtual time, or
        when the byte under way ends); the line is then busy for ``wire_bits`` from there (_later's timing, and the net
        settles' with it)."""
        free = self._line_free_fs
        if free > start:
            start = free
        bit = self.bit_fs()
        self._line_free_fs = start + wire_bits * bit
        return start + bits * bit

    def _later(self, bits: int, fn: Any, tag: str, wire_bits: int | None = None) -> None:
        """``fn`` ``bits`` bit periods after the line is free; the line is then busy for ``wire_bits``."""
        if self._pending is not None:
            self.host.cancel(self._pending)
        at = self._line_at(self.host.now_fs(), bits, bits if wire_bits is None else wire_bits)
        self._pending = self.host.schedule_at_fs(at, fn, f"{self.svd_name} {tag}")

    def _error(self, bit: int) -> None:
        self._pending = None
        self._offer_changed()
        self.values["ERRORSRC"] |= bit
        self.fire(self.EV_ERROR)

    def _start_write(self, known: bytes | None = None) -> tuple[bytes, int]:
        """TASKS_STARTTX's write on the bus (PS 6.31.4: START, ADDRESS + W, then TXD.MAXCNT bytes EasyDMA reads from
        TXD.PTR): the bytes and how many the chip acknowledged (all, or byte k was NACKed); (b"", -1) when it NACKed
        the address (task_STARTTX, and _net_start's net effect of it). ``known``: the TXD.MAXCNT bytes at TXD.PTR as C
        checked them at the write (EasyDma.read_known)."""
        if not self.bus.start(self.storage("ADDRESS") & 0x7F, False):
            return b"", -1
        if known is not None and len(known) == self.storage("TXD_MAXCNT") & 0xFFFF:
            data = self.dma.read_known(self.storage("TXD_PTR"), known, "TXD.PTR")
        else:
            data = self.dma.read(self.storage("TXD_PTR"), self.storage("TXD_MAXCNT") & 0xFFFF, "TXD.PTR")
        return data, self.bus.write_block(data)

    def task_STARTTX(self) -> None:
        if self._offer[1] is not None:  # (no new offer until the transfer ends: _offer_changed then)
            self.host.hot.state.tw_on = 0  # type: ignore[attr-defined]
            self._offer = (-1, None)
        if not self._ok("STARTTX"):
            return
        self.fire(self.EV_TXSTARTED)
        data, k = self._start_write()
        if k < 0:
            self.values["TXD_AMOUNT"] = 0
            self._later(10, lambda: self._error(self.ANACK), "address NACK")
            return
        if k < len(data):
            self.values["TXD_AMOUNT"] = k + 1
            self._later(10 + 9 * (k + 1), lambda: self._error(self.DNACK), "data NACK")
            return
        self.values["TXD_AMOUNT"] = len(data)
        self._later(10 + 9 * max(len(data) - 1, 0), lambda: self._last(self.EV_LASTTX), "last TX byte",
                    wire_bits=10 + 9 * len(data))
        self._tx_read = self._pending  # (twim_flight: C may wake the wfi after it; Machine._plan_twim looks again)
        self.offer_changes += 1

    def task_STARTRX(self) -> None:
        if not self._ok("STARTRX"):
            return
        self.fire(self.EV_RXSTARTED)
        if not self.bus.start(self.storage("ADDRESS") & 0x7F, True):
            self.values["RXD_AMOUNT"] = 0
            self._later(10, lambda: self._error(self.ANACK), "address NACK")
            return
        n = self.storage("RXD_MAXCNT") & 0xFFFF
        data = self.bus.read_block(n)
        self.values["RXD_AMOUNT"] = len(data)

        def last() -> None:
            ptr = self.storage("RXD_PTR")
            got = self._c_rx
            if got is not None and got[0] == ptr:  # C wrote them at its wake (settle_in_c): they must be the chip's
                self._c_rx = None
                if got[1] != data:
                    raise InternalError(f"{self.svd_name}: the chip's read ({data.hex()}) differs from the preview C "
                                        f"wrote at its wake ({got[1].hex()})")
                self.dma.written_bytes += len(data)
            else:
                self.dma.write(ptr, data, "RXD.PTR")
            self._last(self.EV_LASTRX)

        self._later(10 + 9 * max(n - 1, 0), last, "last RX byte", wire_bits=10 + 9 * n)

    def _last(self, ev: int) -> None:
        self._pending = None
        self.fire(ev)  # the LASTTX_/LASTRX_ shortcuts run here

    def task_STOP(self) -> None:
        self.bus.stop()
        self._later(2, self._stopped, "STOP")

    def _stopped(self) -> None:
        """STOPPED (task_STOP's event, 2 bit periods after the line is free): the transfer has ended."""
        self._pending = None
        self._offer_changed()
        self.fire(self.EV_STOPPED)

    def task_SUSPEND(self) -> None:
        self.fire(self.EV_SUSPENDED)

    def task_RESUME(self) -> None:
        pass

    def write_ERRORSRC(self, value: int) -> None:
        self.values["ERRORSRC"] &= ~value  # write 1 to clear

    def sensor_stats(self) -> dict[str, Any] | None:
        if not self.bus.transactions and not self.bus.nacked:
            return None
        return {"name": self.name, "type": self.TYPE, **self.bus.stats()}


@register_model
class Nrf52Spim(NordicPeripheral):
    """SPIM0-3 of the nRF52840: SPI controller with EasyDMA (see the module docstring)."""

    TYPE = "nrf52_spim"
    SVD = "SPIM"
    PLAIN = ("SHORTS", "ENABLE", "PSEL_SCK", "PSEL_MOSI", "PSEL_MISO", "PSEL_CSN", "FREQUENCY", "RXD_PTR",
             "RXD_MAXCNT", "RXD_AMOUNT", "RXD_LIST", "TXD_PTR", "TXD_MAXCNT", "TXD_AMOUNT", "TXD_LIST", "CONFIG",
             "ORC", "CSNPOL")
    ENABLED = 7
    EV_STOPPED, EV_ENDRX, EV_END, EV_ENDTX, EV_STARTED = 1, 4, 6, 8, 19

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.dma = EasyDma(host, self)
        self._pending: Any = None
        super().__init__(config, host, registers)
        self.bus = SpiBus(self.name, lambda where, detail: self.guest_error(where, detail))
        self.transfers = 0

    def rate(self) -> float:
        f = self.values["FREQUENCY"]
        return SPIM_FAST.get(f) or baud_of(f) or 125e3

    def _csn(self, active: bool) -> None:
        """SPIM3's hardware chip select (PSEL.CSN), driven through its GPIO port around a transfer."""
        psel = self.values.get("PSEL_CSN", 0xFFFFFFFF)
        if psel >> 31 & 1:
            return
        gpio = self.fabric.ports.get(psel >> 5 & 1)
        if gpio is None:
            return
        level = (self.values.get("CSNPOL", 0) & 1) if active else (self.values.get("CSNPOL", 0) & 1) ^ 1
        gpio.gpiote_drive(psel & 0x1F, True, level)

    def task_START(self) -> None:
        if self.values["ENABLE"] & 0xF != self.ENABLED:
            self.guest_error(f"{self.svd_name}.TASKS_START", "task triggered while ENABLE != 7 (SPIM): ignored")
            return
        self.fire(self.EV_STARTED)
        ntx = self.storage("TXD_MAXCNT") & 0xFFFF
        nrx = self.storage("RXD_MAXCNT") & 0xFFFF
        tx = self.dma.read(self.storage("TXD_PTR"), ntx, "TXD.PTR") if ntx else b""
        cfg = self.values["CONFIG"]
        mode = (cfg >> 2 & 1) << 1 | (cfg >> 1 & 1)
        lsb = bool(cfg & 1)
        orc = self.values["ORC"] & 0xFF
        self._csn(True)
        rx = bytearray()
        for k in range(max(ntx, nrx)):
            mosi = tx[k] if k < len(tx) else orc
            miso = self.bus.transfer(_reverse(mosi) if lsb else mosi, mode)
            if k < nrx:
                rx.append(_reverse(miso) if lsb else miso)
        self._csn(False)
        self.transfers += 1
        total = max(ntx, nrx)
        self.values["TXD_AMOUNT"] = len(tx)
        self.values["RXD_AMOUNT"] = len(rx)

        def end() -> None:
            self._pending = None
            if rx:
                self.dma.write(self.storage("RXD_PTR"), bytes(rx), "RXD.PTR")
            self.fire(self.EV_ENDTX)
            self.fire(self.EV_ENDRX)
            self.fire(self.EV_END)  # END_START restarts here

        if self._pending is not None:
            self.host.cancel(self._pending)
        self._pending = self.host.schedule_at_fs(self.host.now_fs() + round(8 * total * FS_PER_SECOND / self.rate()),
                                                 end, f"{self.svd_name} transfer")

    def task_STOP(self) -> None:
        self.fire(self.EV_STOPPED)

    def task_SUSPEND(self) -> None:
        pass  # a computed transfer is not paused

    def task_RESUME(self) -> None:
        pass

    def sensor_stats(self) -> dict[str, Any] | None:
        if not self.transfers:
            return None
        return {"name": self.name, "type": self.TYPE, "transfers": self.transfers, "frames": self.bus.frames}
