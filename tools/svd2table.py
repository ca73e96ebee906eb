#!/usr/bin/env python3
"""Convert a vendor CMSIS-SVD file into simcore's compact register table (facts only).

    python tools/svd2table.py STM32F407.svd --part stm32f407vg --origin "..." > simcore/data/svd/stm32f407vg.json

The SVD itself is never committed: the table keeps every peripheral, register and field
with offset, width, reset value and access, interrupts with their numbers, and names the
source file (device name, version, SHA-256). ``derivedFrom`` (peripherals, registers,
clusters), ``dim`` arrays and the SVD's inherited register properties are resolved here;
peripherals with identical register lists share one ``layouts`` entry. Errata (a reset
value the reference manual contradicts) are applied from ``tools/svd_errata.toml`` and
listed in the table. The format is documented in docs/svd-tables.md.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "simcore-svd-table 1"
ACCESS = {"read-write": "rw", "read-only": "r", "write-only": "w", "writeOnce": "w1", "read-writeOnce": "rw1"}
MODIFIED = {"oneToClear": "w1c", "oneToSet": "w1s", "oneToToggle": "w1t", "zeroToClear": "w0c", "zeroToSet": "w0s",
            "zeroToToggle": "w0t", "clear": "wc", "set": "ws", "modify": ""}


def _int(text: str | None) -> int | None:
    """SVD scaled non-negative integers: 0x.., #binary, decimal (x as don't-care reads 0)."""
    if text is None:
        return None
    t = text.strip().lower()
    if t.startswith("#"):
        return int(t[1:].replace("x", "0"), 2)
    if t.startswith("0b"):
        return int(t[2:].replace("x", "0"), 2)
    if t.startswith(("0x", "0X")):
        return int(t, 16)
    return int(t, 10)  # the SVD schema: no prefix is decimal, leading zeros included


def _text(el: ET.Element, tag: str) -> str | None:
    child = el.find(tag)
    return child.text.strip() if child is not None and child.text is not None else None


@dataclass
class Props:
    """The SVD's inherited register properties (registerPropertiesGroup)."""

    size: int = 32
    access: str = "rw"
    reset: int = 0
    reset_mask: int = 0xFFFFFFFF

    def merged(self, el: ET.Element) -> Props:
        p = copy.copy(self)
        if (v := _int(_text(el, "size"))) is not None:
            p.size = v
        if (a := _text(el, "access")) is not None:
            p.access = ACCESS[a]
        if (v := _int(_text(el, "resetValue"))) is not None:
            p.reset = v
        if (v := _int(_text(el, "resetMask"))) is not None:
            p.reset_mask = v
        return p


@dataclass
class Field:
    name: str
    lsb: int
    width: int
    access: str
    write: str = ""  # modifiedWriteValues code (w1c, ...), "" for a plain write
    read: str = ""  # readAction: "clear", "set", "modify", "modifyExternal"

    def row(self) -> list[Any]:
        row: list[Any] = [self.name, self.lsb, self.width, self.access]
        if self.write or self.read:
            row.append(self.write)
        if self.read:
            row.append(self.read)
        return row


@dataclass
class Register:
    name: str
    offset: int
    size: int
    access: str
    reset: int
    fields: list[Field] = field(default_factory=list)
    alternate: str = ""  # alternateRegister: another view of the same storage

    def row(self) -> list[Any]:
        row: list[Any] = [self.name, self.offset, self.size, self.access, self.reset,
                          [f.row() for f in sorted(self.fields, key=lambda f: f.lsb)]]
        if self.alternate:
            row.append(self.alternate)
        return row


def _dim_names(el: ET.Element, name: str) -> list[tuple[str, int]]:
    """(name, index) per element of a dim array; a single (name, 0) without dim."""
    dim = _int(_text(el, "dim"))
    if dim is None:
        return [(name, 0)]
    idx_text = _text(el, "dimIndex")
    if idx_text is None:
        indices = [str(i) for i in range(dim)]
    elif "-" in idx_text and "," not in idx_text:
        a, b = idx_text.split("-")
        if a.isdigit():
            indices = [str(i) for i in range(int(a), int(b) + 1)]
        else:
            indices = [chr(c) for c in range(ord(a), ord(b) + 1)]
    else:
        indices = [s.strip() for s in idx_text.split(",")]
    if len(indices) != dim:
        raise ValueError(f"{name}: dim {dim} but {len(indices)} indices")
    out = []
    for i, idx in enumerate(indices):
        if "[%s]" in name:
            out.append((name.replace("[%s]", f"[{idx}]"), i))
        else:
            out.append((name.replace("%s", idx), i))
    return out


