"""The Cortex-M4 cost model (simcore.cycles) on hand-encoded instructions, without emulation.

Encodings from arm-none-eabi-as (mnemonics checked by capstone below). Expected costs are
the TRM's (DDI 0439 Table 3-1 / 7-1) with simcore's choices P = 2 (branch), 3 (load to PC).
"""

from __future__ import annotations

import ctypes
import random

import capstone
import pytest
from unicorn import arm_const as R

from simcore.board import load_board
from simcore.cycles import (
    BRANCH_REFILL,
    DIV_MIN,
    INDIRECT,
    LOAD_PC_REFILL,
    TIMINGS,
    CortexM4,
    InstructionCount,
    divide_cycles,
    literal_address,
    make_model,
)
from simcore.hotpath import native_library

MD = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
MD.detail = True


def decode(*hexes: str, base: int = 0x1000) -> list[capstone.CsInsn]:
    code = b"".join(bytes.fromhex(h)[::-1] if len(h) == 4 else _wide(h) for h in hexes)
    insns = list(MD.disasm(code, base))
    assert sum(i.size for i in insns) == len(code)
    return insns


def _wide(h: str) -> bytes:
    """A 32-bit Thumb encoding written as objdump shows it ('e9d1 2300'): two little-endian halfwords."""
    hi, lo = h.split()
    return bytes.fromhex(hi)[::-1] + bytes.fromhex(lo)[::-1]


def costs(*hexes: str) -> list[int]:
    return CortexM4().block_costs(decode(*hexes))


LDR_R2_R1 = "680a"  # ldr r2, [r1]
LDR_R3_R1_4 = "684b"  # ldr r3, [r1, #4]
LDR_R4_R2 = "6814"  # ldr r4, [r2]
ADDS_R1_4 = "3104"  # adds r1, #4
LDR_R5_R1 = "680d"  # ldr r5, [r1]
STR_R5_R1_8 = "608d"  # str r5, [r1, #8]


def test_encodings_are_what_the_comments_say() -> None:
    got = [f"{i.mnemonic} {i.op_str}" for i in decode(LDR_R2_R1, "e9d1 2300", "bd30", "ee43 2a23")]
    assert got == ["ldr r2, [r1]", "ldrd r2, r3, [r1]", "pop {r4, r5, pc}", "vmla.f32 s5, s6, s7"]


def test_alu_and_single_load() -> None:
    assert costs(ADDS_R1_4) == [1]
    assert costs(LDR_R2_R1) == [2]


STR_R5_R1_R2 = "f841 5002"  # str.w r5, [r1, r2]
LDR_R3_R1_POST4 = "f851 3b04"  # ldr.w r3, [r1], #4
LDR_R4_R1 = "680c"  # ldr r4, [r1]
LDRD = "e9d1 2300"  # ldrd r2, r3, [r1]
LDM3 = "e891 001c"  # ldmia.w r1, {r2, r3, r4}
STM3 = "e881 001c"  # stmia.w r1, {r2, r3, r4}
PUSH3 = "b530"  # push {r4, r5, lr}
STREX = "e842 3000"  # strex r0, r3, [r2]
VLDR = "ed91 0a00"  # vldr s0, [r1]


def test_neighbouring_loads_pipeline() -> None:
    # TRM 3.3.2: LDR R0,[R1,R5]; LDR R1,[R2]; LDR R2,[R3,#4] normally four cycles
    assert costs(LDR_R2_R1, LDR_R3_R1_4) == [2, 1]


def test_store_issues_in_one_cycle_and_pipelines_after_a_load() -> None:
    # "STR Rx,[Ry,#imm] is always one cycle": its data phase overlaps the next instruction
    assert costs(STR_R5_R1_8) == [1]
    assert costs(STR_R5_R1_8, ADDS_R1_4) == [1, 1]
    assert costs(STR_R5_R1_R2) == [2]  # register offset: nothing pipelines after it
    # "LDR R0,[R1,R2]; STR R0,[R3,#20] - normally three cycles total": 2 + 0 + the data phase,
    # which overlaps whatever follows (or delays a load/store, below)
    assert costs(LDR_R5_R1, STR_R5_R1_8) == [2, 0]
    assert costs(LDR_R5_R1, STR_R5_R1_R2) == [2, 1]  # "LDR R0,[R1,R2]; STR R1,[R3,R2]": three


