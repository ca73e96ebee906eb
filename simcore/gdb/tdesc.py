"""The Cortex-M4(F) register set as gdb sees it: target description XML and the RSP register numbers.

Features (GDB manual, "ARM Features"): ``org.gnu.gdb.arm.m-profile`` (r0-r12, sp, lr, pc,
xpsr) tells gdb it debugs an M-profile core, so it recognises EXC_RETURN values and unwinds
through exception frames (``bt`` in a handler shows the interrupted code);
``org.gnu.gdb.arm.m-system`` carries MSP and PSP (gdb picks the stack an exception frame
was pushed on from them) plus PRIMASK, BASEPRI, FAULTMASK and CONTROL (ARMv7-M B1.4.3);
``org.gnu.gdb.arm.vfp`` (FPv4-SP: d0-d15, fpscr) makes gdb synthesise s0-s31 from the d
registers. The remote register numbers are the list order below (``p``/``P``/``g`` packets).
"""

from __future__ import annotations

from dataclasses import dataclass

from unicorn import arm_const as R


@dataclass(frozen=True)
class Reg:
    name: str
    bits: int
    uc_id: int
    feature: str
    type: str = "uint32"
    group: str = ""


M_PROFILE = "org.gnu.gdb.arm.m-profile"
M_SYSTEM = "org.gnu.gdb.arm.m-system"
VFP = "org.gnu.gdb.arm.vfp"


def registers(fpu: bool) -> list[Reg]:
    regs = [Reg(f"r{i}", 32, getattr(R, f"UC_ARM_REG_R{i}"), M_PROFILE) for i in range(13)]
    regs += [
        Reg("sp", 32, R.UC_ARM_REG_SP, M_PROFILE, "data_ptr"),
        Reg("lr", 32, R.UC_ARM_REG_LR, M_PROFILE),
        Reg("pc", 32, R.UC_ARM_REG_PC, M_PROFILE, "code_ptr"),
        Reg("xpsr", 32, R.UC_ARM_REG_XPSR, M_PROFILE),
        Reg("msp", 32, R.UC_ARM_REG_MSP, M_SYSTEM, "data_ptr", "system"),
        Reg("psp", 32, R.UC_ARM_REG_PSP, M_SYSTEM, "data_ptr", "system"),
        Reg("primask", 32, R.UC_ARM_REG_PRIMASK, M_SYSTEM, "uint32", "system"),
        Reg("basepri", 32, R.UC_ARM_REG_BASEPRI, M_SYSTEM, "uint32", "system"),
        Reg("faultmask", 32, R.UC_ARM_REG_FAULTMASK, M_SYSTEM, "uint32", "system"),
        Reg("control", 32, R.UC_ARM_REG_CONTROL, M_SYSTEM, "uint32", "system"),
    ]
    if fpu:
        regs += [Reg(f"d{i}", 64, getattr(R, f"UC_ARM_REG_D{i}"), VFP, "ieee_double", "float") for i in range(16)]
        regs.append(Reg("fpscr", 32, R.UC_ARM_REG_FPSCR, VFP, "int", "float"))
    return regs


def target_xml(regs: list[Reg]) -> str:
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', "<target>",
             "  <architecture>arm</architecture>"]
    feature = None
    for num, reg in enumerate(regs):
        if reg.feature != feature:
            if feature is not None:
                lines.append("  </feature>")
            feature = reg.feature
            lines.append(f'  <feature name="{feature}">')
        group = f' group="{reg.group}"' if reg.group else ""
        lines.append(f'    <reg name="{reg.name}" bitsize="{reg.bits}" regnum="{num}" type="{reg.type}"{group}/>')
    lines += ["  </feature>", "</target>", ""]
    return "\n".join(lines)
