"""The cycle count's error bar (simcore.timing_error): per-block counts on hand-encoded code and the run's sum."""

from __future__ import annotations

import capstone

from simcore.cycles import FlashConfig
from simcore.timing_error import BlockUncertainty, LoadProbe, block_uncertainty, flash_words, run_error_bar

MD = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
MD.detail = True

# arm-none-eabi-as, in objdump's halfword order
BLOCK = [
    "f8d1 2004",  # ldr.w r2, [r1, #4]
    "f8d1 3008",  # ldr.w r3, [r1, #8]
    "f8d1 400c",  # ldr.w r4, [r1, #12]
    "460d",  # mov r5, r1
    "692e",  # ldr r6, [r5, #16]      r5 = r1: an entry register + 16
    "3508",  # adds r5, #8
    "682f",  # ldr r7, [r5]           r1 + 8
    "6810",  # ldr r0, [r2]           r2 was loaded in the block: address unknown at entry
    "4902",  # ldr r1, [pc, #8]       a literal
    "cb03",  # ldmia r3!, {r0, r1}    r3 loaded in the block: 2 unknown words
    "681c",  # ldr r4, [r3]           unknown
    "4770",  # bx lr
]


def decode(hexes: list[str], base: int) -> list[capstone.CsInsn]:
    code = b""
    for h in hexes:
        for half in h.split():
            code += bytes.fromhex(half)[::-1]
    insns = list(MD.disasm(code, base))
    assert sum(i.size for i in insns) == len(code)
    return insns


def test_block_counts_loads_literals_and_the_refill() -> None:
    insns = decode(BLOCK, 0x1000)
    u = block_uncertainty(insns, [False] * len(insns), cond_end=False)
    assert u.refill == 1 and u.split == 0 and u.literal_loads == 1
    assert u.probes == (LoadProbe("r1", 4, None, 0, 1), LoadProbe("r1", 8, None, 0, 1),
                        LoadProbe("r1", 12, None, 0, 1), LoadProbe("r1", 16, None, 0, 1),
                        LoadProbe("r1", 8, None, 0, 1))
    assert u.unknown_words == 4 and u.data_words == 9
    assert u.wide_groups == 0  # the three ldr.w are word-aligned


def test_three_unaligned_wide_instructions_make_a_group() -> None:
    insns = decode(BLOCK, 0x1002)
    assert block_uncertainty(insns, [False] * len(insns), cond_end=False).wide_groups == 1


def test_conditional_end_and_it_conditional_memory_accesses() -> None:
    insns = decode(["2801", "bf18", "6810", "d1fe"], 0x2000)  # cmp r0, #1; it ne; ldrne r0, [r2]; bne .
    u = block_uncertainty(insns, [False, False, True, False], cond_end=True)
    assert u.refill == 0  # a conditional branch's refill is counted when taken (taken_branch_cycles)
    assert u.cond_over == 2
    nobranch = decode(["3508", "682f"], 0x3000)  # adds; ldr: a block split without a PC write
    assert block_uncertainty(nobranch, [False, False], cond_end=False).split == 1


def test_flash_words_from_entry_registers() -> None:
    u = block_uncertainty(decode(BLOCK, 0x1000), [False] * 12, cond_end=False)
    regs = {"r1": 0x08001000}
    assert flash_words(u, regs.__getitem__, lambda a: 0x08000000 <= a < 0x08100000) == 5 + 4
    regs = {"r1": 0x20000000}  # the probed loads read RAM: only the unknown ones may read flash
    assert flash_words(u, regs.__getitem__, lambda a: 0x08000000 <= a < 0x08100000) == 4


def test_run_error_bar_sums_terms_by_executions() -> None:
    u = BlockUncertainty(refill=1, wide_groups=2, literal_loads=1, cond_over=2, split=0, data_words=9)
    flash = FlashConfig(wait_states=5, accelerator=1, ranges=((0x08000000, 0x08100000),))
    bar = run_error_bar({(0x1000, 30): (u, 3, 10)}, cycles=1000, mhz=100.0, flash=flash, taken_branch_cycles=40,
                        prefetch_hidden=7)
    assert bar.terms == {"refill": (10 + 20, 10 + 20), "unaligned_wide": (0, 20), "literal_fetch": (0, 10),
                         "it_conditional": (20, 0), "block_split": (0, 0), "flash_prefetch": (0, 7 * 2),
                         "flash_data": (0, 5 * 3 * 10)}
    assert (bar.minus, bar.plus) == (50, 30 + 20 + 10 + 14 + 150)
    assert bar.low == 950 and bar.high == 1224
    d = bar.to_dict()
    assert d["cycles_low"] == 950 and d["seconds_high"] == 1224 / 100e6 and d["percent"] == [-5.0, 22.4]
    exact = FlashConfig(wait_states=5, accelerator=1, data_hook=True)
    assert "flash_data" not in run_error_bar({}, 1000, 100.0, exact, 0, 0).terms  # --flash-data exact charges it
