"""NVIC and SCB registers as views of the exception state (no guest code runs)."""

from __future__ import annotations

from unicorn import arm_const as R

from simcore.cortexm.exceptions import IRQ0, PENDSV, SVCALL, SYSTICK, USAGEFAULT
from simcore.cortexm.nvic import Nvic
from simcore.cortexm.scb import CFSR_BITS, Scb
from tests.unit.cortexm_fakes import FakeHost, make_exceptions

ISER, ICER, ISPR, ICPR, IPR, STIR = 0xE000E100, 0xE000E180, 0xE000E200, 0xE000E280, 0xE000E400, 0xE000EF00
ICSR, VTOR, AIRCR, CCR, SHPR1, SHCSR, CFSR, HFSR = (0xE000ED04, 0xE000ED08, 0xE000ED0C, 0xE000ED14, 0xE000ED18,
                                                    0xE000ED24, 0xE000ED28, 0xE000ED2C)


def _blocks(num_irq: int = 40, prio_bits: int = 4) -> tuple[FakeHost, Nvic, Scb, list[str]]:
    host = FakeHost()
    exc = make_exceptions(num_irq, prio_bits)
    calls: list[str] = []
    nvic = Nvic(host, exc, lambda: calls.append("changed"))
    scb = Scb(host, exc, lambda: calls.append("changed"), lambda: calls.append("reset"),
              lambda ccr: calls.append(f"ccr {ccr:#x}"))
    return host, nvic, scb, calls


def test_enable_and_pending_bits_are_write_one_to_set_or_clear() -> None:
    _, nvic, _, calls = _blocks()
    nvic.write(ISER, 4, 0b1010)
    nvic.write(ISER + 4, 4, 1 << 3)  # IRQ35
    assert nvic.read(ISER, 4) == 0b1010
    assert nvic.read(ICER + 4, 4) == 1 << 3
    nvic.write(ICER, 4, 0b0010)
    assert nvic.read(ISER, 4) == 0b1000
    nvic.write(ISPR, 4, 1 << 5)
    assert nvic.exc.pending == {IRQ0 + 5}
    assert nvic.read(ICPR, 4) == 1 << 5
    nvic.write(ICPR, 4, 1 << 5)
    assert nvic.exc.pending == set()
    assert "changed" in calls


def test_bits_beyond_the_parts_interrupts_read_zero() -> None:
    _, nvic, _, _ = _blocks(num_irq=40)
    nvic.write(ISER + 4, 4, 0xFFFFFFFF)
    assert nvic.read(ISER + 4, 4) == 0xFF  # IRQ32..39 only
    assert nvic.read(0xE000E004, 4) == 1  # ICTR: (40 + 31) // 32 - 1


def test_priority_bytes_keep_only_the_implemented_bits() -> None:
    _, nvic, _, _ = _blocks(prio_bits=3)
    nvic.write(IPR + 6, 1, 0xFF)  # byte access to IRQ6
    nvic.write(IPR + 8, 4, 0x40302010)
    assert nvic.exc.prio[IRQ0 + 6] == 0xE0
    assert nvic.read(IPR + 4, 4) == 0x00E00000
    assert nvic.read(IPR + 8, 4) == 0x40202000


def test_stir_pends_and_out_of_range_is_reported() -> None:
    host, nvic, _, _ = _blocks(num_irq=40)
    nvic.write(STIR, 4, 7)
    assert nvic.exc.pending == {IRQ0 + 7}
    nvic.write(STIR, 4, 100)
    assert "NVIC.STIR" in host.unmodelled


def test_cpuid_and_aircr_need_the_vector_key() -> None:
    host, _, scb, calls = _blocks()
    assert scb.read(0xE000ED00, 4) == 0x410FC241
    assert scb.read(AIRCR, 4) == 0xFA050000
    scb.write(AIRCR, 4, 0x00000500)  # no VECTKEY: ignored and reported
    assert scb.read(AIRCR, 4) >> 8 & 7 == 0
    assert "SCB.AIRCR" in host.unmodelled
    scb.write(AIRCR, 4, 0x05FA0500)
    assert scb.read(AIRCR, 4) == 0xFA050500
    assert scb.exc.cfg.prigroup == 5
    scb.write(AIRCR, 4, 0x05FA0504)  # SYSRESETREQ
    assert "reset" in calls


