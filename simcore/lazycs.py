"""capstone on first use: its ARM constants and Thumb disassemblers, without importing it up front.

Importing the ``capstone`` package loads its shared library and every architecture's module
(15-25 ms of CPU, a sixth of a plain run's start-up), yet the native hot path decodes blocks in
C (simcore/native/decode.c): capstone is needed only where text is (reports, profiles, the
debugger) or the Python twin analyses a block. Modules that price capstone instructions read
their constants through :data:`A` and build their instruction-id sets with :class:`Lazy`, so
both exist from the first attribute read on, by which time capstone has decoded something.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


class Lazy:
    """Attributes made by ``build()`` (a name -> value mapping) at the first read, then plain
    instance attributes (as fast to read as a module's)."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self.__dict__["_build"] = build

    def __getattr__(self, name: str) -> Any:
        build = self.__dict__.pop("_build", None)
        if build is not None:
            self.__dict__.update(build())
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None


A: Any = Lazy(lambda: vars(importlib.import_module("capstone.arm_const")))
"""capstone's ``arm_const`` (ARM_INS_*, ARM_OP_*, ARM_REG_*, ARM_CC_*), imported when first read."""


def thumb(detail: bool = False) -> Any:
    """A capstone disassembler for Thumb-2 in M-class mode (operand details on with ``detail``)."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = detail
    return md
