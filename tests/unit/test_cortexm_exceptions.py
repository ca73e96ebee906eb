"""Exception entry and return on a Unicorn core's registers and RAM (ARMv7-M B1.5.6-B1.5.8), no guest code."""

from __future__ import annotations

import random
import struct

import pytest
from unicorn import arm_const as R

from simcore.cortexm.exceptions import (
    HARDFAULT,
    IRQ0,
    NMI,
    PENDSV,
    SVCALL,
    BadExcReturn,
    ExceptionModel,
    StackingError,
)
from tests.unit.cortexm_fakes import RAM, make_exceptions

VECTORS = {SVCALL: 0x401, PENDSV: 0x501, IRQ0 + 3: 0x601, IRQ0 + 4: 0x701}


def _model() -> ExceptionModel:
    exc = make_exceptions()
    table = bytearray(4 * (IRQ0 + 32))
    for n, addr in VECTORS.items():
        struct.pack_into("<I", table, 4 * n, addr)
    exc.uc.mem_write(0, bytes(table))
    uc = exc.uc
    for i in range(13):
        uc.reg_write(getattr(R, f"UC_ARM_REG_R{i}"), 0x100 + i)
    uc.reg_write(R.UC_ARM_REG_LR, 0x333)
    uc.reg_write(R.UC_ARM_REG_MSP, RAM + 0x8000)
    uc.reg_write(R.UC_ARM_REG_XPSR, 0x21000000)  # C flag, Thumb
    return exc


def _words(exc: ExceptionModel, addr: int, n: int) -> tuple[int, ...]:
    return struct.unpack(f"<{n}I", bytes(exc.uc.mem_read(addr, 4 * n)))


def test_entry_pushes_the_basic_frame_and_sets_handler_state() -> None:
    exc = _model()
    uc = exc.uc
    exc.set_priority(IRQ0 + 3, 0x40)
    exc.enter(IRQ0 + 3, 0x1234)
    sp = uc.reg_read(R.UC_ARM_REG_MSP)
    assert sp == RAM + 0x8000 - 0x20
    assert _words(exc, sp, 8) == (0x100, 0x101, 0x102, 0x103, 0x10C, 0x333, 0x1234, 0x21000000)
    assert uc.reg_read(R.UC_ARM_REG_LR) == 0xFFFFFFF9
    assert uc.reg_read(R.UC_ARM_REG_IPSR) == IRQ0 + 3
    assert uc.reg_read(R.UC_ARM_REG_PC) == 0x600
    assert exc.active == {IRQ0 + 3}
    assert exc.execution_priority() == 0x40


def test_misaligned_sp_is_realigned_and_marked_in_xpsr_bit_9() -> None:
    exc = _model()
    uc = exc.uc
    uc.reg_write(R.UC_ARM_REG_MSP, RAM + 0x8000 - 4)
    exc.enter(IRQ0 + 3, 0x1234)
    sp = uc.reg_read(R.UC_ARM_REG_MSP)
    assert sp == RAM + 0x8000 - 0x28  # 8-byte aligned below the frame
    assert _words(exc, sp, 8)[7] & (1 << 9)
    uc.reg_write(R.UC_ARM_REG_R0, 0xAAAA)
    assert exc.exception_return(0xFFFFFFF9) is None
    assert uc.reg_read(R.UC_ARM_REG_MSP) == RAM + 0x8000 - 4
    assert uc.reg_read(R.UC_ARM_REG_R0) == 0x100
    assert uc.reg_read(R.UC_ARM_REG_PC) == 0x1234
    assert uc.reg_read(R.UC_ARM_REG_IPSR) == 0
    assert uc.reg_read(R.UC_ARM_REG_XPSR) & (1 << 9) == 0


