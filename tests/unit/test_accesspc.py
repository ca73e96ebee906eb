"""simcore.accesspc finds the instruction of an access: checked against Unicorn executing each load and store.

For every load/store instruction of a few committed ELFs (integer and FP, immediate, register-offset,
PC-relative, writeback, multiple), the instruction runs alone on a Unicorn with random register values,
whose memory hook gives the first address it touches; ``instruction_of_access`` on a block of a NOP and
that instruction must name the instruction (the span computed from the text or from capstone's operand details
covers the address Unicorn accessed).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import unicorn
from unicorn import arm_const as R

from simcore.accesspc import LOADS, STORES, _decode, instruction_of_access
from simcore.elf import Firmware, load_elf

ROOT = Path(__file__).resolve().parents[2]
ELFS = ["cortex-m4/fpu", "cortex-m4/bench_nn", "stm32f407vg/svd_probe", "nrf52840/nrf_twim"]
REGS = [getattr(R, f"UC_ARM_REG_R{i}") for i in range(13)] + [R.UC_ARM_REG_LR]


def _memory_instructions(fw: Firmware, limit: int) -> list[tuple[int, int, str]]:
    text = next(s for s in fw.sections if s.name == ".text")
    code = fw.read_loaded(text.lma, text.size)
    assert code is not None
    out = []
    for address, size, mnemonic, _ops in _decode(code, text.vma):
        m = mnemonic.split(".")[0]
        if m.startswith(LOADS + STORES) and not m.startswith(("push", "pop", "vpush", "vpop")):
            out.append((address, size, mnemonic))
    random.Random(7).shuffle(out)
    return out[:limit]


def _record(_uc: unicorn.Uc, kind: int, addr: int, _size: int, _value: int, seen: list[tuple[int, bool]]) -> None:
    seen.append((addr, kind == unicorn.UC_MEM_WRITE))


@pytest.mark.parametrize("name", ELFS)
def test_the_instruction_found_is_the_one_unicorn_saw_access(name: str) -> None:
    fw = load_elf(ROOT / "firmware" / "bin" / f"{name}.elf")
    rng = random.Random(name)
    checked = 0
    for address, _size, mnemonic in _memory_instructions(fw, 300):
        uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(R.UC_CPU_ARM_CORTEX_M4)
        uc.mem_map(max((address & ~0xFFF) - 0x1000, 0), 0x3000)
        # the block: a NOP, then the instruction (not found would answer the block's start, the NOP)
        uc.mem_write(address - 2, b"\x00\xbf" + (fw.read_loaded(address, 4) or b"\0\0\0\0"))

        def on_unmapped(u: unicorn.Uc, _access: int, addr: int, _size: int, _value: int, _user: object) -> bool:
            u.mem_map(addr & ~0xFFF, 0x2000)
            return True

        seen: list[tuple[int, bool]] = []
        uc.hook_add(unicorn.UC_HOOK_MEM_UNMAPPED, on_unmapped)
        uc.hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, _record, seen)
        for r in REGS:  # bases in RAM or small indexes, at random
            uc.reg_write(r, rng.choice((0x20000000 + 4 * rng.randrange(0x4000), rng.randrange(16))))
        uc.reg_write(R.UC_ARM_REG_SP, 0x20008000 - 4 * rng.randrange(64))
        before = uc.context_save()
        try:
            uc.emu_start(address | 1, 0xFFFFFFFF, count=1)
        except unicorn.UcError:
            continue  # an access Unicorn refuses (the FPU off): nothing to compare
        if not seen:
            continue  # a conditional instruction that did not execute
        first, write = seen[0]
        uc.context_restore(before)  # the registers as the access found them (before any writeback)
        assert instruction_of_access(uc, address - 2, first, write) == address, (name, hex(address), mnemonic)
        checked += 1
    assert checked > 50


def test_decoding_again_gives_what_capstone_gives() -> None:
    """_decode keeps what it decoded per (bytes, address): a second pass (and a partial first one) yields capstone's
    own decode of the whole window."""
    import capstone

    fw = load_elf(ROOT / "firmware" / "bin" / "nrf52840" / "svd_probe.elf")
    text = next(s for s in fw.sections if s.name == ".text")
    code = fw.read_loaded(text.lma, 256)
    assert code is not None
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    expected = list(md.disasm_lite(code, text.vma))
    partial = _decode(code, text.vma + 0)
    first = [next(partial) for _ in range(3)]
    assert first == expected[:3]
    assert list(_decode(code, text.vma)) == expected == list(_decode(code, text.vma))


def test_push_before_a_store_needs_no_detailed_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack instruction is never the MMIO access (stack=False): it is passed over without capstone's details."""
    import simcore.accesspc as accesspc

    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.mem_map(0x1000, 0x1000)
    uc.mem_write(0x1000, bytes.fromhex("10b4" "4860" "7047"))  # push {r4}; str r0, [r1, #4]; bx lr
    uc.reg_write(R.UC_ARM_REG_R1, 0x40002000)

    def no_details() -> None:
        raise AssertionError("a detailed decode")
    monkeypatch.setattr(accesspc, "disassembler", no_details)
    assert instruction_of_access(uc, 0x1000, 0x40002004, True) == 0x1002
