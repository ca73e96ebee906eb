"""Waiting is cheap: polling loops fast-forward to the event that can end them, or stop with a name.

Vendor drivers wait by polling: ``while (!(RCC->CR & RCC_CR_HSERDY)) { if (HAL_GetTick() -
start > timeout) ... }``. Run as it is, each poll is an MMIO read served in Python, millions of
them for a few milliseconds of virtual time. Like ``wfi`` (which sleeps to the next event), a
polling loop whose every iteration is the same computation can skip to the next moment
anything it looks at can change.

How a loop is recognised (no code analysis, nothing per instruction): the machine reports
each MMIO read here. Three consecutive reads of the same register from the same place, with
no MMIO write and no exception between them, the same value, the same core registers (r0-r12,
SP, LR, xPSR, S0-S31) at the last two, and the same instruction and cycle counts for both
iterations, make a candidate: the CPU state at the read is a fixed point of one iteration. RAM
is not in the registers, so the machine copies the RAM at that read and compares it at the
next one: an iteration that leaves RAM unchanged (a software timeout counter changes it) is a
fixed point of the whole machine state, and the loop shape (place, register, counts per
iteration) is remembered as clean.

A clean loop advances by whole iterations (their instructions and cycles: active time, not
sleep) to the first moment its register may change by itself (``poll_hint``: a SysTick
COUNTFLAG at the next wrap) or to the next event, where the event runs as it would have; the
loop carries on and is recognised again if it keeps polling. If nothing can ever change what
the loop looks at (no event that could change the register, and either no interrupt that
could fire or a loop that reads no RAM, which an interrupt handler could change), the run
stops at once: "waiting on RCC.CR.HSERDY in HAL_RCC_OscConfig" (StopKind.WAITING, exit 125).
Whether a loop reads RAM is asked only then: Unicorn hooks on RAM watch one iteration
(translated code is flushed when they are added and removed, outside emulation, since hooks
added later do not apply to code already translated).

Plain registers (SVD registers no model implements) are served in C without Python: the register
file counts equal reads in a row from one block and calls ``on_bus_poll`` at every
``POLL_THRESHOLD``-th, which hands them on as the reads of a loop 16 iterations long (and mutes
streaks it keeps turning down). Only a firmware write changes such a register. A model may hand
a register whose behaviour is storage alone to the register file for a while (``bus.serve_in_c``:
the nRF52 UARTE's events while their interrupt is off); its polls come here the same way, with the
model as the owner (its ``poll_hint``: it changes at the model's events).

Without Python (``_NativePolls``, the native hot path and register file): once a loop shape on a
register the register file serves is found clean and its owner says an event or a known cycle can
change it, the shape is registered with C (hotpath.c ``hp_poll_shape``, the entry flagged
``POLL_FF``). Every later read of that entry served in C is compared there with the previous one
(same load instruction and value, R0-R12/SP/LR/xPSR equal, no write or exception between, one
registered iteration apart) and the loop advances exactly as ``_fast_forward`` would, to the
entry's next change (regfile.c ``rf_next_change``) or the hot path's next stop, without leaving C.
Loops that could end "waiting" (nothing scheduled that could change them) stay Python's. The
``polling`` figures count both (``fast_forwards_in_c``: C's share).

What links two reads, "no MMIO write and no exception between them", is counted as of the moment the watch looks:
Python's own writes plus C's running totals of the accesses it served (NVIC and event-clear writes, CYCCNT reads,
the TWIM's and UARTE's STARTTX, ...: ``writes_now``) and the exception entries with C's since Python's last sync
(``_counts``), never only what Python's last sync (SystemBlock.sync_native) brought over. So a register-file poll
that starts a new streak (``first_poll``: the Nano 33 BLE Sense's EVENTS_ERROR polls in its TWIM wait) needs no
sync and is recorded without the guard; what C did since is settled at Python's next entry.

``SIMCORE_POLL_FF`` (environment, read when a machine is built): ``0`` turns fast-forwards off
(loops run every iteration; "waiting" stops still happen), ``python`` keeps them in Python only;
run counts are the same in all three (a fast-forward skips only iterations that are fixed points).

What a model must keep true for this (docs/clocks.md): a register's value changes only when
written, at a scheduled event, at every read (a free-running counter), or at the cycle its
``poll_hint`` returns.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import unicorn
from unicorn import arm_const as R

from simcore.abi import HotState
from simcore.cortexm.coreregs import CoreRegs
from simcore.regfile import NEVER as NEVER_CHANGES
from simcore.regfile import POLL_FF
from simcore.runtypes import Stop, StopKind

if TYPE_CHECKING:
    from simcore.bus import Poll
    from simcore.machine import Machine

SNAP_REGS = (tuple(getattr(R, f"UC_ARM_REG_R{i}") for i in range(13))
             + (R.UC_ARM_REG_SP, R.UC_ARM_REG_LR, R.UC_ARM_REG_XPSR)
             + tuple(getattr(R, f"UC_ARM_REG_S{i}") for i in range(32)))


def _fields(*names: str) -> struct.Struct:
    """What reads hp_state's counters ``names`` (32-bit, arrays of them: every element, or 64-bit) out of the state in
    one call: the polling watch sums C's running totals when it looks at a read (struct's unpack_from: ~15 ctypes field
    reads' work in one C call)."""
    fields: list[tuple[int, str]] = []
    for name in names:
        f, kind = getattr(HotState, name), dict(HotState._fields_)[name]  # noqa: SLF001
        size = ctypes.sizeof(kind._type_ if issubclass(kind, ctypes.Array) else kind)
        fields += [(f.offset + k, "I" if size == 4 else "Q") for k in range(0, f.size, size)]
    fmt, at = "<", 0
    for offset, code in sorted(fields):
        fmt += f"{offset - at}x{code}" if offset > at else code
        at = offset + struct.calcsize(code)
    return struct.Struct(fmt)


