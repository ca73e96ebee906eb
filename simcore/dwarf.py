"""Typed globals and function signatures from an ELF's DWARF (DWARF 2-5 through pyelftools).

What the test API needs to read and write firmware variables by name and to call C functions:
each global variable with a fixed address (``DW_OP_addr``) and its type, and each function's
parameter and return types. Types are reduced to what decides the bytes: integers (size,
signedness), floats, bool, enums, pointers, arrays (multi-dimensional), structs and unions
(member offsets, bit-fields). typedef/const/volatile are looked through (their name is kept).

``decode(ctype, data)`` turns bytes into Python values (int, float, bool, list, dict; char
arrays give bytes) and ``encode(ctype, value)`` back; dicts and lists may be partial when
written through :class:`simcore.target.Var`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from simcore.errors import BadInputError

# DW_ATE_* base type encodings (DWARF 5, section 5.1.1, table 5.2)
_ATE_BOOLEAN, _ATE_FLOAT, _ATE_SIGNED, _ATE_SIGNED_CHAR, _ATE_UNSIGNED, _ATE_UNSIGNED_CHAR = 2, 4, 5, 6, 8, 8
_ATE_UTF = 0x10
DW_OP_ADDR, DW_OP_PLUS_UCONST = 0x03, 0x23
_STRIP = {"DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type", "DW_TAG_restrict_type",
          "DW_TAG_atomic_type", "DW_TAG_immutable_type"}


@dataclass
class Member:
    name: str
    offset: int
    type: CType
    bit_size: int | None = None  # bit-fields: width and offset in bits from the member's byte offset
    bit_offset: int = 0


@dataclass
class CType:
    """A C type as far as its bytes go: ``kind`` is int, float, bool, enum, pointer, array, struct, union or void."""

    kind: str
    name: str
    size: int
    signed: bool = False
    element: CType | None = None  # arrays: element type; pointers: target type (None for void *)
    count: int = 0  # arrays: number of elements (0 if unknown)
    members: list[Member] = field(default_factory=list)
    enumerators: dict[str, int] = field(default_factory=dict)

    @property
    def is_char_array(self) -> bool:
        e = self.element
        return self.kind == "array" and e is not None and e.kind == "int" and e.size == 1 and "char" in e.name

    def member(self, name: str) -> Member:
        for m in self.members:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.members) or "none"
        raise KeyError(f"{self.name} has no member {name!r} (members: {known})")

    def __repr__(self) -> str:
        return f"CType({self.kind} {self.name!r}, {self.size} bytes)"


VOID = CType("void", "void", 0)


@dataclass
class Variable:
    name: str
    address: int
    type: CType
    file: str = ""


@dataclass
class Function:
    name: str
    address: int
    params: list[tuple[str, CType]]
    returns: CType  # VOID for void functions
    variadic: bool = False


@dataclass
class DebugInfo:
    variables: dict[str, Variable]
    functions: dict[str, Function]
    has_dwarf: bool

    def variable(self, name: str) -> Variable:
        var = self.variables.get(name)
        if var is None:
            raise KeyError(_unknown("global variable", name, self.variables, self.has_dwarf))
        return var

    def function(self, name: str) -> Function | None:
        return self.functions.get(name)


def _unknown(what: str, name: str, known: dict[str, Any], has_dwarf: bool) -> str:
    if not has_dwarf:
        return f"no {what} {name!r}: the ELF has no DWARF debug info (build with -g)"
    near = [k for k in known if name.lower() in k.lower()][:8]
    return f"no {what} {name!r} with a fixed address in the DWARF info" + (
        f" (similar: {', '.join(near)})" if near else "")


def load(path: str | Path) -> DebugInfo:
    p = Path(path).resolve()
    st = p.stat()
    return _load(str(p), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _load(path: str, _mtime: int, _size: int) -> DebugInfo:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf.get_section_by_name(".debug_info") is None:  # has_dwarf_info() also counts .eh_frame
                return DebugInfo({}, {}, False)
            return _Parser(elf.get_dwarf_info()).run()
    except (ELFError, OSError, ValueError, KeyError) as exc:
        raise BadInputError(f"{path}: cannot read its DWARF debug info ({exc})") from exc


class _Parser:
    def __init__(self, dwarf: Any) -> None:
        self.dwarf = dwarf
        self.types: dict[int, CType] = {}

    def run(self) -> DebugInfo:
        variables: dict[str, Variable] = {}
        functions: dict[str, Function] = {}
        for cu in self.dwarf.iter_CUs():
            top = cu.get_top_DIE()
            fname = _str(top.attributes.get("DW_AT_name"))
            for die in top.iter_children():
                if die.tag == "DW_TAG_variable":
                    var = self._variable(die, fname)
                    if var is not None and var.name not in variables:
                        variables[var.name] = var
                elif die.tag == "DW_TAG_subprogram":
                    fn = self._function(die)
                    if fn is not None and fn.name not in functions:
                        functions[fn.name] = fn
        return DebugInfo(variables, functions, True)

    def _variable(self, die: Any, fname: str) -> Variable | None:
        loc = die.attributes.get("DW_AT_location")
        if loc is None or not isinstance(loc.value, list) or len(loc.value) != 5 or loc.value[0] != DW_OP_ADDR:
            return None
        addr = int.from_bytes(bytes(loc.value[1:5]), "little")
        decl = die
        for ref in ("DW_AT_specification", "DW_AT_abstract_origin"):
            if ref in die.attributes:
                decl = die.get_DIE_from_attribute(ref)
        name = _str(decl.attributes.get("DW_AT_name"))
        if not name or "DW_AT_type" not in decl.attributes:
            return None
        return Variable(name, addr, self.type_of(decl), fname)

    def _function(self, die: Any) -> Function | None:
        low = die.attributes.get("DW_AT_low_pc")
        if low is None:
            return None
        decl = die
        for ref in ("DW_AT_specification", "DW_AT_abstract_origin"):
            if ref in die.attributes:
                decl = die.get_DIE_from_attribute(ref)
        name = _str(decl.attributes.get("DW_AT_name"))
        if not name:
            return None
        params: list[tuple[str, CType]] = []
        variadic = False
        for child in decl.iter_children():
            if child.tag == "DW_TAG_formal_parameter":
                params.append((_str(child.attributes.get("DW_AT_name")) or f"arg{len(params)}", self.type_of(child)))
            elif child.tag == "DW_TAG_unspecified_parameters":
                variadic = True
        returns = self.type_of(decl) if "DW_AT_type" in decl.attributes else VOID
        return Function(name, low.value & ~1, params, returns, variadic)

    def type_of(self, die: Any) -> CType:
        if "DW_AT_type" not in die.attributes:
            return VOID
        return self._type(die.get_DIE_from_attribute("DW_AT_type"))

    def _type(self, die: Any) -> CType:
        known = self.types.get(die.offset)
        if known is not None:
            return known
        tag = die.tag
        attrs = die.attributes
        name = _str(attrs.get("DW_AT_name"))
        size = attrs["DW_AT_byte_size"].value if "DW_AT_byte_size" in attrs else 0
        if tag in _STRIP:
            inner = self.type_of(die)
            if tag == "DW_TAG_typedef" and name:
                t = CType(**{**inner.__dict__, "name": name})
            else:
                t = inner
            self.types[die.offset] = t
            return t
        if tag == "DW_TAG_base_type":
            enc = attrs["DW_AT_encoding"].value
            kind = "float" if enc == _ATE_FLOAT else "bool" if enc == _ATE_BOOLEAN else "int"
            t = CType(kind, name, size, signed=enc in (_ATE_SIGNED, _ATE_SIGNED_CHAR))
        elif tag == "DW_TAG_pointer_type" or tag == "DW_TAG_reference_type":
            t = CType("pointer", "", size or 4)
            self.types[die.offset] = t  # before the target: self-referencing structs
            t.element = self.type_of(die) if "DW_AT_type" in attrs else None
            t.name = f"{t.element.name if t.element else 'void'} *"
            return t
        elif tag == "DW_TAG_enumeration_type":
            base = self.type_of(die) if "DW_AT_type" in attrs else None
            t = CType("enum", name or "enum", size, signed=bool(base and base.signed))
            for child in die.iter_children():
                if child.tag == "DW_TAG_enumerator":
                    t.enumerators[_str(child.attributes["DW_AT_name"])] = child.attributes["DW_AT_const_value"].value
            if base is None:
                t.signed = any(v < 0 for v in t.enumerators.values())
        elif tag == "DW_TAG_array_type":
            element = self.type_of(die)
            dims = []
            for child in die.iter_children():
                if child.tag == "DW_TAG_subrange_type":
                    a = child.attributes
                    if "DW_AT_count" in a:
                        dims.append(a["DW_AT_count"].value)
                    elif "DW_AT_upper_bound" in a:
                        dims.append(a["DW_AT_upper_bound"].value + 1)
                    else:
                        dims.append(0)
            dims = dims or [0]
            t = element
            for i in range(len(dims) - 1, -1, -1):  # innermost first: int16_t[2][3] is 2 x int16_t[3]
                name = element.name + "".join(f"[{n}]" for n in dims[i:])
                t = CType("array", name, dims[i] * t.size, element=t, count=dims[i])
        elif tag in ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_class_type"):
            kind = "union" if tag == "DW_TAG_union_type" else "struct"
            t = CType(kind, f"{kind} {name}" if name else kind, size)
            self.types[die.offset] = t
            for child in die.iter_children():
                if child.tag != "DW_TAG_member":
                    continue
                a = child.attributes
                off = 0
                if "DW_AT_data_member_location" in a:
                    v = a["DW_AT_data_member_location"].value
                    if isinstance(v, list):  # DWARF 2: an expression, DW_OP_plus_uconst N
                        off = v[1] if v and v[0] == DW_OP_PLUS_UCONST else 0
                    else:
                        off = int(v)
                mtype = self.type_of(child)
                bits = a["DW_AT_bit_size"].value if "DW_AT_bit_size" in a else None
                bit_off = 0
                if bits is not None and "DW_AT_data_bit_offset" in a:
                    total = a["DW_AT_data_bit_offset"].value  # bits from the start of the struct
                    unit = max(mtype.size, 1)
                    off = total // (8 * unit) * unit
                    bit_off = total - 8 * off
                elif bits is not None and "DW_AT_bit_offset" in a:  # DWARF 2/3, big-endian numbering
                    bit_off = mtype.size * 8 - a["DW_AT_bit_offset"].value - bits
                t.members.append(Member(_str(a.get("DW_AT_name")) or f"_{len(t.members)}", off, mtype, bits, bit_off))
            return t
        elif tag == "DW_TAG_subroutine_type":
            t = CType("function", name or "function", 0)
        else:
            t = CType("void", name or tag, size)
        self.types[die.offset] = t
        return t


def _str(attr: Any) -> str:
    if attr is None:
        return ""
    v = attr.value
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


_FLOAT_FMT = {4: "<f", 8: "<d"}


def decode(t: CType, data: bytes) -> Any:
    """Bytes (little-endian, ``t.size`` long) to a Python value."""
    if t.kind in ("int", "enum", "pointer"):
        return int.from_bytes(data[: t.size], "little", signed=t.signed and t.kind != "pointer")
    if t.kind == "bool":
        return bool(int.from_bytes(data[: t.size], "little"))
    if t.kind == "float":
        return struct.unpack(_FLOAT_FMT[t.size], data[: t.size])[0]
    if t.kind == "array":
        assert t.element is not None
        if t.is_char_array:
            return bytes(data[: t.size])
        es = t.element.size
        return [decode(t.element, data[i * es:(i + 1) * es]) for i in range(t.count)]
    if t.kind in ("struct", "union"):
        return {m.name: member_value(m, data) for m in t.members}
    raise TypeError(f"cannot decode a value of type {t.name} ({t.kind})")


def member_value(m: Member, data: bytes) -> Any:
    raw = data[m.offset:m.offset + m.type.size]
    if m.bit_size is None:
        return decode(m.type, raw)
    word = int.from_bytes(raw, "little") >> m.bit_offset & ((1 << m.bit_size) - 1)
    if m.type.signed and word >> (m.bit_size - 1):
        word -= 1 << m.bit_size
    return bool(word) if m.type.kind == "bool" else word


def encode(t: CType, value: Any) -> bytes:
    """A Python value to ``t.size`` bytes (whole values: use Var for partial struct/array writes)."""
    if t.kind in ("int", "enum", "pointer", "bool"):
        if t.kind == "enum" and isinstance(value, str):
            if value not in t.enumerators:
                raise ValueError(f"{value!r} is not an enumerator of {t.name} ({', '.join(t.enumerators)})")
            value = t.enumerators[value]
        v = int(value)
        bits = 8 * t.size
        lo, hi = (-(1 << (bits - 1)), (1 << bits) - 1) if t.signed or v < 0 else (0, (1 << bits) - 1)
        if not lo <= v <= hi:
            raise ValueError(f"{value!r} does not fit {t.name} ({t.size} bytes)")
        return (v & ((1 << bits) - 1)).to_bytes(t.size, "little")
    if t.kind == "float":
        return struct.pack(_FLOAT_FMT[t.size], float(value))
    if t.kind == "array":
        assert t.element is not None
        if t.is_char_array and isinstance(value, str | bytes):
            raw = value.encode() if isinstance(value, str) else value
            if len(raw) > t.size:
                raise ValueError(f"{len(raw)} bytes do not fit {t.name}")
            return raw + bytes(t.size - len(raw))
        items = list(value)
        if len(items) != t.count:
            raise ValueError(f"{t.name} has {t.count} elements, got {len(items)}")
        return b"".join(encode(t.element, v) for v in items)
    raise TypeError(f"cannot encode a whole {t.name} ({t.kind}); write its members")
