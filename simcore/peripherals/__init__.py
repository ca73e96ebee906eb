"""Peripheral models, one module each, registered by their board-file ``type`` name."""

from __future__ import annotations

from simcore.peripherals.base import Host, PeripheralModel, Register

_REGISTRY: dict[str, type[PeripheralModel]] = {}


def register_model(cls: type[PeripheralModel]) -> type[PeripheralModel]:
    """Class decorator: make a model available to board files under ``cls.TYPE``."""
    _REGISTRY[cls.TYPE] = cls
    return cls


def _load_all() -> None:
    from simcore.peripherals import sensors, uart  # noqa: F401


def known_types() -> set[str]:
    _load_all()
    return set(_REGISTRY)


def model_for(type_name: str) -> type[PeripheralModel]:
    _load_all()
    return _REGISTRY[type_name]


__all__ = ["Host", "PeripheralModel", "Register", "register_model", "known_types", "model_for"]
