"""simcore.dwarf: globals and function signatures from DWARF, values to and from bytes."""

from __future__ import annotations

import struct

import pytest

from simcore import dwarf
from tests.conftest import elf


@pytest.fixture(scope="module")
def info() -> dwarf.DebugInfo:
    return dwarf.load(elf("cortex-m4", "dut_demo"))


def test_variables_have_addresses_and_types(info):
    from simcore.elf import load_elf

    fw = load_elf(elf("cortex-m4", "dut_demo"))
    for name in ("counter", "cfg", "matrix", "path", "ticks"):
        assert info.variable(name).address == fw.symbol(name).addr  # DWARF agrees with the symbol table
    assert info.variable("counter").type.kind == "int" and info.variable("counter").type.signed
    cfg = info.variable("cfg").type
    assert cfg.kind == "struct" and [m.name for m in cfg.members] == ["id", "enabled", "gain", "origin", "name"]
    assert cfg.member("origin").offset == 8 and cfg.member("origin").type.size == 4
    matrix = info.variable("matrix").type
    assert matrix.name == "int16_t[2][3]" and matrix.count == 2 and matrix.element.count == 3
    assert info.variable("greeting").type.kind == "pointer"
    assert info.variable("mode").type.enumerators == {"MODE_REPORT": 0, "MODE_SPIN": 1, "MODE_ECHO": 2}


def test_functions_have_parameter_and_return_types(info):
    mix = info.function("mix")
    assert [(n, t.kind, t.size) for n, t in mix.params] == [("a", "float", 8), ("b", "float", 4), ("c", "int", 4)]
    assert mix.returns.kind == "float" and mix.returns.size == 8
    assert info.function("fill").returns is dwarf.VOID
    assert info.function("checksum").params[0][1].element.size == 1


def test_decode_and_encode_round_trip(info):
    cfg = info.variable("cfg").type
    raw = struct.pack("<B?xxfhh8s", 3, True, 0.75, -1, 2, b"ab")
    value = dwarf.decode(cfg, raw)
    assert value == {"id": 3, "enabled": True, "gain": 0.75, "origin": {"x": -1, "y": 2}, "name": b"ab" + bytes(6)}
    matrix = info.variable("matrix").type
    assert dwarf.decode(matrix, dwarf.encode(matrix, [[1, -2, 3], [4, 5, -6]])) == [[1, -2, 3], [4, 5, -6]]
    counter = info.variable("counter").type
    assert dwarf.encode(counter, -1) == b"\xff\xff\xff\xff"
    with pytest.raises(ValueError):
        dwarf.encode(counter, 1 << 32)
    with pytest.raises(ValueError, match="not an enumerator"):
        dwarf.encode(info.variable("mode").type, "MODE_NONE")


def test_bit_fields():
    u8 = dwarf.CType("int", "unsigned int", 4)
    s = dwarf.CType("struct", "struct flags", 4, members=[
        dwarf.Member("a", 0, u8, bit_size=3, bit_offset=0),
        dwarf.Member("b", 0, dwarf.CType("int", "int", 4, signed=True), bit_size=4, bit_offset=3)])
    assert dwarf.decode(s, (0b1111_101).to_bytes(4, "little")) == {"a": 5, "b": -1}


def test_elf_without_dwarf_says_so():
    info = dwarf.load(elf("mps2-an386", "rdimon_hello"))  # linked with --strip-debug
    assert not info.has_dwarf
    with pytest.raises(KeyError, match="no DWARF"):
        info.variable("x")
