"""Sensor peripheral models fed from recorded data: microphones, IMU, camera, ADC, GPIO.

One module each, imported when a board uses its model (simcore.peripherals._MODULES) or a chip
model needs the shared machinery (``common``): a kit board's IMU chip does not build the generic
sensor peripherals' register tables. :func:`register_all` imports every one (header generation).
"""

from __future__ import annotations

import importlib

MODULES = ("mic", "imu", "camera", "adc", "gpio")


def register_all() -> None:
    """Import every sensor model module, registering its models with simcore.peripherals.register_model."""
    for name in MODULES:
        importlib.import_module(f"simcore.peripherals.sensors.{name}")


__all__ = ["MODULES", "register_all"]
