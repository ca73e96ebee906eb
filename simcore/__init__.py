"""simcore: run Cortex-M4 TinyML firmware on an emulated part with exact counts."""

from simcore import codecache

codecache.install()  # simcore's dataclasses' generated methods compiled once per machine (start-up)

__version__ = "0.1.0"
