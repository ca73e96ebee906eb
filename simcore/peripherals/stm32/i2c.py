"""STM32 I2C masters driving the chips on their bus (simcore/devices/bus.py, docs/bus-devices.md).

Each START, address byte and data byte takes its time on the wire (a byte and its acknowledge
are 9 SCL periods) and reaches the bus at the moment it completes: ``bus.start(address, read)``
(an address nobody acknowledges is a NACK: an empty bus NACKs every address),
``bus.write(byte)``, ``bus.read()``, ``bus.stop()``.

STM32F4 (RM0090 section 27.6): the event-driven master: ``START`` -> ``SB``; the address
written to ``DR`` -> ``ADDR`` (cleared by reading SR1 then SR2) or ``AF`` on a NACK; bytes
through ``DR`` with ``TxE``/``RxNE``/``BTF`` and clock stretching while ``DR`` is full;
``ACK`` and ``POS`` decide which received byte the master NACKs, ``STOP`` ends the transfer
after the current byte, as the RM0090 27.3.3 sequences for 1, 2 and N bytes expect. SCL from
``CCR`` (standard mode: ``PCLK1 / 2 CCR``; fast mode: ``/3 CCR``, or ``/25 CCR`` with ``DUTY``).
Event and error interrupts (``ITEVTEN``, ``ITBUFEN``, ``ITERREN``) on the I2Cx_EV and I2Cx_ER
lines. DMA (``DMAEN``, ``LAST``) is not modelled (reported).

STM32L4+ (RM0432 section 48): the master transfers ``NBYTES`` bytes to or from ``SADD`` after
``START``, with ``TXIS``/``RXNE``, ``TC``/``TCR`` (``RELOAD``), ``AUTOEND`` (then ``STOPF``),
``NACKF`` (an address or byte not acknowledged: STOP follows), SCL from ``TIMINGR``
(``(SCLL + 1 + SCLH + 1) x (PRESC + 1)`` I2C clock periods), interrupts and the ``I2Cx_TX``/
``I2Cx_RX`` DMA requests (``TXDMAEN``, ``RXDMAEN``). 10-bit addressing, slave mode, SMBus and
PEC are not modelled (reported when set).

Streaming (L4, docs/peripheral-bus.md): once the address of a read is acknowledged, with the I2C's
interrupts and DMA off and no RELOAD, the chip's answer is previewed (``BusDevice.preview_reads``) and
the register file serves the transfer (XFER, read-driven): byte j arrives 9 SCL periods after the one
before it (the event times ``after`` gives, on the clock timeline), ISR shows RXNE from its arrival to
the RXDR read that returns it, and STOPF (AUTOEND) or TC with the last one. A read at or after the next
byte's arrival (the bus would have stretched the clock) and any other access go to the model, which
takes the transfer back (``_settle``): the bytes received by now replayed into the chip, the pending
byte event (and the stretch's retries) scheduled where its own events would be. The one-byte write before
a read (the chip's register address) is the register file's too (``_try_tx``, XFER on TXDR): ISR shows TXIS
from the address's acknowledge, a TXDR write puts the byte on the wire for 9 SCL periods, ISR shows TC (or
STOPF with AUTOEND) from its end; ``_settle_tx`` runs the address and byte events as the model would have.
The read that follows (a repeated START to the same chip) is handed over at its START (``_try_read``): ISR
gains DIR at the address's acknowledge cycle, then the bytes as above.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from simcore.clock import FS_PER_SECOND
from simcore.devices.base import BusDevice
from simcore.devices.bus import I2CBus
from simcore.peripherals import register_model
from simcore.peripherals.base import Host, PeripheralModel
from simcore.peripherals.held import HeldRead, HeldValue
from simcore.peripherals.stm32.common import StreamedTransfers
from simcore.peripherals.stm32.signals import DmaRequester

DEFAULT_SCL = 100_000.0


class Stm32I2c(DmaRequester, PeripheralModel):
    """What the F4 and L4 I2C masters share: the bus, time on the wire, interrupt lines."""

    POLL_SAFE = True  # flags change only when written or at byte events: polling loops fast-forward (poll.py)

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._event: Any = None
        self._levels: dict[int, bool] = {}
        super().__init__(config, host, registers)
        self.periph = self.svd_name
        self.bus = I2CBus(self.periph)
        ints = dict(self.svd.interrupts) if self.svd is not None else {}
        self.ev_irq = ints.get(f"{self.periph}_EV", self.irq)
        self.er_irq = ints.get(f"{self.periph}_ER")
        self.clock_name = str(config.options.get("clock", "PCLK1"))

    def reset(self) -> None:
        if getattr(self, "_event", None) is not None:
            self.host.cancel(self._event)
            self._event = None
        self._wire_fs = 0
        self._in_event = False
        super().reset()

    def scl_hz(self) -> float:
        raise NotImplementedError

    def after(self, periods: float, callback: Any, tag: str) -> None:
        """Call ``callback`` after ``periods`` SCL periods on the wire (from the end of the last symbol when it
        follows it without a pause: called from the event that ended it)."""
        hz = self.scl_hz()
        if not hz > 0:
            hz = DEFAULT_SCL
        if self._event is not None:
            self.host.cancel(self._event)
        # the wire is busy until the last symbol ends: a byte queued meanwhile follows it exactly
        start = self._wire_fs if self._in_event else max(self.host.now_fs(), self._wire_fs)
        self._wire_fs = start + int(periods * FS_PER_SECOND / hz)
        self._event = self.host.schedule_at_fs(self._wire_fs, self._wrap(callback), f"{self.periph} {tag}")

    def _wrap(self, callback: Any) -> Any:
        def run() -> None:
            self._in_event = True
            try:
                callback()
            finally:
                self._in_event = False
        return run

    def set_lines(self, ev: bool, er: bool) -> None:
        for irq, level in ((self.ev_irq, ev), (self.er_irq, er)):
            if irq is not None and self._levels.get(irq, False) != level:
                self._levels[irq] = level
                self.host.set_irq(irq, level)

    def sensor_stats(self) -> dict[str, Any] | None:
        st = self.bus.stats()
        if not st["transactions"] and not st["nacked_addresses"]:
            return None
        return {"name": self.name, "type": self.TYPE, "transactions": st["transactions"],
                "nacked_addresses": st["nacked_addresses"], "events": []}


# --- STM32F4 ------------------------------------------------------------------------------------
SB, ADDR, BTF, STOPF, RXNE, TXE, BERR, ARLO, AF, OVR = 1, 2, 4, 16, 64, 128, 256, 512, 1024, 2048
SR1_OFFSET = 0x14  # RM0090 27.6.6
MSL, BUSY, TRA = 1, 2, 4
PE, START, STOP, ACK, POS, SWRST = 1, 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 15


@register_model
class Stm32F4I2c(Stm32I2c):
    """STM32F4 I2C1-3 master (RM0090 section 27.6): SR1/SR2 events, DR, ACK/POS/STOP (see the module)."""

    TYPE = "stm32f4_i2c"
    SVD = "I2C"
    PARTS = ("stm32f407vg",)
    PLAIN = ("OAR1", "OAR2", "CCR", "TRISE")

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._sr1_held = HeldRead(self, SR1_OFFSET)
        self.sr1 = 0
        super().__init__(config, host, registers)

    def reset(self) -> None:
        super().reset()
        self.sr1 = 0
        self.sr2 = 0
        self.dr_full = False  # DR holds a byte (to send, or received and unread)
        self.dr = 0
        self.shift: int | None = None  # a received byte waiting for DR (BTF, clock stretched)
        self.phase = "idle"  # idle, start, addr, tx, rx, done
        self.reading = False
        self.rx_acked = True  # the last received byte was ACKed: more will come
        self.pos_ack = True
        self.stop_pending = False
        self._sr1_read_for_addr = False

    def scl_hz(self) -> float:
        ccr = self.values["CCR"]
        n = ccr & 0xFFF
        if not n:
            return 0.0
        pclk = self.host.clock_hz(self.clock_name)
        if ccr & 1 << 15:  # fast mode
            return pclk / (25 * n if ccr & 1 << 14 else 3 * n)
        return pclk / (2 * n)

    def _irqs(self) -> None:
        cr2 = self.values["CR2"]
        ev = bool(cr2 & 1 << 9 and (self.sr1 & (SB | ADDR | BTF | STOPF)
                                    or (cr2 & 1 << 10 and self.sr1 & (TXE | RXNE))))
        er = bool(cr2 & 1 << 8 and self.sr1 & (BERR | ARLO | AF | OVR))
        self.set_lines(ev, er)

    def _set(self, bits: int) -> None:
        self.sr1 |= bits
        self._irqs()

    # --- control ------------------------------------------------------------------------------
    def write_CR1(self, value: int) -> None:
        old = self.values["CR1"]
        if value & SWRST:
            self.reset()
            self.values["CR1"] = value
            return
        self.values["CR1"] = value & ~(START | STOP)
        if not value & PE:
            if old & PE:
                self.reset()
            return
        if value & (1 << 1 | 1 << 5 | 1 << 12):
            self.unimplemented(self.where("CR1"), "SMBus and PEC are not modelled")
        if value & START and self.phase in ("idle", "tx", "rx", "done", "addr_done"):
            self._start()
        if value & STOP:
            self._stop_request()

    def write_CR2(self, value: int) -> None:
        self.values["CR2"] = value
        if value & (1 << 11 | 1 << 12):
            self.unimplemented(self.where("CR2"), "DMA transfers (DMAEN, LAST) are not modelled for the F4 I2C")
        self._irqs()

    def _start(self) -> None:
        self.values["CR1"] |= START
        self.phase = "start"
        self.sr2 |= MSL | BUSY
        self.after(1, self._started, "START")

    def _started(self) -> None:
        self._event = None
        self.values["CR1"] &= ~START
        self._set(SB)

    def _stop_request(self) -> None:
        if self.phase in ("tx", "addr_done", "done", "idle") and not self.dr_full and self._event is None:
            self._stop_now()
        elif self.phase == "rx" and self._event is None and (self.shift is not None or not self.rx_acked):
            self._stop_now()
        else:
            self.stop_pending = True
            self.values["CR1"] |= STOP

    def _stop_now(self) -> None:
        self.bus.stop()
        self.values["CR1"] &= ~STOP
        self.stop_pending = False
        self.sr2 &= ~(MSL | BUSY | TRA)
        self.phase = "idle"
        self._irqs()

    # --- SR1 in the register file ----------------------------------------------------------------
    # SR1's flags change only at the model's byte events and at the firmware's accesses to CR1, DR, SR1 and SR2
    # (RM0090 27.6.6), and a read of SR1 has a side effect only while ADDR is set (the first half of ADDR's
    # clearing sequence, EV6). So from the first read on, the register file answers SR1's reads with the value
    # the model keeps there (simcore/peripherals/held.py), except while ADDR is set: a driver's flag wait (SB,
    # TXE, BTF, RXNE), often a loop with its own timeout counter that no fast-forward can skip, runs without
    # Python per read.
    sr1 = HeldValue("_sr1_held", py_bits=ADDR)

    # --- data -----------------------------------------------------------------------------------
    def read_SR1(self) -> int:
        if self._sr1_held.entry is None:
            self._sr1_held.start(self.sr1, in_c=not self.sr1 & ADDR)
        if self.sr1 & ADDR:
            self._sr1_read_for_addr = True
        return self.sr1

    def write_SR1(self, value: int) -> None:
        self.sr1 &= value | ~(BERR | ARLO | AF | OVR | 1 << 12 | 1 << 14 | 1 << 15)  # rc_w0 error flags
        self._irqs()

    def read_SR2(self) -> int:
        value = self.sr2
        if self.sr1 & ADDR and self._sr1_read_for_addr:  # EV6: ADDR cleared by SR1 then SR2 reads
            self.sr1 &= ~ADDR
            self._sr1_read_for_addr = False
            self._addr_cleared()
        return value

    def write_DR(self, value: int) -> None:
        value &= 0xFF
        if self.sr1 & SB:  # EV5: SR1 read then the address written
            self.sr1 &= ~SB
            self.reading = bool(value & 1)
            self.phase = "addr"
            self._irqs()
            self.after(9, lambda: self._address_done(value), "address")
            return
        if self.phase != "tx":
            self.guest_error(self.where("DR"), "data written with no transmission in progress: dropped")
            return
        self.dr = value
        self.dr_full = True
        self.sr1 &= ~(TXE | BTF)
        self._irqs()
        if self._event is None:
            self._send()

    def _address_done(self, value: int) -> None:
        self._event = None
        acked = self.bus.start(value >> 1, bool(value & 1))
        if not acked:
            self.phase = "done"
            self._set(AF)  # RM0090 27.6.6: acknowledge failure; the master must STOP
            if self.stop_pending:
                self._stop_now()
            return
        self.phase = "addr_done"
        if self.reading:
            self.sr2 &= ~TRA
        else:
            self.sr2 |= TRA
        self._set(ADDR)

    def _addr_cleared(self) -> None:
        if self.reading:
            self.phase = "rx"
            self.rx_acked = True
            self.pos_ack = bool(self.values["CR1"] & ACK)
            self._receive_next()
        else:
            self.phase = "tx"
            self._set(TXE)

    def _send(self) -> None:
        byte = self.dr
        self.dr_full = False
        self._set(TXE)
        self.after(9, lambda: self._sent(byte), "byte")

    def _sent(self, byte: int) -> None:
        self._event = None
        if not self.bus.write(byte):
            self._set(AF)
            self.phase = "done"
            return
        if self.dr_full:
            self._send()
        else:
            self._set(BTF)  # TxE and BTF: the master stretches SCL
            if self.stop_pending:
                self._stop_now()

    def _receive_next(self) -> None:
        if self._event is not None or self.shift is not None or not self.rx_acked or self.phase != "rx":
            return
        self.after(9, self._received, "byte")

    def _received(self) -> None:
        self._event = None
        cr1 = self.values["CR1"]
        byte = self.bus.read()
        # the ACK sent for this byte: ACK now, or with POS the ACK bit as it was for the previous byte
        ack = self.pos_ack if cr1 & POS else bool(cr1 & ACK)
        self.pos_ack = bool(cr1 & ACK)
        self.rx_acked = ack
        if self.dr_full:
            self.shift = byte
            self._set(BTF)
        else:
            self.dr, self.dr_full = byte, True
            self._set(RXNE)
        if not ack and self.stop_pending:
            self._stop_now()
        else:
            self._receive_next()

    def read_DR(self) -> int:
        value = self.dr
        if self.phase == "rx" or self.dr_full:
            self.dr_full = False
            self.sr1 &= ~RXNE
            if self.shift is not None:
                self.dr, self.dr_full, self.shift = self.shift, True, None
                self.sr1 &= ~BTF
                self.sr1 |= RXNE
                if self.stop_pending and not self.rx_acked:
                    self._stop_now()
            self._irqs()
            self._receive_next()
        return value


# --- STM32L4+ -----------------------------------------------------------------------------------
L4_TXE, TXIS, L4_RXNE, NACKF, L4_STOPF, TC, TCR = 1, 2, 4, 16, 32, 64, 128
L4_BUSY, DIR = 1 << 15, 1 << 16
CR1_IRQ_DMA = 2 | 4 | 16 | 32 | 64 | 128 | 1 << 14 | 1 << 15  # CR1: TXIE..ERRIE, TXDMAEN, RXDMAEN (RM0432 48.9.1)
ISR_OFFSET = 0x18  # RM0432 48.9.7
TX_LIMIT = 1 << 63  # a register-address write depends on no chip state: no cycle limit (a clock change settles it)


class _TxPhase(NamedTuple):
    """A one-byte write the register file carries (``_try_tx``): its slot, the address's acknowledge cycle."""

    xi: int
    at_ready: int
    ev: Any = None  # (no limit event: the fields _drop_stream reads, as a read stream's)


