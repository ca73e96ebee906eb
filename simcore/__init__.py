"""simcore: run Cortex-M4 TinyML firmware on an emulated part with exact counts."""

__version__ = "0.1.0"
