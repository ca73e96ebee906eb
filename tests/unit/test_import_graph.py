"""simcore's modules import without cycles: each alone in a fresh interpreter, and the import graph is acyclic.

The graph has an edge A -> B for every ``import``/``from ... import`` of a simcore module B in
A, at module level or inside a function (a lazy import hides a cycle, it does not remove
it); imports under ``if TYPE_CHECKING:`` are annotations only and do not count.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "simcore"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # runs the CLI when imported
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(path: Path, package: str, mods: dict[str, Path]) -> set[str]:
    """The simcore modules ``path`` imports (TYPE_CHECKING blocks aside)."""
    deps: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.orelse:
                    visit(stmt)
                continue
            if isinstance(child, ast.Import):
                deps.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative import
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    deps.add(full if full in mods else base)
            visit(child)

    visit(ast.parse(path.read_text()))
    return deps


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {d for d in _imports(path, package, mods) if d in mods and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_the_import_graph_has_no_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 40 and "simcore.machine" in graph["simcore.api"]
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_leaf_modules_stay_leaves() -> None:
    graph = import_graph()
    assert graph["simcore.runtypes"] <= {"simcore.errors"}
    assert graph["simcore.errors"] == set()
    assert graph["simcore.memmap"] == set()
    assert graph["simcore.cortexm"] == set()  # the package imports none of its blocks
    cortexm = {n for n in graph if n.startswith("simcore.cortexm")}
    for name in cortexm:  # the system block reaches the machine only through cortexm/host.py's protocol
        assert not graph[name] & {"simcore.machine", "simcore.api"}, name
    assert not graph["simcore.diagnose"] & (cortexm | {"simcore.machine"})


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    names = sorted(_modules())
    procs = []
    for i in range(0, len(names), 8):  # 8 interpreters at a time
        batch = [(n, subprocess.Popen([sys.executable, "-c", f"import {n}"], env=env, cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
                 for n in names[i:i + 8]]
        for name, proc in batch:
            _, err = proc.communicate(timeout=120)
            procs.append((name, proc.returncode, err.strip().splitlines()[-1:] if err else []))
    failed = [(n, rc, e) for n, rc, e in procs if rc != 0]
    if failed:
        pytest.fail(f"modules that do not import alone: {failed}")
