"""The watched instructions (codescan) found in a block's code, and the block flags that point at them."""

from __future__ import annotations

from pathlib import Path

import capstone
from unicorn import arm_const as R

from simcore.api import prepare
from simcore.blocks import DIV, MASK, MULTI, SEV
from simcore.cortexm.codescan import base_mnemonic, classify, watched_in
from simcore.elf import load_elf

BIN = Path(__file__).resolve().parents[2] / "firmware" / "bin" / "cortex-m4"
MD = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
MD.detail = True


def _function(app: str, prefix: str) -> tuple[int, bytes]:
    fw = load_elf(BIN / f"{app}.elf")
    sym = next(s for s in fw.symbols if s.kind == "func" and s.name.startswith(prefix))
    data = fw.read_loaded(sym.addr, sym.size)
    assert data is not None
    return sym.addr, bytes(data)


def test_finds_the_divide_and_its_divisor_register() -> None:
    addr, code = _function("faults", "divide")
    (w,) = [w for w in watched_in(code, addr) if w.kind == "div"]
    assert w.text.startswith("sdiv")
    assert w.reg in (R.UC_ARM_REG_R0, R.UC_ARM_REG_R1)  # the operand the compiler chose
    assert w.text.split(",")[-1].strip() in ("r0", "r1")


def test_finds_ldm_with_a_non_sp_base_but_not_push_pop() -> None:
    addr, code = _function("faults", "unaligned_ldm")
    multi = [w for w in watched_in(code, addr) if w.kind == "multi"]
    assert [w.text.split()[0] for w in multi] == ["ldm"]
    assert multi[0].offset == 0
    assert not [w for w in watched_in(code, addr) if w.text.startswith(("push", "pop"))]


def test_finds_interrupt_mask_changes() -> None:
    fw = load_elf(BIN / "nested.elf")
    texts = []
    for sym in (s for s in fw.symbols if s.kind == "func" and s.size):
        data = fw.read_loaded(sym.addr, sym.size)
        texts += [w.text for w in watched_in(bytes(data or b""), sym.addr) if w.kind == "mask"]
    assert any(t.startswith("cpsie") for t in texts)
    assert any(t.startswith("msr") and "basepri" in t for t in texts)


def test_it_conditional_accesses_are_watched_too() -> None:
    """``strne r3, [r4, r2]`` in an IT block may execute: it is a watched access (its condition may pass)."""
    code = bytes.fromhex("18bf" "a350")  # it ne; strne r3, [r4, r2]
    insns = list(MD.disasm(code, 0x1000))
    assert [base_mnemonic(i) for i in insns] == ["it", "str"]
    w = classify(insns[1])
    assert w is not None and w.kind == "access" and w.index == R.UC_ARM_REG_R2


def test_block_flags_point_at_the_watched_blocks() -> None:
    """The hot path's analysis flags exactly the blocks holding a divide, an LDM/STM/LDRD/STRD, a mask change."""
    m = prepare(BIN / "faults.elf", "cortex-m4")
    addr, code = _function("faults", "divide")
    _n, _cycles, flags = m.hot.costs(addr, len(code))
    assert flags & DIV and not flags & MASK
    addr, code = _function("faults", "unaligned_ldm")
    assert m.hot.costs(addr, len(code))[2] & MULTI
    m = prepare(BIN / "nested.elf", "cortex-m4")
    fw = m.fw
    masked = [s for s in fw.symbols if s.kind == "func" and s.size and
              any(w.kind == "mask" for w in watched_in(bytes(fw.read_loaded(s.addr, s.size) or b""), s.addr))]
    assert masked
    for sym in masked:
        assert m.hot.costs(sym.addr, sym.size)[2] & MASK, sym.name
    assert not m.hot.costs(masked[0].addr, 2)[2] & SEV
