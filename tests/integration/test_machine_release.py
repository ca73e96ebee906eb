"""Machines release their Unicorn engine: collected once unreferenced, closed at once by the runners, and
built with a code buffer small enough that several engines lie within direct-call range of Unicorn's helpers
(simcore.machine.TCG_BUFFER_BYTES, Machine.close).

Before: a finalizer's arguments kept every machine alive for the process's life, and each engine's 1 GiB code
buffer put every engine built after the first beyond 2 GiB of libunicorn: a later machine ran div_bench 25% slower.
"""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

from simcore import api
from simcore.errors import SimcoreError
from simcore.machine import TCG_BUFFER_BYTES, Machine
from tests.conftest import FIRMWARE

HELLO = FIRMWARE / "cortex-m4" / "hello.elf"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")


def _code_buffers() -> list[tuple[int, int]]:
    """(start, end) of every writable and executable mapping: Unicorn's code buffers."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            span, perms = line.split()[:2]
            if perms.startswith("rwx"):
                lo, hi = (int(x, 16) for x in span.split("-"))
                out.append((lo, hi))
    return out


def _unicorn_text() -> tuple[int, int]:
    """The lowest and highest address of libunicorn's mappings."""
    spans = []
    with open("/proc/self/maps") as f:
        for line in f:
            if "libunicorn" in line:
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                spans.append((lo, hi))
    assert spans, "libunicorn is not mapped"
    return min(s[0] for s in spans), max(s[1] for s in spans)


def test_a_machine_nobody_references_is_collected_with_its_engine():
    m = api.prepare(HELLO, "cortex-m4", echo=None)
    m.run()
    machine, engine = weakref.ref(m), weakref.ref(m.uc)
    del m
    gc.collect()
    assert machine() is None, "something global still holds the machine (a finalizer's arguments?)"
    assert engine() is None


def test_close_releases_the_engine_keeps_the_figures_and_refuses_a_second_run():
    m = api.prepare(HELLO, "cortex-m4", echo=None)
    stop = m.run()
    instructions, console = m.instructions, bytes(m.console)
    release = m.uc._Uc__finalizer  # noqa: SLF001 - unicorn's uc_close, run once
    assert release.alive
    m.close()
    assert not release.alive
    m.close()  # idempotent
    assert m.closed and stop.exit_code == 0
    assert m.instructions == instructions > 0 and bytes(m.console) == console and b"Hello" in console
    with pytest.raises(SimcoreError, match="closed"):
        m.run()


def test_with_closes_and_api_run_closes_its_machine(monkeypatch):
    closed: list[Machine] = []
    original = Machine.close

    def spy(self: Machine) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(Machine, "close", spy)
    with api.prepare(HELLO, "cortex-m4", echo=None) as m:
        m.run()
    assert closed == [m] and m.closed
    res = api.run(HELLO, "cortex-m4", echo=None)
    assert res.exit_status == 0 and len(closed) == 2 and closed[1] is not m and closed[1].closed


@linux_only
def test_several_live_engines_lie_within_direct_call_range_of_unicorns_helpers():
    lib_lo, lib_hi = _unicorn_text()
    before = set(_code_buffers())
    machines = [api.prepare(HELLO, "cortex-m4", echo=None) for _ in range(4)]
    for m in machines:
        m.run()  # (the engine maps its buffer when it first translates)
    new = [b for b in _code_buffers() if b not in before and b[1] - b[0] >= TCG_BUFFER_BYTES // 2]
    assert len(new) == 4, f"expected one code buffer per engine, found {[(hex(a), hex(b)) for a, b in new]}"
    for lo, hi in new:
        assert hi - lo <= TCG_BUFFER_BYTES + (4 << 20)  # (Unicorn rounds and adds a guard page)
        # x86-64 rel32 calls reach +-2 GiB: the buffer's far end to the library's far end
        assert max(abs(lib_hi - lo), abs(hi - lib_lo)) < 2 << 30, \
            f"code buffer {lo:#x}-{hi:#x} is beyond 2 GiB of libunicorn {lib_lo:#x}-{lib_hi:#x}"
    for m in machines:
        m.close()
    assert not any(b in _code_buffers() for b in new), "close() left a code buffer mapped"
