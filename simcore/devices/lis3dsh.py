"""ST LIS3DSH three-axis accelerometer (datasheet DocID022405), the STM32F4 Discovery's, on SPI (or I2C).

WHO_AM_I 3Fh, INFO1 21h; CTRL_REG4 ODR[3:0] (3.125, 6.25, 12.5, 25, 50, 100, 400, 800,
1600 Hz), BDU; CTRL_REG5 FSCALE[2:0] (+-2, 4, 6, 8, 16 g; sensitivity 0.06, 0.12, 0.18, 0.24,
0.73 mg/digit), 16-bit output; CTRL_REG3 DR_EN / IEA (INT polarity, 0 = active low) / INT1_EN;
CTRL_REG6 FIFO_EN, WTM_EN, ADD_INC (register address auto-increment, set after reset) and the
FIFO routing to INT1 (P1_WTM, P1_OVERRUN, P1_EMPTY); FIFO_CTRL FMODE[2:0] (bypass, FIFO,
stream; the trigger-driven modes need the state machines and stay in their first mode);
STAT (18h) DRDY and DOR. SPI frames: bit 7 read, bits 6-0 the register address.

Not modelled (non-zero writes reported): the two programmable state machines (CTRL_REG1/2 and
40h-7Fh), offset and constant-shift registers, the vector filter, self-test, the temperature
output, pulsed interrupts (IEL = 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from simcore.devices import register_device
from simcore.devices.base import FifoDevice, clamp_int, reg8
from simcore.devices.fifo import FifoMode
from simcore.devices.st_accel import StAccel
from simcore.registers import Field

if TYPE_CHECKING:
    import numpy as np

WHO_AM_I = 0x3F
ODR_HZ = (0.0, 3.125, 6.25, 12.5, 25.0, 50.0, 100.0, 400.0, 800.0, 1600.0)
SENSITIVITY_MG = (0.06, 0.12, 0.18, 0.24, 0.73)
FULL_SCALE_G = (2, 4, 6, 8, 16)
# FMODE: 000 bypass, 001 FIFO, 010 stream, 011 stream then FIFO on trigger, 100 bypass then stream, 111 bypass then FIFO
FIFO_MODES = {0: FifoMode.BYPASS, 1: FifoMode.FIFO, 2: FifoMode.STREAM, 3: FifoMode.STREAM, 4: FifoMode.BYPASS,
              7: FifoMode.BYPASS}


def _state_machine_registers(sm: int) -> list[str]:
    """Names of state machine ``sm``'s 32 registers (40h-5Fh for SM1, 60h-7Fh for SM2; DES only in SM2)."""
    tail = ["TIM4", "TIM3", "TIM2_L", "TIM2_H", "TIM1_L", "TIM1_H", "THRS2", "THRS1", "DES", "MASK_B", "MASK_A",
            "SETT", "PR", "TC_L", "TC_H", "OUTS"]
    names = [f"ST{sm}_{i + 1}" for i in range(16)]
    for t in tail:
        base, _, half = t.partition("_")
        if base in ("MASK", "SETT", "PR", "OUTS", "DES", "TC"):
            names.append(f"{base}{sm}" + (f"_{half}" if half else ""))
        else:
            names.append(f"{base}_{sm}" + (f"_{half}" if half else ""))
    if sm == 1:
        names[24] = "RESERVED_58"
    return names