def test_thread_on_psp_stacks_there_and_handler_runs_on_msp() -> None:
    exc = _model()
    uc = exc.uc
    uc.reg_write(R.UC_ARM_REG_PSP, RAM + 0x4000)
    uc.reg_write(R.UC_ARM_REG_CONTROL, 2)
    exc.enter(SVCALL, 0x2000)
    assert uc.reg_read(R.UC_ARM_REG_PSP) == RAM + 0x4000 - 0x20
    assert uc.reg_read(R.UC_ARM_REG_MSP) == RAM + 0x8000
    assert uc.reg_read(R.UC_ARM_REG_SP) == RAM + 0x8000
    assert uc.reg_read(R.UC_ARM_REG_LR) == 0xFFFFFFFD
    assert uc.reg_read(R.UC_ARM_REG_CONTROL) & 2 == 0
    exc.exception_return(0xFFFFFFFD)
    assert uc.reg_read(R.UC_ARM_REG_CONTROL) & 2
    assert uc.reg_read(R.UC_ARM_REG_SP) == RAM + 0x4000
    assert uc.reg_read(R.UC_ARM_REG_PC) == 0x2000


def test_fp_context_gets_the_extended_frame() -> None:
    exc = _model()
    uc = exc.uc
    for i in range(16):
        uc.reg_write(getattr(R, f"UC_ARM_REG_S{i}"), 0x3F800000 + i)
    uc.reg_write(R.UC_ARM_REG_FPSCR, 0x02000000)
    uc.reg_write(R.UC_ARM_REG_CONTROL, 4)  # FPCA
    exc.enter(IRQ0 + 4, 0x1000)
    sp = uc.reg_read(R.UC_ARM_REG_MSP)
    assert sp == RAM + 0x8000 - 0x68
    assert uc.reg_read(R.UC_ARM_REG_LR) == 0xFFFFFFE9
    assert _words(exc, sp + 0x20, 17) == (*range(0x3F800000, 0x3F800010), 0x02000000)
    assert exc.cfg.fpcar == sp + 0x20
    assert uc.reg_read(R.UC_ARM_REG_CONTROL) & 4 == 0
    for i in range(16):  # the handler clobbers the FP registers
        uc.reg_write(getattr(R, f"UC_ARM_REG_S{i}"), 0)
    exc.exception_return(0xFFFFFFE9)
    assert [uc.reg_read(getattr(R, f"UC_ARM_REG_S{i}")) for i in range(16)] == list(range(0x3F800000, 0x3F800010))
    assert uc.reg_read(R.UC_ARM_REG_CONTROL) & 4
    assert uc.reg_read(R.UC_ARM_REG_MSP) == RAM + 0x8000


def test_return_tail_chains_into_a_pending_exception_without_unstacking() -> None:
    exc = _model()
    uc = exc.uc
    exc.set_priority(IRQ0 + 3, 0x40)
    exc.set_priority(IRQ0 + 4, 0x80)
    exc.enabled[IRQ0 + 3] = exc.enabled[IRQ0 + 4] = 1
    exc.enter(IRQ0 + 3, 0x1234)
    sp = uc.reg_read(R.UC_ARM_REG_MSP)
    exc.pend(IRQ0 + 4)
    assert exc.to_take() is None  # lower priority than the active IRQ3
    assert exc.exception_return(0xFFFFFFF9) == IRQ0 + 4
    assert uc.reg_read(R.UC_ARM_REG_MSP) == sp  # the frame stays
    assert uc.reg_read(R.UC_ARM_REG_PC) == 0x700
    assert uc.reg_read(R.UC_ARM_REG_LR) == 0xFFFFFFF9
    assert exc.active == {IRQ0 + 4}
    assert exc.exception_return(0xFFFFFFF9) is None
    assert uc.reg_read(R.UC_ARM_REG_PC) == 0x1234


