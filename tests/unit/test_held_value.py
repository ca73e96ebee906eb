"""HeldValue (simcore/peripherals/held.py): a model attribute whose assignments go to its HeldRead, read without a
call."""

from __future__ import annotations

from typing import Any

from simcore.peripherals.held import HeldValue

ADDR = 0x2


class _Held:
    """HeldRead's put, recorded."""

    def __init__(self) -> None:
        self.puts: list[tuple[int, bool]] = []

    def put(self, value: int, in_c: bool = True) -> None:
        self.puts.append((value, in_c))


class _Model:
    sr1 = HeldValue("_sr1_held", py_bits=ADDR)
    isr = HeldValue("_isr_held")

    def __init__(self) -> None:
        self._sr1_held = _Held()
        self._isr_held = _Held()


def test_every_assignment_is_put_with_reads_given_back_while_a_py_bit_is_set() -> None:
    m: Any = _Model()
    m.sr1 = 0x80
    m.sr1 = 0x80 | ADDR
    m.sr1 = 0x84
    m.isr = 0xFFFF
    assert (m.sr1, m.isr) == (0x84, 0xFFFF)
    assert m._sr1_held.puts == [(0x80, True), (0x82, False), (0x84, True)]
    assert m._isr_held.puts == [(0xFFFF, True)]


def test_a_read_calls_nothing() -> None:
    """Only __set__ is defined: the value is the instance's own (a property's getter would be a call per read)."""
    m: Any = _Model()
    m.isr = 5
    assert vars(m)["isr"] == 5 and not hasattr(HeldValue, "__get__")
