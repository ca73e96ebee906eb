"""Register tables: one DSL for the Cortex-M system blocks and every peripheral (docs/registers.md).

A block declares its registers once, with their datasheet names::

    class Timer(PeripheralModel):
        REGISTERS = (
            Register("CTRL", 0x00, fields=(
                Field("EN", 0, on_write="_enable_changed"),
                Field("MODE", 1, 2),
                Field("BUSY", 7, access="r"),
            )),
            Register("STATUS", 0x04, access="w1c", implemented=0x3),
            Register("COUNT", 0x08, access="r"),
            Register("CCR", 0x10, count=4),              # CCR0..CCR3, 4 bytes apart
            Register("SPARE", 0x20, modelled=False),     # stored, reported as not implemented
        )

        def read_COUNT(self) -> int: ...                 # computed on read (side effects allowed)
        def write_CCR(self, i: int, value: int) -> None: ...
        def _enable_changed(self, old: int, new: int) -> None: ...

Behaviour is bound when the class is created (``__init_subclass__``): a method named
``read_<REG>`` / ``write_<REG>`` must name a declared register and have the right
arguments, and a field's ``on_write`` must name a method, or the class is refused with a
``TypeError`` that says which, so a misspelt handler can never turn a register into plain
storage. Without handlers, registers store what is written; field access types do what
they say (``r`` bits keep their value, ``w1c``/``w1s`` clear/set, ``w`` bits read 0, ``rc``
bits clear after a read, ``reserved`` bits keep their reset value).

Bus accesses may cover part of a register or several registers (byte-accessible SCS
registers, 8-bit priority arrays): each register sees its byte lanes. A write handler
receives the value the register sees: written lanes, plus the stored value in the lanes
not written (0 in write-only / write-1 bits); it can ask for the lane ``mask`` too by
naming a third parameter ``mask``.

Two report channels, as QEMU has them (LOG_UNIMP and LOG_GUEST_ERROR), through the host's
``report``: "not implemented by simcore" (no register at an offset, bits outside
``implemented``, fields declared ``implemented=False``, registers declared
``modelled=False``) and "the firmware did something wrong" (a write to a read-only register,
a write changing a read-only or reserved field). The machine keeps the first PC and
function and counts reads and writes per place; ``--strict`` stops on either.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import FunctionType
from typing import Any, ClassVar, Protocol

from simcore.runtypes import AccessKind, ReportChannel


class Access(StrEnum):
    """What a register or field does on reads and writes."""

    RW = "rw"  # stores what is written, reads it back
    R = "r"  # read-only: a write to the register is a guest error; a write changing the field is one
    W = "w"  # write-only: reads return 0
    W1C = "w1c"  # writing 1 clears the bit, 0 leaves it
    W1S = "w1s"  # writing 1 sets the bit, 0 leaves it
    RC = "rc"  # reading returns the value, then clears it (the hardware sets it; writes leave it)
    RO = "ro"  # read-only, writes ignored without a report (SVD read-only fields: drivers write back what they read)
    RESERVED = "reserved"  # keeps its reset value; a write changing it is a guest error


_ACCESSES = tuple(Access)  # iterating the enum class itself costs a generator per register compiled


@dataclass(frozen=True)
class Field:
    """A bit field: name (datasheet), least significant bit, width, access, and what happens on writes."""

    name: str
    lsb: int
    width: int = 1
    access: Access | str = Access.RW
    implemented: bool = True  # False: simcore stores it only; a write setting it is reported
    on_write: str | None = None  # method called (self, [index,] old, new) after a write covering the field
    doc: str = ""

    def __post_init__(self) -> None:
        if type(self.access) is not Access:  # (Access(member) is the member: the enum call is the cost)
            object.__setattr__(self, "access", Access(self.access))
        if self.width < 1 or self.lsb < 0:
            raise ValueError(f"field {self.name}: lsb {self.lsb}, width {self.width}")

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Register:
    """One register (or ``count`` of them ``stride`` bytes apart): datasheet mnemonic, byte offset, width in bits."""

    name: str
    offset: int
    width: int = 32
    access: Access | str = Access.RW
    reset: int = 0
    implemented: int | None = None  # bits simcore gives meaning to (default: its fields', else all bits)
    fields: tuple[Field, ...] = ()
    count: int = 1
    stride: int = 0  # bytes between array elements (default: the register's size)
    modelled: bool = True  # False: reads return what was written and every access is reported
    doc: str = ""

    def __post_init__(self) -> None:
        if type(self.access) is not Access:
            object.__setattr__(self, "access", Access(self.access))
        if self.width not in (8, 16, 32):
            raise ValueError(f"register {self.name}: width {self.width} (8, 16 or 32)")

    @property
    def nbytes(self) -> int:
        return self.width // 8

    @property
    def step(self) -> int:
        return self.stride or self.nbytes

    def key(self, index: int = 0) -> str:
        """The name of element ``index`` (``ISER3``), or the register's own name when it is not an array."""
        return f"{self.name}{index}" if self.count > 1 else self.name


