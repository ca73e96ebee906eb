"""The peripheral bus: every access to the peripheral region (and to peripherals outside it) goes here.

One register file (simcore/regfile.py: C, or its Python twin) serves the windows. Behind it:

- the board's peripheral models: each 32-bit register they declare has an entry that sends
  reads and writes to the model in Python (counted, and watched for polls); other words of
  their windows go to the model too (it reports what it does not decode). A model's entries
  (and the plain SVD registers of its window) are made at the first access to its window or
  the first call that needs them (``serve_in_c``...), so a run pays only for the models the
  firmware touches: an nRF52840's 27 models have ~2,100 registers, a hello run touches 3;
- on a part with a register table (board key ``svd``), every other register of the part's
  SVD peripherals: plain registers served without Python (reset value, writes kept as the
  SVD's access allows), reported as not implemented by simcore at their first access with the
  exact PC, with read/write counts and the fields writes changed. They are built on the
  first access to their peripheral, so a run pays only for what the firmware touches;
- anything else: "no peripheral modelled here", reported.

``watch_polls`` lets a detector see loops that re-read a register: it is called when one
register has returned the same value to the same translated block ``threshold`` times in a row
(docs/peripheral-bus.md).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simcore.cortexm import bitband
from simcore.memmap import PAGE, PERIPH_BASE, PERIPH_END, PPB_BASE
from simcore.peripherals.generic import PlainRegister, plain_registers
from simcore.poll import NOTHING_HERE, PollWatch
from simcore.regfile import CONSOLE, FIT, NOTIFY, POLL_MUTE, PY, PY_READ, PY_WRITE, TIMED, RegFile, make_regfile
from simcore.registers import LazyTable
from simcore.reports import Reports
from simcore.runtypes import AccessKind, ReportChannel

if TYPE_CHECKING:
    from simcore.peripherals.svd import RegisterTable, SvdPeripheral

VENDOR_PPB = 0xE0040000  # the external PPB (ARMv7-M B3.1): vendor debug blocks such as the STM32 DBGMCU


@dataclass
class BusEntry:
    """What one register-file entry is: a plain SVD register, or a model's register."""

    name: str  # "RCC.PLLCFGR", "USART2.SR"
    addr: int
    plain: PlainRegister | None = None
    model: Any = None
    store: int = -1  # index of its value in the register file (plain registers)
    index: int = -1  # its entry in the register file


@dataclass(frozen=True)
class Poll:
    """A register re-read ``count`` times in a row with the same value by the block at ``pc``."""

    name: str
    addr: int
    pc: int
    value: int
    count: int
    plain: bool  # served by the register file (nothing but a firmware write can change it)
    model: Any
    index: int = -1  # its register-file entry (for ``mute_poll``)
    plain_reg: PlainRegister | None = None  # what the SVD says about it (plain registers)
    in_c: bool = False  # a model's register whose reads the register file serves now (``serve_in_c``)


class SvdDevice:
    """Stand-in for the SVD peripherals at one address that no model implements (for dispatch and reports).

    Its registers live in the register file; only accesses to words without a register reach it.
    """

    TYPE = "svd"

    def __init__(self, peripherals: list[SvdPeripheral], host: Any) -> None:
        self.peripherals = peripherals
        self.name = peripherals[0].name
        self.base = min(p.base for p in peripherals)
        self.SIZE = max(p.end for p in peripherals) - self.base
        self.host = host

    def read(self, offset: int, size: int) -> int:
        self.host.report(ReportChannel.UNIMPLEMENTED, f"{self.name}+{offset:#05x}",
                         f"read of {size} bytes: no register here in the SVD", AccessKind.READ)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        self.host.report(ReportChannel.UNIMPLEMENTED, f"{self.name}+{offset:#05x}",
                         f"write of {value:#x}: no register here in the SVD", AccessKind.WRITE)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.TYPE, "base": self.base}