class Converter:
    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.device_props = Props().merged(root)
        self.by_name = {(_text(p, "name") or ""): p for p in root.iter("peripheral")}

    # --- registers ------------------------------------------------------------------------
    def _fields(self, reg_el: ET.Element, reg_access: str) -> list[Field]:
        out = []
        fields_el = reg_el.find("fields")
        if fields_el is None:
            return out
        for f in fields_el.findall("field"):
            name = _text(f, "name") or "?"
            if (off := _int(_text(f, "bitOffset"))) is not None:
                lsb, width = off, _int(_text(f, "bitWidth")) or 1
            elif (lo := _int(_text(f, "lsb"))) is not None:
                lsb, width = lo, (_int(_text(f, "msb")) or lo) - lo + 1
            else:
                m = re.fullmatch(r"\[(\d+):(\d+)\]", (_text(f, "bitRange") or "").strip())
                if m is None:
                    raise ValueError(f"field {name}: no bit position")
                lsb, width = int(m.group(2)), int(m.group(1)) - int(m.group(2)) + 1
            access = ACCESS.get(_text(f, "access") or "", reg_access)
            write = MODIFIED.get(_text(f, "modifiedWriteValues") or "modify", "")
            read = _text(f, "readAction") or ""
            for fname, i in _dim_names(f, name):
                step = _int(_text(f, "dimIncrement")) or 0
                out.append(Field(fname, lsb + i * step, width, access, write, read))
        return out

    def _registers(self, parent: ET.Element, props: Props, base: int, prefix: str) -> list[Register]:
        out: list[Register] = []
        by_name: dict[str, ET.Element] = {}
        for el in parent:
            if el.tag not in ("register", "cluster"):
                continue
            name = _text(el, "name") or "?"
            by_name[name] = el
            src = el
            if (d := el.get("derivedFrom")) is not None and d in by_name:
                src = copy.deepcopy(by_name[d])
                for child in el:  # the derived element's own values win
                    old = src.find(child.tag)
                    if old is not None:
                        src.remove(old)
                    src.append(child)
            p = props.merged(src)
            offset = _int(_text(src, "addressOffset")) or 0
            step = _int(_text(src, "dimIncrement")) or 0
            for ename, i in _dim_names(src, name):
                off = base + offset + i * step
                if el.tag == "cluster":
                    out += self._registers(src, p, off, f"{prefix}{ename}.")
                else:
                    reg = Register(prefix + ename, off, p.size, p.access, p.reset & p.reset_mask & _mask(p.size),
                                   self._fields(src, p.access), _text(src, "alternateRegister") or "")
                    if (alt_group := _text(src, "alternateGroup")) is not None:
                        reg.name = f"{prefix}{ename}_{alt_group}" if not ename.endswith(alt_group) else reg.name
                    out.append(reg)
        return out

    # --- peripherals ----------------------------------------------------------------------------
    def peripherals(self) -> list[dict[str, Any]]:
        out = []
        for p in self.root.iter("peripheral"):
            name = _text(p, "name") or "?"
            src = p
            if (d := p.get("derivedFrom")) is not None:
                base_el = self.by_name[d]
                src = copy.deepcopy(base_el)
                for child in p:
                    if child.tag == "interrupt":
                        continue
                    old = src.find(child.tag)
                    if old is not None:
                        src.remove(old)
                    src.append(child)
                for irq in src.findall("interrupt"):  # interrupts are the derived peripheral's own
                    src.remove(irq)
            props = self.device_props.merged(src)
            regs_el = src.find("registers")
            regs = self._registers(regs_el, props, 0, "") if regs_el is not None else []
            size = 0
            for blk in src.findall("addressBlock"):
                size = max(size, (_int(_text(blk, "offset")) or 0) + (_int(_text(blk, "size")) or 0))
            irqs = sorted({(_text(i, "name") or "?", _int(_text(i, "value")) or 0) for i in p.findall("interrupt")},
                          key=lambda x: (x[1], x[0]))
            out.append({
                "name": name,
                "base": _int(_text(p, "baseAddress")) or 0,
                "size": size,
                "group": _text(src, "groupName") or "",
                "description": " ".join((_text(src, "description") or "").split()),
                "interrupts": [list(i) for i in irqs],
                "registers": regs,
                "derived_from": p.get("derivedFrom") or "",
            })
        return out


def _mask(bits: int) -> int:
    return (1 << bits) - 1


