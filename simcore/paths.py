"""Where simcore keeps files it builds or caches: never in the checkout.

``cache_dir()`` is ``$SIMCORE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/simcore``, else
``~/.cache/simcore`` (the XDG base directory convention); created on first use.
"""

from __future__ import annotations

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
