"""Chips on a board's buses (I2C, SPI), one module each, registered by their board-file ``type`` name.

A board lists them with the controller they hang on and how they are wired; the bus
controllers (STM32 I2C/SPI, nRF52 TWIM/SPIM) talk to them through :mod:`simcore.devices.bus`.
Modules are imported when a board uses them. docs/bus-devices.md describes the interface and
every model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simcore.devices.base import BusDevice

_REGISTRY: dict[str, type[BusDevice]] = {}  # and the PDM microphones (simcore.devices.pdm)
_MODULES = {
    "lis3dh": "lis3dh",
    "lis3dsh": "lis3dsh",
    "lsm6dsl": "lsm6dsl",
    "lsm9ds1": "lsm9ds1",
    "lsm9ds1_mag": "lsm9ds1",
    "bmi270": "bmi270",
    "hts221": "hts221",
    "apds9960": "apds9960",
    "ov7670": "ov7670",
    "mp45dt02": "pdm",
    "mp34dt01": "pdm",
    "mp34dt05": "pdm",
}


def register_device(cls: type[BusDevice]) -> type[BusDevice]:
    """Class decorator: make a chip model available to board files under ``cls.TYPE``."""
    _REGISTRY[cls.TYPE] = cls
    return cls


def known_devices() -> set[str]:
    return set(_MODULES) | set(_REGISTRY)


def device_for(type_name: str) -> type[BusDevice]:
    if type_name not in _REGISTRY:
        importlib.import_module(f"simcore.devices.{_MODULES[type_name]}")
    return _REGISTRY[type_name]


__all__ = ["register_device", "known_devices", "device_for"]