# C's running totals of the MMIO accesses it served that the polling watch did not see as reads (PollWatch._counts):
# NVIC writes (hp_nvic_write, hp_nvic_pend), event clears (hp_ack), CYCCNT reads (hp_dwt_mmio_read), CPACR/DEMCR/DWT
# accesses (hp_sc_read, hp_sc_write), ICSR writes (hp_pendsv, hp_nmi_pend), interrupt acknowledges (hp_ack), a TWIM's
# TASKS_STARTTX (hp_twim_start) and a compare write (hp_cc_move), a K-tick stretch's (hp_ks); and of the exception
# entries and returns it did
_C_WRITES = _fields("nv_writes", "ev_clears", "dwt_reads", "sc_reads", "sc_writes", "psv_sets", "src_acks", "tw_taken",
                    "mv_done", "ks_writes")
_C_ENTRIES = _fields("nv_entries", "src_entries", "tick_entries", "fast_returns")


class _NothingHere:
    """The owner of an address in the peripheral region where no model is: it reads 0 for ever."""

    @staticmethod
    def poll_hint(offset: int) -> tuple[bool, int | None]:
        return False, None

    @staticmethod
    def poll_name(offset: int) -> str:
        return f"{offset:#010x}"

    @staticmethod
    def poll_explain(offset: int, value: int) -> str:
        return "no peripheral is modelled at this address"


NOTHING_HERE = _NothingHere()

POLL_THRESHOLD = 16  # the register file calls on_bus_poll at every 16th equal read of a plain register in a row
MUTE_AFTER = 4  # a register's streak whose polls were turned down this many times in a row is muted


class _PlainOwner:
    """A plain SVD register (no model: the register file serves it in C): only a firmware write changes it."""

    def __init__(self, poll: Poll) -> None:
        self.name = poll.name
        self.plain = poll.plain_reg

    @staticmethod
    def poll_hint(offset: int) -> tuple[bool, int | None]:
        return False, None

    def poll_name(self, offset: int) -> str:
        return self.name

    def poll_fields(self, bits: int) -> list[str]:
        return self.plain.svd.fields_in(bits) if self.plain is not None else []

    def poll_explain(self, offset: int, value: int) -> str:
        periph = self.name.split(".")[0]
        return (f"simcore does not model {periph}: its registers keep their reset value or what the firmware "
                "wrote")


@dataclass(slots=True)
class _Read:
    """One MMIO read at the watched place: counters, and the core registers once the place repeats."""

    insns: int
    cycles: int
    value: int
    entries: int
    regs: bytes | None = None  # CoreRegs.fingerprint of SNAP_REGS
    waits: tuple[int, int] = (0, 0)  # flash wait and taken-branch cycles so far (the figures' shares)


@dataclass
class _Verify:
    """A clean loop watched for one iteration with hooks on RAM reads (only to decide "waiting")."""

    key: tuple[int, int, int, int]  # (block pc, addr, instructions, cycles per iteration)
    insn: int  # the loop's load instruction (blocks split under the hooks: the block pc changes)
    armed: bool = False
    read_ram: bool = False


@dataclass
class PollStats:
    loops: int = 0  # fast-forwards done
    iterations: int = 0  # iterations skipped
    cycles: int = 0  # cycles skipped
    verified: int = 0  # loop shapes found to leave RAM unchanged
    refused: int = 0  # iterations found to change RAM (not fast-forwarded)
    places: dict[str, int] = field(default_factory=dict)  # "RCC.CR in HAL_RCC_OscConfig" -> fast-forwards
    # C's fast-forwards: (place, fast-forwards, iterations, cycles) per registered shape (_NativePolls.figures)
    native: Callable[[], list[tuple[str, int, int, int]]] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        loops, iterations, cycles, places, in_c = self.loops, self.iterations, self.cycles, dict(self.places), 0
        for place, ffs, iters, cyc in (self.native() if self.native is not None else ()):
            loops += ffs
            in_c += ffs
            iterations += iters
            cycles += cyc
            if ffs:
                places[place] = places.get(place, 0) + ffs
        return {"fast_forwards": loops, "fast_forwards_in_c": in_c, "iterations_skipped": iterations,
                "cycles_skipped": cycles, "loop_shapes_verified": self.verified, "loop_shapes_refused": self.refused,
                "places": dict(sorted(places.items(), key=lambda kv: -kv[1])[:20])}


_NATIVE_DECLARED: set[int] = set()  # libraries whose hp_poll_* functions have their ctypes signatures
_VERIFY_FN = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)
REFUSED = 0xFF  # hotpath.c HP_POLL_REFUSED: a shape C found that changes RAM (never advanced)


