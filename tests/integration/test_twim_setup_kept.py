"""The TWIM's set-up kept between reads (issue 12, fifteenth round): Nrf52Twim._twim_setup keeps what twim_flight and
_make_offer take from the set-up alone (value indices, INTEN and ENABLE allowing an offer, the bit period, the events'
value indices, STOPPED's clear slot), looked up once instead of at every arming. These drive the model of a paused
Nano 33 BLE Sense (Rev1) run directly: every change of the set-up the firmware could make through the model (INTEN,
ENABLE, FREQUENCY, an event handed to the register file) must show in the next offer, as a fresh look-up gives it.
"""

from __future__ import annotations

from typing import Any

import pytest

from simcore.abi import TW_NONE
from simcore.peripherals.nrf52.common import NordicPeripheral
from simcore.peripherals.nrf52.serial import Nrf52Twim, TwimOffer
from tests.integration.test_wfi_wake_in_c import _machine, pause_after_settled

pytestmark = pytest.mark.usefixtures("per_tick_paths")  # each tick through the per-tick paths

INTENSET, INTENCLR, ENABLE, FREQUENCY = 0x304, 0x308, 0x500, 0x524
K100, K400 = 0x01980000, 0x06400000  # FREQUENCY's K100 and K400 (PS 6.31.7.15)
EVENTS = (Nrf52Twim.EV_TXSTARTED, Nrf52Twim.EV_LASTTX, Nrf52Twim.EV_RXSTARTED, Nrf52Twim.EV_LASTRX,
          Nrf52Twim.EV_STOPPED)


MISO = bytes(range(6))


def _offer(t: Nrf52Twim) -> TwimOffer | None:
    """The offer of a 6-byte drain after a transfer under way, as twim_flight asks it (``ahead``; the answer's host
    address left out: it is the bytes object's)."""
    chip = t.bus.targets[0x6B]
    got = t._make_offer((chip, (0x28, MISO, 6), t._line_free_fs + 10**9, t._line_free_fs + 10**12))
    return got._replace(miso_addr=0) if got is not None else None


def _fresh(t: Nrf52Twim) -> Any:
    """The offer from a set-up looked up anew (the kept one put back after)."""
    kept = t._setup
    t._setup = None
    try:
        return _offer(t)
    finally:
        t._setup = kept


def test_the_kept_set_up_follows_every_change_of_it() -> None:
    m = pause_after_settled(_machine(240), "_arm_flight", 3, "flight armed")
    t = m.peripheral("twim1")
    assert isinstance(t, Nrf52Twim) and 0x6B in t.bus.targets
    first = _offer(t)
    assert first is not None and t._setup is not None  # kept by the run's armings
    assert first == _fresh(t) and first.bit_fs == t.bit_fs() == 2_560_000_000  # (0x06400000: 390.625 kbps)
    # STOPPED's interrupt off: no offer (C could not wake the wfi at STOPPED); on again: the same offer
    t.write(INTENCLR, 4, 1 << t.EV_STOPPED)
    assert _offer(t) is None and _fresh(t) is None
    t.write(INTENSET, 4, 1 << t.EV_STOPPED)
    assert _offer(t) == first
    # an interrupt of the transfer's own events on: none either
    t.write(INTENSET, 4, 1 << t.EV_LASTRX)
    assert _offer(t) is None
    t.write(INTENCLR, 4, 1 << t.EV_LASTRX)
    assert _offer(t) == first
    # another bit rate: the offer's bit period follows (the flight's STOPPED time with it)
    t.write(FREQUENCY, 4, K100)
    slow = _offer(t)
    assert slow is not None and slow.bit_fs == t.bit_fs() > 3 * first.bit_fs and slow == _fresh(t)
    t.write(FREQUENCY, 4, K400)
    assert _offer(t) == first
    # disabled: none
    t.write(ENABLE, 4, 0)
    assert _offer(t) is None
    t.write(ENABLE, 4, Nrf52Twim.ENABLED)
    assert _offer(t) == first


def test_an_event_handed_to_the_register_file_shows_in_the_kept_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NordicPeripheral, "HELD_AT_BUILD", False)  # (else every event is held from the build on)
    m = pause_after_settled(_machine(240), "_arm_flight", 3, "flight armed")
    t = m.peripheral("twim1")
    assert isinstance(t, Nrf52Twim)
    first = _offer(t)
    assert first is not None and first.events == tuple(t._held.get(i, TW_NONE) for i in EVENTS)
    loose = [i for i in EVENTS if i not in t._held]
    assert loose  # (the firmware reads none of the transfer's own events: not all held)
    t.read_EVENTS(loose[0])  # its first read through the model hands it to the register file
    assert loose[0] in t._held
    got = _offer(t)
    assert got is not None and got.events == tuple(t._held.get(i, TW_NONE) for i in EVENTS) != first.events
    assert got == _fresh(t)
