"""The register DSL (simcore/registers.py): behaviour bound at class creation, field access types, lanes, reports."""

from __future__ import annotations

import pytest

from simcore.peripherals.base import PeripheralModel
from simcore.peripherals.sensors.testing import FakeHost, peripheral
from simcore.registers import Field, Register, RegisterBlock
from simcore.runtypes import ReportChannel


class Timer(PeripheralModel):
    TYPE = "test_timer"
    REGISTERS = (
        Register("CTRL", 0x00, fields=(
            Field("EN", 0, on_write="_enable_changed"),
            Field("MODE", 1, 2),
            Field("BUSY", 7, access="r"),
            Field("RSVD", 8, 4, access="reserved"),
            Field("TURBO", 12, implemented=False),
        )),
        Register("STATUS", 0x04, access="w1c", implemented=0x3),
        Register("SET", 0x08, access="w1s"),
        Register("EVENTS", 0x0C, fields=(Field("HIT", 0, access="rc"), Field("KEY", 4, 4, access="w"))),
        Register("COUNT", 0x10, access="r"),
        Register("CCR", 0x20, count=4),
        Register("PRIO", 0x30, width=8, count=4),
        Register("SPARE", 0x40, modelled=False),
        Register("TRIG", 0x44, access="w"),
    )

    def __init__(self, host: FakeHost) -> None:
        self.changes: list[tuple[int, int]] = []
        self.ccr_writes: list[tuple[int, int]] = []
        self.trig: list[tuple[int, int]] = []
        super().__init__(peripheral("tim0", "test_timer", base=0x40010000), host)

    def _enable_changed(self, old: int, new: int) -> None:
        self.changes.append((old, new))

    def read_COUNT(self) -> int:
        return 1234

    def write_CCR(self, i: int, value: int) -> None:
        self.ccr_writes.append((i, value))
        self.values[f"CCR{i}"] = value

    def write_TRIG(self, value: int, mask: int) -> None:
        self.trig.append((value, mask))


def _timer() -> tuple[Timer, FakeHost]:
    host = FakeHost()
    return Timer(host), host


def test_plain_fields_callbacks_and_read_only_and_reserved_fields() -> None:
    t, host = _timer()
    t.write(0x00, 4, 0b101)  # EN=1, MODE=2
    assert t.read(0x00, 4) == 0b101 and t.changes == [(0, 1)]
    t.write(0x00, 4, 0b100)
    assert t.changes == [(0, 1), (1, 0)] and host.unmodelled == {}
    t.write(0x00, 4, 1 << 7)  # BUSY is read-only: kept, and changing it is the firmware's mistake
    assert t.read(0x00, 4) & (1 << 7) == 0 and host.channels["tim0.CTRL.BUSY"] is ReportChannel.GUEST_ERROR
    t.write(0x00, 4, 0x5 << 8)  # reserved bits keep their reset value
    assert t.read(0x00, 4) >> 8 & 0xF == 0 and host.channels["tim0.CTRL.RSVD"] is ReportChannel.GUEST_ERROR
    t.write(0x00, 4, 1 << 12)  # a declared field simcore does not implement: stored and reported
    assert t.read(0x00, 4) & (1 << 12) and host.channels["tim0.CTRL.TURBO"] is ReportChannel.UNIMPLEMENTED
    t.write(0x00, 4, 1 << 20)  # bits no field declares
    assert host.unmodelled["tim0.CTRL"] == "bits 0x100000 written but not modelled"


def test_write_one_to_clear_set_read_clear_write_only_and_read_only_registers() -> None:
    t, host = _timer()
    t.values["STATUS"] = 0b11
    t.write(0x04, 4, 0b01)
    assert t.read(0x04, 4) == 0b10
    t.write(0x08, 4, 0b0101)
    t.write(0x08, 4, 0b0010)
    assert t.read(0x08, 4) == 0b0111
    t.values["EVENTS"] = 1
    t.write(0x0C, 4, 0xA0)  # KEY is write-only
    assert t.values["EVENTS"] == 0xA1 and t.read(0x0C, 4) == 1 and t.read(0x0C, 4) == 0  # HIT clears on read
    t.write(0x10, 4, 7)
    assert t.read(0x10, 4) == 1234 and host.channels["tim0.COUNT"] is ReportChannel.GUEST_ERROR


def test_arrays_byte_lanes_and_the_lane_mask() -> None:
    t, host = _timer()
    t.write(0x28, 4, 0xAB)
    assert t.ccr_writes == [(2, 0xAB)] and t.read(0x28, 4) == 0xAB and t.get("CCR", 2) == 0xAB
    t.write(0x30, 4, 0x44332211)  # one word over four 8-bit registers
    assert [t.get("PRIO", i) for i in range(4)] == [0x11, 0x22, 0x33, 0x44]
    assert t.read(0x31, 2) == 0x3322 and t.read(0x30, 4) == 0x44332211
    t.write(0x29, 1, 0xCD)  # a byte into CCR2: the handler sees the other lanes as stored
    assert t.ccr_writes[-1] == (2, 0xCDAB)
    t.write(0x46, 2, 0x1234)  # write-only register: unwritten lanes are 0, the handler can ask for the mask
    assert t.trig == [(0x12340000, 0xFFFF0000)]
    assert host.unmodelled == {}


def test_unknown_offsets_and_registers_simcore_only_stores_are_reported() -> None:
    t, host = _timer()
    assert t.read(0x100, 4) == 0
    t.write(0x104, 4, 1)
    assert set(host.unmodelled) >= {"tim0+0x100", "tim0+0x104"}
    t.write(0x40, 4, 0x55)
    assert t.read(0x40, 4) == 0x55 and host.channels["tim0.SPARE"] is ReportChannel.UNIMPLEMENTED


