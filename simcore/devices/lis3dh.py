"""ST LIS3DH three-axis accelerometer (datasheet DocID17530 Rev 2), on I2C or SPI.

Register map, WHO_AM_I 33h, ODR table (CTRL_REG1 ODR[3:0]: 1, 10, 25, 50, 100, 200, 400 Hz,
1.620 kHz low-power only, 1.344 kHz normal/high-resolution or 5.376 kHz low-power), operating
modes and their resolutions (high-resolution 12 bits, normal 10 bits, low-power 8 bits, left
justified in the 16-bit output), sensitivities (mg/digit, +-2/4/8/16 g: HR 1/2/4/12, normal
4/8/16/48, low-power 16/32/64/192; datasheet Table 4), the 32-level FIFO with bypass, FIFO,
stream and stream-to-FIFO modes (section 5.1), and INT1 routing of data ready, FIFO
watermark and FIFO overrun (CTRL_REG3). I2C sub-address bit 7 and SPI bit 1 (MS) select
address auto-increment. I2C address 18h or 19h (SA0).

Not modelled (writes setting them are reported): the high-pass filter, the interrupt
generators, click and activity detection, self-test, the auxiliary ADC and temperature
sensor; stream-to-FIFO's trigger comes from the interrupt generators, so it stays in stream.
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

WHO_AM_I = 0x33
# CTRL_REG1 ODR[3:0] -> Hz: (normal / high resolution, low power)
ODR_HZ = {1: (1.0, 1.0), 2: (10.0, 10.0), 3: (25.0, 25.0), 4: (50.0, 50.0), 5: (100.0, 100.0), 6: (200.0, 200.0),
          7: (400.0, 400.0), 8: (0.0, 1620.0), 9: (1344.0, 5376.0)}
SENSITIVITY_MG = {12: (1.0, 2.0, 4.0, 12.0), 10: (4.0, 8.0, 16.0, 48.0), 8: (16.0, 32.0, 64.0, 192.0)}
FIFO_MODES = {0: FifoMode.BYPASS, 1: FifoMode.FIFO, 2: FifoMode.STREAM, 3: FifoMode.STREAM}


@register_device
class Lis3dh(StAccel, FifoDevice):
    """LIS3DH: accelerometer, 32-level FIFO, data-ready / watermark / overrun on INT1."""

    TYPE = "lis3dh"
    I2C_ADDRESSES: ClassVar[tuple[int, ...]] = (0x18, 0x19)
    REGISTERS = (
        reg8("STATUS_REG_AUX", 0x07, access="r", implemented=0),
        *(reg8(f"OUT_ADC{i // 2 + 1}_{'LH'[i % 2]}", 0x08 + i, access="r", modelled=False) for i in range(6)),
        reg8("WHO_AM_I", 0x0F, access="r", reset=WHO_AM_I),
        reg8("CTRL_REG0", 0x1E, reset=0x10, implemented=0x10),
        reg8("TEMP_CFG_REG", 0x1F, implemented=0, doc="ADC and temperature sensor: not modelled"),
        reg8("CTRL_REG1", 0x20, reset=0x07, fields=(
            Field("XEN", 0), Field("YEN", 1), Field("ZEN", 2), Field("LPEN", 3, on_write="_changed"),
            Field("ODR", 4, 4, on_write="_changed"))),
        reg8("CTRL_REG2", 0x21, implemented=0, doc="high-pass filter: not modelled"),
        reg8("CTRL_REG3", 0x22, fields=(
            Field("I1_OVERRUN", 1, on_write="_routing"), Field("I1_WTM", 2, on_write="_routing"),
            Field("I1_321DA", 3, implemented=False), Field("I1_ZYXDA", 4, on_write="_routing"),
            Field("I1_IA2", 5, implemented=False), Field("I1_IA1", 6, implemented=False),
            Field("I1_CLICK", 7, implemented=False))),
        reg8("CTRL_REG4", 0x23, fields=(
            Field("SIM", 0), Field("ST", 1, 2, implemented=False), Field("HR", 3, on_write="_changed"),
            Field("FS", 4, 2), Field("BLE", 6, on_write="_ble"), Field("BDU", 7))),
        reg8("CTRL_REG5", 0x24, fields=(
            Field("D4D_INT2", 0, implemented=False), Field("LIR_INT2", 1, implemented=False),
            Field("D4D_INT1", 2, implemented=False), Field("LIR_INT1", 3, implemented=False),
            Field("FIFO_EN", 6, on_write="_changed"), Field("BOOT", 7, on_write="_boot"))),
        reg8("CTRL_REG6", 0x25, fields=(
            Field("INT_POLARITY", 1, on_write="_routing"), Field("I2_ACT", 3, implemented=False),
            Field("I2_BOOT", 4, implemented=False), Field("I2_IA2", 5, implemented=False),
            Field("I2_IA1", 6, implemented=False), Field("I2_CLICK", 7, implemented=False))),
        reg8("REFERENCE", 0x26),
        reg8("STATUS_REG", 0x27, access="r"),
        reg8("OUT_X_L", 0x28, access="r"), reg8("OUT_X_H", 0x29, access="r"),
        reg8("OUT_Y_L", 0x2A, access="r"), reg8("OUT_Y_H", 0x2B, access="r"),
        reg8("OUT_Z_L", 0x2C, access="r"), reg8("OUT_Z_H", 0x2D, access="r"),
        reg8("FIFO_CTRL_REG", 0x2E, fields=(
            Field("FTH", 0, 5, on_write="_routing"), Field("TR", 5), Field("FM", 6, 2, on_write="_fifo_mode"))),
        reg8("FIFO_SRC_REG", 0x2F, access="r"),
        *(reg8(n, 0x30 + i, implemented=0) for i, n in enumerate(
            ("INT1_CFG", "INT1_SRC", "INT1_THS", "INT1_DURATION", "INT2_CFG", "INT2_SRC", "INT2_THS",
             "INT2_DURATION", "CLICK_CFG", "CLICK_SRC", "CLICK_THS", "TIME_LIMIT", "TIME_LATENCY", "TIME_WINDOW",
             "ACT_THS", "ACT_DUR"))),
    )

    # --- configuration ---------------------------------------------------------------------
    def _low_power(self) -> bool:
        return bool(self.values["CTRL_REG1"] & 0x08)

    def resolution(self) -> int:
        if self._low_power():
            return 8
        return 12 if self.values["CTRL_REG4"] & 0x08 else 10

    def odr_hz(self) -> float:
        code = self.values["CTRL_REG1"] >> 4
        if code == 0:
            return 0.0
        if code not in ODR_HZ:
            self.guest_error(f"{self.name}.CTRL_REG1.ODR", f"ODR code {code:#x} is not in the datasheet's table: "
                             "power-down")
            return 0.0
        hz = ODR_HZ[code][1 if self._low_power() else 0]
        if not hz:
            self.guest_error(f"{self.name}.CTRL_REG1.ODR", "1.620 kHz exists in low-power mode only (LPen = 1): "
                             "power-down")
        return hz

    def counts(self, mg: np.ndarray) -> np.ndarray:
        bits = self.resolution()
        sens = SENSITIVITY_MG[bits][(self.values["CTRL_REG4"] >> 4) & 3]
        return clamp_int(mg / sens, bits) << (16 - bits)

    def fifo_config(self) -> tuple[bool, FifoMode, int]:
        ctrl = self.values["FIFO_CTRL_REG"]
        return bool(self.values["CTRL_REG5"] & 0x40), FIFO_MODES[ctrl >> 6], ctrl & 0x1F

    def bdu(self) -> bool:
        return bool(self.values["CTRL_REG4"] & 0x80)

    def scale_key(self) -> int:
        return (self.values["CTRL_REG1"] & 0x08) << 8 | self.values["CTRL_REG4"]

    def int1_routes(self) -> tuple[bool, bool, bool]:
        c3 = self.values["CTRL_REG3"]
        return bool(c3 & 0x10), bool(c3 & 0x04), bool(c3 & 0x02)

    def int_active_low(self) -> bool:
        return bool(self.values["CTRL_REG6"] & 0x02)

    # --- I2C / SPI framing (section 6): SUB bit 7 / SPI MS bit 1 select auto-increment ------------
    def sub_address(self, byte: int) -> tuple[int, bool]:
        return byte & 0x7F, bool(byte & 0x80)

    def spi_command(self, byte: int) -> tuple[bool, int, bool]:
        return bool(byte & 0x80), byte & 0x3F, bool(byte & 0x40)

    # --- register behaviour ----------------------------------------------------------------
    def _changed(self, old: int, new: int) -> None:
        if self.values["CTRL_REG1"] & 0x08 and self.values["CTRL_REG4"] & 0x08:
            self.guest_error(f"{self.name}.CTRL_REG4.HR", "LPen and HR both set: not allowed (datasheet Table 10)")
        self.reconfigure()

    def _fifo_mode(self, old: int, new: int) -> None:
        if new == 3:
            self.unimplemented(f"{self.name}.FIFO_CTRL_REG.FM", "stream-to-FIFO: the trigger comes from the "
                               "interrupt generators, which simcore does not model; the FIFO stays in stream mode")
        self.reconfigure()

    def _ble(self, old: int, new: int) -> None:
        if new:
            self.unimplemented(f"{self.name}.CTRL_REG4.BLE", "big-endian output (BLE = 1) is not modelled")

    def _boot(self, old: int, new: int) -> None:
        self.values["CTRL_REG5"] &= ~0x80  # reboot of the trimming values is immediate here

    def read_STATUS_REG(self) -> int:
        return self.status()

    def read_FIFO_SRC_REG(self) -> int:
        return self.fifo_src()
