"""The peripheral bus: one dispatcher for every memory-mapped access outside the PPB.

Plain registers (a part's SVD registers that no behavioural model implements) are served
by a register file without calling Python: the C one in ``simcore/native/regfile.c`` behind
Unicorn MMIO windows with C callbacks, or :class:`PyRegFile`, its Python twin of identical
behaviour (used with ``--python-hook`` or without a C compiler). Each 32-bit word of a
window maps to a register entry, or to nothing:

- a plain entry reads ``value & read_mask``; a write keeps the ``write_mask`` bits written,
  clears the ``w1c`` bits written 1 and sets the ``w1s`` bits written 1 (entries may share
  one stored value: nRF52 INTENSET/INTENCLR are views of INTEN);
- a model's register (``PY_READ``/``PY_WRITE``) and a word without an entry go to Python
  (``py(addr, size, value, write)``), which dispatches to the model;
- ``NOTIFY``: Python hears of the next access (``notify``): the first one, which is reported
  with its exact PC (``--strict`` stops there); later accesses only count;
- ``FIT`` (a model's register handed to the register file while it behaves as storage): served as
  a plain entry, but a write that is not a whole aligned word within its masks goes to Python.
- ``CONSOLE`` (a console's transmit data register while its model allows it): a write whose
  value fits the write mask appends its low byte to a buffer Python takes (``console_take``),
  told when it is full or, when the run echoes live, at each newline (``set_console``); the
  write ends the poll streak of the console's status entry. Other writes go to the model.
- ``QUEUE`` (a model's streaming data register, such as a sensor FIFO's data word): aligned word
  reads are answered from a queue of words the model filled (``queue_fill``) while it is not empty
  and the virtual clock is before the queue's deadline (the model's next change, e.g. a sample's
  arrival); the model hears when ``notify_at`` words were served (``queue_notify``) and takes
  the count with ``queue_take``. Other reads go to the model.
- ``TIMED`` (a model's status register whose value follows a schedule on virtual time, such as an SPI's
  SR during a frame): reads give ``before`` while the block-entry clock (the cycle count at the hook of
  the block doing the read: where a machine event at that cycle would have run) is before ``at``,
  ``after`` from ``at`` on, and go to the model from ``end`` on (``timed_set``). Writes go to the model.
  ``next_change`` gives a polling loop's fast-forward the cycle an entry's value changes by itself.
- ``XFER`` (an SPI master's data register while its model streams a transfer, :class:`Xfer`): the model
  started the first frame and previewed what the chip answers for the next ones; DR writes start frames
  (their ends on the clock timeline set the status register's schedule: BSY, then RXNE), DR reads after
  an end return the chip's byte. Anything else goes to the model, which takes the stream's state
  (``xfer_get``) and replays the frames. A script (``xfer_script``: several transfers of one read command,
  previewed at once) also takes the chip select between them (``XCS`` on its GPIO BSRR entry: the exact
  deselect word once a transfer's frames were all read, the select word while a whole transfer is left).

Every entry counts reads and writes, records the bits its writes changed (the report names
those fields), and watches polls: reads in a row of the same value from the same
translated block; ``poll(index, pc, value, count)`` is called when ``count`` reaches a
multiple of ``poll_threshold`` (design and figures: docs/peripheral-bus.md).
"""

from __future__ import annotations

import array
import ctypes
import functools
import itertools
import operator
from collections import deque
from collections.abc import Callable
from typing import Any

import unicorn

from simcore.hotpath import native_library

# NativeRegFile.set_values' loop in C, its parts made once: a value's 32 bits, and an iterator run to its end
_u32 = functools.partial(operator.and_, 0xFFFFFFFF)
_consume = deque(maxlen=0).extend

PY_READ = 1  # reads go to Python (a model's register)
PY_WRITE = 2  # writes go to Python
NOTIFY = 4  # tell Python at the next access (then cleared)
POLL_MUTE = 8  # no poll callbacks until the entry's streak of equal reads ends (set by the watcher)
PY = PY_READ | PY_WRITE
WORDS = 1024  # 32-bit words per 4 KiB page

FIT = 128  # served as a plain entry, but a write that is not a whole aligned word within the masks goes to Python
ACK = 16  # a write is first offered to the hot path's interrupt acknowledge (hp_ack; native only)
CONSOLE = 32  # a write appends its byte to the console buffer (with PY_WRITE for the writes it does not take)
CONSOLE_CAP = 4096  # bytes the buffer holds before Python is told (RF_CON_CAP)
QUEUE = 64  # aligned word reads are answered from the entry's queue while it lasts (rf_queue)
NO_DEADLINE = (1 << 64) - 1
TIMED = 256  # reads follow the entry's schedule (rf_timed) until its end
NEVER = NO_DEADLINE
# a clean polling loop reads this entry (simcore/poll.py): reads served in C go to the hot path's re-recognition
# (hotpath.c hp_poll_read, native only; the twin leaves every fast-forward to poll.py)
POLL_FF = 0x8000
XFER = 512  # an SPI data register a stream serves (rf_xfer)
XFER_MAX = 1024  # frames one stream carries at most (RF_XFER_MAX)
XCS = 0x1000  # a GPIO BSRR entry: chip-select writes of an SPI stream's script are served by it (rf_xfer_script)
XICR = 0x2000  # an I2C interrupt clear register: the STOPF clear after a read stream is served by it (rf_xfer_i2c_icr)
XCR = 0x4000  # an I2C control register: its armed write starts a register-address write (rf_xfer_i2c_arm)
NO_LINK = 0xFFFFFFFF  # an armed write waits for no read stream
FS_PER_SECOND = 10**15


class Xfer:
    """One RF_XFER stream (regfile.c's rf_xfer), in the twin; the state ``xfer_get`` returns."""

    def __init__(self, dr: int, sr: int, ti: int) -> None:
        self.dr, self.sr, self.ti = dr, sr, ti
        self.active = False
        self.n = self.k = self.rd = 0
        self.after_dr = False
        self.sr_idle = self.sr_busy = self.sr_done = 0
        self.frame_fs = self.wire_fs = 0
        self.limit = 0
        self.seg: tuple[int, int, int, int] = (0, 0, 1, 1)  # cycle, fs, num, den
        self.mosi: list[int] = []
        self.miso: list[int] = []
        self.i2c = 0  # 1: an I2C read stream (driven by reads, byte arrivals in ats); 2: an I2C write (TXDR)
        self.ats: list[int] = []
        self.sr_last = self.sr_final = 0
        self.m = 0  # a script: frames per transfer (0: none); cs: the chip select's BSRR entry (rf_xfer_script)
        self.cs = self.cs_low = self.cs_high = 0
        self.sel = True
        self.edges = 0
        self.pre_at, self.sr_pre = 0, 0  # an I2C read from its START: SR sr_pre until its address is acknowledged
        self.icr, self.icr_bits, self.icr_done = 0, 0, False  # the STOPF clear a read stream takes (xfer_i2c_icr)
        # a write armed on the control register (xfer_i2c_arm): entry, value, state (0 off, 1 armed, 2 served), link
        self.cr, self.cr_value, self.cr_state, self.cr_link, self.cr_n = 0, 0, 0, NO_LINK, 0
        self.cr_sr: tuple[int, int, int, int] = (0, 0, 0, 0)
        self.cr_addr_fs = self.cr_frame_fs = self.cr_wire_fs = self.cr_limit = 0
        self.cr_addr_end = self.cr_at_ready = 0

    def fs_at(self, cycle: int) -> int:
        c0, fs0, num, den = self.seg
        return fs0 + (cycle - c0) * FS_PER_SECOND * den // num

    def cycle_at(self, fs: int) -> int:
        c0, fs0, num, den = self.seg
        return c0 - (-(fs - fs0) * num // (den * FS_PER_SECOND))

    def frame_end(self, now: int, wire_fs: int, d_fs: int) -> tuple[int, int]:
        """regfile.c xfer_frame_end: a frame of ``d_fs`` starting at ``now`` or at ``wire_fs``, whichever is later:
        its end (fs) and that end's cycle, not before ``now``."""
        end_fs = max(self.fs_at(now), wire_fs) + d_fs
        return end_fs, max(self.cycle_at(end_fs), now)

PyFn = Callable[[int, int, int, int], int]  # (addr, size, value, write) -> value read (32 bits)
NotifyFn = Callable[[int, int, int, int, int], None]  # (index, addr, size, value, write)
PollFn = Callable[[int, int, int, int], None]  # (index, block pc, value, count)


class RfReg(ctypes.Structure):
    """Mirror of ``rf_reg`` in regfile.c (same field order)."""

    _fields_ = [
        ("store", ctypes.c_uint32),
        ("write_mask", ctypes.c_uint32),
        ("w1c_mask", ctypes.c_uint32),
        ("w1s_mask", ctypes.c_uint32),
        ("read_mask", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("changed", ctypes.c_uint32),
        ("poll_pc", ctypes.c_uint32),
        ("reads", ctypes.c_uint64),
        ("writes", ctypes.c_uint64),
        ("poll_value", ctypes.c_uint32),
        ("poll_count", ctypes.c_uint32),
    ]


RF_PY_FN = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_uint32)
RF_NOTIFY_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint64,
                                ctypes.c_uint32)