def _apply_errata(periphs: list[dict[str, Any]], errata: list[dict[str, Any]]) -> list[dict[str, Any]]:
    applied = []
    by_name = {p["name"]: p for p in periphs}
    for e in errata:
        names = e["peripheral"] if isinstance(e["peripheral"], list) else [e["peripheral"]]
        for name in names:
            p = by_name.get(name)
            if e.get("remove"):
                if p is None:
                    raise SystemExit(f"errata: no peripheral {name} to remove")
                periphs.remove(p)
                applied.append({"peripheral": name, "removed": True, "why": e["why"]})
                continue
            reg = next((r for r in p["registers"] if r.name == e["register"]), None) if p else None
            if reg is None:
                raise SystemExit(f"errata: {name}.{e['register']} is not in the SVD")
            old = reg.reset
            reg.reset = int(e["reset"])
            applied.append({"register": f"{name}.{e['register']}", "svd_reset": old, "reset": reg.reset,
                            "why": e["why"]})
    return applied


def convert(svd: Path, part: str, origin: str, errata: list[dict[str, Any]]) -> dict[str, Any]:
    data = svd.read_bytes()
    root = ET.fromstring(data)
    conv = Converter(root)
    periphs = conv.peripherals()
    applied = _apply_errata(periphs, errata)  # may remove peripherals the part does not have
    layouts: dict[str, list[Any]] = {}
    key_to_layout: dict[str, str] = {}
    out_periphs = []
    for p in sorted(periphs, key=lambda p: (p["base"], p["name"])):
        rows = [r.row() for r in sorted(p["registers"], key=lambda r: (r.offset, r.name))]
        key = json.dumps(rows)
        layout = key_to_layout.get(key)
        if layout is None:
            layout = p["name"]
            key_to_layout[key] = layout
            layouts[layout] = rows
        out_periphs.append({"name": p["name"], "base": p["base"], "size": p["size"], "group": p["group"],
                            "layout": layout, "interrupts": p["interrupts"], "description": p["description"]})
    cpu = root.find("cpu")
    return {
        "format": FORMAT,
        "part": part,
        "source": {
            "file": svd.name,
            "device": _text(root, "name"),
            "version": _text(root, "version"),
            "vendor": _text(root, "vendor") or "",
            "sha256": hashlib.sha256(data).hexdigest(),
            "origin": origin,
            "converted_by": "tools/svd2table.py",
        },
        "cpu": {} if cpu is None else {
            "name": _text(cpu, "name"), "mpu": _text(cpu, "mpuPresent") == "true",
            "fpu": _text(cpu, "fpuPresent") == "true", "nvic_prio_bits": _int(_text(cpu, "nvicPrioBits")),
        },
        "errata": applied,
        "peripherals": out_periphs,
        "layouts": layouts,
    }


def dump(table: dict[str, Any]) -> str:
    """JSON with one peripheral or register per line: compact, diffable, greppable."""
    lines = ["{"]
    for key in ("format", "part", "source", "cpu", "errata"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(table[key], separators=(',', ':'))},")
    lines.append('  "peripherals": [')
    ps = table["peripherals"]
    for i, p in enumerate(ps):
        lines.append("    " + json.dumps(p, separators=(",", ":")) + ("," if i < len(ps) - 1 else ""))
    lines.append("  ],")
    lines.append('  "layouts": {')
    items = list(table["layouts"].items())
    for i, (name, rows) in enumerate(items):
        lines.append(f"    {json.dumps(name)}: [")
        for j, row in enumerate(rows):
            lines.append("      " + json.dumps(row, separators=(",", ":")) + ("," if j < len(rows) - 1 else ""))
        lines.append("    ]" + ("," if i < len(items) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("svd", type=Path, nargs="?", help="one SVD file (with --part)")
    ap.add_argument("--part", help="simcore part name (the table's file name)")
    ap.add_argument("--origin", default="", help="where the SVD file came from (pack, version)")
    ap.add_argument("--all", type=Path, metavar="DIR",
                    help="regenerate every table of tools/svd_sources.toml from the SVD files in DIR")
    ap.add_argument("-o", "--output", type=Path)
    args = ap.parse_args(argv)
    here = Path(__file__).parent
    errata = tomllib.loads((here / "svd_errata.toml").read_text())
    if args.all is not None:
        out_dir = here.parent / "simcore" / "data" / "svd"
        for part, src in tomllib.loads((here / "svd_sources.toml").read_text()).items():
            svd = args.all / src["file"]
            digest = hashlib.sha256(svd.read_bytes()).hexdigest()
            if digest != src["sha256"]:
                raise SystemExit(f"{svd}: SHA-256 {digest} is not the one tools/svd_sources.toml names")
            (out_dir / f"{part}.json").write_text(dump(convert(svd, part, src["origin"], errata.get(part, []))))
            print(f"{part}: {svd.name}", file=sys.stderr)
        return 0
    if args.svd is None or args.part is None:
        ap.error("give an SVD file and --part, or --all DIR")
    text = dump(convert(args.svd, args.part, args.origin, errata.get(args.part, [])))
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
