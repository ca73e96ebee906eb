"""What every nRF52840 peripheral shares: tasks, events, shortcuts, interrupts and the PPI fabric.

nRF52840 Product Specification v1.7, section 5.? "Peripheral interface" (15.? in older
revisions): a peripheral is driven by writing 1 to a *task* register (``TASKS_x``, offsets
0x000-0x07C) and tells what happened through *event* registers (``EVENTS_x``, 0x100-0x17C)
that stay 1 until firmware writes 0. Event ``n`` (at 0x100 + 4n) raises the peripheral's
interrupt while bit ``n`` of ``INTEN`` is set (``INTENSET``/``INTENCLR`` set and clear bits,
both read back ``INTEN``); the interrupt line is a level: it stays asserted while such an event
register is 1, which is why a handler that does not clear its event runs again. ``SHORTS``
connects an event to a task of the same peripheral (field ``EVENT_TASK``: ``COMPARE0_CLEAR``),
and the PPI connects events to tasks of any peripheral by address.

:class:`NordicPeripheral` implements all of that once: subclasses name their SVD peripheral
and write ``task_<NAME>(self[, index])`` methods (``task_START``, ``task_CAPTURE(self, n)``)
and call :meth:`NordicPeripheral.fire` to generate an event. Task and event names come from
the part's SVD table (``TASKS_CAPTURE[2]`` -> ``task_CAPTURE(2)``), and so do the shortcuts
(the SVD's ``SHORTS`` field names). :class:`Fabric` is the part's event-to-task wiring: the
PPI model writes its routes there, every Nordic model publishes its events to it and takes
its tasks from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

from simcore.abi import AP_STORE, EV_SLOTS
from simcore.peripherals.base import Host, PeripheralModel
from simcore.regfile import FIT, PY_WRITE
from simcore.registers import Register

if TYPE_CHECKING:
    from simcore.board import Peripheral
    from simcore.peripherals.svd import SvdPeripheral

PART = "nrf52840"
TASKS_END = 0x080  # tasks at 0x000-0x07C, events at 0x100-0x17C (32 of each)
EVENTS_BASE = 0x100
_INDEXED = re.compile(r"^(?P<stem>[A-Z0-9_]+?)\[(?P<i>\d+)\](?:\.(?P<leaf>[A-Z0-9_]+))?$")
EVENT_KEYS = tuple(f"EVENTS{i}" for i in range(32))  # the values key of event i (no string formatting per event)


# (model class, id of its SVD register layout) -> (layout, task names, event names, register owners, shortcuts)
_Names = tuple[Any, dict[int, str], dict[int, str], dict[str, str], list[tuple[int, int, int]]]
_NAMES: dict[tuple[type, int], _Names] = {}


def short_name(svd_name: str) -> str:
    """``EVENTS_COMPARE[0]`` -> ``COMPARE0``, ``EVENTS_CH[3].LIMITH`` -> ``CH3LIMITH`` (SHORTS/INTEN field names)."""
    stem = svd_name.split("_", 1)[1] if svd_name.startswith(("TASKS_", "EVENTS_")) else svd_name
    return stem.replace("[", "").replace("]", "").replace(".", "")


class Fabric:
    """The event/task wiring of one part: peripherals by base address and the PPI's routes.

    One per machine (or fake host): :meth:`of` keeps it on the host. A route maps an event
    register's address to the task register addresses it triggers (PPI channels and forks).
    """

    def __init__(self) -> None:
        self.models: dict[int, NordicPeripheral] = {}  # 4 KiB peripheral window -> model
        self.route_listeners: list[Callable[[], None]] = []  # told after every change of the routes
        self._routes: dict[int, tuple[int, ...]] = {}  # event address -> task addresses
        self.ports: dict[int, Any] = {}  # GPIO port number -> model (P0, P1)
        self.port_listeners: list[Callable[[int, int], None]] = []  # (pin 0-47, level) on every change of a pin
        self.detect_listeners: list[Callable[[bool], None]] = []  # the combined DETECT signal of the ports
        self.triggered = 0  # tasks triggered through the PPI
        self.trace: list[tuple[int, str]] | None = None  # tests: (task address, why) of every routed task

    @property
    def routes(self) -> dict[int, tuple[int, ...]]:
        """Event register address -> the task register addresses it triggers (set whole by the PPI)."""
        return self._routes

    @routes.setter
    def routes(self, routes: dict[int, tuple[int, ...]]) -> None:
        self._routes = routes
        for listener in self.route_listeners:
            listener()

    @staticmethod
    def of(host: Any) -> Fabric:
        fabric = getattr(host, "_nrf52_fabric", None)
        if fabric is None:
            fabric = Fabric()
            host._nrf52_fabric = fabric
        return fabric

    def publish(self, addr: int) -> None:
        """An event at ``addr`` happened: trigger the tasks the PPI routes it to."""
        tasks = self.routes.get(addr)
        if tasks:
            for task in tasks:
                self.trigger(task, f"PPI from {addr:#010x}")

    def detect(self) -> bool:
        """The DETECT signal of all GPIO ports (GPIOTE's PORT event, a System OFF wake-up)."""
        return any(p.port_detect for p in self.ports.values())

    def trigger(self, addr: int, why: str) -> None:
        """Trigger the task register at ``addr`` (as a write of 1 would)."""
        model = self.models.get(addr & ~0xFFF)
        off = addr & 0xFFF
        if model is None or off >= TASKS_END or off % 4:
            return  # a TEP pointing anywhere else does nothing (the PPI reports it when it is written)
        self.triggered += 1
        if self.trace is not None:
            self.trace.append((addr, why))
        model.task(off // 4)

    def task_name(self, addr: int) -> str | None:
        """``TIMER0.TASKS_START`` for a task register's address, or None when no model has a task there."""
        model = self.models.get(addr & ~0xFFF)
        off = addr & 0xFFF
        if model is None or off >= TASKS_END or off % 4 or (off // 4) not in model.task_names:
            return None
        return f"{model.svd_name}.TASKS_{model.task_names[off // 4]}"

    def event_name(self, addr: int) -> str | None:
        model = self.models.get(addr & ~0xFFF)
        off = addr & 0xFFF
        if model is None or not EVENTS_BASE <= off < EVENTS_BASE + 0x80 or off % 4:
            return None
        name = model.event_names.get((off - EVENTS_BASE) // 4)
        return f"{model.svd_name}.EVENTS_{name}" if name is not None else None


def _storage_offsets(cls: type[NordicPeripheral]) -> dict[int, str]:
    """Offset -> key of a class's HELD_STORAGE registers (one dict per class)."""
    got = _STORAGE_AT.get(cls)
    if got is None:
        got = _STORAGE_AT[cls] = {off: key for key, off in cls.HELD_STORAGE.items()}
    return got


_STORAGE_AT: dict[type, dict[int, str]] = {}
# (class, its flags, ids of its compiled table and SVD register layout) -> (table, layout, held_at_build's registers,
# the checked fields of its storage registers); the table and layout are kept to check the ids still name them
_BUILD_HELD: dict[tuple[Any, ...], tuple[Any, Any, tuple[Any, ...], tuple[tuple[str, int], ...]]] = {}
# id of a bus layout's held registers -> (them, event indices, their positions, HELD_STORAGE keys, their positions)
_HELD_SPLIT: dict[int, tuple[Any, tuple[int, ...], tuple[int, ...], tuple[str, ...], tuple[int, ...]]] = {}


class NordicPeripheral(PeripheralModel):
    """A peripheral with Nordic's tasks, events, shortcuts and interrupts (see the module docstring).

    Subclasses set ``TYPE``, ``SVD`` and ``PLAIN`` as any SVD-backed model does, write
    ``task_<NAME>`` methods and call :meth:`fire`. ``SVD_ALSO`` names further SVD peripherals
    at the same base whose registers the model implements too (CLOCK and POWER are one block).
    """

    PARTS = (PART,)
    SIZE = 0x1000
    POLL_SAFE = True  # registers change only when written or at events (simcore/poll.py)
    SVD_ALSO: ClassVar[tuple[str, ...]] = ()
    EVTEN: ClassVar[bool] = False  # events reach the PPI only when enabled in EVTEN (RTC)
    REGISTERS: ClassVar[tuple[Register, ...]] = (
        Register("TASKS", 0x000, count=32, access="w"),
        Register("EVENTS", EVENTS_BASE, count=32),  # EVENTS_x: 1 when generated, firmware writes 0
        Register("INTEN", 0x300),
        Register("INTENSET", 0x304),
        Register("INTENCLR", 0x308),
    )

    EVENTS_IN_C: ClassVar[bool] = True  # events whose interrupt is off are held by the register file (False: Python)
    # events whose interrupt is on are read from the register file too (their writes still come here: the line)
    EVENT_READS_IN_C: ClassVar[bool] = False
    # a firmware clear (write 0) of a held event whose interrupt is on, while that event alone holds the line high, is
    # served by C (SystemBlock.event_clear_slot, hotpath.c hp_ack): the line falls there, the model hears of it at
    # Python's next sync (event_cleared_in_c). For models whose event writes do nothing else (TWIM, RTC)
    EVENT_CLEARS_IN_C: ClassVar[bool] = False
    # PLAIN registers the model reads only when a task starts (TXD.PTR...): held by the register file once written
    HELD_STORAGE: ClassVar[dict[str, int]] = {}  # value key -> offset
    # HELD_STORAGE registers with a write handler: only their reads are the register file's, their writes still go to
    # the model (which gives the register file the value it keeps): the RTC's CC[n], whose write moves the compare
    HELD_READS: ClassVar[frozenset[str]] = frozenset()
    STORAGE_IN_C: ClassVar[bool] = True  # False: HELD_STORAGE stays in Python (tests compare both)
    HELD_AT_BUILD: ClassVar[bool] = True  # False: events and HELD_STORAGE held from their first access (held_at_build)

    def __init__(self, config: Peripheral, host: Host, registers: Any = None) -> None:
        self.fabric = Fabric.of(host)
        self._ev_set = 0  # bit n: EVENTS at 0x100 + 4n is 1 (for a held event: its value in the register file)
        self._held: dict[int, int] = {}  # event held by the register file -> its value's index there
        self._held_entry: dict[int, int] = {}  # ... -> its register-file entry
        self._held_py_writes: set[int] = set()  # held events whose writes come here (their interrupt is on)
        self._c_plain: dict[str, int] = {}  # HELD_STORAGE registers held by the register file -> their value index
        self._clr_slots: dict[int, int] = {}  # EVENT_CLEARS_IN_C: event -> its C slot (SystemBlock.event_clear_slot)
        self._clr_bits: dict[int, tuple[int, int]] = {}  # the same as event's bit -> (event, slot)
        # give_clears' look-up of C's values of these slots (one call), and per slot wanted armed (-1: none) what it
        # reads when they are so, and the writes that make them so
        self._clr_get: Callable[[Any], Any] | None = None
        self._clr_rows: dict[int, tuple[Any, tuple[tuple[int, int], ...]]] = {-1: ((), ())}
        # the events holding the line high at the last line update (0: the line low), from which give_clears arms the
        # slot of the one that alone holds it (if its writes are the model's) in C's ev_armed, before C resumes
        # (SystemBlock.give_clears, from Machine._arm): C does not run while Python handles events, so only the state
        # it resumes with matters (reading and writing ev_armed at every line update was ~4% of a Nano run). Each
        # change of _held_py_writes is followed by a line update or _arm_clears (_hold, _take_back, reset)
        self._clr_on = 0
        self._clr_queued = False  # in the system block's list of models to give their slots to C (_clr_queue)
        self._clr_queue: list[Any] | None = None
        self._rf: Any = None  # the bus's register file, once it holds an event or a storage register (no host.bus.rf)
        self._irq_high = False
        self._storage_keys = _storage_offsets(type(self))  # (the class's, taken once: write() looks at every write)
        super().__init__(config, host, registers)
        # task and event names, register owners and shortcuts: per class and register layout (instances of one
        # layout share them; the walk over every SVD register was a third of an nRF52840 model's set-up)
        layout = self.svd.registers if self.svd is not None else None
        key = (type(self), id(layout))
        hit = _NAMES.get(key)
        if hit is None or hit[0] is not layout:
            svd_regs = self.all_svd_registers()
            self.task_names: dict[int, str] = {}
            self.event_names: dict[int, str] = {}
            self._owner: dict[str, str] = {}  # SVD register name -> SVD peripheral name (for reports)
            for periph, reg in svd_regs:
                self._owner.setdefault(reg.name, periph)
                if reg.offset < TASKS_END and reg.name.startswith("TASKS_"):
                    self.task_names[reg.offset // 4] = reg.name[6:]
                elif EVENTS_BASE <= reg.offset < EVENTS_BASE + 0x80 and reg.name.startswith("EVENTS_"):
                    self.event_names[(reg.offset - EVENTS_BASE) // 4] = reg.name[7:]
            self._shorts = self._shortcuts(svd_regs)
            if layout is not None:  # (owners by SVD_ALSO name, "" for this instance's own peripheral: RTC0, RTC1...)
                own = self.svd.name if self.svd is not None else ""
                _NAMES[key] = (layout, dict(self.task_names), dict(self.event_names),
                               {k: "" if v == own else v for k, v in self._owner.items()}, list(self._shorts))
        else:
            _, tasks, events, owner, shorts = hit
            own = self.svd.name if self.svd is not None else ""
            self.task_names, self.event_names = dict(tasks), dict(events)
            self._owner = {k: v or own for k, v in owner.items()}
            self._shorts = list(shorts)
        self._tasks: dict[int, Callable[[], None] | None] = {i: self._bind_task(name) for i, name in
                                                            self.task_names.items()}
        self._shorted = {ev for _bit, ev, _task in self._shorts}  # events with a shortcut (fire reads SHORTS)
        # event -> its shortcuts' (SHORTS bit, task), in _shorts' order (fire looks at these only)
        self._short_tasks: dict[int, tuple[tuple[int, int], ...]] = {
            ev: tuple((bit, task) for bit, e, task in self._shorts if e == ev) for ev in self._shorted}
        self._on_event = type(self).on_event is not NordicPeripheral.on_event  # fire calls it only if overridden
        self._task_plain = type(self).task is NordicPeripheral.task  # fire runs a shortcut's task itself if so
        self.fabric.models[self.base & ~0xFFF] = self

    # --- the SVD registers (this peripheral's and those of SVD_ALSO) ---------------------------
    @classmethod
    def svd_registers(cls, periph: SvdPeripheral) -> tuple[Register, ...]:
        if cls.SVD_ALSO:
            from simcore.peripherals.svd import load_table

            table = load_table(cls.PARTS[0])
            have = {r.name for r in periph.registers}
            extra = tuple(r for name in cls.SVD_ALSO for r in table.peripheral(name).registers if r.name not in have)
            periph = SimpleNamespace(name=periph.name, registers=periph.registers + extra)  # type: ignore[assignment]
        return super().svd_registers(periph)

    def all_svd_registers(self) -> list[tuple[str, Any]]:
        """(SVD peripheral name, SVD register) of this model's peripheral and of ``SVD_ALSO``."""
        if self.svd is None:
            return []
        out = [(self.svd.name, r) for r in self.svd.registers]
        if self.SVD_ALSO and self.svd_table is not None:
            for name in self.SVD_ALSO:
                out += [(name, r) for r in self.svd_table.peripheral(name).registers]
        return out

    def reg_name(self, reg: Register, index: int = 0) -> str:
        if self.svd is None:
            return super().reg_name(reg, index)
        if reg.name == "TASKS" and index in getattr(self, "task_names", {}):
            return f"{self.svd.name}.TASKS_{self.task_names[index]}"
        if reg.name == "EVENTS" and index in getattr(self, "event_names", {}):
            return f"{self.svd.name}.EVENTS_{self.event_names[index]}"
        svd_name = self._svd_names.get(reg.name, f"{reg.name}[{index}]" if reg.count > 1 else reg.name)
        return f"{getattr(self, '_owner', {}).get(svd_name, self.svd.name)}.{svd_name}"

    def _bind_task(self, name: str) -> Callable[[], None] | None:
        """``START`` -> ``task_START``; ``CAPTURE[2]`` -> ``task_CAPTURE(2)``; ``CHG[0].EN`` -> ``task_CHG_EN(0)``."""
        m = _INDEXED.match(name)
        if m is None:
            return getattr(self, f"task_{name}", None)
        method = f"task_{m.group('stem')}" + (f"_{m.group('leaf')}" if m.group("leaf") else "")
        fn = getattr(self, method, None)
        if fn is None:
            return None
        return partial(fn, int(m.group("i")))  # (no Python frame of its own, as a lambda has)

    def _shortcuts(self, svd_regs: list[tuple[str, Any]]) -> list[tuple[int, int, int]]:
        """(SHORTS bit, event index, task index) from the SVD's SHORTS field names (``EVENT_TASK``)."""
        events = {short_name("EVENTS_" + n): i for i, n in self.event_names.items()}
        tasks = {short_name("TASKS_" + n): i for i, n in self.task_names.items()}
        out = []
        for _periph, reg in svd_regs:
            if reg.name != "SHORTS":
                continue
            for f in reg.fields:
                parts = f.name.split("_")
                for k in range(1, len(parts)):
                    ev, task = "_".join(parts[:k]), "_".join(parts[k:])
                    if ev in events and task in tasks:
                        out.append((f.lsb, events[ev], tasks[task]))
                        break
        return out

    # --- tasks ------------------------------------------------------------------------------
    def write_TASKS(self, i: int, value: int) -> None:
        if value & 1:
            self.task(i)

    def task(self, i: int) -> None:
        """Trigger task ``i`` (the register at 4*i), from firmware, a shortcut or the PPI."""
        fn = self._tasks.get(i)  # (a task the model implements: its names have it too)
        if fn is not None:
            fn()
        elif i not in self.task_names:
            self.unimplemented(f"{self.svd_name}+{4 * i:#05x}", "no task register here")
        else:
            self.unimplemented(self.reg_name(self.register("TASKS"), i), "task not implemented by simcore (ignored)")

    # --- events held by the register file ---------------------------------------------------
    # An event whose INTEN bit is clear is storage alone: reading it and writing it (clearing it, or
    # setting it, which raises nothing) change nothing else. The register file serves it then (a FIT
    # entry, bus.serve_in_c), from its first access through Python on: a polling loop on it runs in C;
    # fire() and the firmware's writes go to that value, which the model takes back when the event's
    # INTEN bit is set.
    def _hold(self, i: int) -> None:
        """Hand event ``i`` to the register file if its interrupt is off, or with EVENT_READS_IN_C its reads only
        (after an access through Python)."""
        if not self.EVENTS_IN_C or i in self._held or i not in self.event_names:
            return
        on = bool(self.values["INTEN"] >> i & 1)
        if on and not self.EVENT_READS_IN_C:
            return
        bus = getattr(self.host, "bus", None)
        if not hasattr(bus, "serve_in_c"):
            return  # a fake host (unit tests)
        got = bus.serve_in_c(self.base + EVENTS_BASE + 4 * i, True, (1, 0, 0, 1))
        if got is not None:
            self._rf = bus.rf
            self._held[i] = got[1]
            self._held_entry[i] = got[0]
            bus.rf.set_value(got[1], self._ev_set >> i & 1)
            if on:
                self._held_py_writes.add(i)
                bus.rf.set_flags(got[0], bus.rf.flags(got[0]) | PY_WRITE)
                self._clear_slot(i)

    def _take_back(self) -> None:
        """INTEN changed: events whose interrupt is on now are the model's again (their value from the register
        file), or with EVENT_READS_IN_C only their writes; those whose interrupt is off now are C's again."""
        inten = self.values["INTEN"]
        bus = self.host.bus  # type: ignore[attr-defined]
        for i in list(self._held):
            on = bool(inten >> i & 1)
            if on == (i in self._held_py_writes):
                continue
            entry = self._held_entry[i]
            if not on:  # its writes (only) were the model's: the value here is right
                self._held_py_writes.discard(i)
                bus.rf.set_flags(entry, bus.rf.flags(entry) & ~PY_WRITE)
                continue
            v = bus.rf.value(self._held[i]) & 1
            self._ev_set = (self._ev_set & ~(1 << i)) | v << i
            self.values[f"EVENTS{i}"] = v
            if self.EVENT_READS_IN_C:
                self._held_py_writes.add(i)
                bus.rf.set_flags(entry, bus.rf.flags(entry) | PY_WRITE)
                self._clear_slot(i)
            else:
                del self._held[i], self._held_entry[i]
                bus.serve_in_c(self.base + EVENTS_BASE + 4 * i, False)

    # --- storage registers held by the register file (HELD_STORAGE) ---------------------------
    def _hold_storage(self, key: str) -> None:
        """Hand a HELD_STORAGE register to the register file (after a write through Python: then it is in use)."""
        bus = getattr(self.host, "bus", None)
        if not self.STORAGE_IN_C or key in self._c_plain or not hasattr(bus, "serve_in_c"):
            return
        slot = self._table.decode[self.HELD_STORAGE[key]]
        fields = sum(f.mask for f in slot.checked_fields)
        reads_only = key in self.HELD_READS
        if (slot.read_fn or (slot.write_fn and not reads_only) or slot.field_cbs or slot.rc_mask
                or not slot.reg.modelled or self.values[key] & fields):
            return  # not storage alone after all
        write = slot.ok_mask & ~fields & ~slot.ro_mask & ~slot.w1c_mask & ~slot.w1s_mask
        got = bus.serve_in_c(self.base + self.HELD_STORAGE[key], True, (write, 0, 0, 0xFFFFFFFF & ~slot.wo_mask))
        if got is not None:
            self._rf = bus.rf
            self._c_plain[key] = got[1]
            bus.rf.set_value(got[1], self.values[key])
            if reads_only:  # its writes stay the model's (write() gives the register file the value after them)
                bus.rf.set_flags(got[0], bus.rf.flags(got[0]) | PY_WRITE)

    # --- held from the build of the model's entries ----------------------------------------------
    # What _hold and _hold_storage would hand to the register file at a register's first access through Python is
    # handed when the bus makes the model's entries (the first access to its window: PeripheralBus._build): every
    # event (INTEN is 0 then) and the HELD_STORAGE registers, so their first accesses are served in C too (a console's
    # first line on a UARTE: 4 Python entries, ~7,500 bytecodes, before). The records are part of the bus's layout,
    # worked out once per process; each build only fills the model's look-ups (held_built).
    def held_at_build(self) -> tuple[tuple[int, tuple[int, int, int, int], int], ...]:
        """The registers the bus makes served by the register file when it builds this model's entries: (offset,
        write/W1C/W1S/read masks, flags) of each event (as _hold gives them) and each HELD_STORAGE register (as
        _hold_storage does), or () when that is not so now (INTEN set, a storage value in a checked field)."""
        table = self._table
        if not self.HELD_AT_BUILD or self.values.get("INTEN", 0) or not table.slots:
            return ()
        layout = self.svd.registers if self.svd is not None else None  # (the event names follow from it: _NAMES)
        key = (type(self), self.EVENTS_IN_C, self.STORAGE_IN_C, id(table), id(layout))
        hit = _BUILD_HELD.get(key)
        if hit is None or hit[0] is not table or hit[1] is not layout:
            held: list[tuple[int, tuple[int, int, int, int], int]] = []
            fields: list[tuple[str, int]] = []
            if self.EVENTS_IN_C:
                held += [(EVENTS_BASE + 4 * i, (1, 0, 0, 1), FIT) for i in sorted(self.event_names)]
            if self.STORAGE_IN_C:
                for name, off in self.HELD_STORAGE.items():
                    slot = table.decode[off]
                    checked = sum(f.mask for f in slot.checked_fields)
                    reads_only = name in self.HELD_READS
                    if (slot.read_fn or (slot.write_fn and not reads_only) or slot.field_cbs or slot.rc_mask
                            or not slot.reg.modelled):
                        continue  # not storage alone (_hold_storage hands it never)
                    write = slot.ok_mask & ~checked & ~slot.ro_mask & ~slot.w1c_mask & ~slot.w1s_mask
                    held.append((off, (write, 0, 0, 0xFFFFFFFF & ~slot.wo_mask), FIT | (PY_WRITE if reads_only else 0)))
                    fields.append((name, checked))
            hit = _BUILD_HELD[key] = (table, layout, tuple(held), tuple(fields))
        if any(self.values[name] & checked for name, checked in hit[3]):
            return ()  # not storage alone now (_hold_storage would wait): at first access as before
        return hit[2]  # type: ignore[no-any-return]

    def held_built(self, rf: Any, first: int, store0: int, held: tuple[tuple[int, int], ...]) -> None:
        """The bus made the registers of held_at_build served by the register file ``rf``: ``held`` gives each one's
        offset and its position among the model's entries (entry ``first`` + position, value index ``store0`` +
        position). The model's look-ups as _hold and _hold_storage leave them, and the values it has now (a subclass's
        own registers among them are left to it)."""
        self._rf = rf
        hit = _HELD_SPLIT.get(id(held))
        if hit is None or hit[0] is not held:
            events = [((off - EVENTS_BASE) // 4, pos) for off, pos in held if EVENTS_BASE <= off < EVENTS_BASE + 0x80]
            stores = [(self._storage_keys[off], pos) for off, pos in held if off in self._storage_keys]
            hit = _HELD_SPLIT[id(held)] = (held, tuple(i for i, _ in events), tuple(p for _, p in events),
                                           tuple(k for k, _ in stores), tuple(p for _, p in stores))
        _, evs, ev_pos, keys, key_pos = hit
        self._held.update(zip(evs, map(store0.__add__, ev_pos)))  # (no bytecode per event: ~20 of a UARTE's)
        self._held_entry.update(zip(evs, map(first.__add__, ev_pos)))
        self._c_plain.update(zip(keys, map(store0.__add__, key_pos)))
        values = rf._stores_p  # noqa: SLF001 - (set_value() without its call)
        if self._ev_set:  # events generated before the build (a PPI task): their values
            for i in evs:
                if self._ev_set >> i & 1:
                    values[self._held[i]] = 1
        for key in keys:
            if self.values[key]:
                values[self._c_plain[key]] = self.values[key]

    def storage(self, key: str) -> int:
        """A HELD_STORAGE register's value now (the register file's while it holds the register)."""
        store = self._c_plain.get(key)
        if store is None:
            return self.values[key]
        v = self.values[key] = self._rf._stores_p[store]  # (the register file's value(), without its call)
        return v

    def write(self, offset: int, size: int, value: int) -> None:
        key = self._storage_keys.get(offset & ~3)  # (the class's _storage_offsets, taken once)
        if key is None:
            super().write(offset, size, value)
        elif key in self._c_plain:  # a write C did not take (not a whole word within the fields)
            self.storage(key)
            super().write(offset, size, value)
            self.host.bus.rf.set_value(self._c_plain[key], self.values[key])  # type: ignore[attr-defined]
        else:
            super().write(offset, size, value)
            self._hold_storage(key)

    def describe(self) -> dict[str, Any]:
        for i in self._held:
            self.values[f"EVENTS{i}"] = int(self.event_set(i))
        for key in self._c_plain:
            self.storage(key)
        return super().describe()

    def _set_event(self, i: int, v: int) -> None:
        """Event ``i``'s register set to ``v`` (0 or 1), the line left as it is: the model's value, and the register
        file's while it holds the event."""
        if v:
            self._ev_set |= 1 << i
        else:
            self._ev_set &= ~(1 << i)
        self.values[EVENT_KEYS[i]] = v
        store = self._held.get(i)
        if store is not None:
            self._rf._stores_p[store] = v  # (set_value() without its call: v is 0 or 1)

    # --- events and the interrupt -----------------------------------------------------------
    def read_EVENTS(self, i: int) -> int:
        value = int(self.event_set(i))
        self._hold(i)
        return value

    def write_EVENTS(self, i: int, value: int) -> None:
        if i not in self.event_names:
            self.unimplemented(f"{self.svd_name}+{EVENTS_BASE + 4 * i:#05x}", "no event register here")
            return
        self._set_event(i, value & 1)  # firmware may set an event itself: it raises the interrupt like a real one
        self._update_irq()
        self._hold(i)

    def fire(self, i: int) -> None:
        """Generate event ``i`` (the register at 0x100 + 4*i): the register, shortcuts, PPI, interrupt."""
        self._ev_set |= 1 << i  # (_set_event(i, 1) in line: a call less per event)
        values = self.values
        values[EVENT_KEYS[i]] = 1
        store = self._held.get(i)
        if store is not None:
            self._rf._stores_p[store] = 1  # (set_value() without its call)
        if self._on_event:
            self.on_event(i)
        short_tasks = self._short_tasks.get(i)
        if short_tasks is not None:
            held = self._c_plain.get("SHORTS")  # (storage("SHORTS") in line)
            if held is not None:
                shorts = values["SHORTS"] = self._rf._stores_p[held]
            else:
                shorts = values.get("SHORTS", 0)
            if shorts:
                for bit, task in short_tasks:
                    if shorts >> bit & 1:
                        fn = self._tasks.get(task) if self._task_plain else None  # (task() in line, not overridden)
                        if fn is not None:
                            fn()
                        else:
                            self.task(task)
        if self.fabric._routes and (not self.EVTEN or values.get("EVTEN", 0) >> i & 1):  # (not the property)
            self.fabric.publish(self.base + EVENTS_BASE + 4 * i)
        self._update_irq()

    def on_event(self, i: int) -> None:
        """Called as event ``i`` is generated, before shortcuts (override where state follows events)."""

    INTERNAL_SHORTS = False  # True where every shortcut's task stays inside the model (TIMER: CLEAR, STOP)

    def raises_of(self, events: tuple[int, ...]) -> frozenset[int] | None:
        """The interrupt lines generating these events now could raise: this model's, if an INTEN bit of them is
        set; None (anything) when the PPI routes one of them, or a shortcut of one starts a task that is not
        known to stay inside the model. For a sleeping core's "nothing can wake it" (SystemBlock.on_halt)."""
        if self.fabric.routes and any(self.base + EVENTS_BASE + 4 * i in self.fabric.routes for i in events):
            return None
        if not self.INTERNAL_SHORTS and self.values.get("SHORTS", 0):
            shorts = self.values["SHORTS"]
            if any(ev in events and shorts >> bit & 1 for bit, ev, _task in self._shorts):
                return None
        inten = self.values["INTEN"]
        if self.irq is not None and any(inten >> i & 1 for i in events):
            return frozenset((self.irq,))
        return frozenset()

    def wake_plan(self, i: int, quiet_fs: int) -> tuple[int, int, int, int, int] | None:
        """What generating event ``i`` would do, if C can do it at a wfi (hotpath.c hp_wfi_hook, Event.wake): the
        register file's value of the event becomes 1 and the interrupt line goes high, nothing else (no shortcut, PPI
        route or on_event behaviour; the line low before; its reads in C). Returns (value index, interrupt line,
        event-clear slot or EV_SLOTS, 1: the event then alone holds the line, ``quiet_fs``: nothing of this model
        follows before that virtual time), or None."""
        if (self.irq is None or self._irq_high or i not in self._held_py_writes or not self.values["INTEN"] >> i & 1
                or type(self).on_event is not NordicPeripheral.on_event
                or (self.fabric.routes and self.base + EVENTS_BASE + 4 * i in self.fabric.routes)):
            return None
        if i in self._shorted:
            shorts = self.storage("SHORTS") if "SHORTS" in self._c_plain else self.values.get("SHORTS", 0)
            if any(ev == i and shorts >> bit & 1 for bit, ev, _task in self._shorts):
                return None
        slot = self._clr_slots.get(i, EV_SLOTS)
        return self._held[i], self.irq, slot, 1, quiet_fs

    def apply_ops(self, events: tuple[int, ...]) -> list[tuple[int, int, int]] | None:
        """Generating ``events`` as C may do it at the event's cycle (Event.apply, hotpath.c hp_apply): the register
        file's values of the held ones become 1, and that is all it does -- their interrupt off, no shortcut, PPI route
        or on_event behaviour (:meth:`fire`'s other parts). Returns those changes, or None when it is more."""
        if type(self).on_event is not NordicPeripheral.on_event:
            return None
        inten = self.values["INTEN"]
        shorts = 0 if not self._shorted else (
            self.storage("SHORTS") if "SHORTS" in self._c_plain else self.values.get("SHORTS", 0))
        routes = self.fabric.routes
        ops = []
        for i in events:
            if inten >> i & 1 or (routes and self.base + EVENTS_BASE + 4 * i in routes):
                return None
            if shorts and any(ev == i and shorts >> bit & 1 for bit, ev, _task in self._shorts):
                return None
            if i in self._held:
                ops.append((AP_STORE, self._held[i], 1))
        return ops

    def fire_applied(self, i: int) -> None:
        """What :meth:`fire` does for an event of :meth:`apply_ops` besides the register-file value C set at its cycle
        (Machine.settle_apply): the model's record of it (the value itself may be cleared by the firmware since)."""
        self._ev_set |= 1 << i
        self.values[EVENT_KEYS[i]] = 1
        self._update_irq()

    def event_set(self, i: int) -> bool:
        if i in self._held:
            return bool(self._rf.value(self._held[i]) & 1)
        return bool(self._ev_set >> i & 1)

    def _update_irq(self) -> None:
        """The interrupt line: high while an event whose INTEN bit is set is 1; then which C clear slot C may serve
        (the event alone holding the line high, its writes the model's: _arm_clears, in line), given to C before it
        resumes (give_clears)."""
        on = self._ev_set & self.values["INTEN"]  # held events have their INTEN bit clear
        if (on != 0) != self._irq_high:
            high = self._irq_high = on != 0
            if self.irq is not None:
                self.host.set_irq(self.irq, high)
                on = self._ev_set & self.values["INTEN"] if self._irq_high else 0  # (as _arm_clears reads it)
        if self._clr_bits:
            self._clr_on = on  # (the line low: 0)
            if not self._clr_queued:
                self._clr_queued = True
                self._clr_queue.append(self)  # type: ignore[union-attr]

    # --- event clears served in C (EVENT_CLEARS_IN_C) -----------------------------------------
    def _clear_slot(self, i: int) -> None:
        """Event ``i`` is held with its writes coming here (its interrupt is on): give its clears a C slot."""
        if not self.EVENT_CLEARS_IN_C or i in self._clr_slots or i not in self._held:
            return
        system = getattr(self.host, "system", None)
        slot = getattr(system, "event_clear_slot", None)
        k = slot(self, i, self.base + EVENTS_BASE + 4 * i, self._held[i]) if slot is not None else None
        if k is not None:
            self._clr_queue = system.clear_models  # type: ignore[union-attr]
            self._clr_slots[i] = k
            self._clr_bits[1 << i] = (i, k)
            ks = list(self._clr_slots.values())
            self._clr_get = get = itemgetter(*ks)
            self._clr_rows = {w: (get([int(x == w) for x in range(EV_SLOTS)]), tuple((x, int(x == w)) for x in ks))
                              for w in (-1, *ks)}
            self._arm_clears()

    def _arm_clears(self) -> None:
        """C may clear an event while it alone holds the line high (set, its INTEN bit on, no other such event): the
        clear then lowers the line and changes nothing else (write_EVENTS, _update_irq). Noted here, given to C before
        it resumes (give_clears)."""
        self._clr_on = self._ev_set & self.values["INTEN"] if self._irq_high else 0
        if not self._clr_queued:
            self._clr_queued = True
            self._clr_queue.append(self)  # type: ignore[union-attr]

    def give_clears(self, armed: Any) -> None:
        """Give C's ``armed`` (hot state's ev_armed) this model's slots as the last line update left them: the one
        wanted armed, the others not (SystemBlock.give_clears, before C resumes; C arms and disarms them itself while
        it runs: hp_ack, its wakes)."""
        self._clr_queued = False
        hit = self._clr_bits.get(self._clr_on)
        row, writes = self._clr_rows[hit[1] if hit is not None and hit[0] in self._held_py_writes else -1]
        if self._clr_get(armed) != row:  # type: ignore[misc]  # (C's values in one call: they differ ~1 in 10)
            for k, v in writes:
                armed[k] = v

    def event_cleared_in_c(self, i: int) -> None:
        """C served the firmware's clear of event ``i`` (SystemBlock.sync_native): what write_EVENTS(i, 0) does."""
        self._set_event(i, 0)
        self._update_irq()

    def read_INTENSET(self) -> int:
        return self.values["INTEN"]

    read_INTENCLR = read_INTENSET

    def write_INTEN(self, value: int) -> None:
        self.values["INTEN"] = value
        if self._held:
            self._take_back()  # an event whose interrupt is on now is the model's again (before the level is computed)
        self._update_irq()

    def write_INTENSET(self, value: int) -> None:
        self.write_INTEN(self.values["INTEN"] | value)

    def write_INTENCLR(self, value: int) -> None:
        self.write_INTEN(self.values["INTEN"] & ~value)

    def reset(self) -> None:
        super().reset()
        self._ev_set = 0
        held = getattr(self, "_held", None)
        if held:
            bus = self.host.bus  # type: ignore[attr-defined]
            for store in held.values():
                bus.rf.set_value(store, 0)  # INTEN is 0 again: they stay held
            for i in self._held_py_writes:
                bus.rf.set_flags(self._held_entry[i], bus.rf.flags(self._held_entry[i]) & ~PY_WRITE)
            self._held_py_writes.clear()
        for key, store in getattr(self, "_c_plain", {}).items():
            self.host.bus.rf.set_value(store, self.values[key])  # type: ignore[attr-defined]
        if self._irq_high and self.irq is not None:
            self.host.set_irq(self.irq, False)
        self._irq_high = False
        if getattr(self, "_clr_slots", None):
            self._arm_clears()

    # --- helpers --------------------------------------------------------------------------------
    def option(self, name: str, default: Any) -> Any:
        return self.config.options.get(name, default)

    def enabled_value(self) -> int:
        return self.values.get("ENABLE", 0)
