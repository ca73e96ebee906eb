"""Sensor peripheral models fed from recorded data: microphones, IMU, camera, ADC, GPIO.

Importing this package registers every model with :func:`simcore.peripherals.register_model`.
"""

from __future__ import annotations

from simcore.peripherals.sensors import adc, camera, gpio, imu, mic  # noqa: F401
from simcore.peripherals.sensors.common import SensorModel
from simcore.registers import Field

MODULES = ("mic", "imu", "camera", "adc", "gpio")
__all__ = ["Field", "SensorModel", "MODULES"]