def test_nested_preemption_returns_to_handler_mode() -> None:
    exc = _model()
    uc = exc.uc
    exc.set_priority(IRQ0 + 3, 0x80)
    exc.set_priority(IRQ0 + 4, 0x40)
    exc.enabled[IRQ0 + 4] = 1
    exc.enter(IRQ0 + 3, 0x1234)
    exc.pend(IRQ0 + 4)
    assert exc.to_take() == IRQ0 + 4
    exc.enter(IRQ0 + 4, 0x610)
    assert uc.reg_read(R.UC_ARM_REG_LR) == 0xFFFFFFF1
    exc.exception_return(0xFFFFFFF1)
    assert uc.reg_read(R.UC_ARM_REG_IPSR) == IRQ0 + 3
    assert uc.reg_read(R.UC_ARM_REG_PC) == 0x610


def test_group_priority_decides_preemption_not_subpriority() -> None:
    exc = _model()
    exc.cfg.prigroup = 6  # group = bit 7 only
    exc.set_priority(IRQ0 + 3, 0x80)
    exc.set_priority(IRQ0 + 4, 0x40)  # group 0x00 < 0x80: preempts
    exc.enabled[IRQ0 + 4] = 1
    exc.enter(IRQ0 + 3, 0x1234)
    assert exc.can_preempt(IRQ0 + 4)
    exc.set_priority(IRQ0 + 4, 0xC0)  # group 0x80 == active group: no preemption
    assert not exc.can_preempt(IRQ0 + 4)


def test_bad_exc_returns_are_refused() -> None:
    exc = _model()
    exc.enter(IRQ0 + 3, 0x1234)
    with pytest.raises(BadExcReturn):
        exc.exception_return(0xFFFFFFF5)
    with pytest.raises(BadExcReturn):
        exc.exception_return(0xFFFFFFF1)  # to handler mode with nothing else active
    exc.active.add(IRQ0 + 4)
    with pytest.raises(BadExcReturn, match="NONBASETHRDENA"):
        exc.exception_return(0xFFFFFFF9)


def test_stacking_outside_ram_is_an_error() -> None:
    exc = _model()
    exc.uc.reg_write(R.UC_ARM_REG_MSP, 0x100)
    with pytest.raises(StackingError):
        exc.enter(IRQ0 + 3, 0x1234)


def test_level_sensitive_line_pends_again_after_return() -> None:
    exc = _model()
    exc.enabled[IRQ0 + 3] = 1
    exc.set_line(IRQ0 + 3, True)
    assert exc.to_take() == IRQ0 + 3
    exc.enter(IRQ0 + 3, 0x1234)
    assert IRQ0 + 3 not in exc.pending
    assert exc.exception_return(0xFFFFFFF9) == IRQ0 + 3  # the line is still high: tail-chains into itself
    assert exc.active == {IRQ0 + 3}
    exc.set_line(IRQ0 + 3, False)
    assert exc.exception_return(0xFFFFFFF9) is None
    assert exc.pending == set()


def test_can_preempt_is_the_group_priority_against_the_execution_priority() -> None:
    """can_preempt (a kick's and to_take's question, the masks read only when the active handlers do not already hold
    the exception back) answers as B1.5.4 defines it, group(prio) < ExecutionPriority(), over random priorities,
    PRIGROUP, active sets and masks."""
    exc = _model()
    uc = exc.uc
    rng = random.Random(14)
    candidates = [NMI, HARDFAULT, SVCALL, PENDSV, *range(IRQ0, IRQ0 + 8)]
    answers = set()
    for _ in range(600):
        exc.cfg.prigroup = rng.randrange(8)
        for x in candidates:
            exc.set_priority(x, rng.randrange(256))
        exc.active = set(rng.sample(candidates, rng.randrange(3)))
        uc.reg_write(R.UC_ARM_REG_BASEPRI, rng.choice((0, 0, rng.randrange(256))))
        uc.reg_write(R.UC_ARM_REG_PRIMASK, int(rng.random() < 0.3))
        uc.reg_write(R.UC_ARM_REG_FAULTMASK, int(rng.random() < 0.1))
        for x in candidates:
            want = exc.group(exc.prio[x]) < exc.execution_priority()
            assert exc.can_preempt(x) == want
            answers.add(want)
    assert answers == {True, False}
