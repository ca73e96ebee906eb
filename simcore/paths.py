"""Where simcore keeps files it builds or caches: never in the checkout.

``cache_dir()`` is ``$SIMCORE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/simcore``, else
``~/.cache/simcore`` (the XDG base directory convention); created on first use.
"""

from __future__ import annotations

import importlib.machinery
import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """The cache directory (or a subdirectory of it), created if missing."""
    env = os.environ.get("SIMCORE_CACHE_DIR")
    if env:
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".cache") / "simcore"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def native_extension(stem: str) -> Path | None:
    """The C library ``simcore/<stem><suffix>`` that setup.py built (``_hotpath``, ``_pdm``, ``_png``), or None when
    it was not built or ``SIMCORE_NO_NATIVE=1`` asks for the Python twins."""
    if os.environ.get("SIMCORE_NO_NATIVE") == "1":
        return None
    here = Path(__file__).resolve().parent
    return next((p for s in importlib.machinery.EXTENSION_SUFFIXES if (p := here / f"{stem}{s}").exists()), None)