class ReportHost(Protocol):
    """What a register block needs of its host: somewhere to report."""

    def report(self, channel: ReportChannel, where: str, detail: str, access: AccessKind | None = None) -> None: ...


@dataclass
class _Slot:
    """One register element, compiled: where it is, its masks and its bound behaviour."""

    reg: Register
    index: int
    key: str
    start: int  # byte address in the block's decode space (BASE + offset + index * step)
    nbytes: int
    width_mask: int
    read_fn: Callable[..., int] | None
    write_fn: Callable[..., None] | None
    write_mask_arg: bool
    ro_mask: int  # bits a write cannot change (read-only, read-clear and reserved fields)
    w1c_mask: int
    w1s_mask: int
    wo_mask: int  # bits that read as 0
    rc_mask: int  # bits cleared by a read
    keep_mask: int  # bits whose stored value shows in lanes a write does not cover
    ok_mask: int  # bits a write may set without an "unimplemented" report
    checked_fields: tuple[Field, ...]  # read-only / reserved fields (guest errors when changed)
    unimpl_fields: tuple[Field, ...]
    field_cbs: tuple[tuple[Field, Callable[..., None]], ...]
    indexed: bool


@dataclass
class _Table:
    slots: list[_Slot] = field(default_factory=list)
    decode: dict[int, _Slot] = field(default_factory=dict)  # every byte address -> its register element
    by_name: dict[str, Register] = field(default_factory=dict)
    # the peripheral bus's entries for the 32-bit registers, per name a model reports under: (offsets, names),
    # made once for the instances sharing this table (simcore/bus.py, PeripheralBus._build)
    bus_words: dict[tuple[Any, ...], tuple[tuple[int, ...], tuple[str, ...]]] = field(default_factory=dict)
    resets: dict[str, int] | None = None  # every slot's reset value (RegisterBlock.reset copies it)


