"""Peripherals are register tables (simcore/registers.py), one object per instance on the board.

A model subclasses :class:`PeripheralModel`, lists its :class:`~simcore.registers.Register`
entries in ``REGISTERS`` (datasheet names, offsets from the instance's base) and implements
``read_<NAME>`` / ``write_<NAME>`` methods or field ``on_write`` callbacks only where a
register has behaviour; plain registers store what is written. Accesses that no register
covers, bits the model does not implement and writes the firmware should not make are
reported through the host (``report``), by ``<instance>.<REGISTER>``.

A model of a real part's peripheral takes its registers from the part's SVD table instead
(docs/registers.md, "Models of SVD peripherals")::

    class Rcc(PeripheralModel):
        TYPE = "stm32f4_rcc"
        SVD = "RCC"                          # the SVD peripheral (name or group) it models
        PARTS = ("stm32f407vg",)             # tables it is written for; the first checks the class
        PLAIN = ("AHB1ENR",)                 # implemented as storage (the model reads self.values)
        ON_WRITE = {"CR.HSEON": "_hse_on"}   # field callbacks: (self, old, new)

        def read_CR(self) -> int: ...        # behaviour for SVD registers, by name

Registers with a handler, a field callback, in ``PLAIN`` or declared in ``REGISTERS`` are the
model's (offset, reset value and fields from the SVD unless ``REGISTERS`` declares them);
every other register of the SVD peripheral is generic (simcore/peripherals/generic.py):
served by the register file without Python and reported as not implemented by simcore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from simcore.errors import BadInputError
from simcore.registers import Field, LazyTable, Register, RegisterBlock, ReportHost, compile_table, handler_names

if TYPE_CHECKING:
    from simcore.board import Peripheral
    from simcore.peripherals.svd import RegisterTable, SvdPeripheral

__all__ = ["Field", "Host", "PeripheralModel", "Register"]


class Host(ReportHost, Protocol):
    """What a peripheral may ask of the machine it sits in (a fake in unit tests)."""

    def now_cycles(self) -> int: ...
    def cycles_per_second(self) -> float: ...
    def console_write(self, data: bytes, source: str) -> None: ...
    def set_irq(self, irq: int, level: bool) -> None: ...
    def pend_irq(self, irq: int) -> None: ...
    def schedule(self, at_cycle: int, callback: Any, tag: str) -> Any: ...
    def cancel(self, handle: Any) -> None: ...
    def mem_read(self, addr: int, size: int) -> bytes: ...
    def mem_write(self, addr: int, data: bytes) -> None: ...
    def pend_nmi(self) -> None: ...
    # clocks and virtual time (simcore/clock.py, docs/clocks.md)
    def now_fs(self) -> int: ...
    def now_seconds(self) -> float: ...
    def clock_hz(self, name: str) -> float: ...
    def on_clock_change(self, callback: Any) -> None: ...
    def schedule_at_fs(self, at_fs: int, callback: Any, tag: str = "") -> Any: ...
    def cycle_at_fs(self, at_fs: int) -> int: ...  # the first core cycle at which virtual time reaches at_fs
    def peripheral(self, name: str) -> Any: ...
    def clock_tree_changed(self, model: Any) -> None: ...
    def flash_timing(self, wait_states: int, accelerator: int, prefetch: bool) -> None: ...
    def clock_follows_firmware(self) -> bool: ...
    def request_reset(self, cause: str, why: str) -> None: ...  # reset the part (a watchdog): it boots again


def _names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class PeripheralModel(RegisterBlock):
    """Base for every memory-mapped peripheral: its board entry, its window and its register table."""

    TYPE: ClassVar[str] = ""
    SIZE: ClassVar[int] = 0x400  # bytes of address space the instance decodes
    CONSOLE: ClassVar[bool] = False  # a UART whose output can be the board's console
    # --- models of a part's SVD peripheral (empty SVD: the model declares everything in REGISTERS) ---
    SVD: ClassVar[str | tuple[str, ...]] = ()  # SVD peripheral names or groups the model implements
    PARTS: ClassVar[tuple[str, ...]] = ()  # register tables it is written for; the first checks the class (check_class)
    PLAIN: ClassVar[tuple[str, ...]] = ()  # SVD registers implemented as storage only
    ON_WRITE: ClassVar[Mapping[str, str]] = {}  # "REG.FIELD" -> method(self, [i,] old, new)
    NOT_IMPLEMENTED: ClassVar[tuple[str, ...]] = ()  # "REG.FIELD": stored, a write setting it is reported

    def __init__(self, config: Peripheral, host: Host, registers: Sequence[Register] | None = None) -> None:
        self.config = config
        self.base = config.base
        self.irq = config.irq
        self.host: Host = host
        self.svd: SvdPeripheral | None = None  # the SVD peripheral this instance models
        self.svd_table: RegisterTable | None = None
        self._svd_names: dict[str, str] = {}  # DSL register name -> SVD register name (for reports)
        reference = False
        table = None
        if registers is None and self.SVD:
            self.svd_table = self.table_for(config)
            reference = bool(self.PARTS) and self.svd_table.part == self.PARTS[0]
            if not reference and not type(self).__module__.startswith("simcore."):
                # on the reference part the instance's own check is the same check; simcore's own models are
                # checked on theirs by tests/unit/test_registers.py (a run on another part skips loading and
                # compiling the reference table: 8% of the IoT node's start-up instructions)
                type(self).check_class()
            self.svd = self.svd_peripheral(self.svd_table, config.base, config.name)
            registers, table = self._compiled_svd(self.svd)
            self._svd_names = {r.name: r.doc for r in registers if r.doc}
            if self.irq is None and self.svd.interrupts:
                self.irq = self.svd.interrupts[0][1]
        super().__init__(host, config.name, registers, table)
        if reference:
            if isinstance(self._table, LazyTable) and not type(self).__module__.startswith("simcore."):
                self._table.compiled()  # the class's check (simcore's own: tests/unit/test_registers.py)
            type(self)._checked = True

    # --- SVD-backed models ----------------------------------------------------------------------
    # (model class, id of an SVD register layout) -> (that layout, the model's registers, their compiled table)
    _svd_compiled: ClassVar[dict[tuple[type, int], tuple[Any, tuple[Register, ...], Any]]] = {}

    def _compiled_svd(self, svd: Any) -> tuple[tuple[Register, ...], Any]:
        """The model's registers for ``svd`` and their table (None: the instance's own, compiled at first use).

        Instances of one model on one register layout (GPIOA-GPIOI, TIM2-TIM5, TIMER0-4) share both:
        building and checking them once per layout instead of per instance halved the F407's and the
        nRF52840's peripheral set-up. The table is compiled when an instance first needs it (its first bus
        access: registers.LazyTable), once for the layout. Layouts of the part's table live as long as the
        table (load_table keeps it), so the identity check is sound; other register sets are not kept.
        """
        from simcore.peripherals.svd import SvdPeripheral

        layout = svd.registers
        key = (type(self), id(layout))
        hit = self._svd_compiled.get(key)
        if hit is not None and hit[0] is layout:
            registers, table = hit[1], hit[2]
            if table is not None:
                return registers, table
        else:
            registers = self.svd_registers(svd)
            if not isinstance(svd, SvdPeripheral):
                return registers, None
            PeripheralModel._svd_compiled[key] = (layout, registers, None)

        def compile_shared() -> Any:
            done = PeripheralModel._svd_compiled[key]
            if done[2] is not None:
                return done[2]
            table = compile_table(type(self), registers, self.BASE)
            PeripheralModel._svd_compiled[key] = (layout, registers, table)
            return table

        return registers, LazyTable(self, registers, compile_shared)

    @classmethod
    def table_for(cls, config: Peripheral) -> RegisterTable:
        """The part's register table (the board's ``svd``), else the model's reference part's."""
        from simcore.peripherals.svd import load_table

        part = getattr(config, "part", None) or (cls.PARTS[0] if cls.PARTS else None)
        if part is None:
            raise BadInputError(f"peripheral '{config.name}' ({cls.TYPE}) models an SVD peripheral, but the board "
                                "names no register table (svd = \"<part>\")")
        return load_table(part)

    @classmethod
    def svd_peripheral(cls, table: RegisterTable, base: int, name: str = "") -> SvdPeripheral:
        """The SVD peripheral at ``base`` that this model implements (by name or group), else the first
        such peripheral of the part (a board that places it elsewhere)."""
        want = _names(cls.SVD)

        def fits(p: SvdPeripheral) -> bool:
            return p.name in want or p.group in want

        here = [p for p in table.at(base) if p.base == base and fits(p)]
        if here:
            return here[0]
        anywhere = [p for p in table.peripherals if fits(p)]
        if not anywhere:
            raise BadInputError(f"peripheral '{name}' ({cls.TYPE}): the {table.part} register table has no "
                                f"{' or '.join(want)} peripheral")
        from dataclasses import replace

        return replace(anywhere[0], base=base)

    @classmethod
    def svd_registers(cls, periph: SvdPeripheral) -> tuple[Register, ...]:
        """The model's registers: the SVD registers it implements, then ``REGISTERS`` (which replace
        SVD registers of the same name or offset)."""
        from simcore.peripherals.generic import dsl_name, dsl_register

        declared = {r.name: r for r in cls.REGISTERS}
        spans = [(r.offset, r.offset + r.nbytes + (r.count - 1) * r.step) for r in cls.REGISTERS]
        on_write: dict[str, dict[str, str]] = {}
        for key, method in cls.ON_WRITE.items():
            reg, _, fld = key.rpartition(".")
            on_write.setdefault(reg, {})[fld] = method
        unimpl: dict[str, list[str]] = {}
        for key in cls.NOT_IMPLEMENTED:
            reg, _, fld = key.rpartition(".")
            unimpl.setdefault(reg, []).append(fld)
        wanted = set(cls.PLAIN) | set(on_write) | set(unimpl)
        wanted |= {name.split("_", 1)[1] for name in handler_names(cls)}
        out: list[Register] = []
        known: set[str] = set()
        for reg in periph.registers:
            name = dsl_name(reg.name)
            known.add(name)
            if name not in wanted or name in declared:
                continue
            if any(lo <= reg.offset < hi for lo, hi in spans):
                continue
            try:
                out.append(dsl_register(reg, on_write=on_write.get(name), unimplemented=unimpl.get(name, ())))
            except TypeError as exc:
                raise TypeError(f"{cls.__name__}: {exc}") from None
        missing = sorted((set(cls.PLAIN) | set(on_write) | set(unimpl)) - known - set(declared))
        if missing:
            raise TypeError(f"{cls.__name__}: {periph.name} has no register {', '.join(missing)} (PLAIN, ON_WRITE, "
                            f"NOT_IMPLEMENTED); its registers are {', '.join(sorted(known))}")
        return (*out, *cls.REGISTERS)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if not cls.SVD:
            super().__init_subclass__(**kwargs)  # RegisterBlock compiles REGISTERS now
            return
        # An SVD-backed model's registers come from a part's table: loading one costs 3-15 ms, so the
        # class is checked against PARTS[0]'s table when it is first built (or by check_class), not at import.
        super(RegisterBlock, cls).__init_subclass__(**kwargs)
        cls._checked = False

    @classmethod
    def check_class(cls) -> None:
        """Check an SVD-backed model's handlers, PLAIN, ON_WRITE and NOT_IMPLEMENTED against PARTS[0]'s table
        (TypeError naming what is wrong); done before the first instance is built."""
        if not cls.SVD or cls.__dict__.get("_checked", True):
            return
        if cls.PARTS:
            from simcore.peripherals.svd import load_table

            table = load_table(cls.PARTS[0])
            want = _names(cls.SVD)
            ref = next((p for p in table.peripherals if p.name in want or p.group in want), None)
            if ref is None:
                raise TypeError(f"{cls.__name__}: the {table.part} register table has no {' or '.join(want)} "
                                "peripheral")
            cls._table = compile_table(cls, cls.svd_registers(ref), cls.BASE)
        cls._checked = True

    # --- names in reports -----------------------------------------------------------------------
    @property
    def svd_name(self) -> str:
        """The name reports use: the SVD peripheral's (``USART2``), else the board's (``uart0``)."""
        return self.svd.name if self.svd is not None else self.name

    def reg_name(self, reg: Register, index: int = 0) -> str:
        if self.svd is None:
            return super().reg_name(reg, index)
        return f"{self.svd.name}.{self._svd_names.get(reg.name, reg.key(index))}"

    def where(self, name: str, index: int = 0) -> str:
        """``PERIPH.REG`` of one of the model's registers, as reports name it."""
        return self.reg_name(self._table.by_name[name], index)

    def where_offset(self, offset: int) -> str:
        return f"{self.svd_name}+{offset:#05x}"

    def register(self, name: str) -> Register:
        return self._table.by_name[name]

    def native_irq_event(self) -> Any:
        """The machine event that asserts this peripheral's interrupt next, when that event does nothing
        else, so the native hot path may take the interrupt itself at the event's cycle (hp_source); None
        when there is no such event. The default: never (every event runs in Python)."""
        return None

    def native_irq_fired(self) -> None:
        """The hot path took the interrupt of :meth:`native_irq_event` at that event's cycle: do what the
        event would have done (the exception is already active)."""
        raise NotImplementedError(f"{self.TYPE} has no native interrupt event")

    def native_irq_ack(self) -> tuple[int, int] | None:
        """(offset, bits) of the register whose write with one of the bits set clears the interrupt, when the
        hot path may serve that write itself after delivering the interrupt (hp_ack); None: never."""
        return None

    def native_irq_plan(self) -> tuple[int, int, int, int] | None:
        """For the assertion :meth:`native_irq_event` plans: (its counter tick, ticks to the next one, core
        clock Hz, counter clock Hz), so that C can plan the next one after an acknowledge; None: it cannot."""
        return None

    def native_irq_acked(self, cycle: int) -> None:
        """The hot path delivered the interrupt and served its acknowledge at ``cycle`` (hp_ack): do what
        the write would have done then (the next assertion is planned as C planned it)."""
        raise NotImplementedError(f"{self.TYPE} has no native acknowledge")

    def describe(self) -> dict[str, Any]:
        """Register values for reports and debugging."""
        return {"name": self.name, "type": self.TYPE, "base": self.base, "registers": dict(self.values)}