RF_POLL_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)
RF_CON_FN = ctypes.CFUNCTYPE(None)
RF_QNOTIFY_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint32)
QueueFn = Callable[[int], None]  # (queue index)

_lib: Any = False  # False: not set up yet


def regfile_library() -> ctypes.CDLL | None:
    """The native library with the register file's functions declared, or None (not built)."""
    global _lib
    if _lib is False:
        lib = native_library()
        if lib is not None:
            v, p, u32, u64, i64 = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int64
            lib.rf_reg_layout.restype = u64
            lib.rf_reg_layout.argtypes = [u32]
            want = [getattr(RfReg, name).offset for name, _ in RfReg._fields_] + [ctypes.sizeof(RfReg)]
            got = [lib.rf_reg_layout(i) for i in range(len(want))]
            if got != want:
                raise RuntimeError(f"regfile.c's rf_reg is {got}, the RfReg mirror {want}: rebuild the extension "
                                   "(pip install -e .)")
            lib.rf_new.restype = p
            lib.rf_free.argtypes = [p]
            lib.rf_set_callbacks.argtypes = [p, RF_PY_FN, RF_NOTIFY_FN, RF_POLL_FN]
            lib.rf_set_pc_source.argtypes = [p, v]
            lib.rf_set_ack.argtypes = [p, v, v]
            lib.rf_set_poll_threshold.argtypes = [p, u32]
            lib.rf_set_console.argtypes = [p, RF_CON_FN, u32, u32]
            lib.rf_console_take.restype = u32
            lib.rf_console_take.argtypes = [p, ctypes.c_char_p, u32]
            lib.rf_console_len_ptr.restype = v
            lib.rf_console_len_ptr.argtypes = [p]
            lib.rf_set_pc_reader.argtypes = [p, v, v, ctypes.c_int]
            lib.rf_mmio_pc_ptr.restype = v
            lib.rf_mmio_pc_ptr.argtypes = [p]
            lib.rf_set_masks.argtypes = [p, u32, u32, u32, u32, u32]
            lib.rf_add_store.restype = i64
            lib.rf_add_store.argtypes = [p, u32]
            lib.rf_add_reg.restype = i64
            lib.rf_add_reg.argtypes = [p, u32, u32, u32, u32, u32, u32]
            lib.rf_add_entries.restype = i64
            lib.rf_add_entries.argtypes = [p, u32, v, u32, v]  # (array.array buffers: NativeRegFile.add_entries)
            lib.rf_unmap_from.argtypes = [p, u32]
            lib.rf_truncate.argtypes = [p, u32, u32]
            lib.rf_count.restype = u32
            lib.rf_count.argtypes = [p]
            lib.rf_regs.restype = ctypes.POINTER(RfReg)
            lib.rf_regs.argtypes = [p]
            lib.rf_stores.restype = ctypes.POINTER(ctypes.c_uint32)
            lib.rf_stores.argtypes = [p]
            lib.rf_map.restype = ctypes.c_int
            lib.rf_map.argtypes = [p, u32, i64]
            lib.rf_slot.restype = u32
            lib.rf_slot.argtypes = [p, u32]
            lib.rf_read.restype = u64
            lib.rf_read.argtypes = [p, u32, u32]
            lib.rf_write.argtypes = [p, u32, u32, u64]
            lib.rf_window_new.restype = p
            lib.rf_window_new.argtypes = [p, u32]
            lib.rf_window_free.argtypes = [p]
            lib.rf_mmio_read_ptr.restype = v
            lib.rf_set_queue_source.argtypes = [p, RF_QNOTIFY_FN, v]
            lib.rf_queue_new.restype = i64
            lib.rf_queue_new.argtypes = [p, u32]
            lib.rf_queue_fill.restype = ctypes.c_int
            lib.rf_queue_fill.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint32), u32, u32, u64]
            lib.rf_queue_take.restype = u32
            lib.rf_queue_take.argtypes = [p, u32]
            lib.rf_queue_state.restype = u64
            lib.rf_queue_count.restype = u32
            lib.rf_queue_count.argtypes = [p]
            lib.rf_queue_get.restype = ctypes.POINTER(ctypes.c_uint32)
            lib.rf_queue_get.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint64)]
            lib.rf_queue_put.restype = ctypes.c_int
            lib.rf_queue_put.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint32), u32, u32, u32, u64]
            lib.rf_queue_state.argtypes = [p, u32]
            lib.rf_mmio_write_ptr.restype = v
            lib.rf_set_clock.argtypes = [p, v]
            lib.rf_timed_new.restype = i64
            lib.rf_timed_new.argtypes = [p, u32]
            lib.rf_timed_set.restype = ctypes.c_int
            lib.rf_timed_set.argtypes = [p, u32, u32, u32, u64, u64]
            lib.rf_timed_get.restype = ctypes.c_int
            lib.rf_timed_get.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint64)]
            lib.rf_timed_count.restype = u32
            lib.rf_timed_count.argtypes = [p]
            lib.rf_next_change.restype = u64
            lib.rf_next_change.argtypes = [p, u32]
            u8p = ctypes.POINTER(ctypes.c_uint8)
            lib.rf_xfer_new.restype = i64
            lib.rf_xfer_new.argtypes = [p, u32, u32]
            lib.rf_xfer_timeline.restype = ctypes.c_int
            lib.rf_xfer_timeline.argtypes = [p, u32, u64, u64, u64, u64]
            lib.rf_xfer_start.restype = ctypes.c_int
            lib.rf_xfer_start.argtypes = [p, u32, ctypes.c_char_p, u32, u32, u32, u32, u32, u64, u64, u64, u64]
            lib.rf_xfer_get.restype = u8p
            lib.rf_xfer_get.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint64)]
            lib.rf_xfer_miso.restype = u8p
            lib.rf_xfer_miso.argtypes = [p, u32]
            lib.rf_xfer_stop.argtypes = [p, u32]
            lib.rf_xfer_start_i2c.restype = ctypes.c_int
            lib.rf_xfer_start_i2c.argtypes = [p, u32, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64), u32, u32, u32,
                                              u32, u32]
            lib.rf_xfer_start_i2c_even.restype = ctypes.c_int
            lib.rf_xfer_start_i2c_even.argtypes = [p, u32, ctypes.c_char_p, u32, u64, u64, u64, u32, u32, u32, u32]
            lib.rf_xfer_i2c_icr.restype = ctypes.c_int
            lib.rf_xfer_i2c_icr.argtypes = [p, u32, u32, u32]
            lib.rf_xfer_icr_done.restype = u32
            lib.rf_xfer_icr_done.argtypes = [p, u32]
            lib.rf_xfer_i2c_address.restype = ctypes.c_int
            lib.rf_xfer_i2c_address.argtypes = [p, u32, u32, u64]
            lib.rf_xfer_start_i2c_tx.restype = ctypes.c_int
            lib.rf_xfer_start_i2c_tx.argtypes = [p, u32, u32, u32, u32, u32, u32, u64, u64, u64, u64]
            lib.rf_xfer_i2c_arm.restype = ctypes.c_int
            lib.rf_xfer_i2c_arm.argtypes = [p, u32, u32, u32, u32, u32, u32, u32, u32, u32, u64, u64, u64, u64]
            lib.rf_xfer_i2c_rearm.restype = ctypes.c_int
            lib.rf_xfer_i2c_rearm.argtypes = [p, u32, u32, u64]
            lib.rf_xfer_i2c_take.restype = u32
            lib.rf_xfer_i2c_take.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint64)]
            lib.rf_xfer_i2c_armed.restype = u32
            lib.rf_xfer_i2c_armed.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint64)]
            lib.rf_xfer_ptr.restype = v
            lib.rf_xfer_ptr.argtypes = [p, u32]
            lib.rf_xfer_size.restype = u64
            lib.rf_xfer_count.restype = u32
            lib.rf_xfer_count.argtypes = [p]
            lib.rf_xfer_script.restype = ctypes.c_int
            lib.rf_xfer_script.argtypes = [p, u32, u32, u32, u32, u32]
            lib.rf_xfer_script_get.restype = ctypes.POINTER(ctypes.c_uint64)
            lib.rf_xfer_script_get.argtypes = [p, u32, ctypes.POINTER(ctypes.c_uint64)]
        _lib = lib
    return _lib  # type: ignore[no-any-return]


def _lanes(size: int, shift: int) -> int:
    return (0xFFFFFFFF if size >= 4 else (1 << (8 * size)) - 1) << shift


