"""simcore.codecache: simcore's dataclasses get the same generated methods from the table as from ``exec``,
other code is left alone, and a bad table is rebuilt (issue 16 start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

# Every generated method of every dataclass in simcore's start-up modules, as data: its code (recursively),
# annotations and defaults. ``PLAIN`` leaves dataclasses' own exec in place before those modules load.
PROBE = """
import dataclasses, json, sys, types
import simcore
if sys.argv[1] == "plain":
    del dataclasses.exec
import simcore.api, simcore.machine
from simcore import codecache

def code(c):
    return [c.co_name, c.co_filename, c.co_code.hex(), list(c.co_names), list(c.co_varnames), list(c.co_freevars),
            c.co_argcount, c.co_kwonlyargcount, c.co_flags,
            [code(k) if isinstance(k, types.CodeType) else repr(k) for k in c.co_consts]]

out = {}
for name, mod in sorted(sys.modules.items()):
    if not name.startswith("simcore."):
        continue
    for cls in vars(mod).values():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == name:
            for meth, fn in sorted(vars(cls).items()):
                if isinstance(fn, types.FunctionType) and fn.__code__.co_filename == "<string>":
                    out[f"{name}.{cls.__qualname__}.{meth}"] = [code(fn.__code__), repr(fn.__annotations__),
                                                                repr(fn.__defaults__), repr(fn.__kwdefaults__)]
print(json.dumps({"methods": out, "new": codecache._NEW, "table": len(codecache._TABLE or {})}))
"""


def _probe(cache: Path, mode: str = "cached") -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SIMCORE_CACHE_DIR=str(cache))
    proc = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, check=True)
    return json.loads(proc.stdout)


def test_generated_methods_equal_exec_and_the_table_is_used(tmp_path: Path) -> None:
    plain = _probe(tmp_path / "plain", "plain")
    cold = _probe(tmp_path / "cache")  # compiles and fills the table (written at exit)
    warm = _probe(tmp_path / "cache")  # reads it
    assert len(plain["methods"]) > 200  # __init__, __repr__, __eq__, ... of simcore's start-up dataclasses
    assert plain["new"] == 0 and plain["table"] == 0  # dataclasses' own exec compiled those
    assert cold["methods"] == plain["methods"]
    assert warm["methods"] == plain["methods"]
    assert cold["new"] >= len(plain["methods"])  # (and dataclasses not reachable as module attributes)
    assert warm["new"] == 0 and warm["table"] >= cold["new"]


def test_other_modules_dataclasses_pass_through() -> None:
    from simcore import codecache

    codecache.install()
    before = (codecache._NEW, len(codecache._TABLE or {}))

    @dataclass(frozen=True)
    class Outside:  # this test module is not in the simcore package
        a: int
        b: str = "x"

    assert Outside(1) == Outside(1, "x") and repr(Outside(2)) == "test_other_modules_dataclasses_pass_through." \
        "<locals>.Outside(a=2, b='x')"
    assert (codecache._NEW, len(codecache._TABLE or {})) == before


def test_an_unreadable_table_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    cold = _probe(tmp_path)
    tables = list((tmp_path / "code").glob("dataclasses-*.marshal"))
    assert len(tables) == 1
    tables[0].write_bytes(b"not a marshal table")
    again = _probe(tmp_path)
    assert again["methods"] == cold["methods"] and again["new"] == cold["new"]  # compiled again
    assert _probe(tmp_path)["new"] == 0  # and written back