def _model_words(model: Any, table: Any) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Offsets and report names of a model's 32-bit registers (its bus entries), kept with its compiled table (which
    the instances of one register layout share) per class and names the model reports under: a run's first access
    to a peripheral names ~100 registers, a later run of the same part none."""
    svd = getattr(model, "svd", None)
    key = (type(model), model.name, svd.name if svd is not None else None)
    hit = table.bus_words.get(key)
    if hit is None:
        slots = [slot for slot in table.slots if slot.nbytes == 4 and slot.start % 4 == 0]
        hit = table.bus_words[key] = (tuple(slot.start for slot in slots),
                                      tuple(model.reg_name(slot.reg, slot.index) for slot in slots))
    return hit


@dataclass(frozen=True)
class _Layout:
    """A model's register-file entries as :meth:`PeripheralBus._build` makes them: its 32-bit registers, then the plain
    SVD registers of its window, with what one ``rf.add_entries`` call takes (values of the new stores; per entry its
    address, store offset among them, masks and flags)."""

    keep: tuple[Any, ...]  # the objects the cache key names by id (kept alive, compared by identity)
    names: tuple[str, ...]
    addrs: tuple[int, ...]
    plain: tuple[PlainRegister | None, ...]  # None: the model's register
    values: tuple[int, ...]
    recs: tuple[tuple[int, int, int, int, int, int, int], ...]
    held: tuple[tuple[int, int], ...] = ()  # the model's registers held at build (held_at_build): (offset, position)


def _plain_records(regs: list[PlainRegister], values: list[int]) -> list[tuple[int, int, int, int, int, int, int]]:
    """The register-file records of plain SVD registers ``regs``, in their order: each register's reset value is
    appended to ``values`` as a new store (registers first, then views whose register is not among them; a view
    shares its register's store), and each record names its store's offset in ``values``."""
    stores: dict[str, int] = {}  # store offset in values, by register name
    for reg in regs:
        if not reg.view_of:
            stores[reg.svd.name] = len(values)
            values.append(reg.svd.reset)
    recs = []
    for reg in regs:
        if reg.view_of and reg.view_of not in stores:
            stores[reg.view_of] = len(values)
            values.append(reg.svd.reset)
        recs.append((reg.addr, stores[reg.view_of or reg.svd.name], reg.write_mask, reg.w1c_mask, reg.w1s_mask,
                     reg.read_mask, NOTIFY))
    return recs


# _layout's answers by model class, name, window, compiled table and SVD peripherals: a part's tables live as long as
# the process, so the next machine of the part (a benchmark's repeat, a test suite's next ELF) builds a model's entries
# from one record (nrf_nvmc's three models: ~480 us a run of lists, names and masks worked out again before)
_LAYOUTS: dict[tuple[Any, ...], _Layout] = {}


def _layout(model: Any, table: Any, others: tuple[SvdPeripheral, ...]) -> _Layout:
    """The entries of ``model`` (its compiled ``table`` or None) and of the plain registers of its SVD peripheral and
    ``others`` it does not implement, worked out once per process (``_LAYOUTS``). The registers the model's
    ``held_at_build()`` names (offset, write/W1C/W1S/read masks, flags) are made served by the register file at once."""
    svd = getattr(model, "svd", None)
    held_at = getattr(model, "held_at_build", None)
    held_regs = held_at() if held_at is not None and table is not None else ()
    key = (type(model), model.name, model.base, id(table), id(svd), tuple(id(o) for o in others), held_regs)
    keep = (table, svd, *others)
    hit = _LAYOUTS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit.keep, keep, strict=True)):
        return hit
    names: list[str] = []
    addrs: list[int] = []
    plain: list[PlainRegister | None] = []
    values: list[int] = []
    recs: list[tuple[int, int, int, int, int, int, int]] = []
    held: tuple[tuple[int, int], ...] = ()
    if table is not None:
        offsets, model_names = _model_words(model, table)
        names.extend(model_names)
        addrs.extend(model.base + off for off in offsets)
        plain.extend([None] * len(offsets))
        values.extend([0] * len(offsets))
        recs.extend((addr, i, 0, 0, 0, 0, PY) for i, addr in enumerate(addrs))
        if held_regs:
            pos = {off: i for i, off in enumerate(offsets)}
            held = tuple((off, pos[off]) for off, *_rest in held_regs if off in pos)
            for off, masks, flags in held_regs:
                i = pos.get(off)
                if i is not None:
                    recs[i] = (addrs[i], i, *masks, flags)
    if svd is not None:
        words = {model.base + slot.start for slot in (table.slots if table is not None else ())}
        regs = plain_registers([svd, *others], taken=words.__contains__)
        names.extend(reg.name for reg in regs)
        addrs.extend(reg.addr for reg in regs)
        plain.extend(regs)
        recs.extend(_plain_records(regs, values))
    out = _Layout(keep, tuple(names), tuple(addrs), tuple(plain), tuple(values), tuple(recs), held)
    if len(_LAYOUTS) >= 512:  # models whose tables or SVD peripherals are made per machine: keep it bounded
        _LAYOUTS.clear()
    _LAYOUTS[key] = out
    return out


class PeripheralBus:
    """The machine's MMIO dispatcher over one register file (see the module docstring)."""

    LAZY_ENTRIES = True  # False: a built model's BusEntry objects all made at once (tests compare both)

    def __init__(self, machine: Any, models: list[Any], part: str | None, native: bool | None = None,
                 bitband: bool = False) -> None:
        self.m = machine
        self.bitband = bitband  # the part has the peripheral bit-band alias (simcore/cortexm/bitband.py)
        self.part = part
        self.rf: RegFile = make_regfile(self._py, self._notify, native)
        self._made: dict[int, BusEntry] = {}  # register-file index -> what it is (the entries made so far)
        # a built model's entries whose BusEntry is made at first use (entry_at): (first index, end, layout, first
        # store, model); most of a short run's ~200 are never looked at
        self._lazy: list[tuple[int, int, _Layout, int, Any]] = []
        self._by_name: dict[str, BusEntry] = {}
        self._pages: dict[int, list[Any]] = {}  # page -> devices (models, then SvdDevices) with a window there
        self._owned: set[int] = set()  # words of the models' windows
        # page -> models on it whose entries are not made yet, each with the other SVD peripherals in its window
        self._unbuilt: dict[int, list[tuple[Any, tuple[SvdPeripheral, ...]]]] = {}
        self._model_at: dict[int, Any] = {}  # words of the models' windows accessed so far -> their model
        self._claimed: set[str] = set()  # SVD peripherals already given a model or an SvdDevice
        self._looked: set[int] = set()  # words whose SVD peripherals were looked up
        self._windows: set[int] = set()  # pages mapped on demand (SVD peripherals outside the region)
        self.generic: list[SvdDevice] = []
        self._poll_fn: Callable[[Poll], None] | None = None
        self.polls: PollWatch | None = None  # the machine's polling-loop watch (simcore/poll.py), set by the machine
        self._threshold = 0
        self._pc_source: Any = None
        self._queue_fns: list[tuple[int, Callable[[], None]]] = []  # QUEUE entries (address, model), by queue
        self._mmio_pc: Callable[[], int] | None = None  # the PC of the read being served (read_pc_before_python)
        self._table: RegisterTable | None = None
        # streams the register file carried past their last register access (an I2C read's STOPF clear): each is
        # taken back by the model before any access Python serves, which could observe what it left behind
        self.settle_first: list[Callable[[], None]] = []
        for model in models:
            self._add_model(model)

    # --- construction ------------------------------------------------------------------------
    @property
    def table(self) -> RegisterTable | None:
        if self._table is None and self.part:
            from simcore.peripherals.svd import load_table

            self._table = load_table(self.part)
        return self._table

    def _add_device(self, dev: Any) -> None:
        for page in range(dev.base & ~(PAGE - 1), dev.base + dev.SIZE, PAGE):
            self._pages.setdefault(page, []).append(dev)

    def _add_model(self, model: Any) -> None:
        """Place a model on the bus: its window and the SVD peripherals it claims now, its entries at first use."""
        self._add_device(model)
        self._owned.update(range(model.base, model.base + model.SIZE, 4))
        svd = getattr(model, "svd", None)
        part_table = getattr(model, "svd_table", None)
        if part_table is not None and self.part is None:
            self._table = part_table  # a board without a table of its own: the model's reference part's
        others: tuple[SvdPeripheral, ...] = ()
        if svd is None:
            if self.table is not None:
                self._claimed.update(p.name for p in self._svd_in(model.base, model.base + model.SIZE))
        else:
            others = tuple(p for p in self._svd_in(model.base, model.base + model.SIZE) if p.name != svd.name)
            self._claimed.update([svd.name, *(p.name for p in others)])
        if getattr(model, "_table", None) is None and svd is None:
            return  # a deferred sensor: every access goes to it through Python
        item = (model, others)
        for page in range(model.base & ~(PAGE - 1), model.base + model.SIZE, PAGE):
            self._unbuilt.setdefault(page, []).append(item)

    def _build(self, item: tuple[Any, tuple[SvdPeripheral, ...]]) -> None:
        """Make a model's entries: its 32-bit registers (to the model in Python), then the plain SVD
        registers of its window that it does not implement (served in C)."""
        model, others = item
        for page in range(model.base & ~(PAGE - 1), model.base + model.SIZE, PAGE):
            pending = self._unbuilt[page]
            pending.remove(item)
            if not pending:
                del self._unbuilt[page]
        table = getattr(model, "_table", None)
        if isinstance(table, LazyTable):
            table = table.compiled()  # once (each attribute of a lazy table would compile it again)
        layout = _layout(model, table, others)
        if not layout.names:
            return
        # one register-file call, as the model's entries and then the plain ones (two calls) made them; their
        # BusEntry objects at first use (entry_at: ~140 us a run when all ~200 of nrf_nvmc's were made here)
        store0 = self.rf.n_stores()
        first = self.rf.add_entries(list(layout.values), list(layout.recs))
        self._lazy.append((first, first + len(layout.names), layout, store0, model))
        if layout.held:  # the model's registers served by the register file from their first access
            model.held_built(self.rf, first, store0, layout.held)
        if not self.LAZY_ENTRIES:
            self._make_all()

    def entry_at(self, index: int) -> BusEntry | None:
        """What register-file entry ``index`` is (made now if its model's entries were built but it was not looked at
        yet); None: no entry."""
        e = self._made.get(index)
        if e is not None or not self._lazy:
            return e
        for first, end, layout, store0, model in self._lazy:
            if first <= index < end:
                i = index - first
                reg = layout.plain[i]
                e = BusEntry(layout.names[i], layout.addrs[i], reg, model if reg is None else None,
                             store0 + layout.recs[i][1], index)
                self._made[index] = e
                return e
        return None

    @property
    def entries(self) -> dict[int, BusEntry]:
        """Every entry made so far, by register-file index (inspection and tests: the lazy ones are made now)."""
        self._make_all()
        return self._made

    def _make_all(self) -> None:
        """Make the lazy entries; ``_by_name`` again as making them all at build time gave it (the first entry of a
        name, in index order, keeps it)."""
        if not self._lazy:
            return
        for first, end, *_rest in self._lazy:
            for index in range(first, end):
                self.entry_at(index)
        self._lazy = []
        self._made = dict(sorted(self._made.items()))
        by_name: dict[str, BusEntry] = {}
        for e in self._made.values():
            by_name.setdefault(e.name, e)
        self._by_name = by_name

    def _ensure(self, addr: int) -> bool:
        """Make the entries of the model whose window holds ``addr`` if they are not made yet (True: made now)."""
        for item in self._unbuilt.get(addr & ~(PAGE - 1), ()):
            model = item[0]
            if model.base <= addr < model.base + model.SIZE:
                self._build(item)
                return True
        return False

    def build_all(self) -> None:
        """Make every model's entries now (``entry`` by name, inspection)."""
        for items in list(self._unbuilt.values()):
            for item in list(items):
                if item in items:
                    self._build(item)

    def _svd_in(self, lo: int, hi: int) -> list[SvdPeripheral]:
        table = self.table
        return [p for p in table.peripherals if lo <= p.base < hi] if table is not None else []

    def _entries(self, entries: list[BusEntry], values: list[int],
                 recs: list[tuple[int, int, int, int, int, int, int]]) -> None:
        """Many entries in one register-file call (``rf.add_entries``: values of their new stores, then per entry
        its address, store offset, masks and flags), as :meth:`_entry` one by one would make them."""
        if not entries:
            return
        store0 = self.rf.n_stores()
        first = self.rf.add_entries(values, recs)
        for i, (entry, rec) in enumerate(zip(entries, recs, strict=True)):
            entry.store, entry.index = store0 + rec[1], first + i
        self._made.update(zip(range(first, first + len(entries)), entries))
        by_name = self._by_name
        for entry in entries:
            if entry.name not in by_name:  # the first entry of a name keeps it
                by_name[entry.name] = entry

    def _add_plain(self, regs: Iterable[PlainRegister]) -> None:
        regs = list(regs)
        values: list[int] = []
        recs = _plain_records(regs, values)
        self._entries([BusEntry(reg.name, reg.addr, plain=reg) for reg in regs], values, recs)

    def _populate(self, addr: int) -> None:
        """Build the SVD peripherals at ``addr`` that nothing claimed yet (first access to them)."""
        table = self.table
        if table is None:
            return
        found = [p for p in table.at(addr) if p.name not in self._claimed]
        if not found:
            return
        base = found[0].base
        group = [p for p in table.peripherals if p.base == base and p.name not in self._claimed]
        dev = SvdDevice(group, self.m)
        self._claimed.update(p.name for p in group)
        self.generic.append(dev)
        self._add_device(dev)
        self._add_plain(plain_registers(group, taken=self._owned.__contains__))

    def map_windows(self, uc: Any, outside: Iterable[Any] = ()) -> None:
        """Map the peripheral region, and the windows of ``outside`` models (whole pages), to the register file."""
        self.rf.map_window(uc, PERIPH_BASE, PERIPH_END - PERIPH_BASE)
        for model in outside:
            self.rf.map_window(uc, model.base, (model.SIZE + PAGE - 1) & ~(PAGE - 1))

    def map_on_demand(self, uc: Any, addr: int) -> bool:
        """An access to unmapped memory: if an SVD peripheral is there (outside the peripheral region
        and the PPB, e.g. FSMC at 0xA0000000), map its window to the register file now and let the
        access retry (Unicorn's unmapped-memory hook); False when nothing is there."""
        table = self.table
        if table is None or PERIPH_BASE <= addr < PERIPH_END or addr >= PPB_BASE:
            return False
        found = table.at(addr)
        if not found:
            return False
        lo = min(p.base for p in found) & ~(PAGE - 1)
        hi = (max(p.end for p in found) + PAGE - 1) & ~(PAGE - 1)
        if any(lo <= page < hi for page in self._windows):
            return False  # already mapped: a real fault
        self._windows.update(range(lo, hi, PAGE))
        self.rf.map_window(uc, lo, hi - lo)
        return True

    def serves_ppb(self, addr: int) -> bool:
        """Is ``addr`` a register of a vendor peripheral in the external PPB (the STM32 DBGMCU at
        0xE0042000), which the register file serves instead of the system block?"""
        if addr < VENDOR_PPB or self.table is None:
            return False
        self._ensure(addr)
        if self.rf.slot(addr):
            return True
        word = addr & ~3
        if word in self._looked:
            return False
        self._looked.add(word)
        self._populate(addr)
        return bool(self.rf.slot(addr))

    def attach_pc(self, state: Any, offset: int) -> None:
        """Where the executing block's address is (the hot path's ``last_addr`` at ``offset`` in ``state``)."""
        self._pc_source = (ctypes.addressof(state) + offset) if self.rf.native else (lambda: state.last_addr)
        self._apply_poll()
        cycles = type(state).cycle_count.offset
        self.rf.set_queue_source(self._queue_notify,
                                 (ctypes.addressof(state) + cycles) if self.rf.native else (lambda: state.cycle_count))
        block = type(state).block_cycle.offset
        self.rf.set_clock((ctypes.addressof(state) + block) if self.rf.native else (lambda: state.block_cycle))

    def attach_engine(self, uc: Any) -> None:
        """The engine whose PC the register file reads before each read it sends here (the polling watch asks
        for it at every model read: from C's copy instead of a call into Unicorn)."""
        self._mmio_pc = self.rf.read_pc_before_python(uc)

    def native_ack(self, state: Any, lib: Any, addr: int) -> bool:
        """Offer writes to the model register at ``addr`` to the hot path first (hp_ack: the acknowledge of an
        interrupt it delivered itself). False when the register file is the Python twin or has no entry there."""
        if not self.rf.native:
            return False
        self._ensure(addr)
        slot = self.rf.slot(addr)
        if not slot:
            return False
        self.rf.set_ack(slot - 1, lib.hp_ack_ptr(), ctypes.addressof(state))
        return True

    def watch_polls(self, threshold: int, fn: Callable[[Poll], None] | None) -> None:
        """Call ``fn`` when a register returned the same value to the same block ``threshold`` times in a
        row (then again at every further multiple of it); ``fn=None`` stops watching."""
        self._poll_fn = fn
        self._threshold = threshold if fn is not None else 0
        self._apply_poll()

    def _apply_poll(self) -> None:
        self.rf.set_poll(self._threshold, self._poll if self._poll_fn is not None else None, self._pc_source)

    # --- callbacks from the register file ---------------------------------------------------------
    def device(self, addr: int) -> Any:
        """The model or SVD device whose window holds ``addr`` (building SVD peripherals on first use)."""
        word = addr & ~3
        self._ensure(addr)
        if word not in self._looked and word not in self._owned:
            self._looked.add(word)
            self._populate(addr)
        for dev in self._pages.get(addr & ~(PAGE - 1), ()):
            if dev.base <= addr < dev.base + dev.SIZE:
                return dev
        return None

    def _py(self, addr: int, size: int, value: int, write: int) -> int:
        m = self.m
        if self.settle_first:
            for fn in tuple(self.settle_first):
                m.guard_access(fn)
        dev = self._model_at.get(addr & ~3)
        if dev is None and self._unbuilt and self._ensure(addr) and self.rf.slot(addr):
            # the model's entries are made now (the first access to its window): the register file serves this
            # access as it serves every later one (counts, poll streak, the call to the model)
            if write:
                self.rf.write(addr, size, value)
                return 0
            return self.rf.read(addr, size)
        saved, m._mmio = m._mmio, (addr, bool(write))
        if dev is not None:  # a model's word accessed before (never a bit-band alias: those return before it is kept)
            polls = self.polls
            offset = addr - dev.base
            if write:
                def model_write() -> int:
                    if polls is not None:
                        polls.on_write()
                    dev.write(offset, size, value)
                    return 0

                fn = model_write
            else:
                mmio_pc = self._mmio_pc

                def model_read() -> int:
                    v = dev.read(offset, size) & 0xFFFFFFFF
                    if polls is not None:
                        polls.on_read(dev, offset, addr, v, mmio_pc() if mmio_pc is not None else None)
                    return v

                fn = model_read
            try:
                return m.guard_access(fn) or 0
            finally:
                m._mmio = saved

        def go() -> int:
            if self.bitband and bitband.PERIPH_ALIAS <= addr < bitband.PERIPH_ALIAS + bitband.ALIAS_BYTES:
                return bitband.access(addr, size, bool(write), value, self.rf.read, self.rf.write)
            dev = self._model_at.get(addr & ~3)
            if dev is None:
                built = self.rf.count()
                dev = self.device(addr)
                if self.rf.count() != built and self.rf.slot(addr):  # just built: the register file serves it now
                    if write:
                        self.rf.write(addr, size, value)
                        return 0
                    return self.rf.read(addr, size)
                if dev is not None and (addr & ~3) in self._owned:  # a model's word: its owner never changes
                    self._model_at[addr & ~3] = dev
            polls = self.polls
            if write and polls is not None:
                polls.on_write()
            if dev is None:
                if write:
                    m.report(ReportChannel.UNIMPLEMENTED, f"{addr:#010x}", f"write of {value:#x}: no peripheral "
                             "modelled here", AccessKind.WRITE)
                else:
                    m.report(ReportChannel.UNIMPLEMENTED, f"{addr:#010x}", f"read of {size} bytes: no peripheral "
                             "modelled here", AccessKind.READ)
                    if polls is not None:
                        polls.on_read(NOTHING_HERE, addr, addr, 0)
                return 0
            if write:
                dev.write(addr - dev.base, size, value)
                return 0
            v = dev.read(addr - dev.base, size) & 0xFFFFFFFF
            if polls is not None:
                polls.on_read(dev, addr - dev.base, addr, v)
            return v

        try:
            return m.guard_access(go) or 0
        finally:
            m._mmio = saved

    def _notify(self, index: int, addr: int, size: int, value: int, write: int) -> None:
        entry = self.entry_at(index)
        reg = entry.plain if entry is not None else None
        if entry is None or reg is None:
            return
        m = self.m
        saved, m._mmio = m._mmio, (addr, bool(write))
        what = "register" if reg.read_mask or reg.write_mask else "read-only register"
        detail = (f"{what} not implemented by simcore (reads its reset value {reg.svd.reset:#x}, keeps what is "
                  "written as the SVD allows)")
        try:
            m.guard_host(lambda: m.report(ReportChannel.UNIMPLEMENTED, entry.name, detail,
                                          AccessKind.WRITE if write else AccessKind.READ))
        finally:
            m._mmio = saved

    def _poll(self, index: int, pc: int, value: int, count: int) -> None:
        fn = self._poll_fn
        if fn is None:
            return
        e = self.entry_at(index)
        if e is not None:
            flags = self.rf.flags(index)
            in_c = e.model is not None and (flags & (FIT | PY_READ) == FIT or (
                flags & TIMED != 0 and self._timed_serves(index)))
            poll = Poll(e.name, e.addr, pc, value, count, e.plain is not None, e.model, index, e.plain, in_c)
            polls = self.polls
            if polls is not None and fn == polls.on_bus_poll and polls.first_poll(poll):
                return  # a new streak's first read: recorded without the guard (PollWatch.first_poll)
            # guard_access: a poll's fast-forward moves the clock, which leaves the arming (absolute cycles) valid
            self.m.guard_access(lambda: fn(poll))

    def _timed_serves(self, index: int) -> bool:
        """A TIMED entry's reads are served by its schedule now (before its end): the poll watch owes the loop
        to the model, as for FIT entries (pollc: poll.py then registers clean loops on it with the hot path)."""
        end = self.rf.timed_get(self.rf.timed_new(index))[3]  # the entry has its schedule (TIMED): no new one
        return bool(self.m.hot.state.block_cycle < end)

    def console_in_c(self, data: int, status: int, status_value: int, on: bool,
                     flush: Callable[[], None] | None, eager: bool) -> bool:
        """Serve a console's transmit data register (word at ``data``) and status register (``status``,
        reading ``status_value``) in the register file (CONSOLE: no Python per byte), or give them back
        to the model. Returns whether they are served there."""
        rf = self.rf
        self._ensure(data)
        self._ensure(status)
        d, st = rf.slot(data) - 1, rf.slot(status) - 1
        entry = self.entry_at(st) if st >= 0 else None
        if d < 0 or st < 0 or self.entry_at(d) is None or entry is None:
            return False
        if on:
            rf.set_console(flush, eager, st + 1)
            rf.set_masks(d, 0xFF, 0, 0, 0)
            rf.set_flags(d, rf.reg(d)["flags"] | CONSOLE)
            rf.set_value(entry.store, status_value)
            rf.set_masks(st, 0, 0, 0, 0xFFFFFFFF)
            rf.set_flags(st, (rf.reg(st)["flags"] & ~PY) | PY_WRITE)  # reads in C, writes to the model
        else:
            rf.set_flags(d, rf.reg(d)["flags"] & ~CONSOLE)
            rf.set_flags(st, rf.reg(st)["flags"] | PY)
        return on

    def queue_in_c(self, addr: int, notify: Callable[[], None]) -> int | None:
        """Let the register file answer aligned word reads of the model register at ``addr`` from a queue
        the model fills (QUEUE, docs/peripheral-bus.md); ``notify()`` runs, as the model's own read would,
        when a fill's ``notify_at`` words were served. The queue's index, or None (no entry there, or no
        hot path to give the time yet)."""
        index = self._model_index(addr, ensure=True)
        if index is None:
            return None
        q = self.rf.queue_new(index)  # the same queue again after a snapshot's restore
        while len(self._queue_fns) <= q:
            self._queue_fns.append((addr, notify))
        self._queue_fns[q] = (addr, notify)
        return q

    def timed_in_c(self, addr: int) -> int | None:
        """Let the register file answer reads of the model register at ``addr`` from a schedule on virtual time
        the model sets (TIMED: ``rf.timed_set``; docs/peripheral-bus.md). The schedule's index, or None (no model
        entry there, or no hot path to give the time yet)."""
        index = self._model_index(addr)
        return None if index is None else self.rf.timed_new(index)  # the same schedule again after a snapshot's restore

    def xfer_in_c(self, dr: int, sr: int) -> int | None:
        """Let the register file stream SPI transfers on the model's data register at ``dr`` with its status register
        at ``sr`` (XFER, docs/peripheral-bus.md). The stream's index, or None (no model entries there, or no hot path
        to give the time yet)."""
        d, st = self._model_index(dr), self._model_index(sr)
        if d is None or st is None:
            return None
        return self.rf.xfer_new(d, st)  # the same stream again after a snapshot's restore

    def entry_in_c(self, addr: int) -> int | None:
        """The entry of the model register at ``addr`` (made if still lazy) for a stream to serve writes on (an I2C
        interrupt clear register: XICR, ``rf.xfer_i2c_icr``); None when there is none or no hot path."""
        return self._model_index(addr, ensure=True)

    def xcs_in_c(self, addr: int) -> int | None:
        """The entry of the model register at ``addr`` (a GPIO BSRR) for an SPI stream's script to take chip-select
        writes on (XCS, ``rf.xfer_script``); None when there is none or no hot path."""
        return self._model_index(addr, ensure=True)

    def _model_index(self, addr: int, ensure: bool = False) -> int | None:
        """The register-file index of the model register at ``addr``, or None: no hot path to give the time yet, or
        no model entry there. ``ensure``: make the entry first if it is still lazy (``_ensure``)."""
        if self._pc_source is None:
            return None
        if ensure:
            self._ensure(addr)
        slot = self.rf.slot(addr)
        e = self.entry_at(slot - 1)
        if not slot or e is None or e.model is None:
            return None
        return slot - 1

    def _queue_notify(self, q: int) -> None:
        m = self.m
        addr, fn = self._queue_fns[q]
        saved, m._mmio = m._mmio, (addr, False)
        try:
            m.guard_access(fn)
        finally:
            m._mmio = saved

    def console_take(self) -> bytes:
        """The bytes CONSOLE entries took since the last call."""
        return self.rf.console_take()

    def mute_poll(self, index: int) -> None:
        """No more poll callbacks for entry ``index`` until its current streak of equal reads ends."""
        self.rf.set_flags(index, self.rf.reg(index)["flags"] | POLL_MUTE)

    def serve_in_c(self, addr: int, on: bool, masks: tuple[int, int, int, int] = (0, 0, 0, 0),
                   share: int | None = None, reads: bool = True) -> tuple[int, int] | None:
        """Hand a model's register (the word at ``addr``) to the register file while the model's behaviour for it is
        storage alone (flag FIT), or give it back (``on=False``). ``masks``: (write, w1c, w1s, read) as for a plain
        register; a write that is not a whole aligned word within them still goes to the model. ``share``: the
        address of another entry whose value this one uses (a task register whose write sets an event); ``reads``:
        False keeps reads with the model. Returns (entry, value index): while the register file holds the register
        the model finds its value there (``rf.value``); None when the word has no model entry."""
        rf = self.rf
        self._ensure(addr)
        if share is not None:
            self._ensure(share)
        index = rf.slot(addr) - 1
        e = self.entry_at(index)
        if index < 0 or e is None or e.model is None:
            return None
        flags = rf.flags(index)
        store = e.store
        if on:
            if share is not None:
                other = self.entry_at(rf.slot(share) - 1)
                if other is None:
                    return None
                store = other.store
            rf.set_store(index, store)
            rf.set_masks(index, *masks)
            rf.set_flags(index, (flags & ~PY) | FIT | (0 if reads else PY_READ))
        else:
            rf.set_store(index, store)
            rf.set_flags(index, (flags & ~FIT) | PY)
        return index, store

    # --- snapshots (simcore/snapshot.py rolls the Python side back; this is the C side) -------------
    def save(self) -> tuple[int, int, Any]:
        """The register file's values, counters and flags now."""
        return self.rf.count(), self.rf.n_stores(), self.rf.save()

    def load(self, saved: tuple[int, int, Any]) -> None:
        """Back to ``save()``'s state. Entries built since (SVD peripherals first touched after the save)
        are dropped, so their peripherals are built again on their next access, as in a fresh run, with
        the same register-file indices (the Python side, ``entries`` and the rest, is the snapshot's walk)."""
        count, n_store, state = saved
        self.rf.load(state)
        self.rf.unmap_from(count)
        self.rf.truncate(count, n_store)

    # --- reports and inspection ---------------------------------------------------------------------
    def sync_reports(self, reports: Reports) -> None:
        """Counts and changed fields of the plain registers, from the register file into their reports (in index
        order, as the entries were made; the lazy ones read from their layouts, not made)."""
        plain = [(index, e.name, e.plain) for index, e in self._made.items() if e.plain is not None]
        if self._lazy:
            made = self._made
            for first, _end, layout, _store0, _model in self._lazy:
                plain.extend((first + i, layout.names[i], reg) for i, reg in enumerate(layout.plain)
                             if reg is not None and first + i not in made)
            plain.sort(key=lambda item: item[0])
        for index, name, reg in plain:
            rep = reports.get(ReportChannel.UNIMPLEMENTED, name)
            if rep is None:
                continue
            r = self.rf.reg(index)
            rep.reads, rep.writes = int(r["reads"]), int(r["writes"])
            rep.fields = reg.fields(int(r["changed"]))

    def entry(self, name: str) -> BusEntry:
        """The register ``PERIPH.REG`` (building its SVD peripheral if needed)."""
        self._make_all()
        e = self._by_name.get(name)
        if e is None and self._unbuilt:
            self.build_all()
            self._make_all()
            e = self._by_name.get(name)
        if e is None and self.table is not None:
            periph, reg = self.table.register(name)
            self.device(periph.base + reg.offset)
            self._make_all()
            e = self._by_name.get(name)
        if e is None:
            raise KeyError(f"no register {name} on the bus")
        return e

    def value(self, name: str) -> int:
        """The stored value of a plain register (``bus.value("RCC.PLLCFGR")``), without a bus access."""
        e = self.entry(name)
        if e.plain is None:
            raise KeyError(f"{name} belongs to a model ({e.model.name}): read its values")
        return self.rf.value(e.store)

    def set_value(self, name: str, value: int) -> None:
        e = self.entry(name)
        if e.plain is None:
            raise KeyError(f"{name} belongs to a model ({e.model.name}): set its values")
        self.rf.set_value(e.store, value)

    def counts(self, name: str) -> tuple[int, int]:
        """(reads, writes) of one register entry."""
        r = self.rf.reg(self.entry(name).index)
        return int(r["reads"]), int(r["writes"])

    def devices(self) -> Iterator[tuple[str, int, int]]:
        """(name, base, size) of the SVD devices built so far."""
        for d in self.generic:
            yield d.name, d.base, d.SIZE
