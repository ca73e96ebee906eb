"""The code scan finds the instructions Unicorn does not trap, and only real code."""

from __future__ import annotations

from pathlib import Path

from unicorn import arm_const as R

from simcore.cortexm.codescan import scan
from simcore.elf import load_elf

BIN = Path(__file__).resolve().parents[2] / "firmware" / "bin" / "cortex-m4"


def _by_function(app: str, kind: str) -> dict[str, list]:  # type: ignore[type-arg]
    fw = load_elf(BIN / f"{app}.elf")
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for w in scan(fw):
        if w.kind == kind:
            sym = fw.function_at(w.addr)
            out.setdefault(sym.name if sym else hex(w.addr), []).append(w)
    return out


def test_finds_the_divide_and_its_divisor_register() -> None:
    divs = _by_function("faults", "div")
    (w,) = [w for name, ws in divs.items() if name.startswith("divide") for w in ws]
    assert w.text.startswith("sdiv")
    assert w.reg == R.UC_ARM_REG_R1 or w.reg == R.UC_ARM_REG_R0  # the operand the compiler chose
    assert w.text.split(",")[-1].strip() in ("r0", "r1")


def test_finds_ldm_with_a_non_sp_base_but_not_push_pop() -> None:
    multi = _by_function("faults", "multi")
    (w,) = [w for name, ws in multi.items() if name.startswith("unaligned_ldm") for w in ws]
    assert w.text.startswith("ldm") and w.offset == 0
    assert all("sp" not in w.text.split(",")[0] for ws in multi.values() for w in ws)


def test_finds_interrupt_mask_changes() -> None:
    masks = _by_function("nested", "mask")
    texts = [w.text for ws in masks.values() for w in ws]
    assert any(t.startswith("cpsie") for t in texts)
    assert any(t.startswith("msr") and "basepri" in t for t in texts)


def test_literal_pools_are_not_decoded_as_code() -> None:
    fw = load_elf(BIN / "faults.elf")
    marks = fw.mapping
    pools = [(a, marks[i + 1][0] if i + 1 < len(marks) else a + 4) for i, (a, kind) in enumerate(marks) if kind == "d"]
    assert pools  # the ELF has $d mapping symbols (literal pools, the vector table)
    watched = scan(fw)
    assert len(watched) > 50
    assert not [w for w in watched for lo, hi in pools if lo <= w.addr < hi]