def test_nothing_is_pipelined_after_a_store() -> None:
    """TRM 3.3.2: "STR can only be pipelined when it follows an LDR, but nothing can be pipelined after the store"."""
    assert costs(STR_R5_R1_8, LDR_R4_R2) == [1, 3]
    assert costs(STR_R5_R1_8, STR_R5_R1_8) == [1, 2]
    assert costs(STR_R5_R1_8, STR_R5_R1_8, STR_R5_R1_8) == [1, 2, 2]
    assert costs(STR_R5_R1_8, STR_R5_R1_R2) == [1, 3]
    assert costs(STR_R5_R1_8, LDRD) == [1, 4]
    assert costs(STR_R5_R1_8, LDM3) == [1, 5]
    assert costs(STR_R5_R1_8, VLDR) == [1, 3]
    assert costs(STR_R5_R1_8, "f8d1 f000") == [1, 3 + LOAD_PC_REFILL]  # ldr pc, [r1]
    # a store-multiple does not wait (STM32F407 measurement, docs/cycle-model.md)
    assert costs(STR_R5_R1_8, STM3) == [1, 4]
    assert costs(STR_R5_R1_8, PUSH3) == [1, 4]
    # a register-offset store's data phase is its own second cycle: the next load does not wait
    assert costs(STR_R5_R1_R2, LDR_R4_R2) == [2, 2]


def test_written_back_base_does_not_pipeline() -> None:
    """Back-to-back loads on a base the first one wrote back do not pipeline (STM32F407 measurement)."""
    assert costs(LDR_R3_R1_POST4, LDR_R4_R1) == [2, 2]
    assert costs(LDR_R3_R1_POST4, LDR_R4_R2) == [2, 1]


def test_strex_is_treated_like_a_load() -> None:
    assert costs(STREX) == [2]
    assert costs(LDR_R5_R1, STREX) == [2, 1]
    assert costs(STREX, LDR_R4_R2) == [2, 1]


def test_load_whose_address_is_the_previous_load_does_not_pipeline() -> None:
    assert costs(LDR_R2_R1, LDR_R4_R2) == [2, 2]


def test_address_from_previous_alu_result_costs_one_more() -> None:
    assert costs(ADDS_R1_4, LDR_R5_R1) == [1, 3]


def test_multiple_and_double_transfers() -> None:
    assert costs("e9d1 2300") == [3]  # ldrd
    assert costs("e891 001c") == [4]  # ldm r1, {r2-r4}: 1 + N
    assert costs("b530") == [4]  # push {r4, r5, lr}
    assert costs("bd30") == [4 + LOAD_PC_REFILL]  # pop {r4, r5, pc}
    assert costs("f8d1 f000") == [2 + LOAD_PC_REFILL]  # ldr pc, [r1]
    assert costs("e8df f000") == [3 + LOAD_PC_REFILL]  # tbb: >= 6


def test_branches() -> None:
    assert costs("4770") == [1 + BRANCH_REFILL]  # bx lr
    assert costs("f7ff fffe") == [1 + BRANCH_REFILL]  # bl
    assert costs("d0fe") == [1]  # beq at the end of a block: priced not taken
    assert costs("46f7") == [1 + BRANCH_REFILL]  # mov pc, lr


def test_block_end_conditional_branch_and_call() -> None:
    m = CortexM4()
    end = m.block_end(decode("d0fe", base=0x2000), [False])
    assert end.cond and end.taken_extra == BRANCH_REFILL and end.target == 0x2000
    call = m.block_end(decode("f7ff fffe", base=0x2000), [False])
    assert call.call and not call.cond
    # an IT-conditional return: taken unless the next block is the fall-through
    cond_ret = m.block_end(decode("bf08", "4770"), [False, True])
    assert cond_ret.cond and cond_ret.target == INDIRECT