class _NativePolls:
    """The C side of the watch (hotpath.c ``hp_poll_*``): the clean shapes registered there, and its figures."""

    def __init__(self, machine: Machine, verify: Callable[[int, int, int, int], None]) -> None:
        lib, rf = machine.hot.lib, machine.bus.rf
        if id(lib) not in _NATIVE_DECLARED:
            v, u32 = ctypes.c_void_p, ctypes.c_uint32
            lib.hp_poll_new.restype = v
            lib.hp_poll_new.argtypes = [v, v, v, v]
            lib.hp_poll_free.argtypes = [v]
            lib.hp_poll_shape.restype = ctypes.c_int
            lib.hp_poll_shape.argtypes = [v, u32, u32, u32, u32, u32]
            lib.hp_poll_forget.argtypes = [v]
            lib.hp_poll_stats.restype = ctypes.c_int
            lib.hp_poll_stats.argtypes = [v, u32, ctypes.POINTER(ctypes.c_uint64)]
            lib.hp_poll_py_writes_ptr.restype = v
            lib.hp_poll_py_writes_ptr.argtypes = [v]
            lib.hp_poll_read_ptr.restype = v
            lib.rf_set_poll_ff.argtypes = [v, v, v]
            lib.rf_mmio_writes_ptr.restype = v
            lib.rf_mmio_writes_ptr.argtypes = [v]
            lib.hp_poll_set_verify.argtypes = [v, v]
            lib.hp_poll_saved_size.restype = ctypes.c_size_t
            lib.hp_poll_saved_size.argtypes = []
            lib.hp_poll_save.argtypes = [v, ctypes.c_char_p]
            lib.hp_poll_load.argtypes = [v, ctypes.c_char_p]
            _NATIVE_DECLARED.add(id(lib))
        self.lib, self.rf = lib, rf
        self.p = lib.hp_poll_new(ctypes.addressof(machine.hot.state), machine.uc._uch.value, rf.bus,  # noqa: SLF001
                                 lib.rf_mmio_writes_ptr(rf.bus))
        if not self.p:
            raise MemoryError("polling fast-forward table")
        lib.rf_set_poll_ff(rf.bus, lib.hp_poll_read_ptr(), self.p)
        # writes Python serves outside the register file (PPB windows): a loop that writes is no fixed point
        self.py_writes = ctypes.c_uint64.from_address(lib.hp_poll_py_writes_ptr(self.p))
        self.shapes: dict[tuple[int, int, int, int], int] = {}  # (entry, load pc, insns, cycles) -> C's index
        self.places: list[str] = []  # by C's index
        self._verify_cb = _VERIFY_FN(verify)  # kept referenced: C holds the pointer
        lib.hp_poll_set_verify(self.p, ctypes.cast(self._verify_cb, ctypes.c_void_p))
        # the register file only weakly: a finalizer's arguments live until it runs, and the register file reaches
        # this object (its Python callback -> the bus -> the machine), so a strong one kept every machine alive
        self._finalizer = weakref.finalize(self, _NativePolls._free, lib, weakref.ref(rf), self.p)

    def close(self) -> None:
        """Free the C table now (Machine.close), not when this object is collected."""
        self._finalizer()

    @staticmethod
    def _free(lib: Any, rf_ref: Callable[[], Any], p: int) -> None:
        rf = rf_ref()
        if rf is not None and rf.bus:  # (a register file freed first no longer points at the table)
            lib.rf_set_poll_ff(rf.bus, None, None)
        lib.hp_poll_free(p)

    def register(self, index: int, pc: int, d_insn: int, d_cyc: int, events: int, place: str) -> None:
        key = (index, pc, d_insn, d_cyc)
        if key in self.shapes or not (0 < d_insn < 1 << 32 and 0 < d_cyc < 1 << 32):
            return
        i = self.lib.hp_poll_shape(self.p, index, pc, d_insn, d_cyc, events)
        self.shapes[key] = i
        if i < 0:
            return  # the table is full: Python goes on fast-forwarding this loop
        while len(self.places) <= i:
            self.places.append(place)
        self.rf.set_flags(index, self.rf.flags(index) | POLL_FF)

    def forget(self) -> None:
        self.lib.hp_poll_forget(self.p)

    def save(self) -> bytes:
        """C's learnt shapes and their figures, for a snapshot (``load`` puts them back)."""
        out = ctypes.create_string_buffer(self.lib.hp_poll_saved_size())
        self.lib.hp_poll_save(self.p, out)
        return out.raw

    def load(self, saved: bytes) -> None:
        self.lib.hp_poll_load(self.p, saved)

    def figures(self) -> list[tuple[str, int, int, int]]:
        out = (ctypes.c_uint64 * 3)()
        rows = []
        for i, place in enumerate(self.places):
            if self.lib.hp_poll_stats(self.p, i, out) == 0:
                rows.append((place, out[0], out[1], out[2]))
        return rows


# RAM copies the polling watch took and dropped, by size, for the next copy: a fresh 256 KiB bytearray is 64 page
# faults (~0.15 ms, more than half the cost of verifying a loop on an nRF52840), a reused one a memcpy.
_SPARE_COPIES: dict[int, list[bytearray]] = {}


def _copy_of(buf: Any) -> bytearray:
    """A copy of RAM buffer ``buf`` (a ctypes array of bytes), in a spare bytearray of its size when there is one."""
    spare = _SPARE_COPIES.get(len(buf))
    while spare:
        out = spare.pop()
        if sys.getrefcount(out) == 2:  # this name and the call's argument only: no machine snapshot holds it
            ctypes.memmove((ctypes.c_char * len(out)).from_buffer(out), buf, len(out))  # in place, no temporary
            return out
    return bytearray(buf)


