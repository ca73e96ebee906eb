"""pytest plugin (entry point ``pytest11``): a ``dut`` fixture that runs firmware on simcore.

    import pytest

    @pytest.mark.simcore(elf="firmware/bin/{board}/dut_demo.elf")
    @pytest.mark.boards("stm32f407vg", "nrf52840")
    @pytest.mark.clocks(16, 64)
    def test_ready(dut):
        dut.expect("ready", timeout_cycles=10_000_000)
        dut.write("hello\\n")                # console input
        assert dut.get("ticks") >= 5        # globals by name, typed from DWARF

``dut`` is a :class:`simcore.target.Target` (expect, write, get/set, call, run_until,
snapshot/restore, result). Configuration, most specific last: the options
``--simcore-board``/``--simcore-mhz``; ``@pytest.mark.simcore(elf=..., board=..., mhz=...,
**run options)`` (``elf`` relative to the test file, then the rootdir; ``{board}`` and
``{mhz}`` are filled in); and the parametrizing markers ``boards(...)``, ``clocks(...)`` and
``inputs(..., sensor="mic")`` (a recording per test for that sensor). A failing test's report
gets the console tail, where the firmware stopped (or is paused) and the fault diagnosis;
JUnit XML (``--junitxml``) carries them in the failure text and the run's instructions and
cycles as properties. Each test gets a freshly booted machine: the first test of an ELF,
board, clock and options boots it once and snapshots it, later ones restore the snapshot
(``--simcore-fresh`` builds a new machine every time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

_STASH_KEY = pytest.StashKey[Any]()
_PARAMS = ("simcore_board", "simcore_mhz", "simcore_input")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("simcore", "simcore: firmware under test on an emulated part")
    group.addoption("--simcore-board", default=None, help="board for dut tests that do not name one")
    group.addoption("--simcore-mhz", type=float, default=None, help="core clock for dut tests that do not name one")
    group.addoption("--simcore-fresh", action="store_true",
                    help="build a new machine for every test instead of restoring a boot snapshot")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "simcore(elf=None, board=None, mhz=None, **options): firmware and part "
                            "for the dut fixture ({board} and {mhz} in elf are filled in)")
    config.addinivalue_line("markers", "boards(*names): run the test once per board (dut fixture)")
    config.addinivalue_line("markers", "clocks(*mhz): run the test once per core clock (dut fixture)")
    config.addinivalue_line("markers", "inputs(*files, sensor='mic'): run the test once per recording fed to "
                            "the sensor (dut fixture)")
    config.stash[_STASH_KEY] = {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dut" not in metafunc.fixturenames:
        return
    for marker, param, idfn in (("boards", "simcore_board", str), ("clocks", "simcore_mhz", lambda v: f"{v:g}MHz"),
                                ("inputs", "simcore_input", lambda v: Path(str(v)).name)):
        m = metafunc.definition.get_closest_marker(marker)
        if m is not None and m.args:
            values = list(m.args)
            if marker == "inputs":
                values = [(m.kwargs.get("sensor", "mic"), v) for v in values]
                metafunc.parametrize(param, values, ids=[idfn(v[1]) for v in values])
            else:
                metafunc.parametrize(param, values, ids=[idfn(v) for v in values])


@pytest.fixture
def simcore_board() -> str | None:
    """The board a ``boards(...)`` marker gives this test (None: the marker or option decides)."""
    return None


@pytest.fixture
def simcore_mhz() -> float | None:
    """The clock a ``clocks(...)`` marker gives this test."""
    return None


@pytest.fixture
def simcore_input() -> tuple[str, str] | None:
    """(sensor, recording) an ``inputs(...)`` marker gives this test."""
    return None


def _resolve_elf(text: str, item: pytest.Item) -> Path:
    p = Path(text)
    if p.is_absolute():
        return p
    for base in (Path(str(item.fspath)).parent, Path(str(item.config.rootpath))):
        if (base / p).exists():
            return base / p
    return Path(str(item.config.rootpath)) / p


@pytest.fixture
def dut(request: pytest.FixtureRequest, simcore_board: str | None, simcore_mhz: float | None,
        simcore_input: tuple[str, str] | None) -> Any:
    """The firmware under test on its emulated part (a simcore.target.Target), booted afresh."""
    from simcore.snapshot import Snapshot
    from simcore.target import Target

    marker = request.node.get_closest_marker("simcore")
    conf: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        conf.setdefault("elf", marker.args[0])
    board = simcore_board or conf.pop("board", None) or request.config.getoption("--simcore-board") or "cortex-m4"
    conf.pop("board", None)
    mhz = simcore_mhz or conf.pop("mhz", None) or request.config.getoption("--simcore-mhz")
    conf.pop("mhz", None)
    elf_text = conf.pop("elf", None)
    if elf_text is None:
        pytest.fail("the dut fixture needs a firmware: @pytest.mark.simcore(elf='path/to/fw.elf')", pytrace=False)
    elf = _resolve_elf(str(elf_text).format(board=board, mhz=f"{mhz:g}" if mhz else ""), request.node)
    if simcore_input is not None:
        sensor, recording = simcore_input
        sensors = dict(conf.pop("sensors", None) or {})
        sensors[sensor] = str(_resolve_elf(str(recording), request.node))
        conf["sensors"] = sensors
    if mhz:
        conf["mhz"] = mhz
    cache: dict[Any, tuple[Any, Snapshot]] = request.config.stash[_STASH_KEY]
    key = (str(elf), board, repr(sorted(conf.items())))
    target = None
    if not request.config.getoption("--simcore-fresh") and key in cache:
        target, snap = cache[key]
        target.debugger.clear()
        target.machine.console_listeners.clear()
        target.restore(snap)
    if target is None:
        target = Target(elf, board=board, **conf)
        if not request.config.getoption("--simcore-fresh") and "sensors" not in conf:
            cache[key] = (target, target.snapshot())
    request.node.stash[_STASH_KEY] = target
    yield target
    if not any(t is target for t, _snap in cache.values()):  # a machine for this test alone: released at once
        target.close()  # (Machine.close: one left alive slows every machine built after it)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report = outcome.get_result()
    target = item.stash.get(_STASH_KEY, None)
    if target is None or report.when != "call":
        return
    item.user_properties.append(("simcore.instructions", target.instructions))
    item.user_properties.append(("simcore.cycles", target.cycles))
    if not report.failed:
        return
    longrepr = report.longrepr
    for title, text in describe(target):
        if hasattr(longrepr, "addsection"):  # printed with the failure and part of JUnit's failure text
            longrepr.addsection(f"simcore {title}", text)
        else:
            report.sections.append((f"simcore {title}", text))


def describe(target: Any) -> list[tuple[str, str]]:
    """What a failure report shows about the firmware: console tail, where it stopped, the fault."""
    m = target.machine
    out = []
    lines = target.console.rstrip("\n").splitlines()
    out.append(("console (last 30 lines)", "\n".join(lines[-30:]) if lines else "(nothing printed)"))
    if m.stop is not None:
        where = f"stopped: {m.stop.message} (exit status {m.stop.exit_status})"
    elif not m._started:
        where = "not started"
    else:
        where = f"paused at {target.where} (pc {target.pc:#010x})"
    where += f"\ninstructions {target.instructions:,}, cycles {target.cycles:,} ({target.seconds * 1e3:.3f} ms " \
             f"at {m.mhz:g} MHz on {m.board.name})"
    out.append(("stop", where))
    if m.stop is not None and m.stop.details:
        d = m.stop.details
        text = []
        for key in ("fault", "source", "cause", "cfsr", "hfsr", "mmfar", "bfar", "address"):
            if d.get(key) is not None:
                text.append(f"{key}: {d[key]}")
        if d.get("backtrace"):
            text.append("backtrace:")
            text += [f"  {f}" for f in d["backtrace"]]
        if d.get("registers"):
            regs = d["registers"]
            text.append("registers: " + " ".join(f"{k}={v:#x}" if isinstance(v, int) else f"{k}={v}"
                                                 for k, v in regs.items()))
        if text:
            out.append(("fault diagnosis", "\n".join(text)))
    return out