class PyRegFile:
    """The register file in Python: regfile.c's twin, statement for statement (same counts, same calls)."""

    native = False

    def __init__(self, py: PyFn, notify: NotifyFn, poll: PollFn | None = None) -> None:
        self.py = py
        self.notify = notify
        self.poll = poll
        self.poll_threshold = 0
        self.pc_source: Callable[[], int] = lambda: 0
        self.store: list[int] = []
        # the same list under NativeRegFile's name (its values' array): a model reads or sets a value by index through
        # either register file without a call (NordicPeripheral.storage, fire, _set_event)
        self._stores_p = self.store
        # per entry: [store, write_mask, w1c, w1s, read_mask, flags, changed, poll_pc, reads, writes,
        #             poll_value, poll_count] (RfReg's fields)
        self.regs: list[list[int]] = []
        self.pages: dict[int, list[int]] = {}
        self._windows: list[Any] = []
        self.con_flush: Callable[[], None] | None = None
        self.con_eager = False
        self.con_status = 0
        self.con_buf = bytearray()
        # per queue: [entry, head, words, notify_at, deadline] (rf_queue)
        self.queues: list[list[Any]] = []
        self.qnotify: QueueFn | None = None
        self.cycles: Callable[[], int] = lambda: 0
        # per schedule: [entry, before, after, at, end] (rf_timed)
        self.timed: list[list[int]] = []
        self.clock: Callable[[], int] = lambda: 0
        self.xfers: list[Xfer] = []

    # --- building ---------------------------------------------------------------------------------
    def add_store(self, value: int) -> int:
        self.store.append(value & 0xFFFFFFFF)
        return len(self.store) - 1

    def add_reg(self, store: int, write_mask: int, w1c: int, w1s: int, read_mask: int, flags: int) -> int:
        if not 0 <= store < len(self.store):
            raise ValueError(f"register file: no store {store}")
        self.regs.append([store, write_mask, w1c, w1s, read_mask, flags, 0, 0, 0, 0, 0, 0])
        return len(self.regs) - 1

    def add_entries(self, values: list[int], recs: list[tuple[int, int, int, int, int, int, int]]) -> int:
        """Stores with ``values``, then per record (address, store offset among them, write, W1C, W1S and read
        masks, flags) an entry mapped at the address, as add_store/add_reg/map would make them, in one call
        (regfile.c's rf_add_entries). Returns the first entry's index; the others follow it."""
        store0, first = len(self.store), len(self.regs)
        if any(not 0 <= r[1] < len(values) for r in recs):
            raise ValueError("register file: a store offset beyond the new stores")
        for value in values:
            self.add_store(value)
        for addr, store, w, c, s, r, flags in recs:
            self.map(addr, self.add_reg(store0 + store, w, c, s, r, flags))
        return first

    def map(self, addr: int, index: int) -> None:
        page = self.pages.get(addr & ~0xFFF)
        if page is None:
            page = self.pages[addr & ~0xFFF] = [0] * WORDS
        page[(addr & 0xFFF) >> 2] = index + 1

    def count(self) -> int:
        return len(self.regs)

    def n_stores(self) -> int:
        return len(self.store)

    def slot(self, addr: int) -> int:
        page = self.pages.get(addr & ~0xFFF)
        return page[(addr & 0xFFF) >> 2] if page is not None else 0

    def set_flags(self, index: int, flags: int) -> None:
        self.regs[index][5] = flags

    def flags(self, index: int) -> int:
        return self.regs[index][5]

    def set_store(self, index: int, store: int) -> None:
        """Entry ``index`` reads and writes value ``store`` from now on (a view of another entry's value)."""
        self.regs[index][0] = store

    def set_masks(self, index: int, write_mask: int, w1c: int, w1s: int, read_mask: int) -> None:
        if index < len(self.regs):
            self.regs[index][1:5] = [write_mask, w1c, w1s, read_mask]

    def set_console(self, flush: Callable[[], None] | None, eager: bool, status: int) -> None:
        """CONSOLE entries: ``flush`` is told when the buffer is full (or at a newline when ``eager``);
        ``status`` is the console's status entry + 1 (0: none)."""
        self.con_flush, self.con_eager, self.con_status = flush, eager, status

    def console_pending(self) -> int:
        """Console bytes CONSOLE entries took that :meth:`console_take` has not returned yet."""
        return len(self.con_buf)

    def read_pc_before_python(self, uc: unicorn.Uc) -> Callable[[], int] | None:
        """The twin calls Python directly: the machine asks the engine for the PC itself (None)."""
        return None

    def console_take(self) -> bytes:
        data = bytes(self.con_buf)
        self.con_buf.clear()
        return data

    def set_queue_source(self, notify: QueueFn | None, cycles: Any) -> None:
        """QUEUE entries: ``notify(queue)`` when a queue's ``notify_at`` is reached; ``cycles()`` the virtual clock."""
        self.qnotify = notify
        if callable(cycles):
            self.cycles = cycles

    def queue_new(self, index: int) -> int:
        """The queue answering reads of entry ``index`` (flag QUEUE), made on the first call; its index."""
        for qi, q in enumerate(self.queues):
            if q[0] == index:
                return qi
        self.queues.append([index, 0, [], 0, 0])
        self.regs[index][5] |= QUEUE
        return len(self.queues) - 1

    def set_clock(self, clock: Any) -> None:
        """TIMED entries: ``clock()`` is the block-entry clock (the hot path's ``block_cycle``)."""
        if callable(clock):
            self.clock = clock

    def timed_new(self, index: int) -> int:
        """The schedule of entry ``index`` (flag TIMED; before = after = 0 until ``timed_set``), made on the first
        call; its index."""
        for ti, t in enumerate(self.timed):
            if t[0] == index:
                return ti
        self.timed.append([index, 0, 0, NEVER, NEVER])
        self.regs[index][5] |= TIMED
        return len(self.timed) - 1

    def timed_set(self, timed: int, before: int, after: int, at: int, end: int = NEVER) -> None:
        """Reads give ``before`` until cycle ``at``, ``after`` from it on; the model serves them from ``end`` on."""
        self.timed[timed][1:] = [before & 0xFFFFFFFF, after & 0xFFFFFFFF, at, end]

    def timed_get(self, timed: int) -> tuple[int, int, int, int]:
        """(before, after, at, end)."""
        t = self.timed[timed]
        return t[1], t[2], t[3], t[4]

    def xfer_new(self, dr: int, sr: int) -> int:
        """The stream of data register entry ``dr`` with status register entry ``sr`` (flag XFER on dr, a schedule
        for sr whose reads go to the model until a stream starts); its index."""
        for xi, x in enumerate(self.xfers):
            if x.dr == dr:
                return xi
        ti = self.timed_new(sr)
        self.timed_set(ti, 0, 0, NEVER, 0)
        self.xfers.append(Xfer(dr, sr, ti))
        self.regs[dr][5] |= XFER
        return len(self.xfers) - 1

    def xfer_timeline(self, xfer: int, seg_cycle: int, seg_fs: int, num: int, den: int) -> None:
        """The clock timeline's current segment: from ``seg_cycle`` at ``seg_fs``, ``num / den`` Hz."""
        self.xfers[xfer].seg = (seg_cycle, seg_fs, num, den)

    def xfer_start(self, xfer: int, miso: bytes, mosi0: int, sr: tuple[int, int, int], frame_fs: int, wire_fs: int,
                   at0: int, limit: int) -> None:
        """The model started frame 0 (``mosi0``, on the wire until ``wire_fs``, RXNE from cycle ``at0``); the chip
        answers ``miso`` for frames 0..n-1; ``sr``: (idle, busy, done) values; frames must end before ``limit``."""
        x = self.xfers[xfer]
        if not 1 <= len(miso) <= XFER_MAX:
            raise ValueError("register file stream: 1 to XFER_MAX frames")
        x.miso, x.mosi = list(miso), [mosi0 & 0xFF]
        x.n, x.k, x.rd, x.after_dr = len(miso), 1, 0, False
        x.sr_idle, x.sr_busy, x.sr_done = sr
        x.frame_fs, x.wire_fs, x.limit = frame_fs, wire_fs, limit
        x.m, x.sel, x.edges, x.ats = 0, True, 0, []
        x.active = True
        self.timed_set(x.ti, x.sr_busy, x.sr_done, at0, NEVER)

    def xfer_script(self, xfer: int, m: int, cs: int, cs_low: int, cs_high: int) -> None:
        """Stream ``xfer`` (just started) carries a script: its frames are transfers of ``m`` frames with the same
        command byte; entry ``cs`` (a GPIO BSRR, flag XCS) takes the chip-select words ``cs_low`` / ``cs_high``
        between them. ``m`` = 0: no script."""
        x = self.xfers[xfer]
        if m and (x.i2c or not x.active or m < 2 or x.n % m):
            raise ValueError("register file stream: a script of whole transfers of at least 2 frames")
        x.m, x.cs, x.cs_low, x.cs_high, x.sel, x.edges, x.ats = m, cs, cs_low, cs_high, True, 0, []
        if m:
            self.regs[cs][5] |= XCS

    def xfer_script_get(self, xfer: int) -> tuple[int, bool, list[int]]:
        """(chip-select writes served, selected, their cycles)."""
        x = self.xfers[xfer]
        return x.edges, x.sel, list(x.ats[:x.edges])

    def xfer_start_i2c(self, xfer: int, miso: bytes, ats: list[int], sr: tuple[int, int, int, int]) -> None:
        """An I2C read stream: byte j (``miso[j]``) arrives at cycle ``ats[j]``; ``sr``: (waiting, a byte waits,
        the last byte arrived, it was read) status values."""
        x = self.xfers[xfer]
        if not 1 <= len(miso) <= XFER_MAX or len(ats) != len(miso):
            raise ValueError("register file stream: 1 to XFER_MAX bytes, one arrival cycle each")
        x.miso, x.ats, x.mosi = list(miso), list(ats), [0] * len(miso)  # a read sends nothing
        x.n = x.k = len(miso)
        x.rd, x.after_dr = 0, False
        x.sr_idle, x.sr_done, x.sr_last, x.sr_final = sr
        x.sr_busy = x.sr_idle
        x.i2c = 1
        x.m = 0
        x.active = True
        x.pre_at = 0
        x.icr_bits, x.icr_done = 0, False
        self.timed_set(x.ti, x.sr_idle, x.sr_last if x.n == 1 else x.sr_done, x.ats[0], NEVER)

    def xfer_start_i2c_even(self, xfer: int, miso: bytes, wire0_fs: int, step_fs: int, at0: int,
                            sr: tuple[int, int, int, int]) -> None:
        """``xfer_start_i2c`` of bytes evenly spaced on the wire (regfile.c rf_xfer_start_i2c_even): byte j's frame
        ends at ``wire0_fs + j * step_fs``, arriving at that time's cycle on the segment ``xfer_timeline`` gave, byte
        0 at ``at0`` instead when it is not 0."""
        x = self.xfers[xfer]
        if x.seg[2] <= 0 or x.seg[3] <= 0 or wire0_fs < x.seg[1]:
            raise ValueError("register file stream: evenly spaced bytes need a timeline segment they start on")
        ats = [x.cycle_at(wire0_fs + j * step_fs) for j in range(len(miso))]
        if at0 and ats:
            ats[0] = at0
        self.xfer_start_i2c(xfer, miso, ats, sr)

    def xfer_i2c_address(self, xfer: int, sr_pre: int, at_addr: int) -> None:
        """The I2C read stream just started runs from its START (regfile.c rf_xfer_i2c_address): SR ``sr_pre`` until
        the address's acknowledge at cycle ``at_addr`` (before the first byte), then the stream's schedule."""
        x = self.xfers[xfer]
        if x.i2c != 1 or not 0 < at_addr < x.ats[0]:
            raise ValueError("register file stream: an I2C read's address is acknowledged before its first byte")
        x.pre_at, x.sr_pre = at_addr, sr_pre
        self.timed_set(x.ti, sr_pre, x.sr_idle, at_addr, NEVER)

    def _xfer_sr_read(self, x: Xfer) -> None:
        """regfile.c xfer_sr_read: an SR read from the schedule; past a read's address step, on to the first byte."""
        x.after_dr = False
        if x.pre_at and self.clock() >= x.pre_at:
            x.pre_at = 0
            self.timed_set(x.ti, x.sr_idle, x.sr_last if x.n == 1 else x.sr_done, x.ats[0], NEVER)

    def xfer_start_i2c_tx(self, xfer: int, n: int, sr: tuple[int, int, int, int], frame_fs: int, wire_fs: int,
                          at_ready: int, limit: int) -> None:
        """An I2C write on the transmit data register (regfile.c rf_xfer_start_i2c_tx): the address acknowledged at
        cycle ``at_ready`` (on the wire until ``wire_fs``); ``n`` bytes the firmware writes, each ``frame_fs`` on the
        wire, ending before ``limit``; ``sr``: (before at_ready, TXIS from it, a byte on the wire, the last sent)."""
        x = self.xfers[xfer]
        if not 1 <= n <= XFER_MAX:
            raise ValueError("register file stream: 1 to XFER_MAX bytes")
        x.n, x.k, x.rd, x.after_dr = n, 0, 0, False
        x.sr_idle, x.sr_last, x.sr_busy, x.sr_done = sr
        x.frame_fs, x.wire_fs, x.limit = frame_fs, wire_fs, limit
        x.ats, x.mosi = [at_ready], []
        x.i2c = 2
        x.m = 0
        x.pre_at = 0
        x.active = True
        self.timed_set(x.ti, x.sr_idle, x.sr_last, at_ready, NEVER)

    def xfer_get(self, xfer: int) -> tuple[bool, int, int, int, bool, int, int, bytes]:
        """(active, frames previewed, started, DR reads served, last read was DR, wire end fs, last RXNE cycle,
        MOSI bytes of the frames started)."""
        x = self.xfers[xfer]
        return x.active, x.n, x.k, x.rd, x.after_dr, x.wire_fs, self.timed[x.ti][3], bytes(x.mosi)

    def xfer_stop(self, xfer: int) -> None:
        x = self.xfers[xfer]
        x.active = False
        x.icr_bits = 0
        if not any(o is not x and o.active and o.ti == x.ti for o in self.xfers):  # else its schedule (xfer_i2c_arm)
            self.timed_set(x.ti, 0, 0, NEVER, 0)

    def xfer_i2c_arm(self, xfer: int, cr: int, value: int, link: int | None, n: int, sr: tuple[int, int, int, int],
                     addr_fs: int, frame_fs: int, wire_fs: int, limit: int) -> None:
        """Arm write slot ``xfer`` (inactive, its segment set) on control register entry ``cr`` (flag XCR): the write
        of exactly ``value`` starts the slot's write of ``n`` bytes (``xfer_start_i2c_tx`` with ``sr``, ``frame_fs``,
        ``limit``), its address ending ``addr_fs`` after max(now, ``wire_fs``), once read stream ``link`` (None: none)
        read every byte and took its STOPF clear (it stops then; regfile.c rf_xfer_i2c_arm)."""
        x = self.xfers[xfer]
        lk = NO_LINK if link is None else link
        if (x.active or not 0 <= cr < len(self.regs) or not 1 <= n <= XFER_MAX or lk == xfer
                or (lk != NO_LINK and not 0 <= lk < len(self.xfers)) or x.seg[2] <= 0 or x.seg[3] <= 0):
            raise ValueError("register file stream: an armed I2C write on an inactive slot with a timeline segment")
        x.cr, x.cr_value, x.cr_link, x.cr_n, x.cr_sr = cr, value, lk, n, tuple(sr)  # type: ignore[assignment]
        x.cr_addr_fs, x.cr_frame_fs, x.cr_wire_fs, x.cr_limit = addr_fs, frame_fs, wire_fs, limit
        x.cr_state = 1
        self.regs[cr][5] |= XCR

    def xfer_i2c_rearm(self, xfer: int, link: int | None, wire_fs: int) -> None:
        """Arm slot ``xfer`` again as the last ``xfer_i2c_arm`` did, behind ``link``, the wire busy to ``wire_fs``."""
        x = self.xfers[xfer]
        lk = NO_LINK if link is None else link
        if x.active or not x.cr_n or lk == xfer or (lk != NO_LINK and not 0 <= lk < len(self.xfers)):
            raise ValueError("register file stream: an inactive slot armed before")
        x.cr_link, x.cr_wire_fs, x.cr_state = lk, wire_fs, 1

    def xfer_i2c_take(self, xfer: int) -> tuple[int, int, int]:
        """The armed write, disarmed: (state: 0 off, 1 armed, 2 served; the served write's address end in fs; its
        cycle)."""
        x = self.xfers[xfer]
        state, x.cr_state = x.cr_state, 0
        return state, x.cr_addr_end, x.cr_at_ready

    def xfer_i2c_armed(self, xfer: int) -> tuple[int, int, int]:
        """``xfer_i2c_take`` without disarming."""
        x = self.xfers[xfer]
        return x.cr_state, x.cr_addr_end, x.cr_at_ready

    def _xfer_cr(self, x: Xfer, addr: int, size: int, value: int) -> bool:
        """regfile.c xfer_cr: the armed control-register write starts the slot's write."""
        if addr & 3 or size != 4 or value != x.cr_value or x.active:
            return False
        link = None
        if x.cr_link != NO_LINK:
            link = self.xfers[x.cr_link]
            if not link.active or link.i2c != 1 or link.rd != link.n or not link.icr_done:
                return False
        now = self.cycles()
        if now < x.seg[0]:
            return False
        end_fs, at = x.frame_end(now, x.cr_wire_fs, x.cr_addr_fs)
        if link is not None:
            link.active = False  # its bytes and clear stay for the model (xfer_get, xfer_icr_done)
        x.cr_state, x.cr_addr_end, x.cr_at_ready = 2, end_fs, at
        self.xfer_start_i2c_tx(self.xfers.index(x), x.cr_n, x.cr_sr, x.cr_frame_fs, end_fs, at, x.cr_limit)
        return True

    def xfer_i2c_icr(self, xfer: int, icr: int, bits: int) -> None:
        """The I2C read stream (started) takes, once all its bytes were read, entry ``icr``'s write of exactly
        ``bits`` (the interrupt clear register: STOPF) if its final status has them: they leave it (regfile.c
        rf_xfer_i2c_icr); ``bits`` 0: off."""
        x = self.xfers[xfer]
        if x.i2c != 1 or not x.active or not 0 <= icr < len(self.regs):
            raise ValueError("register file stream: the interrupt clear of a started I2C read stream")
        x.icr, x.icr_bits, x.icr_done = icr, bits, False
        if bits:
            self.regs[icr][5] |= XICR

    def xfer_icr_done(self, xfer: int) -> bool:
        """Whether the stream took its interrupt clear (``xfer_i2c_icr``)."""
        return self.xfers[xfer].icr_done

    def _xfer_icr(self, x: Xfer, addr: int, size: int, value: int) -> bool:
        """regfile.c xfer_icr: the interrupt clear served after the stream's last byte was read."""
        if (not x.active or x.i2c != 1 or x.icr_done or addr & 3 or size != 4 or value != x.icr_bits or x.rd != x.n
                or x.sr_final & x.icr_bits != x.icr_bits):
            return False
        x.sr_final &= ~x.icr_bits
        x.icr_done = True
        self.timed_set(x.ti, x.sr_final, x.sr_final, NEVER, NEVER)
        return True

    def _xfer_write(self, x: Xfer, addr: int, value: int) -> bool:
        if x.i2c == 2:
            return self._xfer_write_i2c_tx(x, addr, value)
        if not x.active or x.i2c or addr & 3 or x.k >= x.n or x.rd != x.k:
            return False
        if x.m and (not x.sel or x.k >= (x.edges // 2 + 1) * x.m or (x.k % x.m == 0 and value & 0xFF != x.mosi[0])):
            return False  # a script: frames of the selected transfer only, each transfer's first the command byte
        return self._xfer_put(x, value, x.sr_done)

    def _xfer_cs(self, x: Xfer, addr: int, size: int, value: int) -> bool:
        """A chip-select write of a script (regfile.c xfer_cs)."""
        if not x.active or not x.m or addr & 3 or size != 4 or x.edges >= XFER_MAX:
            return False
        if x.sel:
            if value != x.cs_high or x.k != (x.edges // 2 + 1) * x.m or x.rd != x.k:
                return False
            x.sel = False
        else:
            if value != x.cs_low or x.k + x.m > x.n:
                return False
            x.sel = True
        x.ats.append(self.cycles())
        x.edges += 1
        return True

    def _xfer_write_i2c_tx(self, x: Xfer, addr: int, value: int) -> bool:
        """regfile.c xfer_write_i2c_tx: a TXDR write puts the byte on the wire (after the address, after the last)."""
        clock = self.clock()
        if not x.active or addr & 3 or x.k >= x.n or clock < x.ats[0] or (x.k and clock < self.timed[x.ti][3]):
            return False
        return self._xfer_put(x, value, x.sr_done if x.k + 1 == x.n else x.sr_last)

    def _xfer_put(self, x: Xfer, value: int, after: int) -> bool:
        """regfile.c xfer_put: the byte goes on the wire, its frame ending one frame time after now or after the
        previous frame; SR is sr_busy until then and ``after`` from then. False (nothing changed): before the
        stream's segment, or ending at or past its limit."""
        now = self.cycles()
        if now < x.seg[0]:
            return False
        end_fs, at = x.frame_end(now, x.wire_fs, x.frame_fs)
        if at >= x.limit:
            return False
        x.wire_fs = end_fs
        x.mosi.append(value & 0xFF)
        x.k += 1
        self.timed_set(x.ti, x.sr_busy, after, at, NEVER)
        return True

    def _xfer_read(self, x: Xfer, addr: int, size: int) -> int | None:
        if x.i2c == 2:
            return None  # an I2C write's TXDR: its reads are the model's
        if x.active and x.i2c:
            j, now = x.rd, self.clock()
            if addr & 3 or j >= x.n or now < x.ats[j] or (j + 1 < x.n and now >= x.ats[j + 1]):
                return None
            x.rd = j = j + 1
            x.pre_at = 0
            if j < x.n:
                self.timed_set(x.ti, x.sr_idle, x.sr_last if j + 1 == x.n else x.sr_done, x.ats[j], NEVER)
            else:
                self.timed_set(x.ti, x.sr_final, x.sr_final, NEVER, NEVER)
            return x.miso[j - 1] & _lanes(size, 0)
        if not x.active or addr & 3 or x.rd + 1 != x.k or self.clock() < self.timed[x.ti][3]:
            return None
        v = x.miso[x.rd] & _lanes(size, 0)
        x.rd += 1
        x.after_dr = True
        self.timed_set(x.ti, x.sr_idle, x.sr_idle, NEVER, NEVER)
        return v

    def next_change(self, index: int) -> int:
        """rf_next_change: the earliest cycle entry ``index``'s value can change by itself (event rule), NEVER when
        it cannot (see regfile.c)."""
        if index >= len(self.regs):
            return NEVER
        flags = self.regs[index][5]
        nxt = NEVER
        if flags & TIMED:
            t = next((x for x in self.timed if x[0] == index), None)
            now = self.clock()
            if t is not None:
                if t[3] > now:
                    nxt = t[3]
                if now < t[4] < nxt:
                    nxt = t[4]
        if flags & QUEUE:
            q = next((x for x in self.queues if x[0] == index), None)
            if q is not None and q[1] < len(q[2]) and self.cycles() < q[4] < nxt:
                nxt = q[4]
        return nxt

    def queue_fill(self, queue: int, words: list[int], notify_at: int, deadline: int) -> None:
        """Serve ``words`` from the first; tell ``notify`` when ``notify_at`` were served (0: never); serve
        only while the clock is before ``deadline``."""
        self.queues[queue][1:] = [0, [w & 0xFFFFFFFF for w in words], notify_at, deadline]

    def queue_take(self, queue: int) -> int:
        """Words served since the fill; the queue is emptied."""
        q = self.queues[queue]
        n = q[1]
        q[1:4] = [0, [], 0]
        return n

    def queue_state(self, queue: int) -> tuple[int, int]:
        """(words served, words filled)."""
        q = self.queues[queue]
        return q[1], len(q[2])

    def reg(self, index: int) -> dict[str, int]:
        r = self.regs[index]
        return dict(zip(("store", "write_mask", "w1c_mask", "w1s_mask", "read_mask", "flags", "changed", "poll_pc",
                         "reads", "writes", "poll_value", "poll_count"), r))

    def value(self, store: int) -> int:
        return self.store[store]

    def values(self, stores: list[int]) -> list[int]:
        """Several values at once (a model taking back what the register file holds for it)."""
        return [self.store[i] for i in stores]

    def set_values(self, stores: list[int], values: list[int]) -> None:
        for i, v in zip(stores, values, strict=True):
            self.store[i] = v & 0xFFFFFFFF

    def values_bytes(self) -> bytes:
        """Every value as bytes (the polling watch compares them across a loop's iterations)."""
        return array.array("I", self.store).tobytes()

    def set_value(self, store: int, value: int) -> None:
        self.store[store] = value & 0xFFFFFFFF

    def set_poll(self, threshold: int, poll: PollFn | None, pc_source: Callable[[], int] | None = None) -> None:
        self.poll_threshold = threshold
        self.poll = poll
        if pc_source is not None:
            self.pc_source = pc_source

    def save(self) -> tuple[Any, ...]:
        """Values, entries, queues, schedules and streams as they are now (for snapshots)."""
        return (list(self.store), [list(r) for r in self.regs], [[q[0], q[1], list(q[2]), q[3], q[4]]
                                                                  for q in self.queues], [list(t) for t in self.timed],
                [dict(vars(x), mosi=list(x.mosi), miso=list(x.miso), ats=list(x.ats)) for x in self.xfers])

    def load(self, saved: tuple[Any, ...]) -> None:
        """Back to ``saved``: its values, entries, queues, schedules and streams; entries added since keep their
        slots (the caller unmaps them); schedules made since read 0 for ever, streams made since are stopped."""
        stores, regs, queues, timed, xfers = saved
        for xi, x in enumerate(self.xfers):
            if xi < len(xfers):
                vars(x).update(xfers[xi], mosi=list(xfers[xi]["mosi"]), miso=list(xfers[xi]["miso"]),
                               ats=list(xfers[xi]["ats"]))
            else:
                x.active = False
        for ti, t in enumerate(self.timed):
            t[1:] = timed[ti][1:] if ti < len(timed) else [0, 0, NEVER, NEVER]
        self.store[:len(stores)] = stores
        for r, old in zip(self.regs, regs):
            r[:] = old
        for qi, q in enumerate(self.queues):  # queues made since the save: emptied
            q[:] = [queues[qi][0], queues[qi][1], list(queues[qi][2]), queues[qi][3], queues[qi][4]] \
                if qi < len(queues) else [q[0], 0, [], 0, 0]

    def unmap_from(self, first: int) -> None:
        for page in self.pages.values():
            for k, slot in enumerate(page):
                if slot > first:
                    page[k] = 0

    def truncate(self, n_regs: int, n_store: int) -> None:
        """Back to ``n_regs`` entries and ``n_store`` values (after ``unmap_from(n_regs)``)."""
        del self.regs[n_regs:]
        del self.store[n_store:]

    # --- access ---------------------------------------------------------------------------------------
    def _word_read(self, addr: int, size: int) -> int:
        s = self.slot(addr)
        if not s:
            return self.py(addr, size, 0, 0)
        r = self.regs[s - 1]
        shift = 8 * (addr & 3)
        q = None
        if r[5] & QUEUE and size == 4 and not shift:
            qi = next((i for i, x in enumerate(self.queues) if x[0] == s - 1), None)
            q = self.queues[qi] if qi is not None else None
            if q is not None and not (q[1] < len(q[2]) and self.cycles() < q[4]):
                q = None
        t = None
        xv = None
        if q is None and r[5] & XFER:
            x = next((x for x in self.xfers if x.dr == s - 1), None)
            xv = self._xfer_read(x, addr, size) if x is not None else None
        if q is None and xv is None and r[5] & TIMED:
            t = next((x for x in self.timed if x[0] == s - 1), None)
            if t is not None and not self.clock() < t[4]:
                t = None
        if q is not None:
            v = q[2][q[1]]
            q[1] += 1
            if q[1] == q[3] and self.qnotify is not None:
                self.qnotify(qi)  # type: ignore[arg-type]
        elif xv is not None:
            v = xv
        elif t is not None:
            for x in self.xfers:
                if x.sr == s - 1 and x.active:
                    self._xfer_sr_read(x)
                    break
            v = ((t[2] if self.clock() >= t[3] else t[1]) & _lanes(size, shift)) >> shift
        elif r[5] & PY_READ:
            v = self.py(addr, size, 0, 0)
        else:
            v = ((self.store[r[0]] & r[4]) & _lanes(size, shift)) >> shift
        r[8] += 1
        pc = self.pc_source()
        if v == r[10] and pc == r[7] and r[11]:
            r[11] += 1
            if self.poll_threshold and r[11] % self.poll_threshold == 0 and self.poll is not None \
                    and not r[5] & POLL_MUTE and t is None:  # schedule reads never call poll (regfile.c)
                self.poll(s - 1, pc, v, r[11])
        else:
            r[10] = v
            r[7] = pc
            r[11] = 1
            r[5] &= ~POLL_MUTE
        if r[5] & NOTIFY:
            r[5] &= ~NOTIFY
            self.notify(s - 1, addr, size, v, 0)
        return v

    def _word_write(self, addr: int, size: int, value: int) -> None:
        s = self.slot(addr)
        if not s:
            self.py(addr, size, value, 1)
            return
        r = self.regs[s - 1]
        if r[5] & CONSOLE and not addr & 3 and not value & ~r[1] and self.con_flush is not None \
                and len(self.con_buf) < CONSOLE_CAP:
            self.con_buf.append(value & 0xFF)
            if self.con_status and self.con_status <= len(self.regs):
                self.regs[self.con_status - 1][11] = 0
            if len(self.con_buf) == CONSOLE_CAP or (self.con_eager and value & 0xFF == 0x0A):
                self.con_flush()
        elif r[5] & XFER and any(x.dr == s - 1 and self._xfer_write(x, addr, value) for x in self.xfers):
            pass  # a frame started by the stream
        elif r[5] & XCS and any(x.cs == s - 1 and x.active and x.m and self._xfer_cs(x, addr, size, value)
                                for x in self.xfers):
            pass  # a chip-select edge of a stream's script
        elif r[5] & XICR and any(x.icr == s - 1 and x.active and x.icr_bits and self._xfer_icr(x, addr, size, value)
                                 for x in self.xfers):
            pass  # STOPF cleared after an I2C read stream
        elif r[5] & XCR and any(x.cr == s - 1 and x.cr_state == 1 and self._xfer_cr(x, addr, size, value)
                                for x in self.xfers):
            pass  # an I2C register-address write started by the register file
        elif r[5] & PY_WRITE or (r[5] & FIT and (size != 4 or addr & 3 or value & ~(r[1] | r[2] | r[3]))):
            self.py(addr, size, value, 1)
        else:
            shift = 8 * (addr & 3)
            lanes = _lanes(size, shift)
            w = (value << shift) & lanes
            old = self.store[r[0]]
            keep = r[1] & lanes
            nv = (old & ~keep) | (w & keep)
            nv &= ~(w & r[2])
            nv |= w & r[3]
            self.store[r[0]] = nv
            r[6] |= (old ^ nv) | (w & (r[2] | r[3]))
        r[9] += 1
        r[11] = 0
        if r[5] & NOTIFY:
            r[5] &= ~NOTIFY
            self.notify(s - 1, addr, size, value, 1)

    def read(self, addr: int, size: int) -> int:
        first = 4 - (addr & 3)
        if size <= first:
            return self._word_read(addr, size)
        lo = self._word_read(addr, first)
        return lo | (self.read(addr + first, size - first) << (8 * first))

    def write(self, addr: int, size: int, value: int) -> None:
        first = 4 - (addr & 3)
        if size <= first:
            self._word_write(addr, size, value)
            return
        self._word_write(addr, first, value & ((1 << (8 * first)) - 1))
        self.write(addr + first, size - first, value >> (8 * first))

    # --- Unicorn ------------------------------------------------------------------------------------------
    def map_window(self, uc: unicorn.Uc, base: int, size: int) -> None:
        """Serve [base, base+size) (whole pages) through this register file."""
        uc.mmio_map(base, size, lambda _uc, off, n, _u: self.read(base + off, n), None,
                    lambda _uc, off, n, value, _u: self.write(base + off, n, value), None)

    def close(self) -> None:
        pass


class NativeRegFile:
    """The register file in C (regfile.c), with the same methods as :class:`PyRegFile`."""

    native = True

    def __init__(self, py: PyFn, notify: NotifyFn, poll: PollFn | None = None) -> None:
        lib = regfile_library()
        if lib is None:
            raise RuntimeError("the native register file is not built")
        self.lib = lib
        self.bus = lib.rf_new()
        if not self.bus:
            raise MemoryError("register file")
        self.py = py
        self.notify = notify
        self.poll = poll
        # ctypes callbacks: kept referenced for as long as C may call them
        self._py_cb = RF_PY_FN(py)
        self._notify_cb = RF_NOTIFY_FN(notify)
        self._poll_cb = RF_POLL_FN(self._on_poll)
        lib.rf_set_callbacks(self.bus, self._py_cb, self._notify_cb, self._poll_cb)
        self._windows: list[int] = []
        self._n_store = 0
        # the values' array: it moves only when values are added (rf_add_store), so it is asked for again only then,
        # not at every value read or write (a call into C each); snapshot.KEEP: a cache, never rolled back
        self._stores_p = lib.rf_stores(self.bus)
        self._con_cb: Any = None
        self._con_out = ctypes.create_string_buffer(CONSOLE_CAP)
        self._armed_out = (ctypes.c_uint64 * 2)()
        self._xget_out = (ctypes.c_uint64 * 7)()  # xfer_get's answer (each stream's take-back asks: made once)
        self._con_len = ctypes.c_uint32.from_address(lib.rf_console_len_ptr(self.bus))  # read without a call
        self._q_cb: Any = None

    def _on_poll(self, index: int, pc: int, value: int, count: int) -> None:
        if self.poll is not None:
            self.poll(index, pc, value, count)

    def add_store(self, value: int) -> int:
        idx = self.lib.rf_add_store(self.bus, value & 0xFFFFFFFF)
        if idx < 0:
            raise MemoryError("register file")
        self._n_store = int(idx) + 1
        self._stores_p = self.lib.rf_stores(self.bus)
        return int(idx)

    def add_reg(self, store: int, write_mask: int, w1c: int, w1s: int, read_mask: int, flags: int) -> int:
        idx = self.lib.rf_add_reg(self.bus, store, write_mask, w1c, w1s, read_mask, flags)
        if idx < 0:
            raise ValueError(f"register file: no store {store}")
        return int(idx)

    def add_entries(self, values: list[int], recs: list[tuple[int, int, int, int, int, int, int]]) -> int:
        """:meth:`PyRegFile.add_entries` in one call into C (a peripheral's ~100 registers: 3 calls each before)."""
        # uint32 buffers passed by address: a ctypes array made from the values and one over the records cost ~30 us a
        # model (cold, at its first access in a run), an array.array and its address ~2 us
        vals = array.array("I", values or (0,))
        try:
            flat = array.array("I", itertools.chain.from_iterable(recs))
        except OverflowError:  # a mask given as a negative number
            flat = array.array("I", [w & 0xFFFFFFFF for rec in recs for w in rec])
        if not flat:
            flat.append(0)
        first = self.lib.rf_add_entries(self.bus, len(values), vals.buffer_info()[0], len(recs), flat.buffer_info()[0])
        if first < 0:
            raise MemoryError("register file")
        self._n_store += len(values)
        self._stores_p = self.lib.rf_stores(self.bus)
        return int(first)

    def map(self, addr: int, index: int) -> None:
        if self.lib.rf_map(self.bus, addr, index) != 0:
            raise MemoryError("register file")

    def count(self) -> int:
        return int(self.lib.rf_count(self.bus))

    def n_stores(self) -> int:
        return self._n_store

    def slot(self, addr: int) -> int:
        return int(self.lib.rf_slot(self.bus, addr))

    def set_flags(self, index: int, flags: int) -> None:
        self.lib.rf_regs(self.bus)[index].flags = flags

    def flags(self, index: int) -> int:
        return int(self.lib.rf_regs(self.bus)[index].flags)

    def set_store(self, index: int, store: int) -> None:
        self.lib.rf_regs(self.bus)[index].store = store

    def set_masks(self, index: int, write_mask: int, w1c: int, w1s: int, read_mask: int) -> None:
        self.lib.rf_set_masks(self.bus, index, write_mask, w1c, w1s, read_mask)

    def set_console(self, flush: Callable[[], None] | None, eager: bool, status: int) -> None:
        """CONSOLE entries (see :meth:`PyRegFile.set_console`)."""
        self._con_cb = RF_CON_FN(flush) if flush is not None else RF_CON_FN()
        self.lib.rf_set_console(self.bus, self._con_cb, int(eager), status)

    def console_pending(self) -> int:
        """Console bytes not taken yet (read from the bus's memory: no call into C)."""
        return self._con_len.value

    def read_pc_before_python(self, uc: unicorn.Uc) -> Callable[[], int] | None:
        """Have C read ``uc``'s PC before each read it sends to Python; returns what gives that PC (valid inside
        such a read), or None when the bindings' library is not reachable."""
        try:
            fn = ctypes.cast(unicorn.unicorn_py3.unicorn.uclib.uc_reg_read, ctypes.c_void_p).value  # type: ignore[attr-defined]
            handle = uc._uch.value  # noqa: SLF001 - as simcore/cortexm/coreregs.py
        except AttributeError:
            return None
        self.lib.rf_set_pc_reader(self.bus, fn, handle, unicorn.arm_const.UC_ARM_REG_PC)
        pc = ctypes.c_uint32.from_address(self.lib.rf_mmio_pc_ptr(self.bus))
        return lambda: pc.value

    def console_take(self) -> bytes:
        n = self.lib.rf_console_take(self.bus, self._con_out, CONSOLE_CAP)
        return self._con_out.raw[:n] if n else b""

    def set_queue_source(self, notify: QueueFn | None, cycles: Any) -> None:
        """QUEUE entries (see :meth:`PyRegFile.set_queue_source`); ``cycles``: the address of the hot path's
        uint64 cycle count (a callable is accepted for the twin's sake and ignored)."""
        self._q_cb = RF_QNOTIFY_FN(notify) if notify is not None else RF_QNOTIFY_FN()
        self.lib.rf_set_queue_source(self.bus, self._q_cb, cycles if isinstance(cycles, int) else None)

    def set_clock(self, clock: Any) -> None:
        """TIMED entries: ``clock`` is the address of the hot path's uint64 ``block_cycle`` (a callable is accepted
        for the twin's sake and ignored)."""
        self.lib.rf_set_clock(self.bus, clock if isinstance(clock, int) else None)

    def timed_new(self, index: int) -> int:
        t = int(self.lib.rf_timed_new(self.bus, index))
        if t < 0:
            raise MemoryError("register file schedule")
        return t

    def timed_set(self, timed: int, before: int, after: int, at: int, end: int = NEVER) -> None:
        if self.lib.rf_timed_set(self.bus, timed, before & 0xFFFFFFFF, after & 0xFFFFFFFF, at, end) != 0:
            raise IndexError(f"register file: no schedule {timed}")

    def timed_get(self, timed: int) -> tuple[int, int, int, int]:
        out = (ctypes.c_uint64 * 4)()
        if self.lib.rf_timed_get(self.bus, timed, out) != 0:
            raise IndexError(f"register file: no schedule {timed}")
        return out[0], out[1], out[2], out[3]

    def next_change(self, index: int) -> int:
        return int(self.lib.rf_next_change(self.bus, index))

    def xfer_new(self, dr: int, sr: int) -> int:
        x = int(self.lib.rf_xfer_new(self.bus, dr, sr))
        if x < 0:
            raise MemoryError("register file stream")
        return x

    def xfer_timeline(self, xfer: int, seg_cycle: int, seg_fs: int, num: int, den: int) -> None:
        if self.lib.rf_xfer_timeline(self.bus, xfer, seg_cycle, seg_fs, num, den) != 0:
            raise ValueError("register file stream: bad timeline segment")

    def xfer_start(self, xfer: int, miso: bytes, mosi0: int, sr: tuple[int, int, int], frame_fs: int, wire_fs: int,
                   at0: int, limit: int) -> None:
        if self.lib.rf_xfer_start(self.bus, xfer, bytes(miso), len(miso), mosi0 & 0xFF, *sr, frame_fs, wire_fs, at0,
                                  limit) != 0:
            raise ValueError("register file stream: 1 to XFER_MAX frames")

    def xfer_get(self, xfer: int) -> tuple[bool, int, int, int, bool, int, int, bytes]:
        out = self._xget_out
        mosi = self.lib.rf_xfer_get(self.bus, xfer, out)
        k = out[2]
        return bool(out[0]), out[1], k, out[3], bool(out[4]), out[5], out[6], ctypes.string_at(mosi, k) if k else b""

    def xfer_stop(self, xfer: int) -> None:
        self.lib.rf_xfer_stop(self.bus, xfer)

    def xfer_script(self, xfer: int, m: int, cs: int, cs_low: int, cs_high: int) -> None:
        if self.lib.rf_xfer_script(self.bus, xfer, m, cs, cs_low, cs_high) != 0:
            raise ValueError("register file stream: a script of whole transfers of at least 2 frames")

    def xfer_script_get(self, xfer: int) -> tuple[int, bool, list[int]]:
        out = (ctypes.c_uint64 * 2)()
        ats = self.lib.rf_xfer_script_get(self.bus, xfer, out)
        return int(out[0]), bool(out[1]), ats[:out[0]]

    def xfer_start_i2c(self, xfer: int, miso: bytes, ats: list[int], sr: tuple[int, int, int, int]) -> None:
        arr = (ctypes.c_uint64 * len(ats)).from_buffer(array.array("Q", ats))
        if len(ats) != len(miso) or self.lib.rf_xfer_start_i2c(self.bus, xfer, bytes(miso), arr, len(miso), *sr) != 0:
            raise ValueError("register file stream: 1 to XFER_MAX bytes, one arrival cycle each")

    def xfer_start_i2c_even(self, xfer: int, miso: bytes, wire0_fs: int, step_fs: int, at0: int,
                            sr: tuple[int, int, int, int]) -> None:
        if self.lib.rf_xfer_start_i2c_even(self.bus, xfer, bytes(miso), len(miso), wire0_fs, step_fs, at0, *sr) != 0:
            raise ValueError("register file stream: bad evenly spaced I2C read")

    def xfer_i2c_icr(self, xfer: int, icr: int, bits: int) -> None:
        if self.lib.rf_xfer_i2c_icr(self.bus, xfer, icr, bits) != 0:
            raise ValueError("register file stream: the interrupt clear of a started I2C read stream")

    def xfer_icr_done(self, xfer: int) -> bool:
        return bool(self.lib.rf_xfer_icr_done(self.bus, xfer))

    def xfer_i2c_address(self, xfer: int, sr_pre: int, at_addr: int) -> None:
        if self.lib.rf_xfer_i2c_address(self.bus, xfer, sr_pre, at_addr) != 0:
            raise ValueError("register file stream: an I2C read's address is acknowledged before its first byte")

    def xfer_start_i2c_tx(self, xfer: int, n: int, sr: tuple[int, int, int, int], frame_fs: int, wire_fs: int,
                          at_ready: int, limit: int) -> None:
        if self.lib.rf_xfer_start_i2c_tx(self.bus, xfer, n, *sr, frame_fs, wire_fs, at_ready, limit) != 0:
            raise ValueError("register file stream: 1 to XFER_MAX bytes")

    def xfer_i2c_arm(self, xfer: int, cr: int, value: int, link: int | None, n: int, sr: tuple[int, int, int, int],
                     addr_fs: int, frame_fs: int, wire_fs: int, limit: int) -> None:
        if self.lib.rf_xfer_i2c_arm(self.bus, xfer, cr, value, NO_LINK if link is None else link, n, *sr, addr_fs,
                                    frame_fs, wire_fs, limit) != 0:
            raise ValueError("register file stream: an armed I2C write on an inactive slot with a timeline segment")

    def xfer_i2c_rearm(self, xfer: int, link: int | None, wire_fs: int) -> None:
        if self.lib.rf_xfer_i2c_rearm(self.bus, xfer, NO_LINK if link is None else link, wire_fs) != 0:
            raise ValueError("register file stream: an inactive slot armed before")

    def xfer_i2c_take(self, xfer: int) -> tuple[int, int, int]:
        out = self._armed_out
        state = self.lib.rf_xfer_i2c_take(self.bus, xfer, out)
        return state, out[0], out[1]

    def xfer_i2c_armed(self, xfer: int) -> tuple[int, int, int]:
        out = self._armed_out
        state = self.lib.rf_xfer_i2c_armed(self.bus, xfer, out)
        return state, out[0], out[1]

    def queue_new(self, index: int) -> int:
        q = int(self.lib.rf_queue_new(self.bus, index))
        if q < 0:
            raise MemoryError("register file queue")
        return q

    def queue_fill(self, queue: int, words: list[int], notify_at: int, deadline: int) -> None:
        buf = array.array("I", words)  # uint32 values: OverflowError otherwise
        arr = (ctypes.c_uint32 * len(buf)).from_buffer(buf) if buf else (ctypes.c_uint32 * 0)()
        if self.lib.rf_queue_fill(self.bus, queue, arr, len(words), notify_at, deadline) != 0:
            raise MemoryError("register file queue")

    def queue_take(self, queue: int) -> int:
        return int(self.lib.rf_queue_take(self.bus, queue))

    def queue_state(self, queue: int) -> tuple[int, int]:
        v = int(self.lib.rf_queue_state(self.bus, queue))
        return v >> 32, v & 0xFFFFFFFF

    def set_ack(self, index: int, fn: int, ctx: int) -> None:
        """Writes to entry ``index`` go first to ``fn(ctx, addr, size, value)`` (the hot path's hp_ack): flag ACK."""
        self.lib.rf_set_ack(self.bus, fn, ctx)
        self.set_flags(index, self.reg(index)["flags"] | ACK)

    def reg(self, index: int) -> dict[str, int]:
        r = self.lib.rf_regs(self.bus)[index]
        return {name: getattr(r, name) for name, _ in RfReg._fields_}

    def value(self, store: int) -> int:
        """Value ``store`` (a uint32 pointer's item is an int already: no conversion)."""
        return self._stores_p[store]

    def values(self, stores: list[int]) -> list[int]:
        """Values ``stores``, read through the pointer's item look-up (no comprehension's frame)."""
        return list(map(self._stores_p.__getitem__, stores))

    def set_values(self, stores: list[int], values: list[int]) -> None:
        """Set values ``stores`` to ``values`` (32 bits each), in order, iterated in C (no bytecodes per value: a
        TWIM settle puts back six to nine of them twice)."""
        _consume(itertools.starmap(self._stores_p.__setitem__, zip(stores, map(_u32, values), strict=True)))

    def values_bytes(self) -> bytes:
        n = self._n_store
        return ctypes.string_at(self.lib.rf_stores(self.bus), 4 * n) if n else b""

    def set_value(self, store: int, value: int) -> None:
        self._stores_p[store] = value & 0xFFFFFFFF

    def set_poll(self, threshold: int, poll: PollFn | None, pc_source: Any = None) -> None:
        """``pc_source``: the address of a uint32 holding the executing block's address (the hot path's
        ``last_addr``); a callable is accepted for the twin's sake and ignored."""
        self.poll = poll
        self.lib.rf_set_poll_threshold(self.bus, threshold)
        if isinstance(pc_source, int):
            self.lib.rf_set_pc_source(self.bus, pc_source)

    def save(self) -> tuple[Any, ...]:
        """Values and entries as they are now (for snapshots): the C arrays' bytes; each queue's words,
        words served, notify_at and deadline; each schedule."""
        n_store = self._n_store
        n_regs = int(self.lib.rf_count(self.bus))
        stores = ctypes.string_at(self.lib.rf_stores(self.bus), 4 * n_store) if n_store else b""
        regs = ctypes.string_at(self.lib.rf_regs(self.bus), ctypes.sizeof(RfReg) * n_regs) if n_regs else b""
        queues = []
        info = (ctypes.c_uint64 * 4)()
        for qi in range(int(self.lib.rf_queue_count(self.bus))):
            words = self.lib.rf_queue_get(self.bus, qi, info)
            queues.append((list(words[:info[1]]) if info[1] else [], info[0], info[2], info[3]))
        timed = [self.timed_get(ti) for ti in range(int(self.lib.rf_timed_count(self.bus)))]
        size = int(self.lib.rf_xfer_size())
        xfers = [ctypes.string_at(self.lib.rf_xfer_ptr(self.bus, xi), size)
                 for xi in range(int(self.lib.rf_xfer_count(self.bus)))]
        return stores, regs, queues, timed, xfers

    def load(self, saved: tuple[Any, ...]) -> None:
        stores, regs, queues, timed, xfers = saved
        for xi in range(int(self.lib.rf_xfer_count(self.bus))):  # streams made since the save: stopped
            if xi < len(xfers):
                ctypes.memmove(self.lib.rf_xfer_ptr(self.bus, xi), xfers[xi], len(xfers[xi]))
            else:
                self.lib.rf_xfer_stop(self.bus, xi)
        for ti in range(int(self.lib.rf_timed_count(self.bus))):  # schedules made since the save: 0 for ever
            self.timed_set(ti, *(timed[ti] if ti < len(timed) else (0, 0, NEVER, NEVER)))
        if stores:
            ctypes.memmove(self.lib.rf_stores(self.bus), stores, len(stores))
        if regs:
            ctypes.memmove(self.lib.rf_regs(self.bus), regs, len(regs))
        for qi in range(int(self.lib.rf_queue_count(self.bus))):  # queues made since the save: emptied
            words, head, notify_at, deadline = queues[qi] if qi < len(queues) else ([], 0, 0, 0)
            arr = (ctypes.c_uint32 * len(words))(*words)
            if self.lib.rf_queue_put(self.bus, qi, arr, len(words), head, notify_at, deadline) != 0:
                raise MemoryError("register file queue")

    def unmap_from(self, first: int) -> None:
        """Words mapped to entries at index >= ``first`` go back to Python."""
        self.lib.rf_unmap_from(self.bus, first)

    def truncate(self, n_regs: int, n_store: int) -> None:
        """Back to ``n_regs`` entries and ``n_store`` values (after ``unmap_from(n_regs)``): what is built
        again gets the indices it had."""
        self.lib.rf_truncate(self.bus, n_regs, n_store)
        self._n_store = min(self._n_store, n_store)

    def read(self, addr: int, size: int) -> int:
        return int(self.lib.rf_read(self.bus, addr, size))

    def write(self, addr: int, size: int, value: int) -> None:
        self.lib.rf_write(self.bus, addr, size, value & ((1 << (8 * size)) - 1))

    def map_window(self, uc: unicorn.Uc, base: int, size: int) -> None:
        """Serve [base, base+size) through regfile.c's MMIO callbacks (no Python unless a word needs it)."""
        window = self.lib.rf_window_new(self.bus, base)
        if not window:
            raise MemoryError("register file window")
        self._windows.append(window)
        uclib = unicorn.unicorn_py3.unicorn.uclib
        status = uclib.uc_mmio_map(uc._uch, base, size, ctypes.c_void_p(self.lib.rf_mmio_read_ptr()),
                                   ctypes.c_void_p(window), ctypes.c_void_p(self.lib.rf_mmio_write_ptr()),
                                   ctypes.c_void_p(window))
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)

    def close(self) -> None:
        """Free the C side (only once Unicorn can no longer call into it)."""
        if self.bus:
            for w in self._windows:
                self.lib.rf_window_free(w)
            self._windows = []
            self.lib.rf_free(self.bus)
            self.bus = None

    def __del__(self) -> None:
        # the machine holds both this and its Unicorn engine: once it is gone nothing emulates
        self.close()


RegFile = PyRegFile | NativeRegFile


def make_regfile(py: PyFn, notify: NotifyFn, native: bool | None = None) -> RegFile:
    """The C register file when it is built (and ``native`` is not False), else the Python twin."""
    if native is not False and regfile_library() is not None:
        return NativeRegFile(py, notify)
    if native is True:
        raise RuntimeError("the native register file was asked for but is not built (pip install rebuilds it)")
    return PyRegFile(py, notify)
