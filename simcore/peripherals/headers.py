"""``python -m simcore.peripherals.headers TYPE``: print a model's C header (see sensors/headers.py)."""

from __future__ import annotations

from simcore.peripherals.sensors.headers import generate_header, main

__all__ = ["generate_header", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
