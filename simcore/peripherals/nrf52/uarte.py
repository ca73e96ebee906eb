"""nRF52840 UARTE0/1 (Product Specification v1.7, section 6.34): a UART with EasyDMA, paced at its baud rate.

Transmit: ``TASKS_STARTTX`` (``ENABLE`` = 8) generates ``EVENTS_TXSTARTED`` and sends
``TXD.MAXCNT`` bytes from ``TXD.PTR``; each frame (start bit, 8 data bits, parity if
``CONFIG.PARITY``, one or two stop bits) lasts ``bits / baud`` seconds of virtual time, the
baud rate being ``BAUDRATE`` x 16 MHz / 2^32 (0x01D7E000: 115200 baud). ``EVENTS_TXDRDY`` after
each byte, ``EVENTS_ENDTX`` (``TXD.AMOUNT`` set) after the last. The bytes reach the console when
EasyDMA takes them, so nothing printed is lost however the firmware ends. ``TASKS_STOPTX``
ends a transfer early (``ENDTX`` with what was sent) and gives ``EVENTS_TXSTOPPED``.

Receive: the bytes of the file named by the board's ``input`` option of the UARTE
(``[[peripheral]] name = "uarte0" input = "rx.bin"``; ``-``: standard input, read to its end at
the first ``TASKS_STARTRX``) arrive back to back at the baud rate while the receiver runs; they
wait while it is stopped (as with flow control), so none is lost. ``TASKS_STARTRX`` gives
``EVENTS_RXSTARTED`` and fills ``RXD.PTR`` (up to ``RXD.MAXCNT`` bytes, ``EVENTS_RXDRDY`` for each),
then ``EVENTS_ENDRX`` with ``RXD.AMOUNT``; the ``ENDRX_STARTRX`` shortcut restarts it on the next
buffer. ``TASKS_STOPRX`` ends the transfer one frame later: ``ENDRX`` with what arrived, then
``EVENTS_RXTO``. ``TASKS_FLUSHRX`` gives ``ENDRX`` with nothing (the receiver holds no FIFO here).

EasyDMA reaches Data RAM only (PS 5.? "EasyDMA"): a pointer elsewhere is reported as a firmware
error and the transfer moves nothing. Not modelled: parity/framing errors and break
(``ERRORSRC`` stays 0), hardware flow control (``CTS``/``NCTS`` never happen).

The transmitter's registers in C: a console prints through ``TXD.PTR``/``TXD.MAXCNT``,
``TASKS_STARTTX``, a poll of ``EVENTS_ENDTX``, ``TASKS_STOPTX`` and ``EVENTS_TXSTOPPED``, about 15
accesses per line, each a Python call. The events are held by the register file while their
interrupt is off (every nRF52 model's, simcore/peripherals/nrf52/common.py); this model also hands it
``TXD.PTR``/``TXD.MAXCNT`` (storage it reads at ``STARTTX``) and ``TASKS_STOPTX`` while no
transmission is under way and nothing but the event register sees ``TXSTOPPED`` (no ``INTEN`` bit,
shortcut or PPI route): the task register then shares the event's value, and a write of 1 sets it.
Every write that is not a whole word within the register's fields stays with the model. ``TX_IN_C = False``
(with ``NordicPeripheral.EVENTS_IN_C`` and ``STORAGE_IN_C`` False) keeps every access in Python: the same run, access
for access (tests/integration/test_uarte_in_c.py). Holding ``TXD.PTR``/``TXD.MAXCNT`` is NordicPeripheral's
``HELD_STORAGE`` (TWIM uses it too).

``TASKS_STARTTX`` in C (hotpath.c hp_uarte_start): while nothing but the event registers sees TXSTARTED, TXDRDY and
ENDTX (no interrupt, shortcut or PPI route), the machine arms C with :meth:`Nrf52Uarte.tx_start_plan`; a write of 1
then takes TXD.MAXCNT bytes from TXD.PTR (Data RAM) into a buffer, makes the register-file changes the model would
make and plans the end (TXDRDY, ENDTX, TASKS_STOPTX back to C) at the cycle the baud rate gives, applied in C as
Machine._plan_apply would plan it. Python's next sync (Machine.settle_uarte) gives the model its transfers in order,
as of their cycles, and the console the bytes. The console is left to the model when its bytes must be seen at once
(a live echo, pass/fail markers, a listener). ``TX_START_IN_C = False``: every STARTTX here
(tests/integration/test_uarte_start_in_c.py).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any, NamedTuple

from simcore.abi import AP_FLAGS
from simcore.clock import FS_PER_SECOND
from simcore.errors import BadInputError
from simcore.peripherals import register_model
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.peripherals.nrf52.dma import DATA_RAM, EasyDma
from simcore.regfile import FIT, PY

ENABLED = 8
EV_RXDRDY, EV_ENDRX, EV_TXDRDY, EV_ENDTX, EV_RXTO = 2, 4, 7, 8, 17
EV_RXSTARTED, EV_TXSTARTED, EV_TXSTOPPED = 19, 20, 22
TASKS_STOPTX = 0x00C
EVENTS_BASE = 0x100
TX_PLAIN = {"TXD_PTR": 0x544, "TXD_MAXCNT": 0x548}  # storage only: the model reads them at STARTTX


# serials of TASKS_STARTTX plans (Machine._arm_uarte rewrites C's copy when the serial differs): a module counter, never
# rolled back by a snapshot's restore, so a serial names one plan's contents for the process's life
_PLAN_SERIALS = itertools.count(1)


class TxStartPlan(NamedTuple):
    """What hp_uarte_start does for TASKS_STARTTX (Nrf52Uarte.tx_start_plan): the task's address, the register file's
    values of TXD.PTR and TXD.MAXCNT, one frame's femtoseconds, the register-file changes at the start (ops as
    :meth:`NordicPeripheral.apply_ops` gives them) and at the end."""

    serial: int
    task_addr: int
    ptr_store: int
    max_store: int
    frame_fs: int
    start_ops: list[tuple[int, int, int]]
    end_ops: list[tuple[int, int, int]]


def read_input(where: str, path: str) -> bytes:
    """The bytes a UART receives: a file, or standard input (``-``) read to its end."""
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if not p.is_file():
        raise BadInputError(f"{where}: UART input file {path} does not exist or is not a regular file")
    return p.read_bytes()


def baud_of(register: int) -> float:
    """Baud rate of a BAUDRATE/FREQUENCY register value: value x 16 MHz / 2^32 (PS 6.34.10.?)."""
    return (register & 0xFFFFF000) * 16e6 / 2**32


@register_model
class Nrf52Uarte(NordicPeripheral):
    """UARTE of the nRF52840 (see the module docstring); may be the board's console."""

    TYPE = "nrf52_uarte"
    CONSOLE = True  # may be a board's [console] peripheral (simcore.validate)
    SVD = "UARTE"
    PLAIN = ("SHORTS", "ERRORSRC", "ENABLE", "PSEL_RTS", "PSEL_TXD", "PSEL_CTS", "PSEL_RXD", "BAUDRATE",
             "RXD_PTR", "RXD_MAXCNT", "RXD_AMOUNT", "TXD_PTR", "TXD_MAXCNT", "TXD_AMOUNT", "CONFIG")
    OPTIONS = {"input": "file of bytes to receive, '-' for standard input"}

    def __init__(self, config: Any, host: Any, registers: Any = None) -> None:
        self.dma = EasyDma(host, self)
        self.input_path = config.options.get("input")
        self._rx_data: bytes | None = None
        if self.input_path is not None and self.input_path != "-":
            self._rx_data = read_input(config.name, str(self.input_path))  # a bad path: refused before the run
        self.rx_pos = 0  # next input byte to arrive
        self._rx_on = False
        self._rx_count = 0
        self._rx_event: Any = None
        self._rx_next_fs: int | None = None  # when the next input byte completes (bytes follow back to back)
        self._tx_event: Any = None
        self._tx_count = 0
        self._tx_start_fs = 0
        self.stats = {"tx_bytes": 0, "rx_bytes": 0}
        self._c_stop: list[Any] | None = None  # TASKS_STOPTX: [entry, flags in C, flags in Python, in C now]
        # bumped by every access and task: tx_start_plan is made again after one, or when TASKS_STOPTX's state changed
        # (a transfer's steps change nothing else it reads but the transfer under way, which it checks first)
        self._gen = 0
        self._plan_key: tuple[int, int] = (-1, -1)
        self._plan: TxStartPlan | None = None
        super().__init__(config, host, registers)
        self.fabric.route_listeners.append(self._routes)

    # --- the transmitter's registers in C (module docstring) -------------------------------------
    TX_IN_C = True  # False: TASKS_STOPTX stays in Python (tests compare both; STORAGE_IN_C: TXD.PTR/TXD.MAXCNT)
    HELD_STORAGE = TX_PLAIN

    def _stop_check(self) -> None:
        """TASKS_STOPTX in C (a write of 1 sets the held TXSTOPPED: the task register shares its value) while no
        transmission is under way and nothing but the event register sees TXSTOPPED (INTEN, a shortcut, the PPI)."""
        if not self._held or not self.TX_IN_C:
            return
        want = self._tx_event is None and self._stop_in_c()
        stop = self._c_stop
        if stop is None:
            if not want:
                return
            bus = self.host.bus  # type: ignore[attr-defined]
            got = bus.serve_in_c(self.base + TASKS_STOPTX, True, (0, 0, 1, 0),
                                 share=self.base + EVENTS_BASE + 4 * EV_TXSTOPPED, reads=False)
            if got is not None:
                flags = bus.rf.flags(got[0])
                self._c_stop = stop = [got[0], flags, flags & ~FIT | PY, True]
            return
        if stop[3] != want:  # configured once: only its flags change (twice per transfer)
            stop[3] = want
            self.host.bus.rf.set_flags(stop[0], stop[1] if want else stop[2])  # type: ignore[attr-defined]

    def _stop_in_c(self) -> bool:
        """Nothing but the event register sees TXSTOPPED (no shortcut or PPI route; held: its interrupt off)."""
        shorts = self.values.get("SHORTS", 0)
        return (EV_TXSTOPPED in self._held and self.base + EVENTS_BASE + 4 * EV_TXSTOPPED not in self.fabric.routes
                and not any(ev == EV_TXSTOPPED and shorts >> bit & 1 for bit, ev, _task in self._shorts))

    def _routes(self) -> None:
        """The PPI changed its routes (a route from TXSTOPPED takes TASKS_STOPTX back)."""
        self._gen += 1
        self._stop_check()

    def read(self, offset: int, size: int) -> int:
        self._gen += 1  # an event read may hand the event to the register file (_hold)
        return super().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        self._gen += 1
        super().write(offset, size, value)  # (TXD.PTR/TXD.MAXCNT: HELD_STORAGE)
        self._stop_check()  # SHORTS, INTEN, a transfer or what the register file holds may have changed

    def held_built(self, rf: Any, first: int, store0: int, held: tuple[tuple[int, int], ...]) -> None:
        """NordicPeripheral.held_built; tx_start_plan made again (TASKS_STOPTX in C follows at the next write here)."""
        super().held_built(rf, first, store0, held)
        self._gen += 1

    def task(self, i: int) -> None:
        self._gen += 1  # (a shortcut's or the PPI's: firmware's come through write)
        super().task(i)

    def reset(self) -> None:
        self._gen = getattr(self, "_gen", 0) + 1
        super().reset()

    # --- TASKS_STARTTX in C (hotpath.c hp_uarte_start; Machine._arm_uarte, settle_uarte) -------------------
    TX_START_IN_C = True  # False: every TASKS_STARTTX comes here (tests compare both)
    DMA_RAM = DATA_RAM  # what EasyDMA reaches (C reads the bytes from the host buffer of it)

    def tx_start_plan(self, after_end: bool = False) -> TxStartPlan | None:
        """What C may do for the next TASKS_STARTTX (made again after any access, task or transfer step): what
        :meth:`task_STARTTX` does when ENABLE is 8, no transfer is under way, TXD.PTR and TXD.MAXCNT are held by the
        register file and nothing but the event registers sees TXSTARTED, TXDRDY and ENDTX (no interrupt, shortcut or
        PPI route): the bytes to the console, TXSTARTED set and TASKS_STOPTX taken back (:meth:`_stop_check`), and the
        end as :meth:`_tx_apply_plan` would give it (the events set, TASKS_STOPTX to C again). C checks the pointer
        and count (1 byte or more, in Data RAM) and the timing. None: Python's. ``after_end``: the plan as it will be
        once the transfer under way ends by the end C applies (Machine._plan_apply planned it): TASKS_STOPTX then as
        :meth:`_tx_applied` leaves it."""
        stop = self._c_stop
        if not after_end:
            if self._tx_event is not None:
                return None
            key = (self._gen, -1 if stop is None else stop[3])
        else:
            key = (self._gen, -1 if stop is None else bool(self._held) and self._stop_in_c())
        if key == self._plan_key:
            return self._plan
        self._plan_key = key
        self._plan = None
        if not (self.TX_START_IN_C and self.TX_IN_C) or self.values["ENABLE"] & 0xF != ENABLED:
            return None
        ptr, count = self._c_plain.get("TXD_PTR"), self._c_plain.get("TXD_MAXCNT")
        frame = self.frame_fs()
        if ptr is None or count is None or frame <= 0:
            return None
        start = self.apply_ops((EV_TXSTARTED,))
        end = self.apply_ops((EV_TXDRDY, EV_ENDTX))
        if start is None or end is None:
            return None
        want = bool(self._held) and self._stop_in_c()
        if stop is None and want:
            return None  # _tx_apply_plan: _stop_check would make the register file's entry at the end
        if stop is not None:
            if key[1]:  # _stop_check after STARTTX: a transfer is under way, STOPTX is Python's
                start.append((AP_FLAGS, stop[0], stop[2]))
            if want:  # _tx_apply_plan: back to C at the end
                end.append((AP_FLAGS, stop[0], stop[1]))
        task = self.base + 4 * next(i for i, name in self.task_names.items() if name == "STARTTX")
        self._plan = TxStartPlan(next(_PLAN_SERIALS), task, ptr, count, frame, start, end)
        return self._plan

    def tx_started_in_c(self, data: bytes, ended: bool) -> None:
        """:meth:`task_STARTTX` as C did it at this cycle (Machine.settle_uarte): TXSTARTED (its register-file value C
        set), EasyDMA's count, the console, the transfer; its end event is scheduled unless C applied it too
        (``ended``: :meth:`tx_ended_in_c` follows as of the end's cycle)."""
        self.fire_applied(EV_TXSTARTED)
        self.dma.read_bytes += len(data)
        self.host.console_write(data, self.name)
        self.stats["tx_bytes"] += len(data)
        self._tx_count = len(data)
        self._tx_start_fs = self.host.now_fs()
        self._tx_sent = 0
        if not ended:
            self._tx_next()
            self._stop_check()

    def tx_ended_in_c(self) -> None:
        """The end C applied at this cycle for a transfer it started (:meth:`_tx_applied`)."""
        self._tx_applied(self._tx_count - self._tx_sent)

    # --- timing ----------------------------------------------------------------------------------
    def baud(self) -> float:
        return baud_of(self.values["BAUDRATE"])

    def frame_fs(self) -> int:
        config = self.values["CONFIG"]
        bits = 1 + 8 + (1 if (config >> 1 & 7) == 7 else 0) + (2 if config >> 4 & 1 else 1)
        baud = self.baud()
        if baud <= 0:
            return 0
        return round(bits * FS_PER_SECOND / baud)

    def _enabled(self, task: str) -> bool:
        if self.values["ENABLE"] & 0xF == ENABLED:
            return True
        self.guest_error(f"{self.svd_name}.TASKS_{task}", "task triggered while ENABLE != 8 (UARTE): ignored")
        return False

    def _wants(self, ev: int) -> bool:
        """Does anything see per-byte events (an interrupt or a PPI route)? Else they are set at the end."""
        return bool(self.values["INTEN"] >> ev & 1) or (self.base + 0x100 + 4 * ev) in self.fabric.routes

    # --- transmit --------------------------------------------------------------------------------
    def task_STARTTX(self) -> None:
        if not self._enabled("STARTTX"):
            return
        if self._tx_event is not None:
            self.guest_error(f"{self.svd_name}.TASKS_STARTTX", "STARTTX while a transmission is under way: ignored")
            return
        count = self.storage("TXD_MAXCNT") & 0xFFFF
        data = self.dma.read(self.storage("TXD_PTR"), count, "TXD.PTR")
        self.fire(EV_TXSTARTED)
        if data:
            self.host.console_write(data, self.name)
            self.stats["tx_bytes"] += len(data)
        self._tx_count = len(data)
        self._tx_start_fs = self.host.now_fs()
        self._tx_sent = 0
        self._tx_next()
        self._stop_check()

    def _tx_next(self) -> None:
        frame = self.frame_fs()
        if self._tx_sent >= self._tx_count:
            self._tx_end()
            return
        n = 1 if self._wants(EV_TXDRDY) else self._tx_count - self._tx_sent
        at = self._tx_start_fs + (self._tx_sent + n) * frame  # back to back from TASKS_STARTTX
        ev = self.host.schedule_at_fs(at, lambda: self._tx_sent_bytes(n), f"{self.svd_name} TX")
        if hasattr(ev, "apply"):
            ev.apply = lambda: self._tx_apply_plan(n)
        self._tx_event = ev

    def _tx_apply_plan(self, n: int) -> tuple[list[tuple[int, int, int]], int, Any] | None:
        """The transfer's end as C may do it at its cycle (Event.apply): the last bytes' TXDRDY and ENDTX held by the
        register file with nothing else seeing them, and TASKS_STOPTX handed to the register file as _stop_check then
        does (when it holds an entry for it already). TXD.AMOUNT stays the model's (its read comes here after
        Machine.settle_apply)."""
        if self._tx_sent + n < self._tx_count:
            return None  # per-byte TXDRDY events (an interrupt or a route sees them): Python's
        ops = self.apply_ops((EV_TXDRDY, EV_ENDTX))
        if ops is None:
            return None
        stop = self._c_stop
        if self._held and self.TX_IN_C:
            want = self._stop_in_c()
            if stop is None and want:
                return None  # _stop_check would make the register file's entry: Python's
            if stop is not None and stop[3] != want:
                ops.append((AP_FLAGS, stop[0], stop[1] if want else stop[2]))
        return ops, 0, lambda: self._tx_applied(n)

    def _tx_applied(self, n: int) -> None:
        """:meth:`_tx_sent_bytes` (ending the transfer) after C set the events (Machine.settle_apply, at its cycle)."""
        self._tx_event = None
        self._tx_sent += n
        self.fire_applied(EV_TXDRDY)
        self.values["TXD_AMOUNT"] = self._tx_sent  # _tx_end
        self.fire_applied(EV_ENDTX)
        self._stop_check()

    def _tx_sent_bytes(self, n: int) -> None:
        self._tx_event = None
        self._tx_sent += n
        self.fire(EV_TXDRDY)
        self._tx_next()

    def _tx_end(self) -> None:
        self._tx_event = None
        self.values["TXD_AMOUNT"] = self._tx_sent
        self.fire(EV_ENDTX)
        self._stop_check()

    def task_STOPTX(self) -> None:
        if self._tx_event is not None:
            self.host.cancel(self._tx_event)
            frame = self.frame_fs()
            done = (self.host.now_fs() - self._tx_start_fs) // frame if frame else self._tx_count
            self._tx_sent = min(int(done), self._tx_count)
            self._tx_end()
        self.fire(EV_TXSTOPPED)

    # --- receive ---------------------------------------------------------------------------------
    def _input(self) -> bytes:
        if self._rx_data is None:
            self._rx_data = read_input(self.name, str(self.input_path)) if self.input_path is not None else b""
        return self._rx_data

    def task_STARTRX(self) -> None:
        if not self._enabled("STARTRX"):
            return
        if self._rx_on:
            return  # already receiving (RXD.PTR may be changed for the next buffer)
        self._rx_on = True
        self._rx_count = 0
        self._rx_ptr = self.values["RXD_PTR"]
        self._rx_max = self.values["RXD_MAXCNT"] & 0xFFFF
        self.fire(EV_RXSTARTED)
        if self._rx_max == 0:
            self._rx_end()
            return
        self._rx_schedule()

    def _rx_schedule(self) -> None:
        if not self._rx_on or self._rx_event is not None or self.rx_pos >= len(self._input()):
            return
        frame = self.frame_fs()
        now = self.host.now_fs()
        if self._rx_next_fs is None or self._rx_next_fs < now:  # the line was idle: the next byte starts now
            self._rx_next_fs = now + frame
        self._rx_event = self.host.schedule_at_fs(self._rx_next_fs, self._rx_arrive, f"{self.svd_name} RX")

    def _rx_arrive(self) -> None:
        self._rx_event = None
        self._rx_next_fs = (self._rx_next_fs or self.host.now_fs()) + self.frame_fs()  # back to back
        data = self._input()
        byte = data[self.rx_pos]
        self.rx_pos += 1
        self.stats["rx_bytes"] += 1
        self.dma.write(self._rx_ptr + self._rx_count, bytes([byte]), "RXD.PTR")
        self._rx_count += 1
        self.fire(EV_RXDRDY)
        if self._rx_count >= self._rx_max:
            self._rx_end()  # ENDRX; the ENDRX_STARTRX shortcut may start the next buffer
            return
        self._rx_schedule()

    def _rx_end(self) -> None:
        self.values["RXD_AMOUNT"] = self._rx_count
        self._rx_on = False
        if self._rx_event is not None:
            self.host.cancel(self._rx_event)
            self._rx_event = None
        self.fire(EV_ENDRX)
        if self._rx_on:  # restarted by a shortcut
            self._rx_schedule()

    def task_STOPRX(self) -> None:
        if not self._rx_on:
            self.fire(EV_RXTO)
            return
        frame = self.frame_fs()
        if self._rx_event is not None:
            self.host.cancel(self._rx_event)
            self._rx_event = None
        self._rx_on = False
        self.host.schedule_at_fs(self.host.now_fs() + frame, self._rx_timeout, f"{self.svd_name} RXTO")

    def _rx_timeout(self) -> None:
        self.values["RXD_AMOUNT"] = self._rx_count
        self.fire(EV_ENDRX)
        self.fire(EV_RXTO)

    def task_FLUSHRX(self) -> None:
        self.values["RXD_AMOUNT"] = 0
        self.fire(EV_ENDRX)

    # --- reports ---------------------------------------------------------------------------------
    def sensor_stats(self) -> dict[str, Any] | None:
        if self.input_path is None:
            return None
        return {"name": self.name, "type": self.TYPE, "source": str(self.input_path), **self.stats,
                "rx_pending": max(len(self._rx_data or b"") - self.rx_pos, 0)}
