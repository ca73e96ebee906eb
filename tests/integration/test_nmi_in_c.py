"""NMI pended through ICSR.NMIPENDSET, taken and returned by the native hot path (hp_nmi_pend, hp_nv_take,
hp_list_return) equals the Python twin and the model's path.

NMI's priority is -2 (ARMv7-M B1.5.4): PRIMASK and FAULTMASK do not hold it, only an active NMI does; an exception
return clears FAULTMASK except when it leaves NMI (B1.5.8), so FAULTMASK still boosts the execution priority to -1
at the NMI's return's tail-chain test (B1.5.12). A small Thumb program and its handlers, written into the nested ELF's
RAM (a vector table there, VTOR pointing at it), pend NMI from Thread mode (no mask, FAULTMASK, PRIMASK), from an
interrupt handler, and pend an interrupt from the NMI handler (tail-chained into at the NMI's return, or held by
FAULTMASK until ``cpsie f``). Each handler logs its IPSR on entry and IPSR | 0x80 on exit; the log, the exception
entries and tail-chains, the instructions, the cycles and the masks at the end must equal the Python twin's
(``native=False``) and those of the run with C's takes off (SystemBlock.TAKE_IN_C: the ICSR write and NMI's entry and
return go to the models), and the log the order the architecture gives.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from unicorn import arm_const as R

from simcore.cortexm.exceptions import IRQ0, NMI
from simcore.cortexm.system import SystemBlock
from tests.conftest import started, store

ICSR, VTOR, ISER, IPR, STIR = 0xE000ED04, 0xE000ED08, 0xE000E100, 0xE000E400, 0xE000EF00
NMIPENDSET = 1 << 31
CODE, NMI_H, IRQ_H, TABLE, LOG, SCRATCH = 0x20010000, 0x20011000, 0x20011100, 0x20012000, 0x20013000, 0x20014000

# Thumb encodings (checked with capstone when written)
MRS_R0_IPSR = (0xF3EF, 0x8005)
STRB_R0_LOG = (0xF807, 0x0B01)  # strb r0, [r7], #1
ORR_R0_80 = (0xF040, 0x0080)
ISB = (0xF3BF, 0x8F6F)
BX_LR = (0x4770,)
STEPS = {
    "nmi": (0x6011,) + ISB,  # str r1, [r2]: ICSR = NMIPENDSET
    "stir": (0x601C,) + ISB,  # str r4, [r3]: STIR = r4
    "cpsid f": (0xB671,) + ISB, "cpsie f": (0xB661,) + ISB, "cpsid i": (0xB672,) + ISB, "cpsie i": (0xB662,) + ISB,
    "nop": (0xBF00,),
}
EXIT = (0x2018, 0xF240, 0x0126, 0xF2C0, 0x0102, 0xBEAB)  # r0 = SYS_EXIT, r1 = ADP_Stopped_ApplicationExit, bkpt 0xab


def handler(action: tuple[int, ...]) -> tuple[int, ...]:
    """Log IPSR, do ``action`` (a store, then its address register pointed at SCRATCH: once), log IPSR | 0x80."""
    return MRS_R0_IPSR + STRB_R0_LOG + action + ISB + MRS_R0_IPSR + ORR_R0_80 + STRB_R0_LOG + BX_LR


# NMI: str.w r10, [r9]; mov r9, r6. IRQs: str.w r8, [r11]; mov r11, r6
NMI_CODE = handler((0xF8C9, 0xA000, 0x46B1))
IRQ_CODE = handler((0xF8CB, 0x8000, 0x46B3))


def halfwords(hws: tuple[int, ...]) -> bytes:
    return b"".join(struct.pack("<H", h) for h in hws)


def run(native: bool, steps: list[str], nmi_does: tuple[int, int] | None = None,
        irq_does: tuple[int, int] | None = None, irq: int = 1) -> tuple[Any, tuple[Any, ...]]:
    """The program of ``steps`` (Thread mode) on the nested ELF's nRF52840 machine; ``nmi_does`` / ``irq_does``: the
    (address, value) the NMI handler / every interrupt handler stores once. IRQ1 priority 0x40, IRQ2 0x80, both
    enabled; ``irq`` is the one the "stir" step pends. Returns the machine and what the paths must agree on."""
    m = started("nrf52840", "nested", native)
    uc = m.uc
    n_exc = IRQ0 + m.system.exc.num_irq
    table = [0] * n_exc
    table[0] = uc.reg_read(R.UC_ARM_REG_MSP)
    for x in range(1, n_exc):
        table[x] = (NMI_H if x == NMI else IRQ_H) | 1
    uc.mem_write(TABLE, struct.pack(f"<{n_exc}I", *table))
    uc.mem_write(NMI_H, halfwords(NMI_CODE))
    uc.mem_write(IRQ_H, halfwords(IRQ_CODE))
    code = tuple(h for step in steps for h in STEPS[step]) + EXIT
    uc.mem_write(CODE, halfwords(code))
    store(m, VTOR, TABLE)
    store(m, IPR + 1, 0x40, size=1)
    store(m, IPR + 2, 0x80, size=1)
    store(m, ISER, 0b110)
    for reg, value in ((R.UC_ARM_REG_R1, NMIPENDSET), (R.UC_ARM_REG_R2, ICSR), (R.UC_ARM_REG_R3, STIR),
                       (R.UC_ARM_REG_R4, irq), (R.UC_ARM_REG_R6, SCRATCH), (R.UC_ARM_REG_R7, LOG),
                       (R.UC_ARM_REG_R9, (nmi_does or (SCRATCH, 0))[0]), (R.UC_ARM_REG_R10, (nmi_does or (0, 0))[1]),
                       (R.UC_ARM_REG_R11, (irq_does or (SCRATCH, 0))[0]), (R.UC_ARM_REG_R8, (irq_does or (0, 0))[1]),
                       (R.UC_ARM_REG_PC, CODE | 1)):
        uc.reg_write(reg, value)
    if native:
        m.system.arm_native()
    stop = m.run()
    e = m.system.exc
    log = list(uc.mem_read(LOG, uc.reg_read(R.UC_ARM_REG_R7) - LOG))
    masks = tuple(uc.reg_read(r) for r in (R.UC_ARM_REG_PRIMASK, R.UC_ARM_REG_FAULTMASK, R.UC_ARM_REG_BASEPRI))
    return m, (stop.kind, log, e.entries, e.tail_chains, sorted(e.active), sorted(e.pending), m.instructions,
               m.hot.state.cycle_count, masks)


CASES = {  # steps, NMI's store, the interrupts' store, the log the architecture gives, tail-chains
    "thread": (["nmi", "nop"], None, None, [2, 0x82], 0),
    "faultmask": (["cpsid f", "stir", "nmi", "nop", "cpsie f", "nop"], None, None, [2, 0x82, 17, 0x91], 0),
    "primask": (["cpsid i", "stir", "nmi", "nop", "cpsie i", "nop"], None, None, [2, 0x82, 17, 0x91], 0),
    "from a handler": (["stir", "nop"], None, (ICSR, NMIPENDSET), [17, 2, 0x82, 0x91], 0),
    "nmi pends irq1": (["nmi", "nop"], (STIR, 1), None, [2, 0x82, 17, 0x91], 1),
    "nmi pends irq1 under faultmask": (["cpsid f", "nmi", "nop", "cpsie f", "nop"], (STIR, 1), None,
                                       [2, 0x82, 17, 0x91], 0),
    "handler under primask": (["cpsid i", "stir", "nop", "cpsie i", "nop"], None, (ICSR, NMIPENDSET),
                              [17, 2, 0x82, 0x91], 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_nmi_in_c_equals_the_python_twin_and_the_models_path(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    steps, nmi_does, irq_does, log, chains = CASES[case]
    native, got = run(True, steps, nmi_does, irq_does)
    _, twin = run(False, steps, nmi_does, irq_does)
    monkeypatch.setattr(SystemBlock, "TAKE_IN_C", False)
    models, py = run(True, steps, nmi_does, irq_does)
    assert got == twin == py
    assert got[0] == "exit" and got[1] == log and got[3] == chains
    assert not got[4] and not got[5]  # nothing left active or pending
    s = native.hot.state
    assert s.nv_entries >= 1 and s.psv_sets == 1  # C served the NMIPENDSET write and took NMI
    assert models.hot.state.nv_entries == 0 and models.hot.state.psv_sets == 0


def test_faultmask_stays_set_over_the_nmi_return() -> None:
    """The FAULTMASK case without ``cpsie f``: C took NMI and returned from it (PopStack in hp_list_return), and the
    run ends with FAULTMASK still set and IRQ1 still pending (held by it), as on the Python twin."""
    steps = ["cpsid f", "stir", "nmi", "nop"]  # no cpsie f: the run ends with FAULTMASK set, IRQ1 pending
    m, got = run(True, steps)
    assert got[1] == [2, 0x82] and got[8][1] == 1 and got[5] == [IRQ0 + 1]
    assert m.hot.state.nv_entries == 1 and m.hot.state.nest_returns == 1
    _, twin = run(False, steps)
    assert got == twin