def test_it_folds_onto_a_preceding_16_bit_instruction() -> None:
    assert costs("2801", "bf08", "2002") == [1, 0, 1]
    assert costs("f1b0 0f01", "bf08", "2002") == [1, 1, 1]


def test_divide_block_cost_is_the_minimum_and_its_site_is_reported() -> None:
    insns = decode("fb91 f0f2", "fbb3 f2f4")  # sdiv r0, r1, r2; udiv r2, r3, r4
    assert CortexM4().block_costs(insns) == [DIV_MIN, DIV_MIN] == [2, 2]
    sites = CortexM4().divide_sites(insns)
    assert [(s.addr, s.rn, s.rm, s.signed) for s in sites] == [
        (0x1000, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, True), (0x1004, R.UC_ARM_REG_R3, R.UC_ARM_REG_R4, False)]
    assert InstructionCount().divide_sites(insns) == ()


@pytest.mark.parametrize("n,m,signed,cycles", [
    (0, 7, False, 2), (7, 0, False, 2), (0, 0, True, 2),
    (5, 9, False, 3), (1, 0xFFFFFFFF, False, 3),
    (15, 8, False, 5), (0xFF, 31, False, 5), (0x1FF, 31, False, 6), (0x1FFF, 31, False, 7),
    (0xFFFFFFFF, 1, False, 12), (0xFFFFFFFF, 1, True, 5),  # -1 / 1 signed: |-1| has 1 bit
    (-100, 7, True, 6), (1000, -3, True, 7), (0x80000000, -1, True, 12), (0x80000000, 3, False, 12),
])
def test_divide_cycles_by_operands(n: int, m: int, signed: bool, cycles: int) -> None:
    """The rule measured on silicon: 2 / 3 / 5 + (bits(n) - bits(m)) // 4, within the TRM's 2-12."""
    assert divide_cycles(n, m, signed) == cycles


def test_divide_cycles_c_twin_agrees() -> None:
    """simcore/native/timing.c's tm_div_cycles equals the Python rule on edge and random operands."""
    lib = native_library()
    if lib is None:
        pytest.fail("the native hot path is not built (python3 setup.py build_ext --inplace)")
    lib.tm_div_cycles.restype = ctypes.c_uint32
    lib.tm_div_cycles.argtypes = [ctypes.c_uint32] * 3
    rng = random.Random(7)
    edges = [0, 1, 2, 3, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFF, 0x10000]
    values = edges + [rng.getrandbits(rng.randrange(1, 33)) for _ in range(300)]
    for n in values:
        for m in values[:40]:
            for signed in (False, True):
                assert lib.tm_div_cycles(n, m, int(signed)) == divide_cycles(n, m, signed), (n, m, signed)


def test_block_hook_divide_pricing_agrees() -> None:
    """hotpath.c's hp_div_extra (the block hook's deferred divides: bits(n) - bits(m) from the top set bits' indices)
    adds what the Python rule gives above DIV_MIN, on edge and random operands, signed and unsigned."""
    lib = native_library()
    if lib is None:
        pytest.fail("the native hot path is not built (python3 setup.py build_ext --inplace)")
    lib.hp_div_extra_of.restype = ctypes.c_uint32
    lib.hp_div_extra_of.argtypes = [ctypes.c_uint32] * 3
    rng = random.Random(16)
    edges = [0, 1, 2, 3, 4, 15, 16, 17, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFF, 0x10000]
    edges += [1 << b for b in range(32)] + [(1 << b) - 1 for b in range(2, 32)]
    values = edges + [rng.getrandbits(rng.randrange(1, 33)) for _ in range(200)]
    seen = set()
    for n in values:
        for m in values[:80]:
            for signed in (False, True):
                extra = lib.hp_div_extra_of(n, m, int(signed))
                assert extra == divide_cycles(n, m, signed) - DIV_MIN, (n, m, signed)
                seen.add(extra)
    assert seen == {0, 1, *range(3, 11)}  # every price the rule gives (2, 3, 5-12) came up


