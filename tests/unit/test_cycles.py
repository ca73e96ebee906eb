"""The Cortex-M4 cost model (simcore.cycles) on hand-encoded instructions, without emulation.

Encodings from arm-none-eabi-as (mnemonics checked by capstone below). Expected costs are
the TRM's (DDI 0439 Table 3-1 / 7-1) with simcore's choices P = 2 (branch), 3 (load to PC).
"""

from __future__ import annotations

import capstone
import pytest

from simcore.board import load_board
from simcore.cycles import (
    BRANCH_REFILL,
    DIV_CYCLES,
    INDIRECT,
    LOAD_PC_REFILL,
    TIMINGS,
    CortexM4,
    InstructionCount,
    literal_address,
    make_model,
)

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


def test_neighbouring_loads_and_stores_pipeline() -> None:
    # TRM: LDR R0,[R1,R5]; LDR R1,[R2]; LDR R2,[R3,#4] normally four cycles
    assert costs(LDR_R2_R1, LDR_R3_R1_4) == [2, 1]
    assert costs(LDR_R5_R1, STR_R5_R1_8) == [2, 1]


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


def test_divide_charges_the_bound() -> None:
    assert costs("fb91 f0f2") == [DIV_CYCLES] == [12]


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