class _EvenAts:
    """The arrival cycles of a read's bytes evenly spaced on the wire (byte j's frame ends at ``wires[j]``), all on one
    segment of the clock timeline, by index as a list gives them: ``Stm32L4I2c._cycles_at``'s arithmetic (the ceiling
    of ``clock.Timeline.cycle_at``), byte 0 at ``first`` when given (its event's cycle). The register file computes
    the same in C (rf_xfer_start_i2c_even), so the list is never built."""

    def __init__(self, wires: range, cycle: int, fs: int, num: int, den: int, first: int | None) -> None:
        self.wires, self.cycle, self.fs, self.num, self.den, self.first = wires, cycle, fs, num, den, first

    def __len__(self) -> int:
        return len(self.wires)

    def __getitem__(self, j: int) -> int:
        if j < 0:
            j += len(self.wires)
        if j == 0 and self.first is not None:
            return self.first
        return self.cycle - (-(self.wires[j] - self.fs) * self.num // self.den)


@register_model
class Stm32L4I2c(StreamedTransfers, Stm32I2c):
    """STM32L4+ I2C1-4 master (RM0432 section 48.9): CR2 transfers of NBYTES (see the module)."""

    TYPE = "stm32l4_i2c"
    SVD = "I2C"
    PARTS = ("stm32l4r5zi",)
    PLAIN = ("OAR1", "OAR2", "TIMINGR", "TIMEOUTR")

    STREAM_MARGIN = 4096  # cycles: a stream's bytes arrive this long before the chip's next change
    HOLD_ISR = True  # the register file answers ISR's reads from the model's value (off: every read is the model's)

    def __init__(self, config: Any, host: Host, registers: Any = None) -> None:
        self._stream: tuple[Any, ...] | None = None
        self._xi: int | None = None
        self._xi_tried = False
        self._txi: int | None = None
        self._txi_tried = False
        self._icr: int | None = None  # the register file's entry of ICR (a read stream takes the STOPF clear)
        self._icr_tried = False
        self._cr2: int | None = None  # the register file's entry of CR2 (an armed register-address write, _arm_cr2)
        self._cr2_tried = False
        self._cr2_armed = False
        self._tx_cr2: int | None = None  # the CR2 word that last started a write the register file carried (_try_tx)
        self._tx_wait = 0  # ISR the armed write expects before it (checked when the model takes it back)
        self._cr2_key: tuple[Any, ...] | None = None  # what the last full arm depended on (_arm_cr2)
        self._isr_held = HeldRead(self, ISR_OFFSET)
        self.isr = 0
        super().__init__(config, host, registers)

    def reset(self) -> None:
        if getattr(self, "_stream", None) is not None:
            self._drop_stream()
        if getattr(self, "_cr2_armed", False):
            self._cr2_armed = False
            self.host.bus.rf.xfer_i2c_take(self._txi)  # type: ignore[attr-defined]
        super().reset()
        self.isr = L4_TXE
        self.left = 0  # bytes of this NBYTES block still to move
        self.active = False
        self.reading = False
        self.txdr_full = False
        self.txdr = 0
        self.rxdr = 0

    def scl_hz(self) -> float:
        t = self.values["TIMINGR"]
        presc, sclh, scll = t >> 28 & 0xF, t >> 8 & 0xFF, t & 0xFF
        periods = (scll + 1 + sclh + 1) * (presc + 1)
        return self.host.clock_hz(self.clock_name) / periods if t else 0.0

    def _irqs(self) -> None:
        cr1 = self.values["CR1"]
        if not cr1 & CR1_IRQ_DMA and True not in self._levels.values():
            return  # no interrupt or DMA request enabled and both lines low: nothing to change (most updates)
        isr = self.isr
        ev = bool((cr1 & 2 and isr & TXIS) or (cr1 & 4 and isr & L4_RXNE) or (cr1 & 16 and isr & NACKF)
                  or (cr1 & 32 and isr & L4_STOPF) or (cr1 & 64 and isr & (TC | TCR)))
        er = bool(cr1 & 128 and isr & (1 << 8 | 1 << 9 | 1 << 10))
        self.set_lines(ev, er)
        if cr1 & 1 << 14 and isr & TXIS:
            self.dma_request(f"{self.periph}_TX")
        if cr1 & 1 << 15 and isr & L4_RXNE:
            self.dma_request(f"{self.periph}_RX")

    def dma_pending(self, request: str) -> bool:
        if request.endswith("_TX"):
            return bool(self.values["CR1"] & 1 << 14 and self.isr & TXIS)
        return bool(self.values["CR1"] & 1 << 15 and self.isr & L4_RXNE)

    def write_CR1(self, value: int) -> None:
        old = self.values["CR1"]
        self.values["CR1"] = value
        if old & 1 and not value & 1:  # PE cleared: software reset (RM0432 48.4.6)
            if self._event is not None:
                self.host.cancel(self._event)
                self._event = None
            if self.active:
                self.bus.stop()
            self.isr = L4_TXE
            self.active = False
        if value & (1 << 16 | 1 << 17 | 1 << 20 | 1 << 21 | 1 << 22 | 1 << 23):
            self.unimplemented(self.where("CR1"), "slave byte control, SMBus and PEC are not modelled")
        self._irqs()

    def write_CR2(self, value: int) -> None:
        self.values["CR2"] = value & ~(1 << 13 | 1 << 14)
        if value & 1 << 11:
            self.unimplemented(self.where("CR2"), "10-bit addressing (ADD10) is not modelled")
        if value & 1 << 13:  # START (or repeated START)
            if not self.values["CR1"] & 1:
                self.guest_error(self.where("CR2"), "START with the peripheral disabled (PE = 0): ignored")
                return
            self.isr &= ~(TC | TCR)
            self.isr |= L4_BUSY
            self.active = True
            self.reading = bool(value & 1 << 10)
            self.left = value >> 16 & 0xFF
            self.after(10, self._address_done, "address")  # START + address + ACK
            if self.reading:
                self._try_read()
            else:
                self._try_tx()
                if isinstance(self._stream, _TxPhase):
                    self._tx_cr2 = value
        elif value & 1 << 14 and self.active:  # STOP after TC (software end mode)
            self._finish_stop()
        elif self.isr & TCR and self.active:  # RELOAD: the next NBYTES block (RM0432 48.4.9)
            self.isr &= ~TCR
            self.left = value >> 16 & 0xFF
            if self._event is None:
                self._next_byte()
        self._irqs()

    def _address_done(self) -> None:
        self._event = None
        cr2 = self.values["CR2"]
        address = cr2 >> 1 & 0x7F
        if not self.bus.start(address, self.reading):
            self.isr |= NACKF  # not acknowledged: the master sends STOP (RM0432 48.4.8)
            self._finish_stop()
            return
        self.isr = (self.isr | DIR) if self.reading else (self.isr & ~DIR)
        self._next_byte()
        if self.reading:
            self._try_stream()

    def _next_byte(self) -> None:
        if self.left == 0:
            self._block_end()
            return
        if self.reading:
            self.after(9, self._received, "byte")
        elif self.txdr_full:
            byte = self.txdr
            self.txdr_full = False
            self.isr |= L4_TXE
            self.after(9, lambda: self._sent(byte), "byte")
        else:
            self.isr |= TXIS | L4_TXE  # waiting for TXDR (clock stretched)
        self._irqs()

    def _sent(self, byte: int) -> None:
        self._event = None
        self.left -= 1
        if not self.bus.write(byte):
            self.isr |= NACKF
            self._finish_stop()
            return
        self._next_byte()

    def _received(self) -> None:
        self._event = None
        if self.isr & L4_RXNE:  # RXDR still full: the clock is stretched until it is read
            self.after(1, self._received, "byte")
            return
        self.rxdr = self.bus.read()
        self.left -= 1
        self.isr |= L4_RXNE
        self._irqs()
        if self.left:
            self.after(9, self._received, "byte")
        else:
            self._block_end()

    def _block_end(self) -> None:
        cr2 = self.values["CR2"]
        if cr2 & 1 << 24:  # RELOAD: another NBYTES block follows
            self.isr |= TCR
        elif cr2 & 1 << 25:  # AUTOEND
            self._finish_stop()
            return
        else:
            self.isr |= TC
        self._irqs()

    def _finish_stop(self) -> None:
        self.bus.stop()
        self.active = False
        self.isr = (self.isr | L4_STOPF) & ~(L4_BUSY | TXIS)
        self._irqs()

    # ISR's flags change only at the model's byte events and at the firmware's accesses to CR1, CR2, ICR, TXDR and
    # RXDR (RM0432 48.9.7), and its read has no side effect. So from the first read on, the register file answers
    # ISR's reads with the value the model keeps there (simcore/peripherals/held.py): a flag wait of a transfer the
    # model drives (a chip's set-up writes, a one-byte read) polls in C, where the polling watch fast-forwards it
    # without a Python call per poll. While the register file carries a transfer, its schedule answers them.
    isr = HeldValue("_isr_held")

    def read_ISR(self) -> int:
        if self._isr_held.entry is None and self.HOLD_ISR:
            self._isr_held.start(self.isr)
        return self.isr

    # --- streaming (see the module docstring) ---------------------------------------------------
    STREAM_REGS = ("RXDR", "ISR")

    def _periods_fs(self, periods: float) -> int:
        hz = self.scl_hz()
        return int(periods * FS_PER_SECOND / (hz if hz > 0 else DEFAULT_SCL))

    def _try_stream(self) -> None:
        """The first byte of an acknowledged read is on the wire (its event set): hand the transfer to the register
        file when the chip can tell what it answers."""
        target = self.bus.active
        if self._event is None or not isinstance(target, BusDevice) or not self.left:
            return
        d9 = self._periods_fs(9)
        wires = range(self._wire_fs, self._wire_fs + self.left * d9, d9)
        even = self._even_ats(wires, self._event.at_cycle) if len(wires) > 2 else None  # (_cycles_at's gap rule)
        if even is not None:
            ats: Any = even[0]
            gap = even[1]
        else:
            ats, gap = self._cycles_at(wires[1:])
            ats.insert(0, self._event.at_cycle)
        self._stream_read(target, wires, ats, min(gap, ats[1] - ats[0]) if len(ats) > 1 else gap, self.isr, None)

    ADDRESS_MARGIN = 512  # cycles from a read's acknowledge to its first byte: longer than a block runs

    def _try_read(self) -> None:
        """START and the address of a read are on the wire (its event set), a repeated START to the chip the write
        before addressed: hand the transfer to the register file from now on (the address's acknowledge at its
        event's cycle: ISR gains DIR there, then as ``_try_stream``); the chip hears the address when the model
        settles (``_settle``: nothing of it depends on time)."""
        target = self.bus.targets.get(self.values["CR2"] >> 1 & 0x7F)
        if self._event is None or not isinstance(target, BusDevice) or self.bus.active is not target or not self.left:
            return
        at_addr = self._event.at_cycle
        d9 = self._periods_fs(9)
        wires = range(self._wire_fs + d9, self._wire_fs + (self.left + 1) * d9, d9)
        even = self._even_ats(wires, None)
        ats, gap = even if even is not None else self._cycles_at(wires)
        if ats[0] - at_addr < self.ADDRESS_MARGIN:
            return
        self._stream_read(target, wires, ats, gap, self.isr | DIR, (self.isr, at_addr))

    def _stream_read(self, target: BusDevice, wires: range, ats: list[int] | _EvenAts, gap: int, base: int,
                     address: tuple[int, int] | None) -> None:
        """Hand a read of ``self.left`` bytes (byte j on the wire until ``wires[j]``, arriving at cycle ``ats[j]``, at
        least ``gap`` cycles apart; ISR ``base`` until the first) to the register file if the chip's answer holds
        until the last byte; ``address``: (ISR before it, its cycle) when the read's address is still on the wire
        (``_try_read``)."""
        cr1, cr2 = self.values["CR1"], self.values["CR2"]
        n = self.left
        if (n < 2 or cr1 & (0xFE | 1 << 14 | 1 << 15) or cr2 & 1 << 24 or base & (L4_RXNE | TXIS | NACKF | TC | TCR)
                or self._stream_index() is None):
            return
        host: Any = self.host
        quiet = target.quiet_until()
        if quiet is None:
            return
        limit = host.cycle_at_fs(quiet) - self.STREAM_MARGIN
        if ats[-1] >= limit or gap < 64:
            return
        miso = target.preview_reads(target._ptr, target._inc, n)
        if len(miso) != n:
            return
        done = base | L4_RXNE
        last = (base | L4_RXNE | L4_STOPF) & ~(L4_BUSY | TXIS) if cr2 & 1 << 25 else base | L4_RXNE | TC
        xi = self._xi
        assert xi is not None and self._event is not None
        host.cancel(self._event)
        self._event = None
        sr = (base, done, last, last & ~L4_RXNE)
        if isinstance(ats, _EvenAts):  # the arrival cycles computed in C from the wire times, on the same segment
            host.bus.rf.xfer_timeline(xi, ats.cycle, ats.fs, ats.num, ats.den // FS_PER_SECOND)
            host.bus.rf.xfer_start_i2c_even(xi, bytes(miso), wires[0], wires.step, ats.first or 0, sr)
        else:
            host.bus.rf.xfer_start_i2c(xi, bytes(miso), ats, sr)
        if address is not None:
            host.bus.rf.xfer_i2c_address(xi, *address)
        ev = host.schedule(limit, self._settle_at_limit, f"{self.periph} stream limit") if quiet < 1 << 62 else None
        self._stream = (xi, target, miso, ats, wires, bool(cr2 & 1 << 25), base, address, ev)
        if cr2 & 1 << 25 and self._icr_in_c(target):
            host.bus.rf.xfer_i2c_icr(xi, self._icr, L4_STOPF)
            host.bus.settle_first.append(self._settle)
            # the next register-address write may start in C once every byte was read and STOPF cleared (_settle's
            # ISR then: STOPF set by AUTOEND with BUSY and TXIS cleared, then cleared by the ICR write)
            self._arm_cr2(xi, (base | L4_STOPF) & ~(L4_BUSY | TXIS | L4_STOPF), wires[-1])

    def _even_ats(self, wires: range, first: int | None) -> tuple[_EvenAts, int] | None:
        """The arrival cycles of ``wires`` (byte 0 at ``first`` when given) without computing them all (``_EvenAts``),
        and the cycles at least between two (as ``_cycles_at``), when every wire end is on the clock timeline's
        current segment and the register file can compute them in C (its 64-bit rate); else None."""
        host: Any = self.host
        timeline = getattr(getattr(host, "clocks", None), "timeline", None)
        seg = timeline.current if timeline is not None else None
        if (seg is None or not seg.hz or len(wires) < 2 or wires[0] <= seg.fs or wires.step <= 0
                or seg.rate_num >= 1 << 64 or seg.rate_den >= 1 << 64):
            return None
        den = seg.rate_den * FS_PER_SECOND
        return _EvenAts(wires, seg.cycle, seg.fs, seg.rate_num, den, first), wires.step * seg.rate_num // den

    def _icr_in_c(self, target: BusDevice) -> bool:
        """Whether a read stream may take the STOPF clear after its last byte (RF_XICR): the stream is then taken back
        at the next access Python serves (``bus.settle_first``), at its limit, or before the run's figures, so the chip
        hears the end of the read and its output lines change only then (they can only fall: the drain lowered its
        FIFO level). Refused when an EXTI line watches falling edges (FTSR), which could see that late, or when the
        board's EXTI is not one simcore knows."""
        host: Any = self.host
        if self._icr is None:
            if self._icr_tried:
                return False
            self._icr_tried = True
            self._icr = host.bus.entry_in_c(self.base + self.register("ICR").offset)
            if self._icr is None:
                return False
        exti = host.peripheral("exti")
        if exti is not None and (not hasattr(exti, "gpio_edge") or exti.values[exti._reg("FTSR")]):
            return False
        if self._settle_all not in target.before_stats:
            target.before_stats.append(self._settle_all)
        return True

    def sensor_stats(self) -> dict[str, Any] | None:
        self._settle_all()  # a stream carried past its last access: the transfer's end counts
        return super().sensor_stats()

    def _cycles_at(self, wires: range) -> tuple[list[int], int]:
        """``host.cycle_at_fs`` of each of ``wires`` (evenly spaced times in the future), and a lower bound of the
        cycles between two of them: on the clock timeline's current segment the same integer ceiling
        (clock.Timeline.cycle_at), carried from one to the next (quotient and remainder of the step)."""
        host: Any = self.host
        timeline = getattr(getattr(host, "clocks", None), "timeline", None)
        seg = timeline.current if timeline is not None else None
        if seg is None or not seg.hz or not wires or wires[0] <= seg.fs or len(wires) < 2:
            ats = [host.cycle_at_fs(w) for w in wires]
            return ats, min((b - a for a, b in zip(ats, ats[1:])), default=1 << 62)
        c, num, den = seg.cycle, seg.rate_num, seg.rate_den * FS_PER_SECOND
        q, r = divmod((wires[0] - seg.fs) * num, den)  # cycle = c + ceil((wire - fs) * num / den)
        dq, dr = divmod(wires.step * num, den)
        ats = []
        for _ in wires:
            ats.append(c + q + (r > 0))
            q += dq
            r += dr
            if r >= den:
                q += 1
                r -= den
        return ats, dq

    def _try_tx(self) -> None:
        """START and the address of a one-byte write (the register address before a read) are on the wire: hand the
        write to the register file (XFER on TXDR, regfile.c rf_xfer_start_i2c_tx): ISR shows TXIS from the address's
        acknowledge, a TXDR write puts the byte on the wire for 9 SCL periods from then or from the address's end,
        and ISR shows TC (AUTOEND: STOPF, not BUSY) from the byte's end, as this model's events would. The chip hears
        START, the address and the byte when the model settles (``_settle_tx``): none of them depends on time."""
        cr1, cr2 = self.values["CR1"], self.values["CR2"]
        if (self.left != 1 or self._event is None or self.txdr_full or cr1 & (0xFE | 1 << 14 | 1 << 15)
                or cr2 & 1 << 24 or not isinstance(self.bus.targets.get(cr2 >> 1 & 0x7F), BusDevice)):
            return
        host: Any = self.host
        seg = host.clocks.timeline.current
        if seg.kind != "run" or not seg.hz or seg.rate_num >= 1 << 64 or seg.rate_den >= 1 << 64:
            return
        if self._txi is None and not self._txi_tried and self._stream_index() is not None:
            self._txi_tried = True  # the read stream's slot first: it settles both at clock changes
            self._txi = host.bus.xfer_in_c(self.base + self.register("TXDR").offset,
                                           self.base + self.register("ISR").offset)
        txi = self._txi
        if txi is None:
            return
        wait = self.isr
        ready = (wait & ~DIR) | TXIS | L4_TXE  # _address_done, then _next_byte waiting for TXDR
        busy = ready & ~TXIS  # write_TXDR, then _next_byte sending it
        done = (busy | L4_STOPF) & ~(L4_BUSY | TXIS) if cr2 & 1 << 25 else busy | TC  # _sent: _block_end
        at_ready = self._event.at_cycle
        host.cancel(self._event)
        self._event = None
        rf = host.bus.rf
        rf.xfer_timeline(txi, seg.cycle, seg.fs, seg.rate_num, seg.rate_den)
        rf.xfer_start_i2c_tx(txi, 1, (wait, ready, busy, done), self._periods_fs(9), self._wire_fs, at_ready, TX_LIMIT)
        self._stream = _TxPhase(txi, at_ready)

    def _settle_tx(self) -> None:
        """Take a write back from the register file: the address event and the byte's as the model would have run
        them by the block-entry clock (the chip hears START, the address and the byte now), or left scheduled."""
        assert isinstance(self._stream, _TxPhase)
        host: Any = self.host
        at_ready = self._stream.at_ready
        k, wire, at_sent, mosi = (lambda g: (g[2], g[5], g[6], g[7]))(host.bus.rf.xfer_get(self._stream.xi))
        self._drop_stream()
        clock = host.hot.state.block_cycle
        if clock < at_ready:  # the address is still on the wire: its event as after(10) made it
            self._event = host.schedule(at_ready, self._wrap(self._address_done), f"{self.periph} address")
            self._event.at_fs = self._wire_fs
            return
        self._address_done()
        if not k:
            return
        byte = mosi[0]
        self.txdr = byte  # write_TXDR, then _next_byte: on the wire until ``wire``
        self.isr = (self.isr & ~TXIS) | L4_TXE
        self._wire_fs = wire
        if clock >= at_sent:
            self._sent(byte)
        else:
            self._event = host.schedule(at_sent, self._wrap(lambda: self._sent(byte)), f"{self.periph} byte")
            self._event.at_fs = wire
        self._irqs()

    def _drop_stream(self) -> None:
        xi, ev = self._stream[0], self._stream[-1]  # type: ignore[index]
        self._stream = None
        pending = self.host.bus.settle_first  # type: ignore[attr-defined]
        if self._settle in pending:
            pending.remove(self._settle)
        self.host.bus.rf.xfer_stop(xi)  # type: ignore[attr-defined]
        if ev is not None:
            self.host.cancel(ev)

    def _settle(self) -> None:
        """Take the transfer back (``_settle_read``, ``_settle_tx``), then the armed register-address write
        (``_take_cr2``): a write the register file started becomes the transfer in flight."""
        stream = self._stream
        if stream is not None:
            if isinstance(stream, _TxPhase):
                self._settle_tx()
            else:
                self._settle_read()
        if self._cr2_armed:
            self._take_cr2()

    def _settle_all(self) -> None:
        """Take everything back: the transfer in flight and a write the register file started after it."""
        while self._stream is not None or self._cr2_armed:
            self._settle()

    def _settle_at_limit(self) -> None:
        """The read stream's limit (the chip changes next): take it back; the model idle after it, arm the next
        register-address write (``_arm_cr2``)."""
        self._settle()
        if self._stream is None and not self.active and self._event is None and not self.left:
            self._arm_cr2(None, self.isr, self._wire_fs)

    def read(self, offset: int, size: int) -> int:
        if self._cr2_armed or self._stream is not None:
            self._settle_all()
        return super().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        if self._cr2_armed or self._stream is not None:
            self._settle_all()
        super().write(offset, size, value)

    def _stream_attached(self) -> None:
        self.host.on_clock_change(self._settle_all)  # (before StreamedTransfers' _settle: a started write too)

    def _arm_cr2(self, link: int | None, isr: int, wire_fs: int) -> None:
        """Let the register file serve the next write of the CR2 word that last started a one-byte register-address
        write (``_tx_cr2``) and start that write itself (regfile.c rf_xfer_i2c_arm: RM0432 48.4.8, START with NBYTES 1),
        as ``write_CR2`` and ``_try_tx`` would with ISR ``isr`` and the wire busy until ``wire_fs``: at once when
        ``link`` is None (the model idle), else once read stream ``link`` read every byte and took its STOPF clear.
        Any access the model serves, a clock change or the figures take it back first (``_take_cr2``). What the write's
        timing and ISR values depend on (the word, ISR, TIMINGR, the clock timeline's segment) unchanged since the last
        arm, the register file re-arms with the values it has (one call)."""
        value, txi = self._tx_cr2, self._txi
        cr1 = self.values["CR1"]
        if value is None or txi is None or self.txdr_full or cr1 & (0xFE | 1 << 14 | 1 << 15) or not cr1 & 1:
            return
        host: Any = self.host
        seg = host.clocks.timeline.current
        key = (value, isr, self.values["TIMINGR"], seg)
        rf = host.bus.rf
        if key == self._cr2_key:
            rf.xfer_i2c_rearm(txi, link, wire_fs)
            self._cr2_armed = True
            return
        if (value & (1 << 10 | 1 << 11 | 1 << 14 | 1 << 24) or value >> 16 & 0xFF != 1
                or not isinstance(self.bus.targets.get(value >> 1 & 0x7F), BusDevice)):
            return
        if self._cr2 is None:
            if self._cr2_tried:
                return
            self._cr2_tried = True
            self._cr2 = host.bus.entry_in_c(self.base + self.register("CR2").offset)
            if self._cr2 is None:
                return
        if seg.kind != "run" or not seg.hz or seg.rate_num >= 1 << 64 or seg.rate_den >= 1 << 64:
            return
        wait = (isr & ~(TC | TCR)) | L4_BUSY  # write_CR2's START
        ready = (wait & ~DIR) | TXIS | L4_TXE  # as _try_tx
        busy = ready & ~TXIS
        done = (busy | L4_STOPF) & ~(L4_BUSY | TXIS) if value & 1 << 25 else busy | TC
        rf.xfer_timeline(txi, seg.cycle, seg.fs, seg.rate_num, seg.rate_den)
        rf.xfer_i2c_arm(txi, self._cr2, value, link, 1, (wait, ready, busy, done), self._periods_fs(10),
                        self._periods_fs(9), wire_fs, TX_LIMIT)
        self._cr2_armed = True
        self._tx_wait = wait
        self._cr2_key = key

    def _take_cr2(self) -> None:
        """Disarm the register-address write (``_arm_cr2``); if the register file served it, the model's state as
        ``write_CR2`` and ``_try_tx`` left it at that write: the write in flight is the register file's."""
        self._cr2_armed = False
        state, addr_end, at_ready = self.host.bus.rf.xfer_i2c_take(self._txi)  # type: ignore[attr-defined]
        if state != 2:
            return
        value = self._tx_cr2
        assert value is not None
        self.values["CR2"] = value & ~(1 << 13 | 1 << 14)
        self.isr = (self.isr & ~(TC | TCR)) | L4_BUSY
        if self.isr != self._tx_wait or self._stream is not None or self.active:
            raise RuntimeError(f"{self.periph}: a register-address write started in C from ISR {self._tx_wait:#x}, the "
                               f"model's is {self.isr:#x}")
        self.active = True
        self.reading = False
        self.left = value >> 16 & 0xFF
        self._wire_fs = addr_end
        self._stream = _TxPhase(self._txi, at_ready)  # type: ignore[arg-type]
        self._irqs()

    def _settle_read(self) -> None:
        """Take a read back: the bytes received by now (by the block-entry clock) replayed into the chip, ISR, RXDR
        and the pending byte event as the model's own events would have left them."""
        assert self._stream is not None
        xi, target, miso, ats, wires, autoend, base, address, _ev = self._stream
        host: Any = self.host
        rd = host.bus.rf.xfer_get(xi)[3]
        icr_done = host.bus.rf.xfer_icr_done(xi)
        self._drop_stream()
        n = len(miso)
        clock = host.hot.state.block_cycle
        if address is not None:  # started at the read's START (_try_read)
            if clock < address[1]:  # the address is still on the wire: its event as after(10) made it
                self._event = host.schedule(address[1], self._wrap(self._address_done), f"{self.periph} address")
                self._event.at_fs = self._wire_fs
                return
            self.bus.start(self.values["CR2"] >> 1 & 0x7F, True)  # _address_done's acknowledge (DIR is in base)
        got = rd + 1 if rd < n and clock >= ats[rd] else rd
        answers = target.i2c_replay(got)
        if answers != miso[:got]:
            raise RuntimeError(f"{self.periph} stream: the chip answered {bytes(answers).hex()}, previewed "
                               f"{bytes(miso[:got]).hex()}")
        if got:
            self.rxdr = answers[-1]
        self.left = n - got
        self.isr = base | (L4_RXNE if got > rd else 0)
        if got == n:
            self._wire_fs = wires[-1]
            if autoend:
                self.bus.stop()
                self.active = False
                self.isr = (self.isr | L4_STOPF) & ~(L4_BUSY | TXIS)
                if icr_done:  # the firmware's ICR write of STOPF (write_ICR), served by the register file since
                    self.isr &= ~L4_STOPF
            else:
                self.isr |= TC
        else:
            wire = wires[got]
            if got > rd and clock >= ats[got]:  # the next byte found RXDR full: the clock stretched since
                d1 = self._periods_fs(1)
                wire += d1
                while host.cycle_at_fs(wire) <= clock:
                    wire += d1
            self._wire_fs = wire
            self._event = host.schedule(host.cycle_at_fs(wire) if wire != wires[got] else ats[got],
                                        self._wrap(self._received), f"{self.periph} byte")
            self._event.at_fs = wire
        self._irqs()

    def write_ISR(self, value: int) -> None:
        if value & 1:  # TXE written 1: flush TXDR
            self.txdr_full = False
            self.isr |= L4_TXE
        self._irqs()

    def write_ICR(self, value: int) -> None:
        self.isr &= ~(value & (1 << 3 | NACKF | L4_STOPF | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12 | 1 << 13))
        self._irqs()

    def write_TXDR(self, value: int) -> None:
        self.txdr = value & 0xFF
        self.txdr_full = True
        self.isr &= ~(TXIS | L4_TXE)
        if self.active and not self.reading and self._event is None and self.left:
            self._next_byte()
        self._irqs()

    def read_RXDR(self) -> int:
        self.isr &= ~L4_RXNE
        self._irqs()
        return self.rxdr
