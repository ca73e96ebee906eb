"""The methods ``dataclasses`` generates for simcore's classes, compiled once per machine instead of per start.

Python 3.11's ``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and
(frozen) ``__setattr__``/``__delattr__`` as source text and compiles it with ``exec``: simcore's 56
start-up dataclasses make 271 such compilations, a fifth of the instructions a warm ``simcore run``
spends before the first guest instruction (valgrind). The text is a pure function of the class
definition, so its code object can be kept: :func:`install` routes the ``exec`` calls ``dataclasses``
makes for modules of the ``simcore`` package through a table of code objects (text -> code) that is
read from ``cache_dir("code")`` on first use and written back when the process ends if it grew.

The code is what ``exec`` itself would compile: the same text, the ``"<string>"`` file name, no
inherited ``__future__`` flags (``dataclasses`` has none), so the generated methods are the same
(tests/unit/test_codecache.py). Other modules' dataclasses and any other ``exec`` pass through
untouched. A table for another Python build, or one that cannot be read, is ignored and rebuilt.
"""

from __future__ import annotations

import atexit
import builtins
import gc
import hashlib
import marshal
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any

_TABLE: dict[str, CodeType] | None = None  # read on first use
_NEW = 0  # entries compiled in this process (the table is written back at exit when > 0)
_USED: set[str] = set()  # texts asked for in this process
MAX_ENTRIES = 4000  # a table grown past this (many simcore versions) is written back with this process's only
_exec = builtins.exec


def _path() -> Path:
    from simcore.paths import cache_dir

    build = hashlib.sha256(sys.version.encode()).hexdigest()[:12]  # code objects are per interpreter build
    return cache_dir("code") / f"dataclasses-{sys.implementation.cache_tag}-{build}.marshal"


def _load() -> dict[str, CodeType]:
    try:
        table = marshal.loads(_path().read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(k, str) and isinstance(v, CodeType)}


def _save() -> None:
    """Write the table back (atomically: a temporary file renamed over the old one) if it grew."""
    if not _NEW or _TABLE is None:
        return
    table = _TABLE if len(_TABLE) <= MAX_ENTRIES else {k: v for k, v in _TABLE.items() if k in _USED}
    try:
        path = _path()
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(table))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache directory: the next start compiles again


def compiled(text: str) -> CodeType:
    """The code object ``exec(text, ...)`` would compile, from the table when it has it."""
    global _TABLE, _NEW
    if _TABLE is None:
        _TABLE = _load()
    _USED.add(text)
    code = _TABLE.get(text)
    if code is None:
        code = _TABLE[text] = compile(text, "<string>", "exec", dont_inherit=True)
        _NEW += 1
    return code


def _dataclasses_exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:  # noqa: A002
    """``exec`` as ``dataclasses`` calls it: simcore classes' generated source through the table."""
    if (isinstance(source, str) and isinstance(globals, dict)
            and str(globals.get("__name__", "")).startswith("simcore.")):
        source = compiled(source)
    _exec(source, globals, locals)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (restored after, also on an error).

    Loading simcore's modules and building a machine create ~10^5 containers (functions, classes,
    register tables) that all stay alive: each collection the allocation count triggers meanwhile
    walks them again for nothing, 7% of a warm start-up's instructions (valgrind: gc_collect_main and
    its visitors). Garbage made inside the block is collected by the first collection after it.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def install() -> None:
    """Route ``dataclasses``' ``exec`` calls through :func:`_dataclasses_exec` (once per process)."""
    import dataclasses

    if getattr(dataclasses, "exec", None) is not _dataclasses_exec:
        dataclasses.exec = _dataclasses_exec  # type: ignore[attr-defined]  # a module global shadows the builtin
        atexit.register(_save)