def _arity(fn: Callable[..., Any]) -> list[str]:
    """Names of ``fn``'s positional parameters after the first (``self``).

    A plain function's come from its code object (its first ``co_argcount`` variable names, positional-only
    included: what ``inspect.signature`` lists), ten times faster: building an STM32 board checks some 450
    handlers. Anything else (wrapped, partial, a ``__signature__``) goes through ``inspect.signature``.
    """
    if type(fn) is FunctionType and not hasattr(fn, "__wrapped__") and not hasattr(fn, "__signature__"):
        code = fn.__code__
        return list(code.co_varnames[1:code.co_argcount])
    params = list(inspect.signature(fn).parameters.values())
    return [p.name for p in params[1:] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


_HANDLERS: dict[type, tuple[tuple[int, ...], frozenset[str]]] = {}


def handler_names(owner: type) -> frozenset[str]:
    """The ``read_*`` / ``write_*`` attributes of a class, own and inherited: ``dir`` once per class (a model's
    table is compiled once per register layout; ``dir`` of a model class costs 0.1-0.3 ms), again when a class
    of its MRO gained or lost attributes since (handlers set on the class after its creation: stm32/dma.py)."""
    sizes = tuple(len(k.__dict__) for k in owner.__mro__)
    hit = _HANDLERS.get(owner)
    if hit is None or hit[0] != sizes:
        hit = _HANDLERS[owner] = (sizes, frozenset(n for n in dir(owner) if n.startswith(("read_", "write_"))))
    return hit[1]


def compile_table(owner: type, registers: Sequence[Register], base: int) -> _Table:
    """Check a register list against ``owner``'s methods and build its decode table (TypeError if wrong)."""
    cls = owner.__name__
    table = _Table()
    for reg in registers:
        if reg.name in table.by_name:
            raise TypeError(f"{cls}: register {reg.name} declared twice")
        table.by_name[reg.name] = reg
    handlers = {name for name in handler_names(owner) if callable(getattr(owner, name, None))}
    lower = {r.name.lower(): r.name for r in registers}
    for name in sorted(handlers):
        target = name.split("_", 1)[1]
        if target in table.by_name:
            continue
        if target[:1].isupper() or target.lower() in lower:
            hint = f" (register {lower[target.lower()]}?)" if target.lower() in lower else ""
            raise TypeError(f"{cls}.{name} handles no declared register{hint}: registers are "
                            f"{', '.join(sorted(table.by_name))}")
    for reg in registers:
        read_fn = getattr(owner, f"read_{reg.name}", None)
        write_fn = getattr(owner, f"write_{reg.name}", None)
        indexed = reg.count > 1
        lead = ["i"] if indexed else []
        if read_fn is not None and len(_arity(read_fn)) != len(lead):
            raise TypeError(f"{cls}.read_{reg.name} must take ({', '.join(['self', *lead])})")
        write_mask_arg = False
        if write_fn is not None:
            args = _arity(write_fn)
            write_mask_arg = len(args) == len(lead) + 2 and args[-1] == "mask"
            if len(args) != len(lead) + 1 and not write_mask_arg:
                raise TypeError(f"{cls}.write_{reg.name} must take ({', '.join(['self', *lead, 'value'])}"
                                "[, mask])")
        full = (1 << reg.width) - 1
        masks = dict.fromkeys(_ACCESSES, 0)
        seen = 0
        cbs: list[tuple[Field, Callable[..., None]]] = []
        for f in reg.fields:
            if f.mask & ~full or f.mask & seen:
                raise TypeError(f"{cls}: field {reg.name}.{f.name} overlaps another field or the register's width")
            seen |= f.mask
            masks[f.access] |= f.mask  # an Access (Field.__post_init__)
            if f.on_write is not None:
                fn = getattr(owner, f.on_write, None)
                if not callable(fn):
                    raise TypeError(f"{cls}: field {reg.name}.{f.name} calls {f.on_write}, which {cls} does not "
                                    "define")
                if write_fn is not None:
                    raise TypeError(f"{cls}: register {reg.name} has both write_{reg.name} and field callbacks")
                if len(_arity(fn)) != len(lead) + 2:
                    raise TypeError(f"{cls}.{f.on_write} must take ({', '.join(['self', *lead, 'old', 'new'])})")
                cbs.append((f, fn))
        whole = {Access.R: reg.access is Access.R, Access.W: reg.access is Access.W,
                 Access.W1C: reg.access is Access.W1C, Access.W1S: reg.access is Access.W1S,
                 Access.RC: reg.access is Access.RC}
        for acc, on in whole.items():
            if on:
                masks[acc] |= full
        implemented = reg.implemented
        if implemented is None:
            implemented = sum(f.mask for f in reg.fields if f.implemented) if reg.fields else full
        ro = (masks[Access.R] | masks[Access.RO] | masks[Access.RESERVED] | masks[Access.RC]
              if reg.access is not Access.R else 0)
        keep = full & ~(masks[Access.W] | masks[Access.W1C] | masks[Access.W1S])
        checked = tuple(f for f in reg.fields if f.access in (Access.R, Access.RESERVED))
        unimpl = tuple(f for f in reg.fields if not f.implemented)
        for i in range(reg.count):
            start = base + reg.offset + i * reg.step
            slot = _Slot(reg, i, reg.key(i), start, reg.nbytes, full, read_fn, write_fn, write_mask_arg, ro,
                         masks[Access.W1C], masks[Access.W1S], masks[Access.W], masks[Access.RC], keep,
                         implemented | masks[Access.RESERVED], checked, unimpl, tuple(cbs), indexed)
            if slot.key in table.by_name and slot.key != reg.name:
                raise TypeError(f"{cls}: {reg.name}[{i}] is named {slot.key}, like another register")
            for b in range(reg.nbytes):
                other = table.decode.get(start + b)
                if other is not None:
                    raise TypeError(f"{cls}: register {slot.key} overlaps {other.key}")
                table.decode[start + b] = slot
            table.slots.append(slot)
    return table


class LazyTable:
    """An instance's register table until its first bus access: ``compile_table`` runs then (``slots``,
    ``decode``), not when the model is built. A part's models have 2,000-2,500 registers and a run
    touches a few models (an nRF52840 hello: 3 of 27), so start-up compiled tables nothing reads.
    ``by_name`` needs no compiling; the compiled table replaces this one on the instance.
    """

    def __init__(self, owner: RegisterBlock, registers: Sequence[Register], compile_fn: Callable[[], _Table]) -> None:
        self._owner = owner
        self._compile = compile_fn
        self.registers = registers
        self.by_name = {r.name: r for r in registers}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # (copy, pickle and the snapshot's walk look for protocols)
        return getattr(self.compiled(), name)

    def compiled(self) -> _Table:
        """Compile now (TypeError if the registers do not fit the class) and put the result on the instance."""
        table = self._compile()
        self._owner._table = table
        return table

    def reset_values(self) -> dict[str, int]:
        """What ``compile_table(...).slots`` gives as reset values, in the same order, without compiling."""
        return {reg.key(i): reg.reset for reg in self.registers for i in range(reg.count)}


class RegisterBlock:
    """Table-driven register access for one block: bus reads and writes, reports, reset values.

    ``BASE`` is the address the decode table is keyed by: the SCS blocks decode absolute
    addresses (their ``BASE``), peripherals decode offsets from their window (``BASE = 0``).
    """

    NAME: ClassVar[str] = ""
    BASE: ClassVar[int] = 0
    REGISTERS: ClassVar[tuple[Register, ...]] = ()
    _table: ClassVar[_Table | LazyTable] = _Table()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._table = compile_table(cls, cls.REGISTERS, cls.BASE)

    def __init__(self, host: ReportHost, name: str | None = None,
                 registers: Sequence[Register] | None = None, table: _Table | None = None) -> None:
        """``registers`` gives this instance its own table (e.g. from an SVD file) instead of ``REGISTERS``, compiled
        at its first use (:class:`LazyTable`); ``table``, when given, is ``compile_table(type(self), registers,
        BASE)`` made before (shared), or a lazy one that makes it."""
        self.host = host
        self.name = name if name is not None else self.NAME
        if table is not None:
            self._table = table
        elif registers is not None:
            regs = tuple(registers)
            self._table = LazyTable(self, regs, lambda: compile_table(type(self), regs, self.BASE))
        self.values: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Reset values of the stored registers (blocks with state of their own extend this)."""
        table = self._table
        if type(table) is LazyTable:
            self.values = table.reset_values()
        else:
            resets = table.resets
            if resets is None:  # once per table (an NVIC's ~600 slots: 40 us a reset, a dict copy 5 us)
                resets = table.resets = {slot.key: slot.reg.reset for slot in table.slots}
            self.values = dict(resets)

    @property
    def registers(self) -> tuple[Register, ...]:
        return tuple(self._table.by_name.values())

    def addresses(self) -> Iterator[int]:
        """Every byte address this block decodes (the system block builds its dispatch map from them)."""
        return iter(self._table.decode)

    def reg_name(self, reg: Register, index: int = 0) -> str:
        return f"{self.name}.{reg.key(index)}"

    def where_offset(self, offset: int) -> str:
        """How a report names an address no register covers."""
        return f"{offset:#010x}" if self.BASE else f"{self.name}+{offset:#05x}"

    # --- reports --------------------------------------------------------------------------
    def unimplemented(self, where: str, detail: str, access: AccessKind | None = AccessKind.WRITE) -> None:
        """Report something simcore does not implement (``--strict`` stops)."""
        self.host.report(ReportChannel.UNIMPLEMENTED, where, detail, access)

    def guest_error(self, where: str, detail: str, access: AccessKind | None = AccessKind.WRITE) -> None:
        """Report something the firmware did wrong (``--strict`` stops)."""
        self.host.report(ReportChannel.GUEST_ERROR, where, detail, access)

    # --- bus access -------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        slot = self._table.decode.get(offset)
        if slot is not None and offset == slot.start and size == slot.nbytes:  # the common case
            return self._read_slot(slot)
        value = 0
        covered = False
        for slot, first, last in self._span(offset, size):
            covered = True
            v = self._read_slot(slot)
            lo = first - slot.start
            nbytes = last - first
            value |= ((v >> (8 * lo)) & ((1 << (8 * nbytes)) - 1)) << (8 * (first - offset))
        if not covered:
            self.unimplemented(self.where_offset(offset), f"read of {size} bytes: no register here", AccessKind.READ)
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        slot = self._table.decode.get(offset)
        if slot is not None and offset == slot.start and size == slot.nbytes:  # the common case
            self._write_slot(slot, value & slot.width_mask, slot.width_mask)
            return
        covered = False
        for slot, first, last in self._span(offset, size):
            covered = True
            lo = first - slot.start
            lanes = ((1 << (8 * (last - first))) - 1) << (8 * lo)
            part = ((value >> (8 * (first - offset))) << (8 * lo)) & lanes
            self._write_slot(slot, part, lanes)
        if not covered:
            self.unimplemented(self.where_offset(offset), f"write of {value:#x}: no register here", AccessKind.WRITE)

    def _span(self, offset: int, size: int) -> Iterator[tuple[_Slot, int, int]]:
        """(register element, first byte, end byte) for each element an access covers, in address order."""
        decode = self._table.decode
        addr, end = offset, offset + size
        while addr < end:
            slot = decode.get(addr)
            if slot is None:
                addr += 1
                continue
            last = min(end, slot.start + slot.nbytes)
            yield slot, addr, last
            addr = last

    def _read_slot(self, slot: _Slot) -> int:
        reg = slot.reg
        if not reg.modelled:
            self.unimplemented(self.reg_name(reg, slot.index), "register not implemented by simcore (reads return "
                               "what was written)", AccessKind.READ)
        if reg.access is Access.W:
            return 0
        if slot.read_fn is not None:
            return slot.read_fn(self, slot.index) if slot.indexed else slot.read_fn(self)
        value = self.values[slot.key]
        if slot.rc_mask:
            self.values[slot.key] = value & ~slot.rc_mask
        return value & ~slot.wo_mask

    def _write_slot(self, slot: _Slot, written: int, lanes: int) -> None:
        """``written``: the value in its position, only in ``lanes`` (the bytes the access covers)."""
        reg = slot.reg
        if reg.access is Access.R:
            self.guest_error(self.reg_name(reg, slot.index), "write to a read-only register (ignored)")
            return
        old = self.values[slot.key]
        stray = written & ~slot.ok_mask
        if stray:
            self._report_stray(slot, stray)
        if slot.checked_fields:
            changed = (written ^ old) & lanes
            for f in slot.checked_fields:
                if changed & f.mask:
                    what = "read-only" if f.access is Access.R else "reserved"
                    self.guest_error(f"{self.reg_name(reg, slot.index)}.{f.name}",
                                     f"write changes a {what} field (ignored)")
        if not reg.modelled:
            self.unimplemented(self.reg_name(reg, slot.index), "register not implemented by simcore (writes are "
                               "stored)")
        if slot.write_fn is not None:
            presented = written | (old & ~lanes & slot.keep_mask)
            args = (slot.index, presented) if slot.indexed else (presented,)
            if slot.write_mask_arg:
                slot.write_fn(self, *args, lanes)
            else:
                slot.write_fn(self, *args)
            return
        new = (old & ~lanes) | written
        if slot.ro_mask:
            new = (new & ~slot.ro_mask) | (old & slot.ro_mask)
        if slot.w1c_mask:
            new = (new & ~slot.w1c_mask) | (old & ~written & slot.w1c_mask)
        if slot.w1s_mask:
            new = (new & ~slot.w1s_mask) | ((old | written) & slot.w1s_mask)
        self.values[slot.key] = new
        for f, fn in slot.field_cbs:
            if f.mask & lanes:
                o, n = (old & f.mask) >> f.lsb, (new & f.mask) >> f.lsb
                if slot.indexed:
                    fn(self, slot.index, o, n)
                else:
                    fn(self, o, n)

    def _report_stray(self, slot: _Slot, stray: int) -> None:
        name = self.reg_name(slot.reg, slot.index)
        named = [f for f in slot.unimpl_fields if stray & f.mask]
        for f in named:
            self.unimplemented(f"{name}.{f.name}", "field not implemented by simcore (written value stored)")
        rest = stray & ~sum(f.mask for f in named)
        if rest:
            self.unimplemented(name, f"bits {rest:#x} written but not modelled")

    # --- helpers for models -------------------------------------------------------------
    def get(self, name: str, index: int = 0) -> int:
        return self.values[self._table.by_name[name].key(index)]

    def set(self, name: str, value: int, index: int = 0) -> None:
        reg = self._table.by_name[name]
        self.values[reg.key(index)] = value & ((1 << reg.width) - 1)

    def merge(self, name: str, index: int, value: int, mask: int) -> int:
        """Store the bits of ``value`` under ``mask`` in a stored register and return the new value."""
        key = self._table.by_name[name].key(index)
        new = (self.values[key] & ~mask) | (value & mask)
        self.values[key] = new
        return new

    def describe(self) -> dict[str, Any]:
        """Stored register values (no read side effects such as clearing COUNTFLAG)."""
        return {f"{self.name}.{key}": value for key, value in self.values.items()}