def test_block_hook_divide_pricing_with_lzcnt_agrees() -> None:
    """The block hook built for LZCNT (hotpath.c hp_block_hook_lzcnt, the one hp_block_hook_ptr gives on a CPU with
    LZCNT) prices a divide as the Python rule, on every pair of bit lengths (0-32 each) and both signs."""
    lib = native_library()
    if lib is None:
        pytest.fail("the native hot path is not built (python3 setup.py build_ext --inplace)")
    lib.hp_block_hook_ptr.restype = lib.hp_block_hook_portable_ptr.restype = ctypes.c_void_p
    if not lib.hp_lzcnt():
        assert lib.hp_block_hook_ptr() == lib.hp_block_hook_portable_ptr()
        pytest.skip("no LZCNT on this CPU (or a build for it throughout): the portable hook only")
    assert lib.hp_block_hook_ptr() != lib.hp_block_hook_portable_ptr()  # Unicorn gets the LZCNT one
    lib.hp_div_extra_lzcnt_of.restype = ctypes.c_uint32
    lib.hp_div_extra_lzcnt_of.argtypes = [ctypes.c_uint32] * 3
    rng = random.Random(32)
    values = [0] + [rng.randrange(1 << (b - 1), 1 << b) for b in range(1, 33) for _ in range(2)]
    values += [0x80000000, 0xFFFFFFFF, 1]
    for n in values:
        for m in values:
            for signed in (False, True):
                assert lib.hp_div_extra_lzcnt_of(n, m, int(signed)) == divide_cycles(n, m, signed) - DIV_MIN, \
                    (n, m, signed)


def test_fpu() -> None:
    assert costs("ee30 0a81") == [1]  # vadd
    assert costs("ee30 0a81", "ee60 1a02") == [1, 2]  # vmul uses the vadd result: +1
    assert costs("ee43 2a23") == [3]  # vmla
    assert costs("ee84 4a85") == [14]  # vdiv
    assert costs("ed91 0a00", "ed91 1b00") == [2, 3]  # vldr .32 / .64
    assert costs("ed2d 8a04") == [5]  # vpush 4 singles
    assert costs("ec51 0b10") == [2]  # vmov r0, r1, d0


def test_literal_address() -> None:
    (ldr,) = decode("4802", base=0x105A)  # ldr r0, [pc, #8] at 0x105a: Align(0x105e, 4) + 8
    assert literal_address(ldr) == 0x105C + 8
    assert literal_address(decode(LDR_R2_R1)[0]) is None


def test_instruction_count_is_cpi_one() -> None:
    assert InstructionCount().block_costs(decode(LDR_R2_R1, "bd30", "ee84 4a85")) == [1, 1, 1]


@pytest.mark.parametrize("mhz,ws", [(24, 0), (30, 0), (31, 1), (168, 5)])
def test_flash_wait_states_from_the_board(mhz: float, ws: int) -> None:
    m = make_model("cortex-m4", load_board("stm32f407vg"), mhz)
    assert isinstance(m, CortexM4)
    assert m.flash.wait_states == ws and m.flash.accelerator == 1
    assert m.flash.is_flash(0x08000000) and m.flash.is_flash(0x00000100) and not m.flash.is_flash(0x20000000)


def test_unknown_model_name() -> None:
    with pytest.raises(ValueError):
        make_model("cortex-m7", load_board("cortex-m4"), 100)


def test_timing_table_covers_every_class() -> None:
    for cls in ("alu", "mul", "long_mul", "dsp", "div", "ldr", "ldrd", "ldm", "branch", "cond_branch", "it",
                "fp_alu", "fp_mla", "fp_div", "fp_ldr", "fp_ldm", "fp_dep", "addr_dep"):
        assert cls in TIMINGS