def test_icsr_pends_pendsv_systick_and_reports_vectpending() -> None:
    _, nvic, scb, _ = _blocks()
    exc = scb.exc
    exc.set_priority(PENDSV, 0xF0)
    exc.set_priority(SYSTICK, 0x80)
    scb.write(ICSR, 4, (1 << 28) | (1 << 26))
    assert exc.pending == {PENDSV, SYSTICK}
    icsr = scb.read(ICSR, 4)
    assert icsr & (1 << 28) and icsr & (1 << 26)
    assert icsr >> 12 & 0x1FF == SYSTICK  # the more urgent one
    nvic.write(ISER, 4, 1 << 2)
    nvic.write(IPR + 2, 1, 0x10)
    nvic.write(ISPR, 4, 1 << 2)
    icsr = scb.read(ICSR, 4)
    assert icsr >> 12 & 0x1FF == IRQ0 + 2 and icsr & (1 << 22)  # ISRPENDING
    scb.write(ICSR, 4, (1 << 27) | (1 << 25))  # PENDSVCLR, PENDSTCLR
    assert exc.pending == {IRQ0 + 2}


def test_shpr_shcsr_and_vtor() -> None:
    _, _, scb, _ = _blocks()
    exc = scb.exc
    scb.write(SHPR1 + 2, 1, 0x60)  # UsageFault priority, byte access
    scb.write(SHPR1 + 8, 4, 0xA0B00000)  # SHPR3: PendSV 0xB0, SysTick 0xA0
    scb.write(SHPR1 + 7, 1, 0x30)  # SVCall
    assert exc.prio[USAGEFAULT] == 0x60 and exc.prio[SVCALL] == 0x30
    assert exc.prio[PENDSV] == 0xB0 and exc.prio[SYSTICK] == 0xA0
    assert scb.read(SHPR1 + 8, 4) == 0xA0B00000
    assert not exc.enabled[USAGEFAULT]
    scb.write(SHCSR, 4, 1 << 18)
    assert exc.enabled[USAGEFAULT]
    assert scb.read(SHCSR, 4) == 1 << 18
    scb.write(VTOR, 4, 0x08004123)
    assert scb.read(VTOR, 4) == 0x08004100


def test_fault_status_is_write_one_to_clear() -> None:
    _, _, scb, _ = _blocks()
    scb.record_fault(CFSR_BITS["PRECISERR"] | CFSR_BITS["DIVBYZERO"], 1 << 30, bfar=0x30000000)
    assert scb.read(CFSR, 4) == (1 << 9) | (1 << 15) | (1 << 25)
    assert scb.read(0xE000ED38, 4) == 0x30000000
    assert scb.read(CFSR + 1, 1) == 0x82  # BFSR byte
    scb.write(CFSR + 2, 2, 0x0200)  # UFSR halfword: clear DIVBYZERO
    assert scb.read(CFSR, 4) == (1 << 9) | (1 << 15)
    scb.write(HFSR, 4, 1 << 30)
    assert scb.read(HFSR, 4) == 0


def test_clearing_fault_status_with_all_ones_is_not_reported() -> None:
    """Zephyr's z_arm_clear_faults writes 0xFFFFFFFF to HFSR and all CFSR masks: no --strict stop."""
    host, _, scb, _ = _blocks()
    scb.record_fault(CFSR_BITS["UNDEFINSTR"], 1 << 30)
    scb.write(CFSR, 4, 0xFFFFFFFF)
    scb.write(HFSR, 4, 0xFFFFFFFF)
    scb.write(0xE000ED30, 4, 0x1F)  # DFSR
    assert scb.read(CFSR, 4) == scb.read(HFSR, 4) == 0
    assert host.unmodelled == {}


def test_ccr_trap_bits_are_announced() -> None:
    _, _, scb, calls = _blocks()
    assert scb.read(CCR, 4) == 0x200  # STKALIGN
    scb.write(CCR, 4, 0x210)
    assert calls[-1] == "ccr 0x210"
    assert scb.read(CCR, 4) == 0x210


def test_execution_priority_follows_masks_and_prigroup() -> None:
    _, _, scb, _ = _blocks(prio_bits=4)
    exc = scb.exc
    uc = exc.uc
    assert exc.execution_priority() == 256
    uc.reg_write(R.UC_ARM_REG_BASEPRI, 0x90)
    assert exc.execution_priority() == 0x90
    scb.write(AIRCR, 4, 0x05FA0500)  # PRIGROUP 5: group = bits [7:6]
    assert exc.execution_priority() == 0x80
    uc.reg_write(R.UC_ARM_REG_PRIMASK, 1)
    assert exc.execution_priority() == 0
    uc.reg_write(R.UC_ARM_REG_FAULTMASK, 1)
    assert exc.execution_priority() == -1
