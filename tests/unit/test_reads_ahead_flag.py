"""BusDevice.READS_AHEAD says which chips answer read_ahead: the nRF52 TWIM looks no further on a bus without one
(Nrf52Twim.twim_flight), so a chip that overrides read_ahead without the flag would silently lose its C wake."""

from __future__ import annotations

from simcore.devices import device_for, known_devices
from simcore.devices.base import BusDevice


def test_flag_matches_read_ahead_override() -> None:
    """Every registered chip sets READS_AHEAD exactly when it overrides read_ahead; the LSM9DS1 (FIFO_SRC) and the
    BMI270 (FIFO_LENGTH) are two."""
    flagged = set()
    for name in sorted(known_devices()):
        cls = device_for(name)
        if not issubclass(cls, BusDevice):
            continue
        overrides = cls.read_ahead is not BusDevice.read_ahead
        assert cls.READS_AHEAD == overrides, f"{name}: READS_AHEAD {cls.READS_AHEAD}, read_ahead overridden {overrides}"
        if overrides:
            flagged.add(name)
    assert "lsm9ds1" in flagged and "bmi270" in flagged
