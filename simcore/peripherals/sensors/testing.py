"""The fake host the sensor tests use: :mod:`simcore.peripherals.testing` (one for every peripheral)."""

from simcore.peripherals.testing import FakeHost, peripheral

__all__ = ["FakeHost", "peripheral"]