@register_device
class Lis3dsh(StAccel, FifoDevice):
    """LIS3DSH: accelerometer with FIFO; data ready, watermark and overrun on INT1."""

    TYPE = "lis3dsh"
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x1E, 0x1D)
    REGISTERS = (
        reg8("OUT_T", 0x0C, access="r", modelled=False),
        reg8("INFO1", 0x0D, access="r", reset=0x21),
        reg8("INFO2", 0x0E, access="r", reset=0x00),
        reg8("WHO_AM_I", 0x0F, access="r", reset=WHO_AM_I),
        *(reg8(n, 0x10 + i, implemented=0) for i, n in enumerate(("OFF_X", "OFF_Y", "OFF_Z", "CS_X", "CS_Y",
                                                                   "CS_Z"))),
        reg8("LC_L", 0x16, reset=0x01), reg8("LC_H", 0x17),
        reg8("STAT", 0x18, access="r"),
        reg8("PEAK1", 0x19, access="r"), reg8("PEAK2", 0x1A, access="r"),
        *(reg8(f"VFC_{i + 1}", 0x1B + i, implemented=0) for i in range(4)),
        reg8("THRS3", 0x1F, implemented=0),
        reg8("CTRL_REG4", 0x20, reset=0x07, fields=(
            Field("XEN", 0), Field("YEN", 1), Field("ZEN", 2), Field("BDU", 3), Field("ODR", 4, 4, on_write="_odr"))),
        reg8("CTRL_REG1", 0x21, implemented=0, doc="state machine 1: not modelled"),
        reg8("CTRL_REG2", 0x22, implemented=0, doc="state machine 2: not modelled"),
        reg8("CTRL_REG3", 0x23, fields=(
            Field("STRT", 0, on_write="_soft_reset"), Field("VFILT", 2, implemented=False),
            Field("INT1_EN", 3, on_write="_routing"), Field("INT2_EN", 4, implemented=False),
            Field("IEL", 5, implemented=False), Field("IEA", 6, on_write="_routing"),
            Field("DR_EN", 7, on_write="_routing"))),
        reg8("CTRL_REG5", 0x24, fields=(
            Field("SIM", 0), Field("ST", 1, 2, implemented=False), Field("FSCALE", 3, 3, on_write="_fscale"),
            Field("BW", 6, 2))),
        reg8("CTRL_REG6", 0x25, reset=0x10, fields=(
            Field("P2_BOOT", 0, implemented=False), Field("P1_OVERRUN", 1, on_write="_routing"),
            Field("P1_WTM", 2, on_write="_routing"), Field("P1_EMPTY", 3, on_write="_routing"),
            Field("ADD_INC", 4), Field("WTM_EN", 5, on_write="_routing"), Field("FIFO_EN", 6, on_write="_fifo"),
            Field("BOOT", 7, on_write="_boot"))),
        reg8("STATUS", 0x27, access="r"),
        reg8("OUT_X_L", 0x28, access="r"), reg8("OUT_X_H", 0x29, access="r"),
        reg8("OUT_Y_L", 0x2A, access="r"), reg8("OUT_Y_H", 0x2B, access="r"),
        reg8("OUT_Z_L", 0x2C, access="r"), reg8("OUT_Z_H", 0x2D, access="r"),
        reg8("FIFO_CTRL", 0x2E, fields=(Field("WTMP", 0, 5, on_write="_routing"),
                                        Field("FMODE", 5, 3, on_write="_fifo"))),
        reg8("FIFO_SRC", 0x2F, access="r"),
        *(reg8(n, 0x40 + i, implemented=0) for i, n in enumerate(_state_machine_registers(1))),
        *(reg8(n, 0x60 + i, implemented=0) for i, n in enumerate(_state_machine_registers(2))),
    )

    def odr_hz(self) -> float:
        code = self.values["CTRL_REG4"] >> 4
        if code >= len(ODR_HZ):
            self.guest_error(f"{self.name}.CTRL_REG4.ODR", f"ODR code {code:#x} is not in the datasheet's table: "
                             "power-down")
            return 0.0
        return ODR_HZ[code]

    def full_scale(self) -> int:
        return min((self.values["CTRL_REG5"] >> 3) & 7, 4)

    def counts(self, mg: np.ndarray) -> np.ndarray:
        return clamp_int(mg / SENSITIVITY_MG[self.full_scale()], 16)

    def fifo_config(self) -> tuple[bool, FifoMode, int]:
        c6 = self.values["CTRL_REG6"]
        mode = FIFO_MODES.get(self.values["FIFO_CTRL"] >> 5, FifoMode.BYPASS)
        return bool(c6 & 0x40), mode, (self.values["FIFO_CTRL"] & 0x1F) if c6 & 0x20 else 0

    def bdu(self) -> bool:
        return bool(self.values["CTRL_REG4"] & 0x08)

    def scale_key(self) -> int:
        return self.values["CTRL_REG5"]

    def int1_routes(self) -> tuple[bool, bool, bool]:
        c3, c6 = self.values["CTRL_REG3"], self.values["CTRL_REG6"]
        if not c3 & 0x08:
            return False, False, False
        return bool(c3 & 0x80), bool(c6 & 0x04), bool(c6 & 0x02)

    def int1_active(self) -> bool:
        c3, c6 = self.values["CTRL_REG3"], self.values["CTRL_REG6"]
        if c3 & 0x08 and c6 & 0x08 and self.fifo_src() & 0x20 and self._fifo_on:
            return True  # P1_EMPTY
        return super().int1_active()

    def lines_fall_only(self) -> bool:
        c3, c6 = self.values["CTRL_REG3"], self.values["CTRL_REG6"]
        return super().lines_fall_only() and not (c3 & 0x08 and c6 & 0x08)  # P1_EMPTY rises when a read empties it

    def int_active_low(self) -> bool:
        return not self.values["CTRL_REG3"] & 0x40

    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte & 0x7F, bool(self.values["CTRL_REG6"] & 0x10)

    def spi_command(self, byte: int) -> tuple[bool, int, bool]:
        return bool(byte & 0x80), byte & 0x7F, bool(self.values["CTRL_REG6"] & 0x10)

    # --- register behaviour ----------------------------------------------------------------
    def _odr(self, old: int, new: int) -> None:
        self.reconfigure()

    def _fifo(self, old: int, new: int) -> None:
        mode = self.values["FIFO_CTRL"] >> 5
        if mode in (3, 4, 7):
            self.unimplemented(f"{self.name}.FIFO_CTRL.FMODE", f"mode {mode:03b} switches on a state-machine "
                               "trigger, which simcore does not model; the FIFO stays in its first mode")
        elif mode not in FIFO_MODES:
            self.guest_error(f"{self.name}.FIFO_CTRL.FMODE", f"mode {mode:03b} is reserved: bypass")
        self.reconfigure()

    def _fscale(self, old: int, new: int) -> None:
        if new > 4:
            self.guest_error(f"{self.name}.CTRL_REG5.FSCALE", f"FSCALE {new:03b} is not in the datasheet's table: "
                             "+-16 g used")

    def _boot(self, old: int, new: int) -> None:
        self.values["CTRL_REG6"] &= ~0x80

    def read_STATUS(self) -> int:
        return self.status()

    def read_STAT(self) -> int:
        s = self.status()
        return (0x01 if s & 0x08 else 0) | (0x02 if s & 0x80 else 0)

    def read_FIFO_SRC(self) -> int:
        return self.fifo_src()