# /proc/self/pagemap (Linux, Documentation/admin-guide/mm/pagemap.rst): one 64-bit entry per host page, bit 63 "page
# present", bit 62 "page swapped". A page of an anonymous private mapping (the guest RAM: machine.host_buffer) with
# neither has never been touched since the mapping was made, so it reads as zeros. The watch copies and compares only
# the other pages: a fresh machine's RAM faulted in page by page at the first look's copy (8 x 52 us in an nrf_nvmc
# run, 256 KiB each), while the firmware has touched a few pages of it.
_PAGE = mmap.PAGESIZE
_pagemap: tuple[int, int] | None = None  # (the process it was opened in, its fd; -1: not readable, copy it all)


def _touched_runs(buf: Any) -> list[tuple[int, int]] | None:
    """[start, end) byte offsets of the runs of host pages of ``buf`` (a page-aligned anonymous mapping) that were ever
    touched; every other byte is zero. None: the page map cannot be read (then copy it all)."""
    global _pagemap
    pid = os.getpid()
    if _pagemap is None or _pagemap[0] != pid:  # a forked child's own map (the parent's fd reads the parent's)
        try:
            _pagemap = (pid, os.open("/proc/self/pagemap", os.O_RDONLY | os.O_CLOEXEC))
        except OSError:
            _pagemap = (pid, -1)
    fd = _pagemap[1]
    addr = ctypes.addressof(buf)
    if fd < 0 or addr % _PAGE or len(buf) % _PAGE:
        return None
    n = len(buf) // _PAGE
    try:
        raw = os.pread(fd, 8 * n, addr // _PAGE * 8)
    except OSError:
        return None
    if len(raw) != 8 * n:
        return None
    runs: list[tuple[int, int]] = []
    for i, top in enumerate(raw[7::8]):  # each entry's bits 56-63 (little-endian): present 0x80, swapped 0x40
        if top & 0xC0:
            if runs and runs[-1][1] == i * _PAGE:
                runs[-1] = (runs[-1][0], (i + 1) * _PAGE)
            else:
                runs.append((i * _PAGE, (i + 1) * _PAGE))
    return runs


_ZEROS = bytearray(_PAGE)


def _ram_copy(buf: Any) -> Any:
    """What :meth:`PollWatch._memory` keeps of one RAM buffer: its touched runs with a copy of each (only these can
    hold anything but zeros), or a whole copy (``_copy_of``) where the page map cannot be read."""
    runs = _touched_runs(buf)
    if runs is None:
        return _copy_of(buf)
    view = memoryview(buf).cast("B")
    return tuple((lo, hi, bytearray(view[lo:hi])) for lo, hi in runs)


def _ram_same(old: Any, buf: Any) -> bool:
    """RAM buffer ``buf`` still holds what :func:`_ram_copy` kept: the kept runs compared in place (memcmp), and every
    page touched since (it was zero then) compared with zeros."""
    if isinstance(old, bytearray):
        return old == buf
    view = memoryview(buf).cast("B")
    if not all(data == view[lo:hi] for lo, hi, data in old):
        return False
    runs = _touched_runs(buf)
    if runs is not None and len(runs) == len(old) and all(r[0] == o[0] and r[1] == o[1] for r, o in zip(runs, old)):
        return True  # no page touched since
    if runs is None:  # (it could be read a moment ago): every page outside the kept runs must still be zero
        runs = [(0, len(buf))]
    kept = {at for lo, hi, _data in old for at in range(lo, hi, _PAGE)}
    return all(at in kept or _ZEROS == view[at:at + _PAGE] for lo, hi in runs for at in range(lo, hi, _PAGE))


class PollWatch:
    """The machine's polling-loop detector (see the module docstring)."""

    LAZY_REGS: ClassVar[bool] = True  # False: take the registers at every repeated read (tests compare both)
    FIRST_POLLS_UNGUARDED: ClassVar[bool] = True  # False: every register-file poll through the guard (first_poll)

    def __init__(self, machine: Machine) -> None:
        mode = os.environ.get("SIMCORE_POLL_FF", "1")
        self.fast_forward = mode != "0"  # skip iterations (else only "waiting" stops)
        self.m = machine
        self.regs = CoreRegs(machine.uc)
        self.site: tuple[int, int] | None = None
        self.reads: list[_Read] = []
        self.writes = 0  # MMIO writes Python served (C's own are its running totals: writes_now)
        self._c_totals = (0, 0)  # (_C_WRITES, _C_ENTRIES) summed, while fr_done stays 0 after sync _c_sync (_counts)
        self._c_sync = -1
        self._writes_at = 0  # writes_now() at the first read of the current place
        self._ram = [machine.buffers[i] for i, mem in enumerate(machine.board.memories) if mem.kind == "ram"]
        self._snapshot: tuple[tuple[int, int, int, int], bytes | None, list[bytearray]] | None = None
        self.clean: dict[tuple[int, int, int, int], bool | None] = {}  # clean shapes -> reads RAM (None: unknown)
        self.dirty: dict[tuple[int, int, int, int], int] = {}  # shapes seen changing RAM -> times
        self.watch: _Verify | None = None  # the reads-RAM watch (hooks on RAM for one iteration)
        self._want: str | None = None  # "watch" / "unwatch": hooks to change at the next stop
        self._hooks: list[int] = []
        self.stats = PollStats()
        self._plain: dict[int, _PlainOwner] = {}  # register-file entry -> its stand-in owner
        self._turned_down: dict[int, int] = {}  # register-file entry -> polls turned down in a row
        self._places: dict[tuple[int, int, int, int], tuple[Any, str]] = {}  # (owner id, offset, addr, pc) -> name
        self._unit = 1  # firmware loop iterations per iteration of the shape being looked at
        self._index = -1  # the register-file entry of the read being looked at (-1: ask the register file)
        self.native: _NativePolls | None = None
        if (self.fast_forward and mode != "python" and getattr(machine.hot, "lib", None) is not None
                and machine.bus.rf.native):
            self.native = _NativePolls(machine, self.verify_native)
            self.stats.native = self.native.figures
        self._learning: dict[tuple[int, int, int, int], tuple[int, list[Any]]] = {}  # C's new shapes: RAM before
        self._native_dirty: dict[tuple[int, int, int, int], int] = {}

    # --- called by the machine --------------------------------------------------------------
    def on_write(self) -> None:
        self.writes += 1
        if self.native is not None:
            self.native.py_writes.value += 1

    def on_write_in_c(self) -> None:
        """A firmware write C served that Python's sync replays through the model (a TWIM's TASKS_STARTTX, a compare
        write): hp_poll_read's count of Python's writes as before; this watch counts it from C's total (writes_now)."""
        if self.native is not None:
            self.native.py_writes.value += 1

    def writes_now(self) -> int:
        """MMIO writes so far that this watch did not see as reads: the ones Python served (``writes``) and C's running
        totals of those it served (_C_WRITES, the UARTE's STARTTX), read now: the same whether or not Python synced
        since (SystemBlock.sync_native)."""
        return self._counts()[0]

    def _counts(self) -> tuple[int, int]:
        """(writes_now(), exception entries and returns so far): Python's own and C's running totals, read now
        (ExceptionModel.entries holds C's entries only as of Python's last sync: SystemBlock.entries_of_c). C's sums
        are kept while nothing of C's is left for Python (fr_done 0: C sets it with every count it bumps, and only a
        sync clears it) since a sync, the common case of a read Python serves right after its guard's sync."""
        m = self.m
        s = m.hot.state
        system = m.system
        if s.fr_done or self._c_sync != system.syncs:
            self._c_totals = (sum(_C_WRITES.unpack_from(s)), sum(_C_ENTRIES.unpack_from(s)))
            self._c_sync = -1 if s.fr_done or not m.hot.native else system.syncs
        c_writes, c_entries = self._c_totals
        ux = m._ux  # noqa: SLF001 - hp_uarte_start's records not settled yet (Machine.settle_uarte)
        return (self.writes + c_writes + m.uarte_starts_in_c + (ux.n if ux else 0),
                system.exc.entries - system.entries_of_c + c_entries)

    def forget(self) -> None:
        self.site = None
        self.reads.clear()
        self._drop_snapshot()

    def pending(self) -> bool:
        """A stop was asked for to add or remove the RAM watch."""
        return self._want is not None

    def on_bus_poll(self, poll: Poll) -> None:
        """The register file's poll watch (``PeripheralBus.watch_polls``): a register re-read with the same
        value by the same block ``POLL_THRESHOLD`` times in a row. Model registers reach ``on_read`` at
        every read already, so only plain ones (served in C, no Python per access) and the model registers
        the register file serves for a while (``Poll.in_c``, owned by their model) are looked at here, at
        every ``POLL_THRESHOLD``-th read: a loop is the same iteration repeated, so the reads handed on
        are consecutive reads of a longer iteration. A register whose loop keeps being turned down is
        muted in C until its streak ends."""
        bus = self.m.bus
        if poll.in_c:  # a model's register the register file serves while the model allows it: the model owns it
            owner, offset = poll.model, poll.addr - poll.model.base
        elif not poll.plain:
            bus.mute_poll(poll.index)
            return
        else:
            owner, offset = self._plain.get(poll.index), 0
            if owner is None:
                owner = self._plain[poll.index] = _PlainOwner(poll)
        self._unit = POLL_THRESHOLD  # the loop seen is POLL_THRESHOLD iterations of the firmware's
        self._index = poll.index
        try:
            verdict = self.on_read(owner, offset, poll.addr, poll.value)
        finally:
            self._unit = 1
            self._index = -1
        if verdict is False:
            n = self._turned_down.get(poll.index, 0) + 1
            self._turned_down[poll.index] = n
            if n >= MUTE_AFTER:
                self._turned_down[poll.index] = 0
                bus.mute_poll(poll.index)
        else:
            self._turned_down[poll.index] = 0

    def first_poll(self, poll: Poll) -> bool:
        """A register-file poll (bus._poll, before its guard) that is the first read of a place (another place, or a
        write since its last read): recorded as on_bus_poll would, without the guard. Its verdict needs nothing
        Python's sync brings up to date (the counters are read from C's totals: _counts), so what C
        did since (a TWIM transfer it took: ~5,000 bytecodes of settle) waits for Python's next entry. False: not
        such a read, or something else to do (console bytes to take, a stop, the RAM watch): on_bus_poll, guarded."""
        m = self.m
        if (not self.FIRST_POLLS_UNGUARDED or self.watch is not None or m.stop is not None
                or not (poll.in_c or poll.plain) or (self.site is None and not poll.plain)  # (on_read's hint)
                or (m._c_console is not None and m.bus.rf.console_pending())):  # noqa: SLF001
            return False
        key = (m.pc(), poll.addr)
        writes, entries = self._counts()
        if key == self.site and writes == self._writes_at:
            return False
        self._first(key, writes, poll.value, entries)
        self._turned_down[poll.index] = 0
        return True

    def _first(self, key: tuple[int, int], writes: int, value: int, entries: int) -> None:
        """The read at ``key`` starts the reads compared (a new place, or a write since the last read there)."""
        s = self.m.hot.state
        self.site = key
        self._writes_at = writes
        self._drop_snapshot()
        self.reads = [_Read(s.insn_count, s.cycle_count, value, entries)]

    def on_read(self, owner: Any, offset: int, addr: int, value: int, pc: int | None = None) -> bool | None:
        """An MMIO read (inside the MMIO callback, after the model computed ``value``; ``pc``: the core's PC
        if the caller has it, else it is asked for). False: the read repeats the place of the previous one but
        the loop is no fixed point (or changes memory)."""
        m = self.m
        if m.console_take():  # console bytes written in C (RF_CONSOLE) since the last look: MMIO writes
            self.writes += 1
        if m.stop is not None:
            return None
        if self.watch is not None:
            self._watch_read(addr)
            return None
        if self.site is None and self._hint(owner, offset) is None:
            return None
        if pc is None:
            pc = m.pc()
        key = (pc, addr)
        writes, entries = self._counts()
        if key != self.site or writes != self._writes_at:
            self._first(key, writes, value, entries)
            return None
        s = m.hot.state
        reads = self.reads
        prev = reads[-1]
        cycles = s.cycle_count
        # The core registers are compared only between the last two reads of a candidate, which needs this read
        # to have advanced time and repeated the value and the exception count of the read before: when it did
        # not, no triple this read is the second or third of can pass (the checks below fail before comparing
        # registers), so they are not read (49 registers per read: most of the cost of reads in one block).
        wanted = cycles > prev.cycles and value == prev.value and entries == prev.entries
        regs = self.regs.fingerprint(SNAP_REGS) if wanted or not self.LAZY_REGS else None
        read = _Read(s.insn_count, cycles, value, entries, regs, (s.flash_wait_cycles, s.branch_taken_cycles))
        reads.append(read)
        if len(reads) > 3:
            del reads[0]
        if len(reads) < 3:
            return None
        a, b, c = reads
        d1 = (b.insns - a.insns, b.cycles - a.cycles)
        d2 = (c.insns - b.insns, c.cycles - b.cycles)
        if not (d1 == d2 and d2[1] > 0 and a.value == b.value == c.value and b.regs == c.regs
                and a.entries == b.entries == c.entries):
            self._drop_snapshot()
            return False
        shape = (pc, addr, d2[0], d2[1])
        if shape not in self.clean:
            if self.dirty.get(shape, 0) >= 3:
                return False  # this loop changes RAM every time it was looked at: leave it alone
            snap = self._snapshot
            if snap is None or snap[0] != shape or snap[1] != c.regs:
                self._drop_snapshot()
                self._snapshot = (shape, c.regs, self._memory())
                return None
            if not self._memory_same(snap[2]):
                self.dirty[shape] = self.dirty.get(shape, 0) + 1
                self.stats.refused += 1
                self._drop_snapshot()
                return False
            self.clean[shape] = None
            self.stats.verified += 1
        self._drop_snapshot()
        self._fast_forward(owner, offset, addr, value, shape, b, c)
        return True

    def _memory(self) -> list[Any]:
        """RAM (the pages ever touched, :func:`_ram_copy`) and the register file's plain register values (a loop may
        store to either)."""
        return [_ram_copy(buf) for buf in self._ram] + [bytearray(self.m.bus.rf.values_bytes())]  # values: 1 us, not 70

    def _drop_snapshot(self) -> None:
        """Forget the RAM copy taken before a loop's iteration; its buffers serve the next copy (``_copy_of``)."""
        snap, self._snapshot = self._snapshot, None
        if snap is not None:
            for buf in snap[2][:-1]:
                if not isinstance(buf, bytearray):
                    continue
                spare = _SPARE_COPIES.setdefault(len(buf), [])
                if len(spare) < 4:
                    spare.append(buf)

    def _memory_same(self, snap: list[Any]) -> bool:
        """RAM and the plain register values still those of ``snap`` (:meth:`_memory`), compared in place: a
        bytearray compares with any buffer by memcmp, so no second copy of RAM is made (a fresh 256 KiB copy
        costs ~140 us of page faults, the comparison ~6 us)."""
        return all(_ram_same(old, buf) for old, buf in zip(snap, self._ram)) and \
            snap[-1] == self.m.bus.rf.values_bytes()

    def at_stop(self) -> None:
        """Outside emulation (the run loop, before resuming): add or remove the RAM watch; C forgets its last
        read (what Python did at the stop, an exception entered or an event, links no read after it to it)."""
        if self.native is not None:
            self.native.forget()
        want, self._want = self._want, None
        uc = self.m.uc
        if want == "watch" and self.watch is not None and not self._hooks:
            for w in self.m.memmap.windows:
                if w.is_ram:
                    self._hooks.append(uc.hook_add(unicorn.UC_HOOK_MEM_READ, self._on_ram_read, begin=w.base,
                                                   end=w.end - 1))
            uc.ctl_flush_tb()
        elif want == "unwatch" and self._hooks:
            for h in self._hooks:
                uc.hook_del(h)
            self._hooks.clear()
            uc.ctl_flush_tb()

    # --- does the loop read RAM? ------------------------------------------------------------------
    def _stop_soon(self) -> None:
        """Leave emulation at the next block boundary (the run loop calls at_stop)."""
        s = self.m.hot.state
        s.stop_cycle = 0
        s.py_stop = 1
        self.m.uc.emu_stop()

    def _start_watch(self, shape: tuple[int, int, int, int]) -> None:
        from simcore.accesspc import instruction_of_access

        pc = instruction_of_access(self.m.uc, self.m.pc(), shape[1], write=False)
        self.watch = _Verify(shape, insn=pc)
        self.m.hot.state.dwt_on |= 2  # every read reaches this watch (hp_dwt_mmio_read leaves CYCCNT to Python)
        self._want = "watch"
        self.forget()
        self._stop_soon()

    def _on_ram_read(self, uc: unicorn.Uc, _access: int, address: int, size: int, _value: int, _u: object) -> None:
        w = self.watch
        if w is not None and w.armed:
            w.read_ram = True

    def _watch_read(self, addr: int) -> None:
        """A read while the watch is on: the first at the loop's instruction arms it, the second ends it."""
        from simcore.accesspc import instruction_of_access

        w = self.watch
        assert w is not None
        same = addr == w.key[1] and instruction_of_access(self.m.uc, self.m.pc(), addr, write=False) == w.insn
        if same and not w.armed:
            w.armed = True
            return
        self.watch = None
        self.m.hot.state.dwt_on &= ~2
        self._want = "unwatch"
        self._stop_soon()
        if same:
            self.clean[w.key] = w.read_ram

    # --- fast-forward ------------------------------------------------------------------------
    @staticmethod
    def _hint(owner: Any, offset: int) -> tuple[bool, int | None] | None:
        """(may an event change the register, the cycle it changes by itself or None); None: the model did not
        say (``poll_hint`` or ``POLL_SAFE``), so its loops are left alone."""
        hint = getattr(owner, "poll_hint", None)
        if hint is not None:
            return hint(offset)
        return (True, None) if getattr(owner, "POLL_SAFE", False) else None

    def _fast_forward(self, owner: Any, offset: int, addr: int, value: int, shape: tuple[int, int, int, int],
                      b: _Read, c: _Read) -> None:
        m = self.m
        s = m.hot.state
        hint = self._hint(owner, offset)
        if hint is None:
            return
        at_events, change = hint
        if self._index >= 0:  # a register-file entry: its own schedule (TIMED, a queue's deadline) may change it
            own = m.bus.rf.next_change(self._index)
            if own != NEVER_CHANGES:
                change = own if change is None else min(change, own)
        nxt = m.next_event_cycle()
        if not at_events and change is None:
            irq_possible = nxt is not None and (m.interrupt_could_fire() or m.reset_could_happen())
            if not irq_possible:
                self._waiting(owner, offset, addr, value, None, nxt is not None)
                return
            reads_ram = self.clean.get(shape)
            if reads_ram is None:
                self._start_watch(shape)  # the answer comes one iteration later
                return
            if not reads_ram:
                self._waiting(owner, offset, addr, value, False, True)
                return
        targets = [t for t in (nxt, change) if t is not None]
        if not targets:
            self._waiting(owner, offset, addr, value, None, False)
            return
        target = min(targets)
        d_insn, d_cyc = shape[2], shape[3]
        # stop short of the event and let the last iteration(s) run, so that the event is taken at the block
        # boundary where it would have been (a loop may be several blocks; for plain registers the shape is
        # POLL_THRESHOLD iterations)
        iters = max((target - s.cycle_count - 1) // d_cyc, 0)
        if change is not None and target == change and (nxt is None or change < nxt):
            # the register changes by itself: the first read at or after that cycle must see it, and this
            # read is done, so stop one iteration short (the loop then reads it where it would have)
            iters = max(iters - 1, 0)
        budget_left = max(s.stop_insn - s.insn_count, 0) // max(d_insn, 1)
        iters = min(iters, budget_left)
        if self.native is not None:  # what may end it besides its own change, in hotpath.c's terms (HP_POLL_*)
            self._register(owner, offset, addr, shape, 1 if at_events else 2 if change is None else 0)
        if iters == 0 or not self.fast_forward:
            return
        s.insn_count += iters * d_insn
        s.cycle_count += iters * d_cyc
        s.flash_wait_cycles += iters * (c.waits[0] - b.waits[0])
        s.branch_taken_cycles += iters * (c.waits[1] - b.waits[1])
        st = self.stats
        st.loops += 1
        st.iterations += iters * self._unit  # the firmware's iterations (a register-file poll's shape is 16 of them)
        st.cycles += iters * d_cyc
        where = (id(owner), offset, addr, shape[0])
        known = self._places.get(where)
        if known is None:  # the owner is kept with its name, so its id is not reused while the name is cached
            known = self._places[where] = (owner, f"{self._reg_name(owner, offset, addr)} in "
                                                  f"{self._function(shape[0])}")
        place = known[1]
        st.places[place] = st.places.get(place, 0) + 1
        self.forget()  # the hot path stops at the next block if an event is due (or the budget is spent)
    def verify_native(self, index: int, pc: int, d_insn: int, d_cyc: int) -> None:
        """hotpath.c's question about a loop it found on a timed entry (whose reads never come here): two reads
        one iteration apart with the same core registers. As for Python's own candidates, RAM is copied at one
        read and compared at the next; a loop whose iteration leaves it unchanged is registered (what may end it:
        the entry's change, and the next event if its model says an event may change it), one that changes it
        three times is registered as refused. Runs inside the MMIO read (guarded as a model access)."""
        self.m.guard_access(lambda: self._verify_native(index, pc, d_insn, d_cyc))

    def _verify_native(self, index: int, pc: int, d_insn: int, d_cyc: int) -> None:
        native = self.native
        key = (index, pc, d_insn, d_cyc)
        if native is None or key in native.shapes:
            return
        now = self.m.hot.state.cycle_count
        before = self._learning.pop(key, None)
        if before is None or before[0] != now - d_cyc:  # not the read one iteration earlier: start again here
            self._learning[key] = (now, self._memory())
            return
        entry = self.m.bus.entry_at(index)
        owner = entry.model if entry is not None else None
        offset = entry.addr - owner.base if owner is not None else 0
        hint = self._hint(owner, offset) if owner is not None else None
        place = f"{self._reg_name(owner, offset, entry.addr)} in {self._function(pc)}" if entry is not None else ""
        if not self._memory_same(before[1]) or hint is None:
            self.stats.refused += 1
            n = self._native_dirty[key] = self._native_dirty.get(key, 0) + 1
            if n >= 3 or hint is None:
                native.register(*key, REFUSED, place)
            return
        self.stats.verified += 1
        native.register(*key, 1 if hint[0] else 0, place)

    def _register(self, owner: Any, offset: int, addr: int, shape: tuple[int, int, int, int], events: int) -> None:
        """Hand a clean shape that reaches a fast-forward to C (one iteration of the firmware's loop), for the
        register-file entry it reads. ``events``: 1 an event may change the register, 2 it is a plain register
        whose loop reads RAM and an interrupt could fire (C takes the next stop only when it is the SysTick
        interrupt it enters itself), 0 only its own change ends it."""
        native = self.native
        assert native is not None
        unit = self._unit
        if shape[2] % unit or shape[3] % unit:
            return
        index = self._index if self._index >= 0 else self.m.bus.rf.slot(addr) - 1
        if index < 0:
            return
        key = (index, shape[0], shape[2] // unit, shape[3] // unit)
        if key in native.shapes:
            return
        place = f"{self._reg_name(owner, offset, addr)} in {self._function(shape[0])}"
        native.register(*key, events, place)

    # --- naming ------------------------------------------------------------------------------
    def _function(self, pc: int) -> str:
        sym = self.m.fw.function_at(pc)
        return sym.name if sym is not None else f"{pc:#010x}"

    def _reg_name(self, owner: Any, offset: int, addr: int) -> str:
        namer = getattr(owner, "poll_name", None)
        if namer is not None:
            name = namer(offset)
            if name:
                return name
        decode = getattr(owner, "_table", None)
        slot = decode.decode.get(offset) if decode is not None else None
        if slot is not None and hasattr(owner, "reg_name"):
            return owner.reg_name(slot.reg, slot.index)
        return f"{addr:#010x}"

    def _tested_bits(self, addr: int) -> int | None:
        """The bits the loop tests, from the instructions after the load (tst/ands/lsls/ubfx on its result)."""
        from simcore.accesspc import disassembler, instruction_of_access

        m = self.m
        pc = instruction_of_access(m.uc, m.pc(), addr, write=False)
        try:
            code = bytes(m.uc.mem_read(pc, 24))
        except unicorn.UcError:
            return None
        insns = list(disassembler().disasm(code, pc, 6))
        if not insns or not insns[0].operands:
            return None
        dest = insns[0].operands[0].reg
        from capstone import arm_const as A

        for insn in insns[1:]:
            ops = insn.operands
            regs = [o.reg for o in ops if o.type == A.ARM_OP_REG]
            imms = [o.imm for o in ops if o.type == A.ARM_OP_IMM]
            if dest not in regs[1:] and not (insn.mnemonic.startswith("tst") and regs[:1] == [dest]):
                if regs[:1] == [dest]:
                    return None  # overwritten first
                continue
            mn = insn.mnemonic.split(".")[0]
            if mn in ("tst", "ands", "and") and imms:
                return imms[0] & 0xFFFFFFFF
            if mn in ("lsls", "lsl") and imms and 0 < imms[0] < 32:
                return 1 << (31 - imms[0])
            if mn == "ubfx" and len(imms) >= 2:
                return ((1 << imms[1]) - 1) << imms[0]
            return None
        return None

    def _field_names(self, owner: Any, offset: int, bits: int) -> list[str]:
        fields = getattr(owner, "poll_fields", None)
        if fields is not None:
            return list(fields(bits))
        decode = getattr(owner, "_table", None)
        slot = decode.decode.get(offset) if decode is not None else None
        names: list[str] = []
        if slot is not None:
            names = [f.name for f in slot.reg.fields if f.mask & bits]
            if not names:
                svd = getattr(owner, "svd_fields", None)
                if svd is not None:
                    names = [n for n, mask in svd(slot.reg.name) if mask & bits]
        return names

    def _waiting(self, owner: Any, offset: int, addr: int, value: int, reads_ram: bool | None,
                 events: bool) -> None:
        m = self.m
        where = self._reg_name(owner, offset, addr)
        bits = self._tested_bits(addr)
        if bits:
            fields = self._field_names(owner, offset, bits)
            if fields:
                where += "." + "/".join(fields)
            else:
                where += f" (bits {bits:#x})"
        pc = self.site[0] if self.site else m.pc()
        func = self._function(pc)
        why = "nothing can change it"
        explain = getattr(owner, "poll_explain", None)
        extra = explain(offset, value) if explain is not None else None
        if extra:
            why += f" ({extra})"
        elif not events:
            why += " (nothing is scheduled)"
        m.request_stop(Stop(StopKind.WAITING, f"waiting on {where} in {func}: the firmware polls it in a loop "
                            f"and {why}, so the loop can never end", pc=pc,
                            details={"register": where, "value": value, "function": func,
                                     "loop_reads_ram": reads_ram}))
