"""nRF52840 peripherals on the part's SVD table, with Nordic's task/event/shortcut/interrupt semantics.

One module per block (Product Specification v1.7); :mod:`simcore.peripherals.nrf52.common`
holds what they share (docs/nrf52.md).
"""