def test_per_instance_register_tables() -> None:
    """A table given at construction (what an SVD-driven model does) replaces the class's."""
    host = FakeHost()
    regs = (Register("CR", 0x0, reset=0x83, modelled=False), Register("SR", 0x4, access="r", reset=0x10))
    svd = PeripheralModel(peripheral("rcc", "svd"), host, regs)
    assert svd.read(0x0, 4) == 0x83 and svd.read(0x4, 4) == 0x10
    svd.write(0x0, 4, 0x1)
    assert svd.read(0x0, 4) == 0x1 and [r.name for r in svd.registers] == ["CR", "SR"]
    assert host.channels["rcc.CR"] is ReportChannel.UNIMPLEMENTED


def test_misspelt_or_misshaped_handlers_are_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match=r"write_CTLR handles no declared register"):
        class A(RegisterBlock):  # noqa: F841
            REGISTERS = (Register("CTRL", 0),)

            def write_CTLR(self, value: int) -> None: ...

    with pytest.raises(TypeError, match=r"write_ctrl handles no declared register \(register CTRL\?\)"):
        class B(RegisterBlock):  # noqa: F841
            REGISTERS = (Register("CTRL", 0),)

            def write_ctrl(self, value: int) -> None: ...

    with pytest.raises(TypeError, match=r"calls _on_en, which C does not define"):
        class C(RegisterBlock):  # noqa: F841
            REGISTERS = (Register("CTRL", 0, fields=(Field("EN", 0, on_write="_on_en"),)),)

    with pytest.raises(TypeError, match=r"write_ISER must take \(self, i, value\[, mask\]\)"):
        class D(RegisterBlock):  # noqa: F841
            REGISTERS = (Register("ISER", 0, count=2),)

            def write_ISER(self, value: int) -> None: ...

    with pytest.raises(TypeError, match=r"B overlaps A"):
        class E(RegisterBlock):  # noqa: F841
            REGISTERS = (Register("A", 0), Register("B", 2, width=16))

    with pytest.raises(TypeError, match=r"field CTRL.Y overlaps"):
        class F(RegisterBlock):  # noqa: F841
            REGISTERS = (Register("CTRL", 0, fields=(Field("X", 0, 4), Field("Y", 3))),)

    with pytest.raises(TypeError, match=r"both write_CTRL and field callbacks"):
        class G(RegisterBlock):  # noqa: F841
            REGISTERS = (Register("CTRL", 0, fields=(Field("EN", 0, on_write="_en"),)),)

            def _en(self, old: int, new: int) -> None: ...

            def write_CTRL(self, value: int) -> None: ...


def test_every_shipped_model_compiles_and_helpers_that_are_not_handlers_are_allowed() -> None:
    from simcore.peripherals import _MODULES, model_for

    for type_name in _MODULES:
        cls = model_for(type_name)
        if cls.SVD:  # SVD-backed: tables are per instance, built from the part's SVD; the class is checked lazily
            cls.check_class()
            continue
        assert cls._table.slots or not cls.REGISTERS, type_name  # noqa: SLF001 (no REGISTERS: built per instance)
    gpio = model_for("simcore_gpio")
    assert callable(gpio.write_vcd)  # lower-case names that match no register are ordinary methods


def test_arity_from_code_objects_equals_inspect_signature_on_every_handler() -> None:
    """registers._arity reads plain functions' code objects instead of inspect.signature (start-up): the same
    names for every read_/write_ handler and field callback of every shipped model, and for the forms it leaves
    to inspect (wrapped functions, partials, bound methods)."""
    import functools
    import inspect

    from simcore.peripherals import _MODULES, model_for
    from simcore.registers import _arity, handler_names

    def by_inspect(fn: object) -> list[str]:
        params = list(inspect.signature(fn).parameters.values())  # type: ignore[arg-type]
        return [p.name for p in params[1:] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    seen = 0
    for type_name in _MODULES:
        cls = model_for(type_name)
        names = set(handler_names(cls)) | {f.on_write for r in cls.REGISTERS for f in r.fields if f.on_write}
        names |= set(getattr(cls, "ON_WRITE", {}).values())
        for name in names:
            fn = getattr(cls, name, None)
            if callable(fn):
                assert _arity(fn) == by_inspect(fn), (cls.__name__, name)
                seen += 1
    assert seen > 300

    def f(self, a, /, b, *rest, c=1, **kw): ...  # noqa: ANN001, ANN002, ANN003, ANN202

    @functools.wraps(f)
    def wrapped(*args, **kwargs): ...  # noqa: ANN002, ANN003, ANN202

    class K:
        def m(self, x, y): ...  # noqa: ANN001, ANN202

    for fn in (f, wrapped, functools.partial(f, 1), K().m, K.m):
        assert _arity(fn) == by_inspect(fn)
    assert _arity(f) == ["a", "b"]


def test_handler_names_follow_handlers_added_after_the_class() -> None:
    """handler_names is kept per class, but a handler set on the class later (stm32/dma.py does) is seen."""
    from simcore.registers import handler_names

    class M(RegisterBlock):
        REGISTERS = (Register("CTRL", 0),)

        def read_CTRL(self) -> int:
            return 1

    assert handler_names(M) == {"read_CTRL"}
    M.write_CTRL = lambda self, value: None  # type: ignore[attr-defined]
    assert handler_names(M) == {"read_CTRL", "write_CTRL"}
